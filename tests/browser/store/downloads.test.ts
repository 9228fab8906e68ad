/**
 * The service worker's download loop in real Chromium, against the
 * production build on a plain static host, with faults injected on test
 * packs (16 KiB chunks so small files span many chunks). Every test checks
 * what IndexedDB really holds, read with the raw IndexedDB API.
 */

import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPersistent } from '../../helpers/browser';
import { startStaticServer, type StaticServer } from '../../helpers/static-server';
import {
  addAndDownload,
  addPack,
  card,
  CHUNK,
  command,
  expectStoredIntact,
  LOOP_CONFIG,
  openModels,
  readRecord,
  readStored,
  waitForStatus,
} from './models-page';
import { PackHost } from './pack-host';
import { STORE_CHANNEL, type StoreEvent } from '../../../src/store/protocol';
import type { Progress } from '../../../src/ui/models/pack-status';

let server: StaticServer;
let host: PackHost;
let context: BrowserContext;
let close: () => Promise<void>;
let page: Page;

beforeAll(async () => {
  server = await startStaticServer('dist');
  host = new PackHost(server);
  ({ context, close } = await launchPersistent());
  page = await openModels(context, server.url);
});

afterAll(async () => {
  await close?.();
  await server?.close();
});

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('downloading packs in the service worker', () => {
  it('adds a pack from a URL, shows its size and licence first, installs it verified', async () => {
    const pack = host.add('plain', [100_000, 40_000]);
    await addPack(page, pack);
    const preview = page.locator('.add-pack').getByRole('article', { name: pack.name });
    await expect.poll(() => preview.textContent()).toContain('140 KB');
    expect(await preview.textContent()).toContain('MIT');
    expect(host.sentFor('plain', 'f0.onnx')).toHaveLength(0);
    await page.getByRole('button', { name: `Download ${pack.name}` }).click();
    await waitForStatus(page, pack, 'Ready');
    await expectStoredIntact(page, pack);
    // One plain GET, from the worker's own loop (cache: 'no-store' sends Cache-Control: no-cache).
    expect(host.sentFor('plain', 'f0.onnx').map((s) => [s.range, s.sent, s.fetchedBy])).toEqual([
      [undefined, 100_000, 'empty/cors/no-cache'],
    ]);
  });

  it('shows a restricted licence and allows Download only once it is accepted', async () => {
    const sdTurbo = card(page, { name: 'SD-Turbo' });
    expect(await sdTurbo.textContent()).toContain(
      'Stability AI non-commercial research licence (restricted)',
    );
    expect(await sdTurbo.textContent()).toContain(
      'Download size2.52 GB plus 2 files of unpublished size',
    );
    const download = page.getByRole('button', { name: 'Download SD-Turbo' });
    expect(await download.isDisabled()).toBe(true);
    await sdTurbo.getByLabel('I accept the licence terms of SD-Turbo').check();
    expect(await download.isDisabled()).toBe(false);
    await sdTurbo.getByLabel('I accept the licence terms of SD-Turbo').uncheck();
  });

  it('rejects a broken manifest with a precise message per fault', async () => {
    const pack = host.add('broken', [1_000]);
    (pack.manifest as unknown as Record<string, unknown>).pipeline = 'nope';
    pack.manifest.files[0]!.size = -5;
    await page.getByLabel('Manifest URL').fill(pack.manifestUrl);
    await page.getByRole('button', { name: 'Add pack' }).click();
    const alert = page.locator('.add-pack [role=alert]');
    await expect
      .poll(() => alert.textContent())
      .toContain('pipeline must be one of "demo", "sd-turbo", "lcm".');
    expect(await alert.textContent()).toContain('files[0].size must be at least 0.');
    await page.getByLabel('Manifest URL').fill('');
  });

  it('resumes a cut connection from the last whole chunk, fetching no byte twice beyond it', async () => {
    const pack = host.add('cut', [200_000]);
    const cutAt = 5 * CHUNK + 1_000;
    pack.faults['f0.onnx'] = { cutAfter: cutAt };
    await addAndDownload(page, pack);
    await waitForStatus(page, pack, 'Ready');
    await expectStoredIntact(page, pack);
    const sent = host.sentFor('cut', 'f0.onnx');
    expect(sent.map((s) => s.range)).toEqual([undefined, `bytes=${5 * CHUNK}-`]);
    const total = sent.reduce((n, s) => n + s.sent, 0);
    expect(total - 200_000).toBe(1_000); // only the partial chunk came twice
  });

  it('starts the file over when it changed on the server between cut and resume (new ETag)', async () => {
    const pack = host.add('changed', [150_000], { sha256: 'null' });
    pack.faults['f0.onnx'] = { cutAfter: 3 * CHUNK + 500, changeAfterCut: true };
    const before = pack.files['f0.onnx'];
    await addAndDownload(page, pack);
    await waitForStatus(page, pack, 'Ready');
    expect(pack.files['f0.onnx']).not.toEqual(before);
    await expectStoredIntact(page, pack); // the new bytes, whole
    expect(host.sentFor('changed', 'f0.onnx').map((s) => [s.range, s.status])).toEqual([
      [undefined, 200],
      [`bytes=${3 * CHUNK}-`, 206],
      [undefined, 200],
    ]);
  });

  it('resumes from another origin that hides Content-Range and ETag, with no preflight', async () => {
    const remote = await startStaticServer('dist');
    const remoteHost = new PackHost(remote, { cors: true });
    try {
      const pack = remoteHost.add('xorigin', [200_000]);
      pack.faults['f0.onnx'] = { cutAfter: 5 * CHUNK + 1_000 };
      await addAndDownload(page, pack);
      await waitForStatus(page, pack, 'Ready');
      await expectStoredIntact(page, pack);
      expect(remoteHost.sentFor('xorigin', 'f0.onnx').map((s) => [s.range, s.status])).toEqual([
        [undefined, 200],
        [`bytes=${5 * CHUNK}-`, 206],
      ]);
      expect(remoteHost.log.filter((s) => s.method !== 'GET')).toEqual([]);
    } finally {
      await remote.close();
    }
  });

  it('starts the file over when the server ignores Range', async () => {
    const pack = host.add('norange', [120_000]);
    pack.faults['f0.onnx'] = { cutAfter: 50_000, ignoreRange: true };
    await addAndDownload(page, pack);
    await waitForStatus(page, pack, 'Ready');
    await expectStoredIntact(page, pack);
    const sent = host.sentFor('norange', 'f0.onnx');
    expect(sent.map((s) => [s.range, s.status])).toEqual([
      [undefined, 200],
      [`bytes=${3 * CHUNK}-`, 200],
    ]);
  });

  it('fails on 404 with the reason and marks nothing ready', async () => {
    const pack = host.add('missing', [30_000, 30_000]);
    pack.faults['f1.onnx'] = { status: 404 };
    await addAndDownload(page, pack);
    await waitForStatus(page, pack, 'Download failed');
    expect(await card(page, pack).getByRole('alert').textContent()).toMatch(
      /f1\.onnx: the server has no such file \(HTTP 404\)/,
    );
    const stored = await readStored(page, 'missing');
    expect(stored?.installedVersion).toBeNull();
    expect(host.sentFor('missing', 'f1.onnx')).toHaveLength(1);
  });

  it('retries a 500, reports it, and completes on Retry once the server recovers', async () => {
    const pack = host.add('flaky', [50_000]);
    pack.faults['f0.onnx'] = { status: 500 };
    await addAndDownload(page, pack);
    await waitForStatus(page, pack, 'Download failed');
    expect(await card(page, pack).getByRole('alert').textContent()).toContain('HTTP 500');
    expect(host.sentFor('flaky', 'f0.onnx')).toHaveLength(5);
    expect((await readStored(page, 'flaky'))?.installedVersion).toBeNull();
    pack.faults = {};
    await page.getByRole('button', { name: `Retry ${pack.name}` }).click();
    await waitForStatus(page, pack, 'Ready');
    await expectStoredIntact(page, pack);
  });

  it('discards a file whose SHA-256 does not match, and never marks the pack ready', async () => {
    const pack = host.add('badhash', [40_000], { sha256: 'wrong' });
    await addAndDownload(page, pack);
    await waitForStatus(page, pack, 'Download failed');
    expect(await card(page, pack).getByRole('alert').textContent()).toContain(
      'did not match its published SHA-256',
    );
    const stored = await readStored(page, 'badhash');
    expect(stored?.installedVersion).toBeNull();
    expect(stored?.files['f0.onnx']).toMatchObject({ chunks: 0, bytesDone: 0, done: false });
  });

  it('records the computed hash of an unverified file', async () => {
    const pack = host.add('unverified', [20_000], { sha256: 'null' });
    await addAndDownload(page, pack);
    await waitForStatus(page, pack, 'Ready');
    await expectStoredIntact(page, pack);
    expect(await card(page, pack).textContent()).toContain('no published SHA-256');
  });

  it('shows rate and time left from a slow server; pause stops the traffic, resume continues by Range', async () => {
    const pack = host.add('slow', [400_000]);
    pack.faults['f0.onnx'] = { pieceDelayMs: 40 };
    await addAndDownload(page, pack);
    const progress = card(page, pack).locator('.pack-progress p');
    await expect
      .poll(() => progress.textContent(), { timeout: 20_000 })
      .toMatch(/KB of 400 KB · [\d.]+ KB\/s · \d+ s left/);
    await expect
      .poll(async () => (await readStored(page, 'slow'))?.files['f0.onnx']?.chunks ?? 0)
      .toBeGreaterThan(2);
    await page.getByRole('button', { name: `Pause ${pack.name}` }).click();
    await waitForStatus(page, pack, 'Paused');
    const sentAtPause = host.sentFor('slow', 'f0.onnx').reduce((n, s) => n + s.sent, 0);
    const chunks = (await readStored(page, 'slow'))!.files['f0.onnx']!.chunks;
    await sleep(1_000);
    expect(host.sentFor('slow', 'f0.onnx').reduce((n, s) => n + s.sent, 0)).toBe(sentAtPause);
    pack.faults = {};
    await page.getByRole('button', { name: `Resume ${pack.name}` }).click();
    await waitForStatus(page, pack, 'Ready');
    await expectStoredIntact(page, pack);
    expect(host.sentFor('slow', 'f0.onnx').map((s) => s.range)).toEqual([
      undefined,
      `bytes=${chunks * CHUNK}-`,
    ]);
  });

  it('cancel stops the download and drops its bytes', async () => {
    const pack = host.add('cancel', [300_000]);
    pack.faults['f0.onnx'] = { pieceDelayMs: 40 };
    await addAndDownload(page, pack);
    await expect
      .poll(async () => (await readStored(page, 'cancel'))?.files['f0.onnx']?.chunks ?? 0)
      .toBeGreaterThan(1);
    await page.getByRole('button', { name: `Cancel ${pack.name}` }).click();
    await waitForStatus(page, pack, 'Not downloaded');
    const sent = host.sentFor('cancel', 'f0.onnx').reduce((n, s) => n + s.sent, 0);
    expect(await readStored(page, 'cancel')).toMatchObject({
      installedVersion: null,
      jobState: null,
      files: {},
    });
    const chunks = await page.evaluate(
      () =>
        new Promise<number>((done) => {
          const open = indexedDB.open('gesso-models');
          open.onsuccess = () => {
            const request = open.result
              .transaction('chunks')
              .objectStore('chunks')
              .count(IDBKeyRange.bound(['cancel@1.0.0'], ['cancel@1.0.0', []]));
            request.onsuccess = () => done(request.result);
          };
        }),
    );
    expect(chunks).toBe(0);
    await sleep(500);
    expect(host.sentFor('cancel', 'f0.onnx').reduce((n, s) => n + s.sent, 0)).toBe(sent);
  });

  it('survives a reload and a service-worker restart mid-download, resuming from the last chunk', async () => {
    const pack = host.add('restart', [400_000]);
    pack.faults['f0.onnx'] = { pieceDelayMs: 40 };
    await addAndDownload(page, pack);
    await expect
      .poll(async () => (await readStored(page, 'restart'))?.files['f0.onnx']?.chunks ?? 0)
      .toBeGreaterThan(1);
    await page.reload();
    await waitForStatus(page, pack, 'Downloading');
    await expect
      .poll(() => card(page, pack).locator('.pack-progress p').textContent())
      .toMatch(/KB of 400 KB/);
    // The download did not restart with the page.
    expect(host.sentFor('restart', 'f0.onnx')).toHaveLength(1);

    const cdp = await context.newCDPSession(page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    const stoppedAt = (await readStored(page, 'restart'))!.files['f0.onnx']!.chunks;
    expect((await readStored(page, 'restart'))?.jobState).toBe('downloading');
    pack.faults = {};
    await page.reload(); // a navigation wakes the worker, which resumes interrupted downloads
    await waitForStatus(page, pack, 'Ready');
    await expectStoredIntact(page, pack);
    const sent = host.sentFor('restart', 'f0.onnx');
    expect(sent).toHaveLength(2);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(sent[1]!.range ?? '')?.[1]);
    expect(resumedAt % CHUNK).toBe(0);
    expect(resumedAt).toBeGreaterThanOrEqual(stoppedAt * CHUNK);
    expect(sent[0]!.sent - resumedAt).toBeLessThan(CHUNK + 8_192);
  });

  it('two tabs see the same download; commands from either act on the one job', async () => {
    const pack = host.add('twotabs', [300_000]);
    pack.faults['f0.onnx'] = { pieceDelayMs: 30 };
    const other = await context.newPage();
    await other.goto(`${server.url}/#/models`);
    await other.getByRole('heading', { name: 'Models', level: 1 }).waitFor();
    await addAndDownload(page, pack);
    await waitForStatus(other, pack, 'Downloading');
    await expect
      .poll(() => card(other, pack).locator('.pack-progress p').textContent())
      .toMatch(/KB of 300 KB/);
    // Starting it again from the second tab must not start a second download.
    expect(
      await command(other, {
        cmd: 'download',
        manifest: pack.manifest,
        manifestUrl: pack.manifestUrl,
        licenseAccepted: false,
        origin: 'user',
      }),
    ).toMatchObject({ ok: true });
    await other.getByRole('button', { name: `Pause ${pack.name}` }).click();
    await waitForStatus(page, pack, 'Paused');
    pack.faults = {};
    await page.getByRole('button', { name: `Resume ${pack.name}` }).click();
    await waitForStatus(other, pack, 'Ready');
    await waitForStatus(page, pack, 'Ready');
    await expectStoredIntact(other, pack);
    expect(host.sentFor('twotabs', 'f0.onnx')).toHaveLength(2);
    await other.close();
  });

  it('an update downloads beside the ready version and replaces it only when verified', async () => {
    const v1 = host.add('update', [30_000]);
    await addAndDownload(page, v1);
    await waitForStatus(page, v1, 'Ready');
    const v2 = host.add('update', [50_000], { version: '2.0.0', sha256: 'wrong' });
    // The host is asked when the user says so (opening Models asks at most daily).
    await page.getByRole('button', { name: `Check ${v2.name} for updates` }).click();
    await waitForStatus(page, v2, /version 2\.0\.0 is available/);
    await command(page, LOOP_CONFIG);
    await page.getByRole('button', { name: `Update ${v2.name}` }).click();
    await waitForStatus(page, v2, 'Ready; the update failed');
    expect((await readStored(page, 'update'))?.installedVersion).toBe('1.0.0');
    const fixed = host.add('update', [50_000], { version: '2.0.0' });
    await page.getByRole('button', { name: `Check ${fixed.name} for updates` }).click();
    await expect
      .poll(async () => (await readRecord(page, 'update'))?.manifest.files[0]?.sha256)
      .toBe(fixed.manifest.files[0]!.sha256);
    await page.reload();
    await page.getByRole('button', { name: `Cancel ${fixed.name}` }).click();
    await waitForStatus(page, fixed, /version 2\.0\.0 is available/);
    expect((await readStored(page, 'update'))?.installedVersion).toBe('1.0.0');
    await command(page, LOOP_CONFIG);
    await page.getByRole('button', { name: `Update ${fixed.name}` }).click();
    await waitForStatus(page, fixed, 'Ready');
    await expectStoredIntact(page, fixed);
  });

  it('hands a big fresh download to Background Fetch, then stores and verifies its response', async () => {
    const pack = host.add('bgfetch', [300_000, 100_000]);
    pack.faults['f0.onnx'] = { pieceDelayMs: 30 }; // 4 KB per 30 ms: about 2 s
    await addPack(page, pack);
    expect(
      await command(page, { ...LOOP_CONFIG, backgroundFetch: true, backgroundFetchMinBytes: 0 }),
    ).toMatchObject({ ok: true });
    await page.evaluate((channel) => {
      const seen: unknown[] = [];
      (globalThis as unknown as { storeEvents: unknown[] }).storeEvents = seen;
      new BroadcastChannel(channel).onmessage = (event) => seen.push(event.data);
    }, STORE_CHANNEL);
    await page.getByRole('button', { name: `Download ${pack.name}` }).click();
    await waitForStatus(page, pack, 'Ready');
    await expectStoredIntact(page, pack);
    // Pages see the browser's download, then the saving, each counting up to the pack's size.
    const progress = (
      (await page.evaluate(
        () => (globalThis as unknown as { storeEvents: unknown[] }).storeEvents,
      )) as StoreEvent[]
    ).filter((e) => e.type === 'progress' && e.packId === pack.id) as Progress[];
    const downloading = progress.filter((e) => !e.saving);
    const saving = progress.filter((e) => e.saving);
    expect(downloading.length).toBeGreaterThan(1);
    expect(saving.length).toBeGreaterThan(0);
    expect(progress.indexOf(saving[0]!)).toBe(downloading.length); // no download event after saving starts
    for (const phase of [downloading, saving]) {
      for (let i = 1; i < phase.length; i++)
        expect(phase[i]!.bytesDone).toBeGreaterThanOrEqual(phase[i - 1]!.bytesDone);
      expect(phase.every((e) => e.bytesTotal === 400_000)).toBe(true);
    }
    expect(downloading.some((e) => e.bytesDone > 0 && e.bytesDone < 400_000)).toBe(true);
    expect(downloading.every((e) => e.bytesDone <= 400_000)).toBe(true);
    // Fetched by the browser (one plain GET per file, without the no-cache
    // header the worker's loop sends with cache: 'no-store'). Chromium 150
    // sends Background Fetch requests with mode 'navigate', later ones 'cors'.
    const byBrowser = expect.stringMatching(/^empty\/(cors|navigate)\/$/);
    expect(host.sentFor('bgfetch', 'f0.onnx').map((s) => [s.range, s.sent, s.fetchedBy])).toEqual([
      [undefined, 300_000, byBrowser],
    ]);
    expect(host.sentFor('bgfetch', 'f1.onnx').map((s) => [s.range, s.sent, s.fetchedBy])).toEqual([
      [undefined, 100_000, byBrowser],
    ]);
    const ids = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      return (
        registration as unknown as { backgroundFetch: { getIds(): Promise<string[]> } }
      ).backgroundFetch.getIds();
    });
    expect(ids).toEqual([]);
    expect(await command(page, LOOP_CONFIG)).toMatchObject({ ok: true });
  });

  it('deletes a pack and its bytes', async () => {
    const pack = host.packs.get('plain')!;
    await page.getByRole('button', { name: `Delete ${pack.name}` }).click();
    await expect.poll(() => card(page, pack).count()).toBe(0);
    expect(await readStored(page, 'plain')).toBeNull();
    const chunks = await page.evaluate(
      () =>
        new Promise<number>((done) => {
          const open = indexedDB.open('gesso-models');
          open.onsuccess = () => {
            const request = open.result
              .transaction('chunks')
              .objectStore('chunks')
              .count(IDBKeyRange.bound(['plain@1.0.0'], ['plain@1.0.0', []]));
            request.onsuccess = () => done(request.result);
          };
        }),
    );
    expect(chunks).toBe(0);
  });
});
