/**
 * Plain CPU tensors and dtype conversion. The engine's pipelines work on
 * float32 maths and convert at the session boundary to whatever dtype the
 * model's metadata asks for (float16 as raw IEEE half bits in a Uint16Array).
 */

export type DType = 'float32' | 'float16' | 'int32' | 'int64';

export type TensorData = Float32Array | Uint16Array | Int32Array | BigInt64Array;

export interface CpuTensor {
  type: DType;
  dims: readonly number[];
  data: TensorData;
}

export function sizeOf(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> IEEE 754 half bits, round to nearest even; overflow to +-Inf; NaN kept. */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    const round = rest > midpoint || (rest === midpoint && (half & 1) === 1) ? 1 : 0;
    return sign | (half + round);
  }
  const half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  const round = rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1) ? 1 : 0;
  // A carry out of the mantissa correctly bumps the exponent (and may reach Inf).
  return sign | (half + round);
}

/** IEEE 754 half bits -> number. */
export function fromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

export function float32ToFloat16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toHalfBits(values[i]!);
  return out;
}

export function float16ToFloat32(bits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = fromHalfBits(bits[i]!);
  return out;
}

/** A float tensor in the dtype a model input wants. */
export function floatTensor(type: DType, dims: readonly number[], values: Float32Array): CpuTensor {
  switch (type) {
    case 'float32':
      return { type, dims, data: values };
    case 'float16':
      return { type, dims, data: float32ToFloat16(values) };
    default:
      throw new TypeError(`Expected a float input, the model wants ${type}.`);
  }
}

/** An integer or float tensor from whole numbers (token ids, timesteps) in the dtype a model input wants. */
export function numberTensor(
  type: DType,
  dims: readonly number[],
  values: ArrayLike<number>,
): CpuTensor {
  switch (type) {
    case 'int32':
      return { type, dims, data: Int32Array.from(values) };
    case 'int64':
      return {
        type,
        dims,
        data: BigInt64Array.from(Array.from(values), (v) => BigInt(Math.round(v))),
      };
    case 'float32':
      return { type, dims, data: Float32Array.from(values) };
    case 'float16':
      return { type, dims, data: float32ToFloat16(values) };
  }
}

/** Any float tensor's values as float32 (a copy for float16). */
export function toFloat32(tensor: CpuTensor): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') return float16ToFloat32(tensor.data as Uint16Array);
  throw new TypeError(`Expected a float output, the model gave ${tensor.type}.`);
}
