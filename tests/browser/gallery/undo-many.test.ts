/**
 * Deleting several images in a row: the undo offer says how many it holds,
 * and Undo brings every one of them back (not only the last).
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHONE } from '../../helpers/browser';
import { openCreate, startCreate, type CreateSetup } from '../create/create-page';
import { recipe, seedGallery } from './seed';

let setup: CreateSetup;

beforeAll(async () => {
  setup = await startCreate();
});

afterAll(async () => {
  await setup?.close();
});

describe('the Gallery’s undo', () => {
  it('after five deletes, Undo brings all five back and says so first', async () => {
    const page = await openCreate(setup, PHONE);
    await page.getByRole('link', { name: 'Gallery' }).click();
    await page.getByText('No images yet.').waitFor();
    const now = Date.UTC(2026, 11, 1);
    const names = ['one', 'two', 'three', 'four', 'five', 'six'];
    await seedGallery(
      page,
      names.map((name, i) => ({ recipe: recipe(name, i + 1), createdAt: now + i, hue: i * 50 })),
    );
    await page.reload();
    const tiles = page.getByRole('list', { name: 'Images, newest first' }).getByRole('img');
    await expect.poll(() => tiles.count()).toBe(6);
    for (const [i, name] of names.slice(0, 5).entries()) {
      await page.getByRole('button', { name, exact: true }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
      await expect.poll(() => tiles.count()).toBe(5 - i);
    }
    await page.getByRole('status').getByText('5 images deleted. Undo brings back all 5.').waitFor();
    await page.getByRole('status').getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => tiles.count()).toBe(6);
    expect(await tiles.evaluateAll((imgs) => imgs.map((img) => img.getAttribute('alt')))).toEqual(
      [...names].reverse(),
    );
    await page.context().close();
  }, 120_000);
});
