/** Latents to pixels through a decoder session (the VAE, or a cheaper preview decoder). */

import { GessoError } from '../../shared/errors';
import type { RgbaImage } from '../../shared/rgba';
import { chwToRgba, scaled, type DecoderRange } from '../image';
import { inputOr, isDeviceTensor, outputOr, type ModelSession } from '../session';
import { floatTensor, toFloat32 } from '../tensors';
import { asDType } from './dtype';

export interface Decoder {
  session: ModelSession;
  /** Multiply UNet latents by this before decoding. */
  latentScale: number;
  range: DecoderRange;
}

export async function decodeLatents(
  decoder: Decoder,
  latents: Float32Array,
  dims: readonly number[],
): Promise<RgbaImage> {
  const input = inputOr(decoder.session, 'latent_sample');
  const outputs = await decoder.session.run({
    [input.name]: floatTensor(
      asDType(input.type, 'decoder input'),
      dims,
      scaled(latents, decoder.latentScale),
    ),
  });
  const out = outputs[outputOr(decoder.session, 'sample').name]!;
  if (isDeviceTensor(out))
    throw new GessoError('internal', 'The decoder output stayed on the GPU unexpectedly.');
  return chwToRgba(toFloat32(out), out.dims, decoder.range);
}
