import { describe, expect, it } from 'vitest';
import type { Stroke } from '../../../../src/shared/regions/layout';
import { outlineLinePixels, rasterizeOutline } from '../../../../src/ui/draw/outline';

/** A stroke from (x0, y0) to (x1, y1) in image fractions, with a brush `width` wide. */
const line = (
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  width = 0.2,
  erase = false,
): Stroke => ({
  region: 1,
  erase,
  points: [
    { x: x0, y: y0, width },
    { x: x1, y: y1, width },
  ],
});

/** How many pixels of column x are on a line. */
function columnCount(mask: Uint8Array, size: number, x: number): number {
  let n = 0;
  for (let y = 0; y < size; y++) if (mask[y * size + x] === 255) n++;
  return n;
}

describe('outline mask', () => {
  it('draws lines about 3% of the image wide: 2 px at 64, 15 px at 512', () => {
    expect(outlineLinePixels(64)).toBe(2);
    expect(outlineLinePixels(512)).toBe(15);
    expect(outlineLinePixels(16)).toBe(1);
    for (const size of [64, 512]) {
      // A horizontal stroke a little off the pixel grid, drawn with a wide brush.
      const y = 0.5 + 0.3 / size;
      const mask = rasterizeOutline([line(0.1, y, 0.9, y, 0.25)], { width: size, height: size })!;
      const thickness = columnCount(mask, size, size / 2);
      expect(thickness).toBe(outlineLinePixels(size));
      expect(columnCount(mask, size, 0)).toBe(0); // left of the stroke's start (and its round cap)
    }
  });

  it('is 255 on the lines and 0 elsewhere, whatever the brush size', () => {
    const size = { width: 64, height: 64 };
    const thin = rasterizeOutline([line(0.2, 0.5, 0.8, 0.5, 0.01)], size)!;
    const wide = rasterizeOutline([line(0.2, 0.5, 0.8, 0.5, 0.4)], size)!;
    expect(wide).toEqual(thin);
    expect(new Set(thin)).toEqual(new Set([0, 255]));
    expect(thin.length).toBe(64 * 64);
  });

  it('takes away what an eraser stroke covered, at the eraser brush width', () => {
    const size = { width: 64, height: 64 };
    const drawn = line(0.1, 0.5, 0.9, 0.5);
    // An eraser swept down the middle, 0.2 of the width wide: the line is cut from x 0.4 to 0.6.
    const cut = rasterizeOutline([drawn, line(0.5, 0, 0.5, 1, 0.2, true)], size)!;
    expect(columnCount(cut, 64, 32)).toBe(0);
    expect(columnCount(cut, 64, 24)).toBe(2);
    expect(columnCount(cut, 64, 40)).toBe(2);
    // A line drawn after the eraser stays.
    const redrawn = rasterizeOutline([drawn, line(0.5, 0, 0.5, 1, 0.2, true), drawn], size)!;
    expect(columnCount(redrawn, 64, 32)).toBe(2);
  });

  it('is null when nothing is drawn or everything is erased', () => {
    const size = { width: 64, height: 64 };
    expect(rasterizeOutline([], size)).toBeNull();
    expect(rasterizeOutline([line(0.5, 0, 0.5, 1, 0.2, true)], size)).toBeNull();
    expect(
      rasterizeOutline([line(0.2, 0.5, 0.8, 0.5), line(0, 0.5, 1, 0.5, 0.5, true)], size),
    ).toBeNull();
  });

  it('draws a single tap as a dot', () => {
    const dot: Stroke = { region: 1, erase: false, points: [{ x: 0.5, y: 0.5, width: 0.3 }] };
    const mask = rasterizeOutline([dot], { width: 64, height: 64 })!;
    expect(mask.filter((v) => v === 255).length).toBeGreaterThan(0);
    expect(mask.filter((v) => v === 255).length).toBeLessThanOrEqual(9);
  });
});
