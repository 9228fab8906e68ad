/**
 * Loading ahead of the press, in the production build with its service
 * worker: the Create screen loads the chosen installed pack while the person
 * types, and the engine warms a small pack up with a throwaway image.
 * Choosing another pack ends that warm-up with the worker that ran it;
 * choosing a pack that cannot run here loads nothing and keeps the pack
 * already loaded.
 *
 * What the engine worker did is read from its performance measures
 * (pack-slot.ts): "gesso load" when a load ends, "gesso load: warm-up" when
 * the throwaway image is done.
 */

import { join } from 'node:path';
import type { BrowserContext, Page, Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPersistent } from '../../helpers/browser';
import { FIXTURES, serveDistWithPack, type PackServer } from '../engine/serve';
import { addFixtureCopy } from '../models/fixture-copy';
import { PackHost, type TestPack } from '../store/pack-host';
import { addAndDownload, openModels, untilStatus } from '../store/models-page';
import { closeSettings, openSettings } from './create-page';

/** The fixture under the demo pack's id (the app reserves the id served at its demo address). */
const DEMO = { id: 'demo-emoji', name: 'Test fixture: lcm' };

let server: PackServer;
let slow: TestPack;
let tooBig: TestPack;
let context: BrowserContext;
let close: () => Promise<void>;

beforeAll(async () => {
  server = await serveDistWithPack({
    packDir: join(FIXTURES, 'lcm'),
    patchManifest: (manifest) => ({ ...manifest, id: DEMO.id }),
  });
  const demo = server.intercept!;
  const host = new PackHost(server);
  const packs = server.intercept!;
  server.intercept = async (req, res, file) =>
    (await packs(req, res, file)) || demo(req, res, file);
  // A warm-up of seconds: the fixture's "slow" UNet (~4 GFLOP a step), 8 steps.
  slow = addFixtureCopy(host, server.url, {
    id: 'fixture-slow-warm-up',
    name: 'Test fixture: slow warm-up',
    variant: 'slow',
    manifest: { ranges: { steps: [8, 8], guidance: [1, 2] } },
  });
  // More memory than WebAssembly can address: it can only be refused here.
  tooBig = addFixtureCopy(host, server.url, {
    id: 'fixture-too-big',
    name: 'Test fixture: too big',
    variant: 'int64',
    patch: (variant) => ({
      ...variant,
      backends: ['wasm'],
      requires: { ...variant.requires, memoryBytes: 64 * 2 ** 30 },
    }),
  });
  ({ context, close } = await launchPersistent());
  const models = await openModels(context, server.url);
  for (const pack of [slow, tooBig]) {
    await addAndDownload(models, pack);
    await untilStatus(models, pack, 'Ready');
  }
  await untilStatus(models, DEMO, 'Ready');
  await models.close();
}, 180_000);

afterAll(async () => {
  await close?.();
  await server?.close();
});

interface EngineWorker {
  worker: Worker;
  closed: boolean;
  /** The "gesso …" measures seen at the last look. */
  measures: string[];
}

/** Every worker the page starts, with whether it has ended. */
function trackWorkers(page: Page): EngineWorker[] {
  const workers: EngineWorker[] = [];
  page.on('worker', (worker) => {
    const entry: EngineWorker = { worker, closed: false, measures: [] };
    worker.on('close', () => (entry.closed = true));
    workers.push(entry);
  });
  return workers;
}

async function look(entry: EngineWorker): Promise<string[]> {
  if (entry.closed) return entry.measures;
  const names = await entry.worker
    .evaluate(() => performance.getEntriesByType('measure').map((m) => m.name))
    .catch(() => null);
  if (names) entry.measures = names.filter((name) => name.startsWith('gesso'));
  return entry.measures;
}

/** The engine worker that has finished loading a pack (its "gesso load" measure), once there is one. */
async function loadedWorker(workers: EngineWorker[], timeout = 60_000): Promise<EngineWorker> {
  const deadline = Date.now() + timeout;
  for (;;) {
    for (const entry of workers)
      if (!entry.closed && (await look(entry)).includes('gesso load')) return entry;
    if (Date.now() > deadline) throw new Error('No engine worker finished loading a pack.');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function openCreateWith(packId: string): Promise<{ page: Page; workers: EngineWorker[] }> {
  const page = await context.newPage();
  const workers = trackWorkers(page);
  await page.addInitScript((id) => localStorage.setItem('gesso.model', id), packId);
  await page.goto(`${server.url}/#/create`);
  await page.getByRole('textbox', { name: 'Prompt', exact: true }).waitFor();
  return { page, workers };
}

async function chooseModel(page: Page, name: string): Promise<void> {
  await openSettings(page);
  await page.getByRole('combobox', { name: 'Model', exact: true }).selectOption({ label: name });
  await closeSettings(page);
}

describe('loading the chosen pack while the person types', () => {
  it('ends a warm-up when another pack is chosen, and warms up the new one', async () => {
    const { page, workers } = await openCreateWith(slow.id);
    const first = await loadedWorker(workers);
    // Loaded, its throwaway image under way.
    expect(await look(first)).not.toContain('gesso load: warm-up');

    await chooseModel(page, DEMO.name);
    await expect.poll(() => first.closed, { timeout: 20_000 }).toBe(true);
    expect(first.measures).not.toContain('gesso load: warm-up');

    const second = await loadedWorker(workers.filter((w) => w !== first));
    await expect.poll(() => look(second), { timeout: 30_000 }).toContain('gesso load: warm-up');
    await page.close();
  }, 120_000);

  it('stops the warm-up when the person presses Generate', async () => {
    const { page, workers } = await openCreateWith(slow.id);
    const loaded = await loadedWorker(workers);
    expect(await look(loaded)).not.toContain('gesso load: warm-up');
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('red heart');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await page
      .getByRole('img', { name: 'Generated image: red heart', exact: true })
      .waitFor({ timeout: 60_000 });
    const measures = await look(loaded);
    expect(measures).toContain('gesso generate');
    expect(measures).not.toContain('gesso load: warm-up');
    await page.close();
  }, 120_000);

  it('loads nothing for a pack that cannot run here, keeping the pack already loaded', async () => {
    // The select's value for the built-in pack is ''.
    const { page, workers } = await openCreateWith('');
    const loaded = await loadedWorker(workers);
    await expect.poll(() => look(loaded), { timeout: 30_000 }).toContain('gesso load: warm-up');

    const started = workers.length;
    await chooseModel(page, tooBig.name);
    // Long enough for a load to have started: the fixture pack loads in well under a second.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(workers.length).toBe(started);
    expect(loaded.closed).toBe(false);
    expect((await look(loaded)).filter((name) => name === 'gesso load')).toHaveLength(1);

    // Pressing Generate says why, in a sentence.
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('red heart');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await page.getByText(/cannot run on WebAssembly/).waitFor({ timeout: 30_000 });
    await page.close();
  }, 120_000);
});
