/**
 * Streaming walker over an ONNX ModelProto given as a stream of byte chunks.
 * It yields the model's top-level fields, then the graph's nodes, other graph
 * fields and initializers, in file order. An initializer comes as its header
 * plus its values as a byte range (`payload`) the caller may read whole,
 * stream in chunks, or leave (then it is skipped): one tensor at a time,
 * never the whole file. External-data tensors (data_location = EXTERNAL)
 * come with no payload and their location/offset/length in the header.
 *
 * Over 300 lines because it decodes every message it walks (model, graph,
 * node, tensor, attribute); they share the one streaming reader.
 */

import { GessoError } from '../errors';
import {
  AttributeField,
  DataLocation,
  GraphField,
  ModelField,
  NodeField,
  PAYLOAD_FIELDS,
  StringStringField,
  TensorField,
  type AttributeProto,
  type NodeProto,
  type StringStringEntry,
  type TensorHeader,
} from './schema';
import { ByteReader, ByteWriter, StreamReader, WireType, corrupt, utf8, type Field } from './wire';

/** A tensor's values in the model stream: valid until the walk moves on. */
export interface Payload {
  /** The TensorProto field holding them: 9 raw_data, 4 float_data, 5 int32_data, ... (packed form). */
  field: number;
  /** Absolute byte offset of the first value byte in the model file (-1 when re-packed from elements). */
  offset: number;
  length: number;
  /** The values, where they are in memory already (a tensor decoded whole). */
  bytes?: Uint8Array;
  /** All the bytes, in one new array. Call at most once, before the walk moves on. */
  read(): Promise<Uint8Array>;
  /** The bytes as views into the stream's chunks (each valid until the next one). */
  chunks(): AsyncIterable<Uint8Array>;
}

export type WalkEvent =
  | { kind: 'model-field'; field: Field; offset: number }
  | { kind: 'graph-start'; offset: number; length: number }
  | { kind: 'graph-field'; field: Field; offset: number }
  | { kind: 'node'; node: NodeProto; offset: number; length: number }
  | {
      kind: 'initializer';
      /** Complete, except fields stored after the values (doc_string...), added once the walk moves on. */
      tensor: TensorHeader;
      payload: Payload | null;
      offset: number;
      length: number;
    }
  | { kind: 'graph-end'; offset: number };

export interface WalkOptions {
  signal?: AbortSignal;
  /** Initializer messages up to this many bytes are read whole (default 1 MiB). */
  bufferBelow?: number;
}

/** Where an external-data tensor's bytes are, from its external_data entries. */
export interface ExternalRef {
  location: string;
  offset: number;
  /** Undefined when the model leaves it out (then it follows from dims and data type). */
  length: number | undefined;
}

export function externalRef(tensor: TensorHeader): ExternalRef | null {
  if (tensor.dataLocation !== DataLocation.EXTERNAL) return null;
  const get = (key: string) => tensor.externalData.find((e) => e.key === key)?.value;
  const location = get('location');
  const name = tensor.name ?? '(unnamed)';
  if (!location) throw corrupt(`the weight "${name}" is external but names no file`);
  const number = (key: string): number | undefined => {
    const v = get(key);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) {
      throw corrupt(`the weight "${name}" has an invalid external ${key} ("${v}")`);
    }
    return n;
  };
  return { location, offset: number('offset') ?? 0, length: number('length') };
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const error = new GessoError('aborted', 'Cancelled.');
    error.name = 'AbortError';
    throw error;
  }
}

/** Walks a ModelProto from a stream of chunks (chunks are not modified; they may be reused once handed on). */
export async function* walkModel(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: WalkOptions = {},
): AsyncGenerator<WalkEvent> {
  const r = new StreamReader(source, () => throwIfAborted(options.signal));
  const bufferBelow = options.bufferBelow ?? 1 << 20;
  while (!(await r.atEnd())) {
    const at = r.offset;
    const [no, wire] = await r.tag();
    if (no === ModelField.graph && wire === WireType.LEN) {
      const length = await r.varint();
      const start = r.offset;
      yield { kind: 'graph-start', offset: start, length };
      yield* walkGraph(r, start + length, bufferBelow);
      yield { kind: 'graph-end', offset: r.offset };
    } else if (no === ModelField.graph) {
      throw wrongWire('the model', no, at);
    } else {
      yield { kind: 'model-field', field: await streamField(r, no, wire), offset: at };
    }
  }
}

