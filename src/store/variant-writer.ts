/**
 * Variants made on the device (an int8 copy of an installed variant) stored
 * as ordinary pack files: each file written chunk by chunk under the pack's
 * slot with its size and SHA-256, then ONE transaction adds the variant to
 * the installed manifest. Until that transaction, the new files are orphans
 * (files under the installed slot that its manifest does not list): the
 * engine never sees them, and the next attempt (or removeOrphans) deletes
 * them. A half-written variant is therefore never marked ready, whatever
 * stops the work (a reload, a closed tab, a full disk, Cancel).
 */

import type { ModelMeasure } from '../shared/measured-needs';
import { createSHA256, type IHasher } from 'hash-wasm';
import { openDB, type IDBPDatabase } from 'idb';
import { GessoError } from '../shared/errors';
import type { PackFile, PackVariant } from '../shared/pack-manifest';
import { DEFAULT_CHUNK_SIZE, chunkCount } from './chunk-layout';
import { openModelDb } from './idb-kv';
import type { KV, KeyPart, Op } from './kv';
import { asStorageError } from './storage-errors';
import { toStoredChunk } from './stored-chunk';
import {
  DB_NAME,
  newFileRecord,
  type FileRecord,
  type InstalledVersion,
  type PackRecord,
} from './records';
import { filesForVariant } from './validate-manifest';

/** A device-made variant's id: the source variant's id and this suffix ("fp16-int8-device"). */
export const DEVICE_VARIANT_SUFFIX = '-int8-device';

export function deviceVariantId(from: string): string {
  return `${from}${DEVICE_VARIANT_SUFFIX}`;
}

export function isDeviceVariant(variant: Pick<PackVariant, 'id'>): boolean {
  return variant.id.endsWith(DEVICE_VARIANT_SUFFIX);
}

/** The URL recorded for a file made on the device (never fetched: it says where it came from). */
export function deviceFileUrl(sourcePath: string): string {
  return `gesso-device:${sourcePath}`;
}

// ---------------------------------------------------------------------------
// One transaction over a pack record

/**
 * Given the pack record as the transaction reads it, the writes to make (or
 * a throw, which changes nothing). Must be synchronous: IndexedDB commits a
 * transaction that waits on anything else.
 */
export type PackPlan = (pack: PackRecord | undefined) => Op[];

/** Reads a pack record and applies what `plan` makes of it, all or nothing, with no write in between. */
export type PackTransaction = (packId: string, plan: PackPlan) => Promise<void>;

/**
 * Over any KV: get, then batch. Atomic only where nothing else writes in
 * between (the in-memory KV in one Node process): use idbPackTransaction on
 * IndexedDB, where the service worker writes pack records too.
 */
export function kvPackTransaction(kv: KV): PackTransaction {
  return async (packId, plan) => {
    await kv.batch(plan(await kv.get<PackRecord>('packs', packId)));
  };
}

let raw: Promise<IDBPDatabase> | null = null;

/** A second connection to the model database, for transactions that read and write (the KV's batch only writes). */
function openRaw(): Promise<IDBPDatabase> {
  return (raw ??= (async () => {
    await openModelDb(); // creates the stores if this is the first use
    const db = await openDB(DB_NAME, undefined, {
      blocking() {
        db.close();
        raw = null;
      },
      terminated() {
        raw = null;
      },
    });
    return db;
  })().catch((error: unknown) => {
    raw = null;
    throw error;
  }));
}

function prefixRange(prefix: KeyPart[]): IDBKeyRange {
  return IDBKeyRange.bound(prefix, [...prefix, []]);
}

/** Over IndexedDB: the pack record is read and the plan's writes made in one readwrite transaction. */
export const idbPackTransaction: PackTransaction = async (packId, plan) => {
  const db = await openRaw();
  const tx = db.transaction(['packs', 'files', 'chunks'], 'readwrite');
  const done = tx.done;
  try {
    const pack = (await tx.objectStore('packs').get(packId)) as PackRecord | undefined;
    const ops = plan(pack);
    const requests = ops.map((op) => {
      const store = tx.objectStore(op.store);
      if (op.type === 'put') return store.put(op.value, op.key);
      if (op.type === 'delete') return store.delete(op.key);
      return store.delete(prefixRange(op.prefix));
    });
    await Promise.all([...requests, done]);
  } catch (error) {
    try {
      tx.abort();
    } catch {
      // already finished or aborted
    }
    await done.catch(() => {});
    throw error;
  }
};

// ---------------------------------------------------------------------------
// Orphans

/** Paths stored under the installed slot that its manifest does not list (an interrupted conversion's files). */
export function orphanPaths(files: FileRecord[], installed: InstalledVersion): string[] {
  const listed = new Set(installed.manifest.files.map((f) => f.path));
  return files.filter((f) => !listed.has(f.path)).map((f) => f.path);
}

