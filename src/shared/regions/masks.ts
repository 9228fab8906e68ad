/**
 * Region masks, pure (no canvas) so they run in Node and in the worker:
 * strokes are rasterised at image resolution, area-averaged down to the
 * latent grid, softened at the edges, and turned into per-prompt weights that
 * sum to 1 in every latent cell (index 0 is the main prompt).
 */

import {
  activeRegions,
  type LayoutPoint,
  type Region,
  type RegionLayout,
  type Stroke,
} from './layout';

export interface Size {
  width: number;
  height: number;
}

/** Coverage 0..1 per pixel, row-major. */
export type Mask = Float32Array;

/** Sets `value` in every pixel whose centre lies inside the round-capped segment a-b. */
export function paintSegment(
  mask: Mask,
  size: Size,
  a: LayoutPoint,
  b: LayoutPoint,
  value: number,
): void {
  const { width, height } = size;
  const ax = a.x * width;
  const ay = a.y * height;
  const bx = b.x * width;
  const by = b.y * height;
  const ra = Math.max(0.5, (a.width * width) / 2);
  const rb = Math.max(0.5, (b.width * width) / 2);
  const r = Math.max(ra, rb);
  const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - r));
  const x1 = Math.min(width - 1, Math.ceil(Math.max(ax, bx) + r));
  const y0 = Math.max(0, Math.floor(Math.min(ay, by) - r));
  const y1 = Math.min(height - 1, Math.ceil(Math.max(ay, by) + r));
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  for (let y = y0; y <= y1; y++) {
    const py = y + 0.5;
    for (let x = x0; x <= x1; x++) {
      const px = x + 0.5;
      const t = len2 > 0 ? Math.min(1, Math.max(0, ((px - ax) * dx + (py - ay) * dy) / len2)) : 0;
      const qx = ax + t * dx - px;
      const qy = ay + t * dy - py;
      const radius = ra + t * (rb - ra);
      if (qx * qx + qy * qy <= radius * radius) mask[y * width + x] = value;
    }
  }
}

/** Paints (or erases) one stroke into a mask. */
export function paintStroke(mask: Mask, size: Size, stroke: Stroke): void {
  const value = stroke.erase ? 0 : 1;
  const pts = stroke.points;
  if (pts.length === 1) paintSegment(mask, size, pts[0]!, pts[0]!, value);
  for (let i = 1; i < pts.length; i++) paintSegment(mask, size, pts[i - 1]!, pts[i]!, value);
}

/** One region's layer at `size`: its strokes, paint and erase, in order. */
export function rasterizeRegion(strokes: readonly Stroke[], region: number, size: Size): Mask {
  const mask = new Float32Array(size.width * size.height);
  for (const s of strokes) if (s.region === region) paintStroke(mask, size, s);
  return mask;
}

/** Area average over `factor` x `factor` blocks (size must divide by factor). */
export function downsample(mask: Mask, size: Size, factor: number): Mask {
  const w = Math.floor(size.width / factor);
  const h = Math.floor(size.height / factor);
  const out = new Float32Array(w * h);
  const inv = 1 / (factor * factor);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let sum = 0;
      for (let j = 0; j < factor; j++) {
        const row = (y * factor + j) * size.width + x * factor;
        for (let i = 0; i < factor; i++) sum += mask[row + i]!;
      }
      out[y * w + x] = sum * inv;
    }
  return out;
}

/** Separable [1 2 1]/4 blur, repeated `passes` times, edges replicated. */
export function blur(mask: Mask, size: Size, passes = 1): Mask {
  const { width: w, height: h } = size;
  let src = mask;
  for (let p = 0; p < passes; p++) {
    const tmp = new Float32Array(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const l = src[y * w + Math.max(0, x - 1)]!;
        const r = src[y * w + Math.min(w - 1, x + 1)]!;
        tmp[y * w + x] = 0.25 * l + 0.5 * src[y * w + x]! + 0.25 * r;
      }
    const out = new Float32Array(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const u = tmp[Math.max(0, y - 1) * w + x]!;
        const d = tmp[Math.min(h - 1, y + 1) * w + x]!;
        out[y * w + x] = 0.25 * u + 0.5 * tmp[y * w + x]! + 0.25 * d;
      }
    src = out;
  }
  return src;
}

export interface RegionWeights {
  /** Latent grid size. */
  width: number;
  height: number;
  /** The regions the weights are for, in order (weights[i + 1] is regions[i]). */
  regions: Region[];
  /** weights[0] is the main prompt; every cell sums to 1 across the list. */
  weights: Float32Array[];
}

export interface WeightOptions {
  /** Blur passes at latent resolution for soft edges (default 1; 0 = hard). */
  blurPasses?: number;
}

/**
 * Region coverage a_r = mask_r * strength_r. Where the coverages add up to
 * at most 1 the main prompt takes the rest; where they overlap beyond 1
 * they share the cell in proportion and the main prompt gets none.
 */
export function normalizeWeights(
  coverage: readonly Float32Array[],
  strengths: readonly number[],
): Float32Array[] {
  const n = coverage[0]?.length ?? 0;
  const base = new Float32Array(n);
  const out = coverage.map(() => new Float32Array(n));
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let r = 0; r < coverage.length; r++) sum += coverage[r]![i]! * strengths[r]!;
    const scale = sum > 1 ? 1 / sum : 1;
    let used = 0;
    for (let r = 0; r < coverage.length; r++) {
      const w = coverage[r]![i]! * strengths[r]! * scale;
      out[r]![i] = w;
      used += w;
    }
    base[i] = Math.max(0, 1 - used);
  }
  return [base, ...out];
}

/** Per-prompt latent weights for a layout (regions that are hidden, empty or unpainted are left out). */
export function regionWeights(
  layout: RegionLayout,
  image: Size,
  downscale: number,
  options: WeightOptions = {},
): RegionWeights {
  const latent = {
    width: Math.floor(image.width / downscale),
    height: Math.floor(image.height / downscale),
  };
  const regions = activeRegions(layout);
  const coverage = regions.map((r) =>
    blur(
      downsample(rasterizeRegion(layout.strokes, r.id, image), image, downscale),
      latent,
      options.blurPasses ?? 1,
    ),
  );
  const weights = regions.length
    ? normalizeWeights(
        coverage,
        regions.map((r) => Math.min(1, Math.max(0, r.strength))),
      )
    : [new Float32Array(latent.width * latent.height).fill(1)];
  return { ...latent, regions, weights };
}
