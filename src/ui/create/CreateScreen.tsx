/**
 * The Create screen: prompt (or regions with prompts), model and settings in,
 * picture out, with Save and Share; every result is kept in the gallery.
 */

import { useEffect, useRef, useState } from 'preact/hooks';
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
import { ExplainButton } from '../explain/ExplainButton';
import { AttentionMaps, useAttentionView } from '../explain/AttentionMaps';
import type { StoredExplanation } from '../../store/gallery';
import { ResultView } from './ResultView';
import { StartImagePicker } from './start-image/StartImagePicker';
import { DEFAULT_STRENGTH, releaseChoice, type StartImageChoice } from './start-image/photo';
import { problemIds, SettingsRow } from './SettingsRow';
import { ResultActions } from './ResultActions';
import { NO_DRAFTS, runSettings, typed, type FieldDrafts } from './number-fields';
import { hasRegionPrompts, useRegionPrompts } from './useRegionPrompts';
import { StatusLine } from './StatusLine';
import { useGeneration } from './useGeneration';
import { useModelChoice } from './useModelChoice';
import {
  DrawingTools,
  layoutForGenerate,
  outlineSnapshot,
  RegionsPanel,
  repaintMask,
  restoreLayout,
  setOutline,
  setRepaint,
  useOutlineMode,
  useRepaintMode,
} from '../draw';
import { controlStrength, OutlineControls } from './outline/OutlineControls';
import { runInfoOf } from './run-info';
import { recipePng, saveGeneration } from '../../store/gallery';
import { pngFileName } from '../gallery/files';
import { remix, type RemixRequest } from '../app/remix';
import { decodeLayout, emptyLayout } from '../../shared/regions/layout';
import './create.css';

