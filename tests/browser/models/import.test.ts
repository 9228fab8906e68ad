/**
 * "Import a model file" in the production build, in Chromium on a phone-sized
 * context: a reduced-width SD 1.5 checkpoint (generated, random weights) is
 * picked with an LCM-LoRA kept through "Download LCM-LoRA" (its URL set to a
 * file this test serves, as Hugging Face cannot be reached here); the pack
 * appears on Models as a card like any other, in Create's Model list, and
 * generates 512x512 offline in 4 steps, its recipe naming the file, its hash and
 * the fused LCM-LoRA. A LoRA applied at 0.8 on the card changes the image at the
 * same seed and is written in the `parameters` text as `<lora:name:0.8>`;
 * removing it gives back the first image, pixel for pixel. The reduced-width
 * templates are served at /templates/sd15-reduced/ (the build serves the
 * full-size ones and CLIP's merges beside the app), fetched on demand.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPersistent } from '../../helpers/browser';
import {
  FIXTURES,
  serveDistWithPack,
  startWorker,
  type EngineCall,
  type PackServer,
} from '../engine/serve';
import { card, openModels, readRecord } from '../store/models-page';
import type { Recipe } from '../../../src/shared/recipe';
import { recipeTextEntries } from '../../../src/shared/recipe-text';
import { generated, templateDir } from '../../unit/engine/import/fixtures';

const DEMO = { id: 'demo-emoji', name: 'Test fixture: lcm' };

let server: PackServer;
let context: BrowserContext;
let close: () => Promise<void>;
let page: Page;
const templateRequests: string[] = [];
let checkpoint: string;
const PACK_ID = 'imported-sd15-ldm-f16-default';
/** The imported pack's image at seed 5 (SHA-256 of its RGBA bytes), before any LoRA. */
let baseImage: string;

/**
 * One 512x512 image at seed 5 in 4 steps on wasm, from a fresh engine worker in a page of its own
 * (the page and its worker start online, as an installed app's are): its digest and its recipe.
 */
async function generateOnce(offline = false): Promise<{ digest: string; recipe: Recipe }> {
  const probe = await context.newPage();
  await probe.goto(`${server.url}/test-blank.html`);
  await startWorker(probe);
  if (offline) await context.setOffline(true);
  try {
    return await probe.evaluate(async (packId) => {
      const call = (globalThis as unknown as { engineCall: EngineCall }).engineCall;
      await call('loadPack', { packId, preference: 'wasm' });
      const { result } = await call('generate', {
        prompt: 'a lighthouse',
        seed: 5,
        steps: 4,
        width: 512,
        height: 512,
        preview: false,
      });
      const data = result.image.data as Uint8ClampedArray;
      const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', data.slice()));
      return {
        digest: [...hash].map((b) => b.toString(16).padStart(2, '0')).join(''),
        recipe: result.recipe as Recipe,
      };
    }, PACK_ID);
  } finally {
    if (offline) await context.setOffline(false);
    await probe.close();
  }
}

/** The `parameters` text the gallery and Save write into the PNG for this recipe. */
function parametersOf(recipe: Recipe): string {
  return recipeTextEntries(recipe).find((e) => e.keyword === 'parameters')!.text;
}

beforeAll(async () => {
  const templates = templateDir('sd15');
  checkpoint = generated('sd15-ldm-F16-default.safetensors', [
    'checkpoint',
    '--layout',
    'ldm',
    '--dtype',
    'F16',
  ]);
  const lcm = generated('lcm-lora-sd15-kohya-conv-r8.safetensors', [
    'lora',
    '--format',
    'kohya',
    '--conv',
    '--rank',
    '8',
  ]);
  server = await serveDistWithPack({
    packDir: join(FIXTURES, 'lcm'),
    patchManifest: (manifest) => ({ ...manifest, id: DEMO.id }),
  });
  const demo = server.intercept!;
  server.intercept = async (req, res, file) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/test-fixtures/lcm-lora.safetensors') {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(readFileSync(lcm));
      return true;
    }
    if (path.startsWith('/templates/sd15-reduced/')) {
      templateRequests.push(path);
      const full = normalize(join(templates, path.slice('/templates/sd15-reduced/'.length)));
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(readFileSync(full));
      return true;
    }
    return demo(req, res, file);
  };
  ({ context, close } = await launchPersistent());
  page = await openModels(context, server.url);
}, 180_000);

afterAll(async () => {
  await close?.();
  await server?.close();
});

