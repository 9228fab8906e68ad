import { describe, expect, it } from 'vitest';
import {
  initialChoices,
  choicesForNewModel,
  choicesFromRecipe,
} from '../../../../src/ui/create/create-choices';

const current = { ...initialChoices(42), steps: 6, guidance: 3, negativePrompt: 'dark' };

describe('the Create screen’s settings', () => {
  it('start at the pack’s defaults with a random (not fixed) seed', () => {
    expect(initialChoices(7)).toEqual({
      steps: null,
      guidance: null,
      seed: 7,
      fixedSeed: false,
      negativePrompt: '',
    });
  });

  it('take every value a recipe has, with its seed fixed', () => {
    const recipe = { prompt: 'cat', steps: 2, guidance: 1.5, seed: 9, negativePrompt: 'blurry' };
    expect(choicesFromRecipe(recipe, current)).toEqual({
      steps: 2,
      guidance: 1.5,
      seed: 9,
      fixedSeed: true,
      negativePrompt: 'blurry',
    });
  });

  it('keep their own values where a partial recipe has none', () => {
    expect(choicesFromRecipe({ prompt: 'cat' }, current)).toEqual(current);
  });

  it('go back to the new model’s default steps and guidance, keeping the seed and negative prompt', () => {
    expect(choicesForNewModel({ ...current, fixedSeed: true })).toEqual({
      steps: null,
      guidance: null,
      seed: 42,
      fixedSeed: true,
      negativePrompt: 'dark',
    });
  });
});
