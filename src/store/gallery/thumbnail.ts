/** Gallery thumbnails: small WebP (or PNG) copies for the grid. */

import {
  canvasToBlob,
  context2d,
  makeCanvas,
  toImageData,
  type RgbaImage,
} from '../../shared/rgba';
import { fitWithin } from './paging';

export const THUMBNAIL_MAX = 256;

/** A small WebP (PNG where WebP is missing, or the image is small already), at most THUMBNAIL_MAX a side. */
export async function makeThumbnail(image: Blob | RgbaImage): Promise<Blob> {
  const bitmap = await createImageBitmap(image instanceof Blob ? image : toImageData(image));
  try {
    const size = fitWithin(bitmap.width, bitmap.height, THUMBNAIL_MAX);
    const canvas = makeCanvas(size.width, size.height);
    const context = context2d(canvas);
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, 0, 0, size.width, size.height);
    // Lossless when nothing was scaled down (small images are shown as crisp pixels).
    const same = size.width === bitmap.width && size.height === bitmap.height;
    return await canvasToBlob(canvas, same ? 'image/png' : 'image/webp', 0.85);
  } finally {
    bitmap.close();
  }
}
