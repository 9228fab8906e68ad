/**
 * The drawing surface on a phone in real Chromium (production build): finger
 * strokes sent as DevTools touch events paint the selected region's colour
 * into the canvas; two fingers pan/zoom and paint nothing.
 */

import { closeSettings, openSettings } from '../create/create-page';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { launchBrowser, PHONE } from '../../helpers/browser';
import { startStaticServer, type StaticServer } from '../../helpers/static-server';
import { hueIs, hueStats } from '../../unit/engine/regions/hue';

let server: StaticServer;
let browser: Browser;
let page: Page;
let cdp: CDPSession;
let box: { x: number; y: number; width: number; height: number };

type Point = [number, number];
/** Fractions of the canvas box -> page CSS pixels. */
const at = ([fx, fy]: Point) => ({ x: box.x + fx * box.width, y: box.y + fy * box.height, id: 0 });

async function touch(type: 'touchStart' | 'touchMove' | 'touchEnd', points: Point[]) {
  await cdp.send('Input.dispatchTouchEvent', {
    type,
    touchPoints: points.map((p, i) => ({ ...at(p), id: i, radiusX: 4, radiusY: 4, force: 1 })),
  });
}

/** Scrolls the canvas into view and measures it (touch points are viewport pixels). */
async function measure() {
  const canvas = page.getByRole('img', { name: 'Drawing canvas' });
  await canvas.scrollIntoViewIfNeeded();
  box = (await canvas.boundingBox())!;
}

/** One finger from a to b in `steps` moves. */
async function stroke(a: Point, b: Point, steps = 8) {
  await measure();
  await touch('touchStart', [a]);
  for (let i = 1; i <= steps; i++)
    await touch('touchMove', [
      [a[0] + ((b[0] - a[0]) * i) / steps, a[1] + ((b[1] - a[1]) * i) / steps],
    ]);
  await touch('touchEnd', []);
}

/** RGBA of the canvas pixel at a fraction of its size. */
async function pixel([fx, fy]: Point): Promise<number[]> {
  return page.evaluate(
    ([x, y]) => {
      const canvas = document.querySelector(
        'canvas[aria-label="Drawing canvas"]',
      ) as HTMLCanvasElement;
      const data = canvas
        .getContext('2d')!
        .getImageData(Math.floor(x! * canvas.width), Math.floor(y! * canvas.height), 1, 1).data;
      return [...data];
    },
    [fx, fy],
  );
}

/** Painted (non-transparent) pixels in the canvas. */
async function paintedCount(): Promise<number> {
  return page.evaluate(() => {
    const canvas = document.querySelector(
      'canvas[aria-label="Drawing canvas"]',
    ) as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
    return n;
  });
}

function hex(rgba: number[]): string {
  return (
    '#' +
    rgba
      .slice(0, 3)
      .map((v) => v.toString(16).padStart(2, '0'))
      .join('')
  );
}

/** The first visit reloads once when the service worker takes control; wait that out. */
async function waitForSettledPage(): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    try {
      const ready = await page.evaluate(
        () => Boolean(navigator.serviceWorker.controller) && globalThis.crossOriginIsolated,
      );
      if (ready) return;
    } catch {
      // navigating
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('the page never settled under its service worker');
}

