/**
 * Weight-only quantisation, the same rule and arithmetic as
 * models/quantize.py, one tensor at a time:
 * - which initializers: float32/float16, used as a MatMul weight (input 1,
 *   2-D), Gemm weight (input 1, 2-D), Conv weight (input 1) or Gather table
 *   (input 0), at least MIN_ELEMENTS entries, and every use agreeing on the
 *   channel axis (Conv 0, MatMul 1, Gemm transB ? 0 : 1, Gather 0);
 * - int8, symmetric, per output channel: scale = max|w| / 127 in float32
 *   (1 where a channel is all zeros), stored in the weight's own type
 *   (fp16 weights get fp16 scales), q = clip(round_half_even(w / scale), ±127);
 * - names `<w>_quantized`, `<w>_scale`, `<w>_zero_point` and a
 *   DequantizeLinear node `<w>_dequantize` whose output is `<w>`.
 * Also the block formats of onnxruntime's com.microsoft MatMulNBits.
 */

import { GessoError } from '../errors';
import { AttributeType, DataType, TensorField, type NodeProto } from './schema';
import { corrupt } from './wire';

export const MIN_ELEMENTS = 1024;

/** Axis of the output channel for the weight at input k of node, or null (quantize.py's channel_axis). */
export function channelAxis(node: NodeProto, k: number, ndim: number): number | null {
  const op = node.opType;
  if (op === 'Conv' && k === 1) return 0;
  if (op === 'MatMul' && k === 1 && ndim === 2) return 1;
  if (op === 'Gemm' && k === 1 && ndim === 2) {
    const transB = node.attribute.find((a) => a.name === 'transB')?.i ?? 0n;
    return transB !== 0n ? 0 : 1;
  }
  if (op === 'Gather' && k === 0) return 0;
  return null;
}

/**
 * Which initializers to quantize, decided per initializer from every use by
 * the graph's nodes, exactly as quantize_model does; `order` ranks them as
 * quantize.py lists the new tensors and nodes (first use in node order).
 */
export class QuantizationPlan {
  private readonly uses = new Map<string, { node: NodeProto; k: number }[]>();
  private readonly rank = new Map<string, number>();

  constructor(
    nodes: readonly NodeProto[],
    private readonly minElements = MIN_ELEMENTS,
  ) {
    for (const node of nodes) {
      node.input.forEach((name, k) => {
        if (!this.rank.has(name)) this.rank.set(name, this.rank.size);
        let list = this.uses.get(name);
        if (!list) this.uses.set(name, (list = []));
        list.push({ node, k });
      });
    }
  }

  /** The channel axis to quantize this initializer along, or null to keep it. */
  axisFor(name: string, dataType: number | undefined, dims: readonly number[]): number | null {
    if (dataType !== DataType.FLOAT && dataType !== DataType.FLOAT16) return null;
    const uses = this.uses.get(name);
    if (!uses) return null;
    let count = 1;
    for (const d of dims) count *= d;
    let chosen: number | null | undefined;
    for (const { node, k } of uses) {
      const axis = channelAxis(node, k, dims.length);
      if (axis === null || count < this.minElements) chosen = null;
      else if (chosen === undefined) chosen = axis;
      else if (chosen !== axis) chosen = null;
    }
    return chosen ?? null;
  }

  /** Position of `name` in quantize.py's output order. */
  order(name: string): number {
    return this.rank.get(name) ?? Number.MAX_SAFE_INTEGER;
  }

  /** The nodes that use `name` as an input. */
  usesOf(name: string): readonly { node: NodeProto; k: number }[] {
    return this.uses.get(name) ?? [];
  }
}

/* ---- float16 ---- */

const F16_TABLE = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    t[h] =
      e === 0
        ? sign * m * 2 ** -24
        : e === 31
          ? m
            ? NaN
            : sign * Infinity
          : sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return t;
})();