function fileDeletion(slot: string, path: string): Op[] {
  return [
    { type: 'delete-prefix', store: 'chunks', prefix: [slot, path] },
    { type: 'delete', store: 'files', key: [slot, path] },
  ];
}

/** Deletes the orphan files of a pack's installed slot; their count and stored bytes. */
export async function removeOrphans(
  kv: KV,
  packId: string,
): Promise<{ files: number; bytes: number }> {
  const installed = (await kv.get<PackRecord>('packs', packId))?.installed;
  if (!installed) return { files: 0, bytes: 0 };
  const files = await kv.list<FileRecord>('files', [installed.slot]);
  const orphans = new Set(orphanPaths(files, installed));
  if (orphans.size === 0) return { files: 0, bytes: 0 };
  await kv.batch([...orphans].flatMap((path) => fileDeletion(installed.slot, path)));
  const bytes = files.filter((f) => orphans.has(f.path)).reduce((n, f) => n + f.bytesDone, 0);
  return { files: orphans.size, bytes };
}

// ---------------------------------------------------------------------------
// Writing one file

export interface FileWriterOptions {
  /** Bytes per stored chunk (the download's default, 4 MiB). */
  chunkSize?: number;
  /** Where the file came from, recorded as its URL (deviceFileUrl). */
  url?: string;
  createHasher?: () => Promise<IHasher>;
}

/**
 * One file written in order, chunk by chunk: each full chunk is stored in
 * the same transaction as the file record that counts it (as downloads do),
 * so what is stored always agrees with its record. The bytes passed to
 * write() are copied: the caller may reuse its buffer.
 */
export class StoredFileWriter {
  private buffer: Uint8Array;
  private used = 0;
  private record: FileRecord;
  /** The last chunk's write, still in flight while the next chunk fills (one at a time, in order). */
  private pending: Promise<void> = Promise.resolve();

  private constructor(
    private readonly kv: KV,
    private readonly hasher: IHasher,
    slot: string,
    path: string,
    url: string,
    private readonly chunkSize: number,
  ) {
    this.buffer = new Uint8Array(chunkSize);
    this.record = newFileRecord({ slot, path, url, size: null, sha256: null, chunkSize });
  }

  /** Starts `path` under `slot`, dropping anything stored there before (one transaction). */
  static async create(
    kv: KV,
    slot: string,
    path: string,
    options: FileWriterOptions = {},
  ): Promise<StoredFileWriter> {
    const hasher = await (options.createHasher ?? createSHA256)();
    hasher.init();
    const writer = new StoredFileWriter(
      kv,
      hasher,
      slot,
      path,
      options.url ?? deviceFileUrl(path),
      options.chunkSize ?? DEFAULT_CHUNK_SIZE,
    );
    await writer.store([
      { type: 'delete-prefix', store: 'chunks', prefix: [slot, path] },
      { type: 'put', store: 'files', key: [slot, path], value: writer.record },
    ]);
    return writer;
  }

  get path(): string {
    return this.record.path;
  }

  /** Bytes accepted so far (stored or waiting for a full chunk). */
  get bytes(): number {
    return this.record.bytesDone + this.used;
  }

  async write(bytes: Uint8Array): Promise<void> {
    for (let at = 0; at < bytes.length;) {
      const take = Math.min(bytes.length - at, this.chunkSize - this.used);
      this.buffer.set(bytes.subarray(at, at + take), this.used);
      this.used += take;
      at += take;
      if (this.used === this.chunkSize) await this.flush(false);
    }
  }

  /** Stores the last (short) chunk and marks the file complete; its manifest entry. */
  async close(): Promise<PackFile> {
    await this.flush(true);
    await this.pending;
    return { path: this.record.path, size: this.record.size!, sha256: this.record.sha256 };
  }

  private async flush(last: boolean): Promise<void> {
    const chunk = this.buffer.slice(0, this.used);
    this.hasher.update(chunk);
    const index = this.record.chunksDone;
    const bytesDone = this.record.bytesDone + chunk.length;
    const digest = last ? this.hasher.digest('hex') : null;
    // One write in flight at most: wait for the previous chunk's (its failure surfaces here).
    await this.pending;
    const next: FileRecord = {
      ...this.record,
      chunksDone: chunk.length ? index + 1 : index,
      bytesDone,
      ...(last ? { size: bytesDone, sha256: digest, computedSha256: digest, done: true } : {}),
    };
    const ops: Op[] = [];
    if (chunk.length)
      ops.push({
        type: 'put',
        store: 'chunks',
        key: [next.slot, next.path, index],
        value: toStoredChunk(chunk),
      });
    ops.push({ type: 'put', store: 'files', key: [next.slot, next.path], value: next });
    this.pending = this.store(ops);
    this.pending.catch(() => {}); // awaited by the next flush or close
    this.record = next;
    this.used = 0;
  }

