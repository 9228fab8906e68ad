import { describe, expect, it } from 'vitest';
import { decodeRuns, encodeRuns, paintedShare } from '../../../src/shared/mask-runs';

describe('mask runs', () => {
  it('counts alternating unpainted and painted runs, unpainted first', () => {
    expect(encodeRuns(Uint8Array.from([0, 0, 255, 255, 255, 0]))).toEqual([2, 3, 1]);
    expect(encodeRuns(Uint8Array.from([255, 0]))).toEqual([0, 1, 1]);
    expect(encodeRuns(Uint8Array.from([0, 0]))).toEqual([2]);
    expect(encodeRuns(Uint8Array.from([127, 128]))).toEqual([1, 1]); // painted from 128
  });

  it('round-trips a mask of 0 and 255, and says what share is painted', () => {
    const mask = Uint8Array.from({ length: 64 * 64 }, (_, i) => (i % 64 >= 32 ? 255 : 0));
    const runs = encodeRuns(mask);
    expect(runs.length).toBe(128); // 64 rows of one unpainted and one painted run
    expect(decodeRuns(runs, mask.length)).toEqual(mask);
    expect(paintedShare(runs)).toBe(0.5);
  });

  it('refuses runs that do not fit or do not cover the image', () => {
    expect(() => decodeRuns([2, 3], 4)).toThrow(/fit/);
    expect(() => decodeRuns([1, 1], 4)).toThrow(/cover/);
    expect(() => decodeRuns([1.5, 2.5], 4)).toThrow(/fit/);
  });
});
