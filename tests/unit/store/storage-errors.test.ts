import { describe, expect, it } from 'vitest';
import { GessoError } from '../../../src/shared/errors';
import { asStorageError, storageFailure } from '../../../src/store/storage-errors';

const dom = (message: string, name: string) => new DOMException(message, name);

describe('telling storage failures apart: a full disk is not a dropped connection', () => {
  it.each([
    ['QuotaExceededError', dom('The quota has been exceeded.', 'QuotaExceededError')],
    // Chromium on a full disk (measured: a full tmpfs profile, IndexedDB blob write).
    ['Failed to write blobs (IOError)', dom('Failed to write blobs (IOError)', 'DataError')],
    [
      'UnknownError: IO error',
      dom('Internal error: IO error: No space left on device', 'UnknownError'),
    ],
    ['Firefox quota', dom('', 'NS_ERROR_DOM_QUOTA_REACHED')],
    ['legacy code 22', { name: 'Error', message: 'x', code: 22 }],
    [
      'wrapped in an abort',
      Object.assign(dom('Transaction aborted', 'AbortError'), {
        cause: dom('Failed to write blobs (IOError)', 'DataError'),
      }),
    ],
    ['storage-full GessoError', new GessoError('storage-full', 'full')],
  ])('%s is a full disk', (_, error) => {
    expect(storageFailure(error)).toBe('full');
    expect(asStorageError(error)).toMatchObject({ code: 'storage-full' });
  });

  it.each([
    ['InvalidStateError', dom('The database connection is closing.', 'InvalidStateError')],
    ['UnknownError', dom('Internal error.', 'UnknownError')],
    ['TransactionInactiveError', dom('The transaction has finished.', 'TransactionInactiveError')],
  ])('%s is storage that failed another way', (_, error) => {
    expect(storageFailure(error)).toBe('failed');
    const mapped = asStorageError(error) as GessoError;
    expect(mapped.code).toBe('storage-refused');
    expect(mapped.message).toMatch(/^The browser's storage refused to save \(.+\)\. Reload Gesso/);
  });

  it.each([
    ['a network TypeError', new TypeError('Failed to fetch')],
    ['an AbortError', dom('The user aborted a request.', 'AbortError')],
    ['a network GessoError', new GessoError('network', 'x')],
    ['a plain Error', new Error('something')],
    ['a string', 'oops'],
    ['null', null],
  ])('%s is not storage', (_, error) => {
    expect(storageFailure(error)).toBeNull();
    expect(asStorageError(error)).toBe(error);
  });

  it('anything a storage call throws is storage, whatever it says', () => {
    expect(storageFailure(new TypeError('x'), true)).toBe('failed');
    expect(storageFailure(new Error('Failed to write'), true)).toBe('full');
  });
});
