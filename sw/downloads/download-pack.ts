/**
 * A whole pack download: file records for the chosen variant under a new
 * slot, each file fetched by downloadFile, every file checked again, then
 * one transaction makes the slot the pack's ready version (an update never
 * half-replaces the version it updates).
 */

import { GessoError } from '../../src/shared/errors';
import type { PackManifest } from '../../src/shared/pack-manifest';
import { formatBytes } from '../../src/shared/format';
import { measuredRequirements } from '../../src/shared/measured-needs';
import { measureModels } from '../../src/store/measure-models';
import { ModelFeeds } from './model-feeds';
import { chunkCount } from '../../src/store/chunk-layout';
import { downloadFile, type DownloadDeps } from './download-file';
import type { ModelStore } from '../../src/store/model-store';
import { describeStorageError } from '../../src/store/storage-errors';
import {
  slotOf,
  type DownloadJob,
  newFileRecord,
  type FileRecord,
  type PackRecord,
} from '../../src/store/records';
import {
  fileUrl,
  filesForVariant,
  type PackManifestInput,
} from '../../src/store/validate-manifest';

export interface JobRequest {
  manifest: PackManifestInput;
  manifestUrl: string;
  variant: string;
  chunkSize: number;
  origin: PackRecord['origin'];
  licenseAccepted: boolean;
}

/** Creates (or keeps) the pack record and a download job with its file records. */
export async function prepareJob(
  store: ModelStore,
  request: JobRequest,
  now = Date.now(),
): Promise<PackRecord> {
  const { manifest } = request;
  const existing = await store.getPack(manifest.id);
  const slot = slotOf(manifest.id, manifest.version);
  const files = filesForVariant(manifest, request.variant);
  if (files.length === 0)
    throw new GessoError('invalid-manifest', `The pack has no variant "${request.variant}".`);
  if (existing?.installed?.slot === slot)
    throw new GessoError(
      'internal',
      `${manifest.name} ${manifest.version} is already installed; nothing to download.`,
    );
  const sameJob = existing?.job?.slot === slot && existing.job.variant === request.variant;
  // An unfinished download of another version or variant is dropped; the installed one never is.
  if (!sameJob && existing?.job && existing.job.slot !== existing.installed?.slot)
    await store.deleteSlot(existing.job.slot);
  for (const f of files) {
    const have = sameJob ? await store.getFile(slot, f.path) : undefined;
    if (have && have.size === f.size && have.sha256 === f.sha256) continue;
    const record = newFileRecord({
      slot,
      path: f.path,
      url: fileUrl(f, request.manifestUrl),
      size: f.size,
      sha256: f.sha256,
      chunkSize: request.chunkSize,
    });
    if (have) await store.resetFile(have, { etag: null, lastModified: null });
    await store.putFile(record);
  }
  const job: DownloadJob = {
    version: manifest.version,
    slot,
    variant: request.variant,
    manifest,
    manifestUrl: request.manifestUrl,
    state: 'downloading',
    error: null,
    paths: files.map((f) => f.path),
    startedAt: sameJob ? existing.job!.startedAt : now,
  };
  const pack: PackRecord = {
    id: manifest.id,
    manifestUrl: request.manifestUrl,
    // The service worker decides the origin (a catalog address or not); a record never keeps a stale one.
    origin: request.origin,
    manifest,
    licenseAccepted: request.licenseAccepted || (existing?.licenseAccepted ?? false),
    installed: existing?.installed ?? null,
    job,
    addedAt: existing?.addedAt ?? now,
  };
  await store.putPack(pack);
  return pack;
}

export interface JobProgress {
  bytesDone: number;
  bytesTotal: number;
  /** Files whose size is not known yet (their bytes are missing from bytesTotal). */
  unknownSizes: number;
}

export async function jobProgress(store: ModelStore, job: DownloadJob): Promise<JobProgress> {
  const files = await store.listFiles(job.slot);
  return tally(files.filter((f) => job.paths.includes(f.path)));
}

/** `pending`: bytes received for a file's next chunk, not stored yet (by path). */
function tally(files: FileRecord[], pending: ReadonlyMap<string, number> = new Map()): JobProgress {
  let bytesDone = 0;
  let bytesTotal = 0;
  let unknownSizes = 0;
  for (const f of files) {
    bytesDone += f.bytesDone + (f.done ? 0 : (pending.get(f.path) ?? 0));
    if (f.size === null) unknownSizes++;
    else bytesTotal += f.size;
  }
  return { bytesDone, bytesTotal, unknownSizes };
}

export type RunDeps = Omit<DownloadDeps, 'onChunk' | 'onBytes'> & {
  onProgress?: (progress: JobProgress) => void;
};

