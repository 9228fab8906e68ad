/** The one-line status under the picture: time, backend and seed of the last run, or what went wrong. */

import type { GenerationState } from './useGeneration';

function backendName(backend: string): string {
  return backend === 'webgpu' ? 'WebGPU' : 'WebAssembly';
}

/** One line about the last run: time, backend, seed; or what went wrong. */
export function StatusLine({ state }: { state: GenerationState }) {
  if (state.status === 'error') return <p role="alert">{state.error}</p>;
  if (state.status === 'cancelled') return <p role="status">Cancelled.</p>;
  if (state.status === 'done' && state.result) {
    const { result } = state;
    return (
      <p role="status" class="status-line">
        Made in {(result.elapsedMs / 1000).toFixed(2)} s on {backendName(result.output.backend)},{' '}
        {result.output.recipe.steps} {result.output.recipe.steps === 1 ? 'step' : 'steps'}, seed{' '}
        {result.output.recipe.seed}.
        {result.output.tiledDecode ? ' Decoded in tiles to save memory.' : ''}
      </p>
    );
  }
  return null;
}
