/**
 * Model store operations over the KV interface: pack records, file records
 * with resumable hash state, and chunk records. Each chunk is written in the
 * same transaction as the file record that counts it, so the two never
 * disagree after a crash.
 */

import { GessoError } from '../shared/errors';
import type { KV, Op } from './kv';
import { chunkCount } from './chunk-layout';
import type { FileRecord, InstalledVersion, PackRecord } from './records';
import { isStoredChunk, storedChunkBytes, toStoredChunk } from './stored-chunk';

/** Storage failures told apart from the rest (storage-errors.ts), here where the store's callers look. */
export { asStorageError, isQuotaError, storageFailure } from './storage-errors';

export class ModelStore {
  constructor(readonly kv: KV) {}

  listPacks(): Promise<PackRecord[]> {
    return this.kv.list<PackRecord>('packs', []);
  }
  getPack(id: string): Promise<PackRecord | undefined> {
    return this.kv.get<PackRecord>('packs', id);
  }
  putPack(pack: PackRecord): Promise<void> {
    return this.kv.put('packs', pack.id, pack);
  }
  /** Read-modify-write of one pack record (callers are serialised per pack by the download manager). */
  async updatePack(
    id: string,
    change: (pack: PackRecord) => PackRecord | null,
  ): Promise<PackRecord | null> {
    const pack = await this.getPack(id);
    if (!pack) return null;
    const next = change(pack);
    if (next) await this.putPack(next);
    return next;
  }

  getFile(slot: string, path: string): Promise<FileRecord | undefined> {
    return this.kv.get<FileRecord>('files', [slot, path]);
  }
  putFile(file: FileRecord): Promise<void> {
    return this.kv.put('files', [file.slot, file.path], file);
  }
  listFiles(slot: string): Promise<FileRecord[]> {
    return this.kv.list<FileRecord>('files', [slot]);
  }
  countChunks(slot: string, path: string): Promise<number> {
    return this.kv.count('chunks', [slot, path]);
  }

  /** Stores chunk `index` and the file record that now counts it, atomically. */
  async writeChunk(file: FileRecord, index: number, bytes: Uint8Array): Promise<void> {
    await this.kv.batch([
      {
        type: 'put',
        store: 'chunks',
        key: [file.slot, file.path, index],
        value: toStoredChunk(bytes),
      },
      { type: 'put', store: 'files', key: [file.slot, file.path], value: file },
    ]);
  }

  /** Drops a file's chunks and starts its record over (same transaction). */
  async resetFile(
    file: FileRecord,
    validators: Pick<FileRecord, 'etag' | 'lastModified'>,
  ): Promise<FileRecord> {
    const fresh: FileRecord = {
      ...file,
      ...validators,
      chunksDone: 0,
      bytesDone: 0,
      hashState: null,
      computedSha256: null,
      done: false,
    };
    await this.kv.batch([
      { type: 'delete-prefix', store: 'chunks', prefix: [file.slot, file.path] },
      { type: 'put', store: 'files', key: [file.slot, file.path], value: fresh },
    ]);
    return fresh;
  }

  /** A whole stored file; GessoError('pack-corrupt') when a chunk is missing or sizes disagree. */
  async readFile(file: FileRecord, signal?: AbortSignal): Promise<Uint8Array> {
    const size = file.size ?? file.bytesDone;
    if (!file.done || file.bytesDone !== size)
      throw corrupt(file.path, 'it was never completely downloaded');
    const out = new Uint8Array(size);
    const count = chunkCount(size, file.chunkSize);
    let at = 0;
    for (let index = 0; index < count; index++) {
      if (signal?.aborted) throw new GessoError('aborted', 'Cancelled.');
      const stored = await this.kv.get('chunks', [file.slot, file.path, index]);
      if (!isStoredChunk(stored))
        throw corrupt(file.path, `part ${index + 1} of ${count} is missing`);
      const chunk = await storedChunkBytes(stored);
      if (at + chunk.byteLength > size) throw corrupt(file.path, 'it is longer than recorded');
      out.set(chunk, at);
      at += chunk.byteLength;
    }
    if (at !== size) throw corrupt(file.path, 'it is shorter than recorded');
    return out;
  }

  /** Makes `installed` the pack's ready version and drops the one it replaces, in one transaction. */
  async install(id: string, installed: InstalledVersion): Promise<PackRecord> {
    const pack = await this.getPack(id);
    if (!pack)
      throw new GessoError('pack-missing', 'The pack was deleted while it was downloading.');
    const next: PackRecord = { ...pack, installed, job: null };
    const ops: Op[] = [{ type: 'put', store: 'packs', key: id, value: next }];
    const old = pack.installed?.slot;
    if (old && old !== installed.slot) ops.push(...slotDeletion(old));
    await this.kv.batch(ops);
    return next;
  }

  /** Deletes one slot's files and chunks (a cancelled download or a replaced version). */
  async deleteSlot(slot: string): Promise<void> {
    await this.kv.batch(slotDeletion(slot));
  }

  /** Deletes the pack record and every slot it owns, in one transaction. */
  async deletePack(id: string): Promise<void> {
    const pack = await this.getPack(id);
    const ops: Op[] = [{ type: 'delete', store: 'packs', key: id }];
    for (const slot of new Set([pack?.installed?.slot, pack?.job?.slot]))
      if (slot) ops.push(...slotDeletion(slot));
    await this.kv.batch(ops);
  }

  /** Bytes stored for a slot (complete chunks only). */
  async slotBytes(slot: string): Promise<number> {
    return (await this.listFiles(slot)).reduce((sum, f) => sum + f.bytesDone, 0);
  }
}

function slotDeletion(slot: string): Op[] {
  return [
    { type: 'delete-prefix', store: 'chunks', prefix: [slot] },
    { type: 'delete-prefix', store: 'files', prefix: [slot] },
  ];
}

function corrupt(path: string, why: string): GessoError {
  return new GessoError(
    'pack-corrupt',
    `The stored file ${path} is damaged (${why}). Delete the pack in Models and download it again.`,
  );
}
