/**
 * Outline mode on the Create screen, demo pack (with its ControlNet), real
 * Chromium on a phone: the "Outline" toggle is there before any result,
 * turns on "Control strength" at the pack's default (and a hint, with the
 * Regions panel put away); a ring drawn with a finger (DevTools touch
 * events) goes with Generate and is kept in the recipe as thin lines at the
 * image size, with the strength set from the keyboard; turned off, the next
 * Generate sends no outline.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRuns } from '../../../src/shared/mask-runs';
import type { ControlConfig } from '../../../src/shared/pack-manifest';
import { keptRecipes } from '../engine/kept-recipes';
import { DIST, openCreate, startCreate, type CreateSetup } from './create-page';

let setup: CreateSetup;
/** The demo pack's ControlNet settings, from its manifest. */
let control: ControlConfig;

beforeAll(async () => {
  setup = await startCreate();
  const manifest = JSON.parse(await readFile(join(DIST, 'packs/demo/manifest.json'), 'utf8')) as {
    control?: ControlConfig;
  };
  if (!manifest.control)
    throw new Error('The demo pack has no `control`: it cannot follow an outline.');
  control = manifest.control;
});

afterAll(async () => {
  await setup?.close();
});

const RING = { x: 0.5, y: 0.5, r: 0.3 };

/** One finger stroke round a closed ring on the drawing canvas. */
async function drawRing(page: Page, cdp: CDPSession): Promise<void> {
  const canvas = page.getByRole('img', { name: 'Drawing canvas' });
  await canvas.scrollIntoViewIfNeeded();
  const box = (await canvas.boundingBox())!;
  const point = (angle: number) => ({
    x: box.x + (RING.x + RING.r * Math.cos(angle)) * box.width,
    y: box.y + (RING.y + RING.r * Math.sin(angle)) * box.height,
    id: 0,
    radiusX: 4,
    radiusY: 4,
    force: 1,
  });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [point(0)] });
  for (let i = 1; i <= 36; i++)
    await cdp.send('Input.dispatchTouchEvent', {
      type: 'touchMove',
      touchPoints: [point((i / 36) * 2 * Math.PI)],
    });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
}

async function generate(page: Page, prompt: string, kept: number): Promise<void> {
  await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill(prompt);
  await page.getByRole('button', { name: 'Generate' }).click();
  await page
    .getByRole('img', { name: `Generated image: ${prompt}`, exact: true })
    .waitFor({ timeout: 90_000 });
  await expect.poll(async () => (await keptRecipes(page)).length, { timeout: 10_000 }).toBe(kept);
}

describe('Outline', () => {
  it('follows a drawn ring at the strength set, and stops when turned off', async () => {
    const page = await openCreate(setup);
    const cdp = await page.context().newCDPSession(page);
    const toggle = page.getByRole('button', { name: 'Outline', exact: true });
    await toggle.waitFor(); // shown once the pack's manifest is known, before any result
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    const slider = page.getByRole('slider', { name: 'Control strength', exact: true });
    expect(await slider.count()).toBe(0);
    // One tool at a time: the regions show only with the Regions tool open.
    expect(await page.getByRole('heading', { name: 'Regions' }).count()).toBe(0);

    await toggle.click();
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    await slider.waitFor();
    expect(Number(await slider.getAttribute('min'))).toBe(control.strengthRange[0]);
    expect(Number(await slider.getAttribute('max'))).toBe(control.strengthRange[1]);
    expect(Number(await slider.inputValue())).toBeCloseTo(control.defaultStrength, 5);
    expect(await page.getByText(control.defaultStrength.toFixed(2), { exact: true }).count()).toBe(
      1,
    );
    expect(await page.getByText(/the picture follows your lines/).count()).toBe(1);
    expect(await page.getByRole('heading', { name: 'Regions' }).count()).toBe(0);

    // The keyboard moves the slider one step (down, unless the default is the lowest).
    await slider.focus();
    const atMin = control.defaultStrength <= control.strengthRange[0];
    await page.keyboard.press(atMin ? 'ArrowRight' : 'ArrowLeft');
    const strength = Number(await slider.inputValue());
    expect(Math.abs(strength - control.defaultStrength)).toBeCloseTo(0.05, 5);

    await drawRing(page, cdp);
    await generate(page, 'red circle', 1);
    const [followed] = await keptRecipes(page);
    expect(followed!.outline?.strength).toBeCloseTo(strength, 5);
    // The ring as thin lines at the image size: on the ring, not in its middle nor far outside.
    const { width, height } = followed!;
    const mask = decodeRuns(followed!.outline!.mask, width * height);
    let on = 0;
    let offRing = 0;
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        if (mask[y * width + x] !== 255) continue;
        on++;
        const r = Math.hypot((x + 0.5) / width - RING.x, (y + 0.5) / height - RING.y);
        if (r < RING.r - 0.08 || r > RING.r + 0.08) offRing++;
      }
    expect(on).toBeGreaterThan(Math.PI * RING.r * width); // at least half way round at 2 px wide
    expect(on).toBeLessThan(0.25 * width * height); // lines, not a filled shape
    expect(offRing).toBe(0);

    // Off again: no outline goes with Generate.
    await toggle.click();
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    expect(await slider.count()).toBe(0);
    await generate(page, 'blue circle', 2);
    const second = (await keptRecipes(page))[1]!;
    expect(second.prompt).toBe('blue circle');
    expect(second.outline).toBeUndefined();
    await page.context().close();
  }, 240_000);
});
