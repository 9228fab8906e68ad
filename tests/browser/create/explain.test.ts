/**
 * Explain on the Create screen, on the demo pack: after a result, "Explain"
 * shows the prompt's words as buttons and each word's attention map as an
 * image; choosing a word lays its map over the result; the maps are kept
 * with the gallery item and shown there.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCreate, startCreate, type CreateSetup } from './create-page';

let setup: CreateSetup;

beforeAll(async () => {
  setup = await startCreate();
});

afterAll(async () => {
  await setup?.close();
});

describe('Explain', () => {
  it('shows which word painted where, and keeps it in the gallery', async () => {
    const page = await openCreate(setup);
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('purple heart');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByRole('img', { name: 'Generated image: purple heart' }).waitFor();

    await page.getByRole('button', { name: 'Explain' }).click();
    const maps = page.getByRole('region', { name: 'Which word painted where' });
    const heartMap = maps.getByRole('img', { name: 'Attention map: heart' });
    await heartMap.waitFor({ timeout: 60_000 });
    await expect
      .poll(() => heartMap.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth))
      .toBe(64);
    expect(await maps.getByRole('img').count()).toBe(2); // "purple", "heart"

    // No overlay until a word is chosen; choosing one lays its map over the picture.
    const overlay = page.locator('.attention-overlay');
    expect(await overlay.count()).toBe(0);
    const heart = maps.getByRole('button', { name: 'heart', exact: true });
    await heart.click();
    expect(await heart.getAttribute('aria-pressed')).toBe('true');
    await overlay.waitFor();
    const sameAsMap = await overlay.evaluate(
      (img, src) => (img as HTMLImageElement).src === src,
      await heartMap.getAttribute('src'),
    );
    expect(sameAsMap).toBe(true);
    await maps.getByLabel('Map opacity').fill('0.3');
    expect(await overlay.evaluate((img) => getComputedStyle(img).opacity)).toBe('0.3');

    // Kept with the gallery item.
    await page.getByRole('link', { name: 'Gallery' }).click();
    await page.getByRole('button', { name: 'purple heart' }).click();
    const dialog = page.getByRole('dialog', { name: 'Image' });
    await dialog.getByRole('img', { name: 'Attention map: heart' }).waitFor();
    await dialog.getByRole('img', { name: 'Attention map: purple' }).waitFor();
    await page.close();
  });
});
