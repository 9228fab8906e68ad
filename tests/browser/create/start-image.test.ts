/**
 * "Start from a photo" on the Create screen, in real Chromium: the chosen
 * photo is shown upright (EXIF orientation applied), Strength starts at the
 * pack's default and can be set, Remove takes the photo away, and a file that
 * cannot be used gives a sentence while the photo already chosen stays.
 * Fixtures: tests/fixtures/photos (see its README).
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync, crc32 } from 'node:zlib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imagePixels } from '../../helpers/browser';
import { DIST, openCreate, startCreate, type CreateSetup } from './create-page';

const PHOTOS = 'tests/fixtures/photos';
const DEFAULT_STRENGTH = 0.5;

let setup: CreateSetup;
/** What Strength starts at on the demo pack: its manifest's default, else the app's. */
let startStrength: number;

beforeAll(async () => {
  setup = await startCreate();
  const manifest = JSON.parse(await readFile(join(DIST, 'packs/demo/manifest.json'), 'utf8')) as {
    defaults: { startStrength?: number };
  };
  startStrength = manifest.defaults.startStrength ?? DEFAULT_STRENGTH;
});

afterAll(async () => {
  await setup?.close();
});

const picker = (page: Page) => page.getByLabel('Start image', { exact: true });
const preview = (page: Page) => page.getByRole('img', { name: 'Start image preview', exact: true });
const strength = (page: Page) => page.getByRole('slider', { name: 'Strength', exact: true });
const remove = (page: Page) =>
  page.getByRole('button', { name: 'Remove start image', exact: true });
const picked = (page: Page) => page.getByRole('group', { name: 'Start from a photo' });

/** Opens the Photo tool (where "Start image" and "Strength" are), unless it is open. */
async function openPhoto(page: Page): Promise<void> {
  const photo = page
    .getByRole('toolbar', { name: 'Tools' })
    .getByRole('button', { name: 'Photo', exact: true });
  if ((await photo.getAttribute('aria-pressed')) !== 'true') await photo.click();
}

async function choose(page: Page, name: string): Promise<void> {
  await openPhoto(page);
  await picker(page).setInputFiles(join(PHOTOS, name));
}

/** The preview's natural size and the colours at some points of it. */
async function readPreview(
  page: Page,
  points: [number, number][],
): Promise<{ width: number; height: number; colours: number[][] }> {
  const { width, height, data } = await imagePixels(preview(page));
  const at = ([x, y]: [number, number]) => data.slice((y * width + x) * 4, (y * width + x) * 4 + 4);
  return { width, height, colours: points.map(at) };
}

