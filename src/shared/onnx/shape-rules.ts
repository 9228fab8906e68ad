/**
 * The operator rules of shape inference (shapes.ts): one node's output
 * facts from its input facts. Covers the operators of diffusers' and
 * Gesso's exports and their int8 copies; anything else gives no facts, so
 * its outputs stay unknown.
 *
 * Over 300 lines because it is one table, an operator per case.
 */

import { AttributeField, DataType, elementCount } from './schema';
import type { AttributeProto, NodeProto } from './schema';
import { decodeTensor } from './walk';
import {
  MAX_VALUES,
  UNKNOWN,
  broadcast,
  constantFact,
  coordsOf,
  elementwise,
  flatOf,
  gatherValues,
  smallValues,
  type TensorFact,
} from './shape-values';

/* ---- Helpers ---- */

function attribute(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}
function intAttr(node: NodeProto, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a?.i !== undefined ? Number(a.i) : fallback;
}
function intsAttr(node: NodeProto, name: string): number[] | undefined {
  const a = attribute(node, name);
  return a ? a.ints.map(Number) : undefined;
}
function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

const INTEGER_TYPES: ReadonlySet<number> = new Set([
  DataType.INT64,
  DataType.INT32,
  DataType.INT16,
  DataType.INT8,
  DataType.UINT8,
  DataType.UINT16,
  DataType.UINT32,
  DataType.UINT64,
]);

const BINARY: Record<string, (a: number, b: number, integer: boolean) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b, integer) => (integer ? Math.trunc(a / b) : a / b),
  Pow: (a, b) => a ** b,
  Max: (a, b) => Math.max(a, b),
  Min: (a, b) => Math.min(a, b),
  Mod: (a, b) => a % b,
};
const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  Equal: (a, b) => a === b,
  Less: (a, b) => a < b,
  Greater: (a, b) => a > b,
  LessOrEqual: (a, b) => a <= b,
  GreaterOrEqual: (a, b) => a >= b,
  And: (a, b) => Boolean(a && b),
  Or: (a, b) => Boolean(a || b),
};
/** Same shape and type as the first input. */
const SAME_SHAPE = new Set([
  'Identity', 'Erf', 'Sigmoid', 'Sin', 'Cos', 'Tanh', 'Relu', 'Softmax', 'LogSoftmax',
  'Sqrt', 'Exp', 'Log', 'Neg', 'Abs', 'Floor', 'Ceil', 'Reciprocal', 'Gelu', 'FastGelu',
  'QuickGelu', 'BiasGelu', 'LeakyRelu', 'Elu', 'HardSigmoid', 'HardSwish', 'Dropout',
  'InstanceNormalization', 'LayerNormalization', 'SimplifiedLayerNormalization',
  'SkipLayerNormalization', 'SkipSimplifiedLayerNormalization', 'GroupNormalization',
  'GroupNorm', 'BatchNormalization', 'Clip', 'Not', 'Trilu', 'CumSum', 'Round', 'Sign',
  'Softplus', 'Mish', 'BiasAdd', 'Celu', 'Selu', 'Shrink', 'ThresholdedRelu', 'Softsign',
]); // prettier-ignore
const UNARY_VALUES: Record<string, (a: number) => number> = {
  Identity: (a) => a,
  Floor: Math.floor,
  Ceil: Math.ceil,
  Neg: (a) => -a,
  Abs: Math.abs,
  Sqrt: Math.sqrt,
  Not: (a) => (a ? 0 : 1),
};

function reduce(dims: number[], axes: number[] | undefined, keepDims: boolean, noopEmpty: boolean) {
  const rank = dims.length;
  const all = axes === undefined || axes.length === 0;
  if (all && noopEmpty && axes !== undefined) return dims;
  const set = new Set(all ? dims.map((_, i) => i) : axes!.map((a) => normAxis(a, rank)));
  return keepDims ? dims.map((d, i) => (set.has(i) ? 1 : d)) : dims.filter((_, i) => !set.has(i));
}

