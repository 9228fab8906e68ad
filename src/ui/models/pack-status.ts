/** What the Models screen says about a pack: pure, from its record, the newest manifest and live progress. */

import type { StoreEvent } from '../../store/protocol';
import type { PackRecord } from '../../store/records';
import {
  defaultVariant,
  filesForVariant,
  sizeOf,
  type PackManifestInput,
} from '../../store/validate-manifest';
import { formatBytes, formatDuration } from '../../shared/format';

export type Progress = Extract<StoreEvent, { type: 'progress' }>;

export type PackStatus =
  | { kind: 'none' }
  | { kind: 'downloading'; update: boolean }
  | { kind: 'paused'; update: boolean }
  | { kind: 'failed'; update: boolean; reason: string }
  /** Stopped because the device went offline; carries on when it is back. */
  | { kind: 'waiting'; update: boolean; reason: string }
  | { kind: 'ready'; version: string }
  | { kind: 'update'; version: string; latest: string };

/**
 * `failure`: a failure the service worker announced that the record may not
 * show (when storage was too broken to record it).
 */
export function packStatus(
  record: PackRecord | null,
  latest: PackManifestInput | null,
  failure: string | null = null,
): PackStatus {
  const job = record?.job;
  if (job) {
    const update = !!record.installed;
    if (job.state === 'failed')
      return {
        kind: job.offline ? 'waiting' : 'failed',
        update,
        reason: job.error?.message ?? 'The download stopped for an unknown reason.',
      };
    if (job.state === 'downloading' && failure) return { kind: 'failed', update, reason: failure };
    return { kind: job.state, update };
  }
  const installed = record?.installed;
  if (!installed) return { kind: 'none' };
  if (latest && latest.version !== installed.version)
    return { kind: 'update', version: installed.version, latest: latest.version };
  return { kind: 'ready', version: installed.version };
}

/**
 * The manifest whose default variant the card's "This device" line judges:
 * the installed one when the pack is installed (what the engine loads, with
 * an int8 copy made on this device as its default, which the host's
 * manifest never lists), else the newest known.
 */
export function manifestToFit(
  record: PackRecord | null,
  latest: PackManifestInput | null,
): PackManifestInput | null {
  return record?.installed?.manifest ?? latest;
}

export function statusText(status: PackStatus): string {
  switch (status.kind) {
    case 'none':
      return 'Not downloaded';
    case 'downloading':
      return status.update ? 'Ready; downloading an update' : 'Downloading';
    case 'paused':
      return status.update ? 'Ready; update paused' : 'Paused';
    case 'failed':
      return status.update ? 'Ready; the update failed' : 'Download failed';
    case 'waiting':
      return status.update
        ? 'Ready; the update waits for the connection'
        : 'Waiting for the connection';
    case 'ready':
      return 'Ready';
    case 'update':
      return `Ready (version ${status.version}); version ${status.latest} is available`;
  }
}

/** "12.3 MB of 880 MB · 2.10 MB/s · 6 min 40 s left" */
export function progressText(p: Progress): string {
  const parts = [
    `${formatBytes(p.bytesDone)} of ${p.unknownSizes ? 'at least ' : ''}${formatBytes(p.bytesTotal)}`,
  ];
  if (p.rate !== null) parts.push(`${formatBytes(p.rate)}/s`);
  if (p.secondsLeft !== null) parts.push(`${formatDuration(p.secondsLeft)} left`);
  return parts.join(' · ');
}

/** "Checked for updates 5 min ago" style line: when a user pack's host was last asked. */
export function checkedText(checkedAt: number | undefined, now = Date.now()): string {
  if (checkedAt === undefined) return 'Not checked for updates yet';
  const minutes = Math.max(0, Math.round((now - checkedAt) / 60_000));
  if (minutes < 1) return 'Checked for updates just now';
  if (minutes < 60) return `Checked for updates ${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `Checked for updates ${hours} h ago`;
  return `Checked for updates ${Math.round(hours / 24)} days ago`;
}

/** Download size of the variant that would be installed, with unknown sizes said so. */
export function sizeText(manifest: PackManifestInput): string {
  const { bytes, unknown } = sizeOf(filesForVariant(manifest, defaultVariant(manifest)));
  if (unknown === 0) return formatBytes(bytes);
  if (bytes === 0) return `unknown: the host publishes no sizes for its ${unknown} files`;
  return `${formatBytes(bytes)} plus ${unknown} file${unknown > 1 ? 's' : ''} of unpublished size`;
}
