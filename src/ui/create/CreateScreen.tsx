/** The Create screen: prompt, model and settings in, picture out; every result is kept in the gallery. */

import { useEffect, useState } from 'preact/hooks';
import { randomSeed } from '../../shared/random';
import {
  initialChoices,
  choicesForNewModel,
  choicesFromRecipe,
  type CreateChoices,
} from './create-choices';
import { DEMO_CHOICE, packIdArg, controlsFor } from './model-choice';
import { guidanceFor, stepsFor } from './pack-controls';
import { PackRow } from './PackRow';
import { ProgressBar } from './ProgressBar';
import { PromptBar } from './PromptBar';
import { ResultView } from './ResultView';
import { SettingsRow } from './SettingsRow';
import { StatusLine } from './StatusLine';
import { useGeneration } from './useGeneration';
import { useModelChoice } from './useModelChoice';
import { DrawingTools, layoutForGenerate, RegionsPanel, restoreLayout } from '../draw';
import { keepResult } from './keep';
import { remix, type RemixRequest } from '../app/remix';
import { decodeLayout, emptyLayout } from '../../shared/regions/layout';
import './create.css';

export function CreateScreen() {
  const [prompt, setPrompt] = useState('');
  const [choices, setChoices] = useState<CreateChoices>(() => initialChoices(randomSeed()));
  const { state, generate, cancel } = useGeneration();
  const models = useModelChoice();
  const busy = state.status === 'loading' || state.status === 'running';
  // The chosen model's ranges and guidance kind: its manifest's until it is loaded, then the engine's.
  const loaded = state.pack && { choice: state.packRequested ?? DEMO_CHOICE, pack: state.pack };
  const pack = controlsFor(models.choice, models.options, loaded);
  const steps = stepsFor(choices.steps, pack);
  const guidance = guidanceFor(choices.guidance, pack);

  // Every result is kept in the gallery, with its recipe.
  const [keepError, setKeepError] = useState<string | null>(null);
  useEffect(() => {
    const result = state.result;
    if (!result) return;
    setKeepError(null);
    keepResult(result.output, result.blob).catch((error: unknown) =>
      setKeepError(error instanceof Error ? error.message : String(error)),
    );
  }, [state.result]);

  // A recipe from the Gallery (Remix, Open image) fills the fields.
  useEffect(() => {
    const apply = (request: RemixRequest | null) => {
      if (!request) return;
      const { recipe } = request;
      setPrompt(recipe.prompt);
      setChoices((s) => choicesFromRecipe(recipe, s));
      if (recipe.pack?.id) models.choosePack(recipe.pack.id);
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
    const seed = choices.fixedSeed ? choices.seed : randomSeed();
    setChoices((s) => ({ ...s, seed }));
    void generate({
      prompt: text,
      packId: packIdArg(models.choice),
      steps,
      guidance: choices.guidance,
      negativePrompt: choices.negativePrompt,
      seed,
      regions: layoutForGenerate(),
    });
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
      <DrawingTools />
      <div class="controls">
        <PackRow
          options={models.options}
          choice={models.choice}
          onChoose={(choice) => {
            models.choose(choice);
            setChoices(choicesForNewModel);
          }}
          pack={pack}
          guidance={guidance}
          onGuidance={(value) => setChoices((s) => ({ ...s, guidance: value }))}
        />
        <SettingsRow
          value={{ steps, seed: choices.seed, fixedSeed: choices.fixedSeed }}
          stepRange={pack.ranges.steps}
          onChange={(value) => setChoices((s) => ({ ...s, ...value }))}
        />
        <RegionsPanel />
      </div>
      {/* Outside .controls so it can stick to the bottom of the whole screen. */}
      <PromptBar
        prompt={prompt}
        negativePrompt={pack.guidance === 'cfg' ? choices.negativePrompt : null}
        busy={busy}
        onPrompt={setPrompt}
        onNegativePrompt={(negativePrompt) => setChoices((s) => ({ ...s, negativePrompt }))}
        onGenerate={start}
        onCancel={cancel}
      />
    </section>
  );
}
