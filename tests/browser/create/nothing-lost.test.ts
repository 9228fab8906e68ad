/**
 * Nothing lost, nothing misleading, on the production build with the demo
 * pack: typed numbers keep their text (Guidance decimals), a double tap on
 * Generate does not cancel, the Create state outlives other screens and
 * reloads (a lost run is said), a recipe's seed is never run as another
 * number, out-of-range values from a PNG are clamped with a sentence, a
 * too-long prompt names the words it leaves out, and Generate, Outline and
 * Open image say why when they cannot do what was asked.
 */

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPngText } from '../../../src/shared/png-text';
import { keptRecipes } from '../engine/kept-recipes';
import { discPng } from '../gallery/seed';
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

const prompt = (page: Page) => page.getByRole('textbox', { name: 'Prompt', exact: true });
const generate = (page: Page) => page.getByRole('button', { name: 'Generate', exact: true });
const field = (page: Page, name: 'Steps' | 'Seed' | 'Guidance') =>
  page.getByRole('spinbutton', { name, exact: true });

/** The sentence tied to an element by aria-describedby, or null. */
async function description(locator: ReturnType<Page['getByRole']>): Promise<string | null> {
  return locator.evaluate((el) => {
    const ids = el.getAttribute('aria-describedby');
    if (!ids) return null;
    return ids
      .split(' ')
      .map((id) => document.getElementById(id)?.textContent ?? '')
      .join(' ');
  });
}

/** Opens a PNG through the Gallery's "Open image", as a person would with another tool's file. */
async function openPng(page: Page, entries: { keyword: string; text: string }[]): Promise<void> {
  const png = await setPngText(discPng(16, 30), entries);
  await page.getByRole('link', { name: 'Gallery' }).click();
  await page.getByRole('heading', { name: 'Gallery' }).waitFor();
  await page
    .locator('input[type=file]')
    .setInputFiles({ name: 'other.png', mimeType: 'image/png', buffer: Buffer.from(png) });
}

async function makeImage(page: Page, text: string, before = 0): Promise<void> {
  await prompt(page).fill(text);
  await generate(page).click();
  await expect
    .poll(async () => (await keptRecipes(page)).length, { timeout: 90_000 })
    .toBe(before + 1);
}

describe('number fields', () => {
  it('Guidance keeps a typed decimal point, and 1.5 and 7.5 run as typed', async () => {
    const page = await openCreate(setup);
    for (const [typed, n] of [
      ['1.5', 0],
      ['7.5', 1],
    ] as const) {
      await openSettings(page);
      await field(page, 'Guidance').click();
      await page.keyboard.press('Control+A');
      await page.keyboard.type(typed, { delay: 30 });
      expect(await field(page, 'Guidance').inputValue()).toBe(typed);
      await closeSettings(page);
      expect(await page.getByText(`guidance ${typed}`).count()).toBe(1);
      await makeImage(page, 'red heart', n);
      expect((await keptRecipes(page))[n]!.guidance).toBe(Number(typed));
    }
    await page.context().close();
  }, 180_000);
});

describe('Generate', () => {
  it('a double tap on Generate makes the image instead of cancelling it', async () => {
    const page = await openCreate(setup);
    await prompt(page).fill('blue circle');
    const box = (await generate(page).boundingBox())!;
    const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
    await page.mouse.click(x, y);
    // The second tap of a double tap, 150 ms later, lands where Cancel now is.
    await page.waitForTimeout(150);
    await page.mouse.click(x, y);
    await resultImage(page, 'blue circle').waitFor({ timeout: 90_000 });
    expect(await page.getByText('Cancelled.').count()).toBe(0);
    await page.context().close();
  }, 120_000);

  it('a spaces-only prompt says why Generate is off', async () => {
    const page = await openCreate(setup);
    await prompt(page).fill('    ');
    expect(await generate(page).isDisabled()).toBe(true);
    expect(await description(generate(page))).toBe(
      'The prompt is only spaces: type some words to generate.',
    );
    expect(await page.getByText('The prompt is only spaces').isVisible()).toBe(true);
    await page.context().close();
  });
});

describe('the Create state', () => {
  it('keeps the prompt, settings and result across a visit to another screen', async () => {
    const page = await openCreate(setup);
    await openSettings(page);
    await field(page, 'Steps').fill('3');
    await field(page, 'Seed').fill('77');
    await closeSettings(page);
    await makeImage(page, 'green square');
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Diagnostics' }).waitFor();
    await page.getByRole('link', { name: 'Create' }).click();
    expect(await prompt(page).inputValue()).toBe('green square');
    await resultImage(page, 'green square').waitFor();
    await openSettings(page);
    expect(await field(page, 'Steps').inputValue()).toBe('3');
    expect(await field(page, 'Seed').inputValue()).toBe('77');
    expect(await page.getByRole('checkbox', { name: 'Fixed seed' }).isChecked()).toBe(true);
    await page.context().close();
  }, 120_000);

  it('shows the same prompt and result again after a reload', async () => {
    const page = await openCreate(setup);
    await makeImage(page, 'cat face');
    await page.reload();
    await prompt(page).waitFor();
    expect(await prompt(page).inputValue()).toBe('cat face');
    await resultImage(page, 'cat face').waitFor();
    expect(await page.getByRole('button', { name: 'Save', exact: true }).isVisible()).toBe(true);
    await page.context().close();
  }, 120_000);

  it('a reload during a run keeps the prompt and says the run was lost', async () => {
    const page = await openCreate(setup);
    await prompt(page).fill('red heart');
    await generate(page).click();
    await page.getByRole('progressbar').waitFor();
    await page.reload();
    await prompt(page).waitFor();
    expect(await prompt(page).inputValue()).toBe('red heart');
    await page.getByText(/reloaded while an image was being made, so that run was lost/).waitFor();
    await page.context().close();
  }, 120_000);
});

