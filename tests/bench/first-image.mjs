/**
 * The first image of a returning visit: the app is installed and was used
 * once (first visit: demo pack installed, one image made, the tab left open
 * a few seconds as a person would, so the browser keeps its compiled code
 * for the runtime), the network is off, a fresh tab opens the app, the
 * prompt is typed and Generate is pressed as soon as it can be. Measured
 * from the press to the picture on screen, and from opening the tab to the
 * picture. Each run is a new tab in the same profile, so the engine worker,
 * the onnxruntime runtime and the sessions start cold, as when a phone
 * reopens the app; the browser's caches stay warm, as they do. Where the
 * time went comes from the engine worker's performance measures.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** `url`: the built app on a plain static host. Returns the per-run figures in ms. */
export async function benchFirstImage({
  url,
  runs,
  chromiumPath,
  chromiumArgs,
  phone,
  typeMs = 0,
}) {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-first-image-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    ...phone,
  });
  // In the page, on its own clock: when each result image is on screen, decoded (no driver polling in the figure).
  await context.addInitScript(() => {
    globalThis.__imagesShown = {};
    new MutationObserver(() => {
      for (const img of document.querySelectorAll('img[alt^="Generated image"]')) {
        if (img.dataset.benchSeen) continue;
        img.dataset.benchSeen = '1';
        img
          .decode()
          .then(() => (globalThis.__imagesShown[img.alt] = performance.now()))
          .catch(() => {});
      }
    }).observe(document, { subtree: true, childList: true, attributes: true });
  });
  try {
    const first = await context.newPage();
    await first.goto(url);
    await installed(first);
    await generateOnce(first, 'first visit');
    await new Promise((resolve) => setTimeout(resolve, FIRST_VISIT_LINGER_MS));
    await first.close();
    await context.setOffline(true);
    const results = [];
    for (let i = 0; i < runs; i++) {
      const page = await context.newPage();
      const workers = [];
      page.on('worker', (worker) => workers.push(worker));
      await page.goto(url);
      const firstPress = await generateOnce(page, `red heart ${i}`, typeMs);
      // The same person pressing again: what every later press costs.
      const later = await generateOnce(page, `red heart ${i} again`);
      results.push({
        pressToImage: firstPress.shown - firstPress.pressed,
        openToImage: firstPress.shown,
        laterPressToImage: later.shown - later.pressed,
        phases: await workerPhases(workers),
        timeline: await timeline(page, workers),
      });
      await page.close();
    }
    return results;
  } finally {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** How long the first visit stays open after its image (the browser writes its code cache meanwhile). */
const FIRST_VISIT_LINGER_MS = 5000;

/**
 * Types `prompt` (at once, or key by key over `typeMs`, as a person does),
 * presses Generate, waits for the image; returns when it was pressed and
 * when the image was on screen, in ms on the page's clock (since it opened).
 */
async function generateOnce(page, prompt, typeMs = 0) {
  const field = page.getByLabel('Prompt', { exact: true });
  await field.waitFor();
  const fieldShown = performance.now();
  if (typeMs > 0) {
    await field.pressSequentially(prompt, { delay: typeMs / prompt.length });
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, fieldShown + typeMs - performance.now())),
    );
  } else await field.fill(prompt);
  const generate = page.getByRole('button', { name: 'Generate' });
  await generate.waitFor();
  // The press, on the page's clock: the click event's own time stamp.
  await page.evaluate(() => {
    globalThis.__pressedAt = null;
    document.addEventListener('click', (event) => (globalThis.__pressedAt ??= event.timeStamp), {
      capture: true,
      once: true,
    });
  });
  await generate.click();
  const pressed = await page.evaluate(() => globalThis.__pressedAt);
  await page.evaluate((name) => performance.mark('bench: press', { startTime: name }), pressed);
  const alt = `Generated image: ${prompt}`;
  await page.waitForFunction((name) => globalThis.__imagesShown?.[name] !== undefined, alt, {
    timeout: 120_000,
  });
  const shown = await page.evaluate((name) => globalThis.__imagesShown[name], alt);
  return { pressed, shown };
}

/** The engine worker's measures (pack-slot.ts): milliseconds per load phase, and the generation. */
async function workerPhases(workers) {
  const phases = {};
  for (const worker of workers) {
    const measures = await worker
      .evaluate(() =>
        performance.getEntriesByType('measure').map((entry) => [entry.name, entry.duration]),
      )
      .catch(() => []);
    for (const [name, duration] of measures)
      if (name.startsWith('gesso ')) phases[name.replace(/^gesso (load: )?/, '')] = duration;
  }
  return phases;
}

/**
 * Where the time went from opening the page, in ms since the page's
 * navigation began: the page's own milestones and marks, and the engine
 * worker's measures moved onto the page's clock (by the two timeOrigins).
 */
async function timeline(page, workers) {
  const events = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const paint = performance.getEntriesByName('first-contentful-paint')[0];
    const list = [
      { name: 'page: HTML received', start: nav.fetchStart, end: nav.responseEnd },
      {
        name: 'page: scripts run, DOM ready',
        start: nav.responseEnd,
        end: nav.domContentLoadedEventEnd,
      },
    ];
    if (paint)
      list.push({ name: 'page: first paint', start: paint.startTime, end: paint.startTime });
    for (const e of performance.getEntriesByType('mark'))
      list.push({ name: `page: ${e.name}`, start: e.startTime, end: e.startTime });
    for (const e of performance.getEntriesByType('measure'))
      list.push({ name: `page: ${e.name}`, start: e.startTime, end: e.startTime + e.duration });
    return { origin: performance.timeOrigin, list };
  });
  for (const worker of workers) {
    const found = await worker
      .evaluate(() => ({
        origin: performance.timeOrigin,
        list: performance
          .getEntriesByType('measure')
          .map((e) => ({ name: e.name, start: e.startTime, end: e.startTime + e.duration })),
      }))
      .catch(() => null);
    if (!found || !found.list.some((e) => e.name.startsWith('gesso'))) continue;
    const shift = found.origin - events.origin;
    events.list.push({ name: 'worker: started', start: shift, end: shift });
    for (const e of found.list)
      events.list.push({ name: `worker: ${e.name}`, start: e.start + shift, end: e.end + shift });
  }
  return events.list;
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
