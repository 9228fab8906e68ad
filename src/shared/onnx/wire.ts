/**
 * Protobuf wire format: varints, tags and length-delimited fields, read from
 * a Uint8Array (ByteReader) or from a stream of chunks with a running byte
 * offset (StreamReader), and written to a growable buffer (ByteWriter).
 * Lengths and offsets are Numbers, exact up to 2^53, so files and fields over
 * 2 GB (and 4 GB) work; 64-bit field values that may not fit are BigInts.
 * Every malformed input raises GessoError('pack-corrupt') with a sentence.
 *
 * Over 300 lines because the byte reader, the stream reader and the writer
 * are the three faces of one encoding and are tested together.
 */

import { GessoError } from '../errors';

export const WireType = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;

/** One field as it appeared on the wire: varints and I64 as unsigned 64-bit BigInts, I32 as uint32. */
export interface Field {
  no: number;
  wire: number;
  value: bigint | number | Uint8Array;
}

const REMEDY = 'Remove this model and download it again, or re-export it.';

/** The error every parsing fault raises: the file is not a well-formed ONNX model. */
export function corrupt(problem: string): GessoError {
  return new GessoError('pack-corrupt', `The model file is damaged: ${problem}. ${REMEDY}`);
}

export function truncated(offset: number, needed?: number): GessoError {
  const more = needed === undefined ? '' : ` (${needed} more bytes were expected)`;
  return new GessoError(
    'pack-corrupt',
    `The model file ends too early, at byte ${offset}${more}: it is incomplete. ${REMEDY}`,
  );
}

function badWireType(wire: number, offset: number): GessoError {
  return corrupt(`the field at byte ${offset} has an invalid wire type (${wire})`);
}

/** Synchronous reader over bytes in memory; `base` is the absolute offset of bytes[0], for messages. */
export class ByteReader {
  pos: number;
  readonly end: number;
  constructor(
    readonly bytes: Uint8Array,
    readonly base = 0,
    start = 0,
    end = bytes.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  get offset(): number {
    return this.base + this.pos;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as a Number; throws when it does not fit in 2^53 (lengths, tags, counts). */
  varint(): number {
    const start = this.pos;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw truncated(this.base + this.pos);
      const b = this.bytes[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) {
          throw corrupt(`the number at byte ${this.base + start} is too large`);
        }
        return result;
      }
      mul *= 128;
    }
    throw corrupt(`the number at byte ${this.base + start} is longer than 10 bytes`);
  }

  /** A varint as an unsigned 64-bit BigInt. */
  varint64(): bigint {
    const start = this.pos;
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw truncated(this.base + this.pos);
      const b = this.bytes[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw corrupt(`the number at byte ${this.base + start} is longer than 10 bytes`);
  }

  /** An int64/int32 field value as a Number (negative values included); throws past 2^53. */
  int64(): number {
    const start = this.pos;
    // Short varints are small non-negative numbers: the common case, without BigInt.
    for (let i = start; i < Math.min(this.end, start + 7); i++) {
      if (this.bytes[i]! < 0x80) return this.varint();
    }
    const value = BigInt.asIntN(64, this.varint64());
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw corrupt(`the number at byte ${this.base + start} is too large`);
    }
    return Number(value);
  }

  fixed32(): number {
    if (this.pos + 4 > this.end) throw truncated(this.base + this.end, this.pos + 4 - this.end);
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 2 ** 24;
  }

