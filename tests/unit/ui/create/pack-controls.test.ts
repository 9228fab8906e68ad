import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../../src/store/validate-manifest';
import {
  clampToRange,
  FALLBACK_CONTROLS,
  guidanceArgs,
  guidanceFor,
  parseGuidance,
  controlsFromManifest,
  stepsFor,
  type PackControls,
} from '../../../../src/ui/create/pack-controls';
import lcmJson from '../../../../models/catalog/lcm-dreamshaper-v7.json';
import sdTurboJson from '../../../../models/catalog/sd-turbo.json';

const demo = parseManifest(
  JSON.parse(
    readFileSync(resolve(__dirname, '../../../../public/packs/demo/manifest.json'), 'utf8'),
  ),
);
const lcm = parseManifest(lcmJson);
const sdTurbo = parseManifest(sdTurboJson);

const embedding: PackControls = {
  guidance: 'embedding',
  defaults: { steps: 4, guidance: 8 },
  ranges: { steps: [1, 8], guidance: [1, 12] },
  hasImageEncoder: false,
  control: null,
  decoders: { fast: false, default: 'full' },
};
const cfg: PackControls = { ...embedding, guidance: 'cfg' };
const none: PackControls = {
  guidance: 'none',
  defaults: { steps: 1, guidance: 1 },
  ranges: { steps: [1, 4], guidance: [1, 1] },
  hasImageEncoder: false,
  control: null,
  decoders: { fast: false, default: 'full' },
};

describe('a pack’s settings before it is loaded', () => {
  it('the fallback is the built-in demo pack’s', () => {
    expect(controlsFromManifest(demo)).toEqual(FALLBACK_CONTROLS);
  });

  it('reads the guidance kind the engine will find: embedding, none for SD-Turbo, cfg otherwise', () => {
    expect(controlsFromManifest(lcm)).toEqual({
      guidance: 'embedding',
      defaults: { steps: 4, guidance: 8 },
      ranges: { steps: [1, 8], guidance: [1, 12] },
      hasImageEncoder: false,
      control: null, // its default variant has no ControlNet
      decoders: { fast: true, default: 'full' }, // TAESD as its preview decoder
    });
    expect(controlsFromManifest(sdTurbo).guidance).toBe('none');
    expect(controlsFromManifest(sdTurbo).decoders.fast).toBe(true);
    const plain = { ...lcm, guidanceEmbedding: undefined };
    expect(controlsFromManifest(plain).guidance).toBe('cfg');
  });
});

describe('steps and guidance in range', () => {
  it('clamps to the range', () => {
    expect(clampToRange(0.5, [1, 8])).toBe(1);
    expect(clampToRange(12, [1, 8])).toBe(8);
    expect(clampToRange(7.5, [1, 8])).toBe(7.5);
  });

  it('uses the pack’s default when nothing was chosen, and keeps a choice in range', () => {
    expect(stepsFor(null, none)).toBe(1);
    expect(stepsFor(8, none)).toBe(4);
    expect(stepsFor(2.6, embedding)).toBe(3);
    expect(guidanceFor(null, embedding)).toBe(8);
    expect(guidanceFor(20, embedding)).toBe(12);
    expect(guidanceFor(2.5, embedding)).toBe(2.5);
  });

  it('reads typed guidance: clamped, or null when it is not a number', () => {
    expect(parseGuidance('3.5', [1, 8])).toBe(3.5);
    expect(parseGuidance('12', [1, 8])).toBe(8);
    expect(parseGuidance('0', [1, 8])).toBe(1);
    expect(parseGuidance('', [1, 8])).toBeNull();
    expect(parseGuidance('  ', [1, 8])).toBeNull();
    expect(parseGuidance('abc', [1, 8])).toBeNull();
  });
});

describe('what a run passes to generate', () => {
  it('sends guidance where the pack uses it, and the negative prompt only with cfg', () => {
    expect(guidanceArgs(embedding, 3, 'blurry')).toEqual({ guidance: 3 });
    expect(guidanceArgs(embedding, null, '')).toEqual({ guidance: 8 });
    expect(guidanceArgs(cfg, 30, '  blurry ')).toEqual({ guidance: 12, negativePrompt: 'blurry' });
    expect(guidanceArgs(cfg, 5, '   ')).toEqual({ guidance: 5 });
    expect(guidanceArgs(none, 5, 'blurry')).toEqual({});
  });
});
