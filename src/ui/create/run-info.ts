/** What the gallery keeps of a run besides the recipe: backend and timings, as the engine reported them. */

import type { GenerateOutput } from '../../engine';
import type { RunInfo } from '../../shared/recipe';

export function runInfoOf(
  output: Pick<
    GenerateOutput,
    'backend' | 'timings' | 'textStatesOnGpu' | 'tiledDecode' | 'gpuReadsPerStep'
  >,
): RunInfo {
  const { timings } = output;
  return {
    backend: output.backend,
    timings: { ...timings, unetMs: [...timings.unetMs] },
    textStatesOnGpu: output.textStatesOnGpu,
    ...(output.tiledDecode ? { tiledDecode: true } : {}),
    ...(output.gpuReadsPerStep ? { gpuReadsPerStep: [...output.gpuReadsPerStep] } : {}),
  };
}
