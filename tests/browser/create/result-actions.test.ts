/**
 * Save and Share on the Create screen's result, not only inside a
 * gallery item: Save downloads the PNG with its recipe in text chunks (the
 * same file the gallery keeps); Share appears only where
 * navigator.canShare({files}) is true (stubbed here: desktop Chromium on
 * Linux cannot share files) and shares that same PNG.
 */

import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPngSize, readPngText } from '../../../src/shared/png-text';
import { parseGessoRecipe, parseParameters } from '../../../src/shared/recipe-text';
import { keptRecipes } from '../engine/kept-recipes';
import { fixSeed, openCreate, startCreate, type CreateSetup } from './create-page';

let setup: CreateSetup;

beforeAll(async () => {
  setup = await startCreate();
});

afterAll(async () => {
  await setup?.close();
});

interface Shared {
  name: string;
  type: string;
  bytes: number[];
  title?: string;
  text?: string;
}

/** Runs in the page first: canShare answers `canShareFiles` for files, share records what it was given. */
function stubShare(canShareFiles: boolean): void {
  const shared: Shared[] = [];
  (globalThis as unknown as { sharedFiles: Shared[] }).sharedFiles = shared;
  Object.defineProperty(navigator, 'canShare', {
    configurable: true,
    value: (data?: ShareData) => canShareFiles && (data?.files?.length ?? 0) > 0,
  });
  Object.defineProperty(navigator, 'share', {
    configurable: true,
    value: async (data: ShareData) => {
      for (const file of data.files ?? [])
        shared.push({
          name: file.name,
          type: file.type,
          title: data.title,
          text: data.text,
          bytes: Array.from(new Uint8Array(await file.arrayBuffer())),
        });
    },
  });
}

async function makeImage(page: Page, prompt: string): Promise<void> {
  await fixSeed(page, 77);
  await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill(prompt);
  await page.getByRole('button', { name: 'Generate' }).click();
  await page
    .getByRole('img', { name: `Generated image: ${prompt}`, exact: true })
    .waitFor({ timeout: 90_000 });
}

describe('the result on the Create screen', () => {
  it('has Save, which downloads the PNG with its recipe, and Share where files can be shared', async () => {
    const page = await openCreate(setup, {}, { script: stubShare, arg: true });
    expect(await page.getByRole('button', { name: 'Save' }).count()).toBe(0); // nothing to save yet
    await makeImage(page, 'red heart');
    const actions = page.getByRole('group', { name: 'This image' });
    const save = actions.getByRole('button', { name: 'Save', exact: true });
    await save.waitFor({ timeout: 30_000 });

    const [download] = await Promise.all([page.waitForEvent('download'), save.click()]);
    expect(download.suggestedFilename()).toBe('gesso-red-heart-77.png');
    const bytes = new Uint8Array(await readFile(await download.path()));
    expect(readPngSize(bytes)).toEqual({ width: 64, height: 64 });
    const text = await readPngText(bytes);
    const parameters = parseParameters(text.find((t) => t.keyword === 'parameters')!.text);
    expect(parameters).toMatchObject({ prompt: 'red heart', seed: 77, steps: 4 });
    const recipe = parseGessoRecipe(text.find((t) => t.keyword === 'gesso-recipe')!.text);
    await expect.poll(async () => (await keptRecipes(page)).length).toBe(1);
    expect(recipe).toEqual((await keptRecipes(page))[0]);

    await actions.getByRole('button', { name: 'Share', exact: true }).click();
    await page.waitForFunction(
      () => (globalThis as { sharedFiles?: unknown[] }).sharedFiles?.length,
    );
    const shared = await page.evaluate(
      () => (globalThis as unknown as { sharedFiles: Shared[] }).sharedFiles,
    );
    expect(shared).toHaveLength(1);
    expect(shared[0]).toMatchObject({
      name: 'gesso-red-heart-77.png',
      type: 'image/png',
      title: 'Made with Gesso',
      text: 'red heart',
    });
    expect(shared[0]!.bytes).toEqual([...bytes]);
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.context().close();
  });

  it('offers no Share where the browser cannot share files, and Save still', async () => {
    const page = await openCreate(setup, {}, { script: stubShare, arg: false });
    await makeImage(page, 'blue moon');
    const actions = page.getByRole('group', { name: 'This image' });
    await actions.getByRole('button', { name: 'Save', exact: true }).waitFor({ timeout: 30_000 });
    expect(await actions.getByRole('button', { name: 'Share' }).count()).toBe(0);
    await page.context().close();
  });
});
