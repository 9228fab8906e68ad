/**
 * Weight-only quantisation, the same rule and arithmetic as
 * models/quantize.py, one tensor at a time:
 * - which initializers: float32/float16, used as a MatMul weight (input 1,
 *   2-D), Gemm weight (input 1, 2-D), Conv weight (input 1) or Gather table
 *   (input 0), at least MIN_ELEMENTS entries, and every use agreeing on the
 *   channel axis (Conv 0, MatMul 1, Gemm transB ? 0 : 1, Gather 0);
 * - int8, symmetric, per output channel: scale = max|w| / 127 in float32
 *   (1 where a channel is all zeros), q = clip(round_half_even(w / scale), ±127),
 *   fp16 weights widened to float32 exactly first;
 * - names `<w>_quantized`, `<w>_scale`, `<w>_zero_point` and a
 *   DequantizeLinear node `<w>_dequantize` whose output is `<w>`, in float32
 *   (the copy computes in float32: widen.ts makes every float16 in the graph
 *   float32, so a float16 weight's consumers take float32);
 * - a table used only by Gather (axis 0), in a graph without control flow,
 *   is never dequantized whole: its scales are stored [rows, 1, ...] with
 *   no zero point, and each Gather becomes gatherNodes' four: the int8 rows
 *   and their scales gathered, widened and multiplied (a 49,408 x 1,024
 *   token table dequantized on every run took 290 MiB of working memory for
 *   77 rows).
 * Also the block formats of onnxruntime's com.microsoft MatMulNBits.
 *
 * Over 300 lines because the plan (which tensors, which axis) and the
 * arithmetic must stay side by side to stay equal to quantize.py.
 */

import { float16BitsToNumber } from './half';
import { GessoError } from '../errors';
import {
  AttributeType,
  DataType,
  TensorField,
  type AttributeProto,
  type NodeProto,
} from './schema';
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
  for (let h = 0; h < 65536; h++) t[h] = float16BitsToNumber(h);
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

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * A float32/float16 tensor's values as float32, from raw_data (little-endian)
 * or from float_data / int32_data (fp16 bit patterns), as numpy_helper.to_array.
 * For float32 the result may be a view of `bytes`.
 */
export function floatValues(
  dataType: number,
  field: number,
  bytes: Uint8Array,
  count: number,
  name: string,
): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const wrongSize = () =>
    corrupt(`the weight "${name}" holds ${bytes.length} bytes, which does not match its shape`);
  if (
    dataType === DataType.FLOAT &&
    (field === TensorField.rawData || field === TensorField.floatData)
  ) {
    if (bytes.length !== count * 4) throw wrongSize();
    // A view, not a copy, where the bytes allow it (values are only read).
    if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) {
      return new Float32Array(bytes.buffer, bytes.byteOffset, count);
    }
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  const out = new Float32Array(count);
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
  /** Per-channel float32 scales as raw little-endian bytes. */
  scale: Uint8Array;
  channels: number;
}

const ROUNDER = 6755399441055744; // 1.5 * 2^52: adding it rounds a double to an integer, ties to even

/** Round half to even, as numpy.round (exact for |x| < 2^51). */
export function roundHalfEven(x: number): number {
  return x + ROUNDER - ROUNDER;
}

/**
 * quantize.py's arithmetic for one weight: symmetric int8 per channel along
 * `axis`, float32 scales. `values` are the weight as float32 (exact for fp16).
 */
export function quantizePerChannel(
  values: Float32Array,
  dims: readonly number[],
  axis: number,
): PerChannel {
  const channels = dims[axis] ?? 1;
  let inner = 1;
  for (let d = axis + 1; d < dims.length; d++) inner *= dims[d]!;
  const outer = channels * inner === 0 ? 0 : values.length / (channels * inner);
  const max = new Float32Array(channels);
  if (inner === 1) {
    // Channels are the last axis (MatMul [K, N]): walk the values once, channel by channel in turn.
    for (let i = 0, c = 0; i < values.length; i++) {
      const a = Math.abs(values[i]!);
      if (a > max[c]! || a !== a) max[c] = a;
      if (++c === channels) c = 0;
    }
  } else {
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
  }
  // scale = max / 127 in float32, 1 where a channel is all zeros.
  const divisor = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const s = Math.fround(max[c]! / 127);
    divisor[c] = s === 0 ? 1 : s;
  }
  const scale = new Uint8Array(divisor.buffer);
  const q = new Int8Array(values.length);
  const put = (i: number, s: number) => {
    const r = Math.fround(values[i]! / s) + ROUNDER - ROUNDER;
    q[i] = r > 127 ? 127 : r < -127 ? -127 : r; // NaN becomes 0
  };
  if (inner === 1) {
    for (let i = 0, c = 0; i < values.length; i++) {
      put(i, divisor[c]!);
      if (++c === channels) c = 0;
    }
  } else {
    for (let o = 0, i = 0; o < outer; o++) {
      for (let c = 0; c < channels; c++) {
        const s = divisor[c]!;
        for (let j = 0; j < inner; j++, i++) put(i, s);
      }
    }
  }
  return { q, scale, channels };
}

