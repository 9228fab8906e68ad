/**
 * Regional denoising for any pack (MultiDiffusion-style): at every step the
 * UNet predicts noise for the main prompt and for each region's prompt, and
 * the predictions are blended per latent cell by the region weights. Prompts
 * whose weight is zero everywhere are not run at all.
 *
 * The pipeline's own per-step "predict noise" function is wrapped, so the
 * schedulers, previews and decoding stay as they are.
 */

import { combinePredictions, type LatentShape } from './combine';

/** One UNet evaluation for a single prompt's conditioning. */
export type PredictOne<C> = (
  sample: Float32Array,
  step: number,
  condition: C,
) => Promise<Float32Array>;
/** Several prompts in one UNet call (batch dimension = prompts); returns one prediction each. */
export type PredictMany<C> = (
  sample: Float32Array,
  step: number,
  conditions: readonly C[],
) => Promise<Float32Array[]>;

export interface RegionalOptions<C> {
  /** conditions[0] is the main prompt, then one per region, in the order of `weights`. */
  conditions: readonly C[];
  weights: readonly Float32Array[];
  shape: LatentShape;
  /** Used when the UNet takes a batch of prompts in one call. */
  predictMany?: PredictMany<C>;
}

export interface RegionalStats {
  /** UNet calls made so far. */
  calls: number;
  /** Prompt evaluations made so far (a batched call counts each prompt). */
  evaluations: number;
}

export function isUsed(weight: Float32Array): boolean {
  for (let i = 0; i < weight.length; i++) if (weight[i]! > 1e-6) return true;
  return false;
}

/** Wraps `predictOne` into a step function that blends every prompt's prediction. */
export function regionalPredictor<C>(
  predictOne: PredictOne<C>,
  options: RegionalOptions<C>,
): ((sample: Float32Array, step: number) => Promise<Float32Array>) & { stats: RegionalStats } {
  const { conditions, weights, shape, predictMany } = options;
  if (conditions.length !== weights.length)
    throw new Error(
      `regionalPredictor: ${conditions.length} conditions for ${weights.length} weights`,
    );
  const used = weights.map((w, k) => ({ w, c: conditions[k]! })).filter(({ w }) => isUsed(w));
  const stats: RegionalStats = { calls: 0, evaluations: 0 };
  const predict = async (sample: Float32Array, step: number): Promise<Float32Array> => {
    if (used.length === 1) {
      stats.calls++;
      stats.evaluations++;
      // A single prompt covering everything: its own prediction, unchanged.
      return predictOne(sample, step, used[0]!.c);
    }
    let predictions: Float32Array[];
    if (predictMany) {
      predictions = await predictMany(
        sample,
        step,
        used.map((u) => u.c),
      );
      stats.calls++;
    } else {
      predictions = [];
      for (const u of used) {
        predictions.push(await predictOne(sample, step, u.c));
        stats.calls++;
      }
    }
    stats.evaluations += used.length;
    return combinePredictions(
      predictions,
      used.map((u) => u.w),
      shape,
    );
  };
  return Object.assign(predict, { stats });
}

/** True when the model's first input dimension is symbolic, i.e. it accepts batch > 1. */
export function hasDynamicBatch(shape: readonly (number | string)[]): boolean {
  const first = shape[0];
  return typeof first === 'string' || (typeof first === 'number' && first < 0);
}
