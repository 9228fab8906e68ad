/** Latents to pixels through a decoder session (the VAE, or a cheaper preview decoder). */

import { GessoError } from '../../shared/errors';
import type { RgbaImage } from '../../shared/rgba';
import { chwToRgba, scaled, type DecoderRange } from '../image';
import { inputOr, isDeviceTensor, outputOr, type ModelSession, type Value } from '../session';
import { floatTensor, toFloat32 } from '../tensors';
import { cropLatents, rampWeights, TileBlend, tileStarts, type DecodeTile } from './decode-tiles';
import { asDType } from './dtype';

export interface Decoder {
  session: ModelSession;
  /** Multiply UNet latents by this before decoding. */
  latentScale: number;
  range: DecoderRange;
  /** Decode latents larger than this in overlapping tiles, for a fraction of the working memory. */
  tile?: DecodeTile;
}

/** A decoded [1, C, H, W] image as floats in the decoder's range. */
export interface DecodedPixels {
  values: Float32Array;
  dims: readonly number[];
}

export async function decodeLatents(
  decoder: Decoder,
  latents: Float32Array,
  dims: readonly number[],
): Promise<RgbaImage> {
  const pixels = await decodePixels(decoder, latents, dims);
  return chwToRgba(pixels.values, pixels.dims, decoder.range);
}

/** The decoder's output for `latents`, whole or blended from tiles (`decoder.tile`). */
export async function decodePixels(
  decoder: Decoder,
  latents: Float32Array,
  dims: readonly number[],
): Promise<DecodedPixels> {
  const values = scaled(latents, decoder.latentScale);
  const { tile } = decoder;
  if (tile && (dims[2]! > tile.size || dims[3]! > tile.size))
    return decodeInTiles(decoder.session, values, dims, tile);
  return runDecoder(decoder.session, values, dims);
}

async function runDecoder(
  session: ModelSession,
  values: Float32Array,
  dims: readonly number[],
): Promise<DecodedPixels> {
  const input = inputOr(session, 'latent_sample');
  const outputs = await session.run({
    [input.name]: floatTensor(asDType(input.type, 'decoder input'), dims, values),
  });
  const out = outputs[outputOr(session, 'sample').name]!;
  if (isDeviceTensor(out))
    throw new GessoError('internal', 'The decoder output stayed on the GPU unexpectedly.');
  return { values: toFloat32(out), dims: out.dims };
}

/** Pixels from a decoder input already scaled and typed for it, left on the GPU by the device loop. */
export async function decodeOnDevice(decoder: Decoder, input: Value): Promise<RgbaImage> {
  const { session } = decoder;
  const outputs = await session.run({ [inputOr(session, 'latent_sample').name]: input });
  const out = outputs[outputOr(session, 'sample').name]!;
  if (isDeviceTensor(out))
    throw new GessoError('internal', 'The decoder output stayed on the GPU unexpectedly.');
  return chwToRgba(toFloat32(out), out.dims, decoder.range);
}

/** Every tile has the same shape, so a session with the tile's dimensions fixed runs them all. */
async function decodeInTiles(
  session: ModelSession,
  latents: Float32Array,
  dims: readonly number[],
  tile: DecodeTile,
): Promise<DecodedPixels> {
  const [, channels, height, width] = dims as [number, number, number, number];
  const rows = Math.min(tile.size, height);
  const columns = Math.min(tile.size, width);
  const tops = tileStarts(height, rows, tile.overlap);
  const lefts = tileStarts(width, columns, tile.overlap);
  let blend: TileBlend | null = null;
  let scaleY = 0;
  let scaleX = 0;
  for (const [i, top] of tops.entries())
    for (const [j, left] of lefts.entries()) {
      const crop = cropLatents(latents, dims, top, left, rows, columns);
      const out = await runDecoder(session, crop, [1, channels, rows, columns]);
      if (!blend) {
        scaleY = out.dims[out.dims.length - 2]! / rows;
        scaleX = out.dims[out.dims.length - 1]! / columns;
        if (!Number.isInteger(scaleY) || !Number.isInteger(scaleX))
          throw new GessoError(
            'internal',
            `The decoder turned a ${rows}x${columns} latent tile into ${out.dims.join('x')} pixels, not a whole multiple, so its tiles cannot be put together.`,
          );
        const outChannels = out.dims[out.dims.length - 3]!;
        blend = new TileBlend(outChannels, height * scaleY, width * scaleX);
      }
      blend.add(
        out.values,
        top * scaleY,
        left * scaleX,
        rampWeights(tops, i, rows, scaleY),
        rampWeights(lefts, j, columns, scaleX),
      );
    }
  return { values: blend!.result(), dims: [1, blend!.channels, blend!.height, blend!.width] };
}
