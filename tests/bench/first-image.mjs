/**
 * The first image of a returning visit: the app is installed (first visit
 * done, demo pack in IndexedDB), the network is off, a fresh tab opens the
 * app, the prompt is typed and Generate is pressed as soon as it can be.
 * Measured from the press to the picture on screen, and from opening the
 * tab to the picture. Each run is a new tab in the same profile, so the
 * engine worker, the onnxruntime runtime and the sessions start cold, as
 * when a phone reopens the app; the browser's caches stay warm, as they do.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** `url`: the built app on a plain static host. Returns the per-run figures in ms. */
export async function benchFirstImage({ url, runs, chromiumPath, chromiumArgs, phone }) {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-first-image-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    ...phone,
  });
  try {
    const first = await context.newPage();
    await first.goto(url);
    await installed(first);
    await first.close();
    await context.setOffline(true);
    const results = [];
    for (let i = 0; i < runs; i++) {
      const page = await context.newPage();
      const opened = performance.now();
      await page.goto(url);
      const prompt = page.getByLabel('Prompt', { exact: true });
      await prompt.fill(`red heart ${i}`);
      const generate = page.getByRole('button', { name: 'Generate' });
      await generate.waitFor();
      const pressed = performance.now();
      await generate.click();
      await page
        .getByRole('img', { name: `Generated image: red heart ${i}`, exact: true })
        .waitFor({ timeout: 120_000 });
      const done = performance.now();
      results.push({ pressToImage: done - pressed, openToImage: done - opened });
      await page.close();
    }
    return results;
  } finally {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Waits until the service worker controls an isolated page and the demo pack is installed. */
async function installed(page) {
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error('The app did not install within 3 minutes.');
    const ready = await page
      .evaluate(async () => {
        if (!navigator.serviceWorker.controller || !globalThis.crossOriginIsolated) return false;
        if (!(await indexedDB.databases()).some((d) => d.name === 'gesso-models')) return false;
        const db = await new Promise((resolve) => {
          const request = indexedDB.open('gesso-models');
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => resolve(null);
        });
        if (!db || !db.objectStoreNames.contains('packs')) return false;
        const packs = await new Promise((resolve) => {
          const request = db.transaction('packs').objectStore('packs').getAll();
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => resolve([]);
        });
        db.close();
        return packs.some((p) => Boolean(p.installed));
      })
      .catch(() => false); // the first visit reloads once for isolation
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
