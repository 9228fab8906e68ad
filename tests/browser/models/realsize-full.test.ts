/**
 * The whole path at real size, in Chromium, measured once: the full-size
 * shape-true packs of models/realsize (real SD-Turbo and LCM architectures,
 * random fp16 weights, the public exports' file sizes: 2.6 and 2.1 GB) as a
 * user without a capable GPU takes them. Added by manifest URL from a plain
 * static host on another origin (CORS, Range), downloaded into IndexedDB by
 * the service worker with the app's defaults, judged by the Models screen
 * with WebAssembly chosen (the fp16 UNet does not fit there), copied to int8
 * on the device ("Make an int8 copy for this device"), chosen on Create and
 * generated at 512x512 on WebAssembly; then "Remove the original".
 *
 * Far too long for `npm test` (20 to 60 minutes): skipped unless
 * GESSO_REAL_SIZE_FULL is set.
 *
 *   npm run build
 *   GESSO_REAL_SIZE_FULL=1 npx vitest run --project browser tests/browser/models/realsize-full.test.ts
 *
 * GESSO_REAL_SIZE_FULL_PACKS: "sd-turbo,lcm" (default) or one of them.
 * GESSO_REAL_SIZE_FULL_LCM_STEPS: LCM's steps (default 4, the pack's).
 * GESSO_REAL_SIZE_FULL_LIMIT_GB: the browser is stopped past this much
 * memory, all Chromium processes summed (default 16).
 * GESSO_REAL_SIZE_FULL_LOG: a file each figure is appended to as it comes.
 * GESSO_REAL_SIZE_FULL_WIDTH=reduced: the same path with the width / 8 packs
 * (a few minutes), to check this file itself.
 * Packs are built by models/realsize/build.py if missing (5-13 minutes and
 * 7 GB of RAM each), or taken from its cache.
 *
 * Prints a table of every phase's time, bytes and the peak memory of all
 * Chromium processes; a phase that fails is a row saying why, and the
 * phases after it for that pack are skipped.
 */

import { closeSettings, openSettings } from '../create/create-page';
import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPersistent, waitForIsolatedControl } from '../../helpers/browser';
import { startStaticServer, type StaticServer } from '../../helpers/static-server';
import type { ModelMeasure } from '../../../src/shared/measured-needs';
import { card, readRecord, waitForStatus } from '../store/models-page';
import {
  engineTimes,
  GB,
  generateOnCreate,
  lastRun,
  MemoryWatch,
  memoryCells,
  readFiles,
  seconds,
  startDiskHost,
  storageUsed,
  table,
  type DiskHost,
  type DiskPack,
  type MemoryPhase,
  type Row,
} from './realsize-flow';
import { chooseBackend as chooseBackendIn, PYTHON } from './realsize-pack';

const ENABLED = Boolean(process.env.GESSO_REAL_SIZE_FULL);
const PACKS = (process.env.GESSO_REAL_SIZE_FULL_PACKS ?? 'sd-turbo,lcm')
  .split(',')
  .map((p) => p.trim())
  .filter((p): p is 'sd-turbo' | 'lcm' => p === 'sd-turbo' || p === 'lcm');
const LCM_STEPS = Number(process.env.GESSO_REAL_SIZE_FULL_LCM_STEPS ?? 4);
const LIMIT = Number(process.env.GESSO_REAL_SIZE_FULL_LIMIT_GB ?? 16) * 1e9;
const LOG = process.env.GESSO_REAL_SIZE_FULL_LOG;
/** 'reduced' runs the same path on the width / 8 packs (minutes), to check this file. */
const WIDTH = process.env.GESSO_REAL_SIZE_FULL_WIDTH === 'reduced' ? 'reduced' : 'full';
const ROOT = resolve(__dirname, '../../..');
const MAKE = 'Make an int8 copy for this device';
const SEED = 1234;
const MINUTE = 60_000;

let app: StaticServer;
let host: DiskHost;
let context: BrowserContext;
let close: () => Promise<void>;
let profileDir: string;
let page: Page;
let watch: MemoryWatch;
let started = 0;
const rows: Row[] = [];
/** What the Models screen said, pack card by pack card. */
const sentences: string[] = [];
/** The last error and warning messages of the page and its workers. */
const consoleTail: string[] = [];

