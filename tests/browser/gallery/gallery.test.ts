/**
 * The Gallery in real Chromium on the production build, with items seeded
 * straight into its database (seed.ts): newest first with the prompt as alt
 * text, Save gives a PNG carrying the recipe, delete and undo, opening a PNG
 * restores its recipe, clear errors for bad files, and paging with thousands.
 */

import { readFile } from 'node:fs/promises';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPngText } from '../../../src/shared/png-text';
import { parseGessoRecipe, parseParameters } from '../../../src/shared/recipe-text';
import { launchPersistent } from '../../helpers/browser';
import { startStaticServer, type StaticServer } from '../../helpers/static-server';
import { discPng, recipe, recipePng, seedGallery, untilIsolated } from './seed';
import { closeSettings, openSettings } from '../create/create-page';

const DIST = process.env.GESSO_DIST ?? 'dist';

let server: StaticServer;
let context: BrowserContext;
let close: () => Promise<void>;
let page: Page;

const NOW = Date.UTC(2026, 10, 26, 8, 0, 0);
const items = [
  { recipe: recipe('a red heart', 11), createdAt: NOW - 3000, hue: 0 },
  {
    recipe: recipe('a green tree, in spring: 猫', 22, { negativePrompt: 'blurry' }),
    createdAt: NOW - 2000,
    hue: 120,
  },
  { recipe: recipe('a blue moon', 4294967295), createdAt: NOW - 1000, hue: 220 },
];

async function openGallery(): Promise<void> {
  await page.goto(`${server.url}/#/gallery`);
  await page.getByRole('heading', { name: 'Gallery' }).waitFor();
}

function tiles() {
  return page.getByRole('list', { name: 'Images, newest first' }).getByRole('img');
}

beforeAll(async () => {
  server = await startStaticServer(DIST);
  ({ context, close } = await launchPersistent());
  page = await context.newPage();
  await untilIsolated(page, `${server.url}/#/gallery`);
  await openGallery();
  await page.getByText('No images yet.').waitFor();
  await seedGallery(page, items);
  await page.reload();
});

afterAll(async () => {
  await close?.();
  await server?.close();
});

