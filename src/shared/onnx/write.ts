/**
 * Encoder for the ONNX messages the walker decodes. Fields are written in
 * field-number order, as protobuf's own serializers do, with fields this
 * module does not know put back in their place, so a model written by the
 * Python `onnx` package re-encodes to the same bytes. `writeModel` streams a
 * whole ModelProto in chunks: sizes are computed first, tensor values are
 * pulled from their sources as they are written, never joined in memory.
 */

import {
  AttributeField,
  GraphField,
  ModelField,
  NodeField,
  StringStringField,
  TensorField,
  TensorTypeField,
  TypeProtoField,
  ValueInfoField,
  type AttributeProto,
  type NodeProto,
  type StringStringEntry,
  type TensorHeader,
} from './schema';
import { GessoError } from '../errors';
import { ByteWriter, WireType, lenFieldSize, type Field } from './wire';

const text = new TextEncoder();

function lenField(no: number, bytes: Uint8Array): Field {
  return { no, wire: WireType.LEN, value: bytes };
}
function strField(no: number, s: string): Field {
  return lenField(no, text.encode(s));
}
function varField(no: number, v: number | bigint): Field {
  return { no, wire: WireType.VARINT, value: BigInt.asUintN(64, BigInt(v)) };
}

/** Known fields plus `other`, stably ordered by field number, encoded. */
function encodeSorted(fields: Field[]): Uint8Array {
  const w = new ByteWriter();
  for (const f of sortFields(fields)) w.field(f);
  return w.finish();
}

function sortFields(fields: Field[]): Field[] {
  return fields
    .map((f, i) => [f, i] as const)
    .sort((a, b) => a[0].no - b[0].no || a[1] - b[1])
    .map(([f]) => f);
}

export function encodeStringString(entry: StringStringEntry): Uint8Array {
  return encodeSorted([
    strField(StringStringField.key, entry.key),
    strField(StringStringField.value, entry.value),
  ]);
}

export function encodeOpset(domain: string, version: number): Uint8Array {
  return encodeSorted([strField(1, domain), varField(2, version)]);
}

/** A ValueInfoProto for a tensor of `elemType` (TensorProto.DataType) with no shape given. */
export function encodeValueInfo(name: string, elemType: number): Uint8Array {
  const tensorType = encodeSorted([varField(TensorTypeField.elemType, elemType)]);
  const type = encodeSorted([lenField(TypeProtoField.tensorType, tensorType)]);
  return encodeSorted([strField(ValueInfoField.name, name), lenField(ValueInfoField.type, type)]);
}

export function encodeAttribute(a: AttributeProto): Uint8Array {
  const F = AttributeField;
  const fields: Field[] = [...a.other];
  if (a.name !== undefined) fields.push(strField(F.name, a.name));
  if (a.f !== undefined) {
    const w = new ByteWriter(4).float32(a.f);
    fields.push({
      no: F.f,
      wire: WireType.I32,
      value: new DataView(w.finish().buffer).getUint32(0, true),
    });
  }
  if (a.i !== undefined) fields.push(varField(F.i, a.i));
  if (a.s !== undefined) fields.push(lenField(F.s, a.s));
  for (const v of a.floats) {
    const w = new ByteWriter(4).float32(v);
    fields.push({
      no: F.floats,
      wire: WireType.I32,
      value: new DataView(w.finish().buffer).getUint32(0, true),
    });
  }
  for (const v of a.ints) fields.push(varField(F.ints, v));
  if (a.docString !== undefined) fields.push(strField(F.docString, a.docString));
  if (a.type !== undefined) fields.push(varField(F.type, a.type));
  if (a.refAttrName !== undefined) fields.push(strField(F.refAttrName, a.refAttrName));
  return encodeSorted(fields);
}

export function encodeNode(n: NodeProto): Uint8Array {
  const F = NodeField;
  const fields: Field[] = [...n.other];
  for (const s of n.input) fields.push(strField(F.input, s));
  for (const s of n.output) fields.push(strField(F.output, s));
  if (n.name !== undefined) fields.push(strField(F.name, n.name));
  if (n.opType !== undefined) fields.push(strField(F.opType, n.opType));
  for (const a of n.attribute) fields.push(lenField(F.attribute, encodeAttribute(a)));
  if (n.docString !== undefined) fields.push(strField(F.docString, n.docString));
  if (n.domain !== undefined) fields.push(strField(F.domain, n.domain));
  if (n.overload !== undefined) fields.push(strField(F.overload, n.overload));
  return encodeSorted(fields);
}

/** A tensor's header fields (everything but its values), unsorted. */
function headerFields(h: TensorHeader): Field[] {
  const F = TensorField;
  const fields: Field[] = [...h.other];
  for (const d of h.dims) fields.push(varField(F.dims, d));
  if (h.dataType !== undefined) fields.push(varField(F.dataType, h.dataType));
  if (h.name !== undefined) fields.push(strField(F.name, h.name));
  if (h.docString !== undefined) fields.push(strField(F.docString, h.docString));
  for (const e of h.externalData) fields.push(lenField(F.externalData, encodeStringString(e)));
  if (h.dataLocation !== undefined) fields.push(varField(F.dataLocation, h.dataLocation));
  return fields;
}

/** A whole TensorProto in memory; `payload` is the values field (raw_data or a packed typed field). */
export function encodeTensor(
  h: TensorHeader,
  payload?: { field: number; bytes: Uint8Array } | null,
): Uint8Array {
  const fields = headerFields(h);
  if (payload) fields.push(lenField(payload.field, payload.bytes));
  return encodeSorted(fields);
}