function say(line: string): void {
  console.log(line);
  if (LOG) appendFileSync(LOG, `${new Date().toISOString()} ${line}\n`);
}

/** Says the installed variant's measured models and requirements; returns the measures. */
async function measuredLine(packId: string, what: string): Promise<ModelMeasure[]> {
  const installed = (await readRecord(page, packId))!.installed!;
  const measured = installed.measured ?? [];
  const variant = installed.manifest.variants.find((v) => v.id === installed.variant)!;
  const MiB = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  say(
    `${what}: ` +
      measured
        .map(
          (m) =>
            `${m.component} weights ${MiB(m.weightBytes)}, largest weight ${MiB(m.largestWeightBytes)}, ` +
            `largest activation ${MiB(m.largestActivationBytes)} (${m.largestActivationName})`,
        )
        .join('; ') +
      `; requires ${JSON.stringify(variant.requires)}`,
  );
  return measured;
}

function record(row: Row): void {
  rows.push(row);
  say(
    `[${row.pack}] ${row.phase}: ${row.time}; ${row.bytes}; ${row.before} -> ${row.peak}; ${row.notes}`,
  );
}

/** Bytes the profile's IndexedDB holds on disk. */
function indexedDbOnDisk(): number {
  try {
    const out = execFileSync('du', ['-sb', join(profileDir, 'Default', 'IndexedDB')], {
      encoding: 'utf8',
    });
    return Number(out.split('\t')[0]);
  } catch {
    return 0;
  }
}

async function storageCell(): Promise<string> {
  const { usage, quota } = await storageUsed(page);
  return `storage ${GB(usage)} used of ${GB(quota)} (estimate), IndexedDB ${GB(indexedDbOnDisk())} on disk`;
}

const chooseBackend = (name: 'WebGPU' | 'WebAssembly') => chooseBackendIn(page, app.url, name);

async function openModels(): Promise<void> {
  await page.goto(`${app.url}/#/models`);
  await page.getByRole('heading', { name: 'Models', level: 1 }).waitFor();
}

/** Chooses the model in the settings sheet, and `steps` where given (the sheet is closed after). */
async function chooseModel(pack: DiskPack, steps?: number): Promise<void> {
  await page.goto(`${app.url}/#/create`);
  await page.getByRole('textbox', { name: 'Prompt', exact: true }).waitFor();
  await openSettings(page);
  const model = page.getByRole('combobox', { name: 'Model', exact: true });
  await expect
    .poll(() => model.locator('option').allTextContents(), { timeout: MINUTE })
    .toContain(pack.name);
  await model.selectOption({ label: pack.name });
  const stepsInput = page.getByRole('spinbutton', { name: 'Steps', exact: true });
  if (steps !== undefined && (await stepsInput.inputValue()) !== String(steps))
    await stepsInput.fill(String(steps));
  await closeSettings(page);
}

/** The card's text as a person reads it, one line per block. */
async function cardText(pack: DiskPack, where: 'list' | 'add' = 'list'): Promise<string> {
  const text = await (
    where === 'add'
      ? page.locator('.add-pack').getByRole('article', { name: pack.name, exact: true })
      : card(page, pack)
  ).innerText();
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' / ');
}

async function build(pack: 'sd-turbo' | 'lcm'): Promise<string> {
  const { stdout } = await promisify(execFile)(
    PYTHON,
    ['models/realsize/build.py', '--pack', pack, '--width', WIDTH],
    { cwd: ROOT, maxBuffer: 16 << 20, timeout: 30 * MINUTE },
  );
  const dir = stdout.trim().split('\n').pop()!;
  if (!existsSync(join(dir, 'manifest.json'))) throw new Error(`build.py printed ${stdout}`);
  return dir;
}

