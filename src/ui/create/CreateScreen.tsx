import { useEffect, useState } from 'preact/hooks';
import { randomSeed } from '../../engine/random';
import { ProgressBar } from './ProgressBar';
import { PromptBar } from './PromptBar';
import { ResultView } from './ResultView';
import { SettingsRow, type SettingsValue } from './SettingsRow';
import { StatusLine } from './StatusLine';
import { useGeneration } from './useGeneration';
import { DrawingTools, layoutForGenerate, RegionsPanel } from '../draw'; // regions (issue 6)
import { keepGeneration } from '../../store/gallery'; // gallery (issue 7)
import { remix, type RemixRequest } from '../app/remix'; // gallery (issue 7)
import { restoreLayout } from '../draw'; // gallery (issue 7)
import { decodeLayout, emptyLayout } from '../../engine/regions/layout'; // gallery (issue 7)
import './create.css';

const DEFAULT_STEP_RANGE: [number, number] = [1, 8];

export function CreateScreen() {
  const [prompt, setPrompt] = useState('');
  const [settings, setSettings] = useState<SettingsValue>(() => ({
    steps: 4,
    seed: randomSeed(),
    fixedSeed: false,
  }));
  const { state, generate, cancel } = useGeneration();
  const busy = state.status === 'loading' || state.status === 'running';
  const stepRange = state.pack?.ranges.steps ?? DEFAULT_STEP_RANGE;

  // gallery (issue 7): keep every result in the gallery, with its recipe.
  const [keepError, setKeepError] = useState<string | null>(null);
  useEffect(() => {
    const result = state.result;
    if (!result || !state.pack) return;
    setKeepError(null);
    const run = {
      prompt: result.prompt,
      regions: result.regions,
      pack: state.pack,
      output: result.output,
    };
    keepGeneration(run, result.blob).catch((error: unknown) =>
      setKeepError(error instanceof Error ? error.message : String(error)),
    );
  }, [state.result]);

  // gallery (issue 7): a recipe from the Gallery (Remix, Open image) fills the fields.
  useEffect(() => {
    const apply = (request: RemixRequest | null) => {
      if (!request) return;
      const { recipe } = request;
      setPrompt(recipe.prompt);
      setSettings((s) => ({
        ...s,
        steps: recipe.steps ?? s.steps,
        seed: recipe.seed ?? s.seed,
        fixedSeed: recipe.seed !== undefined || s.fixedSeed,
      }));
      // The regions it was made with, or none, so the same recipe makes the same image.
      try {
        restoreLayout(recipe.regions ? decodeLayout(recipe.regions) : emptyLayout());
      } catch {
        restoreLayout(emptyLayout()); // an unreadable layout (another app's PNG): start clean
      }
    };
    apply(remix.take());
    return remix.subscribe((request) => request && apply(remix.take()));
  }, []);

  const start = () => {
    const text = prompt.trim();
    if (!text) return;
    const seed = settings.fixedSeed ? settings.seed : randomSeed();
    setSettings((s) => ({ ...s, seed }));
    void generate({ prompt: text, steps: settings.steps, seed, regions: layoutForGenerate() }); // regions (issue 6)
  };

  return (
    <section class="screen create" aria-labelledby="screen-title">
      <h1 id="screen-title" class="visually-hidden">
        Create
      </h1>
      <ResultView preview={state.preview} result={state.result} busy={busy} />
      {busy && (
        <ProgressBar
          label={state.status === 'loading' ? 'Loading the model' : 'Generating'}
          done={state.done}
          total={state.total}
          text={
            state.status === 'loading'
              ? `Loading the model… ${state.total > 0 ? Math.floor((100 * state.done) / state.total) : 0}%`
              : `Step ${state.done} of ${state.total}`
          }
        />
      )}
      <StatusLine state={state} />
      {keepError && <p role="alert">Not kept in the gallery: {keepError}</p>}
      {/* gallery (issue 7) */}
      {/* regions (issue 6) */}
      <DrawingTools />
      <div class="controls">
        <SettingsRow value={settings} stepRange={stepRange} onChange={setSettings} />
        {/* regions (issue 6) */}
        <RegionsPanel />
        <PromptBar
          prompt={prompt}
          busy={busy}
          onPrompt={setPrompt}
          onGenerate={start}
          onCancel={cancel}
        />
      </div>
    </section>
  );
}
