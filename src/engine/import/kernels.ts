/**
 * The import's number crunching, written for speed on large weights: float16
 * to and from float32 (the platform's Float16Array where there is one,
 * else lookup and bit arithmetic), cache-blocked transposes, and the
 * low-rank update W += up @ down blocked so that the rows of `down` in use
 * stay in cache. Every result is what the plain scalar code gives: the
 * conversions are exact or round to nearest even, as numpy does.
 */

import { float16ToFloat32, float32ToFloat16 } from '../../shared/onnx/quantize';

interface HalfArray {
  set(source: ArrayLike<number>): void;
  readonly length: number;
  [i: number]: number;
}
type HalfArrayConstructor = new (
  buffer: ArrayBufferLike,
  offset: number,
  length: number,
) => HalfArray;

/** The platform's Float16Array (Chromium 135+, Firefox 129+, Safari 18.2+); null in Node 20. */
const NATIVE_HALF = (globalThis as { Float16Array?: HalfArrayConstructor }).Float16Array ?? null;

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** float16 bits (host order) -> float32 values. */
export function halvesToFloats(
  halves: Uint16Array,
  out = new Float32Array(halves.length),
  native = NATIVE_HALF,
): Float32Array {
  if (native) {
    out.set(new native(halves.buffer, halves.byteOffset, halves.length) as unknown as Float32Array);
    return out;
  }
  for (let i = 0; i < halves.length; i++) out[i] = float16ToFloat32(halves[i]!);
  return out;
}

/** float32 values -> float16 bits (host order), rounded to nearest even. */
export function floatsToHalves(
  values: Float32Array,
  out = new Uint16Array(values.length),
  native = NATIVE_HALF,
): Uint16Array {
  if (native) {
    new native(out.buffer, out.byteOffset, out.length).set(values);
    return out;
  }
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i]!;
    const abs = x & 0x7fffffff;
    // float16's normal range (2^-14 up to 65520, where rounding reaches infinity): rebase the
    // exponent and round to nearest even on the 13 dropped bits; the rest goes the long way.
    if (abs >= 0x38800000 && abs < 0x477ff000)
      out[i] = ((x >>> 16) & 0x8000) | ((abs - 0x37fff001 + ((abs >>> 13) & 1)) >>> 13);
    else out[i] = float32ToFloat16(values[i]!);
  }
  return out;
}

/** Little-endian float16 bytes as 16-bit values, without a copy where the bytes allow. */
export function halvesOf(bytes: Uint8Array): Uint16Array {
  if (LITTLE_ENDIAN && bytes.byteOffset % 2 === 0)
    return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  const out = new Uint16Array(bytes.byteLength / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint16(i * 2, true);
  return out;
}

/** 16-bit values as little-endian bytes (the same memory on little-endian hosts). */
export function bytesOfHalves(halves: Uint16Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(halves.buffer, halves.byteOffset, halves.byteLength);
  const out = new Uint8Array(halves.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < halves.length; i++) view.setUint16(i * 2, halves[i]!, true);
  return out;
}

type Numbers = Float32Array | Uint16Array;

const TILE = 32;

/** out[c * rows + r] = source[r * cols + c], in tiles that stay in cache. */
export function transpose<T extends Numbers>(source: T, rows: number, cols: number, out: T): T {
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(rows, r0 + TILE);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(cols, c0 + TILE);
      for (let r = r0; r < r1; r++) {
        const from = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = source[from + c]!;
      }
    }
  }
  return out;
}

/** Columns of `down` in one pass: 8 rows of 512 floats per rank step stay in the first-level cache. */
const COLUMNS = 512;

/**
 * values[o, k] += scale * sum_r up[o, r] * down[r, k] (values [out, inner],
 * up [out, rank], down [rank, inner]). Eight ranks per pass over a row
 * (measured in Node: 1.6 multiply-adds per ns against 1.3 with four), and
 * the columns in blocks, so each value is loaded and stored rank/8 times
 * and the block of `down` in use stays in cache.
 */
export function addLowRank(
  values: Float32Array,
  up: Float32Array,
  down: Float32Array,
  rank: number,
  out: number,
  scale: number,
): void {
  const inner = values.length / out;
  const u = new Float64Array(up.length);
  for (let i = 0; i < up.length; i++) u[i] = scale * up[i]!;
  for (let k0 = 0; k0 < inner; k0 += COLUMNS) {
    const k1 = Math.min(inner, k0 + COLUMNS);
    for (let o = 0; o < out; o++) {
      const at = o * inner;
      const ur = o * rank;
      let r = 0;
      for (; r + 8 <= rank; r += 8) {
        const d0 = r * inner - at;
        const d1 = d0 + inner;
        const d2 = d1 + inner;
        const d3 = d2 + inner;
        const d4 = d3 + inner;
        const d5 = d4 + inner;
        const d6 = d5 + inner;
        const d7 = d6 + inner;
        const u0 = u[ur + r]!;
        const u1 = u[ur + r + 1]!;
        const u2 = u[ur + r + 2]!;
        const u3 = u[ur + r + 3]!;
        const u4 = u[ur + r + 4]!;
        const u5 = u[ur + r + 5]!;
        const u6 = u[ur + r + 6]!;
        const u7 = u[ur + r + 7]!;
        for (let k = at + k0; k < at + k1; k++)
          values[k] =
            values[k]! +
            (u0 * down[d0 + k]! +
              u1 * down[d1 + k]! +
              u2 * down[d2 + k]! +
              u3 * down[d3 + k]! +
              u4 * down[d4 + k]! +
              u5 * down[d5 + k]! +
              u6 * down[d6 + k]! +
              u7 * down[d7 + k]!);
      }
      for (; r + 4 <= rank; r += 4) {
        const u0 = u[ur + r]!;
        const u1 = u[ur + r + 1]!;
        const u2 = u[ur + r + 2]!;
        const u3 = u[ur + r + 3]!;
        const d0 = r * inner - at;
        const d1 = d0 + inner;
        const d2 = d1 + inner;
        const d3 = d2 + inner;
        for (let k = at + k0; k < at + k1; k++)
          values[k] =
            values[k]! +
            (u0 * down[d0 + k]! + u1 * down[d1 + k]! + u2 * down[d2 + k]! + u3 * down[d3 + k]!);
      }
      for (; r < rank; r++) {
        const u0 = u[ur + r]!;
        if (u0 === 0) continue;
        const d0 = r * inner - at;
        for (let k = at + k0; k < at + k1; k++) values[k] = values[k]! + u0 * down[d0 + k]!;
      }
    }
  }
}