beforeAll(async () => {
  server = await startStaticServer('dist');
  browser = await launchBrowser();
  const context = await browser.newContext(PHONE);
  page = await context.newPage();
  cdp = await context.newCDPSession(page);
  await page.goto(`${server.url}/#/create`);
  await waitForSettledPage();
  const canvas = page.getByRole('img', { name: 'Drawing canvas' });
  await canvas.waitFor({ timeout: 30_000 });
  // The canvas takes strokes with a drawing tool open: Regions.
  await page
    .getByRole('toolbar', { name: 'Tools' })
    .getByRole('button', { name: 'Regions', exact: true })
    .click();
  await measure();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('Drawing canvas on a phone', () => {
  it('is a touch-action:none canvas over the image area', async () => {
    const touchAction = await page.evaluate(
      () =>
        getComputedStyle(document.querySelector('canvas[aria-label="Drawing canvas"]')!)
          .touchAction,
    );
    expect(touchAction).toBe('none');
    expect(box.width).toBeGreaterThan(300);
    expect(Math.abs(box.width - box.height)).toBeLessThan(2);
  });

  it('finger strokes paint the selected region', async () => {
    await page.getByRole('button', { name: 'Add region' }).click();
    await page.getByRole('textbox', { name: 'Region 1 prompt' }).fill('red square');
    await page.getByRole('button', { name: 'Add region' }).click();
    await page.getByRole('textbox', { name: 'Region 2 prompt' }).fill('blue square');
    const colour1 = await page.getByLabel('Region 1 colour').inputValue();
    const colour2 = await page.getByLabel('Region 2 colour').inputValue();
    expect(colour1).not.toBe(colour2);

    // Region 2 is selected after adding it; paint region 1 on the left.
    await page.getByRole('button', { name: 'Paint Region 1' }).click();
    expect(await paintedCount()).toBe(0);
    await stroke([0.25, 0.1], [0.25, 0.9]);
    await expect.poll(async () => hex(await pixel([0.25, 0.5]))).toBe(colour1);
    await expect.poll(async () => (await pixel([0.75, 0.5]))[3]).toBe(0);

    await page.getByRole('button', { name: 'Paint Region 2' }).click();
    await stroke([0.75, 0.1], [0.75, 0.9]);
    await expect.poll(async () => hex(await pixel([0.75, 0.5]))).toBe(colour2);
    await expect.poll(async () => hex(await pixel([0.25, 0.5]))).toBe(colour1);

    // Undo takes region 2's stroke away, redo brings it back.
    await page.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(async () => (await pixel([0.75, 0.5]))[3]).toBe(0);
    await page.getByRole('button', { name: 'Redo' }).click();
    await expect.poll(async () => hex(await pixel([0.75, 0.5]))).toBe(colour2);
  });

  it('two fingers do not paint; they zoom', async () => {
    await page.waitForTimeout(200); // let any pending render land before the baseline
    const before = await paintedCount();
    const pixelsBefore = await pixel([0.5, 0.5]);
    await measure();
    // First finger lands and moves (as a real pinch does), then the second joins.
    await touch('touchStart', [[0.45, 0.45]]);
    await touch('touchMove', [[0.46, 0.46]]);
    await touch('touchStart', [
      [0.46, 0.46],
      [0.56, 0.56],
    ]);
    for (let i = 1; i <= 6; i++) {
      const d = 0.05 * i;
      await touch('touchMove', [
        [0.46 - d, 0.46 - d],
        [0.56 + d, 0.56 + d],
      ]);
    }
    await touch('touchEnd', [[0.56 + 0.3, 0.56 + 0.3]]);
    await touch('touchMove', [[0.9, 0.5]]); // the finger left behind does not draw either
    await touch('touchEnd', []);
    await page.waitForTimeout(200); // a stroke, had one been made, would have rendered by now
    expect(await paintedCount()).toBe(before);
    expect(await pixel([0.5, 0.5])).toEqual(pixelsBefore);
    const scale = await page.evaluate(() => {
      const el = document.querySelector('canvas[aria-label="Drawing canvas"]')!.parentElement!;
      return new DOMMatrix(getComputedStyle(el).transform).a;
    });
    expect(scale).toBeGreaterThan(1.5);
    await page.getByRole('button', { name: 'Reset zoom' }).click();
    // Back at 1x, one finger paints again.
    await page.getByRole('button', { name: 'Paint Region 1' }).click();
    await stroke([0.5, 0.9], [0.6, 0.9], 3);
    await expect.poll(paintedCount).toBeGreaterThan(before);
  });
});

describe('Pen on a touch screen', () => {
  /** Pen events through CDP's mouse input with pointerType "pen"; force is the pressure. */
  async function pen(
    type: 'mousePressed' | 'mouseMoved' | 'mouseReleased',
    [fx, fy]: Point,
    force: number,
  ) {
    const p = at([fx, fy]);
    await cdp.send('Input.dispatchMouseEvent', {
      type,
      x: p.x,
      y: p.y,
      button: 'left',
      buttons: type === 'mouseReleased' ? 0 : 1,
      clickCount: 1,
      pointerType: 'pen',
      force,
    });
  }

  it('a resting palm does not paint while the pen draws; pressure sets the width', async () => {
    await page.getByRole('button', { name: 'Paint Region 1' }).click();
    await measure();
    // The palm rests where nothing is painted yet.
    expect((await pixel([0.92, 0.65]))[3]).toBe(0);
    // The palm lands first and slides (a touch stroke starts), then the pen lands: the palm's
    // stroke is dropped and the palm keeps being ignored while the light pen stroke is drawn.
    await touch('touchStart', [[0.92, 0.6]]);
    await touch('touchMove', [[0.92, 0.62]]);
    await pen('mousePressed', [0.1, 0.15], 0.1);
    for (let i = 1; i <= 8; i++) {
      await pen('mouseMoved', [0.1 + 0.1 * i, 0.15], 0.1);
      await touch('touchMove', [[0.92, 0.62 + 0.01 * i]]);
    }
    await pen('mouseReleased', [0.9, 0.15], 0.1);
    await touch('touchEnd', []);
    // A heavy pen stroke lower down.
    await pen('mousePressed', [0.1, 0.4], 1);
    for (let i = 1; i <= 8; i++) await pen('mouseMoved', [0.1 + 0.1 * i, 0.4], 1);
    await pen('mouseReleased', [0.9, 0.4], 1);
    await expect.poll(async () => (await pixel([0.5, 0.4]))[3]).toBe(255);
    expect((await pixel([0.5, 0.15]))[3]).toBe(255);
    expect((await pixel([0.92, 0.65]))[3]).toBe(0);
    expect((await pixel([0.92, 0.7]))[3]).toBe(0);
    // Column-wise thickness: count painted pixels down a column through each stroke.
    const thickness = (fy: number) =>
      page.evaluate((y) => {
        const canvas = document.querySelector(
          'canvas[aria-label="Drawing canvas"]',
        ) as HTMLCanvasElement;
        const x = Math.floor(0.55 * canvas.width);
        const from = Math.floor((y - 0.12) * canvas.height);
        const data = canvas
          .getContext('2d')!
          .getImageData(x, from, 1, Math.floor(0.24 * canvas.height)).data;
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
        return n;
      }, fy);
    const light = await thickness(0.15);
    const heavy = await thickness(0.4);
    console.log(
      `pen stroke thickness: force 0.1 -> ${light} px, force 1 -> ${heavy} px (canvas pixels)`,
    );
    expect(heavy).toBeGreaterThan(light * 2);
  });
});

describe('The drawing in this tab', () => {
  it('survives a reload', async () => {
    await page.waitForTimeout(500); // saving is debounced
    const before = await paintedCount();
    expect(before).toBeGreaterThan(0);
    await page.reload();
    await page.getByRole('img', { name: 'Drawing canvas' }).waitFor();
    await expect.poll(paintedCount).toBe(before);
    await expect(page.getByRole('textbox', { name: 'Region 2 prompt' }).inputValue()).resolves.toBe(
      'blue square',
    );
  });
});

describe('Regions drive generation (demo pack, in the page)', () => {
  it('red square painted left, blue square right, main prompt "square": red left, blue right', async () => {
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByLabel('Brush size').fill('40');
    await page.getByRole('button', { name: 'Paint Region 1' }).click();
    for (const x of [0.2, 0.3]) await stroke([x, 0.01], [x, 0.99], 6);
    await page.getByRole('button', { name: 'Paint Region 2' }).click();
    for (const x of [0.7, 0.8]) await stroke([x, 0.01], [x, 0.99], 6);
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('square');
    // A fixed seed, so the run is repeatable (seed 3: right in Node too, demo-pack.test.ts).
    await openSettings(page);
    await page.getByRole('checkbox', { name: 'Fixed seed' }).check();
    await page.getByRole('spinbutton', { name: 'Seed' }).fill('3');
    await closeSettings(page);
    await page.getByRole('button', { name: 'Generate' }).click();
    const result = page.getByRole('img', { name: 'Generated image: square' });
    await result.waitFor({ timeout: 90_000 });
    const image = await result.evaluate(async (img: HTMLImageElement) => {
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      return {
        width: canvas.width,
        height: canvas.height,
        data: [...ctx.getImageData(0, 0, canvas.width, canvas.height).data],
      };
    });
    const rgba = { ...image, data: new Uint8ClampedArray(image.data) };
    const left = hueStats(rgba, { x0: 0, x1: 0.5, y0: 0, y1: 1 });
    const right = hueStats(rgba, { x0: 0.5, x1: 1, y0: 0, y1: 1 });
    console.log(
      `in-page result ${image.width}x${image.height}: left hue ${left.hue.toFixed(0)}° (${(left.coloured * 100).toFixed(0)}% coloured), right hue ${right.hue.toFixed(0)}° (${(right.coloured * 100).toFixed(0)}% coloured)`,
    );
    expect(hueIs(left.hue, 'red')).toBe(true);
    expect(hueIs(right.hue, 'blue')).toBe(true);
  });
});
