/** The Create screen of the production build on a phone-sized page, with the built-in demo pack. */

import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { launchBrowser, PHONE } from '../../helpers/browser';
import { startStaticServer, type StaticServer } from '../../helpers/static-server';

export const DIST = process.env.GESSO_DIST ?? 'dist';

export interface CreateSetup {
  server: StaticServer;
  browser: Browser;
  close(): Promise<void>;
}

export async function startCreate(): Promise<CreateSetup> {
  const server = await startStaticServer(DIST);
  const browser = await launchBrowser();
  return {
    server,
    browser,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}

/**
 * A fresh page on Create. Service workers are blocked: no first-visit reload
 * in the middle of a test (the app runs on one wasm thread without isolation).
 */
export async function openCreate<Arg>(
  setup: CreateSetup,
  options: BrowserContextOptions = {},
  /** Runs in every document before the app (e.g. a stub of navigator.share). */
  init?: { script: (arg: Arg) => void; arg: Arg },
): Promise<Page> {
  const context = await setup.browser.newContext({ ...PHONE, serviceWorkers: 'block', ...options });
  if (init) await context.addInitScript(init.script as (arg: unknown) => void, init.arg);
  const page = await context.newPage();
  await page.goto(`${setup.server.url}/#/create`);
  await page.getByRole('textbox', { name: 'Prompt', exact: true }).waitFor();
  return page;
}

/** Opens the settings sheet (Model, Steps, Guidance, Seed, Fixed seed, Decoder). */
export async function openSettings(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  await page.getByRole('dialog', { name: 'Settings' }).waitFor();
}

/** Closes the settings sheet. */
export async function closeSettings(page: Page): Promise<void> {
  await page
    .getByRole('dialog', { name: 'Settings' })
    .getByRole('button', { name: 'Done' })
    .click();
  await page.getByRole('dialog', { name: 'Settings' }).waitFor({ state: 'hidden' });
}

/** Fixes the seed in the settings sheet (and closes it). */
export async function fixSeed(page: Page, seed: number): Promise<void> {
  await openSettings(page);
  await page.getByRole('spinbutton', { name: 'Seed', exact: true }).fill(String(seed));
  await closeSettings(page);
}

/** Horizontal finger strokes over the right part of the drawing canvas (DevTools touch events). */
export async function paintRight(page: Page, from = 0.56): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  const canvas = page.getByRole('img', { name: 'Drawing canvas' });
  const box = (await canvas.boundingBox())!;
  const point = (fx: number, fy: number) => ({
    x: box.x + fx * box.width,
    y: box.y + fy * box.height,
    id: 0,
    radiusX: 4,
    radiusY: 4,
    force: 1,
  });
  for (let fy = 0.02; fy < 1; fy += 0.06) {
    await cdp.send('Input.dispatchTouchEvent', {
      type: 'touchStart',
      touchPoints: [point(from, fy)],
    });
    for (const fx of [0.7, 0.85, 0.99])
      await cdp.send('Input.dispatchTouchEvent', {
        type: 'touchMove',
        touchPoints: [point(fx, fy)],
      });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  }
  // Every touch has ended in the page before anything else is pressed.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
  await cdp.detach();
}

/** The result of the last run, once shown (named by its prompt). */
export function resultImage(page: Page, prompt: string) {
  return page.getByRole('img', { name: `Generated image: ${prompt}`, exact: true });
}
