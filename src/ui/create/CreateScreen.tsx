/**
 * The Create screen, canvas first: the picture as large as the screen allows,
 * one bar of tools (each shows only its own controls), the result's actions
 * in one row, the settings in a sheet behind a one-line summary, and the
 * Prompt with Generate always in view. The state lives in one place
 * (create-store.ts, useGeneration.ts), so nothing is lost between screens.
 */

import { useEffect, useState } from 'preact/hooks';
import type { StoredExplanation } from '../../store/gallery';
import { AttentionMaps, useAttentionView } from '../explain/AttentionMaps';
import { choicesForNewModel } from './create-choices';
import { patchCreate, setStartPhoto, updateCreate, useStartPhoto } from './create-store';
import { FirstVisit } from './FirstVisit';
import { RunProgress } from './ProgressBar';
import { PromptBar } from './PromptBar';
import { ResultActions } from './ResultActions';
import { ResultView } from './ResultView';
import { settingsSummary } from './settings-summary';
import { SettingsSheet } from './SettingsSheet';
import { DEFAULT_STRENGTH, readChoice, releaseChoice } from './start-image/photo';
import { StatusLine } from './StatusLine';
import { TokenCounter } from './TokenCounter';
import { ToolBar } from './ToolBar';
import { OutlineTool, PhotoTool, RegionsTool, RepaintTool } from './tool-panels';
import { drawsOnCanvas } from './tools';
import { useCreateRun } from './useCreateRun';
import { useGeneration } from './useGeneration';
import { restoreShownResult, useKeptResult } from './useKeptResult';
import { useModelChoice } from './useModelChoice';
import { useRemix } from './useRemix';
import { selectTool, useTools } from './useTools';
import { packIdArg } from './model-choice';
import { preloadPack } from '../app/warm-up';
import './create.css';

