/**
 * With regions that have prompts, the main prompt may be empty:
 * Generate is on, the run uses the regions, and the result is kept with an
 * empty prompt and its regions. Without such a region, an empty prompt still
 * cannot run.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeLayout, type RegionLayout } from '../../../src/shared/regions/layout';
import { keptRecipes } from '../engine/kept-recipes';
import { galleryCount } from '../gallery/seed';
import { openCreate, startCreate, type CreateSetup } from './create-page';

let setup: CreateSetup;

beforeAll(async () => {
  setup = await startCreate();
});

afterAll(async () => {
  await setup?.close();
});

/** Region 1 ("red square") painted down the left half, as a finger would. */
const LAYOUT: RegionLayout = {
  version: 1,
  regions: [
    {
      id: 1,
      name: 'Region 1',
      colour: '#e6194b',
      prompt: 'red square',
      strength: 1,
      hidden: false,
    },
  ],
  strokes: [0.1, 0.2, 0.3, 0.4].map((x) => ({
    region: 1,
    erase: false,
    points: [
      { x, y: 0.02, width: 0.12 },
      { x, y: 0.5, width: 0.12 },
      { x, y: 0.98, width: 0.12 },
    ],
  })),
};

/** The drawing this tab keeps in sessionStorage (src/ui/draw/drawing-state.ts), restored on load. */
function drawingInTab(json: string): void {
  if (!sessionStorage.getItem('gesso.drawing')) sessionStorage.setItem('gesso.drawing', json);
}

describe('an empty main prompt', () => {
  it('cannot run without a region that has a prompt', async () => {
    const page = await openCreate(setup);
    expect(await page.getByRole('textbox', { name: 'Prompt', exact: true }).inputValue()).toBe('');
    expect(await page.getByRole('button', { name: 'Generate' }).isDisabled()).toBe(true);
    await page.context().close();
  });

  it('runs with a painted region that has a prompt, and is kept with its regions', async () => {
    const page = await openCreate(
      setup,
      {},
      { script: drawingInTab, arg: serializeLayout(LAYOUT) },
    );
    // The regions are kept in the tab; the Regions tool shows them.
    await page
      .getByRole('toolbar', { name: 'Tools' })
      .getByRole('button', { name: 'Regions', exact: true })
      .click();
    await page.getByRole('textbox', { name: 'Region 1 prompt' }).waitFor();
    expect(await page.getByRole('textbox', { name: 'Region 1 prompt' }).inputValue()).toBe(
      'red square',
    );
    const generate = page.getByRole('button', { name: 'Generate' });
    await expect.poll(() => generate.isEnabled()).toBe(true);
    await generate.click();
    await page
      .getByRole('img', { name: 'Generated image from regions: red square', exact: true })
      .waitFor({ timeout: 90_000 });
    await expect.poll(() => galleryCount(page), { timeout: 30_000 }).toBe(1);
    const [recipe] = await keptRecipes(page);
    expect(recipe!.prompt).toBe('');
    expect(recipe!.regions?.regions.map((r) => r.prompt)).toEqual(['red square']);

    // Hidden, the region takes no part: nothing to run again.
    await page.getByRole('button', { name: 'Hide Region 1' }).click();
    await expect.poll(() => generate.isDisabled()).toBe(true);
    await page.context().close();
  });
});
