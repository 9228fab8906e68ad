import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clampNotices, seedRefusal } from '../../../../src/ui/create/create-choices';
import {
  freshCreateState,
  INTERRUPTED_RUN,
  restoreCreateState,
  serializeCreateState,
} from '../../../../src/ui/create/create-state';
import { EXAMPLE_PROMPTS, modelsLine, packWithSize } from '../../../../src/ui/create/first-visit';
import { settingsSummary, shortModelName } from '../../../../src/ui/create/settings-summary';
import { leftOutSentence, promptProblem, tokenLine } from '../../../../src/ui/create/token-text';
import {
  drawsOnCanvas,
  toggleTool,
  toolProblem,
  usableTool,
  type ToolFacts,
} from '../../../../src/ui/create/tools';
import { countTokens } from '../../../../src/engine/tokenizer/count';
import { loadClipTokenizer } from '../../../../src/engine/tokenizer';

const ALL: ToolFacts = { hasImageEncoder: true, hasControl: true, hasResult: true };

describe('the tool bar', () => {
  it('opens one tool at a time; pressing the open one closes it', () => {
    expect(toggleTool(null, 'regions')).toBe('regions');
    expect(toggleTool('regions', 'photo')).toBe('photo');
    expect(toggleTool('photo', 'photo')).toBeNull();
  });

  it('says why a tool cannot be used: no encoder, no ControlNet, no picture to repaint', () => {
    expect(
      toolProblem('regions', { ...ALL, hasImageEncoder: false, hasControl: false }),
    ).toBeNull();
    expect(toolProblem('repaint', { ...ALL, hasResult: false })).toBe(
      'Make an image first: Repaint changes part of it.',
    );
    expect(toolProblem('repaint', { ...ALL, hasImageEncoder: false })).toMatch(/no image encoder/);
    expect(toolProblem('photo', { ...ALL, hasImageEncoder: false })).toMatch(
      /cannot start from a photo/,
    );
    expect(toolProblem('outline', { ...ALL, hasControl: false })).toMatch(/no ControlNet/);
    expect(usableTool('outline', { ...ALL, hasControl: false })).toBeNull();
    expect(usableTool('outline', ALL)).toBe('outline');
  });

  it('draws on the canvas only with a drawing tool open', () => {
    expect(
      [null, 'regions', 'repaint', 'outline', 'photo'].map((t) => drawsOnCanvas(t as never)),
    ).toEqual([false, true, true, true, false]);
  });
});

describe('the settings summary', () => {
  it('reads model, steps, guidance, seed and, where there are two, the decoder', () => {
    expect(
      settingsSummary({
        model: 'Gesso demo: emoji',
        steps: 4,
        guidance: 4,
        seed: 12,
        decoder: null,
      }),
    ).toBe('Demo · 4 steps · guidance 4 · seed 12');
    expect(
      settingsSummary({ model: 'SD-Turbo', steps: 1, guidance: null, seed: null, decoder: 'fast' }),
    ).toBe('SD-Turbo · 1 step · new seed each run · Fast decoder');
    expect(shortModelName('A very long model name that goes on')).toBe('A very long model name …');
  });
});

describe('the Create state kept in the tab', () => {
  it('round-trips, and a run found under way after a reload is reported as lost', () => {
    const state = {
      ...freshCreateState(5),
      prompt: 'red heart',
      tool: 'outline' as const,
      decoder: 'fast' as const,
      drafts: { steps: null, seed: '123456789012345', guidance: '1.' },
      resultId: 'abc',
    };
    expect(restoreCreateState(serializeCreateState(state), 9)).toEqual(state);
    const interrupted = restoreCreateState(serializeCreateState({ ...state, running: true }), 9);
    expect(interrupted.running).toBe(false);
    expect(interrupted.notices).toEqual([INTERRUPTED_RUN]);
    expect(interrupted.prompt).toBe('red heart');
  });

  it('falls back field by field where what was saved is damaged', () => {
    expect(restoreCreateState('not json', 3)).toEqual(freshCreateState(3));
    const damaged = restoreCreateState(
      JSON.stringify({
        prompt: 7,
        tool: 'lasso',
        decoder: 'slow',
        choices: { seed: 1.5, steps: 3 },
      }),
      3,
    );
    expect(damaged).toMatchObject({ prompt: '', tool: null, decoder: null });
    expect(damaged.choices).toMatchObject({ seed: 3, steps: 3 });
  });
});