/** One node's output facts from its input facts. Throws (caught as unknown) on malformed input. */
export function inferNode(node: NodeProto, ins: TensorFact[]): TensorFact[] {
  const op = node.opType ?? '';
  const x = ins[0] ?? UNKNOWN;
  const d = x.dims;
  if (op === 'Constant') return [constantFact(node)];
  if (SAME_SHAPE.has(op)) {
    const f = UNARY_VALUES[op];
    return [{ dims: d, type: x.type, values: f && x.values ? x.values.map(f) : undefined }];
  }
  if (op === 'Cast') {
    const to = intAttr(node, 'to', 0);
    const values = x.values?.map((v) => (INTEGER_TYPES.has(to) ? Math.trunc(v) : v));
    return [{ dims: d, type: to, values }];
  }
  if (op in BINARY) {
    const dims = broadcast([d, ins[1]?.dims ?? null]);
    const integer = x.type !== undefined && INTEGER_TYPES.has(x.type);
    const values = elementwise(ins.slice(0, 2), dims, (a, b) => BINARY[op]!(a, b, integer));
    return [{ dims, type: x.type, values }];
  }
  if (op in COMPARE) {
    const dims = broadcast([d, ins[1]?.dims ?? null]);
    const values = elementwise(ins.slice(0, 2), dims, (a, b) => (COMPARE[op]!(a, b) ? 1 : 0));
    return [{ dims, type: DataType.BOOL, values }];
  }
  switch (op) {
    case 'Where': {
      const dims = broadcast(ins.slice(0, 3).map((i) => i.dims));
      const values = elementwise(ins.slice(0, 3), dims, (c, a, b) => (c ? a : b));
      return [{ dims, type: ins[1]?.type, values }];
    }
    case 'PRelu':
      return [{ dims: broadcast([d, ins[1]?.dims ?? null]), type: x.type }];
    case 'Shape': {
      if (!d) return [{ dims: null, type: DataType.INT64 }];
      const start = normAxis(intAttr(node, 'start', 0), d.length);
      const end = normAxis(intAttr(node, 'end', d.length), d.length);
      const values = d.slice(Math.max(0, start), Math.min(d.length, end));
      return [{ dims: [values.length], type: DataType.INT64, values }];
    }
    case 'Size':
      return [{ dims: [], type: DataType.INT64, values: d ? [elementCount(d)] : undefined }];
    case 'Gather': {
      const idx = ins[1] ?? UNKNOWN;
      if (!d || !idx.dims) return [{ dims: null, type: x.type }];
      const axis = normAxis(intAttr(node, 'axis', 0), d.length);
      const dims = [...d.slice(0, axis), ...idx.dims, ...d.slice(axis + 1)];
      const indices = idx.values;
      const values = indices
        ? gatherValues(x, dims, (c) => {
            const i = indices[flatOf(idx.dims!, c.slice(axis, axis + idx.dims!.length))]!;
            return [
              ...c.slice(0, axis),
              i < 0 ? i + d[axis]! : i,
              ...c.slice(axis + idx.dims!.length),
            ];
          })
        : undefined;
      return [{ dims, type: x.type, values }];
    }
    case 'Unsqueeze': {
      const axes = intsAttr(node, 'axes') ?? ins[1]?.values;
      if (!d || !axes) return [{ dims: null, type: x.type }];
      const rank = d.length + axes.length;
      const set = new Set(axes.map((a) => normAxis(a, rank)));
      const dims: number[] = [];
      let k = 0;
      for (let i = 0; i < rank; i++) dims.push(set.has(i) ? 1 : d[k++]!);
      return [{ dims, type: x.type, values: x.values }];
    }
    case 'Squeeze': {
      const axes = intsAttr(node, 'axes') ?? ins[1]?.values;
      if (!d) return [{ dims: null, type: x.type }];
      const set = new Set(axes?.map((a) => normAxis(a, d.length)));
      const dims = d.filter((v, i) => (axes ? !set.has(i) : v !== 1));
      return [{ dims, type: x.type, values: x.values }];
    }
    case 'Concat': {
      if (ins.some((i) => !i.dims)) return [{ dims: null, type: x.type }];
      const axis = normAxis(intAttr(node, 'axis', 0), d!.length);
      const dims = [...d!];
      dims[axis] = ins.reduce((n, i) => n + i.dims![axis]!, 0);
      let values: number[] | undefined;
      if (ins.every((i) => i.values) && elementCount(dims) <= MAX_VALUES) {
        const starts = ins.map((_, k) => ins.slice(0, k).reduce((n, i) => n + i.dims![axis]!, 0));
        values = Array.from({ length: elementCount(dims) }, (_, flat) => {
          const c = coordsOf(dims, flat);
          let k = 0;
          while (c[axis]! >= starts[k]! + ins[k]!.dims![axis]!) k++;
          c[axis] = c[axis]! - starts[k]!;
          return ins[k]!.values![flatOf(ins[k]!.dims!, c)]!;
        });
      }
      return [{ dims, type: x.type, values }];
    }
    case 'Reshape': {
      const shape = ins[1]?.values;
      if (!d || !shape) return [{ dims: null, type: x.type }];
      const allowZero = intAttr(node, 'allowzero', 0) === 1;
      const dims = shape.map((v, i) => (v === 0 && !allowZero ? d[i]! : v));
      const hole = dims.indexOf(-1);
      if (hole >= 0) {
        const known = dims.reduce((n, v, i) => (i === hole ? n : n * v), 1);
        dims[hole] = elementCount(d) / known;
      }
      if (elementCount(dims) !== elementCount(d)) return [{ dims: null, type: x.type }];
      return [{ dims, type: x.type, values: x.values }];
    }
    case 'Flatten': {
      if (!d) return [{ dims: null, type: x.type }];
      const axis = normAxis(intAttr(node, 'axis', 1), d.length);
      return [
        { dims: [elementCount(d.slice(0, axis)), elementCount(d.slice(axis))], type: x.type },
      ];
    }
    case 'Transpose': {
      if (!d) return [{ dims: null, type: x.type }];
      const perm = intsAttr(node, 'perm') ?? d.map((_, i) => d.length - 1 - i);
      const dims = perm.map((p) => d[p]!);
      const values = gatherValues(x, dims, (c) => {
        const at: number[] = [];
        perm.forEach((p, i) => (at[p] = c[i]!));
        return at;
      });
      return [{ dims, type: x.type, values }];
    }
    case 'MatMul':
    case 'MatMulInteger':
    case 'FusedMatMul': {
      const b = ins[1]?.dims;
      if (!d || !b) return [{ dims: null, type: x.type }];
      const a2 = d.length === 1 ? [1, d[0]!] : d;
      const b2 = b.length === 1 ? [b[0]!, 1] : b;
      const batch = broadcast([a2.slice(0, -2), b2.slice(0, -2)]);
      if (!batch || a2.at(-1) !== b2.at(-2)) return [{ dims: null, type: x.type }];
      const dims = [...batch, a2.at(-2)!, b2.at(-1)!];
      if (d.length === 1) dims.splice(-2, 1);
      if (b.length === 1) dims.pop();
      return [{ dims, type: op === 'MatMulInteger' ? DataType.INT32 : x.type }];
    }
    case 'MatMulNBits': {
      if (!d) return [{ dims: null, type: x.type }];
      return [{ dims: [...d.slice(0, -1), intAttr(node, 'N', 0)], type: x.type }];
    }
    case 'Gemm': {
      const b = ins[1]?.dims;
      if (!d || !b || d.length !== 2 || b.length !== 2) return [{ dims: null, type: x.type }];
      const m = intAttr(node, 'transA', 0) ? d[1]! : d[0]!;
      const n = intAttr(node, 'transB', 0) ? b[0]! : b[1]!;
      return [{ dims: [m, n], type: x.type }];
    }
    case 'Conv':
    case 'ConvTranspose':
    case 'MaxPool':
    case 'AveragePool':
    case 'LpPool':
      return [window(node, op, x, ins[1]?.dims ?? null)];
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return [{ dims: d ? [d[0]!, d[1]!, ...d.slice(2).map(() => 1)] : null, type: x.type }];
    case 'Resize':
    case 'Upsample': {
      if (!d) return [{ dims: null, type: x.type }];
      const sizes = ins[3]?.values;
      const scales = op === 'Upsample' ? ins[1]?.values : ins[2]?.values;
      if (sizes?.length === d.length) return [{ dims: sizes, type: x.type }];
      if (scales?.length === d.length)
        return [{ dims: d.map((v, i) => Math.floor(v * scales[i]!)), type: x.type }];
      return [{ dims: null, type: x.type }];
    }
    case 'Slice':
      return [slice(node, ins)];
    case 'DepthToSpace':
    case 'SpaceToDepth': {
      if (!d || d.length !== 4) return [{ dims: null, type: x.type }];
      const b = intAttr(node, 'blocksize', 1);
      const [n, c, h, w] = d as [number, number, number, number];
      const dims =
        op === 'DepthToSpace' ? [n, c / (b * b), h * b, w * b] : [n, c * b * b, h / b, w / b];
      return [{ dims, type: x.type }];
    }
    case 'Range': {
      const [start, limit, delta] = ins.map((i) => i.values?.[0]);
      if (start === undefined || limit === undefined || !delta)
        return [{ dims: null, type: x.type }];
      const n = Math.max(0, Math.ceil((limit - start) / delta));
      const values =
        n <= MAX_VALUES ? Array.from({ length: n }, (_, i) => start + i * delta) : undefined;
      return [{ dims: [n], type: x.type, values }];
    }
    case 'ConstantOfShape': {
      const shape = x.values;
      const t = attribute(node, 'value')?.other.find((f) => f.no === AttributeField.t);
      const value = t ? decodeTensor(t.value as Uint8Array) : undefined;
      const fill = value?.payload?.bytes
        ? smallValues(value.header, value.payload.field, value.payload.bytes)?.[0]
        : 0;
      const dims = shape ?? null;
      const values =
        dims && fill !== undefined && elementCount(dims) <= MAX_VALUES
          ? Array<number>(elementCount(dims)).fill(fill)
          : undefined;
      return [{ dims, type: value?.header.dataType ?? DataType.FLOAT, values }];
    }
    case 'Expand': {
      const shape = ins[1]?.values;
      if (!d || !shape) return [{ dims: null, type: x.type }];
      const dims = broadcast([d, shape]);
      return [{ dims, type: x.type, values: elementwise([x], dims, (v) => v) }];
    }
    case 'Tile': {
      const repeats = ins[1]?.values;
      if (!d || !repeats) return [{ dims: null, type: x.type }];
      return [{ dims: d.map((v, i) => v * repeats[i]!), type: x.type }];
    }
    case 'Pad': {
      const pads = ins[1]?.values ?? intsAttr(node, 'pads');
      if (!d || !pads) return [{ dims: null, type: x.type }];
      const axes = ins[3]?.values?.map((a) => normAxis(a, d.length)) ?? d.map((_, i) => i);
      const dims = [...d];
      axes.forEach((a, k) => (dims[a] = dims[a]! + pads[k]! + pads[k + axes.length]!));
      return [{ dims, type: x.type }];
    }
    case 'Split': {
      if (!d) return node.output.map(() => ({ dims: null, type: x.type }));
      const axis = normAxis(intAttr(node, 'axis', 0), d.length);
      const parts = node.output.length;
      const split =
        intsAttr(node, 'split') ??
        ins[1]?.values ??
        Array.from({ length: parts }, (_, i) => {
          const size = Math.ceil(d[axis]! / parts);
          return Math.min(size, d[axis]! - size * i);
        });
      return split.map((s) => {
        const dims = [...d];
        dims[axis] = s;
        return { dims, type: x.type };
      });
    }
    case 'ArgMax':
    case 'ArgMin':
      if (!d) return [{ dims: null, type: DataType.INT64 }];
      return [
        {
          dims: reduce(d, [intAttr(node, 'axis', 0)], intAttr(node, 'keepdims', 1) === 1, false),
          type: DataType.INT64,
        },
      ];
    case 'ReduceMean':
    case 'ReduceSum':
    case 'ReduceMax':
    case 'ReduceMin':
    case 'ReduceProd':
    case 'ReduceL2':
    case 'ReduceSumSquare': {
      if (!d) return [{ dims: null, type: x.type }];
      const axes = intsAttr(node, 'axes') ?? ins[1]?.values;
      const noop = intAttr(node, 'noop_with_empty_axes', 0) === 1;
      return [{ dims: reduce(d, axes, intAttr(node, 'keepdims', 1) === 1, noop), type: x.type }];
    }
    case 'DequantizeLinear':
      return [{ dims: d, type: ins[1]?.type ?? DataType.FLOAT }];
    case 'QuantizeLinear':
      return [{ dims: d, type: ins[2]?.type ?? DataType.UINT8 }];
    case 'DynamicQuantizeLinear':
      return [
        { dims: d, type: DataType.UINT8 },
        { dims: [], type: DataType.FLOAT },
        { dims: [], type: DataType.UINT8 },
      ];
  }
  return [];
}

