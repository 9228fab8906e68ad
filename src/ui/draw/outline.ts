/**
 * The drawn outline as the line mask a ControlNet reads: every stroke's
 * centre line at one thin width (about 3% of the image width, whatever the
 * brush was), with eraser strokes taking away what they covered at their own
 * brush width. Pure, so it runs in Node.
 */

import type { Stroke } from '../../shared/regions/layout';
import { paintStroke, type Size } from '../../shared/regions/masks';

/** The line width as a fraction of the image width. */
export const OUTLINE_LINE_WIDTH = 0.03;

/** The line width in pixels for an image `width` pixels wide (2 at 64, 15 at 512; at least 1). */
export function outlineLinePixels(width: number): number {
  return Math.max(1, Math.round(width * OUTLINE_LINE_WIDTH));
}

/**
 * The outline at `size`, row-major, 255 on the lines and 0 elsewhere, or
 * null when no line is left (nothing drawn, or all of it erased). Strokes of
 * every region count, in order.
 */
export function rasterizeOutline(strokes: readonly Stroke[], size: Size): Uint8Array | null {
  const line = outlineLinePixels(size.width) / size.width;
  const mask = new Float32Array(size.width * size.height);
  for (const stroke of strokes)
    paintStroke(
      mask,
      size,
      stroke.erase
        ? stroke
        : { ...stroke, points: stroke.points.map((p) => ({ ...p, width: line })) },
    );
  if (!mask.some((v) => v > 0)) return null;
  return Uint8Array.from(mask, (v) => (v > 0 ? 255 : 0));
}
