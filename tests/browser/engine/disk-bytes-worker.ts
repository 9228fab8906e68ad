/**
 * Loaded as a module worker by disk-bytes.test.ts (Vite dev server): stores
 * the LCM fixture UNet's external data in IndexedDB as the download does,
 * then makes sessions from it read whole and read from disk through
 * DiskBytes, on the backend asked for, and reports both outputs.
 */

import { loadRuntime } from '../../../src/engine/ort-runtime';
import { createOrtSession } from '../../../src/engine/ort-session';
import type { CpuTensor } from '../../../src/engine/tensors';
import { DiskBytes, openDiskBytes } from '../../../src/store/disk-bytes';
import { IdbKV } from '../../../src/store/idb-kv';
import { ModelStore } from '../../../src/store/model-store';
import { newFileRecord, type FileRecord } from '../../../src/store/records';
import type { Backend } from '../../../src/shared/pack-manifest';

const FIXTURE = '/tests/fixtures/models/lcm/unet/model.external.onnx';
const DATA_NAME = 'model.external.onnx_data';

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Stores `bytes` as file `path` of slot 'disk-test' in chunks of `chunkSize`, through the store's own writes. */
async function storeFile(
  kv: IdbKV,
  path: string,
  bytes: Uint8Array,
  chunkSize: number,
  asBytes: boolean,
): Promise<FileRecord> {
  const store = new ModelStore(kv);
  let file = newFileRecord({
    slot: 'disk-test',
    path,
    url: path,
    size: bytes.byteLength,
    sha256: null,
    chunkSize,
  });
  await store.resetFile(file, { etag: null, lastModified: null });
  for (let index = 0; index * chunkSize < bytes.byteLength; index++) {
    const chunk = bytes.slice(index * chunkSize, (index + 1) * chunkSize);
    file = { ...file, chunksDone: index + 1, bytesDone: file.bytesDone + chunk.byteLength };
    if (asBytes)
      await kv.batch([
        { type: 'put', store: 'chunks', key: [file.slot, path, index], value: chunk },
        { type: 'put', store: 'files', key: [file.slot, path], value: file },
      ]);
    else await store.writeChunk(file, index, chunk);
  }
  file = { ...file, done: true };
  await store.putFile(file);
  return file;
}

/** Fixed inputs for the fixture UNet at an 8x8 latent. */
function feeds(): Record<string, CpuTensor> {
  const values = (n: number, seed: number) =>
    Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed));
  return {
    sample: { type: 'float32', dims: [1, 4, 8, 8], data: values(256, 1) },
    timestep: { type: 'int64', dims: [1], data: BigInt64Array.from([499n]) },
    encoder_hidden_states: { type: 'float32', dims: [1, 77, 32], data: values(77 * 32, 2) },
    timestep_cond: { type: 'float32', dims: [1, 256], data: values(256, 3) },
  };
}

async function run(backend: Backend, model: Uint8Array, data: Uint8Array): Promise<number[]> {
  const ort = await loadRuntime(backend);
  const session = await createOrtSession(ort, model, 'UNet', {
    backend,
    externalData: [{ path: DATA_NAME, data }],
  });
  try {
    const out = (await session.run(feeds())).out_sample as CpuTensor;
    return Array.from(out.data as Float32Array);
  } finally {
    await session.release();
  }
}

export interface DiskBytesReport {
  size: number;
  viewed: boolean;
  bytesRead: number;
  whole: number[];
  fromDisk: number[];
  oldChunksView: 'null' | 'view';
  missingChunk: string;
}

self.onmessage = async ({
  data: { backend, chunkSize },
}: MessageEvent<{ backend: Backend; chunkSize: number }>) => {
  try {
    const [model, data] = await Promise.all([fetchBytes(FIXTURE), fetchBytes(`${FIXTURE}_data`)]);
    const kv = await IdbKV.open(`gesso-disk-bytes-${backend}`);
    const file = await storeFile(kv, DATA_NAME, data, chunkSize, false);
    const view = await openDiskBytes(kv, file);
    const whole = await run(backend, model, data);
    const fromDisk = view ? await run(backend, model, view) : [];

    const old = await storeFile(kv, `old-${DATA_NAME}`, data, chunkSize, true);
    const oldView = await openDiskBytes(kv, old);

    await kv.delete('chunks', ['disk-test', DATA_NAME, 1]);
    const missingChunk = await openDiskBytes(kv, file).then(
      () => 'opened',
      (error: Error & { code?: string }) => `${error.code}: ${error.message}`,
    );
    kv.close();
    const report: DiskBytesReport = {
      size: data.byteLength,
      viewed: view instanceof DiskBytes,
      bytesRead: view?.bytesRead ?? 0,
      whole,
      fromDisk,
      oldChunksView: oldView ? 'view' : 'null',
      missingChunk,
    };
    postMessage({ report });
  } catch (error) {
    postMessage({ error: String((error as Error)?.stack ?? error) });
  }
};
