import { describe, expect, it } from 'vitest';
import {
  formatGessoRecipe,
  formatParameters,
  gessoRecipeProblem,
  parseGessoRecipe,
  parseParameters,
  parseParametersText,
  recipeFromText,
  recipeTextEntries,
} from '../../../src/shared/recipe-text';
import type { Recipe } from '../../../src/shared/recipe';

const recipe: Recipe = {
  prompt: 'red heart',
  negativePrompt: 'blurry',
  pack: { id: 'demo-emoji', version: '1.0.0', variant: 'fp32' },
  steps: 4,
  guidance: 4,
  seed: 123,
  width: 64,
  height: 64,
  sampler: 'LCM',
};

describe('parameters text (A1111 style)', () => {
  it('formats the way the Stable Diffusion ecosystem writes it', () => {
    expect(formatParameters(recipe, { backend: 'wasm' })).toBe(
      'red heart\nNegative prompt: blurry\n' +
        'Steps: 4, Sampler: LCM, CFG scale: 4, Seed: 123, Size: 64x64, Model: demo-emoji, ' +
        'Model version: 1.0.0, Model variant: fp32, Backend: wasm, Software: Gesso',
    );
  });

  it('leaves out an empty negative prompt and missing fields', () => {
    const text = formatParameters({ ...recipe, negativePrompt: '', sampler: undefined });
    expect(text.split('\n')).toEqual([
      'red heart',
      'Steps: 4, CFG scale: 4, Seed: 123, Size: 64x64, Model: demo-emoji, Model version: 1.0.0, Model variant: fp32, Software: Gesso',
    ]);
  });

  it('writes the outline strength when the image followed a drawn outline', () => {
    const text = formatParameters({ ...recipe, outline: { strength: 0.85, mask: [10, 4, 4082] } });
    expect(text.split('\n')[2]).toBe(
      'Steps: 4, Sampler: LCM, CFG scale: 4, Seed: 123, Size: 64x64, Model: demo-emoji, ' +
        'Model version: 1.0.0, Model variant: fp32, Outline strength: 0.85, Software: Gesso',
    );
  });

  it('parses text written by AUTOMATIC1111', () => {
    const a1111 =
      'masterpiece, a cat sitting on a windowsill, (soft light:1.2)\n' +
      'Negative prompt: lowres, bad anatomy\n' +
      'Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7.5, Seed: 3456789012, Size: 512x768, ' +
      'Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Lora hashes: "detail: 1a2b, style: 3c4d", Version: v1.6.0';
    expect(parseParameters(a1111)).toEqual({
      prompt: 'masterpiece, a cat sitting on a windowsill, (soft light:1.2)',
      negativePrompt: 'lowres, bad anatomy',
      steps: 20,
      sampler: 'DPM++ 2M Karras',
      guidance: 7.5,
      seed: 3456789012,
      width: 512,
      height: 768,
      pack: { id: 'v1-5-pruned-emaonly' },
    });
  });

  it('round-trips a recipe, quoting values with commas, colons and newlines', () => {
    const tricky: Recipe = {
      ...recipe,
      prompt: 'line one, with comma\nline two: with colon',
      negativePrompt: 'ugly\nsecond negative line',
      pack: { id: 'my pack', version: '2.0.0-beta', variant: 'q8, small: fast' },
      seed: 4294967295,
      guidance: 1.5,
    };
    const text = formatParameters(tricky);
    expect(text).toContain('Model variant: "q8, small: fast"');
    expect(parseParameters(text)).toEqual({ ...tricky });
  });

  it('treats text without a settings line as just a prompt', () => {
    expect(parseParameters('just a prompt, nothing else')).toEqual({
      prompt: 'just a prompt, nothing else',
      negativePrompt: '',
    });
  });

  it('treats a prompt with only one or two "key: value" pairs as prompt text', () => {
    expect(parseParameters('style: watercolor, mood: calm')).toEqual({
      prompt: 'style: watercolor, mood: calm',
      negativePrompt: '',
    });
  });
});

