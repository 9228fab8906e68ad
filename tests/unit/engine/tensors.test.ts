import { describe, expect, it } from 'vitest';
import { chwToRgba, scaled } from '../../../src/engine/image';
import {
  floatTensor,
  fromHalfBits,
  numberTensor,
  toFloat32,
  toHalfBits,
} from '../../../src/engine/tensors';

describe('float16 conversion', () => {
  it('encodes known values', () => {
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(-2)).toBe(0xc000);
    expect(toHalfBits(0.1)).toBe(0x2e66);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(65520)).toBe(0x7c00); // rounds up past the largest half: +Inf
    expect(toHalfBits(-Infinity)).toBe(0xfc00);
    expect(toHalfBits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(toHalfBits(2 ** -26)).toBe(0x0000); // below half of it: zero
    expect(toHalfBits(NaN) & 0x7c00).toBe(0x7c00);
    expect(Number.isNaN(fromHalfBits(toHalfBits(NaN)))).toBe(true);
  });

  it('rounds halfway cases to even', () => {
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00);
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toHalfBits(3 * 2 ** -25)).toBe(0x0002); // subnormal halfway 1.5 ulp -> 2
  });

  it('round-trips every finite half exactly', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const exponent = (bits >> 10) & 0x1f;
      if (exponent === 0x1f) continue;
      expect(toHalfBits(fromHalfBits(bits))).toBe(bits);
    }
  });

  it('builds tensors in the dtype a model asks for', () => {
    const values = Float32Array.from([0.5, -1]);
    expect(Array.from(floatTensor('float16', [2], values).data as Uint16Array)).toEqual([
      0x3800, 0xbc00,
    ]);
    expect(toFloat32(floatTensor('float16', [2], values))).toEqual(values);
    expect(numberTensor('int64', [1], [999]).data).toEqual(BigInt64Array.from([999n]));
    expect(numberTensor('int32', [2], [1, 2]).data).toEqual(Int32Array.from([1, 2]));
    expect(() => floatTensor('int32', [2], values)).toThrow(/float/);
  });
});

describe('decoder output to RGBA', () => {
  it('maps [-1, 1] CHW to bytes with clamping', () => {
    // 1x3x1x2: pixel 0 = (-1, 0, 1), pixel 1 = (2, -3, 0.5)
    const image = chwToRgba(
      Float32Array.from([-1, 2, 0, -3, 1, 0.5]),
      [1, 3, 1, 2],
      'minus-one-to-one',
    );
    expect(image.width).toBe(2);
    expect(image.height).toBe(1);
    expect(Array.from(image.data)).toEqual([0, 128, 255, 255, 255, 0, 191, 255]);
  });

  it('maps [0, 1] output and grey single-channel images', () => {
    const image = chwToRgba(Float32Array.from([0.5, 1]), [1, 1, 1, 2], 'zero-to-one');
    expect(Array.from(image.data)).toEqual([128, 128, 128, 255, 255, 255, 255, 255]);
  });

  it('scales latents (1 / 0.18215 for the SD VAE) without touching the input', () => {
    const latents = Float32Array.from([0.18215]);
    expect(scaled(latents, 1 / 0.18215)[0]).toBeCloseTo(1, 6);
    expect(latents[0]).toBeCloseTo(0.18215, 6);
  });
});