  fixed64(): bigint {
    const lo = this.fixed32();
    const hi = this.fixed32();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** A length-delimited field's bytes (a view, not a copy). */
  lengthDelimited(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.end) throw truncated(this.base + this.end, this.pos + n - this.end);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** The next tag as [field number, wire type]; validates both. */
  tag(): [number, number] {
    const at = this.base + this.pos;
    const tag = this.varint();
    const wire = tag % 8;
    const no = Math.floor(tag / 8);
    if (wire !== 0 && wire !== 1 && wire !== 2 && wire !== 5) throw badWireType(wire, at);
    if (no === 0) throw corrupt(`the field at byte ${at} has number 0`);
    return [no, wire];
  }

  /** The value after a tag of this wire type, as a generic Field value. */
  value(wire: number): bigint | number | Uint8Array {
    switch (wire) {
      case WireType.VARINT:
        return this.varint64();
      case WireType.I64:
        return this.fixed64();
      case WireType.LEN:
        return this.lengthDelimited();
      case WireType.I32:
        return this.fixed32();
      default:
        throw badWireType(wire, this.offset);
    }
  }

  field(): Field {
    const [no, wire] = this.tag();
    return { no, wire, value: this.value(wire) };
  }
}

/** Every field of a message, in order. */
export function decodeFields(bytes: Uint8Array, base = 0): Field[] {
  const r = new ByteReader(bytes, base);
  const out: Field[] = [];
  while (!r.atEnd()) out.push(r.field());
  return out;
}

/** Bytes of the varint encoding of a non-negative Number. */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Bytes of a tag for this field number. */
export function tagSize(no: number): number {
  return varintSize(no * 8);
}

/** Bytes of a whole length-delimited field whose payload is `length` bytes. */
export function lenFieldSize(no: number, length: number): number {
  return tagSize(no) + varintSize(length) + length;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

export function utf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Growable output buffer for one message. */
export class ByteWriter {
  private buf: Uint8Array;
  private pos = 0;
  private view: DataView;
  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.pos;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** A varint: non-negative Numbers as they are; negative Numbers and BigInts as 64-bit two's complement. */
  varint(v: number | bigint): this {
    if (typeof v === 'number' && v >= 0) {
      this.reserve(8);
      while (v >= 128) {
        this.buf[this.pos++] = (v % 128) | 128;
        v = Math.floor(v / 128);
      }
      this.buf[this.pos++] = v;
      return this;
    }
    let u = BigInt.asUintN(64, BigInt(v));
    this.reserve(10);
    while (u >= 128n) {
      this.buf[this.pos++] = Number(u & 127n) | 128;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
    return this;
  }

  tag(no: number, wire: number): this {
    return this.varint(no * 8 + wire);
  }

  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  fixed32(v: number): this {
    this.reserve(4);
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
    return this;
  }

  float32(v: number): this {
    this.reserve(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
    return this;
  }

  fixed64(v: bigint): this {
    this.reserve(8);
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, v), true);
    this.pos += 8;
    return this;
  }

  /** Field `no` as a varint. */
  varintField(no: number, v: number | bigint): this {
    return this.tag(no, WireType.VARINT).varint(v);
  }

  /** Field `no` as length-delimited bytes. */
  bytesField(no: number, bytes: Uint8Array): this {
    return this.tag(no, WireType.LEN).varint(bytes.length).raw(bytes);
  }

  stringField(no: number, s: string): this {
    return this.bytesField(no, encoder.encode(s));
  }

  /** A generic field exactly as decoded. */
  field(f: Field): this {
    this.tag(f.no, f.wire);
    switch (f.wire) {
      case WireType.VARINT:
        return this.varint(f.value as bigint | number);
      case WireType.I64:
        return this.fixed64(BigInt(f.value as bigint | number));
      case WireType.LEN:
        return this.varint((f.value as Uint8Array).length).raw(f.value as Uint8Array);
      case WireType.I32:
        return this.fixed32(f.value as number);
      default:
        throw new GessoError('internal', `Cannot write a field of wire type ${f.wire}.`);
    }
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export function encodeFields(fields: readonly Field[]): Uint8Array {
  const w = new ByteWriter();
  for (const f of fields) w.field(f);
  return w.finish();
}

/**
 * A source that can jump: after `seek(offset)` its chunks start at that
 * absolute offset. Skipped bytes are then never read (a model's weights,
 * when only its graph is wanted).
 */
export interface Seekable {
  seek(offset: number): void;
}

function isSeekable(source: object): source is Seekable {
  return typeof (source as Partial<Seekable>).seek === 'function';
}

/**
 * Pull reader over a stream of byte chunks. `offset` is the absolute position
 * of the next unread byte. Only the current chunk is held, plus what a caller
 * asks to read whole; `chunks()` hands out views without copying.
 */
export class StreamReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private readonly seekable: Seekable | null;
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private done = false;
  /** Absolute offset of the next unread byte. */
  offset = 0;

  constructor(
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    private readonly check?: () => void,
  ) {
    this.seekable = isSeekable(source) ? source : null;
    this.it =
      Symbol.asyncIterator in source
        ? (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
        : toAsync((source as Iterable<Uint8Array>)[Symbol.iterator]());
  }

  /** Loads the next non-empty chunk; false at the end of the stream. */
  private async more(): Promise<boolean> {
    this.check?.();
    while (!this.done) {
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        break;
      }
      if (!(r.value instanceof Uint8Array)) {
        throw new GessoError('internal', 'A model stream gave something other than bytes.');
      }
      if (r.value.length > 0) {
        this.buf = r.value;
        this.pos = 0;
        return true;
      }
    }
    return false;
  }

  async atEnd(): Promise<boolean> {
    if (this.pos < this.buf.length) return false;
    return !(await this.more());
  }

  private async byte(): Promise<number> {
    if (this.pos >= this.buf.length && !(await this.more())) throw truncated(this.offset);
    this.offset++;
    return this.buf[this.pos++]!;
  }

  /** A varint as a Number (lengths, tags); throws past 2^53. */
  async varint(): Promise<number> {
    if (this.buf.length - this.pos >= 10) {
      const r = new ByteReader(this.buf, this.offset - this.pos, this.pos);
      const v = r.varint();
      this.offset += r.pos - this.pos;
      this.pos = r.pos;
      return v;
    }
    const start = this.offset;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = await this.byte();
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER)
          throw corrupt(`the number at byte ${start} is too large`);
        return result;
      }
      mul *= 128;
    }
    throw corrupt(`the number at byte ${start} is longer than 10 bytes`);
  }

