/**
 * Storage failures, told apart from everything else: pure, no I/O.
 *
 * A full disk does not always say "quota". Measured with Chromium 150 on a
 * full 64 MiB tmpfs profile: an IndexedDB write of a 256 KiB value aborts its
 * transaction with `DataError: Failed to write blobs (IOError)` while
 * `navigator.storage.estimate()` still reports a 1 GiB quota; over a
 * browser-imposed quota the same write fails with `QuotaExceededError`.
 * Both mean "no room", and neither is a dropped connection.
 */

import { GessoError } from '../shared/errors';

/** 'full': no room (quota or disk). 'failed': storage broke another way. null: not a storage error. */
export type StorageFailure = 'full' | 'failed' | null;

/** Messages browsers give when the disk or the quota is full (Chromium, Firefox, WebKit). */
const FULL_MESSAGE =
  /quota|no space|disk (is )?full|disk space|not enough (free )?space|out of space|failed to write|write blobs|io ?error|ENOSPC|FILE_ERROR_NO_SPACE|NS_ERROR_FILE_NO_DEVICE_SPACE/i;

/** DOMException names IndexedDB, the Cache API and OPFS fail with. */
const STORAGE_NAMES = new Set([
  'QuotaExceededError',
  'NS_ERROR_DOM_QUOTA_REACHED',
  'UnknownError',
  'DataError',
  'InvalidStateError',
  'TransactionInactiveError',
  'ReadOnlyError',
  'VersionError',
  'NotReadableError',
  'NoModificationAllowedError',
  'IOError',
]);

function fields(error: unknown): { name: string; message: string; code: unknown } {
  if (typeof error !== 'object' || error === null)
    return { name: '', message: String(error ?? ''), code: undefined };
  const e = error as { name?: unknown; message?: unknown; code?: unknown };
  return {
    name: typeof e.name === 'string' ? e.name : '',
    message: typeof e.message === 'string' ? e.message : '',
    code: e.code,
  };
}

/**
 * What kind of storage failure `error` is. `fromStorage`: the error came from
 * a storage call (so any DOMException-like error is storage, not network).
 */
export function storageFailure(error: unknown, fromStorage = false): StorageFailure {
  if (error instanceof GessoError) {
    if (error.code === 'storage-full') return 'full';
    if (error.code === 'storage-refused') return 'failed';
    return null;
  }
  const { name, message, code } = fields(error);
  if (name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED' || code === 22)
    return 'full';
  // An aborted IndexedDB transaction carries its cause in `error` (idb rejects with it).
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause && cause !== error) {
    const inner = storageFailure(cause, fromStorage);
    if (inner) return inner;
  }
  if (FULL_MESSAGE.test(message) && (fromStorage || STORAGE_NAMES.has(name))) return 'full';
  if (STORAGE_NAMES.has(name) || fromStorage) return 'failed';
  return null;
}

export function isQuotaError(error: unknown): boolean {
  return storageFailure(error) === 'full';
}

/** "DataError: Failed to write blobs (IOError)", for the end of a sentence. */
function describe(error: unknown): string {
  const { name, message } = fields(error);
  const text = [name, message].filter(Boolean).join(': ');
  return text || 'no details';
}

/**
 * A storage failure as a GessoError with a sentence ('storage-full' or
 * 'storage-refused'); anything else unchanged. `fromStorage`: the error came
 * from a storage call, so whatever it is, it is not the network.
 */
export function asStorageError(error: unknown, options: { fromStorage?: boolean } = {}): unknown {
  if (error instanceof GessoError) return error;
  const kind = storageFailure(error, options.fromStorage);
  if (kind === 'full')
    return new GessoError(
      'storage-full',
      'The device is out of storage space for Gesso. Free some space (delete packs or images), then try again.',
      { cause: error },
    );
  if (kind === 'failed')
    return new GessoError(
      'storage-refused',
      `The browser's storage refused to save (${describe(error)}). Reload Gesso and try again; if it keeps failing, free some space or restart the browser.`,
      { cause: error },
    );
  return error;
}

export { describe as describeStorageError };
