/**
 * Feeding the UNet: latents, timestep, text states and (LCM) the guidance
 * embedding, named, typed and shaped from the session's metadata, for one
 * prompt or a batch of K prompts in one call.
 */

import { GessoError } from '../../shared/errors';
import type { PackManifest } from '../../shared/pack-manifest';
import { guidanceEmbedding } from '../schedulers';
import {
  dimOr,
  findInput,
  inputOr,
  isDeviceTensor,
  outputOr,
  type DeviceTensor,
  type ModelSession,
  type Value,
} from '../session';
import { floatTensor, numberTensor, toFloat32, type CpuTensor } from '../tensors';
import { asDType } from './dtype';

export interface UnetInput {
  /** The scaled latents of one image, [1, C, h, w]; or already a tensor of the UNet's input type (on the GPU, say). */
  sample: Float32Array | Value;
  dims: readonly number[];
  timestep: number;
  /** Text states: one prompt's [1, L, D], or K prompts stacked [K, L, D] for a batch. */
  text: Value;
  guidance: number;
  /** Prompts in this call (default 1): the sample and embedding are repeated K times. */
  batch?: number;
}

/** The input names of the UNet's text states, resolved once per session. */
export function unetTextInput(unet: ModelSession) {
  return inputOr(unet, 'encoder_hidden_states', 2);
}

/** Repeats one [1, ...] array K times along the batch dimension. */
export function repeatBatch(item: Float32Array, count: number): Float32Array {
  if (count === 1) return item;
  const out = new Float32Array(item.length * count);
  for (let k = 0; k < count; k++) out.set(item, k * item.length);
  return out;
}

export function unetFeeds(
  unet: ModelSession,
  manifest: Pick<PackManifest, 'guidanceEmbedding'>,
  input: UnetInput,
): Record<string, Value> {
  const k = input.batch ?? 1;
  const sample = inputOr(unet, 'sample', 0);
  const time = inputOr(unet, 'timestep', 1);
  const text = unetTextInput(unet);
  // A scalar timestep, a fixed [1] one, or one per batch entry.
  const timeDims = time.shape.length === 0 ? [] : time.shape[0] === 1 ? [1] : [k];
  const feeds: Record<string, Value> = {
    [sample.name]:
      input.sample instanceof Float32Array
        ? floatTensor(
            asDType(sample.type, 'latent input'),
            [k, ...input.dims.slice(1)],
            repeatBatch(input.sample, k),
          )
        : input.sample,
    [time.name]: numberTensor(
      asDType(time.type, 'timestep'),
      timeDims,
      new Array<number>(timeDims[0] ?? 1).fill(input.timestep),
    ),
    [text.name]: input.text,
  };
  const cond = findInput(unet, 'timestep_cond');
  if (cond) {
    const dim = dimOr(cond, 1, manifest.guidanceEmbedding?.dim ?? 256);
    const embedding = guidanceEmbedding(
      input.guidance,
      dim,
      manifest.guidanceEmbedding?.scale ?? 1000,
    );
    feeds[cond.name] = floatTensor(
      asDType(cond.type, 'guidance embedding'),
      [k, dim],
      repeatBatch(embedding, k),
    );
  }
  return feeds;
}

/**
 * Runs the UNet; its noise prediction as float32 ([K, C, h, w] flattened).
 * A prediction left on the GPU (a UNet opened for the GPU-resident loop) is
 * read back with `read`.
 */
export async function runUnet(
  unet: ModelSession,
  feeds: Record<string, Value>,
  read?: (value: DeviceTensor) => Promise<CpuTensor>,
): Promise<Float32Array> {
  const outputs = await unet.run(feeds);
  const out = outputs[outputOr(unet, 'out_sample').name]!;
  if (!isDeviceTensor(out)) return toFloat32(out);
  if (!read) throw new GessoError('internal', 'The UNet output stayed on the GPU unexpectedly.');
  try {
    return toFloat32(await read(out));
  } finally {
    out.dispose();
  }
}

/** Latent dims [1, C, h, w] for an image size: fixed UNet dims win, else the requested or default size. */
export function latentDims(
  unet: ModelSession,
  manifest: Pick<PackManifest, 'latent' | 'image'>,
  size: { width?: number; height?: number },
): number[] {
  const sample = inputOr(unet, 'sample', 0);
  const { latent, image } = manifest;
  const h = dimOr(sample, 2, Math.round((size.height ?? image.height) / latent.downscale));
  const w = dimOr(sample, 3, Math.round((size.width ?? image.width) / latent.downscale));
  return [1, dimOr(sample, 1, latent.channels), h, w];
}
