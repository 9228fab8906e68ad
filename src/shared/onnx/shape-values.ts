/**
 * What shape inference knows of a value (TensorFact), and the small-tensor
 * arithmetic its rules share: the values of Constant nodes and small
 * initializers, broadcasting, and reading values by coordinates. Pure.
 */

import { decodeTensor } from './walk';
import { AttributeField, DataType, TensorField, elementCount, rawByteLength } from './schema';
import type { NodeProto, TensorHeader } from './schema';
import { WireType } from './wire';
import { float16BitsToNumber } from './half';

/** What is known of one value. `values`: only for small tensors (shape arithmetic). */
export interface TensorFact {
  dims: number[] | null;
  type?: number | undefined;
  values?: number[] | undefined;
}

export interface ShapeGraph {
  nodes: readonly NodeProto[];
  /** Graph inputs: dims as numbers, symbolic names or undefined. */
  inputs: readonly { name: string; elemType?: number; dims?: (number | string | undefined)[] }[];
  /** Initializers by name (values of the small ones). */
  initializers: ReadonlyMap<string, TensorFact>;
}

/** Tensors up to this many elements keep their values. */
export const MAX_VALUES = 64;

export const UNKNOWN: TensorFact = { dims: null };

/* ---- Small tensor values (Constant nodes, small initializers) ---- */

/** The values of a small int or float tensor stored whole, or undefined. */
export function smallValues(
  header: TensorHeader,
  field: number,
  bytes: Uint8Array,
): number[] | undefined {
  const count = elementCount(header.dims);
  if (count > MAX_VALUES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = header.dataType;
  if (field === TensorField.rawData) {
    const read: Partial<Record<number, (i: number) => number>> = {
      [DataType.INT64]: (i) => Number(view.getBigInt64(i * 8, true)),
      [DataType.INT32]: (i) => view.getInt32(i * 4, true),
      [DataType.FLOAT]: (i) => view.getFloat32(i * 4, true),
      [DataType.DOUBLE]: (i) => view.getFloat64(i * 8, true),
      [DataType.FLOAT16]: (i) => float16BitsToNumber(view.getUint16(i * 2, true)),
      [DataType.BOOL]: (i) => view.getUint8(i),
    };
    const at = type === undefined ? undefined : read[type];
    if (!at || rawByteLength(type!, count) !== bytes.length) return undefined;
    return Array.from({ length: count }, (_, i) => at(i));
  }
  if (field === TensorField.floatData && type === DataType.FLOAT) {
    if (bytes.length !== count * 4) return undefined;
    return Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true));
  }
  if (field === TensorField.int64Data || field === TensorField.int32Data) {
    const out: number[] = [];
    let value = 0n;
    let shift = 0n;
    for (const b of bytes) {
      value |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (b < 0x80) {
        out.push(Number(BigInt.asIntN(64, value)));
        value = 0n;
        shift = 0n;
      }
    }
    return out.length === count ? out : undefined;
  }
  return undefined;
}

/** A Constant node's output fact (any of its value forms). */
export function constantFact(node: NodeProto): TensorFact {
  const a = node.attribute[0];
  if (!a) return UNKNOWN;
  switch (a.name) {
    case 'value': {
      const t = a.other.find((f) => f.no === AttributeField.t && f.wire === WireType.LEN);
      if (!t) return UNKNOWN;
      const { header, payload } = decodeTensor(t.value as Uint8Array);
      const values = payload?.bytes && smallValues(header, payload.field, payload.bytes);
      return { dims: header.dims, type: header.dataType, values };
    }
    case 'value_int':
      return { dims: [], type: DataType.INT64, values: [Number(a.i ?? 0n)] };
    case 'value_ints':
      return { dims: [a.ints.length], type: DataType.INT64, values: a.ints.map(Number) };
    case 'value_float':
      return { dims: [], type: DataType.FLOAT, values: [a.f ?? 0] };
    case 'value_floats':
      return { dims: [a.floats.length], type: DataType.FLOAT, values: a.floats };
  }
  return UNKNOWN;
}

/** Row-major coordinates of flat index `flat` in `dims`. */
export function coordsOf(dims: readonly number[], flat: number): number[] {
  const coords: number[] = [];
  for (let i = dims.length - 1; i >= 0; i--) {
    coords[i] = flat % dims[i]!;
    flat = Math.floor(flat / dims[i]!);
  }
  return coords;
}

export function flatOf(dims: readonly number[], coords: readonly number[]): number {
  let flat = 0;
  for (let i = 0; i < dims.length; i++) flat = flat * dims[i]! + coords[i]!;
  return flat;
}

/** A small output's values, each read from `x`'s values at the coordinates `from` gives. */
export function gatherValues(
  x: TensorFact,
  dims: number[],
  from: (coords: number[]) => number[],
): number[] | undefined {
  if (!x.values || !x.dims || elementCount(dims) > MAX_VALUES) return undefined;
  return Array.from(
    { length: elementCount(dims) },
    (_, flat) => x.values![flatOf(x.dims!, from(coordsOf(dims, flat)))]!,
  );
}

/** Numpy broadcasting; null when a shape is unknown or the shapes clash. */
export function broadcast(shapes: (number[] | null)[]): number[] | null {
  if (shapes.some((s) => s === null)) return null;
  const rank = Math.max(...shapes.map((s) => s!.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s![s!.length - rank + i] ?? 1;
      if (v === 1) continue;
      if (d !== 1 && d !== v) return null;
      d = v;
    }
    out.push(d);
  }
  return out;
}

/** Element-wise values over broadcast inputs, when all inputs have values. */
export function elementwise(
  ins: TensorFact[],
  dims: number[] | null,
  f: (...v: number[]) => number,
): number[] | undefined {
  if (!dims || elementCount(dims) > MAX_VALUES || ins.some((x) => !x.values || !x.dims))
    return undefined;
  const count = elementCount(dims);
  return Array.from({ length: count }, (_, flat) => {
    const coords = coordsOf(dims, flat);
    const args = ins.map((x) => {
      const offset = dims.length - x.dims!.length;
      const at = x.dims!.map((d, i) => (d === 1 ? 0 : coords[i + offset]!));
      return x.values![flatOf(x.dims!, at)]!;
    });
    return f(...args);
  });
}