/** The DequantizeLinear node quantize.py adds for weight `name`: int8 to float32, named as the weight. */
export function dequantizeNodes(name: string, axis: number): NodeProto[] {
  return [
    {
      input: [`${name}_quantized`, `${name}_scale`, `${name}_zero_point`],
      output: [name],
      name: `${name}_dequantize`,
      opType: 'DequantizeLinear',
      attribute: [intAttribute('axis', axis)],
      other: [],
    },
  ];
}

/** Whether a node has control flow bodies (If, Loop, Scan), which may use a table by name (quantize.py's has_subgraphs). */
export function hasSubgraph(node: NodeProto): boolean {
  return node.attribute.some(
    (a) => a.type === AttributeType.GRAPH || a.type === AttributeType.GRAPHS,
  );
}

/** Whether every use of a weight is a Gather's table (input 0) along axis 0 (quantize.py's gathered_only). */
export function gatheredOnly(uses: readonly { node: NodeProto; k: number }[]): boolean {
  return (
    uses.length > 0 &&
    uses.every(
      ({ node, k }) =>
        node.opType === 'Gather' &&
        k === 0 &&
        (node.attribute.find((a) => a.name === 'axis')?.i ?? 0n) === 0n,
    )
  );
}

/**
 * A Gather of the quantized table `table` (quantize.py's gather_nodes): the
 * int8 rows and their scales gathered, widened to float32 and multiplied.
 */
export function gatherNodes(node: NodeProto, table: string): NodeProto[] {
  const ids = node.input[1] ?? '';
  const y = node.output[0] ?? '';
  const make = (
    opType: string,
    input: string[],
    output: string,
    name: string,
    attribute: AttributeProto[],
  ): NodeProto => ({ input, output: [output], name, opType, attribute, other: [] });
  return [
    make('Gather', [`${table}_quantized`, ids], `${y}_quantized`, `${y}_gather_quantized`, [
      ...node.attribute,
    ]),
    make('Gather', [`${table}_scale`, ids], `${y}_scale`, `${y}_gather_scale`, [...node.attribute]),
    make('Cast', [`${y}_quantized`], `${y}_widened`, `${y}_widen`, [
      intAttribute('to', DataType.FLOAT),
    ]),
    make('Mul', [`${y}_widened`, `${y}_scale`], y, `${y}_dequantize`, []),
  ];
}

export function intAttribute(name: string, value: number): AttributeProto {
  return { name, i: BigInt(value), type: AttributeType.INT, floats: [], ints: [], other: [] };
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
  const colMax = new Float32Array(n);
  const divisor = new Float32Array(n);
  for (let b = 0; b < blocks; b++) {
    const k0 = b * blockSize;
    const k1 = Math.min(k, k0 + blockSize);
    colMax.fill(0);
    for (let row = k0; row < k1; row++) {
      for (let col = 0, i = row * n; col < n; col++, i++) {
        const a = Math.abs(values[i]!);
        if (a > colMax[col]! || a !== a) colMax[col] = a;
      }
    }
    for (let col = 0; col < n; col++) {
      let s = Math.fround(colMax[col]! / qmax);
      if (s === 0) s = 1;
      const at = col * blocks + b;
      if (half) {
        const h = float32ToFloat16(s);
        view.setUint16(at * 2, h, true);
        divisor[col] = F16_TABLE[h]!;
      } else {
        view.setFloat32(at * 4, s, true);
        divisor[col] = s;
      }
    }
    for (let row = k0; row < k1; row++) {
      const r = row - k0;
      for (let col = 0, i = row * n; col < n; col++, i++) {
        let v = Math.fround(values[i]! / divisor[col]!) + ROUNDER - ROUNDER;
        v = v > qmax ? qmax : v < -qmax ? -qmax : v === v ? v : 0;
        const u = v + zero;
        const base = (col * blocks + b) * blob;
        if (bits === 8) packed[base + r] = u;
        else {
          const p = base + (r >> 1);
          packed[p] = r & 1 ? (packed[p]! & 0x0f) | (u << 4) : (packed[p]! & 0xf0) | u;
        }
      }
    }
  }
  return { packed, scale, scaleType: dataType, blocks };
}
