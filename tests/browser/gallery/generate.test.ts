/**
 * The whole path in real Chromium on the production build, with the tiny LCM
 * fixture pack served as the built-in demo pack: generate on Create, reload,
 * the image is in the Gallery; Save gives a PNG whose text chunks hold the
 * prompt and seed; Remix brings the recipe back to Create and the same seed
 * makes the same pixels.
 */

import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPngSize, readPngText } from '../../../src/shared/png-text';
import { parseGessoRecipe, parseParameters } from '../../../src/shared/recipe-text';
import { launchPersistent } from '../../helpers/browser';
import { galleryCount, untilIsolated } from './seed';
import { startStaticServer, type StaticServer } from '../../helpers/static-server';

const DIST = process.env.GESSO_DIST ?? 'dist';
const PACK = resolve(__dirname, '../../fixtures/models/lcm');
const PROMPT = 'a red heart';

let server: StaticServer;
let context: BrowserContext;
let close: () => Promise<void>;
let page: Page;

/** The RGBA bytes of a decoded <img>. */
async function pixelsOf(selector: string): Promise<number[]> {
  return page.evaluate(async (selector) => {
    const img = document.querySelector<HTMLImageElement>(selector)!;
    await img.decode();
    const canvas = new OffscreenCanvas(img.naturalWidth, img.naturalHeight);
    const context = canvas.getContext('2d')!;
    context.drawImage(img, 0, 0);
    return [...context.getImageData(0, 0, img.naturalWidth, img.naturalHeight).data];
  }, selector);
}

async function generate(prompt: string | null): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Prompt', exact: true });
  await box.waitFor();
  if (prompt !== null) await box.fill(prompt);
  await page.getByRole('button', { name: 'Generate' }).click();
  await page
    .getByRole('img', { name: `Generated image: ${prompt ?? PROMPT}` })
    .waitFor({ timeout: 90_000 });
}

beforeAll(async () => {
  server = await startStaticServer(DIST);
  // The fixture pack stands in for the built-in demo pack.
  server.intercept = (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (!path.startsWith('/packs/demo/')) return false;
    const file = join(PACK, path.slice('/packs/demo/'.length));
    if (!file.startsWith(PACK) || !existsSync(file)) res.writeHead(404).end();
    else res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(readFileSync(file));
    return true;
  };
  ({ context, close } = await launchPersistent());
  page = await context.newPage();
  await untilIsolated(page, `${server.url}/#/create`);
});

afterAll(async () => {
  await close?.();
  await server?.close();
});

describe('from Create to the Gallery and back', () => {
  let first: number[] = [];
  let seed = 0;

  it('keeps a generated image: after a reload it is in the Gallery', async () => {
    await generate(PROMPT);
    first = await pixelsOf('img.picture');
    expect(new Set(first).size).toBeGreaterThan(16); // a real picture, not a flat fill
    // Saving runs after the picture shows (PNG text, thumbnail, IndexedDB): let it finish.
    await expect.poll(() => galleryCount(page)).toBe(1);
    // Onto the Gallery first, then reload: the reloaded app opens on it, so no
    // navigation of the test can race the app's own start-up.
    await page.goto(`${server.url}/#/gallery`);
    await page.reload();
    const tile = page
      .getByRole('list', { name: 'Images, newest first' })
      .getByRole('img', { name: PROMPT });
    await tile.waitFor();
    expect(await tile.count()).toBe(1);
  });

  it('Save gives a PNG whose text chunks hold the prompt and the seed', async () => {
    await page.getByRole('button', { name: PROMPT }).click();
    const dialog = page.getByRole('dialog', { name: 'Image' });
    await dialog.getByRole('img', { name: `Image: ${PROMPT}` }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      dialog.getByRole('button', { name: 'Save' }).click(),
    ]);
    const bytes = new Uint8Array(await readFile(await download.path()));
    const text = await readPngText(bytes);
    const parameters = text.find((t) => t.keyword === 'parameters');
    expect(parameters?.kind).toBe('tEXt');
    const parsed = parseParameters(parameters!.text);
    expect(parsed.prompt).toBe(PROMPT);
    expect(parsed.seed).toEqual(expect.any(Number));
    seed = parsed.seed!;
    expect(parameters!.text).toContain(`Seed: ${seed}`);
    const recipe = parseGessoRecipe(text.find((t) => t.keyword === 'gesso-recipe')!.text)!;
    expect(recipe).toMatchObject({ prompt: PROMPT, seed, steps: parsed.steps });
    const size = readPngSize(bytes);
    expect(size.width * size.height * 4).toBe(first.length);
    expect(await dialog.locator('dd').allTextContents()).toContain(String(seed));
  });

  it('Remix loads the recipe into Create, and the same recipe makes the same pixels', async () => {
    await page.getByRole('dialog').getByRole('button', { name: 'Remix' }).click();
    await page.waitForURL(/#\/create$/);
    const box = page.getByRole('textbox', { name: 'Prompt', exact: true });
    await expect.poll(() => box.inputValue()).toBe(PROMPT);
    // The first result is still shown (Create keeps it): wait until the new one is kept.
    await generate(null);
    await expect.poll(() => galleryCount(page), { timeout: 90_000 }).toBe(2);
    const again = await pixelsOf('img.picture');
    expect(again.length).toBe(first.length);
    expect(again.every((v, i) => v === first[i])).toBe(true);
    // The remixed run is kept too, with the same seed.
    await page.goto(`${server.url}/#/gallery`);
    const tiles = page
      .getByRole('list', { name: 'Images, newest first' })
      .getByRole('img', { name: PROMPT });
    await expect.poll(() => tiles.count()).toBe(2);
    await tiles.first().click();
    expect(await page.getByRole('dialog').locator('dd').allTextContents()).toContain(String(seed));
  });
});
