import { describe, expect, it } from 'vitest';
import {
  AttentionAccumulator,
  layerGrid,
  resizeBilinear,
  sumHeads,
  wordMaps,
} from '../../../../src/engine/explain/attention-maps';
import { ClipTokenizer } from '../../../../src/engine/tokenizer';

describe('attention maps', () => {
  it('sums heads of one batch item, [batch*heads, positions, tokens] or [batch, heads, ...]', () => {
    // batch 2, heads 2, positions 2, tokens 3; value = 1000*b + 100*h + 10*p + t
    const values = [] as number[];
    for (let b = 0; b < 2; b++)
      for (let h = 0; h < 2; h++)
        for (let p = 0; p < 2; p++)
          for (let t = 0; t < 3; t++) values.push(1000 * b + 100 * h + 10 * p + t);
    const data = Float32Array.from(values);
    // item 1: heads 0 and 1 summed = 2*1000 + 100 + 2*(10p + t); token-major planes
    const expected = [2100, 2120, 2102, 2122, 2104, 2124];
    expect(Array.from(sumHeads({ data, dims: [4, 2, 3] }, 2, 1).planes)).toEqual(expected);
    expect(Array.from(sumHeads({ data, dims: [2, 2, 2, 3] }, 2, 1).planes)).toEqual(expected);
    expect(() => sumHeads({ data, dims: [3, 2, 3] }, 2, 0)).toThrow(/batch of 2/);
  });

  it('finds each layer grid from the latent aspect ratio', () => {
    expect(layerGrid(64, 8, 8)).toEqual([8, 8]);
    expect(layerGrid(16, 8, 8)).toEqual([4, 4]);
    expect(layerGrid(8, 4, 8)).toEqual([2, 4]);
    expect(() => layerGrid(7, 8, 8)).toThrow(/do not tile/);
  });

  it('resizes bilinearly with pixel centres aligned', () => {
    // 1x2 [0, 1] -> 1x4: centres at x = -0.25, 0.25, 0.75, 1.25 in source pixels (clamped).
    expect(Array.from(resizeBilinear([0, 1], 1, 2, 1, 4))).toEqual([0, 0.25, 0.75, 1]);
    // 2x2 -> 2x2 is the identity; 1x1 -> 2x2 repeats.
    expect(Array.from(resizeBilinear([1, 2, 3, 4], 2, 2, 2, 2))).toEqual([1, 2, 3, 4]);
    expect(Array.from(resizeBilinear([5], 1, 1, 2, 2))).toEqual([5, 5, 5, 5]);
  });

  it('averages layers of different resolutions on the latent grid', () => {
    const acc = new AttentionAccumulator(2, 2);
    // one head, 4 positions (2x2), 1 token: [1, 2, 3, 4]
    acc.add({ data: Float32Array.from([1, 2, 3, 4]), dims: [1, 4, 1] }, 1, 0);
    // one head, 1 position (1x1), 1 token: 8 everywhere once upsampled
    acc.add({ data: Float32Array.from([8]), dims: [1, 1, 1] }, 1, 0);
    expect(acc.count).toBe(2);
    expect(Array.from(acc.mean()!)).toEqual([4.5, 5, 5.5, 6]);
  });

  it('sums the pieces of a word and scales each word between its least and most', () => {
    // grid 1x3, 3 tokens: BOS, "he", "art</w>"
    const mean = Float32Array.from([9, 9, 9, 1, 0, 3, 1, 2, 1]);
    const maps = wordMaps(
      mean,
      { height: 1, width: 3 },
      [
        { word: 'heart', positions: [1, 2] },
        { word: 'start', positions: [0] },
        { word: 'gone', positions: [7] },
      ],
      { height: 1, width: 3 },
    );
    expect(maps.map((m) => m.word)).toEqual(['heart', 'start', 'gone']);
    // pieces summed: (1+1, 0+2, 3+1) = (2, 2, 4) -> (2-2, 2-2, 4-2) / 2
    expect(Array.from(maps[0]!.map)).toEqual([0, 0, 1]);
    expect(Array.from(maps[1]!.map)).toEqual([0, 0, 0]); // the same everywhere
    expect(Array.from(maps[2]!.map)).toEqual([0, 0, 0]); // past the sequence: no attention
  });
});

describe('prompt words', () => {
  const vocab = new Map(
    [
      'a',
      'b',
      'c',
      'h',
      'e',
      'r',
      't',
      'he',
      'art</w>',
      'a</w>',
      'b</w>',
      'c</w>',
      'red</w>',
      ',</w>',
    ].map((t, i) => [t, i] as const),
  );
  const tokenizer = new ClipTokenizer(vocab, ['h e', 'a r', 'ar t</w>', 'r e', 're d</w>'], {
    maxLength: 8,
    bosTokenId: 100,
    eosTokenId: 101,
    padTokenId: 101,
  });

  it('gives each word the positions of its pieces, after BOS', () => {
    // "heart" -> he + art</w> (two pieces); "red" one piece; "," one
    expect(tokenizer.tokenize('heart')).toEqual(['he', 'art</w>']);
    expect(tokenizer.words('Red, heart')).toEqual([
      { word: 'red', positions: [1] },
      { word: ',', positions: [2] },
      { word: 'heart', positions: [3, 4] },
    ]);
  });

  it('leaves out words cut off by the sequence length', () => {
    // maxLength 8: positions 1..6 hold text. a b c a b c -> 6 single-piece words; the 7th is cut.
    expect(tokenizer.words('a b c a b c a').map((w) => w.positions[0])).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
