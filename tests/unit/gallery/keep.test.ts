import { describe, expect, it } from 'vitest';
import { recipeOf, runInfoOf, type FinishedGeneration } from '../../../src/store/gallery/keep';

const run: FinishedGeneration = {
  prompt: 'red heart',
  pack: {
    packId: 'lcm-dreamshaper-v7',
    version: '1.0.0',
    variantId: 'fp16',
    pipeline: 'lcm',
    defaults: { steps: 4, guidance: 8 },
  },
  output: {
    image: { width: 512, height: 384, data: new Uint8ClampedArray(0) },
    seed: 99,
    steps: 4,
    backend: 'webgpu',
    timings: {
      tokenizeMs: 1,
      textEncodeMs: 2,
      unetMs: [3, 4, 5, 6],
      stepOverheadMs: 7,
      decodeMs: 8,
      totalMs: 40,
    },
  },
};

describe('a finished generation as a recipe', () => {
  it('takes seed, steps and size from the output and the pack from what was loaded', () => {
    expect(recipeOf(run)).toEqual({
      prompt: 'red heart',
      negativePrompt: '',
      pack: { id: 'lcm-dreamshaper-v7', version: '1.0.0', variant: 'fp16' },
      steps: 4,
      guidance: 8,
      seed: 99,
      width: 512,
      height: 384,
      sampler: 'LCM',
    });
  });

  it('keeps the guidance, negative prompt and regions asked for', () => {
    const regions = { regions: [{ prompt: 'sky' }] };
    const recipe = recipeOf({ ...run, guidance: 2.5, negativePrompt: 'blurry', regions });
    expect(recipe).toMatchObject({ guidance: 2.5, negativePrompt: 'blurry', regions });
    expect(recipeOf({ ...run, pack: { ...run.pack, pipeline: 'demo' } }).sampler).toBeUndefined();
  });

  it('keeps the backend and every timing', () => {
    expect(runInfoOf(run)).toEqual({ backend: 'webgpu', timings: run.output.timings });
  });
});
