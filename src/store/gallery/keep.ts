/** From a finished generation on the Create screen to a gallery item. */

import type { GenerateOutput, LoadedPackInfo } from '../../engine/api';
import type { Recipe, RunInfo } from '../../shared/recipe-text';
import type { GalleryItem } from './db';
import { saveGeneration } from './gallery';

/** Sampler names other Stable Diffusion tools use for each pipeline's scheduler. */
const SAMPLERS: Partial<Record<LoadedPackInfo['pipeline'], string>> = {
  lcm: 'LCM',
  'sd-turbo': 'Euler a',
};

export interface FinishedGeneration {
  prompt: string;
  negativePrompt?: string;
  /** Guidance asked for; the pack's default when omitted. */
  guidance?: number;
  /** The regions layout used, if any (kept as plain JSON). */
  regions?: unknown;
  pack: Pick<LoadedPackInfo, 'packId' | 'version' | 'variantId' | 'pipeline' | 'defaults'>;
  output: Pick<GenerateOutput, 'image' | 'seed' | 'steps' | 'backend' | 'timings'>;
}

export function recipeOf(run: FinishedGeneration): Recipe {
  const recipe: Recipe = {
    prompt: run.prompt,
    negativePrompt: run.negativePrompt ?? '',
    pack: { id: run.pack.packId, version: run.pack.version, variant: run.pack.variantId },
    steps: run.output.steps,
    guidance: run.guidance ?? run.pack.defaults.guidance,
    seed: run.output.seed,
    width: run.output.image.width,
    height: run.output.image.height,
  };
  const sampler = SAMPLERS[run.pack.pipeline];
  if (sampler) recipe.sampler = sampler;
  if (run.regions !== undefined && run.regions !== null) recipe.regions = run.regions;
  return recipe;
}

export function runInfoOf(run: FinishedGeneration): RunInfo {
  const { timings } = run.output;
  return {
    backend: run.output.backend,
    timings: { ...timings, unetMs: [...timings.unetMs] },
  };
}

/**
 * Keeps a finished generation in the gallery: `png` when the page already
 * encoded one (lossless, same pixels), else the RGBA output is encoded.
 */
export function keepGeneration(run: FinishedGeneration, png?: Blob): Promise<GalleryItem> {
  return saveGeneration(recipeOf(run), png ?? run.output.image, runInfoOf(run));
}
