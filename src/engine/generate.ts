/**
 * One generation on a loaded pipeline: plain generation calls the pipeline
 * directly; regions are asked for a plan only when the request's layout has
 * regions or starts from the drawing; a start photo is encoded to start
 * from; a repaint keeps the picture outside its mask.
 */

import { decodeLayout } from '../shared/regions/layout';
import type { GenerateOptions, GenerateRequest, GenerateResult, Pipeline } from './pipelines';
import { layoutMatters, planRegions } from './regions/generate';
import { keepPhoto, photoInit } from './start-image';
import { composite, planRepaint } from './repaint';

export interface GenerateImageOptions extends Pick<GenerateOptions, 'signal' | 'onStep'> {
  /** Force one UNet call per regional prompt (benchmarks compare it with batching). */
  sequentialRegions?: boolean;
}

export async function generateImage(
  pipeline: Pipeline,
  request: GenerateRequest,
  options: GenerateImageOptions = {},
): Promise<GenerateResult> {
  const { signal, onStep } = options;
  const start = request.startImage;
  if (start && start.strength <= 0) return keepPhoto(pipeline, request, start);
  const openEncoder = () => pipeline.openComponent('vaeEncoder', 'image encoder');
  const layout = request.regions ? decodeLayout(request.regions) : null;
  const plan =
    layout && layoutMatters(layout)
      ? await planRegions(pipeline, request, layout, {
          ...(signal ? { signal } : {}),
          sequential: Boolean(options.sequentialRegions),
          openEncoder,
        })
      : null;
  // A photo to start from wins over the drawing as a start.
  const init = start ? await photoInit(pipeline, request, start, openEncoder) : plan?.init;
  const repaint = request.repaint
    ? await planRepaint(pipeline, request, request.repaint, openEncoder)
    : null;
  const result = await pipeline.generate(request, {
    ...(signal ? { signal } : {}),
    ...(onStep ? { onStep } : {}),
    ...(init ? { init } : {}),
    ...(repaint ? { keep: repaint.keep } : {}),
    ...(plan?.predictor ? { predictor: plan.predictor } : {}),
  });
  if (!repaint || !request.repaint) return result;
  return { ...result, image: composite(result.image, request.repaint.image, repaint.pixelMask) };
}
