/**
 * Regional prompts and sketch-to-image for any pipeline: a plan that the
 * engine hands to Pipeline.generate (GenerateOptions.predictor and .init),
 * asked for only when a layout has regions or a starting drawing.
 */

import { GessoError } from '../../shared/errors';
import { activeRegions, type RegionLayout } from '../../shared/regions/layout';
import { regionWeights, type RegionWeights } from '../../shared/regions/masks';
import { renderSketchTensor } from '../../shared/regions/sketch';
import type {
  Conditioning,
  GenerateRequest,
  InitLatents,
  NoisePredictor,
  Pipeline,
} from '../pipelines';
import { classifierFreeGuidance } from '../schedulers';
import type { ModelSession } from '../session';
import { encodeImage } from '../pipelines/encode';
import { combinePredictions } from './combine';
import { isUsed } from './regional';
import { runUnetBatch } from './unet-batch';

export interface RegionalPlan {
  /** Replaces the pipeline's per-step prediction; absent when no region takes part. */
  predictor?: NoisePredictor;
  /** The drawing as starting latents; absent unless the layout asks for it. */
  init?: InitLatents;
  weights: RegionWeights | null;
  /** UNet calls and prompt evaluations so far (for benchmarks and tests). */
  stats: { calls: number; evaluations: number };
}

export interface RegionalOptions {
  signal?: AbortSignal;
  /** Opens the pack's VAE encoder (null when the pack has none); needed for sketch-to-image only. */
  openEncoder?: () => Promise<ModelSession | null>;
  /** Force one UNet call per prompt (for comparison). */
  sequential?: boolean;
}

/** True when a layout changes generation at all (regions with strokes, or the drawing as start). */
export function layoutMatters(layout: RegionLayout): boolean {
  return Boolean(layout.startImage) || activeRegions(layout).length > 0;
}

export async function planRegions(
  pipeline: Pipeline,
  request: GenerateRequest,
  layout: RegionLayout,
  options: RegionalOptions = {},
): Promise<RegionalPlan> {
  const dims = pipeline.latentDims(request);
  const downscale = pipeline.manifest.latent.downscale;
  const image = { width: dims[3]! * downscale, height: dims[2]! * downscale };
  const stats = { calls: 0, evaluations: 0 };
  const plan: RegionalPlan = { weights: null, stats };
  if (layout.startImage)
    plan.init = await sketchInit(pipeline, layout, request.steps, image, dims, options);
  if (activeRegions(layout).length === 0) return plan;

  const weights = regionWeights(layout, image, downscale);
  plan.weights = weights;
  const guidance = request.guidance ?? pipeline.manifest.defaults.guidance;
  const prompts = [request.prompt, ...weights.regions.map((r) => r.prompt)];
  const used = weights.weights
    .map((w, k) => ({ w, prompt: prompts[k]! }))
    .filter((u) => isUsed(u.w));
  const conditionings: Conditioning[] = [];
  for (const u of used) conditionings.push(await pipeline.encodePrompt(u.prompt, options.signal));
  const unconditional = await pipeline.unconditionalFor(request, guidance, options.signal);
  const all = unconditional ? [...conditionings, unconditional] : conditionings;
  const shape = { channels: dims[1]!, height: dims[2]!, width: dims[3]! };

  plan.predictor = async (input, context) => {
    let eps: Float32Array[] | null = null;
    if (!options.sequential && all.length > 1) {
      eps = await runUnetBatch(
        pipeline.unet,
        pipeline.manifest,
        input,
        dims,
        context.timestep,
        all.map((c) => c.hidden),
        guidance,
      );
      if (eps) stats.calls++;
    }
    if (!eps) {
      eps = [];
      for (const c of all) {
        eps.push(await pipeline.runUnet(input, dims, context.timestep, c, guidance));
        stats.calls++;
      }
    }
    stats.evaluations += all.length;
    const combined =
      used.length === 1
        ? eps[0]!
        : combinePredictions(
            eps.slice(0, used.length),
            used.map((u) => u.w),
            shape,
          );
    // CFG is linear, so one unconditional prediction serves every prompt.
    return unconditional ? classifierFreeGuidance(combined, eps[used.length]!, guidance) : combined;
  };
  return plan;
}

/** The drawing through the pack's VAE encoder, opened for this image only (its memory is not kept). */
async function sketchInit(
  pipeline: Pipeline,
  layout: RegionLayout,
  steps: number,
  image: { width: number; height: number },
  dims: readonly number[],
  options: RegionalOptions,
): Promise<InitLatents> {
  const encoder = options.openEncoder ? await options.openEncoder() : null;
  if (!encoder)
    throw new GessoError(
      'unsupported-operator',
      'This model pack has no image encoder, so it cannot start from your drawing. Untick “Use drawing as starting image” or choose another pack.',
    );
  try {
    return await encodeSketch(pipeline, encoder, layout, steps, image, dims);
  } finally {
    await encoder.release();
  }
}

/**
 * The drawing (region colours on white) through the pack's VAE encoder,
 * as UNet-space latents, with the schedule strength that keeps
 * `layout.startImage.strength` of it (at least one step always runs).
 */
export async function encodeSketch(
  pipeline: Pipeline,
  encoder: ModelSession,
  layout: RegionLayout,
  steps: number,
  image: { width: number; height: number },
  dims: readonly number[],
): Promise<InitLatents> {
  const latents = await encodeImage(
    pipeline,
    encoder,
    renderSketchTensor(layout, image),
    image,
    dims,
  );
  return {
    latents,
    strength: scheduleStrength(pipeline, steps, layout.startImage?.strength ?? 0.5),
  };
}

/** Fraction of the schedule to run so that `keep` of the drawing survives, clamped so that `steps` steps fit. */
export function scheduleStrength(
  pipeline: Pick<Pipeline, 'manifest'>,
  steps: number,
  keep: number,
): number {
  const { scheduler, pipeline: kind } = pipeline.manifest;
  const lcm = kind === 'demo' || scheduler.kind === 'lcm';
  const minimum = lcm ? steps / (scheduler.originalSteps ?? 50) : 1 / steps;
  return Math.min(1, Math.max(minimum, 1 - keep));
}
