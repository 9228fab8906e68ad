/**
 * An SD 2.x checkpoint whose metadata does not say what it predicts, picked
 * on Models in the production build: the form asks "Prediction type", says
 * SD 2.x has no LCM-LoRA (and stops offering one), waits for the answer,
 * and the pack imported with "v-prediction" records it in its manifest.
 */

import { readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPersistent } from '../../helpers/browser';
import { FIXTURES, serveDistWithPack, type PackServer } from '../engine/serve';
import { openModels, readRecord } from '../store/models-page';
import { generated, templateDir } from '../../unit/engine/import/fixtures';

let server: PackServer;
let context: BrowserContext;
let close: () => Promise<void>;
let page: Page;
let checkpoint: string;

beforeAll(async () => {
  const templates = templateDir('sd21');
  checkpoint = generated('sd21-ldm-F16-default.safetensors', [
    'checkpoint',
    '--family',
    'sd21',
    '--layout',
    'ldm',
    '--dtype',
    'F16',
  ]);
  server = await serveDistWithPack({
    packDir: join(FIXTURES, 'lcm'),
    patchManifest: (manifest) => ({ ...manifest, id: 'demo-emoji' }),
  });
  const demo = server.intercept!;
  server.intercept = async (req, res, file) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (!path.startsWith('/templates/sd21-reduced/')) return demo(req, res, file);
    const full = normalize(join(templates, path.slice('/templates/sd21-reduced/'.length)));
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(readFileSync(full));
    return true;
  };
  ({ context, close } = await launchPersistent());
  page = await openModels(context, server.url);
}, 180_000);

afterAll(async () => {
  await close?.();
  await server?.close();
});

describe('importing an SD 2.x file that does not say what it predicts', () => {
  it('asks "Prediction type", says there is no LCM-LoRA, and records the answer', async () => {
    await page.getByLabel('Import a model file', { exact: true }).setInputFiles(checkpoint);
    const question = page.getByRole('group', { name: 'Prediction type' });
    await question.waitFor({ timeout: 30_000 });
    const epsilon = question.getByRole('radio', { name: 'Epsilon (SD 2.x base)' });
    const v = question.getByRole('radio', { name: 'v-prediction (SD 2.x 768)' });
    expect(await epsilon.isChecked()).toBe(false);
    expect(await v.isChecked()).toBe(false);
    await expect.poll(() => page.getByText(/there is no LCM-LoRA for SD 2\.x/).count()).toBe(1);
    expect(await page.getByLabel('LCM-LoRA file', { exact: true }).isDisabled()).toBe(true);
    const importButton = page.getByRole('button', { name: 'Import', exact: true });
    expect(await importButton.isDisabled()).toBe(true);
    await v.check();
    expect(await importButton.isDisabled()).toBe(false);
    await importButton.click();
    await page
      .getByRole('status')
      .filter({ hasText: 'Imported "sd21-ldm-F16-default"' })
      .waitFor({ timeout: 300_000 });
    const record = await readRecord(page, 'imported-sd21-ldm-f16-default');
    expect(record?.installed?.manifest.scheduler.prediction).toBe('v');
  }, 400_000);
});
