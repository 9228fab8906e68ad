/** The gallery's line in the storage summary on the Models screen. */

import { useEffect, useState } from 'preact/hooks';
import { GessoError } from '../../shared/errors';
import {
  clearGallery,
  galleryUsage,
  onGalleryChange,
  type GalleryUsage,
} from '../../store/gallery';
import { formatBytes } from '../../shared/format';
import './gallery.css';

/**
 * The gallery's line in a storage summary (the Models screen mounts it):
 * how many images, how many bytes, and "Clear gallery" with a confirmation.
 */
export function GalleryStorage() {
  const [usage, setUsage] = useState<GalleryUsage | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const refresh = () =>
      galleryUsage()
        .then((value) => live && setUsage(value))
        .catch(
          (cause: unknown) =>
            live && setError(cause instanceof GessoError ? cause.message : String(cause)),
        );
    void refresh();
    const stop = onGalleryChange(() => void refresh());
    return () => {
      live = false;
      stop();
    };
  }, []);

  async function clear() {
    setBusy(true);
    try {
      await clearGallery();
      setConfirming(false);
    } catch (cause) {
      setError(cause instanceof GessoError ? cause.message : String(cause));
    } finally {
      setBusy(false);
    }
  }

  const count = usage?.count ?? 0;
  const summary = usage
    ? `${count} ${count === 1 ? 'image' : 'images'}, ${formatBytes(usage.bytes)}`
    : 'Counting…';
  return (
    <section class="gallery-storage" aria-labelledby="gallery-storage-title">
      <div class="gallery-storage-row">
        <div>
          <h2 id="gallery-storage-title">Gallery</h2>
          <p class="gallery-storage-size">{summary}</p>
        </div>
        {!confirming && (
          <button
            type="button"
            disabled={!usage || count === 0}
            onClick={() => setConfirming(true)}
          >
            Clear gallery
          </button>
        )}
      </div>
      {confirming && (
        <div class="gallery-storage-confirm" role="group" aria-label="Confirm clearing the gallery">
          <p>
            Delete all {count} {count === 1 ? 'image' : 'images'} in the gallery? This cannot be
            undone.
          </p>
          <button type="button" class="danger" disabled={busy} onClick={() => void clear()}>
            Delete all
          </button>
          <button type="button" disabled={busy} onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      )}
      {error && <p role="alert">{error}</p>}
    </section>
  );
}