export function CreateScreen() {
  const { state, generate, cancel } = useGeneration();
  const models = useModelChoice();
  // The chosen pack loads (and warms up) while the person types; choosing another replaces it.
  useEffect(() => {
    if (models.known)
      preloadPack(packIdArg(models.choice)).catch(() => {
        // Out of memory or a broken pack: Generate loads again and explains.
      });
  }, [models.known, models.choice]);
  const startPhoto = useStartPhoto();
  const kept = useKeptResult(state.result);
  const run = useCreateRun(models, state, generate, startPhoto, kept.keptId);
  const { create, pack } = run;
  const busy = state.status === 'loading' || state.status === 'running';
  const known =
    state.packRequested === packIdArg(models.choice) ||
    models.options.some((o) => o.value === models.choice && o.settings !== null);
  const facts = {
    hasImageEncoder: pack.hasImageEncoder,
    hasControl: pack.control !== null,
    hasResult: state.result !== null,
  };
  const tools = useTools(facts, known);
  const [explanation, setExplanation] = useState<StoredExplanation | null>(null);
  const attention = useAttentionView(explanation);
  useEffect(() => setExplanation(null), [state.result]);
  const [photoError, setPhotoError] = useState<string | null>(null);

  // After a reload: the result that was on the canvas comes back from the gallery.
  useEffect(() => {
    restoreShownResult().catch(() => patchCreate({ resultId: null }));
  }, []);

  useRemix(models.choosePack);
  // The chosen pack was deleted: Create falls back to another, with that pack's defaults.
  useEffect(() => {
    if (models.notice) takeNewModelDefaults();
  }, [models.notice]);

  /** "Use as start image": the result becomes the photo to start from, and Photo opens. */
  const useAsStart = (file: File) => {
    setPhotoError(null);
    readChoice(file, startPhoto?.strength ?? pack.defaults.startStrength ?? DEFAULT_STRENGTH)
      .then((choice) => {
        if (startPhoto) releaseChoice(startPhoto);
        setStartPhoto(choice);
        selectTool('photo');
      })
      .catch((error: unknown) =>
        setPhotoError(error instanceof Error ? error.message : String(error)),
      );
  };

  const { tool } = tools;
  const showMaps = !busy && attention !== null && tool === null;
  const empty = !state.result && !busy && tool === null;
  return (
    <section class="screen create" aria-labelledby="screen-title">
      <h1 id="screen-title" class="visually-hidden">
        Create
      </h1>
      <div class="create-stage">
        <ResultView
          preview={state.preview}
          result={state.result}
          busy={busy}
          drawing={drawsOnCanvas(tool)}
          overlay={busy ? null : (attention?.overlay ?? null)}
          empty={empty ? <FirstVisit onExample={(prompt) => patchCreate({ prompt })} /> : null}
        />
      </div>
      <div class="create-side">
        {busy && <RunProgress state={state} />}
        <StatusLine state={state} />
        {models.notice && <p role="status">{models.notice}</p>}
        {run.notices.map((notice) => (
          <p key={notice} class="create-notice" role="status">
            {notice}
          </p>
        ))}
        {kept.keepError && <p role="alert">Not kept in the gallery: {kept.keepError}</p>}
        {photoError && <p role="alert">{photoError}</p>}
        {!busy && state.result && (
          <ResultActions
            result={state.result}
            file={kept.file}
            packId={state.packRequested}
            keptId={kept.keptId}
            canStartFrom={pack.hasImageEncoder}
            onExplained={setExplanation}
            onUseAsStart={useAsStart}
          />
        )}
        <ToolBar tool={tool} facts={facts} onTool={tools.press} />
        <div class="tool-area">
          {tool === 'regions' && <RegionsTool />}
          {tool === 'repaint' && <RepaintTool />}
          {tool === 'outline' && pack.control && (
            <OutlineTool
              control={pack.control}
              strength={create.outlineStrength}
              onStrength={(outlineStrength) => patchCreate({ outlineStrength })}
            />
          )}
          {tool === 'photo' && (
            <PhotoTool
              value={startPhoto}
              onChange={setStartPhoto}
              defaultStrength={pack.defaults.startStrength ?? DEFAULT_STRENGTH}
            />
          )}
          {showMaps && <AttentionMaps view={attention} />}
        </div>
        <SettingsSheet
          summary={settingsSummary({
            model: models.options.find((o) => o.value === models.choice)?.label ?? 'Demo',
            steps: run.shown.steps,
            guidance: pack.guidance === 'none' ? null : run.shown.guidance,
            seed: create.choices.fixedSeed ? create.choices.seed : null,
            decoder: run.decoder,
          })}
          options={models.options}
          choice={models.choice}
          onChoose={(choice) => {
            models.choose(choice);
            takeNewModelDefaults();
          }}
          pack={pack}
          settings={run.settings}
          drafts={create.drafts}
          shown={run.shown}
          onText={run.onText}
          onFixedSeed={run.onFixedSeed}
          decoder={run.decoder}
          onDecoder={(decoder) => patchCreate({ decoder })}
          negativePrompt={pack.guidance === 'cfg' ? create.choices.negativePrompt : null}
          onNegativePrompt={(negativePrompt) =>
            updateCreate((s) => ({ ...s, choices: { ...s.choices, negativePrompt } }))
          }
        />
        <PromptBar
          prompt={create.prompt}
          busy={busy}
          problem={run.problem}
          counter={<TokenCounter prompt={create.prompt} packId={packIdArg(models.choice)} />}
          onPrompt={(prompt) => patchCreate({ prompt })}
          onGenerate={run.start}
          onCancel={cancel}
        />
      </div>
    </section>
  );
}

/** A new model's defaults: steps, guidance, outline strength, decoder (the prompt and seed stay). */
function takeNewModelDefaults(): void {
  updateCreate((s) => ({
    ...s,
    choices: choicesForNewModel(s.choices),
    drafts: { ...s.drafts, steps: null, guidance: null },
    outlineStrength: null,
    decoder: null,
  }));
}
