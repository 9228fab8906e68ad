import { describe, expect, it } from 'vitest';
import { GessoError } from '../../../src/shared/errors';
import {
  damagedDatabaseError,
  galleryError,
  lostGalleryNotice,
} from '../../../src/store/gallery/errors';

const named = (name: string, message: string) => new DOMException(message, name);

describe('the gallery’s failures as sentences', () => {
  it('calls a full disk a storage problem and says what to do, whatever the browser named it', () => {
    for (const error of [
      named('DataError', 'Failed to write blobs (IOError)'),
      named('QuotaExceededError', 'The quota has been exceeded.'),
      named(
        'UnknownError',
        'Connection is closing because of: IO error: .../000003.log: FILE_ERROR_NO_SPACE (ChromeMethodBFE: 3::WritableFileAppend::8)',
      ),
    ]) {
      const out = galleryError(error, 'write');
      expect(out).toBeInstanceOf(GessoError);
      expect(out.code).toBe('storage-full');
      expect(out.message).toMatch(/^The device is out of storage space \(/);
      expect(out.message).toContain('Free some space');
      expect(out.message).toContain('The images already in the gallery are kept.');
      expect(out.cause).toBe(error);
    }
    expect(galleryError(named('QuotaExceededError', 'x'), 'read').message).toMatch(
      /could not be read because the device is out of storage space.*Nothing in it was deleted/,
    );
  });

  it('says a database that will not open was not deleted, and why it may be', () => {
    const out = galleryError(
      named('UnknownError', 'Internal error opening backing store for indexedDB.open.'),
      'open',
    );
    expect(out.code).toBe('storage-refused');
    expect(out.message).toBe(
      "The gallery's database could not be opened (UnknownError: Internal error opening backing store for indexedDB.open.). Nothing in it was deleted. This happens when the device is out of storage space or the database is damaged: free some space, close other Gesso tabs, then reload Gesso.",
    );
  });

  it('leaves a newer version’s database alone', () => {
    const out = galleryError(
      named('VersionError', 'The requested version (1) is less than the existing version (2).'),
      'open',
    );
    expect(out.message).toBe(
      'The gallery was saved by a newer version of Gesso. Reload Gesso to update it; nothing in the gallery was changed.',
    );
  });

  it('passes its own errors through and names other failures by what was being done', () => {
    const own = new GessoError('internal', 'This image is no longer in the gallery.');
    expect(galleryError(own, 'read')).toBe(own);
    expect(galleryError(named('AbortError', 'aborted'), 'delete').message).toMatch(
      /^The gallery could not be changed \(AbortError: aborted\)\. Nothing was deleted\./,
    );
    expect(galleryError(new TypeError('boom'), 'write').message).toMatch(
      /^The gallery could not save the image \(TypeError: boom\)\. The images already in the gallery are kept\./,
    );
  });

  it('reports damage and loss in sentences', () => {
    expect(damagedDatabaseError('its “images” store').message).toMatch(
      /^The gallery's database is damaged: its “images” store is missing\. Gesso has left it as it is\./,
    );
    expect(lostGalleryNotice(1)).toContain('with the 1 image it held');
    expect(lostGalleryNotice(12)).toContain('with the 12 images it held');
    expect(lostGalleryNotice(12)).toContain('cannot be brought back');
  });
});
