import { describe, expect, it } from 'vitest';
import {
  initialSettings,
  settingsForNewModel,
  settingsFromRecipe,
} from '../../../src/ui/create/create-settings';

const current = { ...initialSettings(42), steps: 6, guidance: 3, negativePrompt: 'dark' };

describe('the Create screen’s settings', () => {
  it('start at the pack’s defaults with a random (not fixed) seed', () => {
    expect(initialSettings(7)).toEqual({
      steps: null,
      guidance: null,
      seed: 7,
      fixedSeed: false,
      negativePrompt: '',
    });
  });

  it('take every value a recipe has, with its seed fixed', () => {
    const recipe = { prompt: 'cat', steps: 2, guidance: 1.5, seed: 9, negativePrompt: 'blurry' };
    expect(settingsFromRecipe(recipe, current)).toEqual({
      steps: 2,
      guidance: 1.5,
      seed: 9,
      fixedSeed: true,
      negativePrompt: 'blurry',
    });
  });

  it('keep their own values where a partial recipe has none', () => {
    expect(settingsFromRecipe({ prompt: 'cat' }, current)).toEqual(current);
  });

  it('go back to the new model’s default steps and guidance, keeping the seed and negative prompt', () => {
    expect(settingsForNewModel({ ...current, fixedSeed: true })).toEqual({
      steps: null,
      guidance: null,
      seed: 42,
      fixedSeed: true,
      negativePrompt: 'dark',
    });
  });
});
