/** Packs installed into the in-memory KV as the download code leaves them (records, chunks, hashes). */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DownloadJob } from '../../../../src/store/records';
import { verifyJob } from '../../../../sw/downloads/download-pack';
import type { PackManifest } from '../../../../src/shared/pack-manifest';
import { chunkCount } from '../../../../src/store/chunk-layout';
import type { KV } from '../../../../src/store/kv';
import { ModelStore } from '../../../../src/store/model-store';
import { slotOf, type FileRecord, type PackRecord } from '../../../../src/store/records';
import { filesForVariant } from '../../../../src/store/validate-manifest';

export const ROOT = resolve(__dirname, '../../../..');
export const DEMO = resolve(ROOT, 'public/packs/demo');
export const LCM = resolve(ROOT, 'tests/fixtures/models/lcm');

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export function readManifest(dir: string): PackManifest {
  return JSON.parse(readFileSync(resolve(dir, 'manifest.json'), 'utf8')) as PackManifest;
}

/** Stores `files` (path -> bytes) under `slot` as complete, verified downloads. */
export async function storeFiles(
  kv: KV,
  slot: string,
  files: Record<string, Uint8Array>,
  chunkSize: number,
): Promise<void> {
  for (const [path, bytes] of Object.entries(files)) {
    const count = chunkCount(bytes.length, chunkSize);
    for (let i = 0; i < count; i++)
      await kv.put('chunks', [slot, path, i], bytes.slice(i * chunkSize, (i + 1) * chunkSize));
    const hash = sha256(bytes);
    const record: FileRecord = {
      slot,
      path,
      url: `https://example.test/${path}`,
      size: bytes.length,
      sha256: hash,
      chunkSize,
      chunksDone: count,
      bytesDone: bytes.length,
      hashState: null,
      etag: null,
      lastModified: null,
      computedSha256: hash,
      done: true,
    };
    await kv.put('files', [slot, path], record);
  }
}

/**
 * Installs variant `variantId` of the pack in `dir` (or `manifest` with
 * `files` given as bytes), as runJob installs a download: the manifest with
 * only that variant and its files.
 */
export async function installPack(
  kv: KV,
  manifest: PackManifest,
  files: Record<string, Uint8Array>,
  variantId: string,
  chunkSize = 64 * 1024,
): Promise<PackRecord> {
  const slot = slotOf(manifest.id, manifest.version);
  const kept = filesForVariant(manifest, variantId).map((f) => f.path);
  const stored = Object.fromEntries(kept.map((p) => [p, files[p]!]));
  await storeFiles(kv, slot, stored, chunkSize);
  const variant = manifest.variants.find((v) => v.id === variantId)!;
  const pack: PackRecord = {
    id: manifest.id,
    manifestUrl: `https://example.test/${manifest.id}/manifest.json`,
    origin: 'user',
    manifest,
    licenseAccepted: true,
    installed: {
      version: manifest.version,
      slot,
      variant: variantId,
      manifest: {
        ...manifest,
        variants: [variant],
        files: manifest.files
          .filter((f) => kept.includes(f.path))
          .map((f) => ({
            ...f,
            size: stored[f.path]!.length,
            sha256: sha256(stored[f.path]!),
          })),
      },
      unverified: [],
      bytes: kept.reduce((n, p) => n + stored[p]!.length, 0),
      installedAt: 1,
    },
    job: null,
    addedAt: 1,
  };
  await kv.put('packs', pack.id, pack);
  return pack;
}

export function readDir(dir: string, manifest: PackManifest): Record<string, Uint8Array> {
  return Object.fromEntries(
    manifest.files.map((f) => [f.path, new Uint8Array(readFileSync(resolve(dir, f.path)))]),
  );
}

export async function installDir(
  kv: KV,
  dir: string,
  variantId: string,
  chunkSize?: number,
): Promise<PackRecord> {
  const manifest = readManifest(dir);
  return installPack(kv, manifest, readDir(dir, manifest), variantId, chunkSize);
}

/** The download code's own final check (sw/downloads/download-pack.ts) over every installed file. */
export async function verifyInstalled(kv: KV, packId: string): Promise<void> {
  const store = new ModelStore(kv);
  const installed = (await store.getPack(packId))!.installed!;
  await verifyJob(store, {
    slot: installed.slot,
    paths: installed.manifest.files.map((f) => f.path),
  } as DownloadJob);
}

/** Paths stored under a slot (file records). */
export async function storedPaths(kv: KV, slot: string): Promise<string[]> {
  return (await kv.list<FileRecord>('files', [slot])).map((f) => f.path).sort();
}

/** Every stored chunk key of a slot, as "path#index". */
export async function storedChunks(kv: KV, slot: string): Promise<number> {
  return kv.count('chunks', [slot]);
}
