/** What the model store keeps in IndexedDB ('gesso-models'): packs, files and chunks. */

import type { ErrorData } from '../shared/errors';
import type { ModelMeasure } from '../shared/measured-needs';
import type { PackManifest } from '../shared/pack-manifest';
import type { PackManifestInput } from './validate-manifest';

export const DB_NAME = 'gesso-models';
export const DB_VERSION = 1;

/** Files and chunks of one pack version live under a slot, so an update downloads beside the old one. */
export function slotOf(packId: string, version: string): string {
  return `${packId}@${version}`;
}

export interface InstalledVersion {
  version: string;
  slot: string;
  variant: string;
  /** The manifest as installed: only the installed variant, every file size filled in. */
  manifest: PackManifest;
  /** Paths whose manifest hash was null: the hash in the file record is computed, not checked. */
  unverified: string[];
  bytes: number;
  installedAt: number;
  /**
   * Each model's largest weight and activation at the pack's image size,
   * read from its file at install; the variant's requirements in `manifest`
   * already count them. Absent: installed before Gesso measured.
   */
  measured?: ModelMeasure[];
}

export type JobState = 'downloading' | 'paused' | 'failed';

export interface DownloadJob {
  version: string;
  slot: string;
  variant: string;
  manifest: PackManifestInput;
  manifestUrl: string;
  state: JobState;
  error: ErrorData | null;
  paths: string[];
  startedAt: number;
  /**
   * The job failed for a reason that may pass by itself (offline, a timeout,
   * a dropped connection, HTTP 5xx): coming back online resumes it.
   */
  resumeOnline?: boolean;
  /** It failed because the device was offline. */
  offline?: boolean;
}

export interface PackRecord {
  id: string;
  /** Where the manifest came from (built-in catalog or a URL the user added). */
  manifestUrl: string;
  origin: 'builtin' | 'user';
  /** The newest manifest seen for this pack (may be newer than the installed one). */
  manifest: PackManifestInput;
  licenseAccepted: boolean;
  installed: InstalledVersion | null;
  job: DownloadJob | null;
  addedAt: number;
  /** When the manifest was last fetched from its host (adding, or checking for updates); absent: never. */
  checkedAt?: number;
}

export interface FileRecord {
  slot: string;
  path: string;
  url: string;
  /** Expected size: from the manifest, or learnt from the server when the manifest has none. */
  size: number | null;
  sha256: string | null;
  chunkSize: number;
  chunksDone: number;
  bytesDone: number;
  /** hash-wasm SHA-256 state after `bytesDone` bytes: hashing resumes after a restart. */
  hashState: Uint8Array | null;
  etag: string | null;
  lastModified: string | null;
  /** Hex SHA-256 of the whole file once complete. */
  computedSha256: string | null;
  done: boolean;
}

/** A file record before its first byte is stored. */
export function newFileRecord(
  fields: Pick<FileRecord, 'slot' | 'path' | 'url' | 'size' | 'sha256' | 'chunkSize'>,
): FileRecord {
  return {
    ...fields,
    chunksDone: 0,
    bytesDone: 0,
    hashState: null,
    etag: null,
    lastModified: null,
    computedSha256: null,
    done: false,
  };
}