/** A black 1-bit greyscale PNG of the size: tiny as a file, huge once decoded. */
function blankPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // greyscale
  const rows = Buffer.alloc((1 + Math.ceil(width / 8)) * height); // filter byte 0, black pixels
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('the start image on the Create screen', () => {
  it('shows an EXIF-rotated photo upright', async () => {
    const page = await openCreate(setup);
    await choose(page, 'rotated.jpg');
    // Stored 48x32, red left and blue right, Orientation 6: upright it is 32x48, red on top.
    const { width, height, colours } = await readPreview(page, [
      [16, 10],
      [16, 38],
    ]);
    expect({ width, height }).toEqual({ width: 32, height: 48 });
    const [top, bottom] = colours as [number[], number[]];
    expect(top[0]).toBeGreaterThan(200);
    expect(top[2]).toBeLessThan(60);
    expect(bottom[2]).toBeGreaterThan(200);
    expect(bottom[0]).toBeLessThan(60);
    expect(await picked(page).getByText('rotated.jpg').count()).toBe(1);
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.context().close();
  });

  it('has Strength at the pack’s default, set by typing or the keyboard', async () => {
    const page = await openCreate(setup);
    expect(await strength(page).count()).toBe(0); // no photo, no slider
    await choose(page, 'green.png');
    await strength(page).waitFor();
    expect(await strength(page).inputValue()).toBe(String(startStrength));
    expect(await picked(page).getByText(String(startStrength), { exact: true }).count()).toBe(1);

    await strength(page).fill('0.3');
    expect(await strength(page).inputValue()).toBe('0.3');
    await picked(page).getByText('0.3', { exact: true }).waitFor();

    await strength(page).focus();
    await page.keyboard.press('ArrowRight');
    expect(await strength(page).inputValue()).toBe('0.35');
    await picked(page).getByText('0.35', { exact: true }).waitFor();

    // A new photo keeps the strength already set.
    await choose(page, 'rotated.jpg');
    await picked(page).getByText('rotated.jpg').waitFor();
    expect(await strength(page).inputValue()).toBe('0.35');
    await page.context().close();
  });

  it('removes the photo with "Remove start image"', async () => {
    const page = await openCreate(setup);
    await choose(page, 'green.png');
    await preview(page).waitFor();
    await remove(page).click();
    expect(await preview(page).count()).toBe(0);
    expect(await strength(page).count()).toBe(0);
    expect(await remove(page).count()).toBe(0);
    // The same file can be chosen again straight away.
    await choose(page, 'green.png');
    await preview(page).waitFor();
    await page.context().close();
  });

  it('refuses files it cannot use with a sentence, and keeps the photo already chosen', async () => {
    const page = await openCreate(setup);
    await choose(page, 'green.png');
    const { colours } = await readPreview(page, [[32, 32]]);
    expect(colours[0]).toEqual([0, 200, 0, 255]);
    await strength(page).fill('0.8');

    const refusals: [string | { name: string; mimeType: string; buffer: Buffer }, string][] = [
      ['empty.png', 'That file is empty. Choose a photo.'],
      [
        'not-an-image.jpg',
        'That file is not an image Gesso can read. Choose a photo (JPEG, PNG or WebP).',
      ],
      [
        { name: 'huge.png', mimeType: 'image/png', buffer: blankPng(8000, 8000) },
        'That photo is 64 megapixels; choose one under 50 megapixels.',
      ],
    ];
    for (const [file, sentence] of refusals) {
      await picker(page).setInputFiles(typeof file === 'string' ? join(PHOTOS, file) : file);
      await picked(page).getByRole('alert').filter({ hasText: sentence }).waitFor();
      expect(await picked(page).getByRole('alert').textContent()).toBe(sentence);
      // Nothing already made is lost.
      expect((await readPreview(page, [[32, 32]])).colours[0]).toEqual([0, 200, 0, 255]);
      expect(await picked(page).getByText('green.png').count()).toBe(1);
      expect(await strength(page).inputValue()).toBe('0.8');
    }

    // A good photo afterwards clears the sentence.
    await choose(page, 'rotated.jpg');
    await picked(page).getByText('rotated.jpg').waitFor();
    expect(await picked(page).getByRole('alert').count()).toBe(0);
    await page.context().close();
  });

  it('gives the photo back, upright and cropped to the pack’s square, at strength 0', async () => {
    const page = await openCreate(setup);
    await choose(page, 'rotated.jpg');
    await strength(page).fill('0');
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('circle');
    await page.getByRole('button', { name: 'Generate' }).click();
    const result = page.getByRole('img', { name: 'Generated image: circle', exact: true });
    await result.waitFor();
    // Upright the photo is 32 x 48, red above blue; its centred square is red on top, blue below.
    const { width, height, data } = await imagePixels(result);
    const at = (y: number) => {
      const i = (Math.floor(y) * width + width / 2) * 4;
      return data.slice(i, i + 4);
    };
    const [top, bottom] = [at(height * 0.2), at(height * 0.8)];
    expect(top![0]).toBeGreaterThan(200);
    expect(top![2]).toBeLessThan(60);
    expect(bottom![2]).toBeGreaterThan(200);
    expect(bottom![0]).toBeLessThan(60);
    await page.context().close();
  });
});
