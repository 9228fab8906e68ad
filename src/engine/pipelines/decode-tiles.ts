/**
 * Tiled decoding, the pure part: where overlapping latent tiles start, the
 * crop of one tile, and the feathered blend of the decoded tiles back into
 * one image. Weights ramp linearly across each overlap with a neighbour, so
 * neighbouring tiles cross-fade; a pixel only one tile covers is that tile's.
 */

import { GessoError } from '../../shared/errors';

/** A square tile of `size` latent cells; neighbours overlap by at least `overlap` cells. */
export interface DecodeTile {
  size: number;
  overlap: number;
}

/**
 * Start offsets along one axis: tiles of side `tile` covering [0, size),
 * neighbours overlapping by at least `minOverlap`, spread evenly (first 0,
 * last size - tile). One tile, at 0, when it covers the axis alone.
 */
export function tileStarts(size: number, tile: number, minOverlap: number): number[] {
  if (!(tile > minOverlap && minOverlap >= 0))
    throw new GessoError(
      'internal',
      `A decode tile of ${tile} cells cannot overlap its neighbour by ${minOverlap}.`,
    );
  if (size <= tile) return [0];
  const count = Math.ceil((size - minOverlap) / (tile - minOverlap));
  return Array.from({ length: count }, (_, i) => Math.round((i * (size - tile)) / (count - 1)));
}

/** The [1, C, size, size] latent tile at (top, left) of [1, C, h, w] latents. */
export function cropLatents(
  latents: Float32Array,
  dims: readonly number[],
  top: number,
  left: number,
  height: number,
  width: number,
): Float32Array {
  const [, channels, h, w] = dims as [number, number, number, number];
  if (top < 0 || left < 0 || top + height > h || left + width > w)
    throw new GessoError(
      'internal',
      `A ${height}x${width} decode tile at (${top}, ${left}) falls outside ${h}x${w} latents.`,
    );
  const out = new Float32Array(channels * height * width);
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < height; y++) {
      const from = (c * h + top + y) * w + left;
      out.set(latents.subarray(from, from + width), (c * height + y) * width);
    }
  return out;
}

/**
 * Blend weights along one axis for tile `index` of tiles at `starts` (latent
 * cells, side `tile`), in output pixels (`scale` per cell): rising across the
 * overlap with the previous tile, falling across the overlap with the next,
 * 1 elsewhere. Sampled at pixel centres, so never 0 and the two ramps of an
 * overlap sum to 1.
 */
export function rampWeights(
  starts: readonly number[],
  index: number,
  tile: number,
  scale: number,
): Float32Array {
  const length = tile * scale;
  const start = starts[index]!;
  const rise = index > 0 ? (starts[index - 1]! + tile - start) * scale : 0;
  const fallFrom = index < starts.length - 1 ? (starts[index + 1]! - start) * scale : length;
  const fall = length - fallFrom;
  const weights = new Float32Array(length);
  for (let p = 0; p < length; p++) {
    const up = p < rise ? (p + 0.5) / rise : 1;
    const down = p >= fallFrom ? (length - p - 0.5) / fall : 1;
    weights[p] = Math.min(up, down);
  }
  return weights;
}

/** Sums weighted tiles of a [C, height, width] image (in float64, so one tile's pixels come back exactly). */
export class TileBlend {
  private readonly sum: Float64Array;
  private readonly weight: Float64Array;

  constructor(
    readonly channels: number,
    readonly height: number,
    readonly width: number,
  ) {
    this.sum = new Float64Array(channels * height * width);
    this.weight = new Float64Array(height * width);
  }

  /** Adds a [C, rowWeights.length, columnWeights.length] tile whose top-left pixel is (top, left). */
  add(
    pixels: Float32Array,
    top: number,
    left: number,
    rowWeights: Float32Array,
    columnWeights: Float32Array,
  ): void {
    const { channels, height, width } = this;
    const rows = rowWeights.length;
    const columns = columnWeights.length;
    if (
      pixels.length !== channels * rows * columns ||
      top + rows > height ||
      left + columns > width
    )
      throw new GessoError(
        'internal',
        `A decoded ${rows}x${columns} tile at (${top}, ${left}) does not fit the ${height}x${width} image.`,
      );
    for (let y = 0; y < rows; y++)
      for (let x = 0; x < columns; x++) {
        const w = rowWeights[y]! * columnWeights[x]!;
        const at = (top + y) * width + left + x;
        this.weight[at]! += w;
        for (let c = 0; c < channels; c++)
          this.sum[c * height * width + at]! += w * pixels[(c * rows + y) * columns + x]!;
      }
  }

  /** The blended image: each pixel's weighted sum over its summed weight. */
  result(): Float32Array {
    const plane = this.height * this.width;
    const out = new Float32Array(this.sum.length);
    for (let i = 0; i < out.length; i++) out[i] = this.sum[i]! / this.weight[i % plane]!;
    return out;
  }
}