  private async store(ops: Op[]): Promise<void> {
    try {
      await this.kv.batch(ops);
    } catch (error) {
      throw asStorageError(error, { fromStorage: true });
    }
  }
}

// ---------------------------------------------------------------------------
// Adding and removing variants

export interface AddedVariant {
  /** The slot and version the files were written under: the pack's installed ones when the work began. */
  slot: string;
  version: string;
  /** Becomes the pack's default variant. */
  variant: PackVariant;
  /** The files the variant needs that the pack does not list yet, as written. */
  files: PackFile[];
  /** Its models' measures (the variant's requirements count them already). */
  measured?: ModelMeasure[];
}

function changed(name: string): GessoError {
  return new GessoError(
    'pack-missing',
    `${name} was updated or deleted while its int8 copy was being made, so the copy was dropped. Try again.`,
  );
}

/** Every file whole: complete record, SHA-256 as written, all chunks there. 'pack-corrupt' otherwise. */
async function checkWritten(kv: KV, slot: string, files: PackFile[]): Promise<void> {
  for (const f of files) {
    const record = await kv.get<FileRecord>('files', [slot, f.path]);
    const whole =
      record?.done === true &&
      record.size === f.size &&
      record.bytesDone === f.size &&
      record.computedSha256 === f.sha256 &&
      (await kv.count('chunks', [slot, f.path])) === chunkCount(f.size, record.chunkSize);
    if (!whole)
      throw new GessoError(
        'pack-corrupt',
        `The int8 copy's file ${f.path} was not stored whole, so the copy was not kept. Try again.`,
      );
  }
}

/**
 * Adds `added.variant` to the installed manifest as its default variant (the
 * others stay, no longer default), in one transaction that first checks the
 * pack is still installed in the slot the files were written to.
 */
export async function commitVariant(
  kv: KV,
  transact: PackTransaction,
  packId: string,
  added: AddedVariant,
): Promise<InstalledVersion> {
  await checkWritten(kv, added.slot, added.files);
  let result: InstalledVersion | null = null;
  await transact(packId, (pack) => {
    const installed = pack?.installed;
    if (!pack || !installed || installed.slot !== added.slot || installed.version !== added.version)
      throw changed(pack?.manifest.name ?? 'The pack');
    const paths = new Set(added.files.map((f) => f.path));
    const keptFiles = installed.manifest.files.filter((f) => !paths.has(f.path));
    const files = [...keptFiles, ...added.files];
    const variants = [
      { ...added.variant, default: true },
      ...installed.manifest.variants
        .filter((v) => v.id !== added.variant.id)
        .map((v) => ({ ...v, default: false })),
    ];
    result = {
      ...installed,
      variant: added.variant.id,
      manifest: { ...installed.manifest, variants, files },
      measured: added.measured ?? [],
      bytes: files.reduce((n, f) => n + f.size, 0),
    };
    return [{ type: 'put', store: 'packs', key: packId, value: { ...pack, installed: result } }];
  });
  return result!;
}

/**
 * Keeps only variant `keep` of the installed pack (e.g. the int8 copy) and
 * deletes the files no other kept variant needs, in one transaction.
 */
export async function removeOtherVariants(
  transact: PackTransaction,
  packId: string,
  keep: string,
): Promise<{ removed: string[]; bytesFreed: number }> {
  let outcome = { removed: [] as string[], bytesFreed: 0 };
  await transact(packId, (pack) => {
    const installed = pack?.installed;
    if (!pack || !installed)
      throw new GessoError('pack-missing', 'The pack is not installed any more.');
    const manifest = installed.manifest;
    const variant = manifest.variants.find((v) => v.id === keep);
    if (!variant)
      throw new GessoError(
        'pack-missing',
        `${manifest.name} has no variant "${keep}" any more; reload Models.`,
      );
    const keepPaths = new Set(filesForVariant(manifest, keep).map((f) => f.path));
    const files = manifest.files.filter((f) => keepPaths.has(f.path));
    const dropped = manifest.files.filter((f) => !keepPaths.has(f.path));
    const next: InstalledVersion = {
      ...installed,
      variant: keep,
      manifest: { ...manifest, variants: [{ ...variant, default: true }], files },
      unverified: installed.unverified.filter((p) => keepPaths.has(p)),
      bytes: files.reduce((n, f) => n + f.size, 0),
    };
    outcome = {
      removed: manifest.variants.filter((v) => v.id !== keep).map((v) => v.id),
      bytesFreed: dropped.reduce((n, f) => n + f.size, 0),
    };
    return [
      { type: 'put', store: 'packs', key: packId, value: { ...pack, installed: next } },
      ...dropped.flatMap((f) => fileDeletion(installed.slot, f.path)),
    ];
  });
  return outcome;
}
