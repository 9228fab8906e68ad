/**
 * A gallery database that is gone, damaged or from a newer Gesso, in real
 * Chromium on the production build: each is reported in a sentence, and none
 * is silently replaced or emptied.
 */

import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPersistent, PHONE } from '../../helpers/browser';
import { startStaticServer, type StaticServer } from '../../helpers/static-server';
import { galleryCount, recipe, seedGallery } from './seed';

const DIST = process.env.GESSO_DIST ?? 'dist';
const NOW = Date.UTC(2026, 10, 26, 8, 0, 0);

let server: StaticServer;
let context: BrowserContext;
let close: () => Promise<void>;
let page: Page;

beforeAll(async () => {
  server = await startStaticServer(DIST);
  ({ context, close } = await launchPersistent({ ...PHONE, serviceWorkers: 'block' }));
  page = await context.newPage();
});

afterAll(async () => {
  await close?.();
  await server?.close();
});

async function openGallery(): Promise<void> {
  await page.goto(`${server.url}/#/gallery`);
  await page.getByRole('heading', { name: 'Gallery' }).waitFor();
}

/** A page of the same origin without the app (the static server's 404), so nothing holds the database. */
async function withoutApp(): Promise<void> {
  await page.goto(`${server.url}/no-app-here`);
}

/** Deletes the gallery database, as a browser does when it discards a damaged one. */
async function discardDatabase(): Promise<void> {
  await page.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const request = indexedDB.deleteDatabase('gesso-gallery');
        request.onsuccess = () => resolve();
        request.onerror = () => reject(request.error);
      }),
  );
}

/** Makes `gesso-gallery` at `version` with only an items store holding one record. */
async function makeDatabase(version: number): Promise<void> {
  await page.evaluate(
    (version) =>
      new Promise<void>((resolve, reject) => {
        const request = indexedDB.open('gesso-gallery', version);
        request.onupgradeneeded = () =>
          request.result
            .createObjectStore('items', { keyPath: 'id' })
            .put({ id: 'kept-1', createdAt: 1, note: 'still here' });
        request.onsuccess = () => {
          request.result.close();
          resolve();
        };
        request.onerror = () => reject(request.error);
      }),
    version,
  );
}

/** The gallery database's version, stores and item ids, read without changing it. */
async function databaseState(): Promise<{ version: number; stores: string[]; ids: string[] }> {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const request = indexedDB.open('gesso-gallery');
        request.onerror = () => reject(request.error);
        request.onsuccess = () => {
          const db = request.result;
          const stores = [...db.objectStoreNames];
          if (!stores.includes('items')) {
            db.close();
            return resolve({ version: db.version, stores, ids: [] });
          }
          const keys = db.transaction('items').objectStore('items').getAllKeys();
          keys.onsuccess = () => {
            db.close();
            resolve({ version: db.version, stores, ids: keys.result.map(String) });
          };
        };
      }),
  );
}

describe('a gallery database that is not as it was left', () => {
  it('reports a gallery the browser discarded, with how many images it held, until dismissed', async () => {
    await openGallery();
    await page.getByText('No images yet.', { exact: false }).waitFor();
    await seedGallery(page, [
      { recipe: recipe('a red heart', 1), createdAt: NOW - 3000 },
      { recipe: recipe('a blue moon', 2), createdAt: NOW - 2000 },
      { recipe: recipe('a green tree', 3), createdAt: NOW - 1000 },
    ]);
    await page.reload();
    await page.getByText('3 images, kept on this device only.').waitFor();

    await withoutApp();
    await discardDatabase();
    await openGallery();
    const report = page.getByRole('alert').filter({ hasText: 'was gone when Gesso opened it' });
    await report.waitFor({ timeout: 30_000 });
    expect(await report.textContent()).toContain('with the 3 images it held');
    expect(await report.textContent()).toContain('cannot be brought back');
    // A new, empty gallery works: the report stays until the user has read it.
    await page.reload();
    await report.waitFor();
    await report.getByRole('button', { name: 'Dismiss' }).click();
    expect(await report.count()).toBe(0);
    await page.reload();
    await page.getByText('No images yet.', { exact: false }).waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
  });

  it('reports a damaged database (a store missing) and leaves it as it is', async () => {
    await withoutApp();
    await discardDatabase();
    await makeDatabase(1);
    await openGallery();
    const alert = page.getByRole('alert').first();
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.textContent()).toMatch(
      /^The gallery's database is damaged: its “images” store is missing\. Gesso has left it as it is\./,
    );
    expect(await page.getByText('No images yet.', { exact: false }).count()).toBe(0);
    await withoutApp();
    expect(await databaseState()).toEqual({ version: 1, stores: ['items'], ids: ['kept-1'] });
  });

  it('leaves a newer Gesso’s database alone and says to reload', async () => {
    await withoutApp();
    await discardDatabase();
    await makeDatabase(7);
    await openGallery();
    const alert = page.getByRole('alert').first();
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.textContent()).toBe(
      'The gallery was saved by a newer version of Gesso. Reload Gesso to update it; nothing in the gallery was changed.',
    );
    await withoutApp();
    expect(await databaseState()).toEqual({ version: 7, stores: ['items'], ids: ['kept-1'] });
    expect(await galleryCount(page)).toBe(1);
  });
});
