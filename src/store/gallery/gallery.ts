/** The gallery: every generated image with its recipe, on this device only. */

import { GessoError } from '../../shared/errors';
import { setPngText } from '../../shared/png-text';
import type { Recipe, RunInfo } from '../../shared/recipe';
import { recipeTextEntries } from '../../shared/recipe-text';
import {
  dismissLostGallery,
  lostGallery,
  openGalleryDb,
  rememberCount,
  takeLostFound,
  type BlobRecord,
  type GalleryDb,
  type GalleryItem,
  type StoredExplanation,
} from './db';
import { galleryError, lostGalleryNotice } from './errors';
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

/** Opens the database; tells listeners (every tab) when it found the gallery discarded. */
async function open(): Promise<GalleryDb> {
  const db = await openGalleryDb();
  if (takeLostFound()) changed();
  return db;
}

/**
 * A sentence about a gallery the browser discarded (found new and empty where
 * images had been kept), until dismissed; null when there is none.
 */
export function galleryLossReport(): string | null {
  const lost = lostGallery();
  return lost ? lostGalleryNotice(lost.count) : null;
}

export function dismissGalleryLossReport(): void {
  dismissLostGallery();
  changed();
}

// ---------------------------------------------------------------- saving

/**
 * The PNG Gesso keeps and gives out: the image (encoded losslessly unless
 * given as a PNG) with its recipe in text chunks (`parameters` and
 * `gesso-recipe`).
 */
export async function recipePng(
  recipe: Recipe,
  image: RgbaImage | Blob,
  run: RunInfo = { backend: 'unknown', timings: {} },
  createdAt = Date.now(),
): Promise<Blob> {
  const plain = image instanceof Blob ? image : await encodePng(image);
  const withText = await setPngText(
    new Uint8Array(await plain.arrayBuffer()),
    recipeTextEntries(recipe, run, createdAt),
  );
  return new Blob([withText as Uint8Array<ArrayBuffer>], { type: 'image/png' });
}

/**
 * Keeps one result: its PNG with the recipe (recipePng), a thumbnail, and the
 * record, written in one transaction, so an item is kept whole or not at all
 * and a failed write leaves every earlier item as it was. Returns the new item.
 */
export async function saveGeneration(
  recipe: Recipe,
  image: RgbaImage | Blob,
  run: RunInfo = { backend: 'unknown', timings: {} },
  createdAt = Date.now(),
): Promise<GalleryItem> {
  const png = await recipePng(recipe, image, run, createdAt);
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

/** One transaction for the record, the image and the thumbnail: all three are kept, or none. */
async function putItem(item: GalleryItem, png: Blob, thumb: Blob): Promise<void> {
  const db = await open();
  try {
    const tx = db.transaction(['items', 'images', 'thumbs'], 'readwrite');
    const items = tx.objectStore('items');
    const [, , , count] = await Promise.all([
      items.put(item),
      tx.objectStore('images').put({ id: item.id, blob: png }),
      tx.objectStore('thumbs').put({ id: item.id, blob: thumb }),
      items.count(),
      tx.done,
    ]);
    rememberCount(count);
  } catch (error) {
    throw galleryError(error, 'write');
  }
  changed();
}

/** Keeps an explanation with an item already in the gallery (one transaction; the item must exist). */
export async function saveExplanation(id: string, explanation: StoredExplanation): Promise<void> {
  const db = await open();
  try {
    const tx = db.transaction('items', 'readwrite');
    const item = await tx.store.get(id);
    if (!item) throw new GessoError('internal', 'This image is no longer in the gallery.');
    await Promise.all([tx.store.put({ ...item, explanation }), tx.done]);
  } catch (error) {
    if (error instanceof GessoError) throw error;
    throw galleryError(error, 'write');
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
    const db = await open();
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
    throw galleryError(error, 'read');
  }
}

export async function getItem(id: string): Promise<GalleryItem | null> {
  try {
    return (await (await open()).get('items', id)) ?? null;
  } catch (error) {
    throw galleryError(error, 'read');
  }
}

/** The full PNG, text chunks included. */
export async function getImage(id: string): Promise<Blob | null> {
  try {
    return (await (await open()).get('images', id))?.blob ?? null;
  } catch (error) {
    throw galleryError(error, 'read');
  }
}

export async function countItems(): Promise<number> {
  try {
    return await (await open()).count('items');
  } catch (error) {
    throw galleryError(error, 'read');
  }
}

export interface GalleryUsage {
  count: number;
  bytes: number;
}

/** How many items and how many bytes of images and thumbnails the gallery holds. */
export async function galleryUsage(): Promise<GalleryUsage> {
  try {
    const db = await open();
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
    throw galleryError(error, 'read');
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

/** A copy of a stored Blob's bytes; null when there is none or it cannot be read (a damaged item can still be deleted). */
async function copyOf(record: BlobRecord | undefined): Promise<Blob | null> {
  if (!record) return null;
  try {
    return new Blob([await record.blob.arrayBuffer()], { type: record.blob.type });
  } catch {
    return null;
  }
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
    const db = await open();
    const read = db.transaction(['items', 'images', 'thumbs'], 'readonly');
    [item, image, thumb] = await Promise.all([
      read.objectStore('items').get(id),
      read.objectStore('images').get(id),
      read.objectStore('thumbs').get(id),
    ]);
    if (!item) throw new GessoError('internal', 'This image is no longer in the gallery.');
    // Copy the bytes out before the records (and the files behind their Blobs) go.
    const [png, small] = await Promise.all([copyOf(image), copyOf(thumb)]);
    const write = db.transaction(['items', 'images', 'thumbs'], 'readwrite');
    const items = write.objectStore('items');
    const [, , , count] = await Promise.all([
      items.delete(id),
      write.objectStore('images').delete(id),
      write.objectStore('thumbs').delete(id),
      items.count(),
      write.done,
    ]);
    rememberCount(count);
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
    throw galleryError(error, 'delete');
  }
}

/** Deletes every item, image and thumbnail. */
export async function clearGallery(): Promise<void> {
  try {
    const db = await open();
    const tx = db.transaction(['items', 'images', 'thumbs'], 'readwrite');
    await Promise.all([
      tx.objectStore('items').clear(),
      tx.objectStore('images').clear(),
      tx.objectStore('thumbs').clear(),
      tx.done,
    ]);
    rememberCount(0);
  } catch (error) {
    throw galleryError(error, 'delete');
  }
  changed();
}
