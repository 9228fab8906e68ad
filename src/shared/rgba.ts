/**
 * RGBA images (the engine's output, ImageData's layout) and the one way
 * Gesso turns them into PNG, with whatever canvas the context has: the page
 * (HTMLCanvasElement) or a worker (OffscreenCanvas).
 */

import { GessoError } from './errors';

export interface RgbaImage {
  width: number;
  height: number;
  /** width * height * 4 bytes, row-major, alpha 255: the layout of ImageData. */
  data: Uint8ClampedArray;
}

export type AnyCanvas = OffscreenCanvas | HTMLCanvasElement;

export function makeCanvas(width: number, height: number): AnyCanvas {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

export function context2d(
  canvas: AnyCanvas,
): OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D {
  const context = canvas.getContext('2d') as
    OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
  if (!context) throw new GessoError('internal', 'This browser cannot draw images (no 2D canvas).');
  return context;
}

export function toImageData(image: RgbaImage): ImageData {
  return new ImageData(new Uint8ClampedArray(image.data), image.width, image.height);
}

/** Draws the image at its own size, resizing the canvas to it. */
export function drawRgba(canvas: AnyCanvas, image: RgbaImage): void {
  canvas.width = image.width;
  canvas.height = image.height;
  context2d(canvas).putImageData(toImageData(image), 0, 0);
}

export async function canvasToBlob(
  canvas: AnyCanvas,
  type: string,
  quality?: number,
): Promise<Blob> {
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
export async function encodePng(image: RgbaImage): Promise<Blob> {
  const canvas = makeCanvas(image.width, image.height);
  drawRgba(canvas, image);
  return canvasToBlob(canvas, 'image/png');
}
