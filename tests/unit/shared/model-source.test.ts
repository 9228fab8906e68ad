import { describe, expect, it } from 'vitest';
import {
  formatStrength,
  loraTag,
  modelFileStem,
  modelHash,
  modelSourceOf,
  promptWithLoras,
  splitLoraTags,
} from '../../../src/shared/model-source';
import type { ImportedFrom } from '../../../src/shared/pack-manifest';

const SHA = '6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa';

describe('an imported model as A1111 names it', () => {
  it('takes the model hash as the first 10 hex digits of the file SHA-256', () => {
    expect(modelHash(SHA)).toBe('6ce0161689');
  });

  it('names the model after its file, without .safetensors', () => {
    expect(modelFileStem('my-model.safetensors')).toBe('my-model');
    expect(modelFileStem('Dreamshaper_8.SafeTensors')).toBe('Dreamshaper_8');
  });

  it('writes LoRA strengths as A1111 does: short decimals, whole numbers bare', () => {
    expect(loraTag({ name: 'detail', strength: 0.8 })).toBe('<lora:detail:0.8>');
    expect(loraTag({ name: 'style', strength: 1 })).toBe('<lora:style:1>');
    expect(formatStrength(0.1 + 0.2)).toBe('0.3');
    expect(formatStrength(0.85)).toBe('0.85');
  });

  it('appends each LoRA tag to the prompt, and reads them back out of it', () => {
    const loras = [
      { name: 'lcm-lora-sdv1-5', strength: 1 },
      { name: 'detail', strength: 0.8 },
    ];
    const text = promptWithLoras('a lighthouse', loras);
    expect(text).toBe('a lighthouse <lora:lcm-lora-sdv1-5:1> <lora:detail:0.8>');
    expect(splitLoraTags(text)).toEqual({ prompt: 'a lighthouse', loras });
    expect(promptWithLoras('', loras.slice(1))).toBe('<lora:detail:0.8>');
    expect(promptWithLoras('a lighthouse', [])).toBe('a lighthouse');
  });

  it('reads A1111 tags in any place, with a default strength, and drops other networks', () => {
    expect(splitLoraTags('<lora:a> a cat, <lyco:b:0.5> <lora:c:0.6:lbw=1>')).toEqual({
      prompt: 'a cat,',
      loras: [
        { name: 'a', strength: 1 },
        { name: 'c', strength: 0.6 },
      ],
    });
  });

  it("joins the pack's fused LoRAs and the variant's own, and is absent for other packs", () => {
    const imported: ImportedFrom = {
      file: 'my-model.safetensors',
      family: 'sd15',
      width: 'full',
      sha256: SHA,
      loras: [{ name: 'lcm-lora-sdv1-5', strength: 1 }],
    };
    expect(modelSourceOf({ imported }, { loras: [{ name: 'detail', strength: 0.8 }] })).toEqual({
      name: 'my-model',
      sha256: SHA,
      loras: [
        { name: 'lcm-lora-sdv1-5', strength: 1 },
        { name: 'detail', strength: 0.8 },
      ],
    });
    expect(modelSourceOf({ imported: { ...imported, sha256: undefined } }, {})).toEqual({
      name: 'my-model',
      loras: [{ name: 'lcm-lora-sdv1-5', strength: 1 }],
    });
    expect(modelSourceOf({}, {})).toBeUndefined();
  });
});
