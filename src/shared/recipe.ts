/**
 * One shape for a generation, used on every side: the page asks the engine
 * with a RecipeRequest, the engine answers with the resolved Recipe (what
 * really ran) plus RunInfo, and the gallery keeps both.
 */

import type { ModelSource } from './model-source';
import type { Backend, PipelineKind } from './pack-manifest';
import type { RegionLayoutJson } from './regions/layout';
import type { RgbaImage } from './rgba';

/** Everything needed to make the same image again. */
export interface Recipe {
  prompt: string;
  negativePrompt: string;
  pack: { id: string; version: string; variant: string };
  steps: number;
  guidance: number;
  seed: number;
  width: number;
  height: number;
  /** Scheduler name for other tools, e.g. "LCM" or "Euler a". */
  sampler?: string;
  /** The region layout (src/shared/regions/layout.ts). */
  regions?: RegionLayoutJson;
  /** It started from a photo, changed by this much (0 keeps the photo, 1 ignores it); the photo itself is not in the recipe. */
  startImage?: { strength: number };
  /** A repaint of another picture: its gallery item (when kept) and the painted mask (shared/mask-runs.ts). */
  repaint?: { parent: string | null; mask: number[] };
  /** Followed a drawn outline (ControlNet) at this strength; the outline as mask runs at the image size. */
  outline?: { strength: number; mask: number[] };
  /**
   * The final decoder, where the pack has two: its full VAE, or its fast
   * TAESD-style decoder (the preview decoder) used for the final image too.
   * Absent: the full VAE (recipes made before the choice existed).
   */
  decoder?: DecoderChoice;
  /** A pack imported on this device: the model file it was made from and the LoRAs in the variant that ran. */
  model?: ModelSource;
}

/** "Full": the pack's VAE decoder; "fast": its tiny distilled decoder (TAESD). */
export type DecoderChoice = 'full' | 'fast';

/** What the page asks for: the loaded pack fills in the rest (pack, size, sampler, defaults). */
export interface RecipeRequest {
  prompt: string;
  /** Used only where the pack runs classifier-free guidance. */
  negativePrompt?: string;
  steps: number;
  /** Default: the pack's default guidance. */
  guidance?: number;
  /** 32-bit unsigned seed. */
  seed: number;
  /** Pixels; honoured only where the pack's UNet accepts other sizes. */
  width?: number;
  height?: number;
  regions?: RegionLayoutJson;
  /** Start from this photo (already the pack's size), changed by `strength` (img2img). */
  startImage?: { image: RgbaImage; strength: number };
  /**
   * Repaint only where `mask` (the image's size, 0-255, 255: repaint) is
   * painted over `image` (the current picture, the pack's size); every other
   * pixel stays exactly as it is.
   */
  repaint?: { image: RgbaImage; mask: Uint8Array; parent?: string | null };
  /** Follow this outline: width x height of the image, 255 on the drawn lines, 0 elsewhere. */
  outline?: { mask: Uint8Array; strength: number };
  /** The final decoder (Recipe.decoder); default: the loaded pack's (LoadedPackInfo.decoders.default). */
  decoder?: DecoderChoice;
}

/** Milliseconds per stage of one generation. */
export type StageTimings = {
  tokenizeMs: number;
  textEncodeMs: number;
  /** One entry per step: the UNet runs of that step (all conditionings). */
  unetMs: number[];
  /** Scheduler maths, noise and previews outside the UNet, summed over steps. */
  stepOverheadMs: number;
  decodeMs: number;
  totalMs: number;
};

/** Timings of a run that ran nothing (yet). */
export function emptyTimings(): StageTimings {
  return { tokenizeMs: 0, textEncodeMs: 0, unetMs: [], stepOverheadMs: 0, decodeMs: 0, totalMs: 0 };
}

/** What came out of one run besides the pixels. */
export interface RunInfo {
  backend: Backend | 'unknown';
  /** Milliseconds per stage (StageTimings from Gesso's engine; other keys from elsewhere). */
  timings: Record<string, number | number[]>;
  /** The prompt's text states stayed on the GPU between steps (WebGPU). */
  textStatesOnGpu?: boolean;
  /** The final image was decoded in overlapping tiles to save memory. */
  tiledDecode?: boolean;
  /** The sampling loop ran on the GPU: its GPU-to-CPU reads per step, previews aside (0 when the latents never left it). */
  gpuReadsPerStep?: number[];
}

/** A recipe read back from an image: complete for Gesso's own, partial for others. */
export type RecipeDraft = Partial<Omit<Recipe, 'pack'>> & {
  prompt: string;
  pack?: Partial<Recipe['pack']>;
};

/** Sampler names other Stable Diffusion tools use for each pipeline's scheduler. */
export const SAMPLER_NAMES: Partial<Record<PipelineKind, string>> = {
  lcm: 'LCM',
  'sd-turbo': 'Euler a',
};
