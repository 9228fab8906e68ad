/**
 * Peak browser memory while one full-size model is loaded from IndexedDB on
 * WebAssembly, read whole against read from disk weight by weight
 * (src/store/disk-bytes.ts, src/engine/pipelines/open-model.ts `readModel`),
 * for both layouts a pack can have: weights in an external-data file (as
 * the device's int8 copy writes models over 64 MB) and weights inside the
 * one .onnx file. The model is the shape-true SD-Turbo UNet in int8 (868
 * MB), stored in 4 MiB Blob chunks the way the download stores them; each
 * load runs in a fresh worker while the summed RSS of all Chromium
 * processes is sampled every 50 ms. Prints one line per load.
 *
 * Minutes long, so skipped unless GESSO_LOAD_MEMORY is set. The two int8
 * copies come from models/realsize (build the full-size pack first; see
 * realsize-full.test.ts):
 *
 *   /usr/bin/python3 models/realsize/int8_copy.py ~/.cache/gesso/realsize/sd-turbo-full ~/.cache/gesso/realsize/sd-turbo-full-int8
 *   /usr/bin/python3 models/realsize/int8_copy.py ~/.cache/gesso/realsize/sd-turbo-full ~/.cache/gesso/realsize/sd-turbo-full-int8-ext --layout external
 *   GESSO_LOAD_MEMORY=1 npx vitest run --project browser tests/browser/models/load-memory.test.ts
 *
 * GESSO_LOAD_MEMORY_REPEATS: loads per case (default 2).
 */

import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPersistent } from '../../helpers/browser';
import { descendants, rss } from './memory';

const RUN = Boolean(process.env.GESSO_LOAD_MEMORY);
/** models/realsize's cache, as tests/bench/real-size-native.mjs finds it. */
const cacheRoot = () =>
  process.env.GESSO_REALSIZE_CACHE || resolve(homedir(), '.cache', 'gesso', 'realsize');
const REPEATS = Number(process.env.GESSO_LOAD_MEMORY_REPEATS ?? 2);
const MiB = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

const LAYOUTS = [
  {
    name: 'weights in model.int8.onnx_data',
    dir: 'sd-turbo-full-int8-ext',
    files: ['unet/model.int8.onnx', 'unet/model.int8.onnx_data'],
  },
  { name: 'one file', dir: 'sd-turbo-full-int8', files: ['unet/model.int8.onnx'] },
];

let vite: ViteDevServer;
let close: () => Promise<void>;
let page: Page;

beforeAll(async () => {
  if (!RUN) return;
  vite = await createServer({
    logLevel: 'error',
    server: { port: 0, host: '127.0.0.1', fs: { allow: ['.', cacheRoot()] } },
  });
  await vite.listen();
  const launched = await launchPersistent();
  close = launched.close;
  page = await launched.context.newPage();
  await page.goto(`${new URL(vite.resolvedUrls!.local[0]!).origin}/tests/browser/store/blank.html`);
});

afterAll(async () => {
  await close?.();
  await vite?.close();
});

/** Runs one message in a fresh worker until it reports `until`; the worker is then ended. */
function inWorker(message: unknown, until: string): Promise<Record<string, number>> {
  return page.evaluate(
    ([message, until]) =>
      new Promise<Record<string, number>>((resolve, reject) => {
        const worker = new Worker('/tests/browser/models/load-memory-worker.ts', {
          type: 'module',
        });
        worker.onmessage = ({ data }) => {
          if (data.error) reject(new Error(data.error));
          if (data.done !== until) return;
          // Ended after a pause, so the sample taken just before sees what the load left.
          setTimeout(() => {
            worker.terminate();
            resolve(data);
          }, 1_500);
        };
        worker.postMessage(message);
      }),
    [message, until] as const,
  );
}

describe.skipIf(!RUN)('memory of loading a full-size model from IndexedDB (wasm)', () => {
  it('reads whole, and from disk weight by weight', async () => {
    for (const layout of LAYOUTS) {
      const dir = join(cacheRoot(), layout.dir);
      if (!layout.files.every((f) => existsSync(join(dir, f)))) {
        console.warn(`${layout.dir}: not built (see this file's header); skipped`);
        continue;
      }
      await inWorker(
        { type: 'store', files: layout.files.map((f) => [`/@fs${join(dir, f)}`, f]) },
        'store',
      );
      for (let i = 0; i < REPEATS; i++)
        for (const fromDisk of [false, true]) {
          await new Promise((done) => setTimeout(done, 3_000));
          const idle = rss(descendants());
          let peak = idle;
          let last = idle;
          const timer = setInterval(() => {
            last = rss(descendants());
            peak = Math.max(peak, last);
          }, 50);
          const result = await inWorker({ type: 'load', paths: layout.files, fromDisk }, 'load');
          clearInterval(timer);
          console.log(
            `${layout.name}, ${fromDisk ? 'from disk' : 'read whole'}: peak +${MiB(peak - idle)}, ` +
              `held after +${MiB(last - idle)} over ${MiB(idle)}; ` +
              `read ${(result.readMs! / 1000).toFixed(1)} s, session ${(result.sessionMs! / 1000).toFixed(1)} s`,
          );
          expect(peak).toBeGreaterThan(idle);
        }
    }
  }, 3_600_000);
});
