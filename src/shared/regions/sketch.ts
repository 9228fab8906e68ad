/**
 * The drawing as a picture: region colours over a white page (the demo
 * pack's images sit on white too). Used on screen (RGBA bytes) and as the
 * starting image for sketch-to-image (NCHW floats in [-1, 1]).
 */

import { rasterizeRegion, type Size } from './masks';
import type { RegionLayout } from './layout';

export type Rgb = [number, number, number];

export function parseColour(hex: string): Rgb {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return [0, 0, 0];
  return [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
}

/**
 * Visible regions painted in list order (later regions on top) into RGBA
 * bytes; unpainted pixels get `background` (transparent by default).
 */
export function renderRgba(
  layout: RegionLayout,
  size: Size,
  background: [number, number, number, number] = [0, 0, 0, 0],
): Uint8ClampedArray {
  const n = size.width * size.height;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) out.set(background, i * 4);
  for (const region of layout.regions) {
    if (region.hidden) continue;
    const mask = rasterizeRegion(layout.strokes, region.id, size);
    const [r, g, b] = parseColour(region.colour);
    for (let i = 0; i < n; i++) {
      if (mask[i]! < 0.5) continue;
      out[i * 4] = r;
      out[i * 4 + 1] = g;
      out[i * 4 + 2] = b;
      out[i * 4 + 3] = 255;
    }
  }
  return out;
}

/** The drawing on white as a [1, 3, H, W] tensor in [-1, 1] (what a VAE encoder takes). */
export function renderSketchTensor(layout: RegionLayout, size: Size): Float32Array {
  const rgba = renderRgba(layout, size, [255, 255, 255, 255]);
  const plane = size.width * size.height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++)
    for (let c = 0; c < 3; c++) out[c * plane + i] = (rgba[i * 4 + c]! / 255) * 2 - 1;
  return out;
}
