/**
 * Test data for the gallery: PNGs made in Node (with the recipe text chunks
 * written by src/shared), put straight into the app's 'gesso-gallery'
 * database from the page, in the records the store writes (src/store/gallery/db.ts).
 */

import { deflateSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { encodeChunk, PNG_SIGNATURE, setPngText } from '../../../src/shared/png-text';
import type { Recipe, RunInfo } from '../../../src/shared/recipe';
import { recipeTextEntries } from '../../../src/shared/recipe-text';

/** An RGB PNG of `size`² pixels: a disc of `hue` on a pale ground. */
export function discPng(size: number, hue: number): Uint8Array {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, size);
  view.setUint32(4, size);
  header.set([8, 2, 0, 0, 0], 8);
  const raw = new Uint8Array(size * (size * 3 + 1));
  const [r, g, b] = hsl(hue);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = (x - size / 2 + 0.5) ** 2 + (y - size / 2 + 0.5) ** 2 < (size * 0.36) ** 2;
      const at = y * (size * 3 + 1) + 1 + x * 3;
      raw.set(inside ? [r, g, b] : [246, 240, 228], at);
    }
  }
  const parts = [
    PNG_SIGNATURE,
    encodeChunk('IHDR', header),
    encodeChunk('IDAT', new Uint8Array(deflateSync(raw))),
    encodeChunk('IEND', new Uint8Array(0)),
  ];
  return new Uint8Array(Buffer.concat(parts));
}

function hsl(hue: number): [number, number, number] {
  const f = (n: number) => {
    const k = (n + hue / 30) % 12;
    return Math.round(255 * (0.5 - 0.4 * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

export function recipe(prompt: string, seed: number, extra: Partial<Recipe> = {}): Recipe {
  return {
    prompt,
    negativePrompt: '',
    pack: { id: 'demo-emoji', version: '1.0.0', variant: 'fp32' },
    steps: 4,
    guidance: 1,
    seed,
    width: 64,
    height: 64,
    sampler: 'LCM',
    ...extra,
  };
}

export interface SeedItem {
  recipe: Recipe;
  createdAt: number;
  hue?: number;
}

const RUN: RunInfo = { backend: 'wasm', timings: { totalMs: 1234, unetMs: [300, 300] } };

/** The PNG Gesso would store for this recipe: pixels plus its text chunks. */
export async function recipePng(item: SeedItem): Promise<Uint8Array> {
  return setPngText(
    discPng(item.recipe.width, item.hue ?? 0),
    recipeTextEntries(item.recipe, RUN, item.createdAt),
  );
}

/**
 * Writes the items into the gallery database of the page's origin. The page
 * must have opened the Gallery once (so the app created the database).
 * `copies` repeats each item that many times, one millisecond apart (for
 * thousands of items without thousands of PNGs crossing into the page).
 */
export async function seedGallery(page: Page, items: SeedItem[], copies = 1): Promise<void> {
  const payload = await Promise.all(
    items.map(async (item) => ({
      recipe: item.recipe,
      createdAt: item.createdAt,
      png: Buffer.from(await recipePng(item)).toString('base64'),
    })),
  );
  await page.evaluate(
    async ({ payload, copies, run }) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open('gesso-gallery');
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const tx = db.transaction(['items', 'images', 'thumbs'], 'readwrite');
      payload.forEach((entry, index) => {
        const bytes = Uint8Array.from(atob(entry.png), (c) => c.charCodeAt(0));
        const png = new Blob([bytes], { type: 'image/png' });
        for (let copy = 0; copy < copies; copy++) {
          const createdAt = entry.createdAt + copy;
          const id = `${createdAt.toString(36).padStart(9, '0')}-seed${index}c${copy}`;
          tx.objectStore('items').put({
            id,
            createdAt,
            recipe:
              copies > 1
                ? { ...entry.recipe, prompt: `${entry.recipe.prompt} #${copy}` }
                : entry.recipe,
            run,
            pngBytes: png.size,
            thumbBytes: png.size,
          });
          tx.objectStore('images').put({ id, blob: png });
          tx.objectStore('thumbs').put({ id, blob: png });
        }
      });
      await new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
      db.close();
    },
    { payload, copies, run: RUN },
  );
}

/**
 * Opens the app and waits out the first visit's one reload (the service
 * worker takes control and the page reloads to be cross-origin isolated),
 * so no test step races it.
 */
export async function untilIsolated(page: Page, url?: string): Promise<void> {
  if (url) await page.goto(url);
  await page.waitForFunction(
    () => Boolean(navigator.serviceWorker.controller) && globalThis.crossOriginIsolated,
    undefined,
    { timeout: 60_000 },
  );
}

/** How many items the page's gallery database holds (0 before it exists). */
export async function galleryCount(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const request = indexedDB.open('gesso-gallery');
        request.onupgradeneeded = () => request.transaction?.abort();
        request.onerror = () => resolve(0);
        request.onsuccess = () => {
          const db = request.result;
          if (!db.objectStoreNames.contains('items')) {
            db.close();
            return resolve(0);
          }
          const count = db.transaction('items').objectStore('items').count();
          count.onsuccess = () => {
            db.close();
            resolve(count.result);
          };
          count.onerror = () => reject(count.error);
        };
      }),
  );
}