export function CreateScreen() {
  const [prompt, setPrompt] = useState('');
  const [choices, setChoices] = useState<CreateChoices>(() => initialChoices(randomSeed()));
  const { state, generate, cancel } = useGeneration();
  const models = useModelChoice();
  const repaint = useRepaintMode();
  const outlineMode = useOutlineMode();
  const busy = state.status === 'loading' || state.status === 'running';
  // The chosen model's ranges and guidance kind: its manifest's until it is loaded, then the engine's.
  const loaded = state.pack && { choice: state.packRequested ?? DEMO_CHOICE, pack: state.pack };
  const pack = controlsFor(models.choice, models.options, loaded);
  const guidance = guidanceFor(choices.guidance, pack);
  // Outline mode: only for a pack with a ControlNet. Its strength: the one set, else the pack's default.
  const { control } = pack;
  const outline = outlineMode && control !== null;
  const [outlineStrength, setOutlineStrength] = useState<number | null>(null);
  const controlsKnown =
    loaded?.choice === models.choice ||
    models.options.some((o) => o.value === models.choice && o.settings !== null);
  useEffect(() => {
    // The chosen pack cannot follow an outline (once its settings are known): the mode goes off.
    if (outlineMode && controlsKnown && control === null) setOutline(false);
  }, [outlineMode, controlsKnown, control]);
  // What Steps and Seed hold: the values that will run, or sentences while what is typed is not one.
  const [drafts, setDrafts] = useState<FieldDrafts>(NO_DRAFTS);
  const settings = runSettings(
    drafts,
    { steps: stepsFor(choices.steps, pack), seed: choices.seed, fixedSeed: choices.fixedSeed },
    pack.ranges.steps,
  );
  // With regions that have prompts, the main prompt may be empty.
  const regionPrompts = useRegionPrompts();
  const canGenerate = (prompt.trim() !== '' || regionPrompts) && settings.blocked === null;

  // Every result is kept in the gallery, with its recipe; the same PNG is what Save and Share give.
  const [keepError, setKeepError] = useState<string | null>(null);
  const [resultFile, setResultFile] = useState<File | null>(null);
  const [keptId, setKeptId] = useState<string | null>(null);
  const [startPhoto, setStartPhoto] = useState<StartImageChoice | null>(null);
  // Leaving the screen lets go of the photo (its bitmap and preview URL).
  const heldPhoto = useRef<StartImageChoice | null>(null);
  heldPhoto.current = startPhoto;
  useEffect(() => () => heldPhoto.current && releaseChoice(heldPhoto.current), []);
  const [explanation, setExplanation] = useState<StoredExplanation | null>(null);
  const attention = useAttentionView(explanation);
  useEffect(() => {
    const result = state.result;
    setResultFile(null);
    setKeptId(null);
    setExplanation(null);
    if (!result) return;
    setKeepError(null);
    let live = true; // the Save/Share file is for this result only
    const { recipe } = result.output;
    const run = runInfoOf(result.output);
    const createdAt = Date.now();
    recipePng(recipe, result.blob, run, createdAt)
      .then((png) => {
        if (live) setResultFile(new File([png], pngFileName(recipe), { type: 'image/png' }));
        return saveGeneration(recipe, png, run, createdAt);
      })
      .then((item) => live && setKeptId(item.id))
      // Said even when a newer result came since: a failed keep is never silent.
      .catch((error: unknown) =>
        setKeepError(error instanceof Error ? error.message : String(error)),
      );
    return () => {
      live = false;
    };
  }, [state.result]);

  // A recipe from the Gallery (Remix, Open image) fills the fields.
  useEffect(() => {
    const apply = (request: RemixRequest | null) => {
      if (!request) return;
      const { recipe } = request;
      setPrompt(recipe.prompt);
      setChoices((s) => choicesFromRecipe(recipe, s));
      setDrafts(NO_DRAFTS);
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
    if (!text && !hasRegionPrompts()) return;
    // Only the values the fields show run: nothing while one holds something else.
    const steps = settings.steps.value;
    if (steps === null || settings.blocked !== null) return;
    const seed = choices.fixedSeed ? settings.seed.value : randomSeed();
    if (seed === null) return;
    // Repaint mode with some area painted: only there, over the current result.
    const picture = state.result?.output.image;
    const mask = picture ? repaintMask(picture) : null;
    const repaintArea = picture && mask ? { image: picture, mask, parent: keptId } : null;
    // Outline mode with lines drawn: rasterised at the pack's size once it is loaded.
    const lines = outline ? outlineSnapshot() : null;
    setChoices((s) => ({ ...s, seed }));
    if (!choices.fixedSeed) setDrafts((d) => ({ ...d, seed: null }));
    void generate({
      prompt: text,
      packId: packIdArg(models.choice),
      steps,
      guidance: choices.guidance,
      negativePrompt: choices.negativePrompt,
      seed,
      regions: layoutForGenerate(),
      ...(startPhoto
        ? { startPhoto: { bitmap: startPhoto.bitmap, strength: startPhoto.strength } }
        : {}),
      ...(repaintArea ? { repaint: repaintArea } : {}),
      ...(lines && control
        ? { outline: { lines, strength: controlStrength(outlineStrength, control) } }
        : {}),
    });
  };

  return (
    <section class="screen create" aria-labelledby="screen-title">
      <h1 id="screen-title" class="visually-hidden">
        Create
      </h1>
      <ResultView
        preview={state.preview}
        result={state.result}
        busy={busy}
        overlay={busy ? null : (attention?.overlay ?? null)}
      />
      {busy && (
        <ProgressBar
          label={state.status === 'loading' ? 'Loading the model' : 'Generating'}
          done={state.done}
          total={state.total}
          text={
            state.status !== 'loading'
              ? `Step ${state.done} of ${state.total}`
              : state.preparingGpu
                ? 'Preparing the GPU…'
                : `Loading the model… ${state.total > 0 ? Math.floor((100 * state.done) / state.total) : 0}%`
          }
        />
      )}
      <StatusLine state={state} />
      {models.notice && <p role="status">{models.notice}</p>}
      {!busy && state.result && resultFile && (
        <ResultActions file={resultFile} prompt={state.result.output.recipe.prompt} />
      )}
      {/* Explain records attention from the plain UNet; a result that followed an outline ran another one. */}
      {!busy && state.result && !state.result.outline && (
        <ExplainButton
          key={state.result.url}
          output={state.result.output}
          startImage={state.result.startImage ?? null}
          repaint={state.result.repaint ?? null}
          outline={state.result.outline ?? null}
          packId={state.packRequested}
          keptId={keptId}
          onExplained={setExplanation}
        />
      )}
      {((!busy && state.result && pack.hasImageEncoder) || control) && (
        <div class="mode-toggles">
          {!busy && state.result && pack.hasImageEncoder && (
            <button
              type="button"
              class="repaint-toggle"
              aria-pressed={repaint}
              onClick={() => setRepaint(!repaint)}
            >
              Repaint
            </button>
          )}
          {control && (
            <button
              type="button"
              class="outline-toggle"
              aria-pressed={outlineMode}
              onClick={() => setOutline(!outlineMode)}
            >
              Outline
            </button>
          )}
        </div>
      )}
      {outline && control && (
        <OutlineControls
          control={control}
          strength={controlStrength(outlineStrength, control)}
          onStrength={setOutlineStrength}
        />
      )}
      {repaint && (
        <p class="repaint-hint">
          Paint over the part to change, then press Generate: the rest of the picture stays as it
          is.
        </p>
      )}
      {!busy && attention && <AttentionMaps view={attention} />}
      {keepError && <p role="alert">Not kept in the gallery: {keepError}</p>}
      <DrawingTools />
      <div class="controls">
        <PackRow
          options={models.options}
          choice={models.choice}
          onChoose={(choice) => {
            models.choose(choice);
            setChoices(choicesForNewModel);
            setOutlineStrength(null); // the new pack's default
            setDrafts((d) => ({ ...d, steps: null }));
          }}
          pack={pack}
          guidance={guidance}
          onGuidance={(value) => setChoices((s) => ({ ...s, guidance: value }))}
        />
        <SettingsRow
          settings={settings}
          drafts={drafts}
          stepRange={pack.ranges.steps}
          onText={(field, text) => {
            const next = typed(field, text, drafts, pack.ranges.steps);
            setDrafts(next.drafts);
            const { value } = next;
            // Typing a seed means "use this one".
            if (field === 'seed')
              setChoices((s) => ({ ...s, fixedSeed: true, seed: value ?? s.seed }));
            else if (value !== null) setChoices((s) => ({ ...s, steps: value }));
          }}
          onFixedSeed={(fixedSeed) => {
            setChoices((s) => ({ ...s, fixedSeed }));
            // A random seed each run: the field goes back to showing the last seed.
            if (!fixedSeed) setDrafts((d) => ({ ...d, seed: null }));
          }}
        />
        <StartImagePicker
          value={startPhoto}
          onChange={setStartPhoto}
          note={
            pack.hasImageEncoder
              ? null
              : 'This pack has no image encoder, so it cannot start from a photo or repaint. Choose another pack for that.'
          }
          defaultStrength={pack.defaults.startStrength ?? DEFAULT_STRENGTH}
        />
        {!repaint && !outlineMode && <RegionsPanel />}
      </div>
      {/* Outside .controls so it can stick to the bottom of the whole screen. */}
      <PromptBar
        prompt={prompt}
        negativePrompt={pack.guidance === 'cfg' ? choices.negativePrompt : null}
        busy={busy}
        canGenerate={canGenerate}
        generateProblem={problemIds(settings)}
        onPrompt={setPrompt}
        onNegativePrompt={(negativePrompt) => setChoices((s) => ({ ...s, negativePrompt }))}
        onGenerate={start}
        onCancel={cancel}
      />
    </section>
  );
}