export function float16ToFloat32(bits: number): number {
  return F16_TABLE[bits & 0xffff]!;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 value -> float16 bits, round to nearest even (as numpy's astype(float16)). */
export function float32ToFloat16(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/* ---- reading float weights ---- */

/**
 * A float32/float16 tensor's values as float32, from raw_data (little-endian)
 * or from float_data / int32_data (fp16 bit patterns), as numpy_helper.to_array.
 */
export function floatValues(
  dataType: number,
  field: number,
  bytes: Uint8Array,
  count: number,
  name: string,
): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const wrongSize = () =>
    corrupt(`the weight "${name}" holds ${bytes.length} bytes, which does not match its shape`);
  if (
    dataType === DataType.FLOAT &&
    (field === TensorField.rawData || field === TensorField.floatData)
  ) {
    if (bytes.length !== count * 4) throw wrongSize();
    if (bytes.byteOffset % 4 === 0)
      out.set(new Float32Array(bytes.buffer, bytes.byteOffset, count));
    else for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  if (dataType === DataType.FLOAT16 && field === TensorField.rawData) {
    if (bytes.length !== count * 2) throw wrongSize();
    for (let i = 0; i < count; i++) out[i] = F16_TABLE[view.getUint16(i * 2, true)]!;
    return out;
  }
  if (dataType === DataType.FLOAT16 && field === TensorField.int32Data) {
    let i = 0;
    for (let p = 0; p < bytes.length && i < count; i++) {
      let v = 0;
      let mul = 1;
      let b: number;
      do {
        if (p >= bytes.length) throw wrongSize();
        b = bytes[p++]!;
        v += (b & 0x7f) * mul;
        mul *= 128;
      } while (b >= 0x80);
      out[i] = F16_TABLE[v % 65536]!;
    }
    if (i !== count) throw wrongSize();
    return out;
  }
  throw corrupt(`the weight "${name}" stores its values in a field that does not match its type`);
}

/* ---- int8 per channel ---- */

export interface PerChannel {
  /** int8 values, the weight's shape. */
  q: Int8Array;
  /** Per-channel scales as raw little-endian bytes of `scaleType` (FLOAT or FLOAT16). */
  scale: Uint8Array;
  scaleType: number;
  channels: number;
}

/** Round half to even, as numpy.round. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * quantize.py's arithmetic for one weight: symmetric int8 per channel along
 * `axis`. `values` are the weight as float32 (exact for fp16 inputs);
 * `dataType` (FLOAT or FLOAT16) is the weight's own type, which the scales take.
 */
export function quantizePerChannel(
  values: Float32Array,
  dims: readonly number[],
  axis: number,
  dataType: number,
): PerChannel {
  const channels = dims[axis] ?? 1;
  let inner = 1;
  for (let d = axis + 1; d < dims.length; d++) inner *= dims[d]!;
  const outer = channels * inner === 0 ? 0 : values.length / (channels * inner);
  const max = new Float32Array(channels);
  for (let o = 0, i = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      let m = max[c]!;
      for (let j = 0; j < inner; j++, i++) {
        const a = Math.abs(values[i]!);
        if (a > m || a !== a) m = a;
      }
      max[c] = m;
    }
  }
  // scale = (max / 127) in float32, 1 where 0, then in the weight's type;
  // the division uses that stored scale widened back to float32.
  const half = dataType === DataType.FLOAT16;
  const divisor = new Float32Array(channels);
  const scale = new Uint8Array(channels * (half ? 2 : 4));
  const view = new DataView(scale.buffer);
  for (let c = 0; c < channels; c++) {
    let s = Math.fround(max[c]! / 127);
    if (s === 0) s = 1;
    if (half) {
      const bits = float32ToFloat16(s);
      view.setUint16(c * 2, bits, true);
      divisor[c] = F16_TABLE[bits]!;
    } else {
      view.setFloat32(c * 4, s, true);
      divisor[c] = s;
    }
  }
  const q = new Int8Array(values.length);
  for (let o = 0, i = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const s = divisor[c]!;
      for (let j = 0; j < inner; j++, i++) {
        let r = roundHalfEven(Math.fround(values[i]! / s));
        if (r > 127) r = 127;
        else if (r < -127) r = -127;
        q[i] = r; // NaN becomes 0
      }
    }
  }
  return { q, scale, scaleType: dataType, channels };
}

/** The DequantizeLinear node quantize.py adds for weight `name`. */
export function dequantizeNode(name: string, axis: number): NodeProto {
  return {
    input: [`${name}_quantized`, `${name}_scale`, `${name}_zero_point`],
    output: [name],
    name: `${name}_dequantize`,
    opType: 'DequantizeLinear',
    attribute: [
      { name: 'axis', i: BigInt(axis), type: AttributeType.INT, floats: [], ints: [], other: [] },
    ],
    other: [],
  };
}

/* ---- MatMulNBits blocks (com.microsoft) ---- */

export interface NBitsWeight {
  /** B: uint8 [N, blocks, blockSize * bits / 8], low nibble first for 4 bits. */
  packed: Uint8Array;
  /** Scales [N * blocks] in the weight's type, raw little-endian bytes. */
  scale: Uint8Array;
  scaleType: number;
  blocks: number;
}

/**
 * A MatMul weight [K, N] as MatMulNBits blocks along K: symmetric, scale =
 * max|w| / (2^(bits-1) - 1) per block of `blockSize` rows of one column, the
 * default zero point 2^(bits-1) (so no zero_points input), the last block
 * padded with zeros.
 */
export function quantizeNBits(
  values: Float32Array,
  k: number,
  n: number,
  bits: 4 | 8,
  blockSize: number,
  dataType: number,
): NBitsWeight {
  if (values.length !== k * n)
    throw new GessoError('internal', 'Weight size does not match K x N.');
  const blocks = Math.ceil(k / blockSize);
  const blob = (blockSize * bits) / 8;
  const qmax = bits === 4 ? 7 : 127;
  const zero = bits === 4 ? 8 : 128;
  const half = dataType === DataType.FLOAT16;
  const packed = new Uint8Array(n * blocks * blob);
  if (bits === 4) packed.fill(0x88);
  else packed.fill(0x80);
  const scale = new Uint8Array(n * blocks * (half ? 2 : 4));
  const view = new DataView(scale.buffer);
  for (let col = 0; col < n; col++) {
    for (let b = 0; b < blocks; b++) {
      const k0 = b * blockSize;
      const k1 = Math.min(k, k0 + blockSize);
      let m = 0;
      for (let row = k0; row < k1; row++) {
        const a = Math.abs(values[row * n + col]!);
        if (a > m || a !== a) m = a;
      }
      let s = Math.fround(m / qmax);
      if (s === 0) s = 1;
      const at = col * blocks + b;
      let divisor = s;
      if (half) {
        const h = float32ToFloat16(s);
        view.setUint16(at * 2, h, true);
        divisor = F16_TABLE[h]!;
      } else view.setFloat32(at * 4, s, true);
      const base = at * blob;
      for (let row = k0; row < k1; row++) {
        let r = roundHalfEven(Math.fround(values[row * n + col]! / divisor));
        if (r > qmax) r = qmax;
        else if (r < -qmax) r = -qmax;
        if (r !== r) r = 0;
        const u = r + zero;
        const i = row - k0;
        if (bits === 8) packed[base + i] = u;
        else {
          const p = base + (i >> 1);
          packed[p] = i & 1 ? (packed[p]! & 0x0f) | (u << 4) : (packed[p]! & 0xf0) | u;
        }
      }
    }
  }
  return { packed, scale, scaleType: dataType, blocks };
}