/** One pack's phases, run in order; a failed phase skips the rest of its pack. */
function packPath(which: 'sd-turbo' | 'lcm'): void {
  let pack: DiskPack;
  let blocked: string | null = null;
  const label = which === 'sd-turbo' ? 'SD-Turbo' : 'LCM';
  const steps = which === 'sd-turbo' ? 1 : LCM_STEPS;
  /** Runs a phase: skipped after a failure, recorded as a failed row when it throws. */
  const phase =
    (name: string, body: () => Promise<void>) => async (ctx: { skip: (note?: string) => void }) => {
      if (watch.exceeded) blocked ??= watch.exceeded;
      if (blocked) {
        record({ ...empty(name), notes: `skipped: ${blocked}` });
        return ctx.skip();
      }
      const from = Date.now();
      try {
        await body();
      } catch (error) {
        const why = watch.exceeded ?? (error instanceof Error ? error.message : String(error));
        blocked = `${name} failed`;
        record({
          ...empty(name),
          time: seconds(Date.now() - from),
          notes: `FAILED: ${why.split('\n')[0]}; console: ${consoleTail.slice(-5).join(' // ')}`,
        });
        throw error;
      }
    };
  const empty = (name: string): Row => ({
    pack: label,
    phase: name,
    time: '',
    bytes: '',
    before: '',
    peak: '',
    notes: '',
  });

  describe(`${label}, ${WIDTH} width`, () => {
    it(
      'is added by its URL from another origin and downloaded into IndexedDB, each file once',
      phase('download', async () => {
        pack = host.add(await build(which));
        await chooseBackend('WebAssembly');
        await openModels();
        await page.getByLabel('Manifest URL').fill(pack.manifestUrl);
        await page.getByRole('button', { name: 'Add pack' }).click();
        await page.getByRole('button', { name: `Download ${pack.name}` }).waitFor();
        sentences.push(`${label}, added, before download: ${await cardText(pack, 'add')}`);
        say(sentences.at(-1)!);
        const progress: number[] = [];
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            const value = await page
              .evaluate((name) => {
                const bar = document.querySelector<HTMLProgressElement>(
                  `progress[aria-label="${name} download progress"]`,
                );
                return bar ? bar.value : null;
              }, pack.name)
              .catch(() => null);
            if (value !== null) progress.push(value);
            await new Promise((done) => setTimeout(done, 1_000));
          }
        })();
        const stop = watch.phase();
        const start = Date.now();
        await page.getByRole('button', { name: `Download ${pack.name}` }).click();
        await waitForStatus(page, pack, 'Ready', 40 * MINUTE);
        const ms = Date.now() - start;
        const memory = stop();
        sampling = false;
        await sampler;

        const sent = host.sentFor(pack);
        const served = sent.reduce((n, s) => n + s.sent, 0);
        const perFile = pack.manifest.files.map(
          (f) => sent.filter((s) => s.path === `/${pack.id}/${f.path}`).length,
        );
        const stored = await readFiles(page, pack.id);
        record({
          ...empty('download'),
          time: seconds(ms),
          bytes: `${served} served for a pack of ${pack.bytes} (${((100 * served) / pack.bytes).toFixed(2)}%)`,
          ...memoryCells(memory),
          notes:
            `${pack.manifest.files.length} files, ${sent.length} requests (per file: ${perFile.join(',')}; ` +
            `ranged: ${sent.filter((s) => s.range).length}; by ${[...new Set(sent.map((s) => s.fetchedBy))].join(', ')}); ` +
            `${(pack.bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s; ${progress.length} progress samples; ${await storageCell()}`,
        });
        // Every file stored whole, as the manifest sizes it.
        expect(stored?.installedVersion).toBe(pack.manifest.version);
        for (const file of pack.manifest.files)
          expect(stored!.files[file.path], file.path).toMatchObject({
            bytesDone: file.size,
            done: true,
          });
        for (let i = 1; i < progress.length; i++)
          expect(progress[i]!).toBeGreaterThanOrEqual(progress[i - 1]!);
        // One download: every file fetched, nothing fetched twice.
        expect(perFile.every((n) => n >= 1)).toBe(true);
        expect(served).toBeGreaterThanOrEqual(pack.bytes);
        expect(served).toBeLessThanOrEqual(pack.bytes * 1.05);
        // Measured at install: every value sized; the UNet's largest is its self-attention scores.
        const measured = await measuredLine(pack.id, `${label}, measured at install`);
        expect(measured.every((m) => m.unknownValues === 0)).toBe(true);
        expect(measured.find((m) => m.component === 'unet')!.largestActivationName).toMatch(
          /attn1/,
        );
      }),
      45 * MINUTE,
    );

    it(
      'on WebAssembly the Models screen offers the int8 copy, and the fp16 variant is refused',
      phase('Models screen, fp16', async () => {
        await openModels();
        await card(page, pack).getByRole('button', { name: MAKE, exact: true }).waitFor({
          timeout: MINUTE,
        });
        const text = await cardText(pack);
        sentences.push(`${label}, installed, WebAssembly chosen: ${text}`);
        say(sentences.at(-1)!);
        expect(text).toMatch(/WebAssembly/);
        // What Create says when the fp16 variant is asked for anyway.
        await chooseModel(pack);
        const stop = watch.phase();
        const start = Date.now();
        const outcome = await generateOnCreate(page, 'a lighthouse', SEED, 10 * MINUTE).then(
          (run) => `generated ${run.width}x${run.height}`,
          (e: Error) => e.message,
        );
        const memory = stop();
        record({
          ...empty('fp16 on Create'),
          time: seconds(Date.now() - start),
          ...memoryCells(memory),
          notes: outcome,
        });
        if (WIDTH === 'full') expect(outcome).toMatch(/cannot run on WebAssembly/);
      }),
      15 * MINUTE,
    );

    it(
      'makes an int8 copy on the device, which becomes the default',
      phase('int8 copy', async () => {
        await openModels();
        const before = (await readFiles(page, pack.id))!;
        const status = card(page, pack).locator(
          '.pack-int8 [role="status"], .pack-int8 [role="alert"]',
        );
        const texts: string[] = [];
        const stop = watch.phase();
        const start = Date.now();
        await card(page, pack).getByRole('button', { name: MAKE, exact: true }).click();
        let last = '';
        const end = Date.now() + 60 * MINUTE;
        let lastLogged = 0;
        while (Date.now() < end) {
          last =
            (await status
              .first()
              .textContent({ timeout: 5_000 })
              .catch(() => null)) ?? last;
          if (/^Making/.test(last) && Date.now() - lastLogged > MINUTE) {
            texts.push(`${seconds(Date.now() - start)}: ${last}`);
            say(`[${label}] ${texts.at(-1)}`);
            lastLogged = Date.now();
          }
          if (/^Made an int8 copy/.test(last)) break;
          if (await card(page, pack).locator('.pack-int8 [role="alert"]').count())
            throw new Error(`the copy failed: ${last}`);
          await new Promise((done) => setTimeout(done, 500));
        }
        const ms = Date.now() - start;
        const memory = stop();
        expect(last).toMatch(/^Made an int8 copy/);
        const after = (await readFiles(page, pack.id))!;
        const copyBytes = after.installedBytes - before.installedBytes;
        sentences.push(`${label}, after the int8 copy: ${await cardText(pack)}`);
        say(sentences.at(-1)!);
        record({
          ...empty('int8 copy'),
          time: seconds(ms),
          bytes: `${GB(before.installedBytes)} -> +${GB(copyBytes)} (copy)`,
          ...memoryCells(memory),
          notes: `"${last}"; variants ${after.variants.join(', ')}; ${await storageCell()}; progress: ${texts.join(' / ')}`,
        });
        expect(after.variants[0]).toMatch(/-int8-device$/);
        const measured = await measuredLine(pack.id, `${label}, int8 copy measured`);
        expect(measured.every((m) => m.unknownValues === 0)).toBe(true);
        // The "This device" line judges the copy now, not the host's fp16 variant.
        expect(sentences.at(-1)).toMatch(/This device \/ Fits, on the CPU \(WebAssembly/);
        for (const [path, file] of Object.entries(after.files)) expect(file.done, path).toBe(true);
      }),
      65 * MINUTE,
    );

    it(
      `generates 512x512 with the int8 copy on WebAssembly, ${steps} step(s)`,
      phase('generate', async () => {
        await chooseBackend('WebAssembly');
        await chooseModel(pack, steps);
        const settled = await watch.settled(2_000);
        const requests = host.log.length;
        const stopLoad = watch.phase();
        let loading: MemoryPhase | null = null;
        let stopSteps: () => MemoryPhase = stopLoad;
        const run = await generateOnCreate(page, 'a cat', SEED, 60 * MINUTE, (ms) => {
          loading = stopLoad();
          stopSteps = watch.phase();
          say(`[${label}] loaded in ${seconds(ms)}, peak ${GB(loading.peak)}; stepping`);
        });
        const memory = stopSteps();
        const after = await watch.settled(2_000);
        const info = await lastRun(page);
        const what = `${steps} step${steps > 1 ? 's' : ''}, 512`;
        record({
          ...empty(`load (${what})`),
          time: seconds(run.loadMs),
          ...memoryCells(loading ?? memory),
          notes: 'click to the first step',
        });
        record({
          ...empty(`generate (${what})`),
          time: seconds(run.generateMs),
          ...memoryCells(memory),
          notes:
            `${run.width}x${run.height} on ${String(info.backend)}, variant ${JSON.stringify(info.pack)}; ` +
            `engine ms: ${engineTimes(info.timings)}; RSS settled ${GB(settled)} before, ${GB(after)} after`,
        });
        expect(host.log.length).toBe(requests);
        expect(info.backend).toBe('wasm');
        expect([run.width, run.height]).toEqual([512, 512]);
        // Not one flat colour. The default on wasm is Fast decode, whose random TAESD weights give a
        // flatter picture than the VAE's (21 distinct reds measured, against over 50).
        expect(run.distinctRed).toBeGreaterThan(8);
      }),
      65 * MINUTE,
    );

    it(
      'Remove the original frees its files',
      phase('remove original', async () => {
        await openModels();
        const before = await storageUsed(page);
        const start = Date.now();
        await card(page, pack)
          .getByRole('button', { name: 'Remove the original', exact: true })
          .click();
        const status = card(page, pack).locator('.pack-int8 [role="status"]');
        await expect
          .poll(() => status.first().textContent(), { timeout: 5 * MINUTE })
          .toMatch(/^Removed the original/);
        const text = (await status.first().textContent())!;
        const after = await storageUsed(page);
        record({
          ...empty('remove original'),
          time: seconds(Date.now() - start),
          bytes: `estimate ${GB(before.usage)} -> ${GB(after.usage)}`,
          notes: `"${text}"; ${await storageCell()}`,
        });
      }),
      10 * MINUTE,
    );
  });
}

