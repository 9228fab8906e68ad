/**
 * The gallery's failures as sentences that say what happened and what to do.
 * Pure: the kind of storage failure comes from ../storage-errors.
 *
 * Measured with Chromium 150 on a full tmpfs profile: keeping an image fails
 * with `DataError: Failed to write blobs (IOError)` (or `UnknownError:
 * Connection is closing because of: IO error: … FILE_ERROR_NO_SPACE`), and
 * while the disk stays full, opening the database fails with `UnknownError:
 * Internal error opening backing store for indexedDB.open.` The items kept
 * before are intact in both cases and readable again once there is space.
 */

import { GessoError } from '../../shared/errors';
import { describeStorageError, storageFailure } from '../storage-errors';

/** What the gallery was doing when it failed. */
export type GalleryAction = 'open' | 'read' | 'write' | 'delete';

const FREE_SPACE =
  'Free some space (delete images in the Gallery or model packs on the Models screen, or files elsewhere on the device)';

export function galleryError(error: unknown, action: GalleryAction): GessoError {
  if (error instanceof GessoError) return error;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'VersionError')
    return new GessoError(
      'storage-refused',
      'The gallery was saved by a newer version of Gesso. Reload Gesso to update it; nothing in the gallery was changed.',
      { cause: error },
    );
  const details = describeStorageError(error);
  if (storageFailure(error, true) === 'full') {
    const text =
      action === 'write'
        ? `The device is out of storage space (${details}). ${FREE_SPACE}, then generate again. The images already in the gallery are kept.`
        : action === 'delete'
          ? `The gallery could not be changed because the device is out of storage space (${details}). Nothing was deleted. Free some space on the device, then try again.`
          : `The gallery could not be read because the device is out of storage space (${details}). Nothing in it was deleted. ${FREE_SPACE}, then reload Gesso.`;
    return new GessoError('storage-full', text, { cause: error });
  }
  const text =
    action === 'open'
      ? `The gallery's database could not be opened (${details}). Nothing in it was deleted. This happens when the device is out of storage space or the database is damaged: free some space, close other Gesso tabs, then reload Gesso.`
      : action === 'write'
        ? `The gallery could not save the image (${details}). The images already in the gallery are kept. Try again; if it keeps failing, free some storage space or restart the browser.`
        : action === 'delete'
          ? `The gallery could not be changed (${details}). Nothing was deleted. Try again; if it keeps failing, restart the browser.`
          : `The gallery could not be read (${details}). Nothing in it was deleted. Reload Gesso; if it keeps failing, free some storage space or restart the browser.`;
  return new GessoError('storage-refused', text, { cause: error });
}

/** The sentence for a database that opened but lacks one of the gallery's stores or its index. */
export function damagedDatabaseError(missing: string): GessoError {
  return new GessoError(
    'storage-refused',
    `The gallery's database is damaged: ${missing} is missing. Gesso has left it as it is. To start a new, empty gallery, clear this site's data in the browser's settings (that deletes the images in it).`,
  );
}

/** The sentence for a gallery the browser discarded (found empty and new where one had been kept). */
export function lostGalleryNotice(count: number): string {
  const held = count === 1 ? 'the 1 image it held' : `the ${count} images it held`;
  return `The gallery's database was gone when Gesso opened it: the browser discarded it, with ${held}. This can happen after the device runs out of storage space. Those images cannot be brought back (the ones you saved or shared are safe); a new, empty gallery was started. Free some space so that it does not happen again.`;
}
