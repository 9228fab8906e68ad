/** What the pipelines take and give inside the engine (the page sees src/shared/recipe.ts). */

import type { Recipe, RecipeRequest, StageTimings } from '../../shared/recipe';
import type { RgbaImage } from '../../shared/rgba';
import type { Value } from '../session';

export interface GenerateRequest extends RecipeRequest {
  /** Decode a preview after each step (when the pack has a cheap decoder). Default true. */
  preview?: boolean;
}

export interface StepProgress {
  /** 1-based step just finished. */
  step: number;
  steps: number;
  timestep: number;
  /** The current clean-image estimate, or null where the pack has no cheap decoder or previews are off. */
  preview: RgbaImage | null;
}

export interface GenerateResult {
  image: RgbaImage;
  /** What really ran: the request resolved against the pack. */
  recipe: Recipe;
  timings: StageTimings;
  /** The prompt's text states stayed on the GPU between steps (WebGPU). */
  textStatesOnGpu: boolean;
  /** The final image was decoded in overlapping tiles to save memory. */
  tiledDecode: boolean;
  /**
   * GPU-to-CPU reads of each step, previews aside, where the loop ran on the
   * GPU (0 when the latents never left it); null where it ran on the CPU.
   */
  gpuReadsPerStep: number[] | null;
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

/** img2img: start from these UNet-space latents ([1, C, h, w]) noised to `strength` of the schedule, in (0, 1]. */
export interface InitLatents {
  latents: Float32Array;
  strength: number;
}

export interface GenerateOptions {
  signal?: AbortSignal;
  onStep?: (progress: StepProgress) => void;
  /** Start from an image instead of pure noise. */
  init?: InitLatents;
  /**
   * Replace the per-step prediction. Regional prompting does: it encodes
   * more prompts with `pipeline.encodePrompt`, predicts each, and combines
   * them by masks.
   */
  predictor?: NoisePredictor;
  /**
   * Keep these clean latents where `mask` (latent grid, 0..1, 1: generate) is
   * 0: after every step the latents there are replaced by these, noised to
   * the next step's level (blended latent diffusion).
   */
  keep?: KeepLatents;
}

export interface KeepLatents {
  latents: Float32Array;
  /** One weight per latent position (h * w), shared by all channels. */
  mask: Float32Array;
}
