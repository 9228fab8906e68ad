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