async function streamField(r: StreamReader, no: number, wire: number): Promise<Field> {
  if (wire === WireType.LEN) return { no, wire, value: await r.read(await r.varint()) };
  return { no, wire, value: await r.scalar(wire) };
}

function wrongWire(where: string, no: number, at: number): GessoError {
  return corrupt(`field ${no} of ${where} at byte ${at} has the wrong wire type`);
}

async function* walkGraph(
  r: StreamReader,
  end: number,
  bufferBelow: number,
): AsyncGenerator<WalkEvent> {
  while (r.offset < end) {
    const at = r.offset;
    const [no, wire] = await r.tag();
    if (wire !== WireType.LEN) {
      if (no === GraphField.node || no === GraphField.initializer)
        throw wrongWire('the graph', no, at);
      yield { kind: 'graph-field', field: { no, wire, value: await r.scalar(wire) }, offset: at };
      continue;
    }
    const length = await r.varint();
    const start = r.offset;
    if (start + length > end) {
      throw corrupt(`the field at byte ${at} runs past the end of the graph`);
    }
    if (no === GraphField.node) {
      const node = decodeNode(await r.read(length), start);
      yield { kind: 'node', node, offset: at, length };
    } else if (no === GraphField.initializer) {
      yield* walkTensor(r, at, start, length, bufferBelow);
    } else {
      yield { kind: 'graph-field', field: { no, wire, value: await r.read(length) }, offset: at };
    }
  }
  if (r.offset !== end) throw corrupt(`the graph's last field runs past its end at byte ${end}`);
}

/** A payload over bytes already in memory. */
function memoryPayload(field: number, bytes: Uint8Array, offset: number): Payload {
  return {
    field,
    offset,
    length: bytes.length,
    bytes,
    read: async () => bytes,
    chunks: async function* () {
      yield bytes;
    },
  };
}

async function* walkTensor(
  r: StreamReader,
  at: number,
  start: number,
  length: number,
  bufferBelow: number,
): AsyncGenerator<WalkEvent> {
  const end = start + length;
  if (length <= bufferBelow) {
    const { header, payload } = decodeTensor(await r.read(length), start);
    yield { kind: 'initializer', tensor: header, payload, offset: at, length };
    return;
  }
  // A large tensor: parse its header fields from the stream; the values are
  // handed out as a lazy range when the name and type are known before them.
  const header = emptyHeader();
  let payload: Payload | null = null;
  let elements: { field: number; w: ByteWriter } | null = null;
  let yielded = false;
  while (r.offset < end) {
    const fieldAt = r.offset;
    const [no, wire] = await r.tag();
    if (PAYLOAD_FIELDS.has(no) && wire === WireType.LEN) {
      const n = await r.varint();
      const valueAt = r.offset;
      if (valueAt + n > end) throw corrupt(`the tensor at byte ${at} is shorter than its values`);
      if (payload || elements) throw twice(header, at);
      if (header.name === undefined || header.dataType === undefined) {
        payload = memoryPayload(no, await r.read(n), valueAt);
        continue;
      }
      let consumed = 0;
      let started = false;
      payload = {
        field: no,
        offset: valueAt,
        length: n,
        read: async () => {
          if (started) throw new GessoError('internal', 'A tensor payload was read twice.');
          started = true;
          const bytes = await r.read(n);
          consumed = n;
          return bytes;
        },
        chunks: async function* () {
          if (started) throw new GessoError('internal', 'A tensor payload was read twice.');
          started = true;
          for await (const chunk of r.chunks(n)) {
            consumed += chunk.length;
            yield chunk;
          }
        },
      };
      yield { kind: 'initializer', tensor: header, payload, offset: at, length };
      yielded = true;
      if (consumed < n) await r.skip(n - consumed);
    } else if (PAYLOAD_FIELDS.has(no)) {
      // Values written one field per element (legal, unusual): gather them packed.
      if (payload || (elements && elements.field !== no)) throw twice(header, at);
      elements ??= { field: no, w: new ByteWriter() };
      const value = await r.scalar(wire);
      if (wire === WireType.I32) elements.w.fixed32(value as number);
      else if (wire === WireType.I64) elements.w.fixed64(value as bigint);
      else elements.w.varint(value as bigint);
    } else {
      const value = wire === WireType.LEN ? await r.read(await r.varint()) : await r.scalar(wire);
      applyTensorField(header, { no, wire, value }, fieldAt);
    }
  }
  if (r.offset !== end) throw corrupt(`the tensor at byte ${at} runs past its end`);
  if (elements) payload = memoryPayload(elements.field, elements.w.finish(), -1);
  if (!yielded) yield { kind: 'initializer', tensor: header, payload, offset: at, length };
}

