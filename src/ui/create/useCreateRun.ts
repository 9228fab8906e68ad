/**
 * What a run would be, from the Create state in one place: the pack's
 * controls, the settings the fields hold, why Generate is off, and start().
 */

import { randomSeed } from '../../shared/random';
import type { DecoderChoice } from '../../shared/recipe';
import { layoutForGenerate, outlineSnapshot, repaintMask } from '../draw';
import { clampNotices } from './create-choices';
import { updateCreate, useCreate } from './create-store';
import { DEMO_CHOICE, controlsFor, packIdArg } from './model-choice';
import { runSettings, typed, type NumberFieldName } from './number-fields';
import { controlStrength } from './outline/OutlineControls';
import { guidanceFor, stepsFor } from './pack-controls';
import type { StartImageChoice } from './start-image/photo';
import { promptProblem } from './token-text';
import type { ModelChoice } from './useModelChoice';
import { useRegionPrompts } from './useRegionPrompts';
import type { GenerationRequest, GenerationState } from './useGeneration';

export function useCreateRun(
  models: ModelChoice,
  state: GenerationState,
  generate: (request: GenerationRequest) => Promise<void>,
  startPhoto: StartImageChoice | null,
  keptId: string | null,
) {
  const create = useCreate();
  const { choices, drafts } = create;
  // The chosen model's ranges and guidance kind: its manifest's until it is loaded, then the engine's.
  const loaded = state.pack && { choice: state.packRequested ?? DEMO_CHOICE, pack: state.pack };
  const pack = controlsFor(models.choice, models.options, loaded);
  const shown = {
    steps: stepsFor(choices.steps, pack),
    seed: choices.seed,
    guidance: guidanceFor(choices.guidance, pack),
  };
  const settings = runSettings(
    drafts,
    {
      ...shown,
      fixedSeed: choices.fixedSeed,
      guidance: pack.guidance === 'none' ? null : shown.guidance,
    },
    pack.ranges,
  );
  // With regions that have prompts, the main prompt may be empty.
  const regionPrompts = useRegionPrompts();
  const problem = promptProblem(create.prompt, regionPrompts) ?? settings.blocked;
  /** The decoder the settings show: the one chosen, else the pack's default; null with one decoder. */
  const decoder: DecoderChoice | null = pack.decoders.fast
    ? (create.decoder ?? pack.decoders.default)
    : null;
  const notices = [...create.notices, ...clampNotices(choices, pack)];

  const onText = (field: NumberFieldName, text: string) =>
    updateCreate((s) => {
      const next = typed(field, text, s.drafts, pack.ranges);
      const { value } = next;
      const c = s.choices;
      // Typing a seed means "use this one".
      const updated =
        field === 'seed'
          ? { ...c, fixedSeed: true, seed: value ?? c.seed }
          : value === null
            ? c
            : { ...c, [field]: value };
      // A typed seed answers a refused one.
      const notes = field === 'seed' ? s.notices.filter((n) => !n.includes('seed')) : s.notices;
      return { ...s, drafts: next.drafts, choices: updated, notices: notes };
    });

  const onFixedSeed = (fixedSeed: boolean) =>
    updateCreate((s) => ({
      ...s,
      choices: { ...s.choices, fixedSeed },
      // A random seed each run: the field goes back to showing the last seed.
      drafts: fixedSeed ? s.drafts : { ...s.drafts, seed: null },
      notices: fixedSeed ? s.notices : s.notices.filter((n) => !n.includes('seed')),
    }));

  const start = () => {
    const text = create.prompt.trim();
    // Only the values the fields show run: nothing while one holds something else.
    const steps = settings.steps.value;
    if (problem !== null || steps === null) return;
    const seed = choices.fixedSeed ? settings.seed.value : randomSeed();
    if (seed === null) return;
    // Repaint with some area painted: only there, over the current result.
    const picture = create.tool === 'repaint' ? state.result?.output.image : undefined;
    const mask = picture ? repaintMask(picture) : null;
    const repaintArea = picture && mask ? { image: picture, mask, parent: keptId } : null;
    // Outline with lines drawn: rasterised at the pack's size once it is loaded.
    const lines = create.tool === 'outline' && pack.control ? outlineSnapshot() : null;
    updateCreate((s) => ({
      ...s,
      choices: { ...s.choices, seed },
      drafts: s.choices.fixedSeed ? s.drafts : { ...s.drafts, seed: null },
      notices: [],
    }));
    void generate({
      prompt: text,
      packId: packIdArg(models.choice),
      steps,
      guidance: pack.guidance === 'none' ? null : settings.guidance.value,
      negativePrompt: choices.negativePrompt,
      seed,
      regions: layoutForGenerate(),
      ...(create.decoder && pack.decoders.fast ? { decoder: create.decoder } : {}),
      ...(startPhoto
        ? { startPhoto: { bitmap: startPhoto.bitmap, strength: startPhoto.strength } }
        : {}),
      ...(repaintArea ? { repaint: repaintArea } : {}),
      ...(lines && pack.control
        ? {
            outline: { lines, strength: controlStrength(create.outlineStrength, pack.control) },
          }
        : {}),
    });
  };

  return { create, pack, shown, settings, problem, decoder, notices, onText, onFixedSeed, start };
}
