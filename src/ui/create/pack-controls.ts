/** What the Create screen's controls need from a pack (guidance kind, defaults, ranges), and the values a run sends. */

import type { LoadedPackInfo } from '../../engine';
import { manifestGuidanceKind } from '../../shared/guidance';
import type { PackManifest } from '../../shared/pack-manifest';

export type PackControls = Pick<
  LoadedPackInfo,
  'guidance' | 'defaults' | 'ranges' | 'hasImageEncoder' | 'control' | 'decoders'
>;

/** The built-in demo pack's, used only until its manifest or the loaded pack is known. */
export const FALLBACK_CONTROLS: PackControls = {
  guidance: 'embedding',
  defaults: { steps: 4, guidance: 4, startStrength: 0.15 },
  ranges: { steps: [1, 8], guidance: [1, 8] },
  hasImageEncoder: true,
  control: { kind: 'outline', defaultStrength: 1, strengthRange: [0, 2] },
  decoders: { fast: true, default: 'full' },
};

/** A pack's settings from its manifest, before it is loaded (the engine has the last word). */
export function controlsFromManifest(
  manifest: Pick<
    PackManifest,
    'pipeline' | 'guidanceEmbedding' | 'defaults' | 'ranges' | 'variants' | 'control'
  >,
): PackControls {
  const variant = manifest.variants.find((v) => v.default) ?? manifest.variants[0];
  return {
    guidance: manifestGuidanceKind(manifest),
    defaults: manifest.defaults,
    ranges: manifest.ranges,
    hasImageEncoder: Boolean(variant?.components.vaeEncoder),
    control: variant?.components.controlNet ? (manifest.control ?? null) : null,
    // A fast decoder of its own (the preview decoder); which is the default is the engine's call, once loaded.
    decoders: {
      fast: Boolean(
        variant?.components.previewDecoder &&
        variant.components.previewDecoder !== variant.components.vaeDecoder,
      ),
      default: 'full',
    },
  };
}

export function clampToRange(value: number, [min, max]: [number, number]): number {
  return Math.min(max, Math.max(min, value));
}

/** The steps to show and run: the chosen count (or the pack's default), whole and in range. */
export function stepsFor(chosen: number | null, pack: PackControls): number {
  return clampToRange(Math.round(chosen ?? pack.defaults.steps), pack.ranges.steps);
}

/** The guidance to show and run: the chosen value (or the pack's default), in range. */
export function guidanceFor(chosen: number | null, pack: PackControls): number {
  return clampToRange(chosen ?? pack.defaults.guidance, pack.ranges.guidance);
}

/** A typed guidance, clamped to the range; null when the text is not a number (keep the old value). */
export function parseGuidance(text: string, range: [number, number]): number | null {
  if (text.trim() === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? clampToRange(value, range) : null;
}

export interface GuidanceArgs {
  guidance?: number;
  negativePrompt?: string;
}

/**
 * What a run passes to `generate` for guidance, by the loaded pack's kind:
 * nothing for 'none' (SD-Turbo), the guidance for 'embedding', and the
 * negative prompt too (when there is one) for 'cfg'.
 */
export function guidanceArgs(
  pack: PackControls,
  chosen: number | null,
  negativePrompt: string,
): GuidanceArgs {
  if (pack.guidance === 'none') return {};
  const guidance = guidanceFor(chosen, pack);
  const negative = negativePrompt.trim();
  return pack.guidance === 'cfg' && negative
    ? { guidance, negativePrompt: negative }
    : { guidance };
}
