/**
 * A browser without WebGPU and without service workers (blocked), on a
 * plain static host: the app still opens and says what is limited, in a
 * sentence each.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_PATH, PHONE } from '../../helpers/browser';
import { startStaticServer, type StaticServer } from '../../helpers/static-server';

let server: StaticServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  server = await startStaticServer('dist');
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // No WebGPU flags, and WebGPU switched off outright.
    args: [
      '--no-sandbox',
      '--no-first-run',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-features=WebGPU',
    ],
  });
  const context = await browser.newContext({ ...PHONE, serviceWorkers: 'block' });
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('a limited browser', () => {
  it('still opens, with the main controls', async () => {
    await page.getByRole('textbox', { name: 'Prompt' }).waitFor();
    expect(await page.getByRole('button', { name: 'Generate' }).isVisible()).toBe(true);
  });

  it('throws no uncaught errors while degraded', async () => {
    await page.waitForTimeout(1000);
    expect(pageErrors).toEqual([]);
  });

  it('says in one sentence each what is limited and why', async () => {
    const banner = page.getByRole('complementary', { name: 'What this browser limits' });
    await banner.waitFor();
    const notes = await banner.locator('p').allTextContents();
    expect(notes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^Images are made on the processor with WebAssembly, because .*WebGPU/,
        ),
        expect.stringMatching(/not cross-origin isolated|threads are not available/),
      ]),
    );
  });

  it('reports the backend it falls back to in Diagnostics', async () => {
    await page.goto(`${server.url}/#/settings`);
    await page.getByRole('heading', { name: 'Diagnostics' }).waitFor();
    await page.getByRole('radio', { name: 'WebGPU' }).check();
    const inUse = page.getByTestId('backend-in-use');
    await inUse.waitFor();
    expect(await inUse.textContent()).toBe('WebAssembly');
    expect(await page.getByText(/you chose WebGPU, but/).isVisible()).toBe(true);
  });
});
