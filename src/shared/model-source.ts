/**
 * What an imported pack was made from, as a recipe records it and as
 * AUTOMATIC1111 writes it into a PNG's `parameters`: the model file's name
 * and hash (`Model: my-model, Model hash: 0123456789`, the hash being the
 * first 10 hex digits of the file's SHA-256) and each LoRA with its strength
 * (`<lora:name:0.8>`, appended to the prompt).
 */

import type { LoraUse, PackManifest, PackVariant } from './pack-manifest';

export interface ModelSource {
  /** The file's name without `.safetensors` ("my-model"). */
  name: string;
  /** The file's SHA-256, lower-case hex (absent for packs imported before it was recorded). */
  sha256?: string;
  /** Every LoRA in the variant that ran: fused while importing, then the card's "Apply LoRA". */
  loras: LoraUse[];
}

/** "my-model.safetensors" -> "my-model". */
export function modelFileStem(fileName: string): string {
  return fileName.replace(/\.safetensors$/i, '').trim();
}

/** The model source of a variant of an imported pack; undefined for every other pack. */
export function modelSourceOf(
  manifest: Pick<PackManifest, 'imported'>,
  variant: Pick<PackVariant, 'loras'>,
): ModelSource | undefined {
  const from = manifest.imported;
  if (!from) return undefined;
  const source: ModelSource = {
    name: modelFileStem(from.file) || from.file,
    loras: [...from.loras, ...(variant.loras ?? [])],
  };
  if (from.sha256) source.sha256 = from.sha256;
  return source;
}

/** A1111's "Model hash": the first 10 hex digits of the file's SHA-256. */
export function modelHash(sha256: string): string {
  return sha256.slice(0, 10);
}

/** A strength as A1111 shows it: at most 3 decimals, no trailing zeros (0.8, 1, 0.75). */
export function formatStrength(strength: number): string {
  return String(Number(strength.toFixed(3)));
}

/** `<lora:name:0.8>` */
export function loraTag(lora: LoraUse): string {
  return `<lora:${lora.name}:${formatStrength(lora.strength)}>`;
}

/** The prompt with each LoRA's tag appended, as A1111's `parameters` carry it. */
export function promptWithLoras(prompt: string, loras: readonly LoraUse[]): string {
  return [prompt, ...loras.map(loraTag)].filter((part) => part !== '').join(' ');
}

// A1111's extra-network tags in a prompt: `<lora:name:0.8>`, `<lyco:…>`, `<hypernet:…>`.
const NETWORK_TAG = /\s*<(?:lora|lyco|hypernet):([^:<>]+)(?::([^:<>]*))?(?::[^<>]*)?>/g;

/** The LoRAs a prompt names, and the prompt without their tags (Gesso cannot add them while generating). */
export function splitLoraTags(prompt: string): { prompt: string; loras: LoraUse[] } {
  const loras: LoraUse[] = [];
  for (const match of prompt.matchAll(NETWORK_TAG)) {
    if (!match[0].trimStart().startsWith('<lora:')) continue;
    const strength = match[2] === undefined || match[2] === '' ? 1 : Number(match[2]);
    loras.push({ name: match[1]!, strength: Number.isFinite(strength) ? strength : 1 });
  }
  return { prompt: prompt.replace(NETWORK_TAG, '').trim(), loras };
}
