/**
 * External data read from disk while onnxruntime-web builds the session
 * (src/store/disk-bytes.ts), in a real Chromium worker against real
 * IndexedDB: the LCM fixture UNet's weights stored in 1,000-byte chunks (so
 * most tensors span chunks) give the same output, bit for bit, as the same
 * weights handed over whole, on WebAssembly and on WebGPU (SwiftShader),
 * and onnxruntime reads every byte through the view. This is the check that
 * onnxruntime still reads external data through `byteLength` and
 * `subarray` only; an upgrade that changes that fails here.
 */

import type { BrowserContext, Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPersistent } from '../../helpers/browser';
import type { DiskBytesReport } from './disk-bytes-worker';

let vite: ViteDevServer;
let context: BrowserContext;
let close: () => Promise<void>;
let page: Page;

beforeAll(async () => {
  vite = await createServer({ logLevel: 'error', server: { port: 0, host: '127.0.0.1' } });
  await vite.listen();
  const origin = new URL(vite.resolvedUrls!.local[0]!).origin;
  ({ context, close } = await launchPersistent());
  page = await context.newPage();
  await page.goto(`${origin}/tests/browser/store/blank.html`);
});

afterAll(async () => {
  await close?.();
  await vite?.close();
});

function inWorker(backend: 'wasm' | 'webgpu'): Promise<DiskBytesReport> {
  return page.evaluate(
    (backend) =>
      new Promise<DiskBytesReport>((resolve, reject) => {
        const worker = new Worker('/tests/browser/engine/disk-bytes-worker.ts', { type: 'module' });
        worker.onmessage = ({ data }) => {
          worker.terminate();
          if (data.error) reject(new Error(data.error));
          else resolve(data.report);
        };
        worker.onerror = (event) => reject(new Error(event.message));
        worker.postMessage({ backend, chunkSize: 1000 });
      }),
    backend,
  );
}

describe('external data read from disk (DiskBytes)', () => {
  for (const backend of ['wasm', 'webgpu'] as const)
    it(`gives the same session as the whole file, on ${backend}`, async () => {
      const report = await inWorker(backend);
      expect(report.viewed).toBe(true);
      expect(report.fromDisk.length).toBe(4 * 8 * 8);
      expect(report.fromDisk).toEqual(report.whole);
      expect(report.whole.some((v) => v !== 0)).toBe(true);
      // Every weight came through the view (the fixture's data has no padding).
      expect(report.bytesRead).toBe(report.size);
      // Chunks written before chunks were Blobs: no view, so the loader reads the file whole.
      expect(report.oldChunksView).toBe('null');
      expect(report.missingChunk).toMatch(/^pack-corrupt: .*\(it has 11 parts, not 12\)/);
    });
});
