/**
 * MultiDiffusion-style combination: each prompt's noise prediction for the
 * whole latent, blended per latent cell by that prompt's weight.
 */

export interface LatentShape {
  channels: number;
  height: number;
  width: number;
}

/**
 * `predictions[k]` is prompt k's prediction [C, H, W] (or one batched
 * [K, C, H, W] array split by `splitBatch`); `weights[k]` is [H, W].
 * Returns sum_k weights[k] * predictions[k].
 */
export function combinePredictions(
  predictions: readonly Float32Array[],
  weights: readonly Float32Array[],
  shape: LatentShape,
): Float32Array {
  const plane = shape.height * shape.width;
  const size = shape.channels * plane;
  if (predictions.length !== weights.length)
    throw new Error(
      `combinePredictions: ${predictions.length} predictions for ${weights.length} weights`,
    );
  const out = new Float32Array(size);
  for (let k = 0; k < predictions.length; k++) {
    const p = predictions[k]!;
    const w = weights[k]!;
    if (p.length !== size || w.length !== plane)
      throw new Error('combinePredictions: shape mismatch');
    for (let c = 0; c < shape.channels; c++) {
      const off = c * plane;
      for (let i = 0; i < plane; i++) out[off + i]! += w[i]! * p[off + i]!;
    }
  }
  return out;
}

/** Views of a batched [K, ...] array as K arrays (no copy). */
export function splitBatch(batched: Float32Array, count: number): Float32Array[] {
  const size = batched.length / count;
  if (!Number.isInteger(size)) throw new Error('splitBatch: length does not divide by count');
  return Array.from({ length: count }, (_, k) => batched.subarray(k * size, (k + 1) * size));
}

/** Concatenates equal-length arrays into one batched [K, ...] array. */
export function stackBatch(items: readonly Float32Array[]): Float32Array {
  const size = items[0]?.length ?? 0;
  const out = new Float32Array(size * items.length);
  items.forEach((item, k) => out.set(item, k * size));
  return out;
}