  /** The next tag as [field number, wire type]; validates the wire type. */
  async tag(): Promise<[number, number]> {
    const at = this.offset;
    const tag = await this.varint();
    const wire = tag % 8;
    const no = Math.floor(tag / 8);
    if (wire !== 0 && wire !== 1 && wire !== 2 && wire !== 5) throw badWireType(wire, at);
    if (no === 0) throw corrupt(`the field at byte ${at} has number 0`);
    return [no, wire];
  }

  /** Exactly n bytes, copied into one new array (the source may reuse its chunks). */
  async read(n: number): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (this.pos >= this.buf.length && !(await this.more())) {
        throw truncated(this.offset, n - filled);
      }
      const take = Math.min(n - filled, this.buf.length - this.pos);
      out.set(this.buf.subarray(this.pos, this.pos + take), filled);
      this.pos += take;
      this.offset += take;
      filled += take;
    }
    return out;
  }

  /** The next n bytes as views into the source's chunks (valid until the next read). */
  async *chunks(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (this.pos >= this.buf.length && !(await this.more())) throw truncated(this.offset, left);
      const take = Math.min(left, this.buf.length - this.pos);
      const view = this.buf.subarray(this.pos, this.pos + take);
      this.pos += take;
      this.offset += take;
      left -= take;
      yield view;
    }
  }

  async skip(n: number): Promise<void> {
    if (this.seekable && n > this.buf.length - this.pos) {
      this.offset += n;
      this.buf = new Uint8Array(0);
      this.pos = 0;
      this.seekable.seek(this.offset);
      return;
    }
    let left = n;
    while (left > 0) {
      if (this.pos >= this.buf.length && !(await this.more())) throw truncated(this.offset, left);
      const take = Math.min(left, this.buf.length - this.pos);
      this.pos += take;
      this.offset += take;
      left -= take;
    }
  }

  /** The value after a tag of a non-LEN wire type, as a generic Field value. */
  async scalar(wire: number): Promise<bigint | number> {
    const width = wire === WireType.I64 ? 8 : wire === WireType.I32 ? 4 : 10;
    if (wire === WireType.VARINT) {
      const bytes: number[] = [];
      for (;;) {
        const b = await this.byte();
        bytes.push(b);
        if (b < 0x80) break;
        if (bytes.length >= width) throw corrupt(`the number at byte ${this.offset} is too long`);
      }
      return new ByteReader(Uint8Array.from(bytes)).varint64();
    }
    const r = new ByteReader(await this.read(width), this.offset - width);
    return wire === WireType.I64 ? r.fixed64() : r.fixed32();
  }
}

async function* toAsync(it: Iterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (let r = it.next(); !r.done; r = it.next()) yield r.value;
}
