/**
 * Repaint: generate only where the user painted, keep every other pixel.
 * The current picture goes through the pack's VAE encoder (opened for this
 * image only); in the loop, the latents outside the mask are replaced after
 * every step by the picture's, noised to the next step's level (blended
 * latent diffusion), with the mask's edge feathered on the latent grid; the
 * decoded result is then laid over the picture through the painted mask,
 * feathered by a pixel, so unpainted pixels come out exactly as they were.
 */

import { GessoError } from '../shared/errors';
import { blur, downsample } from '../shared/regions/masks';
import type { RgbaImage } from '../shared/rgba';
import { rgbaToChw } from './image';
import type { GenerateRequest, KeepLatents, Pipeline } from './pipelines';
import { encodeImage } from './pipelines/encode';
import type { ModelSession } from './session';

type Repaint = NonNullable<GenerateRequest['repaint']>;

export interface RepaintPlan {
  keep: KeepLatents;
  /** Per pixel, 0..1: how much of the generated image shows (0: the picture, exactly). */
  pixelMask: Float32Array;
}

export async function planRepaint(
  pipeline: Pipeline,
  request: GenerateRequest,
  repaint: Repaint,
  openEncoder: () => Promise<ModelSession | null>,
): Promise<RepaintPlan> {
  const dims = pipeline.latentDims(request);
  const { downscale } = pipeline.manifest.latent;
  const size = { width: dims[3]! * downscale, height: dims[2]! * downscale };
  const { image, mask } = repaint;
  if (
    image.width !== size.width ||
    image.height !== size.height ||
    mask.length !== size.width * size.height
  )
    throw new GessoError(
      'invalid-image',
      `The picture to repaint is ${image.width} × ${image.height}, but this pack makes ${size.width} × ${size.height} images. Choose a result made with this pack.`,
    );
  const painted = Float32Array.from(mask, (v) => v / 255);
  if (!painted.some((v) => v > 0))
    throw new GessoError('invalid-image', 'Paint the area to repaint first.');
  const encoder = await openEncoder();
  if (!encoder)
    throw new GessoError(
      'unsupported-operator',
      'This model pack has no image encoder, so it cannot repaint part of a picture. Choose another pack.',
    );
  let latents: Float32Array;
  try {
    latents = await encodeImage(pipeline, encoder, rgbaToChw(image), size, dims);
  } finally {
    await encoder.release();
  }
  const grid = { width: dims[3]!, height: dims[2]! };
  const latentMask = blur(downsample(painted, size, downscale), grid, 1);
  return { keep: { latents, mask: latentMask }, pixelMask: feather(painted, size) };
}

/** The painted mask widened and softened by about a pixel, never below what was painted. */
function feather(painted: Float32Array, size: { width: number; height: number }): Float32Array {
  const soft = blur(painted, size, 1);
  return soft.map((v, i) => Math.max(painted[i]!, Math.min(1, 2 * v)));
}

/** `mask * generated + (1 - mask) * picture`, per pixel; 0 gives the picture's bytes exactly. */
export function composite(generated: RgbaImage, picture: RgbaImage, mask: Float32Array): RgbaImage {
  const data = new Uint8ClampedArray(picture.data);
  for (let i = 0; i < mask.length; i++) {
    const m = mask[i]!;
    if (m <= 0) continue;
    for (let c = 0; c < 3; c++)
      data[i * 4 + c] = Math.round(
        m * generated.data[i * 4 + c]! + (1 - m) * picture.data[i * 4 + c]!,
      );
  }
  return { width: picture.width, height: picture.height, data };
}
