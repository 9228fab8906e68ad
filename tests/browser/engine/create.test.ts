/**
 * The Create screen on a phone-sized page, production build, wasm backend,
 * with a fixture LCM pack served as the built-in demo pack (its UNet takes
 * guidance as an embedding, so guidance changes the pixels).
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, PHONE } from '../../helpers/browser';
import { keptRecipes } from './kept-recipes';
import { closeSettings, openSettings } from '../create/create-page';
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
  await page.getByLabel('Prompt', { exact: true }).waitFor();
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
  it('keeps Prompt and Generate in thumb reach above the nav bar, and the screen itself never scrolls', async () => {
    const page = await openCreate();
    const nav = (await page.getByRole('navigation', { name: 'Main' }).boundingBox())!;
    for (const name of ['Prompt', 'Generate']) {
      const control =
        name === 'Prompt'
          ? page.getByLabel('Prompt', { exact: true })
          : page.getByRole('button', { name: 'Generate' });
      const box = (await control.boundingBox())!;
      expect(box.y).toBeGreaterThanOrEqual(0);
      expect(box.y + box.height).toBeLessThanOrEqual(nav.y);
    }
    // Canvas first: tools and settings fit around the picture, nothing to scroll.
    const scrolls = await page.evaluate(() => {
      const main = document.querySelector('.app-main')!;
      return main.scrollHeight > main.clientHeight;
    });
    expect(scrolls).toBe(false);
    await page.context().close();
  });

  it('generates from the keyboard; a fixed seed repeats the pixels, a new seed does not', async () => {
    const page = await openCreate();
    await openSettings(page);
    await page.getByLabel('Steps').fill('2');
    await page.getByLabel('Seed', { exact: true }).fill('1234');
    expect(await page.getByLabel('Fixed seed').isChecked()).toBe(true);
    await closeSettings(page);
    await page.getByLabel('Prompt').fill('red heart');
    await page.getByLabel('Prompt').press('Enter');
    const alt = 'Generated image: red heart';
    await page.getByRole('img', { name: alt, exact: true }).waitFor({ timeout: 60_000 });
    const first = await pixels(page, alt);
    expect(first.data).toHaveLength(64 * 64 * 4);
    expect(await page.locator('.status-line').textContent()).toMatch(
      /on WebAssembly, 2 steps, seed 1234\./,
    );

    await page.getByRole('button', { name: 'Generate' }).click();
    await resultChanged(page, alt, first.src);
    const second = await pixels(page, alt);
    expect(second.data).toEqual(first.data);

    await openSettings(page);
    await page.getByLabel('Fixed seed').uncheck();
    await closeSettings(page);
    await page.getByRole('button', { name: 'Generate' }).click();
    await resultChanged(page, alt, second.src);
    const third = await pixels(page, alt);
    expect(third.data).not.toEqual(first.data);
    await openSettings(page);
    expect(await page.getByLabel('Seed', { exact: true }).inputValue()).not.toBe('1234');
    await page.context().close();
  });

  it('offers the demo pack as Model and its Guidance, which changes the pixels and is kept in the recipe', async () => {
    const page = await openCreate();
    await openSettings(page);
    const model = page.getByRole('combobox', { name: 'Model', exact: true });
    await expect
      .poll(() => model.locator('option:checked').textContent())
      .toBe('Test fixture: lcm');
    expect(await model.isVisible()).toBe(true);
    // The fixture's manifest (guidance 'embedding', default 8 in [1, 12]); no negative prompt.
    const guidance = page.getByRole('spinbutton', { name: 'Guidance', exact: true });
    expect(await guidance.isVisible()).toBe(true);
    await expect.poll(() => guidance.getAttribute('max')).toBe('12');
    expect(await guidance.inputValue()).toBe('8');
    expect(await guidance.getAttribute('min')).toBe('1');
    expect(await guidance.getAttribute('step')).toBe('0.5');
    expect(await page.getByLabel('Negative prompt').count()).toBe(0);

    await page.getByLabel('Steps').fill('2');
    await page.getByLabel('Seed', { exact: true }).fill('1234');
    await closeSettings(page);
    await page.getByLabel('Prompt').fill('red heart');
    await page.getByLabel('Prompt').press('Enter');
    const alt = 'Generated image: red heart';
    await page.getByRole('img', { name: alt, exact: true }).waitFor({ timeout: 60_000 });
    const atDefault = await pixels(page, alt);

    await openSettings(page);
    await guidance.fill('2.5');
    await closeSettings(page);
    await page.getByRole('button', { name: 'Generate' }).click();
    await resultChanged(page, alt, atDefault.src);
    const atLow = await pixels(page, alt);
    expect(atLow.data).not.toEqual(atDefault.data);

    // Typed out of range: kept as typed, with the range, and nothing runs until it is fixed.
    await openSettings(page);
    await guidance.fill('30');
    await guidance.press('Tab');
    expect(await guidance.inputValue()).toBe('30');
    await page
      .getByRole('dialog', { name: 'Settings' })
      .getByRole('alert')
      .filter({ hasText: 'Guidance must be a number from 1 to 12, such as 1.5.' })
      .waitFor();
    await closeSettings(page);
    expect(await page.getByRole('button', { name: 'Generate' }).isDisabled()).toBe(true);
    await openSettings(page);
    await guidance.fill('8');
    await closeSettings(page);
    await page.getByRole('button', { name: 'Generate' }).click();
    await resultChanged(page, alt, atLow.src);
    expect((await pixels(page, alt)).data).toEqual(atDefault.data);

    // Each run's recipe holds the guidance it was made with.
    await expect.poll(async () => (await keptRecipes(page)).length).toBe(3);
    const recipes = await keptRecipes(page);
    expect(recipes.map((r) => [r.prompt, r.seed, r.steps, r.guidance, r.pack.id])).toEqual([
      ['red heart', 1234, 2, 8, 'fixture-lcm'],
      ['red heart', 1234, 2, 2.5, 'fixture-lcm'],
      ['red heart', 1234, 2, 8, 'fixture-lcm'],
    ]);

    // Remix from the Gallery brings the guidance back (Create starts afresh at the default, 8).
    await page.goto(`${server.url}/#/gallery`);
    await page.getByRole('button', { name: 'red heart' }).nth(1).click(); // newest first: the 2.5 run
    await page.getByRole('dialog').getByRole('button', { name: 'Remix' }).click();
    await page.waitForURL(/#\/create$/);
    await openSettings(page);
    await expect.poll(() => guidance.inputValue()).toBe('2.5');
    expect(await page.getByLabel('Seed', { exact: true }).inputValue()).toBe('1234');
    expect(await model.inputValue()).toBe('');

    // A remembered model that is no longer installed: the demo pack is used.
    await page.evaluate(() => localStorage.setItem('gesso.model', 'a-deleted-pack'));
    await page.reload();
    await openSettings(page);
    await expect
      .poll(() => model.locator('option:checked').textContent())
      .toBe('Test fixture: lcm');
    expect(await model.inputValue()).toBe('');
    await page.context().close();
  });

  it('hides Guidance for an SD-Turbo pack, and asks for a negative prompt where the pack uses CFG', async () => {
    server.setPack({ packDir: `${FIXTURES}/sd-turbo` });
    let page = await openCreate();
    await openSettings(page);
    const model = () => page.getByRole('combobox', { name: 'Model', exact: true });
    await expect
      .poll(() => model().locator('option:checked').textContent())
      .toBe('Test fixture: sd-turbo');
    expect(await page.getByLabel('Guidance', { exact: true }).count()).toBe(0);
    expect(await page.getByLabel('Negative prompt').count()).toBe(0);
    expect(await page.getByLabel('Steps').inputValue()).toBe('1'); // the pack's default
    await page.context().close();

    // The same UNet (no guidance input) in a non-Turbo pipeline: classifier-free guidance.
    server.setPack({
      packDir: `${FIXTURES}/sd-turbo`,
      patchManifest: (m) => ({
        ...m,
        pipeline: 'lcm',
        defaults: { ...m.defaults, guidance: 4 },
        ranges: { ...m.ranges, guidance: [1, 8] },
      }),
    });
    page = await openCreate();
    await openSettings(page);
    const negative = page.getByRole('textbox', { name: 'Negative prompt', exact: true });
    await negative.waitFor();
    expect(await page.getByLabel('Guidance', { exact: true }).inputValue()).toBe('4');
    await page.getByLabel('Seed', { exact: true }).fill('77');
    await closeSettings(page);
    const prompt = page.getByLabel('Prompt', { exact: true }); // not "Negative prompt"
    await prompt.fill('cat');
    await prompt.press('Enter');
    const alt = 'Generated image: cat';
    await page.getByRole('img', { name: alt, exact: true }).waitFor({ timeout: 60_000 });
    const plain = await pixels(page, alt);
    // The negative prompt is one of the pack's settings, in the sheet.
    await openSettings(page);
    await negative.fill('blurry');
    await closeSettings(page);
    await page.getByRole('button', { name: 'Generate' }).click();
    await resultChanged(page, alt, plain.src);
    expect((await pixels(page, alt)).data).not.toEqual(plain.data);
    await expect.poll(async () => (await keptRecipes(page)).length).toBe(2);
    const recipes = await keptRecipes(page);
    expect(recipes.map((r) => [r.negativePrompt, r.guidance, r.pack.id])).toEqual([
      ['', 4, 'fixture-sd-turbo'],
      ['blurry', 4, 'fixture-sd-turbo'],
    ]);
    server.setPack({ packDir: `${FIXTURES}/lcm` });
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
    await openSettings(page);
    await page.getByLabel('Steps').fill('8');
    await closeSettings(page);
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
    await openSettings(page);
    await page.getByLabel('Steps').fill('1');
    await closeSettings(page);
    await page.getByRole('button', { name: 'Generate' }).click();
    await page
      .getByRole('img', { name: 'Generated image: cat', exact: true })
      .waitFor({ timeout: 60_000 });
    expect(modelRequests()).toBe(before);
    server.setPack({ packDir: `${FIXTURES}/lcm` });
    await page.context().close();
  });
});