function twice(header: TensorHeader, at: number): GessoError {
  return corrupt(
    `the weight "${header.name ?? '(unnamed)'}" at byte ${at} stores its values twice`,
  );
}

export function emptyHeader(): TensorHeader {
  return { dims: [], externalData: [], other: [] };
}

/* ---- Decoding whole messages in memory ---- */

function int64Of(value: bigint, at: number): number {
  const v = BigInt.asIntN(64, value);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw corrupt(`the number at byte ${at} is too large`);
  }
  return Number(v);
}

function expectWire(f: Field, wire: number, where: string, at: number): void {
  if (f.wire !== wire) throw wrongWire(where, f.no, at);
}

function str(f: Field, where: string, at: number): string {
  expectWire(f, WireType.LEN, where, at);
  return utf8(f.value as Uint8Array);
}

function varintNumber(f: Field, where: string, at: number): number {
  expectWire(f, WireType.VARINT, where, at);
  return int64Of(f.value as bigint, at);
}

/** Repeated varints, packed or not, as signed 64-bit BigInts. */
function varints(f: Field, where: string, at: number): bigint[] {
  if (f.wire === WireType.VARINT) return [BigInt.asIntN(64, f.value as bigint)];
  expectWire(f, WireType.LEN, where, at);
  const r = new ByteReader(f.value as Uint8Array, at);
  const out: bigint[] = [];
  while (!r.atEnd()) out.push(BigInt.asIntN(64, r.varint64()));
  return out;
}

function applyTensorField(h: TensorHeader, f: Field, at: number): void {
  const where = `the weight "${h.name ?? '(unnamed)'}"`;
  switch (f.no) {
    case TensorField.dims:
      for (const d of varints(f, where, at)) h.dims.push(int64Of(d, at));
      return;
    case TensorField.dataType:
      h.dataType = varintNumber(f, where, at);
      return;
    case TensorField.name:
      h.name = str(f, where, at);
      return;
    case TensorField.docString:
      h.docString = str(f, where, at);
      return;
    case TensorField.dataLocation:
      h.dataLocation = varintNumber(f, where, at);
      return;
    case TensorField.externalData:
      expectWire(f, WireType.LEN, where, at);
      h.externalData.push(decodeStringString(f.value as Uint8Array, at));
      return;
    default:
      h.other.push(copyField(f));
  }
}

export function decodeStringString(bytes: Uint8Array, base = 0): StringStringEntry {
  const entry: StringStringEntry = { key: '', value: '' };
  for (const f of fieldsOf(bytes, base)) {
    if (f.no === StringStringField.key) entry.key = str(f, 'a key/value entry', base);
    else if (f.no === StringStringField.value) entry.value = str(f, 'a key/value entry', base);
  }
  return entry;
}

function fieldsOf(bytes: Uint8Array, base: number): Field[] {
  const r = new ByteReader(bytes, base);
  const out: Field[] = [];
  while (!r.atEnd()) out.push(r.field());
  return out;
}

/** A whole TensorProto in memory: header and values (unpacked element fields re-packed). */
export function decodeTensor(
  bytes: Uint8Array,
  base = 0,
): { header: TensorHeader; payload: Payload | null } {
  const header = emptyHeader();
  let payload: { field: number; bytes: Uint8Array; offset: number } | null = null;
  let elements: { field: number; w: ByteWriter } | null = null;
  const r = new ByteReader(bytes, base);
  while (!r.atEnd()) {
    const at = r.offset;
    const [no, wire] = r.tag();
    if (PAYLOAD_FIELDS.has(no)) {
      if (wire === WireType.LEN) {
        const value = r.lengthDelimited();
        const valueAt = r.offset - value.length;
        if (payload && no === TensorField.rawData && payload.field === no) {
          payload = { field: no, bytes: value, offset: valueAt }; // protobuf: the last one wins
          continue;
        }
        if (payload || (elements && (elements.field !== no || no === TensorField.rawData))) {
          throw twice(header, at);
        }
        if (no === TensorField.rawData) {
          payload = { field: no, bytes: value, offset: valueAt };
          continue;
        }
        elements ??= { field: no, w: new ByteWriter(value.length) };
        elements.w.raw(value);
      } else {
        if (payload || (elements && elements.field !== no)) throw twice(header, at);
        elements ??= { field: no, w: new ByteWriter() };
        const value = r.value(wire);
        if (wire === WireType.I32) elements.w.fixed32(value as number);
        else if (wire === WireType.I64) elements.w.fixed64(value as bigint);
        else elements.w.varint(value as bigint);
      }
      continue;
    }
    applyTensorField(header, { no, wire, value: r.value(wire) }, at);
  }
  if (elements) {
    const packed = elements.w.finish();
    return { header, payload: memoryPayload(elements.field, packed, -1) };
  }
  return {
    header,
    payload: payload && memoryPayload(payload.field, payload.bytes, payload.offset),
  };
}

