/** What the pipelines take and give; the worker API re-exports the serialisable parts. */

import type { RgbaImage } from '../image';
import type { Value } from '../session';

export interface GenerateRequest {
  prompt: string;
  /** Used only where the pipeline runs classifier-free guidance (a UNet without timestep_cond and guidance > 1). */
  negativePrompt?: string;
  steps: number;
  guidance: number;
  seed: number;
  /** Output size in pixels; only honoured where the UNet's sample shape is not fixed. Defaults to the manifest's image size. */
  width?: number;
  height?: number;
  /** Decode a preview after each step (when the pack has a cheap decoder). Default true. */
  preview?: boolean;
  /**
   * img2img: start from these UNet-space latents ([1, C, h, w], i.e. VAE
   * latents * scalingFactor) noised to `strength` of the schedule, in (0, 1].
   */
  init?: { latents: Float32Array; strength: number };
}

export interface StepProgress {
  /** 1-based step just finished. */
  step: number;
  steps: number;
  timestep: number;
  /** The current clean-image estimate, or null where the pack has no cheap decoder or previews are off. */
  preview: RgbaImage | null;
}

export interface StageTimings {
  tokenizeMs: number;
  textEncodeMs: number;
  /** One entry per step: the UNet runs of that step (all conditionings). */
  unetMs: number[];
  /** Scheduler maths, noise and previews outside the UNet, summed over steps. */
  stepOverheadMs: number;
  decodeMs: number;
  totalMs: number;
}

export interface GenerateResult {
  image: RgbaImage;
  seed: number;
  steps: number;
  timings: StageTimings;
  /** The prompt's text states stayed on the GPU between steps (WebGPU). */
  textStatesOnGpu: boolean;
}

/** A prompt's text-encoder output, ready for the UNet (may live on the GPU). */
export interface Conditioning {
  prompt: string;
  hidden: Value;
}

export interface StepContext {
  /** 0-based step index. */
  index: number;
  steps: number;
  /** Training timestep given to the UNet. */
  timestep: number;
  signal?: AbortSignal;
}

/** Noise prediction for one step: the UNet input (already scaled) -> epsilon. */
export type NoisePredictor = (
  modelInput: Float32Array,
  context: StepContext,
) => Promise<Float32Array>;

export interface GenerateOptions {
  signal?: AbortSignal;
  onStep?: (progress: StepProgress) => void;
  /**
   * Replace the per-step prediction. Regional prompting wraps the default
   * (which runs the prompt with the pipeline's guidance): encode more
   * prompts with `pipeline.encodePrompt`, predict each with
   * `pipeline.predictNoise`, and combine by masks.
   */
  predictor?: (defaultPredictor: NoisePredictor) => NoisePredictor;
}