describe('a pack imported from a model file, in the recipe text', () => {
  const sha256 = '6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa';
  const imported: Recipe = {
    ...recipe,
    negativePrompt: '',
    pack: { id: 'imported-my-model', version: '1.0.0', variant: 'fp16-lora' },
    model: {
      name: 'my-model',
      sha256,
      loras: [
        { name: 'lcm-lora-sdv1-5', strength: 1 },
        { name: 'detail', strength: 0.8 },
      ],
    },
  };

  it("writes the file's name and hash as A1111's Model fields, and the LoRAs after the prompt", () => {
    expect(formatParameters(imported).split('\n')).toEqual([
      'red heart <lora:lcm-lora-sdv1-5:1> <lora:detail:0.8>',
      'Steps: 4, Sampler: LCM, CFG scale: 4, Seed: 123, Size: 64x64, Model hash: 6ce0161689, ' +
        'Model: my-model, Model version: 1.0.0, Model variant: fp16-lora, Software: Gesso',
    ]);
  });

  it('leaves the hash out where the pack did not record one', () => {
    const text = formatParameters({ ...imported, model: { name: 'my-model', loras: [] } });
    expect(text.split('\n')).toEqual([
      'red heart',
      'Steps: 4, Sampler: LCM, CFG scale: 4, Seed: 123, Size: 64x64, Model: my-model, ' +
        'Model version: 1.0.0, Model variant: fp16-lora, Software: Gesso',
    ]);
  });

  it('reads the prompt back without the LoRA tags', () => {
    expect(parseParameters(formatParameters(imported)).prompt).toBe('red heart');
  });

  it('keeps the model file, hash and LoRAs in the Gesso recipe exactly', () => {
    expect(parseGessoRecipe(formatGessoRecipe(imported))).toEqual(imported);
    const entries = recipeTextEntries(imported).map(({ keyword, text }) => ({
      keyword,
      text,
      kind: 'iTXt' as const,
    }));
    expect(recipeFromText(entries)).toEqual({ draft: imported, exact: true });
  });
});

describe('gesso-recipe JSON', () => {
  it('round-trips every field exactly, regions, start image, repaint, outline and Unicode included', () => {
    const full: Recipe = {
      ...recipe,
      prompt: '猫 and 🐶, "quoted"\nnext line',
      regions: {
        version: 1,
        regions: [
          { id: 1, name: 'Sky', colour: '#8888ff', prompt: 'sky', strength: 1, hidden: false },
        ],
        strokes: [{ region: 1, erase: false, points: [0.1, 0.2, 0.05] }],
      },
      startImage: { strength: 0.35 },
      repaint: { parent: '1700000000000-abc', mask: [2016, 32, 2048] },
      outline: { strength: 1.2, mask: [100, 6, 3990] },
    };
    const text = formatGessoRecipe(
      full,
      { backend: 'webgpu', timings: { totalMs: 812.5, unetMs: [100, 120] } },
      1700000000000,
    );
    expect(JSON.parse(text)).toMatchObject({ format: 'gesso-recipe@1', createdAt: 1700000000000 });
    expect(parseGessoRecipe(text)).toEqual(full);
  });

  it('returns null for JSON that is not a Gesso recipe', () => {
    expect(parseGessoRecipe('not json')).toBeNull();
    expect(parseGessoRecipe('{"format":"other","recipe":{}}')).toBeNull();
    const missingSeed = JSON.parse(formatGessoRecipe(recipe)) as {
      recipe: Record<string, unknown>;
    };
    delete missingSeed.recipe.seed;
    expect(parseGessoRecipe(JSON.stringify(missingSeed))).toBeNull();
  });

  it('drops an outline it cannot read, keeping the rest', () => {
    for (const outline of [{ strength: 'high', mask: [1] }, { strength: 1, mask: [-1] }, 'yes']) {
      const document = JSON.parse(formatGessoRecipe(recipe)) as { recipe: Record<string, unknown> };
      document.recipe.outline = outline;
      expect(parseGessoRecipe(JSON.stringify(document))).toEqual(recipe);
    }
  });

  it('restores from Gesso chunk first, then from parameters', () => {
    const entries = recipeTextEntries(recipe, { backend: 'wasm', timings: {} }).map((e) => ({
      ...e,
      kind: 'tEXt' as const,
    }));
    expect(recipeFromText(entries)).toEqual({ draft: recipe, exact: true });
    expect(recipeFromText(entries.slice(0, 1))).toEqual({
      draft: { ...recipe },
      exact: false,
    });
    expect(recipeFromText([{ keyword: 'Comment', text: 'hi', kind: 'tEXt' }])).toBeNull();
  });
});

