/**
 * fp16 or int8 for an imported pack (pure): the fp16 pack as measured once
 * written, judged by the Models screen's own fit verdict; where it would not
 * run here and an int8 copy would, the import makes the int8 copy with the
 * existing quantizer (convert-variant.ts) and keeps only that.
 */

import type { Capabilities } from '../../shared/capabilities';
import { variantFits } from '../../shared/fit';
import type { PackVariant } from '../../shared/pack-manifest';

export type ImportWeights = { weights: 'fp16' } | { weights: 'int8'; reason: string };

/**
 * What an int8 copy of `fp16` will need, as convert/plan.ts's deviceVariant
 * sets it: int8 weights (half of fp16's `weightBytes`, never widened on
 * WebAssembly), runnable there, computed in float32 (no shader-f16 needed),
 * so on WebGPU its weights and activations are float32 (twice an fp16 buffer).
 */
export function int8Estimate(fp16: PackVariant, weightBytes: number): PackVariant {
  const widen = fp16.requires.shaderF16 ? 2 : 1;
  return {
    ...fp16,
    backends: fp16.backends.includes('wasm') ? fp16.backends : [...fp16.backends, 'wasm'],
    requires: {
      ...fp16.requires,
      shaderF16: false,
      weights: 'int8',
      maxStorageBufferBindingSize: fp16.requires.maxStorageBufferBindingSize * widen,
      maxBufferSize: fp16.requires.maxBufferSize * widen,
      memoryBytes: Math.max(weightBytes / 2, fp16.requires.memoryBytes - weightBytes / 2),
    },
  };
}

/** int8 only where the fp16 pack would not run here and the int8 one would; fp16 otherwise. */
export function importWeights(
  fp16: PackVariant,
  weightBytes: number,
  caps: Capabilities | null,
  deviceMemoryGiB?: number,
): ImportWeights {
  const asIs = variantFits(fp16, caps, deviceMemoryGiB);
  if (asIs.fits !== false) return { weights: 'fp16' };
  const int8 = variantFits(int8Estimate(fp16, weightBytes), caps, deviceMemoryGiB);
  return int8.fits === true ? { weights: 'int8', reason: asIs.reason } : { weights: 'fp16' };
}