/** Where a tensor's values come from when a model is written. */
export interface PayloadSource {
  field: number;
  length: number;
  /** The bytes, when they are in memory. */
  bytes?: Uint8Array;
  /** Otherwise a stream of exactly `length` bytes, pulled while writing. */
  chunks?: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

export interface TensorParts {
  header: TensorHeader;
  payload?: PayloadSource | null;
}

export interface GraphParts {
  nodes: (NodeProto | Uint8Array)[];
  initializers: TensorParts[];
  /** The graph's other fields (name, input, output, value_info, ...), in any order. */
  fields: Field[];
}

export interface ModelParts {
  /** The model's fields other than the graph (ir_version, opset_import, ...), in any order. */
  fields: Field[];
  graph?: GraphParts;
}

/** One piece of output: bytes in memory, or a tensor's values pulled from a source. */
type Piece = Uint8Array | PayloadSource;

function pieceSize(p: Piece): number {
  return p instanceof Uint8Array ? p.length : p.length;
}

function header(no: number, length: number): Uint8Array {
  return new ByteWriter(16).tag(no, WireType.LEN).varint(length).finish();
}

function fieldBytes(f: Field): Uint8Array {
  return new ByteWriter().field(f).finish();
}

/** A tensor as pieces: sorted header fields around its values. */
function tensorPieces(t: TensorParts): Piece[] {
  const fields = sortFields(headerFields(t.header));
  const p = t.payload;
  if (!p) return [encodeSortedList(fields)];
  const before = encodeSortedList(fields.filter((f) => f.no <= p.field));
  const after = encodeSortedList(fields.filter((f) => f.no > p.field));
  const values: Piece = p.bytes ?? p;
  return [before, header(p.field, p.length), values, after];
}

function encodeSortedList(fields: Field[]): Uint8Array {
  const w = new ByteWriter();
  for (const f of fields) w.field(f);
  return w.finish();
}

/** A length-delimited field around pieces: its tag+length, then the pieces. */
function wrap(no: number, pieces: Piece[]): { size: number; pieces: Piece[] } {
  let length = 0;
  for (const p of pieces) length += pieceSize(p);
  return { size: lenFieldSize(no, length), pieces: [header(no, length), ...pieces] };
}

function graphPieces(g: GraphParts): Piece[] {
  const items: { no: number; pieces: Piece[] }[] = [];
  for (const n of g.nodes) {
    const bytes = n instanceof Uint8Array ? n : encodeNode(n);
    items.push({ no: GraphField.node, pieces: [header(GraphField.node, bytes.length), bytes] });
  }
  for (const f of g.fields) items.push({ no: f.no, pieces: [fieldBytes(f)] });
  for (const t of g.initializers) {
    items.push({
      no: GraphField.initializer,
      pieces: wrap(GraphField.initializer, tensorPieces(t)).pieces,
    });
  }
  return items
    .map((item, i) => [item, i] as const)
    .sort((a, b) => a[0].no - b[0].no || a[1] - b[1])
    .flatMap(([item]) => item.pieces);
}

/** The total size in bytes of the model `writeModel` would write. */
export function modelSize(m: ModelParts): number {
  return modelPieces(m).reduce((n, p) => n + pieceSize(p), 0);
}

function modelPieces(m: ModelParts): Piece[] {
  const items: { no: number; pieces: Piece[] }[] = m.fields.map((f) => ({
    no: f.no,
    pieces: [fieldBytes(f)],
  }));
  if (m.graph)
    items.push({
      no: ModelField.graph,
      pieces: wrap(ModelField.graph, graphPieces(m.graph)).pieces,
    });
  return items
    .map((item, i) => [item, i] as const)
    .sort((a, b) => a[0].no - b[0].no || a[1] - b[1])
    .flatMap(([item]) => item.pieces);
}

/**
 * Writes a ModelProto as chunks: the encoded fields joined into fresh arrays
 * of at most `chunkSize` bytes; tensor values from a `chunks` source passed
 * on as the source gives them (not copied).
 */
export async function* writeModel(
  m: ModelParts,
  options: { chunkSize?: number } = {},
): AsyncGenerator<Uint8Array> {
  const chunkSize = options.chunkSize ?? 1 << 20;
  let pending: Uint8Array[] = [];
  let pendingSize = 0;
  const flush = (): Uint8Array => {
    const out = new Uint8Array(pendingSize);
    let at = 0;
    for (const p of pending) {
      out.set(p, at);
      at += p.length;
    }
    pending = [];
    pendingSize = 0;
    return out;
  };
  for (const piece of modelPieces(m)) {
    if (!(piece instanceof Uint8Array)) {
      if (pendingSize > 0) yield flush();
      yield* streamSource(piece);
      continue;
    }
    for (let at = 0; at < piece.length;) {
      const take = Math.min(piece.length - at, chunkSize - pendingSize);
      pending.push(piece.subarray(at, at + take));
      pendingSize += take;
      at += take;
      if (pendingSize >= chunkSize) yield flush();
    }
  }
  if (pendingSize > 0) yield flush();
}

async function* streamSource(p: PayloadSource): AsyncGenerator<Uint8Array> {
  if (p.bytes) {
    yield p.bytes;
    return;
  }
  let seen = 0;
  if (p.chunks) {
    for await (const c of p.chunks()) {
      seen += c.length;
      if (seen > p.length) break;
      yield c;
    }
  }
  if (seen !== p.length) {
    throw new GessoError(
      'internal',
      `A tensor source gave ${seen} bytes where ${p.length} were expected.`,
    );
  }
}
