import * as ortNode from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  addLowRank,
  floatsToHalves,
  halvesOf,
  halvesToFloats,
  transpose,
} from '../../../../src/engine/import/kernels';
import { ortLowRank } from '../../../../src/engine/import/ort-low-rank';
import type { OrtApi } from '../../../../src/engine/ort-session';
import { float16ToFloat32, float32ToFloat16 } from '../../../../src/shared/onnx/quantize';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('float16 conversions', () => {
  it('decodes every float16 bit pattern as the scalar table does', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const out = halvesToFloats(all, undefined, null);
    for (let h = 0; h < 65536; h++) expect(Object.is(out[h], float16ToFloat32(h))).toBe(true);
  });

  it('encodes like the scalar round-to-nearest-even conversion, ties and edges included', () => {
    // exact ties between two halves, the normal/subnormal border and the overflow border
    const edges = [
      0x38800000, 0x387fffff, 0x33000000, 0x477fe000, 0x477ff000, 0x477fefff, 0x47800000,
      0x3f801000, 0x3f803000, 0x3f800fff, 0x3f801001, 0, 0x7f800000,
    ].flatMap((e) => [e, (e | 0x80000000) >>> 0]);
    const rand = seeded(7);
    const bits = new Uint32Array(200_000 + edges.length);
    for (let i = 0; i < 200_000; i++) bits[i] = Math.floor(rand() * 2 ** 32);
    bits.set(edges, 200_000);
    const values = new Float32Array(bits.buffer);
    const fast = floatsToHalves(values, undefined, null);
    for (let i = 0; i < values.length; i++) {
      if (Number.isNaN(values[i])) continue;
      expect(fast[i], `bits ${bits[i]!.toString(16)}`).toBe(float32ToFloat16(values[i]!));
    }
  });

  it('reads unaligned little-endian bytes', () => {
    const bytes = new Uint8Array([0, 0x00, 0x3c, 0x00, 0xc0]);
    expect([...halvesOf(bytes.subarray(1))]).toEqual([0x3c00, 0xc000]);
  });
});

describe('transpose', () => {
  it('puts [r, c] at [c, r] for shapes that are not multiples of the tile', () => {
    const rows = 70;
    const cols = 45;
    const source = new Float32Array(rows * cols).map((_, i) => i);
    const out = transpose(source, rows, cols, new Float32Array(source.length));
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) expect(out[c * rows + r]).toBe(source[r * cols + c]);
  });
});

describe('low-rank update', () => {
  it.each([
    [1, 3, 7],
    [5, 37, 1030],
    [8, 16, 9 * 60],
  ])('rank %i, %i x %i: equals the float64 sum within float32 rounding', (rank, out, inner) => {
    const rand = seeded(rank * 1000 + inner);
    const values = new Float32Array(out * inner).map(() => rand() - 0.5);
    const up = new Float32Array(out * rank).map(() => rand() - 0.5);
    const down = new Float32Array(rank * inner).map(() => rand() - 0.5);
    up[3 % up.length] = 0;
    const scale = 0.8 * (rank / 2 / rank);
    const expected = Float64Array.from(values);
    for (let o = 0; o < out; o++)
      for (let k = 0; k < inner; k++) {
        let sum = 0;
        for (let r = 0; r < rank; r++) sum += up[o * rank + r]! * down[r * inner + k]!;
        expected[o * inner + k] = expected[o * inner + k]! + scale * sum;
      }
    addLowRank(values, up, down, rank, out, scale);
    for (let i = 0; i < values.length; i++)
      expect(Math.abs(values[i]! - expected[i]!)).toBeLessThan(1e-6);
  });
});

describe('low-rank update on onnxruntime', () => {
  it('equals the JavaScript loop within float32 rounding, for a weight large enough to use it', async () => {
    const [rank, out, inner] = [16, 320, 1024];
    const rand = seeded(11);
    const values = new Float32Array(out * inner).map(() => rand() - 0.5);
    const up = new Float32Array(out * rank).map(() => rand() - 0.5);
    const down = new Float32Array(rank * inner).map(() => rand() - 0.5);
    const expected = values.slice();
    addLowRank(expected, up, down, rank, out, 0.4);
    const fusion = await ortLowRank(ortNode as unknown as OrtApi, 'cpu');
    await fusion.add(values, up, down, rank, out, 0.4);
    await fusion.release();
    let worst = 0;
    for (let i = 0; i < values.length; i++)
      worst = Math.max(worst, Math.abs(values[i]! - expected[i]!));
    expect(worst).toBeGreaterThan(0); // it ran on onnxruntime: another summation order
    expect(worst).toBeLessThan(1e-6);
  });
});