describe('the Gallery', () => {
  it('shows the items newest first, each with its prompt as alt text', async () => {
    await tiles().first().waitFor();
    const alts = await tiles().evaluateAll((imgs) => imgs.map((img) => img.getAttribute('alt')));
    expect(alts).toEqual(['a blue moon', 'a green tree, in spring: 猫', 'a red heart']);
    const loading = await tiles().evaluateAll((imgs) =>
      imgs.map((img) => img.getAttribute('loading')),
    );
    expect(loading).toEqual(['lazy', 'lazy', 'lazy']);
    // Thumbnails really decode (object URLs from the thumbs store).
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLImageElement>('.gallery-grid img')].every(
        (img) => img.complete && img.naturalWidth === 64,
      ),
    );
  });

  it('opens an item with its image and recipe, and Save downloads a PNG carrying the recipe', async () => {
    await page.getByRole('button', { name: 'a green tree, in spring: 猫' }).click();
    const dialog = page.getByRole('dialog', { name: 'Image' });
    await dialog.getByRole('img', { name: 'Image: a green tree, in spring: 猫' }).waitFor();
    expect(await dialog.locator('dd').allTextContents()).toEqual(
      expect.arrayContaining([
        'a green tree, in spring: 猫',
        'blurry',
        '22',
        'demo-emoji 1.0.0 (fp32)',
        '1.2 s',
        'wasm',
      ]),
    );
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      dialog.getByRole('button', { name: 'Save' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('gesso-a-green-tree-in-spring-22.png');
    const bytes = new Uint8Array(await readFile(await download.path()));
    const text = await readPngText(bytes);
    const parameters = text.find((t) => t.keyword === 'parameters')!;
    expect(parameters.kind).toBe('iTXt'); // 猫 is not Latin-1
    expect(parameters.text).toContain('a green tree, in spring: 猫');
    expect(parseParameters(parameters.text)).toMatchObject({
      prompt: 'a green tree, in spring: 猫',
      seed: 22,
      steps: 4,
    });
    const gesso = parseGessoRecipe(text.find((t) => t.keyword === 'gesso-recipe')!.text);
    expect(gesso).toEqual(items[1]!.recipe);
    // Share is offered only where the browser can share files (desktop headless Chromium cannot).
    const canShare = await page.evaluate(() => {
      const file = new File([new Uint8Array(8)], 'x.png', { type: 'image/png' });
      return typeof navigator.canShare === 'function' && navigator.canShare({ files: [file] });
    });
    expect(await dialog.getByRole('button', { name: 'Share' }).count()).toBe(canShare ? 1 : 0);
    await dialog.getByRole('button', { name: '‹ Back' }).click();
    await dialog.waitFor({ state: 'detached' });
    // The phone's Back button closes an open item and stays in the Gallery.
    await page.getByRole('button', { name: 'a blue moon' }).click();
    await dialog.waitFor();
    await page.goBack();
    await dialog.waitFor({ state: 'detached' });
    expect(page.url()).toMatch(/#\/gallery$/);
    expect(await page.getByText('3 images, kept on this device only.').count()).toBe(1);
  });

  it('deletes with undo, and a delete without undo lasts across a reload', async () => {
    await page.getByRole('button', { name: 'a red heart' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('status').getByText('Image deleted.').waitFor();
    await expect.poll(() => tiles().count()).toBe(2);
    await page.getByRole('status').getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => tiles().count()).toBe(3);
    await page.reload();
    await tiles().first().waitFor();
    await expect.poll(() => tiles().count()).toBe(3);
    expect(await tiles().last().getAttribute('alt')).toBe('a red heart');

    await page.getByRole('button', { name: 'a blue moon' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => tiles().count()).toBe(2);
    await page.reload();
    await tiles().first().waitFor();
    const alts = await tiles().evaluateAll((imgs) => imgs.map((img) => img.getAttribute('alt')));
    expect(alts).toEqual(['a green tree, in spring: 猫', 'a red heart']);
  });

  it('restores a recipe from an opened PNG and sends it to Create', async () => {
    const regions = {
      version: 1 as const,
      regions: [
        {
          id: 1,
          name: 'Sky',
          colour: '#3366ff',
          prompt: 'a starry sky',
          strength: 0.8,
          hidden: false,
        },
      ],
      strokes: [{ region: 1, erase: false, points: [0.1, 0.1, 0.05, 0.9, 0.2, 0.05] }],
    };
    const png = await recipePng({
      recipe: recipe('an opened owl', 77, { regions }),
      createdAt: NOW,
    });
    await page
      .locator('input[type=file]')
      .setInputFiles({ name: 'owl.png', mimeType: 'image/png', buffer: Buffer.from(png) });
    await page.waitForURL(/#\/create$/);
    // Create takes the recipe: prompt, seed (fixed) and steps.
    await expect
      .poll(() => page.getByRole('textbox', { name: 'Prompt', exact: true }).inputValue())
      .toBe('an opened owl');
    await openSettings(page);
    expect(await page.getByLabel('Seed', { exact: true }).inputValue()).toBe('77');
    expect(await page.getByLabel('Fixed seed', { exact: true }).isChecked()).toBe(true);
    await closeSettings(page);
    // ... and the regions it was made with (the Regions tool opens to show them).
    expect(await page.getByLabel('Region 1 prompt', { exact: true }).inputValue()).toBe(
      'a starry sky',
    );
  });

  it('restores a recipe from a PNG dropped on the Gallery', async () => {
    await openGallery();
    const png = await recipePng({ recipe: recipe('a dropped duck', 78), createdAt: NOW });
    await page.evaluate(
      (bytes) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([Uint8Array.from(bytes)], 'duck.png', { type: 'image/png' }));
        const target = document.querySelector('section.gallery')!;
        target.dispatchEvent(
          new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }),
        );
        target.dispatchEvent(
          new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }),
        );
      },
      [...png],
    );
    await page.waitForURL(/#\/create$/);
    await expect
      .poll(() => page.getByRole('textbox', { name: 'Prompt', exact: true }).inputValue())
      .toBe('a dropped duck');
    // Its recipe has no regions, so those of the PNG opened before are gone.
    expect(await page.getByLabel('Region 1 prompt', { exact: true }).count()).toBe(0);
  });

  it('says clearly why a PNG without a recipe, or a broken file, cannot be opened', async () => {
    await openGallery();
    await page.locator('input[type=file]').setInputFiles({
      name: 'plain.png',
      mimeType: 'image/png',
      buffer: Buffer.from(discPng(8, 40)),
    });
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toMatch(/This PNG carries no recipe/);
    const broken = discPng(8, 40).slice(0, 40);
    await page
      .locator('input[type=file]')
      .setInputFiles({ name: 'broken.png', mimeType: 'image/png', buffer: Buffer.from(broken) });
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/This PNG is truncated/);
    expect(page.url()).toMatch(/#\/gallery$/);
  });

  it('pages through thousands of items without rendering them all', async () => {
    const many = 3000;
    await seedGallery(
      page,
      [{ recipe: recipe('many', 5), createdAt: NOW + 10_000, hue: 300 }],
      many,
    );
    const started = Date.now();
    await page.reload();
    await tiles().first().waitFor();
    const firstPageMs = Date.now() - started;
    expect(await tiles().count()).toBe(60);
    expect(await tiles().first().getAttribute('alt')).toBe(`many #${many - 1}`);
    // Scrolling to the end of the grid loads the next page.
    await page.locator('.gallery-grid li').last().scrollIntoViewIfNeeded();
    await expect.poll(() => tiles().count()).toBe(120);
    const order = await tiles().evaluateAll((imgs) => imgs.map((img) => img.getAttribute('alt')));
    expect(order[60]).toBe(`many #${many - 61}`);
    console.log(`gallery with ${many + 2} items: first page shown ${firstPageMs} ms after reload`);
    expect(firstPageMs).toBeLessThan(5000);
  });

  it('shows the gallery size on the Models screen', async () => {
    await page.goto(`${server.url}/#/models`);
    const section = page.getByRole('region', { name: 'Gallery' });
    await section.getByText(/^3002 images, \d/).waitFor();
    expect(await section.getByRole('button', { name: 'Clear gallery' }).isEnabled()).toBe(true);
  });

  it('shares the PNG file through the Web Share API where the browser can share files', async () => {
    // Headless desktop Chromium cannot share files: stand in for a phone's share sheet.
    const phone = await context.newPage();
    await phone.addInitScript(() => {
      const shared: { name: string; type: string; size: number; text?: string }[] = [];
      Object.assign(globalThis, { shared });
      navigator.canShare = (data?: ShareData) => Boolean(data?.files?.length);
      navigator.share = async (data?: ShareData) => {
        for (const file of data?.files ?? [])
          shared.push({ name: file.name, type: file.type, size: file.size, text: data?.text });
      };
    });
    await phone.goto(`${server.url}/#/gallery`);
    await phone.getByRole('button', { name: 'many #2999', exact: true }).click();
    await phone.getByRole('dialog').getByRole('button', { name: 'Share' }).click();
    await phone.waitForFunction(
      () => (globalThis as unknown as { shared: unknown[] }).shared.length > 0,
    );
    const shared = await phone.evaluate(
      () => (globalThis as unknown as { shared: unknown[] }).shared,
    );
    expect(shared).toEqual([
      {
        name: 'gesso-many-2999-5.png',
        type: 'image/png',
        size: expect.any(Number),
        text: 'many #2999',
      },
    ]);
    await phone.close();
  });
});
