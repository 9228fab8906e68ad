/**
 * Packs made on the device from a person's own checkpoint: their files are
 * written under an import slot (`import:<pack id>:<file size>:<last
 * modified>`, so a second attempt with the same file finds the files already
 * written and goes on from there), and ONE transaction then adds the pack
 * record with its installed version. Until then the files belong to no
 * pack: nothing half-made is ever marked ready, and existing packs are never
 * touched (an id already taken is refused before anything is written).
 */

import { GessoError } from '../shared/errors';
import type { ModelMeasure } from '../shared/measured-needs';
import type { PackFile, PackManifest } from '../shared/pack-manifest';
import type { KV, Op } from './kv';
import type { FileRecord, InstalledVersion, PackRecord } from './records';
import type { PackTransaction } from './variant-writer';

/** The manifest URL recorded for an imported pack (never fetched). */
export const IMPORTED_MANIFEST_URL = 'gesso-device:import';

export function isImportedPack(pack: Pick<PackRecord, 'manifestUrl'>): boolean {
  return pack.manifestUrl === IMPORTED_MANIFEST_URL;
}

export function importSlot(packId: string, file: { size: number; lastModified?: number }): string {
  return `import:${packId}:${file.size}:${file.lastModified ?? 0}`;
}

/** Files of `slot` stored whole (done, every byte), by path: what a resumed import skips. */
export async function finishedFiles(kv: KV, slot: string): Promise<Map<string, PackFile>> {
  const out = new Map<string, PackFile>();
  for (const f of await kv.list<FileRecord>('files', [slot]))
    if (f.done && f.size !== null && f.bytesDone === f.size)
      out.set(f.path, { path: f.path, size: f.size, sha256: f.computedSha256 });
  return out;
}

function slotDeletion(slot: string): Op[] {
  return [
    { type: 'delete-prefix', store: 'chunks', prefix: [slot] },
    { type: 'delete-prefix', store: 'files', prefix: [slot] },
  ];
}

export async function deleteImportSlot(kv: KV, slot: string): Promise<void> {
  await kv.batch(slotDeletion(slot));
}

/** Removes an imported pack: its record and every file of its slot, in one transaction. */
export async function uninstallImported(kv: KV, packId: string, slot: string): Promise<void> {
  await kv.batch([{ type: 'delete', store: 'packs', key: packId }, ...slotDeletion(slot)]);
}

/** Import slots no installed pack uses, except `keep`: earlier attempts with other files. */
export async function removeStaleImports(kv: KV, keep: string): Promise<number> {
  const slots = new Set(
    (await kv.list<FileRecord>('files', []))
      .map((f) => f.slot)
      .filter((s) => s.startsWith('import:') && s !== keep),
  );
  const used = new Set((await kv.list<PackRecord>('packs', [])).map((p) => p.installed?.slot));
  let removed = 0;
  for (const slot of slots)
    if (!used.has(slot)) {
      await deleteImportSlot(kv, slot);
      removed++;
    }
  return removed;
}

/** Refuses an id another pack has (a catalog pack, a download, or an earlier import). */
export async function checkFreeId(
  kv: KV,
  manifest: Pick<PackManifest, 'id' | 'name'>,
): Promise<void> {
  const existing = await kv.get<PackRecord>('packs', manifest.id);
  if (existing)
    throw new GessoError(
      'storage-refused',
      `A pack named "${existing.manifest.name}" is already on this device. Remove it in Models, or rename the file, then import again. Nothing was changed.`,
    );
}

/** Adds the imported pack, installed, in one transaction (refused if its id was taken meanwhile). */
export async function installImported(
  transact: PackTransaction,
  manifest: PackManifest,
  slot: string,
  files: PackFile[],
  measured: ModelMeasure[],
  now = Date.now(),
): Promise<PackRecord> {
  const installed: InstalledVersion = {
    version: manifest.version,
    slot,
    variant: manifest.variants[0]!.id,
    manifest: { ...manifest, files },
    unverified: [],
    bytes: files.reduce((n, f) => n + f.size, 0),
    installedAt: now,
    measured,
  };
  const record: PackRecord = {
    id: manifest.id,
    manifestUrl: IMPORTED_MANIFEST_URL,
    origin: 'user',
    manifest: installed.manifest,
    licenseAccepted: true,
    installed,
    job: null,
    addedAt: now,
  };
  await transact(manifest.id, (pack) => {
    if (pack)
      throw new GessoError(
        'storage-refused',
        `A pack named "${pack.manifest.name}" appeared on this device while importing; the import was not kept.`,
      );
    return [{ type: 'put', store: 'packs', key: manifest.id, value: record }];
  });
  return record;
}