describe('values from a recipe the model cannot run as they are', () => {
  const pack = {
    guidance: 'embedding' as const,
    ranges: { steps: [1, 8] as [number, number], guidance: [1, 8] as [number, number] },
  };

  it('say what runs instead', () => {
    expect(clampNotices({ steps: 999999, guidance: 1e9 }, pack)).toEqual([
      "Steps 999999 is outside this model's 1 to 8, so 8 steps run.",
      "Guidance 1000000000 is outside this model's 1 to 8, so 8 runs.",
    ]);
    expect(clampNotices({ steps: 4, guidance: 2.5 }, pack)).toEqual([]);
    expect(clampNotices({ steps: null, guidance: 99 }, { ...pack, guidance: 'none' })).toEqual([]);
  });

  it('name a seed Gesso cannot run', () => {
    expect(seedRefusal('123456789012345')).toMatch(
      /^This image's seed, 123456789012345, is beyond/,
    );
  });
});

describe('the prompt’s notes', () => {
  it('count tokens against the limit and name the words left out', () => {
    expect(tokenLine({ used: 77, max: 77 })).toBe('77 / 77');
    expect(leftOutSentence({ max: 16, leftOut: [] })).toBeNull();
    const words = Array.from({ length: 25 }, (_, i) => `w${i}`);
    expect(leftOutSentence({ max: 16, leftOut: words })).toBe(
      `Too long: this model reads only the first 16 tokens, so it leaves out “${words.slice(0, 20).join(' ')}” and 5 more words.`,
    );
  });

  it('say why Generate is off for an empty or spaces-only prompt', () => {
    expect(promptProblem('', false)).toBe('Type a prompt (or give a region a prompt) to generate.');
    expect(promptProblem('   ', false)).toBe(
      'The prompt is only spaces: type some words to generate.',
    );
    expect(promptProblem('   ', true)).toBeNull();
    expect(promptProblem('cat', false)).toBeNull();
  });

  it('counts with the demo pack’s own tokenizer (16 tokens, BOS and EOS included)', () => {
    const root = resolve(__dirname, '../../../../public/packs/demo');
    const manifest = JSON.parse(readFileSync(`${root}/manifest.json`, 'utf8')) as {
      tokenizer: {
        vocab: string;
        merges: string;
        maxLength: number;
        bosTokenId: number;
        eosTokenId: number;
        padTokenId: number;
      };
    };
    const tokenizer = loadClipTokenizer(
      readFileSync(`${root}/${manifest.tokenizer.vocab}`, 'utf8'),
      readFileSync(`${root}/${manifest.tokenizer.merges}`, 'utf8'),
      manifest.tokenizer,
    );
    const short = countTokens(tokenizer, 'red heart');
    expect(short).toEqual({ used: short.needed, needed: short.needed, max: 16, leftOut: [] });
    const long = countTokens(tokenizer, Array.from({ length: 30 }, () => 'red heart').join(' '));
    expect(long.used).toBe(16);
    expect(long.needed).toBeGreaterThan(16);
    expect(long.leftOut.length).toBeGreaterThan(0);
    // What fits plus what is left out is the whole prompt, in order.
    const fitted = tokenizer.words(Array.from({ length: 30 }, () => 'red heart').join(' '));
    expect(fitted.length + long.leftOut.length).toBe(60);
  });
});

describe('the first visit', () => {
  it('offers prompts the demo pack draws well and names the real models with their sizes', () => {
    expect(EXAMPLE_PROMPTS).toContain('red heart');
    expect(packWithSize({ name: 'A', files: [{ path: 'x', size: 2_000_000 } as never] })).toBe(
      'A (2.00 MB)',
    );
    expect(
      packWithSize({
        name: 'B',
        files: [
          { path: 'x', size: 1_000_000 },
          { path: 'y', size: null },
        ] as never,
      }),
    ).toBe('B (at least 1.00 MB)');
    expect(modelsLine([])).toBe('Real models can be added on the Models screen.');
  });
});
