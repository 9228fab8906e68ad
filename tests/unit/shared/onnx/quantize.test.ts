import { describe, expect, it } from 'vitest';
import { DataType, type NodeProto } from '../../../../src/shared/onnx/schema';
import {
  QuantizationPlan,
  channelAxis,
  float16ToFloat32,
  float32ToFloat16,
  quantizeNBits,
  quantizePerChannel,
  roundHalfEven,
} from '../../../../src/shared/onnx/quantize';

const node = (opType: string, input: string[], transB?: number): NodeProto => ({
  input,
  output: ['y'],
  opType,
  attribute:
    transB === undefined
      ? []
      : [{ name: 'transB', i: BigInt(transB), floats: [], ints: [], other: [] }],
  other: [],
});

describe('quantize.py’s rule', () => {
  it('channel axis per op and input, as channel_axis()', () => {
    expect(channelAxis(node('Conv', ['x', 'w']), 1, 4)).toBe(0);
    expect(channelAxis(node('MatMul', ['x', 'w']), 1, 2)).toBe(1);
    expect(channelAxis(node('MatMul', ['x', 'w']), 1, 3)).toBeNull();
    expect(channelAxis(node('MatMul', ['w', 'x']), 0, 2)).toBeNull();
    expect(channelAxis(node('Gemm', ['x', 'w']), 1, 2)).toBe(1);
    expect(channelAxis(node('Gemm', ['x', 'w'], 0), 1, 2)).toBe(1);
    expect(channelAxis(node('Gemm', ['x', 'w'], 1), 1, 2)).toBe(0);
    expect(channelAxis(node('Gather', ['w', 'i']), 0, 2)).toBe(0);
    expect(channelAxis(node('Add', ['x', 'w']), 1, 2)).toBeNull();
  });

  it('every use must agree; small, non-float and unused weights are kept', () => {
    const plan = new QuantizationPlan([
      node('MatMul', ['x', 'a']),
      node('MatMul', ['x', 'b']),
      node('Gemm', ['x', 'b'], 1),
      node('MatMul', ['x', 'c']),
      node('MatMul', ['y', 'c']),
      node('Add', ['d', 'x']),
      node('MatMul', ['x', 'd']),
    ]);
    expect(plan.axisFor('a', DataType.FLOAT, [32, 32])).toBe(1);
    expect(plan.axisFor('a', DataType.FLOAT16, [32, 32])).toBe(1);
    expect(plan.axisFor('a', DataType.FLOAT, [31, 33])).toBeNull(); // 1023 < 1024
    expect(plan.axisFor('a', DataType.INT8, [32, 32])).toBeNull();
    expect(plan.axisFor('a', DataType.DOUBLE, [32, 32])).toBeNull();
    expect(plan.axisFor('b', DataType.FLOAT, [32, 32])).toBeNull(); // MatMul 1 vs Gemm transB 0
    expect(plan.axisFor('c', DataType.FLOAT, [32, 32])).toBe(1);
    expect(plan.axisFor('d', DataType.FLOAT, [32, 32])).toBeNull(); // also used by Add
    expect(plan.axisFor('unused', DataType.FLOAT, [32, 32])).toBeNull();
    expect(new QuantizationPlan([node('MatMul', ['x', 'a'])], 10).axisFor('a', 1, [2, 5])).toBe(1);
    expect(plan.order('a')).toBeLessThan(plan.order('b'));
    expect(plan.order('b')).toBeLessThan(plan.order('c'));
  });
});

describe('arithmetic', () => {
  it('rounds half to even, as numpy.round', () => {
    const cases: [number, number][] = [
      [0.5, 0],
      [1.5, 2],
      [2.5, 2],
      [-0.5, 0],
      [-1.5, -2],
      [-2.5, -2],
      [126.5, 126],
      [0.49999997, 0],
      [2.5000002, 3],
      [-126.5, -126],
      [3.7, 4],
      [-3.7, -4],
    ];
    for (const [x, want] of cases) expect(roundHalfEven(x)).toBe(want);
  });

  it('float16: every value round-trips, ties go to even, overflow to infinity', () => {
    for (let h = 0; h < 0x10000; h++) {
      const e = (h >> 10) & 0x1f;
      if (e === 31 && (h & 0x3ff) !== 0) continue; // NaN payloads
      expect(float32ToFloat16(float16ToFloat32(h))).toBe(h);
    }
    expect(float32ToFloat16(1 + 2 ** -11)).toBe(0x3c00); // tie, even stays
    expect(float32ToFloat16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie, odd rounds up
    expect(float32ToFloat16(65519)).toBe(0x7bff);
    expect(float32ToFloat16(65520)).toBe(0x7c00);
    expect(float32ToFloat16(2 ** -25)).toBe(0); // half the smallest subnormal: tie to 0
    expect(float32ToFloat16(Math.fround(2 ** -25 * 1.0000001))).toBe(1);
    expect(float32ToFloat16(-0)).toBe(0x8000);
    expect(float32ToFloat16(NaN) & 0x7c00).toBe(0x7c00);
  });

  it('per-channel int8: scales in float32, zero channels scale 1, .5 ties to even', () => {
    // [K=4, N=3] MatMul weight, axis 1: columns are channels.
    const w = Float32Array.from([127, 0, 1, 2.5, 0, -2, -0.5, 0, 3, 1.5, 0, 5]);
    const { q, scale, channels } = quantizePerChannel(w, [4, 3], 1);
    expect(channels).toBe(3);
    expect(Array.from(new Float32Array(scale.buffer))).toEqual([1, 1, Math.fround(5 / 127)]);
    expect(Array.from(q.subarray(0, 12).filter((_, i) => i % 3 === 0))).toEqual([127, 2, 0, 2]);
    expect(q[11]).toBe(127);
    // axis 0 (Conv): one scale per leading index.
    const conv = quantizePerChannel(Float32Array.from([1, -2, 0.5, 0.25]), [2, 2], 0);
    expect(Array.from(new Float32Array(conv.scale.buffer))).toEqual([
      Math.fround(2 / 127),
      Math.fround(0.5 / 127),
    ]);
    expect(Array.from(conv.q)).toEqual([64, -127, 127, 64]);
  });

  it('MatMulNBits: blocks along K per column, default zero point, low nibble first', () => {
    // K=4, N=1, 4 bits: one block of 16 rows (the last 12 padding).
    const w = Float32Array.from([7, -7, 1, 2]);
    const b = quantizeNBits(w, 4, 1, 4, 16, DataType.FLOAT);
    expect(b.blocks).toBe(1);
    const s = new Float32Array(b.scale.buffer)[0]!;
    expect(s).toBe(1);
    // q = [7, -7, 1, 2] + 8 = [15, 1, 9, 10], packed two per byte, low first; padding 8.
    expect(Array.from(b.packed)).toEqual([0x1f, 0xa9, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88]);
    const b8 = quantizeNBits(w, 4, 1, 8, 16, DataType.FLOAT16);
    expect(Array.from(b8.packed.subarray(0, 4))).toEqual([255, 1, 128 + 18, 128 + 36]);
    expect(b8.scale.length).toBe(2); // one fp16 scale
  });
});
