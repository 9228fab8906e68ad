/** The Create screen's field choices (steps, seed, guidance, negative prompt) and how a recipe or a new model changes them. Pure. */

import type { RecipeDraft } from '../../shared/recipe';

export interface CreateChoices {
  /** null: the pack's default (so a new model starts from its own). */
  steps: number | null;
  guidance: number | null;
  seed: number;
  fixedSeed: boolean;
  /** Used only by packs with classifier-free guidance. */
  negativePrompt: string;
}

export function initialChoices(seed: number): CreateChoices {
  return { steps: null, guidance: null, seed, fixedSeed: false, negativePrompt: '' };
}

/** A recipe's values where it has them; the seed it names is kept fixed so the same image comes back. */
export function choicesFromRecipe(recipe: RecipeDraft, current: CreateChoices): CreateChoices {
  return {
    steps: recipe.steps ?? current.steps,
    guidance: recipe.guidance ?? current.guidance,
    seed: recipe.seed ?? current.seed,
    fixedSeed: recipe.seed !== undefined || current.fixedSeed,
    negativePrompt: recipe.negativePrompt ?? current.negativePrompt,
  };
}

/** The user picked another model: steps and guidance go back to that model's defaults. */
export function choicesForNewModel(current: CreateChoices): CreateChoices {
  return { ...current, steps: null, guidance: null };
}

/** The sentence for a recipe's seed that Gesso cannot run: named, never run as another number. */
export function seedRefusal(seedText: string): string {
  return `This image's seed, ${seedText}, is beyond the seeds Gesso can use (whole numbers from 0 to 4294967295), so its picture cannot be made again here. Enter another seed or turn off Fixed seed.`;
}

/**
 * Sentences for chosen values the model cannot run as they are (a recipe's
 * 999999 steps or guidance 1e9): what will run instead. Empty when all fit.
 */
export function clampNotices(
  choices: Pick<CreateChoices, 'steps' | 'guidance'>,
  pack: {
    guidance: 'none' | 'embedding' | 'cfg';
    ranges: { steps: [number, number]; guidance: [number, number] };
  },
): string[] {
  const notes: string[] = [];
  const [smin, smax] = pack.ranges.steps;
  const { steps, guidance } = choices;
  if (steps !== null && (steps < smin || steps > smax || !Number.isInteger(steps))) {
    const runs = Math.min(smax, Math.max(smin, Math.round(steps)));
    notes.push(
      `Steps ${steps} is outside this model's ${smin} to ${smax}, so ${runs} ${runs === 1 ? 'step runs' : 'steps run'}.`,
    );
  }
  const [gmin, gmax] = pack.ranges.guidance;
  if (pack.guidance !== 'none' && guidance !== null && (guidance < gmin || guidance > gmax)) {
    const runs = Math.min(gmax, Math.max(gmin, guidance));
    notes.push(`Guidance ${guidance} is outside this model's ${gmin} to ${gmax}, so ${runs} runs.`);
  }
  return notes;
}
