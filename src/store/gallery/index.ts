/** The gallery store: generated images with their recipes, in their own IndexedDB database. */

export {
  clearGallery,
  countItems,
  deleteItem,
  dismissGalleryLossReport,
  galleryLossReport,
  galleryUsage,
  gallerySizeBytes,
  getImage,
  getItem,
  listPage,
  onGalleryChange,
  recipePng,
  saveExplanation,
  saveGeneration,
  type DeletedItem,
  type GalleryEntry,
  type GalleryItem,
  type GalleryPage,
  type GalleryUsage,
  type PageCursor,
} from './gallery';
export { GALLERY_DB_NAME, type StoredExplanation } from './db';
