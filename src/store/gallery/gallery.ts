/** The gallery: every generated image with its recipe, on this device only. */

import { GessoError } from '../../shared/errors';
import { setPngText } from '../../shared/png-text';
import type { Recipe, RunInfo } from '../../shared/recipe';
import { recipeTextEntries } from '../../shared/recipe-text';
import { openGalleryDb, type BlobRecord, type GalleryItem } from './db';
import { encodePng, type RgbaImage } from '../../shared/rgba';
import { makeThumbnail } from './thumbnail';
import { newItemId, nextCursor, type PageCursor } from './paging';

export type { GalleryItem } from './db';
export type { PageCursor } from './paging';

// ---------------------------------------------------------------- change events

type Listener = () => void;
const listeners = new Set<Listener>();
const channel =
  typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel('gesso-gallery') : null;
channel?.addEventListener('message', () => listeners.forEach((listener) => listener()));

/** Calls `listener` whenever items are added, deleted, restored or cleared (in any tab). */
export function onGalleryChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function changed(): void {
  listeners.forEach((listener) => listener());
  channel?.postMessage('changed');
}

function storageError(error: unknown): never {
  if (error instanceof GessoError) throw error;
  if ((error as { name?: unknown } | null)?.name === 'QuotaExceededError')
    throw new GessoError(
      'storage-full',
      'The device is out of storage for the gallery. Delete some images or model packs and try again.',
      { cause: error },
    );
  throw new GessoError(
    'storage-refused',
    `The gallery could not be opened or written: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}

// ---------------------------------------------------------------- saving

/**
 * Keeps one result: encodes a PNG (unless given one), writes the recipe into
 * its text chunks (`parameters` and `gesso-recipe`), makes a thumbnail, and
 * stores all three. Returns the new item.
 */
export async function saveGeneration(
  recipe: Recipe,
  image: RgbaImage | Blob,
  run: RunInfo = { backend: 'unknown', timings: {} },
  createdAt = Date.now(),
): Promise<GalleryItem> {
  const plain = image instanceof Blob ? image : await encodePng(image);
  const withText = await setPngText(
    new Uint8Array(await plain.arrayBuffer()),
    recipeTextEntries(recipe, run, createdAt),
  );
  const png = new Blob([withText as Uint8Array<ArrayBuffer>], { type: 'image/png' });
  const thumb = await makeThumbnail(image instanceof Blob ? png : image);
  const item: GalleryItem = {
    id: newItemId(createdAt),
    createdAt,
    recipe,
    run,
    pngBytes: png.size,
    thumbBytes: thumb.size,
  };
  await putItem(item, png, thumb);
  return item;
}

async function putItem(item: GalleryItem, png: Blob, thumb: Blob): Promise<void> {
  try {
    const db = await openGalleryDb();
    const tx = db.transaction(['items', 'images', 'thumbs'], 'readwrite');
    await Promise.all([
      tx.objectStore('items').put(item),
      tx.objectStore('images').put({ id: item.id, blob: png }),
      tx.objectStore('thumbs').put({ id: item.id, blob: thumb }),
      tx.done,
    ]);
  } catch (error) {
    storageError(error);
  }
  changed();
}

// ---------------------------------------------------------------- reading

export interface GalleryEntry {
  item: GalleryItem;
  thumb: Blob | null;
}

export interface GalleryPage {
  entries: GalleryEntry[];
  /** Pass to the next listPage call; null after the last page. */
  next: PageCursor | null;
}

/** Up to `limit` items, newest first, after `cursor` (the previous page's `next`), with thumbnails. */
export async function listPage(cursor: PageCursor | null, limit = 60): Promise<GalleryPage> {
  try {
    const db = await openGalleryDb();
    const tx = db.transaction(['items', 'thumbs'], 'readonly');
    const range = cursor ? IDBKeyRange.upperBound([cursor.createdAt, cursor.id], true) : undefined;
    const items: GalleryItem[] = [];
    let at = await tx.objectStore('items').index('byCreated').openCursor(range, 'prev');
    while (at && items.length < limit) {
      items.push(at.value);
      if (items.length < limit) at = await at.continue();
    }
    const thumbs = tx.objectStore('thumbs');
    const records = await Promise.all(items.map((item) => thumbs.get(item.id)));
    await tx.done;
    return {
      entries: items.map((item, i) => ({ item, thumb: records[i]?.blob ?? null })),
      next: nextCursor(items, limit),
    };
  } catch (error) {
    storageError(error);
  }
}

export async function getItem(id: string): Promise<GalleryItem | null> {
  try {
    return (await (await openGalleryDb()).get('items', id)) ?? null;
  } catch (error) {
    storageError(error);
  }
}

/** The full PNG, text chunks included. */
export async function getImage(id: string): Promise<Blob | null> {
  try {
    return (await (await openGalleryDb()).get('images', id))?.blob ?? null;
  } catch (error) {
    storageError(error);
  }
}

export async function countItems(): Promise<number> {
  try {
    return await (await openGalleryDb()).count('items');
  } catch (error) {
    storageError(error);
  }
}

export interface GalleryUsage {
  count: number;
  bytes: number;
}

/** How many items and how many bytes of images and thumbnails the gallery holds. */
export async function galleryUsage(): Promise<GalleryUsage> {
  try {
    const db = await openGalleryDb();
    let count = 0;
    let bytes = 0;
    let at = await db.transaction('items').store.openCursor();
    while (at) {
      count++;
      bytes += at.value.pngBytes + at.value.thumbBytes;
      at = await at.continue();
    }
    return { count, bytes };
  } catch (error) {
    storageError(error);
  }
}

/** Bytes of images and thumbnails in the gallery (for the Models screen's storage summary). */
export async function gallerySizeBytes(): Promise<number> {
  return (await galleryUsage()).bytes;
}

// ---------------------------------------------------------------- deleting

export interface DeletedItem {
  item: GalleryItem;
  /** Puts the item back exactly as it was (same id, date, image and thumbnail). */
  undo(): Promise<void>;
}

/**
 * Deletes an item at once and keeps its data in memory, so `undo()` can put
 * it back until the caller drops the returned object.
 */
export async function deleteItem(id: string): Promise<DeletedItem> {
  let item: GalleryItem | undefined;
  let image: BlobRecord | undefined;
  let thumb: BlobRecord | undefined;
  try {
    const db = await openGalleryDb();
    const read = db.transaction(['items', 'images', 'thumbs'], 'readonly');
    [item, image, thumb] = await Promise.all([
      read.objectStore('items').get(id),
      read.objectStore('images').get(id),
      read.objectStore('thumbs').get(id),
    ]);
    if (!item) throw new GessoError('internal', 'This image is no longer in the gallery.');
    // Copy the bytes out before the records (and the files behind their Blobs) go.
    const png = image
      ? new Blob([await image.blob.arrayBuffer()], { type: image.blob.type })
      : null;
    const small = thumb
      ? new Blob([await thumb.blob.arrayBuffer()], { type: thumb.blob.type })
      : null;
    const write = db.transaction(['items', 'images', 'thumbs'], 'readwrite');
    await Promise.all([
      write.objectStore('items').delete(id),
      write.objectStore('images').delete(id),
      write.objectStore('thumbs').delete(id),
      write.done,
    ]);
    changed();
    const kept = item;
    let undone = false;
    return {
      item: kept,
      async undo() {
        if (undone) return;
        undone = true;
        await putItem(kept, png ?? new Blob([], { type: 'image/png' }), small ?? new Blob([]));
      },
    };
  } catch (error) {
    storageError(error);
  }
}

/** Deletes every item, image and thumbnail. */
export async function clearGallery(): Promise<void> {
  try {
    const db = await openGalleryDb();
    const tx = db.transaction(['items', 'images', 'thumbs'], 'readwrite');
    await Promise.all([
      tx.objectStore('items').clear(),
      tx.objectStore('images').clear(),
      tx.objectStore('thumbs').clear(),
      tx.done,
    ]);
  } catch (error) {
    storageError(error);
  }
  changed();
}
