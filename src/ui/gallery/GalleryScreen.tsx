/** The Gallery screen: the grid, one image opened, deletion with undo, and opening PNGs from elsewhere. */

import { useEffect, useRef, useState } from 'preact/hooks';
import { GessoError } from '../../shared/errors';
import {
  countItems,
  deleteItem,
  dismissGalleryLossReport,
  galleryLossReport,
  onGalleryChange,
  type DeletedItem,
  type GalleryItem,
} from '../../store/gallery';
import { remixInCreate } from '../app/remix';
import { recipeFromFile } from './files';
import { GalleryDetail } from './GalleryDetail';
import { GalleryGrid } from './GalleryGrid';
import './gallery.css';

/** How long "Undo" stays offered after a delete. */
export const UNDO_MS = 10_000;

/** The history entry pushed while an item is open, so the phone's Back button closes it. */
const ITEM_STATE = 'gesso-gallery-item';

/** The undo toast's sentence: how many images Undo brings back. */
export function deletedText(count: number): string {
  return count === 1 ? 'Image deleted.' : `${count} images deleted. Undo brings back all ${count}.`;
}

function message(error: unknown): string {
  return error instanceof GessoError || error instanceof Error ? error.message : String(error);
}

export function GalleryScreen() {
  const [open, setOpen] = useState<GalleryItem | null>(null);
  // Every delete since the undo offer opened: Undo puts them all back.
  const [deleted, setDeleted] = useState<DeletedItem[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const [count, setCount] = useState<number | null>(null);
  // A gallery the browser discarded is reported until dismissed, never passed over.
  const [loss, setLoss] = useState<string | null>(galleryLossReport);
  const opener = useRef<HTMLElement | null>(null);

  useEffect(() => {
    let live = true;
    const refresh = () => {
      setLoss(galleryLossReport());
      return countItems()
        .then((n) => live && setCount(n))
        .catch(() => live && setCount(null));
    };
    void refresh();
    const stop = onGalleryChange(() => void refresh());
    return () => {
      live = false;
      stop();
    };
  }, []);

  // Back (the phone's button or the browser's) closes an open item.
  useEffect(() => {
    const onPop = () => setOpen(null);
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  function show(item: GalleryItem) {
    opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    history.pushState({ [ITEM_STATE]: item.id }, '');
    setOpen(item);
  }

  function close() {
    if ((history.state as Record<string, unknown> | null)?.[ITEM_STATE]) history.back();
    else setOpen(null);
    opener.current?.focus();
  }

  // The undo offer ends UNDO_MS after the last delete; then the deleted data is dropped.
  useEffect(() => {
    if (deleted.length === 0) return;
    const timer = setTimeout(() => setDeleted([]), UNDO_MS);
    return () => clearTimeout(timer);
  }, [deleted]);

  async function remove(item: GalleryItem) {
    try {
      const gone = await deleteItem(item.id);
      setDeleted((d) => [...d, gone]);
      close();
    } catch (cause) {
      setError(message(cause));
    }
  }

  async function undo() {
    const pending = deleted;
    setDeleted([]);
    try {
      // Oldest first, each as it was (same id and date).
      for (const item of pending) await item.undo();
    } catch (cause) {
      setError(message(cause));
    }
  }

  async function restoreFrom(file: File | undefined) {
    if (!file) return;
    setError(null);
    try {
      const restored = await recipeFromFile(file);
      remixInCreate({
        recipe: restored.draft,
        exact: restored.exact,
        source: 'file',
        ...(restored.seedText ? { seedText: restored.seedText } : {}),
      });
    } catch (cause) {
      setError(message(cause));
    }
  }

  return (
    <section
      class={`screen gallery${dragging ? ' gallery-dragging' : ''}`}
      aria-labelledby="screen-title"
      onDragOver={(event) => {
        if (!event.dataTransfer?.types.includes('Files')) return;
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(event) => {
        event.preventDefault();
        setDragging(false);
        void restoreFrom(event.dataTransfer?.files[0]);
      }}
    >
      <div class="gallery-head">
        <h1 id="screen-title">Gallery</h1>
        <label class="button-like">
          Open image
          <input
            type="file"
            accept="image/png"
            class="visually-hidden"
            onChange={(event) => {
              void restoreFrom(event.currentTarget.files?.[0]);
              event.currentTarget.value = '';
            }}
          />
        </label>
      </div>
      {error && (
        <p role="alert" class="gallery-error">
          {error}
        </p>
      )}
      {loss && (
        <div role="alert" class="gallery-error gallery-loss">
          <p>{loss}</p>
          <button type="button" onClick={dismissGalleryLossReport}>
            Dismiss
          </button>
        </div>
      )}
      <p class="gallery-count">
        {count === null
          ? 'Kept on this device only.'
          : `${count} ${count === 1 ? 'image' : 'images'}, kept on this device only.`}
      </p>
      <GalleryGrid onOpen={show} />
      {open && (
        <GalleryDetail
          item={open}
          onClose={close}
          onRemix={(item) => remixInCreate({ recipe: item.recipe, exact: true, source: 'gallery' })}
          onDelete={(item) => void remove(item)}
        />
      )}
      {deleted.length > 0 && (
        <div class="toast" role="status">
          <span>{deletedText(deleted.length)}</span>
          <button type="button" onClick={() => void undo()}>
            Undo
          </button>
        </div>
      )}
    </section>
  );
}
