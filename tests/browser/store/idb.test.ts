/**
 * The store's modules in a real Chromium page (Vite dev server), against
 * real IndexedDB: the storage contract that MemoryKV meets in Node, and a
 * real QuotaExceededError mid-download (CDP Storage.overrideQuotaForOrigin).
 *
 * Measured with Chromium 156: the quota override is enforced on IndexedDB
 * writes made by the page only when set before the origin first uses
 * IndexedDB (later overrides are ignored), never on the service worker's
 * writes, and navigator.storage.estimate() keeps reporting usage + ~10 GiB.
 * So the override is set first thing, and the quota case runs the same
 * download code here in the page rather than in the worker.
 */

import type { BrowserContext, Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPersistent } from '../../helpers/browser';

type Api = {
  install(
    db: string,
    id: string,
    sizes: number[],
    chunkSize: number,
  ): Promise<{ ok: boolean; code?: string; message?: string }>;
  readBack(
    db: string,
    id: string,
    path: string,
  ): Promise<{ same?: boolean; size?: number; code?: string }>;
  contract(db: string): Promise<string[]>;
};

let vite: ViteDevServer;
let context: BrowserContext;
let close: () => Promise<void>;
let page: Page;
let origin: string;

type Fn = (...a: unknown[]) => Promise<unknown>;
function api<K extends keyof Api>(name: K, ...args: Parameters<Api[K]>): ReturnType<Api[K]> {
  const call = ([n, a]: [string, unknown[]]) =>
    (globalThis as unknown as { gessoStoreTest: Record<string, Fn> }).gessoStoreTest[n]!(...a);
  const arg: [string, unknown[]] = [name, args];
  return page.evaluate(call, arg) as ReturnType<Api[K]>;
}

beforeAll(async () => {
  vite = await createServer({ logLevel: 'error', server: { port: 0, host: '127.0.0.1' } });
  await vite.listen();
  origin = new URL(vite.resolvedUrls!.local[0]!).origin;
  ({ context, close } = await launchPersistent());
  page = await context.newPage();
  // A blank page of the origin, not the app: the app opens its databases as it starts.
  await page.goto(`${origin}/tests/browser/store/blank.html`);
  const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
  expect(usage).toBe(0);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 1_500_000 });
  await page.addScriptTag({
    type: 'module',
    content: "import '/tests/browser/store/idb-entry.ts';",
  });
  await page.waitForFunction(() => 'gessoStoreTest' in globalThis);
});

afterAll(async () => {
  await close?.();
  await vite?.close();
});

describe('the model store on real IndexedDB', () => {
  it('IdbKV meets the storage contract (MemoryKV meets it in Node)', async () => {
    expect(await api('contract', 'gesso-contract-test')).toEqual([
      'get/put',
      'bytes',
      'list/count',
      'batch',
      'delete',
    ]);
  });

  it('a quota error mid-download fails only that pack as storage-full; the ready pack stays readable', async () => {
    const db = 'gesso-quota-test';
    expect(await api('install', db, 'keep', [200_000, 50_000], 16_384)).toMatchObject({ ok: true });
    const big = await api('install', db, 'big', [3_000_000], 65_536);
    expect(big).toMatchObject({ ok: false, code: 'storage-full' });
    expect(big.message).toMatch(
      /^The device ran out of storage space while saving f0\.onnx: Test pack big needs \d+(\.\d+)? MB more\./,
    );
    expect(await api('readBack', db, 'keep', 'f0.onnx')).toEqual({ same: true, size: 200_000 });
    expect(await api('readBack', db, 'keep', 'f1.onnx')).toEqual({ same: true, size: 50_000 });
    expect(await api('readBack', db, 'big', 'f0.onnx')).toEqual({ code: 'pack-missing' });
    const used = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
    expect(used).toBeGreaterThan(1_000_000); // it really filled the quota
    expect(used).toBeLessThan(1_600_000); // and stopped there
  });
});
