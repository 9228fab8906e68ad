/**
 * The production build with a fixture pack served as the built-in demo pack
 * (/packs/demo/...), a blank test page, and a raw RPC client for the engine
 * worker (the same messages src/engine/client.ts sends).
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import type { PackManifest } from '../../../src/shared/pack-manifest';
import { startStaticServer, type StaticServer } from '../../helpers/static-server';

export const FIXTURES = resolve(__dirname, '../../fixtures/models');

export interface PackServerOptions {
  /** Fixture pack directory served at /packs/demo/. */
  packDir: string;
  patchManifest?: (manifest: PackManifest) => PackManifest;
}

export type PackServer = StaticServer & { setPack(options: PackServerOptions): void };

export async function serveDistWithPack(initial: PackServerOptions): Promise<PackServer> {
  let options = initial;
  const server = (await startStaticServer('dist')) as PackServer;
  server.setPack = (next) => {
    options = next;
  };
  server.intercept = (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/test-blank.html') {
      res
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end('<!doctype html><title>engine test</title>');
      return true;
    }
    if (path === '/test-fixtures/smoke.onnx') {
      res
        .writeHead(200, { 'Content-Type': 'application/octet-stream' })
        .end(readFileSync(join(FIXTURES, 'smoke.onnx')));
      return true;
    }
    if (!path.startsWith('/packs/demo/')) return false;
    const file = join(options.packDir, path.slice('/packs/demo/'.length));
    if (!file.startsWith(options.packDir) || !existsSync(file)) {
      res.writeHead(404).end();
      return true;
    }
    if (path.endsWith('/manifest.json') && options.patchManifest) {
      const manifest = options.patchManifest(
        JSON.parse(readFileSync(file, 'utf8')) as PackManifest,
      );
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(manifest));
      return true;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(readFileSync(file));
    return true;
  };
  return server;
}

/** The engine worker's built file, e.g. /assets/worker-abc123.js. */
export function workerAsset(): string {
  const name = readdirSync('dist/assets').find((f) => /^worker-.*\.js$/.test(f));
  if (!name) throw new Error('No engine worker in dist/assets: run `npx vite build` first.');
  return `/assets/${name}`;
}

/** Starts the engine worker in `page` and exposes window.engineCall(method, args) -> {result, progress[]}. */
export async function startWorker(page: Page): Promise<void> {
  await page.evaluate((url) => {
    const worker = new Worker(url, { type: 'module' });
    let nextId = 1;
    const pending = new Map<
      number,
      { resolve: (v: unknown) => void; reject: (e: unknown) => void; progress: unknown[] }
    >();
    worker.addEventListener('message', (event: MessageEvent) => {
      const message = event.data as { type: string; id: number; data?: unknown; error?: unknown };
      const entry = pending.get(message.id);
      if (!entry) return;
      if (message.type === 'progress') entry.progress.push(message.data);
      else {
        pending.delete(message.id);
        if (message.type === 'result')
          entry.resolve({ result: message.data, progress: entry.progress });
        else entry.reject(new Error(JSON.stringify(message.error)));
      }
    });
    (globalThis as unknown as { engineCall: unknown }).engineCall = (
      method: string,
      args: unknown,
    ) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject, progress: [] });
        worker.postMessage({ type: 'call', id, method, args });
      });
  }, workerAsset());
}

/* eslint-disable @typescript-eslint/no-explicit-any -- results are plain data checked by each test */
/** window.engineCall as installed by startWorker. */
export type EngineCall = (
  method: string,
  args: unknown,
) => Promise<{ result: any; progress: any[] }>;
/* eslint-enable @typescript-eslint/no-explicit-any */
