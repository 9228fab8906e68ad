/** Decoder output (CHW floats) <-> RGBA bytes, and latent helpers. */

import type { RgbaImage } from '../shared/rgba';

export type DecoderRange = 'minus-one-to-one' | 'zero-to-one';

/**
 * A [1, C, H, W] image in [-1, 1] or [0, 1] to RGBA. One channel is grey;
 * three or more use the first three as RGB. Values are clamped, then rounded.
 */
export function chwToRgba(
  values: Float32Array,
  dims: readonly number[],
  range: DecoderRange,
): RgbaImage {
  const channels = dims.length === 4 ? dims[1]! : dims[0]!;
  const height = dims[dims.length - 2]!;
  const width = dims[dims.length - 1]!;
  const plane = width * height;
  const data = new Uint8ClampedArray(plane * 4);
  const scale = range === 'minus-one-to-one' ? 127.5 : 255;
  const offset = range === 'minus-one-to-one' ? 1 : 0;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = values[(channels >= 3 ? c : 0) * plane + i]!;
      const clamped = Math.min(1, Math.max(offset ? -1 : 0, v));
      data[i * 4 + c] = Math.round((clamped + offset) * scale);
    }
    data[i * 4 + 3] = 255;
  }
  return { width, height, data };
}

/** `values * factor`, as a new array (UNet latents -> decoder latents is `1 / scalingFactor`). */
export function scaled(values: Float32Array, factor: number): Float32Array {
  if (factor === 1) return values;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]! * factor;
  return out;
}

/** RGBA bytes to a [1, 3, H, W] image in [-1, 1] (what a VAE encoder takes), alpha dropped. */
export function rgbaToChw(image: RgbaImage): Float32Array {
  const plane = image.width * image.height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++)
    for (let c = 0; c < 3; c++) out[c * plane + i] = image.data[i * 4 + c]! / 127.5 - 1;
  return out;
}
