/**
 * Several prompts' noise predictions in one UNet call, where the export's
 * batch dimension is dynamic: the latent input repeated K times, the K text
 * states stacked. Falls back to one call per prompt (and remembers to) when
 * the export's batch is fixed or the batched run fails.
 */

import type { PackManifest } from '../../shared/pack-manifest';
import { asDType } from '../pipelines/dtype';
import { runUnet, unetFeeds, unetTextInput } from '../pipelines/unet';
import { inputOr, isDeviceTensor, type ModelSession, type Value } from '../session';
import { floatTensor, toFloat32 } from '../tensors';
import { splitBatch, stackBatch } from './combine';
import { hasDynamicBatch } from './regional';

const unbatchable = new WeakSet<ModelSession>();

/** True when one call can take several prompts (dynamic batch, text states on the CPU). */
export function canBatch(unet: ModelSession, hidden: readonly Value[]): boolean {
  if (unbatchable.has(unet) || hidden.some(isDeviceTensor)) return false;
  return (
    hasDynamicBatch(inputOr(unet, 'sample', 0).shape) && hasDynamicBatch(unetTextInput(unet).shape)
  );
}

/**
 * Runs the UNet once for all of `hidden` (one prompt's text states each, [1, L, D]).
 * Returns one prediction per prompt, or null when this export cannot batch
 * (the caller then runs the prompts one by one).
 */
export async function runUnetBatch(
  unet: ModelSession,
  manifest: Pick<PackManifest, 'guidanceEmbedding'>,
  modelInput: Float32Array,
  dims: readonly number[],
  timestep: number,
  hidden: readonly Value[],
  guidance: number,
): Promise<Float32Array[] | null> {
  if (!canBatch(unet, hidden)) return null;
  const k = hidden.length;
  const states = hidden.map((h) => toFloat32(h as Exclude<Value, { location: 'gpu-buffer' }>));
  const text = floatTensor(
    asDType(unetTextInput(unet).type, 'text states'),
    [k, ...(hidden[0]!.dims.slice(1) as number[])],
    stackBatch(states),
  );
  try {
    const out = await runUnet(
      unet,
      unetFeeds(unet, manifest, { sample: modelInput, dims, timestep, text, guidance, batch: k }),
    );
    if (out.length !== k * dims.reduce((a, b) => a * b, 1))
      throw new Error('unexpected batched output');
    return splitBatch(out, k);
  } catch {
    unbatchable.add(unet);
    return null;
  }
}
