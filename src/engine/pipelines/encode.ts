/** Pixels to UNet-space latents through the pack's VAE encoder (sketch-to-image, start from a photo). */

import { GessoError } from '../../shared/errors';
import { scaled } from '../image';
import { inputOr, isDeviceTensor, outputOr, type ModelSession } from '../session';
import { floatTensor, toFloat32 } from '../tensors';
import type { Pipeline } from './pipeline';

/**
 * `pixels`: a [1, 3, H, W] image in [-1, 1] of `size`; converted to [0, 1]
 * for packs whose VAE works there. Returns latents of `dims` ([1, C, h, w]).
 */
export async function encodeImage(
  pipeline: Pick<Pipeline, 'manifest'>,
  encoder: ModelSession,
  pixels: Float32Array,
  size: { width: number; height: number },
  dims: readonly number[],
): Promise<Float32Array> {
  const { latent } = pipeline.manifest;
  const input = inputOr(encoder, 'sample');
  const values = latent.decoderOutput === 'zero-to-one' ? pixels.map((v) => (v + 1) / 2) : pixels;
  const outputs = await encoder.run({
    [input.name]: floatTensor(
      input.type === 'float16' ? 'float16' : 'float32',
      [1, 3, size.height, size.width],
      values,
    ),
  });
  const out = outputs[outputOr(encoder, 'latent_sample').name]!;
  if (isDeviceTensor(out))
    throw new GessoError('internal', 'The image encoder’s output stayed on the GPU.');
  const latents = scaled(toFloat32(out), latent.scalingFactor);
  const expected = dims.reduce((a, b) => a * b, 1);
  if (latents.length !== expected)
    throw new GessoError(
      'internal',
      `The image encoder gave ${latents.length} latents; the image model takes ${expected}.`,
    );
  return latents;
}
