/**
 * The Create screen as a canvas-first editor, on the production build with
 * the demo pack at 390x844 and 360x640 portrait and 844x390 landscape: the
 * drawing canvas, Prompt and Generate in view unscrolled with no tool and
 * with each tool open, nothing to scroll sideways, Save/Share/Explain in view
 * after a result; 0 WCAG 2.1 A/AA violations (axe-core) with each tool and
 * the settings sheet open; and the taps common tasks take from a fresh visit.
 */

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discPng } from '../gallery/seed';
import { keptRecipes } from '../engine/kept-recipes';
import {
  closeSettings,
  openCreate,
  openSettings,
  paintRight,
  resultImage,
  startCreate,
  type CreateSetup,
} from './create-page';
import {
  axeViolations,
  horizontalOverflow,
  inView,
  mainControls,
  notScrolled,
  outOfView,
  Taps,
  VIEWPORTS,
} from './screen-checks';

let setup: CreateSetup;

beforeAll(async () => {
  setup = await startCreate();
});

afterAll(async () => {
  await setup?.close();
});

/** Runs first in every page: the browser can share files (desktop Chromium on Linux cannot), recorded. */
function stubShare(): void {
  const shared: string[] = [];
  (globalThis as unknown as { sharedFiles: string[] }).sharedFiles = shared;
  Object.defineProperty(navigator, 'canShare', {
    configurable: true,
    value: (data?: ShareData) => (data?.files?.length ?? 0) > 0,
  });
  Object.defineProperty(navigator, 'share', {
    configurable: true,
    value: async (data: ShareData) => {
      for (const file of data.files ?? []) shared.push(file.name);
    },
  });
}

async function open(viewport: { width: number; height: number }): Promise<Page> {
  return openCreate(setup, { viewport }, { script: stubShare, arg: undefined });
}

const TOOLS = ['Regions', 'Repaint', 'Outline', 'Photo'] as const;

function tool(page: Page, name: (typeof TOOLS)[number]) {
  return page.getByRole('toolbar', { name: 'Tools' }).getByRole('button', { name, exact: true });
}

/** What is wrong with the layout now: controls out of view, a scrolled page, sideways overflow. */
async function layoutProblems(page: Page): Promise<string[]> {
  const problems = (await outOfView(mainControls(page))).map((name) => `${name} out of view`);
  if (!(await notScrolled(page))) problems.push('page scrolled');
  const overflow = await horizontalOverflow(page);
  if (overflow > 0) problems.push(`${overflow}px horizontal overflow`);
  return problems;
}

describe.each(VIEWPORTS)('the Create screen at $name', (viewport) => {
  it('keeps the canvas, Prompt and Generate in view, unscrolled, with no tool and with each tool', async () => {
    const page = await open(viewport);
    expect(await layoutProblems(page)).toEqual([]);
    for (const name of ['Regions', 'Outline', 'Photo'] as const) {
      await tool(page, name).click();
      expect(await tool(page, name).getAttribute('aria-pressed')).toBe('true');
      expect({ name, problems: await layoutProblems(page) }).toEqual({ name, problems: [] });
      await tool(page, name).click();
      expect(await tool(page, name).getAttribute('aria-pressed')).toBe('false');
    }
    // Repaint needs a picture: after a result, Save, Share and Explain are in view too.
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('red heart');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await resultImage(page, 'red heart').waitFor({ timeout: 90_000 });
    for (const action of ['Save', 'Share', 'Explain'])
      await expect
        .poll(() => inView(page.getByRole('button', { name: action, exact: true })))
        .toBe(true);
    expect(await layoutProblems(page)).toEqual([]);
    for (const name of TOOLS) {
      await tool(page, name).click();
      expect({ name, problems: await layoutProblems(page) }).toEqual({ name, problems: [] });
      for (const action of ['Save', 'Share', 'Explain'])
        expect({
          name,
          action,
          shown: await inView(page.getByRole('button', { name: action, exact: true })),
        }).toEqual({ name, action, shown: true });
      await tool(page, name).click();
    }
    await page.context().close();
  }, 180_000);
});

describe('accessibility (axe-core, WCAG 2.1 A and AA)', () => {
  it('finds no violation with no tool, each tool open and the settings sheet open', async () => {
    const page = await open(VIEWPORTS[0]);
    expect(await axeViolations(page)).toEqual([]);
    for (const name of ['Regions', 'Outline', 'Photo'] as const) {
      await tool(page, name).click();
      expect({ name, violations: await axeViolations(page) }).toEqual({ name, violations: [] });
    }
    await tool(page, 'Photo').click();
    await openSettings(page);
    expect({ sheet: true, violations: await axeViolations(page) }).toEqual({
      sheet: true,
      violations: [],
    });
    await closeSettings(page);
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('blue circle');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await resultImage(page, 'blue circle').waitFor({ timeout: 90_000 });
    await tool(page, 'Repaint').click();
    expect({ name: 'Repaint', violations: await axeViolations(page) }).toEqual({
      name: 'Repaint',
      violations: [],
    });
    await tool(page, 'Repaint').click();
    await page.getByRole('button', { name: 'Explain', exact: true }).click();
    await page
      .getByRole('region', { name: 'Which word painted where' })
      .waitFor({ timeout: 90_000 });
    expect({ explain: true, violations: await axeViolations(page) }).toEqual({
      explain: true,
      violations: [],
    });
    await page.context().close();
  }, 240_000);
});

