/**
 * The Create screen's Model select with a pack really installed by the
 * service worker: the production build on a plain static host, the LCM
 * fixture as the built-in demo pack and the SD-Turbo fixture as a user's pack.
 * The choice reaches the engine, is remembered across reloads, comes back
 * with Remix, and falls back to the demo pack once the pack is deleted.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPersistent } from '../../helpers/browser';
import { closeSettings, openSettings } from '../create/create-page';
import { command, openModels, readStored } from '../store/models-page';
import { keptRecipes } from './kept-recipes';
import { FIXTURES, serveDistWithPack, type PackServer } from './serve';

const TURBO_DIR = join(FIXTURES, 'sd-turbo');
const TURBO_PATH = '/fixture-packs/sd-turbo/';
const DEMO_NAME = 'Test fixture: lcm';
const TURBO_NAME = 'Test fixture: sd-turbo';

let server: PackServer;
let context: BrowserContext;
let close: () => Promise<void>;
let page: Page;

beforeAll(async () => {
  server = await serveDistWithPack({ packDir: join(FIXTURES, 'lcm') });
  const servePacks = server.intercept!;
  server.intercept = (req, res, filePath) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (!path.startsWith(TURBO_PATH)) return servePacks(req, res, filePath);
    const file = join(TURBO_DIR, path.slice(TURBO_PATH.length));
    if (!file.startsWith(TURBO_DIR) || !existsSync(file)) res.writeHead(404).end();
    else res.writeHead(200, { 'Access-Control-Allow-Origin': '*' }).end(readFileSync(file));
    return true;
  };
  ({ context, close } = await launchPersistent());
  page = await openModels(context, server.url);
});

afterAll(async () => {
  await close?.();
  await server?.close();
});

function modelSelect() {
  return page.getByRole('combobox', { name: 'Model', exact: true });
}

async function modelOptions(): Promise<string[]> {
  return modelSelect().locator('option').allTextContents();
}

async function chosenModel(): Promise<string | null> {
  return modelSelect().locator('option:checked').textContent();
}

async function openCreate(): Promise<void> {
  await page.goto(`${server.url}/#/create`);
  await page.getByLabel('Prompt', { exact: true }).waitFor();
}

describe('the Model select', () => {
  it('lists an installed pack beside the demo pack; choosing it generates with it', async () => {
    const manifest: unknown = JSON.parse(readFileSync(join(TURBO_DIR, 'manifest.json'), 'utf8'));
    expect(
      await command(page, {
        cmd: 'download',
        manifest,
        manifestUrl: `${server.url}${TURBO_PATH}manifest.json`,
        licenseAccepted: true,
        origin: 'user',
      }),
    ).toMatchObject({ ok: true });
    await expect
      .poll(async () => (await readStored(page, 'fixture-sd-turbo'))?.installedVersion ?? null, {
        timeout: 60_000,
      })
      .not.toBeNull();

    await openCreate();
    await openSettings(page);
    await expect.poll(modelOptions).toEqual([DEMO_NAME, TURBO_NAME]);
    expect(await chosenModel()).toBe(DEMO_NAME);
    expect(await page.getByLabel('Guidance', { exact: true }).inputValue()).toBe('8');

    await modelSelect().selectOption({ label: TURBO_NAME });
    // SD-Turbo: no guidance, and its own default steps.
    expect(await page.getByLabel('Guidance', { exact: true }).count()).toBe(0);
    expect(await page.getByLabel('Steps').inputValue()).toBe('1');
    await closeSettings(page);
    const served = server.requests.filter((r) => r.path.startsWith(TURBO_PATH)).length;
    await page.getByLabel('Prompt', { exact: true }).fill('cat');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page
      .getByRole('img', { name: 'Generated image: cat', exact: true })
      .waitFor({ timeout: 60_000 });
    // Read from the store, not the host.
    expect(server.requests.filter((r) => r.path.startsWith(TURBO_PATH))).toHaveLength(served);
    await expect.poll(async () => (await keptRecipes(page)).length).toBe(1);
    expect((await keptRecipes(page))[0]).toMatchObject({
      prompt: 'cat',
      steps: 1,
      pack: { id: 'fixture-sd-turbo' },
    });
  });

  it('remembers the choice across a reload', async () => {
    await page.reload();
    await page.getByLabel('Prompt', { exact: true }).waitFor();
    await openSettings(page);
    await expect.poll(chosenModel).toBe(TURBO_NAME);
    await closeSettings(page);
  });

  it('Remix brings back the pack a recipe was made with', async () => {
    await openSettings(page);
    await modelSelect().selectOption({ label: DEMO_NAME });
    await page.getByLabel('Guidance', { exact: true }).waitFor();
    await closeSettings(page);
    await page.goto(`${server.url}/#/gallery`);
    await page.getByRole('button', { name: 'cat' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remix' }).click();
    await page.waitForURL(/#\/create$/);
    await openSettings(page);
    await expect.poll(chosenModel).toBe(TURBO_NAME);
    expect(await page.getByLabel('Steps').inputValue()).toBe('1');
    expect(await page.getByLabel('Guidance', { exact: true }).count()).toBe(0);
    await closeSettings(page);
  });

  it('falls back to the demo pack when the remembered pack is deleted', async () => {
    expect(await command(page, { cmd: 'delete', packId: 'fixture-sd-turbo' })).toMatchObject({
      ok: true,
    });
    await openSettings(page);
    await expect.poll(modelOptions).toEqual([DEMO_NAME]);
    expect(await chosenModel()).toBe(DEMO_NAME);
    await closeSettings(page);
    await page.reload();
    await page.getByLabel('Prompt', { exact: true }).waitFor();
    await openSettings(page);
    await expect.poll(modelOptions).toEqual([DEMO_NAME]);
    expect(await page.getByLabel('Guidance', { exact: true }).inputValue()).toBe('8');
    await closeSettings(page);
  });
});
