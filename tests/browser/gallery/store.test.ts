/**
 * The gallery store's own module (src/store/gallery) in real Chromium, loaded
 * from a Vite dev server: saveGeneration encodes a lossless PNG with the
 * recipe in its text chunks and a thumbnail; paging is newest first and
 * stable with equal times; delete keeps the data for undo; size and clear.
 */

import type { BrowserContext, Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPngSize, readPngText } from '../../../src/shared/png-text';
import type { Recipe } from '../../../src/shared/recipe';
import { parseGessoRecipe, parseParameters } from '../../../src/shared/recipe-text';
import { launchPersistent } from '../../helpers/browser';

type Store = typeof import('../../../src/store/gallery');

let vite: ViteDevServer;
let context: BrowserContext;
let close: () => Promise<void>;
let page: Page;

const recipe: Recipe = {
  prompt: 'a red heart, “glowing”',
  negativePrompt: 'blurry',
  pack: { id: 'demo-emoji', version: '1.0.0', variant: 'fp32' },
  steps: 4,
  guidance: 1,
  seed: 123456789,
  width: 64,
  height: 48,
  sampler: 'LCM',
  regions: {
    version: 1,
    regions: [{ id: 1, name: 'Sky', colour: '#8888ff', prompt: 'sky', strength: 1, hidden: false }],
    strokes: [],
  },
};

beforeAll(async () => {
  vite = await createServer({
    logLevel: 'error',
    server: { port: 0, host: '127.0.0.1' },
    plugins: [],
  });
  await vite.listen();
  ({ context, close } = await launchPersistent());
  page = await context.newPage();
  await page.goto(vite.resolvedUrls!.local[0]!);
  await page.waitForFunction(() => document.querySelector('#app')?.childElementCount);
  // A module script (not page.evaluate, whose dynamic import vitest would rewrite).
  await page.addScriptTag({
    type: 'module',
    content: "import * as store from '/src/store/gallery/index.ts'; globalThis.store = store;",
  });
  await page.waitForFunction(() => 'store' in globalThis);
}, 120_000);

afterAll(async () => {
  await close?.();
  await vite?.close();
});

