/**
 * The engine's way in: a ready pack's files read straight from IndexedDB,
 * with no network. Works in the page, a worker or the service worker.
 */

import { GessoError } from '../shared/errors';
import type { PackSource } from '../shared/pack-source';
import { openDiskBytes } from './disk-bytes';
import { openModelDb } from './idb-kv';
import type { KV } from './kv';
import { ModelStore } from './model-store';
import type { FileRecord } from './records';

/**
 * The installed version of `packId`. Its manifest lists only the installed
 * variant and the files stored for it, every size filled in.
 * Throws GessoError('pack-missing') when the pack is not ready, and
 * read() throws GessoError('pack-corrupt') when stored data is damaged.
 */
export async function openStoredPack(packId: string, kv?: KV): Promise<PackSource> {
  const store = new ModelStore(kv ?? (await openModelDb()));
  const pack = await store.getPack(packId);
  const installed = pack?.installed;
  if (!pack || !installed) {
    const name = pack?.manifest.name ?? packId;
    const why = pack?.job
      ? pack.job.state === 'failed'
        ? `its download failed: ${pack.job.error?.message ?? 'unknown reason'}`
        : 'it is still downloading'
      : 'it is not downloaded';
    throw new GessoError(
      'pack-missing',
      `The model pack "${name}" can't be used yet: ${why}. Open Models to download it.`,
    );
  }
  const paths = new Set(installed.manifest.files.map((f) => f.path));
  const record = async (path: string): Promise<FileRecord> => {
    if (!paths.has(path))
      throw new GessoError(
        'pack-missing',
        `The model pack "${installed.manifest.name}" has no file ${path} in its installed variant.`,
      );
    const file = await store.getFile(installed.slot, path);
    if (!file)
      throw new GessoError(
        'pack-corrupt',
        `The stored file ${path} is gone (the pack may have been updated or deleted meanwhile). Reload, or download the pack again in Models.`,
      );
    return file;
  };
  return {
    manifest: installed.manifest,
    async read(path: string, signal?: AbortSignal): Promise<Uint8Array> {
      return store.readFile(await record(path), signal);
    },
    async readOnDisk(path: string): Promise<Uint8Array | null> {
      return openDiskBytes(store.kv, await record(path));
    },
  };
}