/** Downloads what is missing, verifies everything, installs. Resolves with the installed record. */
export async function runJob(deps: RunDeps, packId: string): Promise<PackRecord> {
  const { store } = deps;
  const pack = await store.getPack(packId);
  const job = pack?.job;
  if (!pack || !job)
    throw new GessoError('pack-missing', 'There is no download to run for this pack.');
  const files = new Map<string, FileRecord>();
  for (const path of job.paths) {
    const file = await store.getFile(job.slot, path);
    if (!file)
      throw new GessoError(
        'internal',
        `The download of ${path} lost its record; cancel and start again.`,
      );
    files.set(path, file);
  }
  const pending = new Map<string, number>();
  const report = () => deps.onProgress?.(tally([...files.values()], pending));
  const declared = job.manifest.variants.find((v) => v.id === job.variant)!;
  const measuring = new ModelFeeds(job.manifest, declared);
  report();
  for (const path of job.paths) {
    const file = files.get(path)!;
    if (file.done) continue;
    try {
      const done = await downloadFile(
        {
          ...deps,
          onChunk: (f) => {
            files.set(path, f);
            pending.set(path, 0);
            report();
          },
          // Bytes count as they arrive, not only once a whole chunk is stored.
          onBytes: (f, bytes) => {
            files.set(path, f);
            pending.set(path, bytes);
            report();
          },
          onStored: (f, index, chunk) => measuring.stored(f, index, chunk),
        },
        file,
      );
      measuring.done(path);
      files.set(path, done);
    } catch (error) {
      measuring.cut(path);
      pending.set(path, 0);
      if (error instanceof GessoError && error.code === 'storage-full') {
        throw new GessoError(
          'storage-full',
          `The device ran out of storage space while saving ${path}: ${pack.manifest.name} needs ${needed(files)} more. Free some space (delete other packs or images), then resume; what is downloaded is kept.`,
          { cause: error },
        );
      }
      if (error instanceof GessoError && error.code === 'storage-refused') {
        throw new GessoError(
          'storage-refused',
          `The browser's storage refused to save ${path} (${describeStorageError(error.cause)}): ${pack.manifest.name} needs ${needed(files)} more. Free some space or reload Gesso, then resume; what is downloaded is kept.`,
          { cause: error },
        );
      }
      throw error;
    }
    pending.set(path, 0);
    report();
  }
  await verifyJob(store, job);
  const installedFiles = await store.listFiles(job.slot);
  const byPath = new Map(installedFiles.map((f) => [f.path, f]));
  const measured = await measureModels(
    store.kv,
    async (path) => byPath.get(path),
    job.manifest,
    declared,
    deps.signal,
    measuring.summaries(),
  );
  const variant = { ...declared, requires: measuredRequirements(declared.requires, measured) };
  const manifest: PackManifest = {
    ...job.manifest,
    variants: [variant],
    files: job.manifest.files
      .filter((f) => byPath.has(f.path))
      .map((f) => ({ ...f, size: byPath.get(f.path)!.size! })),
  };
  return store.install(packId, {
    measured,
    version: job.version,
    slot: job.slot,
    variant: job.variant,
    manifest,
    unverified: job.manifest.files
      .filter((f) => byPath.has(f.path) && f.sha256 === null)
      .map((f) => f.path),
    bytes: installedFiles.reduce((sum, f) => sum + f.bytesDone, 0),
    installedAt: Date.now(),
  });
}

/** "3.00 KB", or "at least 3.00 KB" while some sizes are unknown: what is left to store. */
function needed(files: Map<string, FileRecord>): string {
  const { bytesDone, bytesTotal, unknownSizes } = tally([...files.values()]);
  return `${unknownSizes ? 'at least ' : ''}${formatBytes(Math.max(0, bytesTotal - bytesDone))}`;
}

/** Every file whole (all chunks present, sizes agree) and its hash checked: else pack-corrupt, and the file is reset. */
export async function verifyJob(store: ModelStore, job: DownloadJob): Promise<void> {
  for (const path of job.paths) {
    const file = await store.getFile(job.slot, path);
    let fault: string | null = null;
    if (!file || !file.done || file.size === null) fault = 'it is incomplete';
    else if (file.bytesDone !== file.size) fault = `it has ${file.bytesDone} of ${file.size} bytes`;
    else if (file.sha256 !== null && file.computedSha256 !== file.sha256)
      fault = 'its SHA-256 does not match';
    else if ((await store.countChunks(job.slot, path)) !== chunkCount(file.size, file.chunkSize))
      fault = 'parts of it are missing';
    if (fault) {
      if (file) await store.resetFile(file, { etag: null, lastModified: null });
      throw new GessoError(
        'pack-corrupt',
        `${path} failed its final check (${fault}) and was discarded. Resume to download it again.`,
      );
    }
  }
}