describe('the gallery store in Chromium', () => {
  it('saves RGBA pixels as a lossless PNG carrying the recipe, with a thumbnail', async () => {
    const result = await page.evaluate(async (recipe) => {
      const { saveGeneration, getImage, listPage } = (globalThis as unknown as { store: Store })
        .store;
      const data = new Uint8ClampedArray(64 * 48 * 4);
      for (let i = 0; i < 64 * 48; i++)
        data.set([i % 256, (i * 7) % 256, (i * 13) % 256, 255], i * 4);
      const item = await saveGeneration(
        recipe,
        { width: 64, height: 48, data },
        { backend: 'wasm', timings: { totalMs: 42 } },
      );
      const png = (await getImage(item.id))!;
      const bitmap = await createImageBitmap(png);
      const canvas = new OffscreenCanvas(64, 48);
      const context = canvas.getContext('2d')!;
      context.drawImage(bitmap, 0, 0);
      const back = context.getImageData(0, 0, 64, 48).data;
      const page = await listPage(null, 10);
      return {
        item,
        same: back.every((v, i) => v === data[i]),
        png: [...new Uint8Array(await png.arrayBuffer())],
        thumbType: page.entries[0]!.thumb!.type,
        thumbSize: page.entries[0]!.thumb!.size,
      };
    }, recipe);
    expect(result.same).toBe(true);
    expect(result.item).toMatchObject({
      recipe,
      run: { backend: 'wasm', timings: { totalMs: 42 } },
    });
    expect(result.item.pngBytes).toBe(result.png.length);
    expect(result.thumbType).toBe('image/png'); // small images keep lossless thumbnails
    expect(result.item.thumbBytes).toBe(result.thumbSize);
    const bytes = Uint8Array.from(result.png);
    expect(readPngSize(bytes)).toEqual({ width: 64, height: 48 });
    const text = await readPngText(bytes);
    const parameters = text.find((t) => t.keyword === 'parameters')!;
    expect(parameters.kind).toBe('iTXt');
    expect(parseParameters(parameters.text)).toMatchObject({
      prompt: recipe.prompt,
      seed: 123456789,
    });
    expect(parseGessoRecipe(text.find((t) => t.keyword === 'gesso-recipe')!.text)).toEqual(recipe);
  });

  it('makes a WebP thumbnail no larger than 256 pixels from a big PNG blob', async () => {
    const result = await page.evaluate(async (recipe) => {
      const { saveGeneration, listPage, getImage } = (globalThis as unknown as { store: Store })
        .store;
      const canvas = new OffscreenCanvas(512, 384);
      const context = canvas.getContext('2d')!;
      context.fillStyle = '#c33';
      context.fillRect(0, 0, 512, 384);
      const blob = await canvas.convertToBlob({ type: 'image/png' });
      const big = { ...recipe, prompt: 'big', width: 512, height: 384 };
      const item = await saveGeneration(big, blob, undefined, Date.now() + 1000);
      const { entries } = await listPage(null, 1);
      const thumb = await createImageBitmap(entries[0]!.thumb!);
      const png = (await getImage(item.id))!;
      return {
        first: entries[0]!.item.id === item.id,
        type: entries[0]!.thumb!.type,
        w: thumb.width,
        h: thumb.height,
        png: [...new Uint8Array(await png.arrayBuffer())],
      };
    }, recipe);
    expect(result).toMatchObject({ first: true, type: 'image/webp', w: 256, h: 192 });
    const text = await readPngText(Uint8Array.from(result.png));
    expect(text.find((t) => t.keyword === 'parameters')!.text).toMatch(
      /^big\nNegative prompt: blurry\nSteps: 4, .*Size: 512x384/,
    );
  });

  it('pages newest first, and items with the same time are neither lost nor repeated', async () => {
    const pages = await page.evaluate(async (recipe) => {
      const { saveGeneration, listPage, clearGallery } = (globalThis as unknown as { store: Store })
        .store;
      await clearGallery();
      const pixels = { width: 4, height: 4, data: new Uint8ClampedArray(64).fill(255) };
      for (let i = 0; i < 7; i++)
        await saveGeneration(
          { ...recipe, prompt: `p${i}`, width: 4, height: 4 },
          pixels,
          undefined,
          1000 + Math.floor(i / 3),
        );
      const seen: string[][] = [];
      let cursor: Parameters<typeof listPage>[0] = null;
      do {
        const page = await listPage(cursor, 3);
        seen.push(page.entries.map((e) => e.item.recipe.prompt));
        cursor = page.next;
      } while (cursor);
      return seen;
    }, recipe);
    expect(pages.flat()).toHaveLength(7);
    expect(new Set(pages.flat()).size).toBe(7);
    expect(pages[0]).toEqual(['p6', expect.any(String), expect.any(String)]);
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    // Times 1002 (p6), 1001 (p3..p5), 1000 (p0..p2): newest time first.
    const times = pages.flat().map((p) => Math.floor(Number(p.slice(1)) / 3));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('deletes at once, undoes exactly, reports its size and clears', async () => {
    const result = await page.evaluate(async () => {
      const {
        listPage,
        deleteItem,
        getItem,
        getImage,
        gallerySizeBytes,
        galleryUsage,
        clearGallery,
        onGalleryChange,
      } = (globalThis as unknown as { store: Store }).store;
      let changes = 0;
      const stop = onGalleryChange(() => changes++);
      const before = await galleryUsage();
      const { entries } = await listPage(null, 1);
      const id = entries[0]!.item.id;
      const png = new Uint8Array(await (await getImage(id))!.arrayBuffer());
      const deleted = await deleteItem(id);
      const gone = (await getItem(id)) === null && (await getImage(id)) === null;
      const during = await galleryUsage();
      await deleted.undo();
      const back = new Uint8Array(await (await getImage(id))!.arrayBuffer());
      const after = await galleryUsage();
      const size = await gallerySizeBytes();
      await clearGallery();
      const cleared = await galleryUsage();
      stop();
      return {
        before,
        during,
        after,
        size,
        cleared,
        gone,
        same: back.length === png.length && back.every((v, i) => v === png[i]),
        restored: (await getItem(id)) !== null,
        changes,
      };
    });
    expect(result.gone).toBe(true);
    expect(result.during.count).toBe(result.before.count - 1);
    expect(result.during.bytes).toBeLessThan(result.before.bytes);
    expect(result.after).toEqual(result.before);
    expect(result.size).toBe(result.before.bytes);
    expect(result.same).toBe(true);
    expect(result.cleared).toEqual({ count: 0, bytes: 0 });
    expect(result.restored).toBe(false);
    expect(result.changes).toBe(3); // delete, undo, clear
  });

  it('shows the gallery size for the Models screen and clears it after a confirmation', async () => {
    await page.evaluate(async (recipe) => {
      const { saveGeneration } = (globalThis as unknown as { store: Store }).store;
      const pixels = { width: 8, height: 8, data: new Uint8ClampedArray(256).fill(200) };
      await saveGeneration({ ...recipe, width: 8, height: 8 }, pixels);
      await saveGeneration({ ...recipe, width: 8, height: 8, seed: 2 }, pixels);
    }, recipe);
    const expected = await page.evaluate(() =>
      (globalThis as unknown as { store: Store }).store.galleryUsage(),
    );
    expect(expected.count).toBe(2);
    await page.addScriptTag({
      type: 'module',
      content: "import '/tests/browser/gallery/mount-storage.tsx';",
    });
    const section = page.locator('#storage-root').getByRole('region', { name: 'Gallery' });
    const { formatBytes } = await import('../../../src/shared/format');
    await section.getByText(`2 images, ${formatBytes(expected.bytes)}`).waitFor();
    await section.getByRole('button', { name: 'Clear gallery' }).click();
    await section.getByText('Delete all 2 images in the gallery? This cannot be undone.').waitFor();
    await section.getByRole('button', { name: 'Cancel' }).click();
    expect(
      await page.evaluate(() => (globalThis as unknown as { store: Store }).store.countItems()),
    ).toBe(2);
    await section.getByRole('button', { name: 'Clear gallery' }).click();
    await section.getByRole('button', { name: 'Delete all' }).click();
    await section.getByText('0 images, 0 B').waitFor();
    expect(await section.getByRole('button', { name: 'Clear gallery' }).isDisabled()).toBe(true);
    expect(
      await page.evaluate(() => (globalThis as unknown as { store: Store }).store.countItems()),
    ).toBe(0);
  });
});
