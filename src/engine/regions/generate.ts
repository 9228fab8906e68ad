/**
 * Regional prompts and sketch-to-image for any pipeline: builds the per-step
 * predictor and the starting latents that Pipeline.generate takes
 * (GenerateOptions.predictor, GenerateRequest.init).
 */

import { GessoError } from '../../shared/errors';
import type { Pipeline } from '../pipelines';
import type {
  Conditioning,
  GenerateOptions,
  GenerateRequest,
  GenerateResult,
  NoisePredictor,
} from '../pipelines';
import { inputOr, isDeviceTensor, outputOr, type ModelSession } from '../session';
import { floatTensor, toFloat32 } from '../tensors';
import { scaled } from '../image';
import { combinePredictions } from './combine';
import { activeRegions, decodeLayout, type RegionLayout } from './layout';
import { regionWeights, type RegionWeights } from './masks';
import { isUsed } from './regional';
import { renderSketchTensor } from './sketch';
import { runUnetBatch } from './unet-batch';

export interface RegionalPlan {
  /** Replaces the pipeline's per-step prediction; absent when no region takes part. */
  predictor?: (fallback: NoisePredictor) => NoisePredictor;
  /** The drawing as starting latents; absent unless the layout asks for it and the pack has an encoder. */
  init?: GenerateRequest['init'];
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

/** The latent-grid dims the pipeline will use and the matching image size for masks. */
function sizes(pipeline: Pipeline, request: GenerateRequest) {
  const dims = pipeline.latentDims(request);
  const downscale = pipeline.manifest.latent.downscale;
  return { dims, downscale, image: { width: dims[3]! * downscale, height: dims[2]! * downscale } };
}

export async function planRegions(
  pipeline: Pipeline,
  request: GenerateRequest,
  layout: RegionLayout,
  options: RegionalOptions = {},
): Promise<RegionalPlan> {
  const { dims, downscale, image } = sizes(pipeline, request);
  const stats = { calls: 0, evaluations: 0 };
  const plan: RegionalPlan = { weights: null, stats };
  if (layout.startImage && options.openEncoder) {
    const encoder = await options.openEncoder();
    if (encoder) {
      // Opened for this image only: sketch-to-image is occasional, the encoder's memory is not kept.
      try {
        plan.init = await encodeSketch(pipeline, encoder, layout, request.steps, image, dims);
      } finally {
        await encoder.release();
      }
    }
  }
  if (activeRegions(layout).length === 0) return plan;

  const weights = regionWeights(layout, image, downscale);
  plan.weights = weights;
  const prompts = [request.prompt, ...weights.regions.map((r) => r.prompt)];
  const used = weights.weights
    .map((w, k) => ({ w, prompt: prompts[k]! }))
    .filter((u) => isUsed(u.w));
  const conditionings: Conditioning[] = [];
  for (const u of used) conditionings.push(await pipeline.encodePrompt(u.prompt, options.signal));
  const cfg = pipeline.guidanceMode === 'cfg' && request.guidance > 1;
  const unconditional = cfg
    ? await pipeline.encodePrompt(request.negativePrompt ?? '', options.signal)
    : null;
  const shape = { channels: dims[1]!, height: dims[2]!, width: dims[3]! };
  const embedding = pipeline.manifest.guidanceEmbedding;

  plan.predictor = () => async (input, context) => {
    const all = unconditional ? [...conditionings, unconditional] : conditionings;
    let eps: Float32Array[] | null = null;
    if (!options.sequential && all.length > 1) {
      eps = await runUnetBatch(
        pipeline.unet,
        input,
        dims,
        context.timestep,
        all.map((c) => c.hidden),
        { guidance: request.guidance, ...(embedding ? { embedding } : {}) },
      );
      if (eps) stats.calls++;
    }
    if (!eps) {
      eps = [];
      for (const c of all) {
        eps.push(await pipeline.runUnet(input, dims, context.timestep, c, request.guidance));
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
    if (!unconditional) return combined;
    // CFG is linear, so one unconditional prediction serves every prompt.
    const u = eps[used.length]!;
    for (let i = 0; i < combined.length; i++)
      combined[i] = u[i]! + request.guidance * (combined[i]! - u[i]!);
    return combined;
  };
  return plan;
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
): Promise<GenerateRequest['init']> {
  const { manifest } = pipeline;
  let pixels = renderSketchTensor(layout, image);
  if (manifest.latent.decoderOutput === 'zero-to-one') pixels = pixels.map((v) => (v + 1) / 2);
  const input = inputOr(encoder, 'sample');
  const outputs = await encoder.run({
    [input.name]: floatTensor(
      input.type === 'float16' ? 'float16' : 'float32',
      [1, 3, image.height, image.width],
      pixels,
    ),
  });
  const out = outputs[outputOr(encoder, 'latent_sample').name]!;
  if (isDeviceTensor(out)) throw new Error('encoder output stayed on the GPU');
  const latents = scaled(toFloat32(out), manifest.latent.scalingFactor);
  const expected = dims.reduce((a, b) => a * b, 1);
  if (latents.length !== expected)
    throw new Error(`encoder gave ${latents.length} latents, the UNet takes ${expected}`);
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

/**
 * Pipeline.generate with a region layout (the JSON form from the page, or
 * nothing): what the worker calls. Without a layout it is plain generate.
 */
export async function generateWithRegions(
  pipeline: Pipeline,
  request: GenerateRequest,
  layoutJson: unknown,
  options: GenerateOptions & { openEncoder?: () => Promise<ModelSession | null> } = {},
): Promise<GenerateResult> {
  if (layoutJson === undefined || layoutJson === null) return pipeline.generate(request, options);
  const layout = decodeLayout(layoutJson);
  const plan = await planRegions(pipeline, request, layout, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.openEncoder ? { openEncoder: options.openEncoder } : {}),
  });
  if (layout.startImage && !plan.init)
    throw new GessoError(
      'unsupported-operator',
      'This model pack has no image encoder, so it cannot start from your drawing. Untick “Use drawing as starting image” or choose another pack.',
    );
  const rest: GenerateOptions = { ...options };
  delete (rest as { openEncoder?: unknown }).openEncoder;
  return pipeline.generate(
    plan.init ? { ...request, init: plan.init } : request,
    plan.predictor ? { ...rest, predictor: plan.predictor } : rest,
  );
}