/** Conv, ConvTranspose and pooling: spatial sizes from kernel, strides, pads, dilations. */
function window(node: NodeProto, op: string, x: TensorFact, w: number[] | null): TensorFact {
  const d = x.dims;
  const pooling = op !== 'Conv' && op !== 'ConvTranspose';
  if (!d || (!pooling && !w)) return { dims: null, type: x.type };
  const spatial = d.length - 2;
  const kernel = intsAttr(node, 'kernel_shape') ?? w!.slice(2);
  const strides = intsAttr(node, 'strides') ?? Array<number>(spatial).fill(1);
  const dilations = intsAttr(node, 'dilations') ?? Array<number>(spatial).fill(1);
  const pads = intsAttr(node, 'pads') ?? Array<number>(spatial * 2).fill(0);
  const autoPad = attribute(node, 'auto_pad')?.s;
  const padMode = autoPad ? new TextDecoder().decode(autoPad) : 'NOTSET';
  const group = intAttr(node, 'group', 1);
  const channels = pooling ? d[1]! : op === 'Conv' ? w![0]! : w![1]! * group;
  const dims = [d[0]!, channels];
  for (let i = 0; i < spatial; i++) {
    const n = d[i + 2]!;
    const k = (kernel[i]! - 1) * dilations[i]! + 1;
    const s = strides[i]!;
    if (op === 'ConvTranspose') {
      const outputShape = intsAttr(node, 'output_shape');
      const extra = intsAttr(node, 'output_padding')?.[i] ?? 0;
      dims.push(outputShape?.[i] ?? s * (n - 1) + extra + k - pads[i]! - pads[i + spatial]!);
    } else if (padMode === 'SAME_UPPER' || padMode === 'SAME_LOWER') {
      dims.push(Math.ceil(n / s));
    } else if (padMode === 'VALID') {
      dims.push(Math.floor((n - k) / s) + 1);
    } else {
      const ceil = intAttr(node, 'ceil_mode', 0) === 1;
      const q = (n + pads[i]! + pads[i + spatial]! - k) / s;
      dims.push((ceil ? Math.ceil(q) : Math.floor(q)) + 1);
    }
  }
  return { dims, type: x.type };
}

