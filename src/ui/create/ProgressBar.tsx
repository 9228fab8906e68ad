import type { GenerationState } from './useGeneration';

/** Step i of n (or bytes while loading), announced to assistive technology. */
export function ProgressBar({
  label,
  done,
  total,
  text,
}: {
  label: string;
  done: number;
  total: number;
  text: string;
}) {
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  return (
    <div
      class="progress"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={total}
      aria-valuenow={done}
      aria-valuetext={text}
    >
      <div class="progress-fill" style={{ width: `${fraction * 100}%` }} />
      <span class="progress-text">{text}</span>
    </div>
  );
}

/** The run's progress: loading (or preparing the GPU), then step i of n. */
export function RunProgress({ state }: { state: GenerationState }) {
  const loading = state.status === 'loading';
  const percent = state.total > 0 ? Math.floor((100 * state.done) / state.total) : 0;
  return (
    <ProgressBar
      label={loading ? 'Loading the model' : 'Generating'}
      done={state.done}
      total={state.total}
      text={
        !loading
          ? `Step ${state.done} of ${state.total}`
          : state.preparingGpu
            ? 'Preparing the GPU…'
            : `Loading the model… ${percent}%`
      }
    />
  );
}
