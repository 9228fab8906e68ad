/**
 * The parts of onnx.proto (proto2) the rewriter reads and writes: field
 * numbers per message, the tensor data types with their element sizes, and
 * the attribute types. Numbers come from onnx.proto; unknown fields are kept
 * as they are by the walker and the writer, so newer models pass through.
 */

import type { Field } from './wire';

export const ModelField = {
  irVersion: 1,
  producerName: 2,
  producerVersion: 3,
  domain: 4,
  modelVersion: 5,
  docString: 6,
  graph: 7,
  opsetImport: 8,
  metadataProps: 14,
  trainingInfo: 20,
  functions: 25,
} as const;

export const GraphField = {
  node: 1,
  name: 2,
  initializer: 5,
  docString: 10,
  input: 11,
  output: 12,
  valueInfo: 13,
  quantizationAnnotation: 14,
  sparseInitializer: 15,
  metadataProps: 16,
} as const;

export const NodeField = {
  input: 1,
  output: 2,
  name: 3,
  opType: 4,
  attribute: 5,
  docString: 6,
  domain: 7,
  overload: 8,
  metadataProps: 9,
} as const;

export const AttributeField = {
  name: 1,
  f: 2,
  i: 3,
  s: 4,
  t: 5,
  g: 6,
  floats: 7,
  ints: 8,
  strings: 9,
  tensors: 10,
  graphs: 11,
  docString: 13,
  tp: 14,
  typeProtos: 15,
  type: 20,
  refAttrName: 21,
  sparseTensor: 22,
  sparseTensors: 23,
} as const;

/** AttributeProto.AttributeType. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

export const TensorField = {
  dims: 1,
  dataType: 2,
  segment: 3,
  floatData: 4,
  int32Data: 5,
  stringData: 6,
  int64Data: 7,
  name: 8,
  rawData: 9,
  doubleData: 10,
  uint64Data: 11,
  docString: 12,
  externalData: 13,
  dataLocation: 14,
  metadataProps: 16,
} as const;

/** The TensorProto fields that hold a tensor's values (at most one is used). */
export const PAYLOAD_FIELDS: ReadonlySet<number> = new Set([
  TensorField.floatData,
  TensorField.int32Data,
  TensorField.int64Data,
  TensorField.rawData,
  TensorField.doubleData,
  TensorField.uint64Data,
]);

export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;

export const StringStringField = { key: 1, value: 2 } as const;
export const OperatorSetIdField = { domain: 1, version: 2 } as const;
export const ValueInfoField = { name: 1, type: 2, docString: 3, metadataProps: 4 } as const;
/** TypeProto (its tensor_type case), TypeProto.Tensor, TensorShapeProto and its Dimension. */
export const TypeProtoField = { tensorType: 1, denotation: 6 } as const;
export const TensorTypeField = { elemType: 1, shape: 2 } as const;
export const TensorShapeField = { dim: 1 } as const;
export const DimensionField = { dimValue: 1, dimParam: 2, denotation: 3 } as const;

/** TensorProto.DataType. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
  FLOAT8E8M0: 24,
  UINT2: 25,
  INT2: 26,
} as const;

/** Bits per element in raw_data for each known data type (0: STRING, no raw form). */
const BITS: Record<number, number> = {
  1: 32,
  2: 8,
  3: 8,
  4: 16,
  5: 16,
  6: 32,
  7: 64,
  8: 0,
  9: 8,
  10: 16,
  11: 64,
  12: 32,
  13: 64,
  14: 64,
  15: 128,
  16: 16,
  17: 8,
  18: 8,
  19: 8,
  20: 8,
  21: 4,
  22: 4,
  23: 4,
  24: 8,
  25: 2,
  26: 2,
};

export function isKnownDataType(type: number): boolean {
  return BITS[type] !== undefined;
}

/** Bits per element of `type` in raw_data, or undefined for an unknown type. */
export function dataTypeBits(type: number): number | undefined {
  return BITS[type];
}

/** Bytes of raw_data for `count` elements of `type` (sub-byte types packed, rounded up). */
export function rawByteLength(type: number, count: number): number | undefined {
  const bits = BITS[type];
  if (bits === undefined || bits === 0) return undefined;
  return bits >= 8 ? count * (bits / 8) : Math.ceil((count * bits) / 8);
}

/** Number of elements of a tensor with these dims (1 for a scalar). */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/* ---- Decoded messages (what the walker yields and the writer takes) ---- */

/** StringStringEntryProto, as used by TensorProto.external_data. */
export interface StringStringEntry {
  key: string;
  value: string;
}

/**
 * AttributeProto: the scalar and list fields are decoded; tensors, graphs,
 * strings lists and type protos stay as their raw fields in `other`.
 * Optional fields are undefined when absent (proto2 presence is kept).
 */
export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: bigint;
  s?: Uint8Array;
  floats: number[];
  ints: bigint[];
  docString?: string;
  refAttrName?: string;
  other: Field[];
}

/** NodeProto; `other` holds metadata_props and fields this module does not know. */
export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  opType?: string;
  domain?: string;
  overload?: string;
  attribute: AttributeProto[];
  docString?: string;
  other: Field[];
}

/**
 * TensorProto without its values: the values field (raw_data, float_data, ...)
 * is described separately, so a tensor can be handled one at a time.
 * `other` holds segment, string_data, metadata_props and unknown fields.
 */
export interface TensorHeader {
  name?: string;
  dims: number[];
  dataType?: number;
  dataLocation?: number;
  externalData: StringStringEntry[];
  docString?: string;
  other: Field[];
}
