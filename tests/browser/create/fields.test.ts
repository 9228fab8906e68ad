/**
 * Steps and Seed run what they show: what was typed once ran as something
 * else (Steps "1e9" ran 1 step, "0" ran 4; Seed 2^53 ran 900719925, "-1" ran
 * 1, empty ran a fixed 0). Now each shows a sentence with the valid range,
 * tied to the field in the settings sheet, Generate is off with that sentence
 * beside it until the field holds a value, which is then exactly what runs.
 */

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keptRecipes } from '../engine/kept-recipes';
import { galleryCount } from '../gallery/seed';
import {
  closeSettings,
  openCreate,
  openSettings,
  startCreate,
  type CreateSetup,
} from './create-page';

let setup: CreateSetup;
let page: Page;

beforeAll(async () => {
  setup = await startCreate();
  page = await openCreate(setup);
});

afterAll(async () => {
  await setup?.close();
});

const steps = () => page.getByRole('spinbutton', { name: 'Steps', exact: true });
const seed = () => page.getByRole('spinbutton', { name: 'Seed', exact: true });
const generate = () => page.getByRole('button', { name: 'Generate' });

/** The sentence tied to a field by aria-describedby (null when none), and whether it is an alert. */
async function described(
  field: 'Steps' | 'Seed',
): Promise<{ text: string; role: string | null; invalid: string | null } | null> {
  const input = field === 'Steps' ? steps() : seed();
  return input.evaluate((el) => {
    const id = el.getAttribute('aria-describedby');
    const note = id ? document.getElementById(id) : null;
    return note
      ? {
          text: note.textContent ?? '',
          role: note.getAttribute('role'),
          invalid: el.getAttribute('aria-invalid'),
        }
      : null;
  });
}

async function runAndWait(prompt: string, previous: number): Promise<void> {
  await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill(prompt);
  await generate().click();
  // galleryCount, not keptRecipes: it does not create the database when there is none yet.
  await expect.poll(() => galleryCount(page), { timeout: 90_000 }).toBe(previous + 1);
}

/** Types into a field in the settings sheet; the sheet stays open. */
async function type(field: 'Steps' | 'Seed', text: string): Promise<void> {
  await (field === 'Steps' ? steps() : seed()).fill(text);
}

describe('the Steps and Seed fields', () => {
  it('refuse Steps "1e9" and "0" with the valid range, and Generate stays off', async () => {
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('red heart');
    expect(await generate().isEnabled()).toBe(true);
    for (const text of ['1e9', '0', '-1', '2.5']) {
      await openSettings(page);
      await type('Steps', text);
      await expect
        .poll(() => described('Steps'))
        .toEqual({
          text: 'Steps must be a whole number from 1 to 8.',
          role: 'alert',
          invalid: 'true',
        });
      expect(await steps().inputValue()).toBe(text); // what was typed stays, not a value that would run instead
      await closeSettings(page);
      expect(await generate().isDisabled()).toBe(true);
      expect(await generate().getAttribute('aria-describedby')).toBe('generate-problem');
      expect(await page.locator('#generate-problem').textContent()).toBe(
        'Steps must be a whole number from 1 to 8.',
      );
    }
    // Enter in the prompt does not run it either.
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).press('Enter');
    await page.waitForTimeout(500);
    expect(await page.getByRole('progressbar').count()).toBe(0);
    expect(await galleryCount(page)).toBe(0);

    await openSettings(page);
    await type('Steps', '3');
    await expect.poll(() => described('Steps')).toBeNull();
    expect(await steps().getAttribute('aria-invalid')).toBeNull();
    await closeSettings(page);
    expect(await generate().isEnabled()).toBe(true);
  });

  it('refuse Seed "-1", "9007199254740992" and an empty Seed with the valid range', async () => {
    for (const text of ['-1', '9007199254740992', '4294967296', '']) {
      await openSettings(page);
      await type('Seed', text);
      const expected =
        text === ''
          ? 'Enter a seed, a whole number from 0 to 4294967295, or turn off Fixed seed for a new random seed each time.'
          : 'The seed must be a whole number from 0 to 4294967295, or turn off Fixed seed for a new random seed each time.';
      await expect
        .poll(() => described('Seed'))
        .toEqual({ text: expected, role: 'alert', invalid: 'true' });
      expect(await seed().inputValue()).toBe(text);
      expect(await page.getByRole('checkbox', { name: 'Fixed seed' }).isChecked()).toBe(true);
      await closeSettings(page);
      expect(await generate().isDisabled()).toBe(true);
    }
  });

  it('run exactly the values shown', async () => {
    await openSettings(page);
    await type('Seed', '4294967295');
    await expect.poll(() => described('Seed')).toBeNull();
    await closeSettings(page);
    expect(await generate().isEnabled()).toBe(true);
    await runAndWait('red heart', 0);
    expect(await page.locator('.status-line').textContent()).toMatch(
      /, 3 steps, seed 4294967295\.$/,
    );
    const [first] = await keptRecipes(page);
    expect([first!.steps, first!.seed]).toEqual([3, 4294967295]);
    await openSettings(page);
    expect(await steps().inputValue()).toBe('3');
    expect(await seed().inputValue()).toBe('4294967295');

    // Turning Fixed seed off takes an invalid seed out of the way: each run draws its own, shown after.
    await type('Seed', '-1');
    await page.getByRole('checkbox', { name: 'Fixed seed' }).uncheck();
    await expect.poll(() => described('Seed')).toBeNull();
    await closeSettings(page);
    expect(await generate().isEnabled()).toBe(true);
    await runAndWait('blue moon', 1);
    const second = (await keptRecipes(page))[1]!;
    await openSettings(page);
    await expect.poll(() => seed().inputValue()).toBe(String(second.seed));
    expect(second.steps).toBe(3);
    await closeSettings(page);
  });
});
