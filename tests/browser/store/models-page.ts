/** Driving the Models screen of the production build, and reading IndexedDB directly (not through Gesso's code). */

import { createHash } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { PackRecord } from '../../../src/store/records';
import type { TestPack } from './pack-host';
import { waitForIsolatedControl } from '../../helpers/browser';

export { waitForIsolatedControl };

export const CHUNK = 16 * 1024;
/** Small chunks, short retry delays, and the service worker's own fetch loop (not Background Fetch). */
export const LOOP_CONFIG = {
  cmd: 'configure',
  chunkSize: CHUNK,
  retryDelayMs: 100,
  backgroundFetch: false,
};

/**
 * Calls the service worker's store straight (`cmd` names the method, the
 * other fields are its arguments) and returns its answer as {ok, result} or
 * {ok: false, error}.
 */
export async function command(
  page: Page,
  cmd: Record<string, unknown>,
): Promise<{ ok: boolean; result?: unknown; error?: { message: string } }> {
  return page.evaluate(async ({ cmd: method, ...fields }) => {
    const registration = await navigator.serviceWorker.ready;
    const channel = new MessageChannel();
    const answer = new Promise<{ ok: boolean; result?: unknown; error?: { message: string } }>(
      (done) => {
        channel.port1.onmessage = (event) => {
          const message = event.data as {
            type: string;
            data?: unknown;
            error?: { message: string };
          };
          if (message.type === 'result') done({ ok: true, result: message.data });
          else if (message.type === 'error') done({ ok: false, error: message.error! });
        };
      },
    );
    const args = method === 'configure' || Object.keys(fields).length > 0 ? fields : undefined;
    registration.active!.postMessage(
      { type: 'gesso-store', call: { type: 'call', id: 1, method, args } },
      [channel.port2],
    );
    return answer;
  }, cmd);
}

export async function openModels(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${url}/#/models`);
  await waitForIsolatedControl(page);
  await page.getByRole('heading', { name: 'Models', level: 1 }).waitFor();
  expect(await command(page, LOOP_CONFIG)).toMatchObject({ ok: true });
  return page;
}

export function card(page: Page, pack: Pick<TestPack, 'name'>) {
  return page.locator('.pack-list').getByRole('article', { name: pack.name, exact: true });
}

export async function addPack(page: Page, pack: TestPack): Promise<void> {
  await page.getByLabel('Manifest URL').fill(pack.manifestUrl);
  await page.getByRole('button', { name: 'Add pack' }).click();
  await page.getByRole('button', { name: `Download ${pack.name}` }).waitFor();
}

export async function addAndDownload(page: Page, pack: TestPack): Promise<void> {
  // The worker forgets its settings when the browser stops it between tests.
  expect(await command(page, LOOP_CONFIG)).toMatchObject({ ok: true });
  await addPack(page, pack);
  await page.getByRole('button', { name: `Download ${pack.name}` }).click();
  await card(page, pack).waitFor();
}

export async function waitForStatus(
  page: Page,
  pack: Pick<TestPack, 'name'>,
  status: string | RegExp,
  timeout = 60_000,
) {
  await expect
    .poll(
      async () =>
        (await card(page, pack)
          .locator('.pack-status')
          .textContent()
          .catch(() => null)) ?? '',
      {
        timeout,
        interval: 200,
      },
    )
    .toMatch(typeof status === 'string' ? new RegExp(`^${status}$`) : status);
}

/** A pack record as stored (raw IndexedDB), or null. */
export async function readRecord(page: Page, packId: string): Promise<PackRecord | null> {
  return page.evaluate(async (id) => {
    const db = await new Promise<IDBDatabase>((done, fail) => {
      const open = indexedDB.open('gesso-models');
      open.onsuccess = () => done(open.result);
      open.onerror = () => fail(open.error);
    });
    const record = await new Promise<PackRecord | undefined>((done, fail) => {
      const request = db.transaction('packs').objectStore('packs').get(id);
      request.onsuccess = () => done(request.result as PackRecord | undefined);
      request.onerror = () => fail(request.error);
    });
    db.close();
    return record ?? null;
  }, packId);
}

