/**
 * Issue 16's faults, injected on the test pack host and driven through the
 * Models screen of the production build, each checked against what
 * IndexedDB and the host really saw: hosts that never answer or stop
 * sending, a slow link, going offline and back, a short body without a
 * length, update checks that tell a host when Models opens, a pack deleted
 * in another tab, and packs that claim a built-in pack's id. The full disk:
 * full-disk.test.ts (its own small profile).
 */

import { readFileSync } from 'node:fs';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
  untilStatus,
  waitForIsolatedControl,
  waitForStatus,
} from './models-page';
import { PackHost } from './pack-host';
import { closeSettings, openSettings } from '../create/create-page';

let server: StaticServer;
let host: PackHost;
let context: BrowserContext;
let close: () => Promise<void>;
let page: Page;

const demo = JSON.parse(readFileSync('dist/packs/demo/manifest.json', 'utf8')) as {
  id: string;
  name: string;
  version: string;
};

/** Short time limits, so a silent host is found out in seconds. */
const LIMITS = { connectTimeoutMs: 1500, stallTimeoutMs: 1500, manifestTimeoutMs: 2000 };
/** The shipped ones, put back after each test. */
const DEFAULT_LIMITS = {
  connectTimeoutMs: 20_000,
  stallTimeoutMs: 30_000,
  manifestTimeoutMs: 15_000,
};

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** What the matching elements say now, without waiting for one to appear (for polls). */
const text = async (locator: Locator) => (await locator.allTextContents()).join(' ');

beforeAll(async () => {
  server = await startStaticServer('dist');
  host = new PackHost(server);
  ({ context, close } = await launchPersistent());
  page = await openModels(context, server.url);
  // The demo pack installs itself on the first visit: let it finish before limits get short.
  await untilStatus(page, demo, 'Ready');
});

afterEach(async () => {
  await context.setOffline(false);
  await command(page, { ...LOOP_CONFIG, ...DEFAULT_LIMITS }).catch(() => {});
});

afterAll(async () => {
  await close?.();
  await server?.close();
});

