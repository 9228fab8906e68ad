/**
 * Reading a .safetensors file without holding it: the 8-byte little-endian
 * header length and the JSON header come from Blob.slice, and each tensor's
 * bytes are sliced when they are needed. Every way the header can be wrong
 * gets a sentence; nothing here reads more than the header.
 */

import { GessoError } from '../../shared/errors';
import { float16ToFloat32 } from '../../shared/onnx/quantize';
import { halvesOf, halvesToFloats } from './kernels';

export type SafetensorsDtype =
  'F16' | 'F32' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F16: 2,
  F32: 4,
  BF16: 2,
  F64: 8,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** The reference library's limit on the JSON header. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsEntry {
  key: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute byte range in the file, [begin, end). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** The file's name, as picked. */
  name: string;
  size: number;
  /** Where the tensor data starts (8 + header length). */
  dataStart: number;
  entries: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

/** Something the user picked is not a safetensors file Gesso can read: a sentence, no code path. */
export function badFile(name: string, problem: string): GessoError {
  return new GessoError('pack-corrupt', `"${name}" ${problem} Nothing was changed.`);
}

export const CKPT_REFUSAL =
  'Gesso reads .safetensors only; .ckpt files can run code on your device';

async function bytesOf(blob: Blob): Promise<Uint8Array> {
  return new Uint8Array(await blob.arrayBuffer());
}

/** The header of `file`; refuses pickles, empty, truncated and malformed files with a sentence. */
export async function readSafetensorsHeader(file: Blob, name: string): Promise<SafetensorsHeader> {
  if (/\.(ckpt|pt|pth|bin)$/i.test(name))
    throw new GessoError('pack-corrupt', `${CKPT_REFUSAL}. Pick the model's .safetensors file.`);
  if (file.size === 0) throw badFile(name, 'is empty (0 bytes): pick the model file again.');
  if (file.size < 8)
    throw badFile(name, `is ${file.size} bytes long, too short to be a .safetensors file.`);
  const head = await bytesOf(file.slice(0, 8));
  if (head[0] === 0x80 || (head[0] === 0x50 && head[1] === 0x4b))
    throw new GessoError('pack-corrupt', `${CKPT_REFUSAL}. "${name}" is a pickled checkpoint.`);
  const view = new DataView(head.buffer, head.byteOffset, 8);
  const length = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (length > MAX_HEADER_BYTES)
    throw badFile(
      name,
      `says its header is ${length.toLocaleString('en')} bytes, over the 100 MB any .safetensors file may have: it is damaged or not a .safetensors file.`,
    );
  if (8 + length > file.size)
    throw badFile(
      name,
      `says its header is ${length.toLocaleString('en')} bytes, past the end of the ${file.size.toLocaleString('en')}-byte file: it is truncated or not a .safetensors file.`,
    );
  let json: unknown;
  try {
    json = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(await bytesOf(file.slice(8, 8 + length))),
    );
  } catch {
    throw badFile(
      name,
      'does not start with a readable .safetensors header (JSON): it is damaged or another kind of file.',
    );
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw badFile(name, 'has a header that is not a list of tensors.');
  return parseEntries(json as Record<string, unknown>, name, file.size, 8 + length);
}

function parseEntries(
  json: Record<string, unknown>,
  name: string,
  size: number,
  dataStart: number,
): SafetensorsHeader {
  const metadata: Record<string, string> = {};
  const entries = new Map<string, SafetensorsEntry>();
  for (const [key, value] of Object.entries(json)) {
    if (key === '__metadata__') {
      if (typeof value === 'object' && value !== null)
        for (const [k, v] of Object.entries(value)) if (typeof v === 'string') metadata[k] = v;
      continue;
    }
    const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = v?.dtype as SafetensorsDtype;
    const shape = v?.shape;
    const offsets = v?.data_offsets;
    if (
      !(typeof dtype === 'string' && dtype in DTYPE_BYTES) ||
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isSafeInteger(d) && d >= 0) ||
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((d) => Number.isSafeInteger(d) && d >= 0)
    )
      throw badFile(
        name,
        `describes tensor "${key}" in a way Gesso cannot read (type, shape or offsets).`,
      );
    const [b, e] = offsets as [number, number];
    if (e < b)
      throw badFile(
        name,
        `gives tensor "${key}" offsets out of order (it ends before it begins): it is damaged.`,
      );
    const count = (shape as number[]).reduce((n, d) => n * d, 1);
    if (e - b !== count * DTYPE_BYTES[dtype])
      throw badFile(
        name,
        `gives tensor "${key}" ${e - b} bytes where its shape needs ${count * DTYPE_BYTES[dtype]}.`,
      );
    entries.set(key, {
      key,
      dtype,
      shape: shape as number[],
      begin: dataStart + b,
      end: dataStart + e,
    });
  }
  const sorted = [...entries.values()].sort((x, y) => x.begin - y.begin || x.end - y.end);
  let at = dataStart;
  for (const entry of sorted) {
    if (entry.begin < at)
      throw badFile(name, `has tensors whose bytes overlap ("${entry.key}"): it is damaged.`);
    if (entry.begin > at)
      throw badFile(
        name,
        `has a gap before tensor "${entry.key}": its offsets are out of order or damaged.`,
      );
    at = entry.end;
  }
  if (at > size)
    throw badFile(
      name,
      `is truncated: its tensors need ${at.toLocaleString('en')} bytes but the file has ${size.toLocaleString('en')}. Download it again.`,
    );
  if (at < size)
    throw badFile(
      name,
      `has ${(size - at).toLocaleString('en')} bytes after its last tensor: it is damaged.`,
    );
  return { name, size, dataStart, entries, metadata };
}

/** One tensor's bytes, copied out of the file (offsets need not be aligned). */
export async function readTensorBytes(file: Blob, entry: SafetensorsEntry): Promise<Uint8Array> {
  return bytesOf(file.slice(entry.begin, entry.end));
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** A float tensor's values as float32 (F16, BF16, F32, F64); NaN refused with a sentence. */
export function floatsOf(bytes: Uint8Array, dtype: SafetensorsDtype, what: string): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let out: Float32Array;
  if (dtype === 'F32') {
    out = new Float32Array(bytes.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  } else if (dtype === 'F64') {
    out = new Float32Array(bytes.byteLength / 8);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
  } else if (dtype === 'F16') {
    out = halvesToFloats(halvesOf(bytes));
  } else if (dtype === 'BF16') {
    out = new Float32Array(bytes.byteLength / 2);
    for (let i = 0; i < out.length; i++) {
      u32[0] = view.getUint16(i * 2, true) << 16;
      out[i] = f32[0]!;
    }
  } else {
    throw new GessoError(
      'pack-corrupt',
      `${what} is stored as ${dtype}, not as floating point numbers.`,
    );
  }
  for (let i = 0; i < out.length; i++)
    if (Number.isNaN(out[i]))
      throw new GessoError(
        'pack-corrupt',
        `${what} holds NaN values (not numbers): the model file is damaged, so it was not imported. Nothing was changed.`,
      );
  return out;
}

export function halfToFloat(bits: number): number {
  return float16ToFloat32(bits);
}
