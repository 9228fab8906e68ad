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

function message(error: unknown): string {
  return error instanceof GessoError || error instanceof Error ? error.message : String(error);
}

export function GalleryScreen() {
  const [open, setOpen] = useState<GalleryItem | null>(null);
  const [deleted, setDeleted] = useState<DeletedItem | null>(null);
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

  // The undo offer ends after UNDO_MS; then the deleted data is dropped.
  useEffect(() => {
    if (!deleted) return;
    const timer = setTimeout(() => setDeleted(null), UNDO_MS);
    return () => clearTimeout(timer);
  }, [deleted]);

  async function remove(item: GalleryItem) {
    try {
      setDeleted(await deleteItem(item.id));
      close();
    } catch (cause) {
      setError(message(cause));
    }
  }

  async function undo() {
    const pending = deleted;
    setDeleted(null);
    try {
      await pending?.undo();
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
      {deleted && (
        <div class="toast" role="status">
          <span>Image deleted.</span>
          <button type="button" onClick={() => void undo()}>
            Undo
          </button>
        </div>
      )}
    </section>
  );
}
