/**
 * The Decoder setting, where the pack has a fast decoder of its own (the
 * demo pack does): the settings sheet shows the pack's default until the
 * person chooses, the summary names it, and the run uses and records the
 * decoder chosen.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keptRecipes } from '../engine/kept-recipes';
import {
  closeSettings,
  openCreate,
  openSettings,
  resultImage,
  startCreate,
  type CreateSetup,
} from './create-page';

let setup: CreateSetup;

beforeAll(async () => {
  setup = await startCreate();
});

afterAll(async () => {
  await setup?.close();
});

describe('the Decoder setting', () => {
  it('shows the pack’s default, then runs and records the decoder chosen', async () => {
    const page = await openCreate(setup);
    await openSettings(page);
    const decoder = page.getByRole('combobox', { name: 'Decoder', exact: true });
    expect(await decoder.locator('option').allTextContents()).toEqual(['Full', 'Fast']);
    expect(await decoder.inputValue()).toBe('full');
    await decoder.selectOption({ label: 'Fast' });
    await closeSettings(page);
    expect(await page.getByText(/· Fast decoder$/).count()).toBe(1);
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('red heart');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await resultImage(page, 'red heart').waitFor({ timeout: 90_000 });
    await expect.poll(async () => (await keptRecipes(page)).length).toBe(1);
    expect((await keptRecipes(page))[0]!.decoder).toBe('fast');

    await openSettings(page);
    await page
      .getByRole('combobox', { name: 'Decoder', exact: true })
      .selectOption({ label: 'Full' });
    await closeSettings(page);
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await expect.poll(async () => (await keptRecipes(page)).length, { timeout: 90_000 }).toBe(2);
    expect((await keptRecipes(page))[1]!.decoder).toBe('full');
    await page.context().close();
  }, 120_000);
});
