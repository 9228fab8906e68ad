/**
 * Loaded as a module worker by load-memory.test.ts (Vite dev server): stores
 * one model's files in IndexedDB as the download does (4 MiB Blob chunks),
 * then opens it the way the engine does, either reading each file whole
 * (the path for files fetched over HTTP, and the engine's path before
 * store/disk-bytes.ts) or through `readModel` over the stored pack.
 */

import { loadRuntime } from '../../../src/engine/ort-runtime';
import { createOrtSession } from '../../../src/engine/ort-session';
import { readModel } from '../../../src/engine/pipelines/open-model';
import type { PackManifest } from '../../../src/shared/pack-manifest';
import type { PackSource } from '../../../src/shared/pack-source';
import { DiskBytes, openDiskBytes } from '../../../src/store/disk-bytes';
import { IdbKV } from '../../../src/store/idb-kv';
import { ModelStore } from '../../../src/store/model-store';
import { newFileRecord, type FileRecord } from '../../../src/store/records';

const CHUNK = 4 * 1024 * 1024;
const SLOT = 'load-memory';

async function storeUrl(store: ModelStore, url: string, path: string): Promise<void> {
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`${url}: HTTP ${response.status}`);
  const size = Number(response.headers.get('content-length'));
  let file: FileRecord = newFileRecord({
    slot: SLOT,
    path,
    url,
    size,
    sha256: null,
    chunkSize: CHUNK,
  });
  await store.resetFile(file, { etag: null, lastModified: null });
  const reader = response.body.getReader();
  const pending = new Uint8Array(CHUNK);
  let used = 0;
  const flush = async () => {
    file = { ...file, chunksDone: file.chunksDone + 1, bytesDone: file.bytesDone + used };
    await store.writeChunk(file, file.chunksDone - 1, pending.slice(0, used));
    used = 0;
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (let at = 0; at < value.length;) {
      const take = Math.min(CHUNK - used, value.length - at);
      pending.set(value.subarray(at, at + take), used);
      used += take;
      at += take;
      if (used === CHUNK) await flush();
    }
  }
  if (used) await flush();
  await store.putFile({ ...file, done: true });
}

/** The stored files as a pack source, with `readOnDisk` only when `fromDisk`. */
function source(store: ModelStore, paths: string[], fromDisk: boolean): PackSource {
  const record = async (path: string) => (await store.getFile(SLOT, path))!;
  const files = paths.map((path) => ({ path, size: 0, sha256: null }));
  return {
    manifest: { files } as unknown as PackManifest,
    read: async (path) => store.readFile(await record(path)),
    ...(fromDisk
      ? { readOnDisk: async (path: string) => openDiskBytes(store.kv, await record(path)) }
      : {}),
  };
}

self.onmessage = async ({ data }: MessageEvent) => {
  try {
    const store = new ModelStore(await IdbKV.open('gesso-load-memory'));
    if (data.type === 'store') {
      for (const [url, path] of data.files as [string, string][]) await storeUrl(store, url, path);
      postMessage({ done: 'store' });
      return;
    }
    const ort = await loadRuntime('wasm');
    postMessage({ done: 'runtime' });
    const paths = data.paths as string[];
    const pack = source(store, paths, data.fromDisk);
    // Sizes as the installed manifest records them (readModel picks the path by size).
    for (const file of pack.manifest.files)
      file.size = (await store.getFile(SLOT, file.path))!.size!;
    const started = performance.now();
    const [bytes, externalData] = await readModel(pack, paths[0]!);
    const read = performance.now();
    await createOrtSession(ort, bytes, 'UNet', {
      backend: 'wasm',
      ...(externalData ? { externalData } : {}),
      consumeBytes: true,
    });
    for (const file of externalData ?? []) if (file.data instanceof DiskBytes) file.data.release();
    postMessage({ done: 'load', readMs: read - started, sessionMs: performance.now() - read });
  } catch (error) {
    postMessage({ error: String((error as Error)?.stack ?? error) });
  }
};
