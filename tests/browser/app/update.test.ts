/**
 * A new deployment is announced, not mixed in: the new service worker waits
 * until the user chooses "Update now".
 */

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { launchPersistent } from '../../helpers/browser';
import { startStaticServer, type StaticServer } from '../../helpers/static-server';

let server: StaticServer;
let context: BrowserContext;
let close: () => Promise<void>;
let page: Page;

beforeAll(async () => {
  server = await startStaticServer('dist');
  ({ context, close } = await launchPersistent());
  page = await context.newPage();
  await page.goto(server.url);
  // The first visit reloads once for cross-origin isolation; wait for the page after it.
  for (let attempt = 0; attempt < 60; attempt++) {
    const ready = await page
      .evaluate(() => navigator.serviceWorker.controller !== null && globalThis.crossOriginIsolated)
      .catch(() => false);
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await page.waitForLoadState('load');
});

afterAll(async () => {
  await close?.();
  await server?.close();
});

describe('update flow', () => {
  it('shows an update prompt for a new deployment and switches only when asked', async () => {
    const deployed = readFileSync('dist/sw.js', 'utf8');
    server.intercept = (req, res) => {
      if (!req.url?.startsWith('/sw.js')) return false;
      res.writeHead(200, { 'Content-Type': 'text/javascript', 'Cache-Control': 'no-cache' });
      res.end(`${deployed}\n// next deployment\n`);
      return true;
    };
    const firstWorker = await page.evaluate(
      async () => (await navigator.serviceWorker.getRegistration())?.active?.scriptURL,
    );
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());

    const prompt = page.getByRole('status').filter({ hasText: 'A new version of Gesso is ready.' });
    await prompt.waitFor({ timeout: 30_000 });
    // Still the old worker in control until the user agrees.
    const waiting = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      return { waiting: Boolean(registration?.waiting), active: registration?.active?.scriptURL };
    });
    expect(waiting).toEqual({ waiting: true, active: firstWorker });

    const reloaded = page.waitForEvent('load', { timeout: 30_000 });
    await page.getByRole('button', { name: 'Update now' }).click();
    await reloaded;
    const after = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      return {
        waiting: Boolean(registration?.waiting),
        controlled: Boolean(navigator.serviceWorker.controller),
      };
    });
    expect(after).toEqual({ waiting: false, controlled: true });
    expect(await prompt.count()).toBe(0);
  });
});
