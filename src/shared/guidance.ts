/** How a pack's UNet is steered towards the prompt: the one place that decides it. */

import type { PackManifest, PipelineKind } from './pack-manifest';

/**
 * - 'embedding': LCM's guidance scale fed as the `timestep_cond` input (one UNet run);
 * - 'cfg': classifier-free guidance with a negative prompt (two UNet runs when guidance > 1);
 * - 'none': distilled without guidance (SD-Turbo).
 */
export type GuidanceKind = 'embedding' | 'cfg' | 'none';

/** From what the UNet really takes (the engine, after loading). */
export function guidanceKind(pipeline: PipelineKind, unetHasTimestepCond: boolean): GuidanceKind {
  if (unetHasTimestepCond) return 'embedding';
  return pipeline === 'sd-turbo' ? 'none' : 'cfg';
}

/** From the manifest, before loading: a manifest with `guidanceEmbedding` declares `timestep_cond`. */
export function manifestGuidanceKind(
  manifest: Pick<PackManifest, 'pipeline' | 'guidanceEmbedding'>,
): GuidanceKind {
  return guidanceKind(manifest.pipeline, Boolean(manifest.guidanceEmbedding));
}

/** Classifier-free guidance runs a second, unconditional UNet pass only where it changes the result. */
export function runsUnconditional(kind: GuidanceKind, guidance: number): boolean {
  return kind === 'cfg' && guidance > 1;
}
