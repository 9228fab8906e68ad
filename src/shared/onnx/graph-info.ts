/**
 * Decoders for the graph parts the walker passes through as raw fields:
 * value infos (graph inputs, outputs, value_info) and the tensor a Constant
 * node holds. Used by the graph rewrites that must read them (explain's
 * extra outputs, sliced attention, the converter).
 */

import {
  AttributeField,
  DimensionField,
  GraphField,
  TensorShapeField,
  TensorTypeField,
  TypeProtoField,
  ValueInfoField,
  type NodeProto,
  type TensorHeader,
} from './schema';
import { decodeTensor } from './walk';
import { WireType, decodeFields, utf8, type Field } from './wire';

/** A graph input, output or value_info entry: the parts of it the rewrites use. */
export interface ValueInfo {
  name: string;
  elemType?: number;
  /** Fixed dims as numbers, symbolic ones as strings, unknown as undefined; undefined when no shape. */
  dims?: (number | string | undefined)[];
}

/** The LEN fields numbered `no` of a message (other wire types ignored). */
function messages(bytes: Uint8Array, no: number): Uint8Array[] {
  return decodeFields(bytes)
    .filter((f) => f.no === no && f.wire === WireType.LEN)
    .map((f) => f.value as Uint8Array);
}

function varint(bytes: Uint8Array, no: number): number | undefined {
  const f = decodeFields(bytes).find((x) => x.no === no && x.wire === WireType.VARINT);
  return f ? Number(BigInt.asIntN(64, f.value as bigint)) : undefined;
}

export function decodeValueInfo(bytes: Uint8Array): ValueInfo {
  const name = messages(bytes, ValueInfoField.name).map(utf8).pop() ?? '';
  const info: ValueInfo = { name };
  const tensor = messages(bytes, ValueInfoField.type).flatMap((t) =>
    messages(t, TypeProtoField.tensorType),
  )[0];
  if (!tensor) return info;
  info.elemType = varint(tensor, TensorTypeField.elemType);
  const shape = messages(tensor, TensorTypeField.shape)[0];
  if (shape) {
    info.dims = messages(shape, TensorShapeField.dim).map(
      (d) =>
        varint(d, DimensionField.dimValue) ?? messages(d, DimensionField.dimParam).map(utf8).pop(),
    );
  }
  return info;
}

/** The names of the graph's outputs, from its raw fields. */
export function graphOutputNames(graphFields: readonly Field[]): Set<string> {
  return new Set(
    graphFields
      .filter((f) => f.no === GraphField.output && f.wire === WireType.LEN)
      .map((f) => decodeValueInfo(f.value as Uint8Array).name),
  );
}

/** The header (type, dims) of a Constant node's `value` tensor; undefined for its other forms. */
export function constantValueHeader(node: NodeProto): TensorHeader | undefined {
  const attribute = node.attribute[0];
  if (attribute?.name !== 'value') return undefined;
  const t = attribute.other.find((f) => f.no === AttributeField.t && f.wire === WireType.LEN);
  return t ? decodeTensor(t.value as Uint8Array).header : undefined;
}
