/**
 * Offline generation: after the first visit installs the demo pack into the
 * model store (service worker, IndexedDB), the Create screen works with the
 * network cut, reading the pack from the store. And the browser keeps the
 * runtime's compiled wasm code for the next visit.
 */

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { launchPersistent } from '../../helpers/browser';
import { startStaticServer, type StaticServer } from '../../helpers/static-server';

const HAVE_DEMO = existsSync('dist/packs/demo/manifest.json');
if (!HAVE_DEMO)
  console.warn(
    'dist/packs/demo missing (demo pack not built): skipping the offline generation test',
  );

let server: StaticServer;
let context: BrowserContext;
let close: () => Promise<void>;
let profileDir: string;

beforeAll(async () => {
  if (!HAVE_DEMO) return;
  server = await startStaticServer('dist');
  ({ context, close, profileDir } = await launchPersistent());
});

afterAll(async () => {
  await close?.();
  await server?.close();
});

describe.skipIf(!HAVE_DEMO)('offline', () => {
  it('generates from the stored demo pack with the network off', async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}/#/create`);
    // The store installs the demo pack on the first visit; wait until IndexedDB has it.
    const demoInstalled = () =>
      page.evaluate(async () => {
        // Never create the database here: opening a missing one would make an empty version 1.
        if (!(await indexedDB.databases()).some((d) => d.name === 'gesso-models')) return false;
        const db = await new Promise<IDBDatabase | null>((resolve) => {
          const request = indexedDB.open('gesso-models');
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => resolve(null);
        });
        if (!db) return false;
        if (!db.objectStoreNames.contains('packs')) {
          db.close();
          return false;
        }
        const packs = await new Promise<unknown[]>((resolve) => {
          const request = db.transaction('packs').objectStore('packs').getAll();
          request.onsuccess = () => resolve(request.result as unknown[]);
          request.onerror = () => resolve([]);
        });
        db.close();
        return packs.some((p) => Boolean((p as { installed?: unknown }).installed));
      });
    const installedNow = () => demoInstalled().catch(() => false); // the page may be reloading
    const deadline = Date.now() + 90_000;
    while (!(await installedNow())) {
      if (Date.now() > deadline) throw new Error('The demo pack was not installed within 90 s.');
      await page.waitForTimeout(1000);
    }
    // The service worker controls the page (it reloads once for cross-origin isolation).
    await page.waitForFunction(
      () => navigator.serviceWorker.controller !== null && crossOriginIsolated,
      undefined,
      {
        timeout: 60_000,
      },
    );
    await page.evaluate(() => navigator.serviceWorker.ready);
    // The app's host is gone and the browser is offline: only IndexedDB and the caches remain.
    await server.close();
    await context.setOffline(true);
    await page.reload();
    await page.getByLabel('Prompt').fill('red heart');
    await page.getByLabel('Prompt').press('Enter');
    const outcome = page
      .getByRole('img', { name: 'Generated image: red heart', exact: true })
      .or(page.getByRole('alert'));
    await outcome.first().waitFor({ timeout: 60_000 });
    expect(await page.getByRole('alert').allTextContents()).toEqual([]);
    const requestsForPacks = server.requests.filter((r) => r.path.startsWith('/packs/demo/'));
    expect(requestsForPacks.length).toBeGreaterThan(0); // the install did download it once
    await context.setOffline(false);
  });

  // Chrome keeps compiled wasm code beside a Cache Storage response only when
  // the service worker hands that response out as it is; one rewritten (to
  // add headers, say) makes every visit compile onnxruntime's 14 MB afresh.
  it("keeps the runtime's compiled code for the next visit", async () => {
    await context.setOffline(true);
    const page = await context.newPage();
    await page.goto(`${server.url}/#/create`);
    for (const prompt of ['blue circle', 'green square', 'yellow star']) {
      await page.getByLabel('Prompt').fill(prompt);
      await page.getByLabel('Prompt').press('Enter');
      await page
        .getByRole('img', { name: `Generated image: ${prompt}`, exact: true })
        .waitFor({ timeout: 60_000 });
    }
    const deadline = Date.now() + 30_000;
    while (compiledCodeBytes() < 1024 ** 2 && Date.now() < deadline)
      await page.waitForTimeout(1000);
    expect(compiledCodeBytes()).toBeGreaterThan(1024 ** 2);
    await page.close();
    await context.setOffline(false);
  });
});

/**
 * Bytes of code Chromium keeps beside Cache Storage responses: each entry's
 * body is stream 0 (file `<hash>_0`), its side data, where V8's compiled
 * code goes, stream 1 (`<hash>_1`).
 */
function compiledCodeBytes(): number {
  const sideData = (path: string): number =>
    statSync(path).isDirectory()
      ? readdirSync(path).reduce((sum, name) => sum + sideData(join(path, name)), 0)
      : path.endsWith('_1')
        ? statSync(path).size
        : 0;
  const dir = join(profileDir, 'Default', 'Service Worker', 'CacheStorage');
  return existsSync(dir) ? sideData(dir) : 0;
}
