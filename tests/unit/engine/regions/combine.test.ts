import { describe, expect, it } from 'vitest';
import { combinePredictions, splitBatch, stackBatch } from '../../../../src/engine/regions/combine';
import { hasDynamicBatch, isUsed } from '../../../../src/engine/regions/regional';
import { repeatBatch } from '../../../../src/engine/pipelines/unet';

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

describe('regional facts', () => {
  it('knows a dynamic batch dimension from metadata', () => {
    expect(hasDynamicBatch(['batch_size', 4, 64, 64])).toBe(true);
    expect(hasDynamicBatch([-1, 4, 8, 8])).toBe(true);
    expect(hasDynamicBatch([1, 4, 64, 64])).toBe(false);
  });

  it('counts a prompt as used only where its weight is above zero somewhere', () => {
    expect(isUsed(new Float32Array([0, 0, 0]))).toBe(false);
    expect(isUsed(new Float32Array([0, 0.25, 0]))).toBe(true);
  });
});
