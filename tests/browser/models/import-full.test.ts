/**
 * The full-size figures for docs/import.md, skipped unless
 * GESSO_IMPORT_FULL names a full-size SD 1.5 checkpoint (2.1 GB, generated:
 * models/templates/checkpoints.py checkpoint --width full); the templates
 * are the committed ones the build serves (public/templates/). Picks
 * the file on Models, imports it in Chromium, and prints the time and the
 * browser's peak memory over idle (every Chromium process, from /proc).
 * GESSO_IMPORT_FULL_LORA: an LCM-LoRA file to fuse while importing;
 * GESSO_IMPORT_FULL_APPLY: a LoRA applied at 0.8 on the card afterwards.
 */

import { readFileSync, statSync } from 'node:fs';
import { join, normalize } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPersistent } from '../../helpers/browser';
import { FIXTURES, serveDistWithPack, type PackServer } from '../engine/serve';
import { openModels, readRecord } from '../store/models-page';
import { MB, sampleBrowserMemory } from './memory';

const CHECKPOINT = process.env.GESSO_IMPORT_FULL;
const LORA = process.env.GESSO_IMPORT_FULL_LORA;
/** A LoRA to apply at 0.8 on the imported pack's card afterwards (timed). */
const APPLY = process.env.GESSO_IMPORT_FULL_APPLY;
/** Templates other than the committed ones the build serves (public/templates/sd15-full), if set. */
const TEMPLATES = process.env.GESSO_TEMPLATE_DIR;

let server: PackServer;
let context: BrowserContext;
let close: () => Promise<void>;
let page: Page;

describe.skipIf(!CHECKPOINT)('a full-size SD 1.5 checkpoint imported in Chromium', () => {
  beforeAll(async () => {
    server = await serveDistWithPack({
      packDir: join(FIXTURES, 'lcm'),
      patchManifest: (manifest) => ({ ...manifest, id: 'demo-emoji' }),
    });
    const demo = server.intercept!;
    server.intercept = async (req, res, file) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (!TEMPLATES || !path.startsWith('/templates/sd15-full/')) return demo(req, res, file);
      res
        .writeHead(200, { 'Content-Type': 'application/octet-stream' })
        .end(readFileSync(normalize(join(TEMPLATES, path.slice('/templates/sd15-full/'.length)))));
      return true;
    };
    ({ context, close } = await launchPersistent());
    page = await openModels(context, server.url);
  }, 180_000);

  afterAll(async () => {
    await close?.();
    await server?.close();
  });

  it('imports with time and peak memory printed', async () => {
    await page.getByLabel('Import a model file', { exact: true }).setInputFiles(CHECKPOINT!);
    if (LORA) await page.getByLabel('LCM-LoRA file', { exact: true }).setInputFiles(LORA);
    await new Promise((r) => setTimeout(r, 3000)); // settle before sampling the idle level
    const stop = sampleBrowserMemory();
    const started = Date.now();
    // when the int8 stage starts, where this device gets int8 (weights.ts), and its own memory peak
    let stopInt8: (() => { peak: number }) | null = null;
    const int8At = page
      .getByText(/Making the int8 weights/)
      .first()
      .waitFor({ timeout: 1_800_000 })
      .then(
        () => {
          stopInt8 = sampleBrowserMemory();
          return Date.now();
        },
        () => null,
      );
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Imported/ })
      .waitFor({ timeout: 1_800_000 });
    const doneAt = Date.now();
    const seconds = (doneAt - started) / 1000;
    const int8Started = await Promise.race([
      int8At,
      new Promise<null>((r) => setTimeout(r, 50, null)),
    ]);
    const memory = stop();
    const name = CHECKPOINT!
      .split('/')
      .pop()!
      .replace(/\.safetensors$/, '');
    const record = await readRecord(
      page,
      `imported-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`,
    );
    expect(record?.installed).toBeTruthy();
    const weights = record!.installed!.manifest.imported?.weights ?? 'fp16';
    const stages =
      int8Started === null
        ? ''
        : ` (fp16 written and measured in ${((int8Started - started) / 1000).toFixed(1)} s, int8 copy ${((doneAt - int8Started) / 1000).toFixed(1)} s, its peak +${MB(stopInt8!().peak - memory.start)})`;
    console.log(
      `full-size import of ${MB(statSync(CHECKPOINT!).size)}${LORA ? ' with an LCM-LoRA' : ''} into ${weights}: ${seconds.toFixed(1)} s${stages}, ` +
        `pack ${MB(record!.installed!.bytes)}, browser memory idle ${MB(memory.start)}, peak ${MB(memory.peak)} (+${MB(memory.peak - memory.start)})`,
    );
    if (!APPLY) return;
    const imported = page.locator('.pack-list').getByRole('article', { name, exact: true });
    await imported.getByLabel('Add a LoRA', { exact: true }).setInputFiles(APPLY);
    await imported.getByLabel('LoRA strength', { exact: true }).fill('0.8');
    await new Promise((r) => setTimeout(r, 3000));
    const stopApply = sampleBrowserMemory();
    const applyStarted = Date.now();
    await imported.getByRole('button', { name: 'Apply LoRA', exact: true }).click();
    await imported
      .getByRole('status')
      .filter({ hasText: /now uses <lora:/ })
      .waitFor({ timeout: 1_800_000 });
    const applySeconds = (Date.now() - applyStarted) / 1000;
    const applyMemory = stopApply();
    const added =
      (await imported
        .getByRole('status')
        .filter({ hasText: /now uses/ })
        .textContent()) ?? '';
    console.log(
      `LoRA of ${MB(statSync(APPLY).size)} applied at 0.8 on the full-size pack: ${applySeconds.toFixed(1)} s, ` +
        `browser memory idle ${MB(applyMemory.start)}, peak ${MB(applyMemory.peak)} (+${MB(applyMemory.peak - applyMemory.start)}); ${added}`,
    );
  }, 1_900_000);
});
