/**
 * Starting from a photo (img2img): the photo, already the pack's size,
 * through the pack's VAE encoder, noised to the share of the schedule its
 * strength asks for. Strength 0 changes nothing, so the photo itself is the
 * result and no model runs.
 */

import { GessoError } from '../shared/errors';
import { emptyTimings } from '../shared/recipe';
import type { RgbaImage } from '../shared/rgba';
import { rgbaToChw } from './image';
import type { GenerateRequest, GenerateResult, InitLatents, Pipeline } from './pipelines';
import { encodeImage } from './pipelines/encode';
import { scheduleStrength } from './regions/generate';
import type { ModelSession } from './session';

type StartImage = NonNullable<GenerateRequest['startImage']>;

/** The pixel size this request makes with this pack (the photo must have it). */
function imageSize(pipeline: Pipeline, request: GenerateRequest) {
  const dims = pipeline.latentDims(request);
  const { downscale } = pipeline.manifest.latent;
  return { dims, width: dims[3]! * downscale, height: dims[2]! * downscale };
}

function checkSize(photo: RgbaImage, size: { width: number; height: number }): void {
  if (photo.width !== size.width || photo.height !== size.height)
    throw new GessoError(
      'invalid-image',
      `The start image is ${photo.width} × ${photo.height}, but this pack makes ${size.width} × ${size.height} images. Choose the photo again.`,
    );
}

export async function photoInit(
  pipeline: Pipeline,
  request: GenerateRequest,
  start: StartImage,
  openEncoder: () => Promise<ModelSession | null>,
): Promise<InitLatents> {
  const { dims, width, height } = imageSize(pipeline, request);
  checkSize(start.image, { width, height });
  const encoder = await openEncoder();
  if (!encoder)
    throw new GessoError(
      'unsupported-operator',
      'This model pack has no image encoder, so it cannot start from a photo. Remove the start image or choose another pack.',
    );
  try {
    const latents = await encodeImage(
      pipeline,
      encoder,
      rgbaToChw(start.image),
      { width, height },
      dims,
    );
    return {
      latents,
      strength: scheduleStrength(pipeline, request.steps, 1 - start.strength),
    };
  } finally {
    await encoder.release();
  }
}

/** Strength 0: the photo is the result, and the recipe says no step ran. */
export function keepPhoto(
  pipeline: Pipeline,
  request: GenerateRequest,
  start: StartImage,
): GenerateResult {
  checkSize(start.image, imageSize(pipeline, request));
  const { width, height, data } = start.image;
  return {
    image: { width, height, data: new Uint8ClampedArray(data) },
    recipe: { ...pipeline.resolve(request, 0), steps: 0 },
    timings: emptyTimings(),
    textStatesOnGpu: false,
    gpuReadsPerStep: null,
    tiledDecode: false,
  };
}