describe('time limits and progress', () => {
  it('a host that never answers times out with a sentence, saying so while it retries', async () => {
    const pack = host.add('silent', [50_000]);
    pack.faults['f0.onnx'] = { hang: true };
    await addPack(page, pack);
    expect(await command(page, { ...LOOP_CONFIG, ...LIMITS })).toMatchObject({ ok: true });
    const started = Date.now();
    await page.getByRole('button', { name: `Download ${pack.name}` }).click();
    await expect
      .poll(() => text(card(page, pack).locator('.pack-note')), { timeout: 20_000 })
      .toMatch(
        /^f0\.onnx: the host did not answer within 1\.5 s; trying again \(attempt 2 of 5\)\.$/,
      );
    await waitForStatus(page, pack, 'Download failed', 60_000);
    const seconds = (Date.now() - started) / 1000;
    expect(await card(page, pack).getByRole('alert').textContent()).toBe(
      "Couldn't download f0.onnx: the host did not answer within 1.5 s. Check the connection and resume; the download continues where it stopped.",
    );
    expect(host.sentFor('silent', 'f0.onnx')).toHaveLength(5);
    console.log(`silent host: timeout sentence after ${seconds.toFixed(1)} s`);
    // 5 tries of 1.5 s and 0.1 + 0.2 + 0.4 + 0.8 s between them.
    expect(seconds).toBeGreaterThan(8);
    pack.faults = {};
    await page.getByRole('button', { name: `Retry ${pack.name}` }).click();
    await waitForStatus(page, pack, 'Ready');
    await expectStoredIntact(page, pack);
  });

  it('a body that stops sending is dropped after the stall limit and resumed by Range', async () => {
    const pack = host.add('stall', [200_000]);
    pack.faults['f0.onnx'] = { stallAfter: 5 * CHUNK + 1_000 };
    await addPack(page, pack);
    expect(await command(page, { ...LOOP_CONFIG, ...LIMITS })).toMatchObject({ ok: true });
    await page.getByRole('button', { name: `Download ${pack.name}` }).click();
    await waitForStatus(page, pack, 'Ready', 30_000);
    await expectStoredIntact(page, pack);
    expect(host.sentFor('stall', 'f0.onnx').map((s) => [s.range, s.status])).toEqual([
      [undefined, 200],
      [`bytes=${5 * CHUNK}-`, 206],
    ]);
  });

  it('"Add pack" comes back with a sentence when the manifest host never answers', async () => {
    const pack = host.add('nomanifest', [1_000]);
    pack.manifestHang = true;
    expect(await command(page, { ...LOOP_CONFIG, ...LIMITS })).toMatchObject({ ok: true });
    const button = page.getByRole('button', { name: 'Add pack' });
    await page.getByLabel('Manifest URL').fill(pack.manifestUrl);
    const started = Date.now();
    await button.click();
    expect(await page.locator('.add-pack [role=status]').textContent()).toBe(
      'Loading the manifest…',
    );
    const alert = page.locator('.add-pack [role=alert]');
    await expect
      .poll(() => text(alert), { timeout: 20_000 })
      .toContain(
        "Couldn't load the manifest: the host did not answer within 2 s. Check the address and the connection, then try again.",
      );
    console.log(
      `silent manifest host: sentence after ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(await button.isDisabled()).toBe(false);
    await page.getByLabel('Manifest URL').fill('');
  });

  it('on a slow link, progress counts bytes as they arrive, before a whole chunk is stored', async () => {
    const pack = host.add('trickle', [300_000]);
    pack.faults['f0.onnx'] = { pieceDelayMs: 150 }; // 4 KB per 150 ms: about 11 s
    await addPack(page, pack);
    // One chunk bigger than the file: nothing is stored until the last byte.
    expect(await command(page, { ...LOOP_CONFIG, chunkSize: 1024 * 1024 })).toMatchObject({
      ok: true,
    });
    await page.getByRole('button', { name: `Download ${pack.name}` }).click();
    const progress = card(page, pack).locator('.pack-progress p').first();
    await expect
      .poll(() => text(progress), { timeout: 10_000 })
      .toMatch(/^[1-9][\d.]* KB of 300 KB/);
    const shown = await progress.textContent();
    expect((await readStored(page, 'trickle'))?.files['f0.onnx']).toMatchObject({
      chunks: 0,
      bytesDone: 0,
    });
    console.log(`slow link: shows "${shown}" with 0 chunks stored`);
    await waitForStatus(page, pack, 'Ready', 60_000);
    expect((await readStored(page, 'trickle'))?.files['f0.onnx']).toMatchObject({
      chunks: 1,
      bytesDone: 300_000,
      done: true,
    });
  });

  it('back online after going offline, an interrupted download resumes by itself', async () => {
    const pack = host.add('online', [400_000]);
    pack.faults['f0.onnx'] = { pieceDelayMs: 40 };
    await addAndDownload(page, pack);
    await expect
      .poll(async () => (await readStored(page, 'online'))?.files['f0.onnx']?.chunks ?? 0)
      .toBeGreaterThan(2);
    await context.setOffline(true);
    host.dropConnections(); // the link goes, and the open request with it
    await waitForStatus(page, pack, 'Waiting for the connection', 30_000);
    expect(await card(page, pack).getByRole('status').last().textContent()).toMatch(
      /^You're offline, so the download of f0\.onnx stopped at [\d.]+ KB\. It continues by itself when the connection is back/,
    );
    const requests = host.sentFor('online', 'f0.onnx').length;
    pack.faults = {};
    await context.setOffline(false); // nobody presses anything
    await waitForStatus(page, pack, 'Ready', 60_000);
    await expectStoredIntact(page, pack);
    const sent = host.sentFor('online', 'f0.onnx');
    expect(sent).toHaveLength(requests + 1);
    expect(Number(/^bytes=(\d+)-$/.exec(sent.at(-1)!.range ?? '')?.[1]) % CHUNK).toBe(0);
  });

  it('a short body without Content-Length is the host sending less than the manifest says', async () => {
    const pack = host.add('short', [100_000]);
    pack.faults['f0.onnx'] = { noLength: true, endAfter: 60_000 };
    await addAndDownload(page, pack);
    await waitForStatus(page, pack, 'Download failed');
    expect(await card(page, pack).getByRole('alert').textContent()).toContain(
      "Couldn't download f0.onnx: the host sent 60.0 KB where the pack says 100 KB (60000 of 100000 bytes)",
    );
    expect(host.sentFor('short', 'f0.onnx')).toHaveLength(1); // not retried as a dropped connection
    expect((await readStored(page, 'short'))?.files['f0.onnx']?.chunks).toBe(3); // kept
  });
});

describe('update checks, privately', () => {
  it("opening Models does not ask a user pack's host each time; Check for updates does", async () => {
    const pack = host.add('private', [20_000]);
    await addAndDownload(page, pack);
    await waitForStatus(page, pack, 'Ready');
    const asked = () => host.sentFor('private', 'manifest.json').length;
    const afterAdding = asked();
    expect(afterAdding).toBe(1);
    for (let open = 0; open < 2; open++) {
      await page.reload();
      await waitForStatus(page, pack, 'Ready');
      await sleep(1_500);
    }
    expect(asked()).toBe(afterAdding);
    expect(await card(page, pack).textContent()).toContain('Checked for updates');

    host.add('private', [20_000], { version: '2.0.0' });
    await page.getByRole('button', { name: `Check ${pack.name} for updates` }).click();
    await waitForStatus(page, pack, /version 2\.0\.0 is available/);
    expect(asked()).toBe(afterAdding + 1);
    await page.getByRole('button', { name: 'Check all packs for updates' }).click();
    await expect.poll(asked).toBe(afterAdding + 2);
  });

  it('a check that finds nothing new says so; one whose host is silent says that', async () => {
    const pack = host.add('checked', [20_000]);
    await addAndDownload(page, pack);
    await waitForStatus(page, pack, 'Ready');
    await page.getByRole('button', { name: `Check ${pack.name} for updates` }).click();
    await expect
      .poll(() => text(card(page, pack).getByRole('status').last()))
      .toBe('Up to date: version 1.0.0 is the newest.');
    pack.manifestHang = true;
    expect(await command(page, { ...LOOP_CONFIG, ...LIMITS })).toMatchObject({ ok: true });
    await page.getByRole('button', { name: `Check ${pack.name} for updates` }).click();
    await expect
      .poll(() => text(card(page, pack).getByRole('alert')), { timeout: 20_000 })
      .toContain("Couldn't load the manifest: the host did not answer within 2 s.");
    await waitForStatus(page, pack, 'Ready');
  });
});

describe('two tabs', () => {
  it('a pack deleted in one tab while another uses it: the other tab says so', async () => {
    const pack = host.add('gone', [20_000]);
    await addAndDownload(page, pack);
    await waitForStatus(page, pack, 'Ready');
    const create = await context.newPage();
    await create.goto(`${server.url}/#/create`);
    await waitForIsolatedControl(create);
    await openSettings(create);
    const model = create.getByLabel('Model', { exact: true });
    await expect.poll(() => model.locator('option').allTextContents()).toContain(pack.name);
    await model.selectOption({ label: pack.name });
    await closeSettings(create);
    await page.getByRole('button', { name: `Delete ${pack.name}` }).click();
    await expect
      .poll(() => create.getByText('was deleted (in another tab or window)').allTextContents(), {
        timeout: 15_000,
      })
      .toContain(
        `"${pack.name}" was deleted (in another tab or window), so Create now uses "${demo.name}". Download it again in Models to use it.`,
      );
    await openSettings(create);
    expect(await model.inputValue()).toBe('');
    await create.close();
  });
});

describe('built-in pack ids are reserved', () => {
  it("refuses a user pack with a built-in pack's id, on the Models screen and in the service worker", async () => {
    await waitForStatus(page, demo, 'Ready');
    const before = await readStored(page, demo.id);
    expect(before?.installedVersion).toBe(demo.version);
    const impostor = host.add(demo.id, [30_000], { version: '9.0.0' });
    await page.getByLabel('Manifest URL').fill(impostor.manifestUrl);
    await page.getByRole('button', { name: 'Add pack' }).click();
    await expect
      .poll(() => text(page.locator('.add-pack [role=alert]')))
      .toContain(
        `This pack's id "${demo.id}" belongs to Gesso's built-in pack "${demo.name}", so a pack from another address can't use it`,
      );
    expect(await page.getByRole('button', { name: `Download ${impostor.name}` }).count()).toBe(0);
    await page.getByLabel('Manifest URL').fill('');
    // The worker does not trust the page, whatever origin it claims.
    for (const origin of ['user', 'builtin'])
      expect(
        await command(page, {
          cmd: 'download',
          manifest: impostor.manifest,
          manifestUrl: impostor.manifestUrl,
          licenseAccepted: true,
          origin,
        }),
      ).toMatchObject({ ok: false, error: { message: expect.stringContaining('belongs to') } });
    await sleep(1_000);
    expect(host.sentFor(demo.id, 'f0.onnx')).toHaveLength(0);
    expect(await readStored(page, demo.id)).toEqual(before);
  });

  it('a later built-in install never deletes a pack the user added with its id (stored before ids were reserved)', async () => {
    // What the old code left: the user's "demo-emoji" 9.0.0 installed over the demo pack.
    const impostor = host.packs.get(demo.id) ?? host.add(demo.id, [30_000], { version: '9.0.0' });
    const bytes = impostor.files['f0.onnx']!;
    await page.evaluate(
      async ({ manifest, manifestUrl, bytes }) => {
        const slot = `${manifest.id}@${manifest.version}`;
        const db = await new Promise<IDBDatabase>((done) => {
          const open = indexedDB.open('gesso-models');
          open.onsuccess = () => done(open.result);
        });
        const tx = db.transaction(['packs', 'files', 'chunks'], 'readwrite');
        tx.objectStore('packs').put(
          {
            id: manifest.id,
            manifestUrl,
            origin: 'builtin',
            manifest,
            licenseAccepted: false,
            installed: {
              version: manifest.version,
              slot,
              variant: 'main',
              manifest,
              unverified: [],
              bytes: bytes.length,
              installedAt: Date.now(),
            },
            job: null,
            addedAt: Date.now(),
          },
          manifest.id,
        );
        tx.objectStore('files').put(
          {
            slot,
            path: 'f0.onnx',
            url: manifestUrl.replace('manifest.json', 'f0.onnx'),
            size: bytes.length,
            sha256: manifest.files[0]!.sha256,
            chunkSize: bytes.length,
            chunksDone: 1,
            bytesDone: bytes.length,
            hashState: null,
            etag: null,
            lastModified: null,
            computedSha256: manifest.files[0]!.sha256,
            done: true,
          },
          [slot, 'f0.onnx'],
        );
        tx.objectStore('chunks').put(new Uint8Array(bytes), [slot, 'f0.onnx', 0]);
        await new Promise((done) => (tx.oncomplete = done));
        db.close();
      },
      { manifest: impostor.manifest, manifestUrl: impostor.manifestUrl, bytes: [...bytes] },
    );
    // A fresh service worker checks the built-in packs once more (as after an app update).
    const cdp = await context.newCDPSession(page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    const mark = server.requests.length;
    await page.reload();
    await waitForIsolatedControl(page);
    await expect
      .poll(
        () =>
          server.requests.slice(mark).filter((r) => r.path === '/packs/demo/manifest.json').length,
      )
      .toBeGreaterThanOrEqual(2); // the page's and the worker's
    await sleep(5_000);
    const demoFiles = server.requests
      .slice(mark)
      .filter((r) => r.path.startsWith('/packs/demo/') && !r.path.endsWith('manifest.json'));
    expect(demoFiles).toEqual([]);
    const record = await readRecord(page, demo.id);
    expect(record).toMatchObject({
      manifestUrl: impostor.manifestUrl,
      installed: { version: '9.0.0', slot: `${demo.id}@9.0.0` },
      job: null,
    });
    expect((await readStored(page, demo.id))?.files['f0.onnx']).toMatchObject({
      chunks: 1,
      bytesDone: bytes.length,
      done: true,
    });
  });
});
