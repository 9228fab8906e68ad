/**
 * The gallery's own IndexedDB database, apart from the model store: item
 * records (small, with the recipe), full PNGs and thumbnails in three stores,
 * so that paging the grid never reads a full image.
 */

import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Recipe, RunInfo } from '../../shared/recipe';

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

let opening: Promise<GalleryDb> | null = null;

export function openGalleryDb(): Promise<GalleryDb> {
  opening ??= openDB<GallerySchema>(GALLERY_DB_NAME, VERSION, {
    upgrade(db) {
      const items = db.createObjectStore('items', { keyPath: 'id' });
      items.createIndex('byCreated', ['createdAt', 'id']);
      db.createObjectStore('images', { keyPath: 'id' });
      db.createObjectStore('thumbs', { keyPath: 'id' });
    },
    blocking() {
      // A newer version wants to open (another tab updated): let it.
      void opening?.then((db) => db.close());
      opening = null;
    },
    terminated() {
      opening = null;
    },
  }).catch((error: unknown) => {
    opening = null;
    throw error;
  });
  return opening;
}