describe('importing a model file on the Models screen', () => {
  it('picks a checkpoint and an LCM-LoRA, imports, and the pack runs offline at 512x512', async () => {
    await card(page, DEMO).waitFor({ timeout: 120_000 });
    await page.evaluate(() =>
      localStorage.setItem('gesso.lcmLoraUrl', '/test-fixtures/lcm-lora.safetensors'),
    );
    await page.getByRole('button', { name: 'Download LCM-LoRA', exact: true }).click();
    await page.getByText(/LCM-LoRA kept on this device/).waitFor();
    await page.getByLabel('Import a model file', { exact: true }).setInputFiles(checkpoint);
    expect(await page.getByLabel('LCM-LoRA file', { exact: true }).count()).toBe(1);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'Imported "sd15-ldm-F16-default"' })
      .waitFor({ timeout: 240_000 });
    expect(templateRequests.length).toBeGreaterThan(0);

    const name = 'sd15-ldm-F16-default';
    const imported = card(page, { name });
    await imported.waitFor({ timeout: 30_000 });
    // the same data-status as an installed catalog pack's card
    expect(await imported.getAttribute('data-status')).toBe(
      await card(page, DEMO).getAttribute('data-status'),
    );
    const record = await readRecord(page, 'imported-sd15-ldm-f16-default');
    expect(record?.installed?.manifest.name).toBe(name);
    expect(record?.installed?.manifest.defaults).toMatchObject({ steps: 4 });

    // Create's Model list offers it like any pack
    await page.goto(`${server.url}/#/create`);
    // (the select labelled "Model", wherever Create shows it: on the screen or in a sheet)
    const options = (await (
      await page.waitForFunction(
        () => {
          const select = [...document.querySelectorAll('select')].find((s) =>
            [...s.labels].some((l) => l.textContent?.trim() === 'Model'),
          );
          const texts = select ? [...select.options].map((o) => o.textContent ?? '') : [];
          return texts.length > 1 ? texts : null;
        },
        undefined,
        { timeout: 60_000 },
      )
    ).jsonValue()) as string[];
    expect(options.some((o) => o.includes(name))).toBe(true);

    // offline: the pack runs at 512x512 in 4 steps from IndexedDB (nothing is fetched)
    const { digest, recipe } = await generateOnce(true);
    baseImage = digest;
    expect(recipe).toMatchObject({ width: 512, height: 512, steps: 4 });
    // the recipe names the file, its SHA-256 and the LCM-LoRA fused while importing
    const sha256 = createHash('sha256').update(readFileSync(checkpoint)).digest('hex');
    expect(recipe.model).toEqual({
      name,
      sha256,
      loras: [{ name: 'lcm-lora-sdv1-5', strength: 1 }],
    });
    expect(parametersOf(recipe)).toContain(
      `Model hash: ${sha256.slice(0, 10)}, Model: sd15-ldm-F16-default`,
    );
  }, 600_000);

  it('adds a LoRA at 0.8 on the card, which changes the image and is recorded; removing it gives the pack and the image back', async () => {
    const lora = generated('lora-sd15-kohya--conv.safetensors', [
      'lora',
      '--family',
      'sd15',
      '--format',
      'kohya',
      '--conv',
    ]);
    const packId = PACK_ID;
    await page.goto(`${server.url}/#/models`);
    const imported = card(page, { name: 'sd15-ldm-F16-default' });
    await imported.waitFor({ timeout: 30_000 });
    const before = (await readRecord(page, packId))!
      .installed!.manifest.files.map((f) => `${f.path}:${f.sha256}`)
      .sort();
    await imported.getByLabel('Add a LoRA', { exact: true }).setInputFiles(lora);
    const slider = imported.getByLabel('LoRA strength', { exact: true });
    expect(await slider.inputValue()).toBe('1');
    await slider.fill('0.8');
    await imported.getByRole('button', { name: 'Apply LoRA', exact: true }).click();
    await imported
      .getByRole('status')
      .filter({ hasText: 'now uses <lora:lora-sd15-kohya--conv:0.8>' })
      .waitFor({ timeout: 120_000 });
    const withLora = (await readRecord(page, packId))!.installed!;
    const variant = withLora.manifest.variants.find((v) => v.default)!;
    expect(variant.id).toBe('fp16-lora');
    expect(variant.label).toContain('<lora:lora-sd15-kohya--conv:0.8>');
    // the original's files are still there, unchanged; the LoRA added only its own
    const files = withLora.manifest.files.map((f) => `${f.path}:${f.sha256}`);
    for (const f of before) expect(files).toContain(f);

    // generating with it: another image at the same seed, the LoRA in the recipe and the PNG text
    const fused = await generateOnce();
    expect(fused.recipe.pack.variant).toBe('fp16-lora');
    expect(fused.digest).not.toBe(baseImage);
    expect(fused.recipe.model?.loras).toEqual([
      { name: 'lcm-lora-sdv1-5', strength: 1 },
      { name: 'lora-sd15-kohya--conv', strength: 0.8 },
    ]);
    expect(parametersOf(fused.recipe).split('\n')[0]).toBe(
      'a lighthouse <lora:lcm-lora-sdv1-5:1> <lora:lora-sd15-kohya--conv:0.8>',
    );

    await imported.getByRole('button', { name: 'Remove LoRA', exact: true }).click();
    await imported
      .getByRole('status')
      .filter({ hasText: 'The LoRA was removed' })
      .waitFor({ timeout: 60_000 });
    const after = (await readRecord(page, packId))!.installed!;
    expect(after.manifest.variants.map((v) => v.id)).toEqual(['fp16']);
    expect(after.manifest.files.map((f) => `${f.path}:${f.sha256}`).sort()).toEqual(before);
    const restored = await generateOnce();
    expect(restored.recipe.pack.variant).toBe('fp16');
    expect(restored.digest).toBe(baseImage);
  }, 400_000);
});