/** Like waitForStatus, for hooks (beforeAll), where expect.poll is not allowed. */
export async function untilStatus(
  page: Page,
  pack: Pick<TestPack, 'name'>,
  status: string,
  timeout = 120_000,
): Promise<void> {
  const end = Date.now() + timeout;
  let last = '';
  while (Date.now() < end) {
    last =
      (await card(page, pack)
        .locator('.pack-status')
        .textContent({ timeout: 1_000 })
        .catch(() => null)) ?? '';
    if (last === status) return;
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error(`${pack.name} did not become "${status}" (last: "${last}")`);
}

export interface StoredPack {
  installedVersion: string | null;
  jobState: string | null;
  jobError: string | null;
  /** Per path: SHA-256 of the stored chunks concatenated, chunk count, the file record's bytesDone. */
  files: Record<string, { sha256: string; chunks: number; bytesDone: number; done: boolean }>;
}

/** Reads a pack's record and chunks with the raw IndexedDB API. */
export async function readStored(page: Page, packId: string): Promise<StoredPack | null> {
  const raw = await page.evaluate(async (id) => {
    const db = await new Promise<IDBDatabase>((done, fail) => {
      const open = indexedDB.open('gesso-models');
      open.onsuccess = () => done(open.result);
      open.onerror = () => fail(open.error);
    });
    const get = <T>(store: string, key: IDBValidKey) =>
      new Promise<T>((done, fail) => {
        const request = db.transaction(store).objectStore(store).get(key);
        request.onsuccess = () => done(request.result as T);
        request.onerror = () => fail(request.error);
      });
    const all = <T>(store: string, range: IDBKeyRange) =>
      new Promise<T[]>((done, fail) => {
        const request = db.transaction(store).objectStore(store).getAll(range);
        request.onsuccess = () => done(request.result as T[]);
        request.onerror = () => fail(request.error);
      });
    type Rec = {
      installed: { slot: string; version: string } | null;
      job: { slot: string; state: string; error: { message: string } | null } | null;
    };
    const pack = await get<Rec | undefined>('packs', id);
    if (!pack) return null;
    const slot = pack.installed?.slot ?? pack.job?.slot;
    const files: Record<
      string,
      { bytes: number[]; chunks: number; bytesDone: number; done: boolean }
    > = {};
    if (slot) {
      const records = await all<{ path: string; bytesDone: number; done: boolean }>(
        'files',
        IDBKeyRange.bound([slot], [slot, []]),
      );
      for (const f of records) {
        // Chunks are Blobs (older stores: bytes).
        const stored = await all<Blob | Uint8Array>(
          'chunks',
          IDBKeyRange.bound([slot, f.path], [slot, f.path, []]),
        );
        const chunks = await Promise.all(
          stored.map(async (c) => (c instanceof Blob ? new Uint8Array(await c.arrayBuffer()) : c)),
        );
        const joined = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
        let at = 0;
        for (const c of chunks) {
          joined.set(c, at);
          at += c.byteLength;
        }
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', joined));
        files[f.path] = {
          bytes: [...digest],
          chunks: chunks.length,
          bytesDone: f.bytesDone,
          done: f.done,
        };
      }
    }
    db.close();
    return {
      installedVersion: pack.installed?.version ?? null,
      jobState: pack.job?.state ?? null,
      jobError: pack.job?.error?.message ?? null,
      files,
    };
  }, packId);
  if (!raw) return null;
  const files: StoredPack['files'] = {};
  for (const [path, f] of Object.entries(raw.files))
    files[path] = {
      sha256: Buffer.from(f.bytes).toString('hex'),
      chunks: f.chunks,
      bytesDone: f.bytesDone,
      done: f.done,
    };
  return { ...raw, files };
}

/** Every file of the pack is stored whole and hashes to the bytes the host serves. */
export async function expectStoredIntact(page: Page, pack: TestPack): Promise<void> {
  const stored = await readStored(page, pack.id);
  expect(stored?.installedVersion).toBe(pack.manifest.version);
  for (const [path, bytes] of Object.entries(pack.files)) {
    expect(stored!.files[path], path).toEqual({
      sha256: createHash('sha256').update(bytes).digest('hex'),
      chunks: Math.ceil(bytes.length / CHUNK),
      bytesDone: bytes.length,
      done: true,
    });
  }
}