describe('the tool bar from the keyboard', () => {
  it('moves between the tools that can be used with the arrow keys', async () => {
    const page = await open(VIEWPORTS[0]);
    await tool(page, 'Regions').focus();
    const focused = () => page.evaluate(() => document.activeElement?.textContent);
    await page.keyboard.press('ArrowRight');
    expect(await focused()).toBe('Outline'); // Repaint is off until there is a picture
    await page.keyboard.press('ArrowRight');
    expect(await focused()).toBe('Photo');
    await page.keyboard.press('ArrowRight');
    expect(await focused()).toBe('Regions');
    await page.keyboard.press('ArrowLeft');
    expect(await focused()).toBe('Photo');
    await page.keyboard.press('Enter');
    expect(await tool(page, 'Photo').getAttribute('aria-pressed')).toBe('true');
    await page.context().close();
  });
});

describe('taps for common tasks, from a fresh visit with the demo pack', () => {
  it('first image: type, then 1 tap; save: 1 tap; share: 1 tap', async () => {
    const page = await open(VIEWPORTS[0]);
    const taps = new Taps();
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('red heart');
    await taps.tap(page.getByRole('button', { name: 'Generate', exact: true }));
    await resultImage(page, 'red heart').waitFor({ timeout: 90_000 });
    expect(taps.count).toBe(1);

    const save = new Taps();
    const download = page.waitForEvent('download');
    await save.tap(page.getByRole('button', { name: 'Save', exact: true }));
    expect((await download).suggestedFilename()).toMatch(/^gesso-red-heart-\d+\.png$/);
    expect(save.count).toBe(1);

    const share = new Taps();
    await share.tap(page.getByRole('button', { name: 'Share', exact: true }));
    await expect
      .poll(() =>
        page.evaluate(
          () => (globalThis as unknown as { sharedFiles: string[] }).sharedFiles.length,
        ),
      )
      .toBe(1);
    expect(share.count).toBe(1);
    await page.context().close();
  }, 120_000);

  it('repaint an area: 2 taps plus the painting', async () => {
    const page = await open(VIEWPORTS[0]);
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('red square');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await resultImage(page, 'red square').waitFor({ timeout: 90_000 });
    const taps = new Taps();
    await taps.tap(tool(page, 'Repaint'));
    await paintRight(page);
    await taps.press(page.getByRole('button', { name: 'Generate', exact: true }));
    await expect.poll(async () => (await keptRecipes(page)).length, { timeout: 90_000 }).toBe(2);
    expect((await keptRecipes(page))[1]!.repaint).toBeDefined();
    expect(taps.count).toBe(2);
    await page.context().close();
  }, 180_000);

  it('start from a photo: 2 taps plus picking the photo', async () => {
    const page = await open(VIEWPORTS[0]);
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('blue circle');
    const taps = new Taps();
    await taps.tap(tool(page, 'Photo'));
    await taps.pickFile(page.getByLabel('Start image', { exact: true }), {
      name: 'disc.png',
      mimeType: 'image/png',
      buffer: Buffer.from(discPng(64, 220)),
    });
    await page.getByRole('slider', { name: 'Strength', exact: true }).waitFor();
    await taps.tap(page.getByRole('button', { name: 'Generate', exact: true }));
    await resultImage(page, 'blue circle').waitFor({ timeout: 90_000 });
    expect((await keptRecipes(page))[0]!.startImage).toBeDefined();
    expect(taps.count).toBe(3); // Photo, the picker, Generate
    await page.context().close();
  }, 120_000);

  it('follow an outline: 2 taps plus the drawing', async () => {
    const page = await open(VIEWPORTS[0]);
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('red heart');
    const taps = new Taps();
    await taps.tap(tool(page, 'Outline'));
    await paintRight(page, 0.3);
    await taps.press(page.getByRole('button', { name: 'Generate', exact: true }));
    await resultImage(page, 'red heart').waitFor({ timeout: 90_000 });
    expect((await keptRecipes(page))[0]!.outline).toBeDefined();
    expect(taps.count).toBe(2);
    await page.context().close();
  }, 120_000);

  it('use a result as the start image: 1 tap opens Photo with it', async () => {
    const page = await open(VIEWPORTS[0]);
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('green square');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await resultImage(page, 'green square').waitFor({ timeout: 90_000 });
    const taps = new Taps();
    await taps.tap(page.getByRole('button', { name: 'Use as start image', exact: true }));
    await expect.poll(() => tool(page, 'Photo').getAttribute('aria-pressed')).toBe('true');
    await page.getByRole('slider', { name: 'Strength', exact: true }).waitFor();
    expect(taps.count).toBe(1);
    await page.context().close();
  }, 120_000);
});
