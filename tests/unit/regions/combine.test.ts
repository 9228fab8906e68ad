import { describe, expect, it } from 'vitest';
import {
  combinePredictions,
  repeatBatch,
  splitBatch,
  stackBatch,
} from '../../../src/engine/regions/combine';
import { hasDynamicBatch, regionalPredictor } from '../../../src/engine/regions/regional';

describe('combinePredictions', () => {
  const shape = { channels: 2, height: 1, width: 2 };
  it('blends each prompt by its weight per cell, the same on every channel', () => {
    const base = new Float32Array([1, 1, 10, 10]);
    const region = new Float32Array([3, 3, 30, 30]);
    const out = combinePredictions(
      [base, region],
      [new Float32Array([1, 0.25]), new Float32Array([0, 0.75])],
      shape,
    );
    expect([...out]).toEqual([1, 2.5, 10, 25]);
  });

  it('one prompt with weight 1 returns its prediction', () => {
    const p = new Float32Array([0.1, -0.2, 0.3, 0.4]);
    expect([...combinePredictions([p], [new Float32Array([1, 1])], shape)]).toEqual([...p]);
  });

  it('rejects mismatched inputs', () => {
    expect(() => combinePredictions([new Float32Array(4)], [], shape)).toThrow();
    expect(() => combinePredictions([new Float32Array(3)], [new Float32Array(2)], shape)).toThrow();
  });

  it('batch helpers stack, split and repeat', () => {
    const a = new Float32Array([1, 2]);
    const b = new Float32Array([3, 4]);
    const stacked = stackBatch([a, b]);
    expect([...stacked]).toEqual([1, 2, 3, 4]);
    expect(splitBatch(stacked, 2).map((x) => [...x])).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect([...repeatBatch(a, 3)]).toEqual([1, 2, 1, 2, 1, 2]);
    expect(() => splitBatch(stacked, 3)).toThrow();
  });
});

describe('regionalPredictor', () => {
  const shape = { channels: 1, height: 1, width: 2 };
  const one = (value: number) => async (_s: Float32Array, _t: number, c: number) =>
    new Float32Array([c * value, c * value]);

  it('blends per-prompt predictions, sequential or batched, with the same result', async () => {
    const weights = [
      new Float32Array([1, 0]),
      new Float32Array([0, 0.5]),
      new Float32Array([0, 0.5]),
    ];
    const sequential = regionalPredictor(one(1), { conditions: [1, 2, 4], weights, shape });
    const batched = regionalPredictor(one(1), {
      conditions: [1, 2, 4],
      weights,
      shape,
      predictMany: async (_s, _t, cs) => cs.map((c) => new Float32Array([c, c])),
    });
    const sample = new Float32Array(2);
    expect([...(await sequential(sample, 0))]).toEqual([1, 3]);
    expect([...(await batched(sample, 0))]).toEqual([1, 3]);
    expect(sequential.stats).toEqual({ calls: 3, evaluations: 3 });
    expect(batched.stats).toEqual({ calls: 1, evaluations: 3 });
  });

  it('skips prompts with no weight anywhere; one prompt left runs alone', async () => {
    const weights = [new Float32Array([0, 0]), new Float32Array([1, 1])];
    const calls: number[] = [];
    const p = regionalPredictor(
      async (_s, _t, c: number) => {
        calls.push(c);
        return new Float32Array([c, c]);
      },
      { conditions: [7, 9], weights, shape },
    );
    expect([...(await p(new Float32Array(2), 0))]).toEqual([9, 9]);
    expect(calls).toEqual([9]);
  });

  it('knows a dynamic batch dimension from metadata', () => {
    expect(hasDynamicBatch(['batch_size', 4, 64, 64])).toBe(true);
    expect(hasDynamicBatch([-1, 4, 8, 8])).toBe(true);
    expect(hasDynamicBatch([1, 4, 64, 64])).toBe(false);
  });
});
