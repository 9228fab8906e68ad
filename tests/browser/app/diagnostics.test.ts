/** Capability detection in a real browser: SwiftShader is found, reported, and not chosen unless forced. */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, PHONE } from '../../helpers/browser';
import { startStaticServer, type StaticServer } from '../../helpers/static-server';

let server: StaticServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  server = await startStaticServer('dist');
  browser = await launchBrowser();
  const context = await browser.newContext(PHONE);
  page = await context.newPage();
  await page.goto(`${server.url}/#/settings`);
  await page.getByTestId('backend-in-use').waitFor({ timeout: 30_000 });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

function fact(term: string) {
  return page.locator('.facts div', { has: page.locator('dt', { hasText: term }) }).locator('dd');
}

describe('Diagnostics', () => {
  it('detects the SwiftShader adapter and its limits', async () => {
    expect(await fact('WebGPU').first().textContent()).toMatch(/swiftshader/i);
    expect(await fact('Software adapter').textContent()).toBe('yes');
    expect(await fact('shader-f16').textContent()).toBe('no');
    expect(await fact('Largest buffer').textContent()).toMatch(/GB|MB/);
  });

  it('chooses WebAssembly over a software adapter, and WebGPU when forced', async () => {
    expect(await page.getByTestId('backend-in-use').textContent()).toBe('WebAssembly');
    await page.getByRole('radio', { name: 'WebGPU' }).check();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="backend-in-use"]')?.textContent === 'WebGPU',
    );
    await page.getByRole('radio', { name: 'Automatic' }).check();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="backend-in-use"]')?.textContent === 'WebAssembly',
    );
  });
});
