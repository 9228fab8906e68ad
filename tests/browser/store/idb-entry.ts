/** Loaded into a page by idb.test.ts (Vite dev server): the store's modules against real IndexedDB. */

import { createSHA256 } from 'hash-wasm';
import { prepareJob, runJob } from '../../../sw/downloads/download-pack';
import { IdbKV } from '../../../src/store/idb-kv';
import { ModelStore } from '../../../src/store/model-store';
import { openStoredPack } from '../../../src/store/pack-reader';
import { FakeServer } from '../../unit/store/fake-server';
import { testManifest } from '../../unit/store/fixtures';
import { kvContract } from '../../unit/store/kv-contract';

const server = new FakeServer();
const BASE = 'https://host.test/';

/** Incompressible bytes: IndexedDB compresses values, and the quota counts stored bytes. */
function noise(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65_536) crypto.getRandomValues(bytes.subarray(at, at + 65_536));
  return bytes;
}

async function sha(bytes: Uint8Array): Promise<string> {
  const h = await createSHA256();
  h.init();
  h.update(bytes);
  return h.digest('hex');
}

/** Serves a pack of random files from the in-page fake host and downloads it into database `db`. */
async function install(db: string, id: string, sizes: number[], chunkSize: number) {
  const kv = await IdbKV.open(db);
  try {
    const store = new ModelStore(kv);
    const files = [];
    for (const [i, size] of sizes.entries()) {
      const bytes = noise(size);
      server.files.set(`${BASE}${id}/f${i}.onnx`, { bytes });
      files.push({ path: `f${i}.onnx`, size, sha256: await sha(bytes) });
    }
    await prepareJob(store, {
      manifest: testManifest(id, files),
      manifestUrl: `${BASE}${id}/manifest.json`,
      variant: 'main',
      chunkSize,
      origin: 'user',
      licenseAccepted: false,
    });
    await runJob(
      {
        store,
        fetch: server.fetch,
        createHasher: createSHA256,
        signal: new AbortController().signal,
        retryDelayMs: 0,
      },
      id,
    );
    return { ok: true as const };
  } catch (error) {
    const e = error as { code?: string; message: string };
    return { ok: false as const, code: e.code ?? 'unknown', message: e.message };
  } finally {
    kv.close();
  }
}

/** SHA-256 of a stored file, read through openStoredPack (no network), or the error code. */
async function readBack(db: string, id: string, path: string) {
  const kv = await IdbKV.open(db);
  try {
    const source = await openStoredPack(id, kv);
    const bytes = await source.read(path);
    const expected = server.files.get(`${BASE}${id}/${path}`)!.bytes;
    return { same: (await sha(bytes)) === (await sha(expected)), size: bytes.length };
  } catch (error) {
    return { code: (error as { code?: string }).code ?? 'unknown' };
  } finally {
    kv.close();
  }
}

async function contract(db: string) {
  const kv = await IdbKV.open(db);
  try {
    return await kvContract(kv);
  } finally {
    kv.close();
  }
}

Object.assign(globalThis, { gessoStoreTest: { install, readBack, contract } });
