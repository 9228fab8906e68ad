/** Every finished result goes to the gallery with the recipe the engine says really ran. */

import type { GenerateOutput } from '../../engine';
import type { RunInfo } from '../../shared/recipe';
import { saveGeneration, type GalleryItem } from '../../store/gallery';

export function runInfoOf(
  output: Pick<GenerateOutput, 'backend' | 'timings' | 'textStatesOnGpu'>,
): RunInfo {
  const { timings } = output;
  return {
    backend: output.backend,
    timings: { ...timings, unetMs: [...timings.unetMs] },
    textStatesOnGpu: output.textStatesOnGpu,
  };
}

/** `png` is the page's own encoding of the output (lossless, the same pixels). */
export function keepResult(output: GenerateOutput, png: Blob): Promise<GalleryItem> {
  return saveGeneration(output.recipe, png, runInfoOf(output));
}
