/**
 * The gallery's own IndexedDB database, apart from the model store: item
 * records (small, with the recipe), full PNGs and thumbnails in three stores,
 * so that paging the grid never reads a full image.
 */

import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Recipe, RunInfo } from '../../shared/recipe';
import { damagedDatabaseError, galleryError } from './errors';

export const GALLERY_DB_NAME = 'gesso-gallery';
const VERSION = 1;

export interface GalleryItem {
  /** Random, unique. */
  id: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  recipe: Recipe;
  run: RunInfo;
  /** Bytes of the full PNG (with its text chunks) and of the thumbnail. */
  pngBytes: number;
  thumbBytes: number;
  /** Which word painted where, when the user asked (Explain). */
  explanation?: StoredExplanation;
}

/** An explanation as kept: one PNG heat map per prompt word, image-sized. */
export interface StoredExplanation {
  width: number;
  height: number;
  prompts: { label: string; prompt: string; words: { word: string; png: Blob }[] }[];
}

export interface BlobRecord {
  id: string;
  blob: Blob;
}

export interface GallerySchema extends DBSchema {
  items: { key: string; value: GalleryItem; indexes: { byCreated: [number, string] } };
  images: { key: string; value: BlobRecord };
  thumbs: { key: string; value: BlobRecord };
}

export type GalleryDb = IDBPDatabase<GallerySchema>;

const STORES = ['items', 'images', 'thumbs'] as const;

// ---------------------------------------------------------------- what was kept before

/**
 * How many items the gallery held after its last change, kept outside
 * IndexedDB (localStorage, cleared with the site's data like the database).
 * When the database turns up new and empty while this says it held images,
 * the browser discarded it: that is reported, never passed over.
 */
const KEPT_KEY = 'gesso.gallery.kept';
/** The report of a discarded gallery, until the user dismisses it: {count, at}. */
const LOST_KEY = 'gesso.gallery.lost';

function local(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // storage refused (e.g. disabled by the user)
  }
}

/** Records how many items the gallery holds now (after a write, a delete or an open). */
export function rememberCount(count: number): void {
  try {
    local()?.setItem(KEPT_KEY, String(count));
  } catch {
    // A full disk can refuse this too; the next successful change records it.
  }
}

function keptBefore(): number {
  const count = Number(local()?.getItem(KEPT_KEY) ?? 0);
  return Number.isFinite(count) && count > 0 ? count : 0;
}

export interface LostGallery {
  /** Items the discarded database held. */
  count: number;
  /** When the loss was found (ms since the epoch). */
  at: number;
}

/** The discarded gallery not yet dismissed, if any. */
export function lostGallery(): LostGallery | null {
  try {
    const json = local()?.getItem(LOST_KEY);
    if (!json) return null;
    const value = JSON.parse(json) as Partial<LostGallery>;
    return typeof value.count === 'number' && typeof value.at === 'number'
      ? { count: value.count, at: value.at }
      : null;
  } catch {
    return null;
  }
}

export function dismissLostGallery(): void {
  try {
    local()?.removeItem(LOST_KEY);
  } catch {
    // nothing to do
  }
}

function recordLost(count: number): void {
  try {
    local()?.setItem(LOST_KEY, JSON.stringify({ count, at: Date.now() } satisfies LostGallery));
    local()?.setItem(KEPT_KEY, '0');
  } catch {
    // reported in this page at least (lostFound)
  }
}

/** Set when this page found the gallery discarded; taken once by the gallery module to tell listeners. */
let lostFound: LostGallery | null = null;

export function takeLostFound(): LostGallery | null {
  const found = lostFound;
  lostFound = null;
  return found;
}

// ---------------------------------------------------------------- opening

/** What the open database lacks of the gallery's schema, in words; null when it is whole. */
function missingPart(db: GalleryDb): string | null {
  for (const name of STORES) if (!db.objectStoreNames.contains(name)) return `its “${name}” store`;
  const tx = db.transaction('items', 'readonly');
  const whole = tx.store.indexNames.contains('byCreated');
  void tx.done.catch(() => undefined);
  return whole ? null : 'the index of its items by date';
}

let opening: Promise<GalleryDb> | null = null;

/**
 * The gallery database. Never deletes or replaces anything: a database that
 * cannot be opened, is newer than this app, or lacks part of its schema is
 * a GessoError with a sentence; one the browser discarded (new and empty
 * where images had been kept) is recorded for the Gallery screen to report.
 */
export function openGalleryDb(): Promise<GalleryDb> {
  opening ??= openDB<GallerySchema>(GALLERY_DB_NAME, VERSION, {
    upgrade(db, oldVersion) {
      if (oldVersion === 0) {
        const before = keptBefore();
        if (before > 0) {
          lostFound = { count: before, at: Date.now() };
          recordLost(before);
        }
      }
      // Only what is missing is created: nothing existing is dropped.
      if (!db.objectStoreNames.contains('items')) {
        const items = db.createObjectStore('items', { keyPath: 'id' });
        items.createIndex('byCreated', ['createdAt', 'id']);
      }
      if (!db.objectStoreNames.contains('images'))
        db.createObjectStore('images', { keyPath: 'id' });
      if (!db.objectStoreNames.contains('thumbs'))
        db.createObjectStore('thumbs', { keyPath: 'id' });
    },
    blocking() {
      // A newer version wants to open (another tab updated): let it.
      void opening?.then((db) => db.close());
      opening = null;
    },
    terminated() {
      // The browser closed the connection (e.g. after an I/O error): open afresh next time.
      opening = null;
    },
  })
    .catch((error: unknown) => {
      throw galleryError(error, 'open');
    })
    .then((db) => {
      const missing = missingPart(db);
      if (missing) {
        db.close();
        throw damagedDatabaseError(missing);
      }
      db.count('items').then(rememberCount, () => undefined);
      return db;
    })
    .catch((error: unknown) => {
      opening = null;
      throw error;
    });
  return opening;
}