describe('recipes from PNGs', () => {
  const parameters = (settings: string) => ({
    keyword: 'parameters',
    text: `an owl\nSteps: 4, Sampler: Euler a, CFG scale: 3, ${settings}, Size: 64x64`,
  });

  it('a 64-bit seed from another tool is refused by name, never run as another number', async () => {
    const page = await openCreate(setup);
    for (const seed of ['123456789012345', '9007199254740993']) {
      await openPng(page, [parameters(`Seed: ${seed}`)]);
      await page.waitForURL(/#\/create$/);
      await page.getByText(`This image's seed, ${seed}, is beyond`).waitFor();
      expect(await generate(page).isDisabled()).toBe(true);
      await openSettings(page);
      expect(await field(page, 'Seed').inputValue()).toBe(seed);
      expect(await field(page, 'Seed').getAttribute('aria-invalid')).toBe('true');
      await closeSettings(page);
    }
    // A new random seed each run instead: what runs is what the field then shows.
    await openSettings(page);
    await page.getByRole('checkbox', { name: 'Fixed seed' }).uncheck();
    await closeSettings(page);
    await generate(page).click();
    await expect.poll(async () => (await keptRecipes(page)).length, { timeout: 90_000 }).toBe(1);
    const ran = (await keptRecipes(page))[0]!.seed;
    await openSettings(page);
    expect(await field(page, 'Seed').inputValue()).toBe(String(ran));
    await page.context().close();
  }, 120_000);

  it('steps and guidance out of range are clamped with a sentence saying what runs', async () => {
    const page = await openCreate(setup);
    await openPng(page, [
      {
        keyword: 'parameters',
        text: 'an owl\nSteps: 999999, Sampler: LCM, CFG scale: 1e9, Seed: 5',
      },
    ]);
    await page.waitForURL(/#\/create$/);
    await page.getByText("Steps 999999 is outside this model's 1 to 8, so 8 steps run.").waitFor();
    await page
      .getByText("Guidance 1000000000 is outside this model's 1 to 8, so 8 runs.")
      .waitFor();
    await generate(page).click();
    await expect.poll(async () => (await keptRecipes(page)).length, { timeout: 90_000 }).toBe(1);
    const [kept] = await keptRecipes(page);
    expect([kept!.steps, kept!.guidance, kept!.seed]).toEqual([8, 8, 5]);
    await page.context().close();
  }, 120_000);

  it('a Gesso recipe with an invalid value is reported by its field, not as no recipe', async () => {
    const page = await openCreate(setup);
    const recipe = {
      format: 'gesso-recipe@1',
      recipe: {
        prompt: 'an owl',
        negativePrompt: '',
        pack: { id: 'demo-emoji', version: '1.0.0', variant: 'fp32' },
        steps: 'many',
        guidance: 4,
        seed: 1,
        width: 64,
        height: 64,
      },
    };
    await openPng(page, [{ keyword: 'gesso-recipe', text: JSON.stringify(recipe) }]);
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe('This PNG has a Gesso recipe that cannot be used: its steps is "many", not a number.');
    await page.context().close();
  });
});

describe('the prompt', () => {
  it('counts tokens and names the words a too-long prompt leaves out; the alt text is cut', async () => {
    const page = await openCreate(setup);
    await prompt(page).fill('red heart');
    await page.getByText('4 / 16').waitFor();
    const long = Array.from({ length: 2000 }, (_, i) => `word${i % 10}`).join(' ');
    await prompt(page).fill(`red heart ${long}`);
    await page.getByText('16 / 16').waitFor();
    const leftOut = page.getByText(/^Too long: this model reads only the first 16 tokens/);
    await leftOut.waitFor();
    expect(await leftOut.textContent()).toMatch(/leaves out “.+” and \d+ more words\.$/);
    await generate(page).click();
    const image = page.locator('img.picture');
    await image.waitFor({ timeout: 90_000 });
    const alt = (await image.getAttribute('alt'))!;
    expect(alt.length).toBeLessThanOrEqual(150);
    expect(alt).toMatch(/^Generated image: red heart word0 .*…$/);
    await page.context().close();
  }, 120_000);

  it('Outline with nothing drawn says the picture will follow no outline', async () => {
    const page = await openCreate(setup);
    await page
      .getByRole('toolbar', { name: 'Tools' })
      .getByRole('button', { name: 'Outline', exact: true })
      .click();
    await page
      .getByText('Nothing is drawn yet: Generate would make a picture that follows no outline.')
      .waitFor();
    await page.context().close();
  });
});