describe.skipIf(!ENABLED)('full-size shape-true packs, the whole path in Chromium', () => {
  beforeAll(async () => {
    started = Date.now();
    app = await startStaticServer('dist');
    host = await startDiskHost();
    ({ context, close, profileDir } = await launchPersistent());
    watch = new MemoryWatch(LIMIT, (why) => say(why));
    page = await context.newPage();
    const keep = (from: string, type: string, text: string) => {
      if (type !== 'error' && type !== 'warning') return;
      consoleTail.push(`${from} ${type}: ${text.slice(0, 300)}`);
      if (consoleTail.length > 40) consoleTail.shift();
    };
    page.on('console', (m) => keep('page', m.type(), m.text()));
    page.on('pageerror', (e) => keep('page', 'error', e.message));
    page.on('crash', () => keep('page', 'error', 'the page crashed'));
    page.on('worker', (worker) =>
      worker.on('console', (m) => keep(worker.url().split('/').pop()!, m.type(), m.text())),
    );
    await page.goto(`${app.url}/#/models`);
    await waitForIsolatedControl(page);
    await page.getByRole('heading', { name: 'Models', level: 1 }).waitFor();
    say(`Chromium up, RSS ${GB(watch.latest)}; packs: ${PACKS.join(', ')}`);
  }, 10 * MINUTE);

  afterAll(async () => {
    watch?.stop();
    say(`\n${table(rows)}\n`);
    say(`The Models screen said:\n${sentences.map((s) => `- ${s}`).join('\n')}`);
    say(`whole run ${seconds(Date.now() - started)}`);
    if (consoleTail.length) say(`last console errors/warnings:\n${consoleTail.join('\n')}`);
    await close?.().catch(() => undefined);
    await app?.close();
    await host?.close();
  }, 5 * MINUTE);

  for (const which of PACKS) packPath(which);
});
