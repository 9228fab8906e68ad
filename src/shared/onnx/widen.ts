/**
 * Every float16 of a graph made float32, as models/quantize.py's widen_graph
 * does for the int8 copy: float16 tensors widened exactly (initializers,
 * Constant and ConstantOfShape values, subgraphs' tensors), Cast targets and
 * `dtype` attributes float16 -> float, float16 value types (graph inputs,
 * outputs, value_info) float32. onnxruntime's CPU and wasm kernels have no
 * float16 Conv or MatMul and cast around each one, which costs as much heap
 * as computing in float32 and more; a float32 graph also runs on WebGPU
 * adapters without shader-f16.
 *
 * A widened tensor is written as numpy_helper.from_array writes it (dims,
 * data type, name when not empty, raw_data), so the bytes equal Python's.
 */

import {
  AttributeField,
  DataType,
  GraphField,
  TensorField,
  TensorTypeField,
  TypeProtoField,
  ValueInfoField,
  elementCount,
  type AttributeProto,
  type NodeProto,
} from './schema';
import { floatValues } from './quantize';
import { decodeNode, decodeTensor } from './walk';
import { WireType, decodeFields, encodeFields, type Field } from './wire';
import { encodeNode, encodeTensor } from './write';

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** float32 values as little-endian raw_data bytes (a view where the platform allows). */
export function float32Bytes(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return out;
}

/** float16 values (raw_data or int32_data bytes) as float32 raw_data bytes, exactly. */
export function widenFloat16(
  bytes: Uint8Array,
  count: number,
  field: number = TensorField.rawData,
  name = '',
): Uint8Array {
  return float32Bytes(floatValues(DataType.FLOAT16, field, bytes, count, name));
}

/** A TensorProto message widened to float32, or null when it is not float16 (or has no values here). */
export function widenTensorMessage(bytes: Uint8Array): Uint8Array | null {
  const { header, payload } = decodeTensor(bytes);
  if (header.dataType !== DataType.FLOAT16) return null;
  const count = elementCount(header.dims);
  if (!payload && count !== 0) return null;
  const values = payload
    ? widenFloat16(payload.bytes!, count, payload.field, header.name)
    : new Uint8Array(0);
  return encodeTensor(
    {
      ...(header.name ? { name: header.name } : {}),
      dims: header.dims,
      dataType: DataType.FLOAT,
      externalData: [],
      other: [],
    },
    { field: TensorField.rawData, bytes: values },
  );
}

/** The message with its LEN fields numbered `no` rewritten by `inner`; null when none changed. */
function rewrite(
  bytes: Uint8Array,
  numbers: readonly number[],
  inner: (value: Uint8Array, no: number) => Uint8Array | null,
): Uint8Array | null {
  let changed = false;
  const fields = decodeFields(bytes).map((f): Field => {
    if (!numbers.includes(f.no) || f.wire !== WireType.LEN) return f;
    const next = inner(f.value as Uint8Array, f.no);
    if (!next) return f;
    changed = true;
    return { ...f, value: next };
  });
  return changed ? encodeFields(fields) : null;
}

/** A ValueInfoProto whose tensor type is float16, made float32; null otherwise. */
export function widenValueInfo(bytes: Uint8Array): Uint8Array | null {
  return rewrite(bytes, [ValueInfoField.type], (type) =>
    rewrite(type, [TypeProtoField.tensorType], (tensor) => {
      let changed = false;
      const fields = decodeFields(tensor).map((f): Field => {
        if (
          f.no !== TensorTypeField.elemType ||
          f.wire !== WireType.VARINT ||
          BigInt(f.value as bigint) !== BigInt(DataType.FLOAT16)
        )
          return f;
        changed = true;
        return { ...f, value: BigInt(DataType.FLOAT) };
      });
      return changed ? encodeFields(fields) : null;
    }),
  );
}

/** A GraphProto message (a subgraph) widened; null when it held no float16. */
export function widenGraphMessage(bytes: Uint8Array): Uint8Array | null {
  return rewrite(
    bytes,
    [
      GraphField.node,
      GraphField.initializer,
      GraphField.input,
      GraphField.output,
      GraphField.valueInfo,
    ],
    (value, no) => {
      if (no === GraphField.node) {
        const node = decodeNode(value);
        const widened = widenNode(node);
        return widened === node ? null : encodeNode(widened);
      }
      if (no === GraphField.initializer) return widenTensorMessage(value);
      return widenValueInfo(value);
    },
  );
}

function widenAttribute(opType: string | undefined, a: AttributeProto): AttributeProto {
  if (
    a.i === BigInt(DataType.FLOAT16) &&
    ((opType === 'Cast' && a.name === 'to') || a.name === 'dtype')
  )
    return { ...a, i: BigInt(DataType.FLOAT) };
  let changed = false;
  const other = a.other.map((f): Field => {
    if (f.wire !== WireType.LEN) return f;
    const value = f.value as Uint8Array;
    const next =
      f.no === AttributeField.t || f.no === AttributeField.tensors
        ? widenTensorMessage(value)
        : f.no === AttributeField.g || f.no === AttributeField.graphs
          ? widenGraphMessage(value)
          : null;
    if (!next) return f;
    changed = true;
    return { ...f, value: next };
  });
  return changed ? { ...a, other } : a;
}

/** The node with its float16 attributes made float32; the same object when it has none. */
export function widenNode(node: NodeProto): NodeProto {
  let changed = false;
  const attribute = node.attribute.map((a) => {
    const next = widenAttribute(node.opType, a);
    if (next !== a) changed = true;
    return next;
  });
  return changed ? { ...node, attribute } : node;
}

/** The graph's own fields (inputs, outputs, value_info) with float16 value types made float32; `count` hears each change. */
export function widenGraphFields(fields: readonly Field[], count: () => void): Field[] {
  return fields.map((f) => {
    if (
      f.wire !== WireType.LEN ||
      (f.no !== GraphField.input && f.no !== GraphField.output && f.no !== GraphField.valueInfo)
    )
      return f;
    const next = widenValueInfo(f.value as Uint8Array);
    if (!next) return f;
    count();
    return { ...f, value: next };
  });
}