describe('the decoder in the recipe text', () => {
  it('writes "Decoder: Fast" or "Decoder: Full" and reads it back', () => {
    for (const decoder of ['fast', 'full'] as const) {
      const text = formatParameters({ ...recipe, decoder });
      expect(text.split('\n')[2]).toContain(`Decoder: ${decoder === 'fast' ? 'Fast' : 'Full'}`);
      expect(parseParameters(text).decoder).toBe(decoder);
      expect(parseGessoRecipe(formatGessoRecipe({ ...recipe, decoder }))?.decoder).toBe(decoder);
    }
    // Recipes from before the choice (or from other tools) name none.
    expect(formatParameters(recipe)).not.toContain('Decoder');
    expect(parseParameters(formatParameters(recipe)).decoder).toBeUndefined();
  });
});

describe('seeds other tools write', () => {
  const withSeed = (seed: string) =>
    `red heart\nSteps: 4, Sampler: Euler a, CFG scale: 7, Seed: ${seed}, Size: 512x512`;

  it('keeps a 32-bit seed and gives back one Gesso cannot run as written, never as another number', () => {
    expect(parseParametersText(withSeed('4294967295'))).toEqual({
      draft: expect.objectContaining({ seed: 4294967295 }) as unknown,
    });
    for (const seed of ['123456789012345', '9007199254740993', '18446744073709551615', '-1']) {
      const { draft, seedText } = parseParametersText(withSeed(seed));
      expect(draft.seed).toBeUndefined();
      expect(seedText).toBe(seed);
    }
    const restored = recipeFromText([
      { keyword: 'parameters', text: withSeed('123456789012345'), kind: 'tEXt' },
    ]);
    expect(restored?.seedText).toBe('123456789012345');
    expect(restored?.draft.seed).toBeUndefined();
  });
});

describe('a Gesso recipe that cannot be used', () => {
  const entry = (text: string) => [{ keyword: 'gesso-recipe', text, kind: 'tEXt' as const }];
  const document = (patch: Record<string, unknown>) => {
    const doc = JSON.parse(formatGessoRecipe(recipe)) as { recipe: Record<string, unknown> };
    Object.assign(doc.recipe, patch);
    return JSON.stringify(doc);
  };

  it('is reported by the field that is wrong', () => {
    expect(gessoRecipeProblem(entry(document({ steps: 'many' })))).toBe(
      'This PNG has a Gesso recipe that cannot be used: its steps is "many", not a number.',
    );
    expect(gessoRecipeProblem(entry(document({ seed: 2 ** 40 })))).toBe(
      'This PNG has a Gesso recipe that cannot be used: its seed is 1099511627776, not a whole number from 0 to 4294967295.',
    );
    expect(gessoRecipeProblem(entry('{oops'))).toBe(
      'This PNG has a Gesso recipe that cannot be used: it is not valid JSON.',
    );
    expect(gessoRecipeProblem(entry(document({})))).toBeNull();
    expect(gessoRecipeProblem([])).toBeNull();
  });
});
