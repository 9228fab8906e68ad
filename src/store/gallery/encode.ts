/** Pixels to PNG and thumbnails, with whatever canvas the context has (page or worker). */

import { GessoError } from '../../shared/errors';
import { fitWithin } from './paging';

/** RGBA pixels in ImageData's layout (src/engine/image.ts `RgbaImage`). */
export interface RgbaPixels {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

type AnyCanvas = OffscreenCanvas | HTMLCanvasElement;

function makeCanvas(width: number, height: number): AnyCanvas {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

function context2d(
  canvas: AnyCanvas,
): OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D {
  const context = canvas.getContext('2d') as
    OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
  if (!context) throw new GessoError('internal', 'This browser cannot draw images (no 2D canvas).');
  return context;
}

async function toBlob(canvas: AnyCanvas, type: string, quality?: number): Promise<Blob> {
  if ('convertToBlob' in canvas) return canvas.convertToBlob({ type, quality });
  return new Promise((resolve, reject) =>
    canvas.toBlob(
      (blob) =>
        blob ? resolve(blob) : reject(new GessoError('internal', 'Could not encode the image.')),
      type,
      quality,
    ),
  );
}

/** Lossless PNG of the pixels (opaque pixels come back exactly). */
export async function encodePng(pixels: RgbaPixels): Promise<Blob> {
  const canvas = makeCanvas(pixels.width, pixels.height);
  const data = new ImageData(new Uint8ClampedArray(pixels.data), pixels.width, pixels.height);
  context2d(canvas).putImageData(data, 0, 0);
  return toBlob(canvas, 'image/png');
}

export const THUMBNAIL_MAX = 256;

/** A small WebP (PNG where WebP is missing, or the image is small already), at most THUMBNAIL_MAX a side. */
export async function makeThumbnail(image: Blob | RgbaPixels): Promise<Blob> {
  const bitmap =
    image instanceof Blob
      ? await createImageBitmap(image)
      : await createImageBitmap(
          new ImageData(new Uint8ClampedArray(image.data), image.width, image.height),
        );
  try {
    const size = fitWithin(bitmap.width, bitmap.height, THUMBNAIL_MAX);
    const canvas = makeCanvas(size.width, size.height);
    const context = context2d(canvas);
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, 0, 0, size.width, size.height);
    // Lossless when nothing was scaled down (small images are shown as crisp pixels).
    const same = size.width === bitmap.width && size.height === bitmap.height;
    return await toBlob(canvas, same ? 'image/png' : 'image/webp', 0.85);
  } finally {
    bitmap.close();
  }
}