function slice(node: NodeProto, ins: TensorFact[]): TensorFact {
  const x = ins[0] ?? UNKNOWN;
  const d = x.dims;
  const starts = intsAttr(node, 'starts') ?? ins[1]?.values;
  const ends = intsAttr(node, 'ends') ?? ins[2]?.values;
  if (!d || !starts || !ends) return { dims: null, type: x.type };
  const axes = (intsAttr(node, 'axes') ?? ins[3]?.values ?? starts.map((_, i) => i)).map((a) =>
    normAxis(a, d.length),
  );
  const steps = ins[4]?.values ?? starts.map(() => 1);
  const dims = [...d];
  const picks: number[][] = d.map((n) => Array.from({ length: n }, (_, i) => i));
  axes.forEach((axis, k) => {
    const n = d[axis]!;
    const step = steps[k]!;
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    let start = starts[k]! < 0 ? starts[k]! + n : starts[k]!;
    let end = ends[k]! < 0 ? ends[k]! + n : ends[k]!;
    start = step > 0 ? clamp(start, 0, n) : clamp(start, -1, n - 1);
    end = step > 0 ? clamp(end, 0, n) : clamp(end, -1, n - 1);
    const picked: number[] = [];
    for (let i = start; step > 0 ? i < end : i > end; i += step) picked.push(i);
    dims[axis] = picked.length;
    picks[axis] = picked;
  });
  const values = gatherValues(x, dims, (c) => c.map((v, axis) => picks[axis]![v]!));
  return { dims, type: x.type, values };
}
