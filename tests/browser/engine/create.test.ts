/**
 * The Create screen on a phone-sized page, production build, wasm backend,
 * with a fixture LCM pack served as the built-in demo pack.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, PHONE } from '../../helpers/browser';
import { FIXTURES, serveDistWithPack, type PackServer } from './serve';

let server: PackServer;
let browser: Browser;

beforeAll(async () => {
  server = await serveDistWithPack({ packDir: `${FIXTURES}/lcm` });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function openCreate(): Promise<Page> {
  // Service workers blocked: no isolation reload in the middle of the test.
  const page = await (await browser.newContext({ ...PHONE, serviceWorkers: 'block' })).newPage();
  await page.goto(`${server.url}/#/create`);
  await page.getByLabel('Prompt').waitFor();
  return page;
}

async function pixels(page: Page, alt: string): Promise<{ src: string; data: number[] }> {
  return page.evaluate(async (alt) => {
    const img = [...document.querySelectorAll('img')].find((i) => i.alt === alt)!;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d')!;
    context.drawImage(img, 0, 0);
    return {
      src: img.src,
      data: Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data),
    };
  }, alt);
}

/** Wait until the result image (not a step preview) shows a new picture. */
async function resultChanged(page: Page, alt: string, previous: string): Promise<void> {
  await page.waitForFunction(
    ([alt, previous]) => {
      const img = [...document.querySelectorAll('img')].find((i) => i.alt === alt);
      return img !== undefined && img.src !== previous && img.complete;
    },
    [alt, previous] as const,
    { timeout: 60_000 },
  );
}

describe('Create screen', () => {
  it('generates from the keyboard; a fixed seed repeats the pixels, a new seed does not', async () => {
    const page = await openCreate();
    await page.getByLabel('Steps').fill('2');
    await page.getByLabel('Seed', { exact: true }).fill('1234');
    expect(await page.getByLabel('Fixed seed').isChecked()).toBe(true);
    await page.getByLabel('Prompt').fill('red heart');
    await page.getByLabel('Prompt').press('Enter');
    const alt = 'Generated image: red heart';
    await page.getByRole('img', { name: alt, exact: true }).waitFor({ timeout: 60_000 });
    const first = await pixels(page, alt);
    expect(first.data).toHaveLength(64 * 64 * 4);
    expect(await page.getByRole('status').textContent()).toMatch(
      /on WebAssembly, 2 steps, seed 1234\./,
    );

    await page.getByRole('button', { name: 'Generate' }).click();
    await resultChanged(page, alt, first.src);
    const second = await pixels(page, alt);
    expect(second.data).toEqual(first.data);

    await page.getByLabel('Fixed seed').uncheck();
    await page.getByRole('button', { name: 'Generate' }).click();
    await resultChanged(page, alt, second.src);
    const third = await pixels(page, alt);
    expect(third.data).not.toEqual(first.data);
    expect(await page.getByLabel('Seed', { exact: true }).inputValue()).not.toBe('1234');
    await page.context().close();
  });

  it('cancels before the next step, keeps the model loaded, and shows progress as step i of n', async () => {
    // The "slow" variant adds ~4 GFLOP per step, so there is time to cancel between steps.
    server.setPack({
      packDir: `${FIXTURES}/lcm`,
      patchManifest: (m) => ({
        ...m,
        variants: m.variants.map((v) => ({ ...v, default: v.id === 'slow' })),
      }),
    });
    const page = await openCreate();
    await page.getByLabel('Steps').fill('8');
    await page.getByLabel('Prompt').fill('cat');
    await page.getByRole('button', { name: 'Generate' }).click();
    const bar = page.getByRole('progressbar', { name: 'Generating' });
    await page.waitForFunction(
      () =>
        document.querySelector('[role="progressbar"]')?.getAttribute('aria-valuetext') ===
        'Step 1 of 8',
      undefined,
      {
        timeout: 60_000,
      },
    );
    expect(await bar.getAttribute('aria-valuemax')).toBe('8');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByText('Cancelled.').waitFor({ timeout: 30_000 });
    expect(await page.getByRole('img', { name: 'Generated image: cat' }).count()).toBe(0);

    const modelRequests = () => server.requests.filter((r) => r.path.endsWith('.onnx')).length;
    const before = modelRequests();
    await page.getByLabel('Steps').fill('1');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page
      .getByRole('img', { name: 'Generated image: cat', exact: true })
      .waitFor({ timeout: 60_000 });
    expect(modelRequests()).toBe(before);
    server.setPack({ packDir: `${FIXTURES}/lcm` });
    await page.context().close();
  });
});