export function decodeAttribute(bytes: Uint8Array, base = 0): AttributeProto {
  const a: AttributeProto = { floats: [], ints: [], other: [] };
  const r = new ByteReader(bytes, base);
  while (!r.atEnd()) {
    const at = r.offset;
    const f = r.field();
    const where = `the attribute "${a.name ?? '(unnamed)'}"`;
    switch (f.no) {
      case AttributeField.name:
        a.name = str(f, where, at);
        break;
      case AttributeField.refAttrName:
        a.refAttrName = str(f, where, at);
        break;
      case AttributeField.docString:
        a.docString = str(f, where, at);
        break;
      case AttributeField.type:
        a.type = varintNumber(f, where, at);
        break;
      case AttributeField.f:
        expectWire(f, WireType.I32, where, at);
        a.f = float32Of(f.value as number);
        break;
      case AttributeField.i:
        expectWire(f, WireType.VARINT, where, at);
        a.i = BigInt.asIntN(64, f.value as bigint);
        break;
      case AttributeField.s:
        expectWire(f, WireType.LEN, where, at);
        a.s = (f.value as Uint8Array).slice();
        break;
      case AttributeField.ints:
        a.ints.push(...varints(f, where, at));
        break;
      case AttributeField.floats:
        if (f.wire === WireType.I32) a.floats.push(float32Of(f.value as number));
        else {
          expectWire(f, WireType.LEN, where, at);
          const p = new ByteReader(f.value as Uint8Array, at);
          while (!p.atEnd()) a.floats.push(float32Of(p.fixed32()));
        }
        break;
      default:
        a.other.push(copyField(f));
    }
  }
  return a;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function float32Of(bits: number): number {
  u32[0] = bits;
  return f32[0]!;
}

/** A field whose bytes no longer alias the buffer they were read from. */
function copyField(f: Field): Field {
  return f.value instanceof Uint8Array ? { ...f, value: f.value.slice() } : f;
}

export function decodeNode(bytes: Uint8Array, base = 0): NodeProto {
  const n: NodeProto = { input: [], output: [], attribute: [], other: [] };
  const r = new ByteReader(bytes, base);
  while (!r.atEnd()) {
    const at = r.offset;
    const f = r.field();
    const where = `the node "${n.name ?? n.opType ?? '(unnamed)'}"`;
    switch (f.no) {
      case NodeField.input:
        n.input.push(str(f, where, at));
        break;
      case NodeField.output:
        n.output.push(str(f, where, at));
        break;
      case NodeField.name:
        n.name = str(f, where, at);
        break;
      case NodeField.opType:
        n.opType = str(f, where, at);
        break;
      case NodeField.domain:
        n.domain = str(f, where, at);
        break;
      case NodeField.overload:
        n.overload = str(f, where, at);
        break;
      case NodeField.docString:
        n.docString = str(f, where, at);
        break;
      case NodeField.attribute:
        expectWire(f, WireType.LEN, where, at);
        n.attribute.push(decodeAttribute(f.value as Uint8Array, at));
        break;
      default:
        n.other.push(copyField(f));
    }
  }
  return n;
}

/** OperatorSetIdProto from a model's opset_import field. */
export function decodeOpset(bytes: Uint8Array): { domain: string; version: number } {
  const out = { domain: '', version: 0 };
  for (const f of fieldsOf(bytes, 0)) {
    if (f.no === 1) out.domain = str(f, 'an opset import', 0);
    else if (f.no === 2) out.version = varintNumber(f, 'an opset import', 0);
  }
  return out;
}
