/** Engine images (RGBA bytes) to what the page shows. */

import type { RgbaImage } from '../../engine/api';

function toImageData(image: RgbaImage): ImageData {
  return new ImageData(new Uint8ClampedArray(image.data), image.width, image.height);
}

export function drawRgba(canvas: HTMLCanvasElement, image: RgbaImage): void {
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext('2d')?.putImageData(toImageData(image), 0, 0);
}

/** A PNG blob of the image (for <img>, saving and sharing). */
export async function rgbaToPngBlob(image: RgbaImage): Promise<Blob> {
  const canvas = document.createElement('canvas');
  drawRgba(canvas, image);
  return new Promise((resolve, reject) =>
    canvas.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new Error('The image could not be encoded.'))),
      'image/png',
    ),
  );
}
