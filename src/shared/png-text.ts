/**
 * PNG text chunks (tEXt, zTXt, iTXt): read them, write them, insert them into
 * an existing PNG. Pure byte work, so it runs in Node, a worker and the page.
 * Spec: PNG (Third Edition) sections 11.3.3 (text chunks) and 5.5 (CRC).
 *
 * Over 300 lines because reading, writing and inserting chunks share the
 * chunk layout, CRC and the three text chunk encodings.
 */

import { concatBytes } from './concat-bytes';
import { GessoError } from './errors';

export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

export interface PngChunk {
  type: string;
  /** The chunk's data (a view into the file). */
  data: Uint8Array;
  /** Offset of the chunk's length field in the file. */
  offset: number;
}

export interface PngTextEntry {
  keyword: string;
  text: string;
  /** Which chunk carried (or should carry) it. */
  kind: 'tEXt' | 'zTXt' | 'iTXt';
  compressed?: boolean;
  languageTag?: string;
  translatedKeyword?: string;
}

// ---------------------------------------------------------------- CRC-32

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309 / ITU-T V.42, as PNG and zlib use), optionally continuing `crc`. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

// ---------------------------------------------------------------- reading chunks

function invalid(message: string): GessoError {
  return new GessoError('invalid-image', message);
}

function readUint32(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0
  );
}

function writeUint32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
}

function chunkType(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

export function hasPngSignature(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/**
 * Every chunk of a PNG, checked: signature, IHDR first, each chunk complete
 * with a matching CRC, IEND last. Throws GessoError('invalid-image') otherwise.
 */
export function readPngChunks(bytes: Uint8Array): PngChunk[] {
  if (!hasPngSignature(bytes))
    throw invalid('This file is not a PNG image (its signature is wrong).');
  const chunks: PngChunk[] = [];
  let at = 8;
  while (at < bytes.length) {
    if (at + 8 > bytes.length)
      throw invalid(`This PNG is truncated: a chunk header at byte ${at} is cut off.`);
    const length = readUint32(bytes, at);
    const type = chunkType(bytes, at + 4);
    if (!/^[A-Za-z]{4}$/.test(type))
      throw invalid(`This PNG is damaged: bad chunk type at byte ${at}.`);
    const end = at + 12 + length;
    if (length > 0x7fffffff || end > bytes.length)
      throw invalid(`This PNG is truncated: its ${type} chunk at byte ${at} is cut off.`);
    const stored = readUint32(bytes, at + 8 + length);
    const actual = crc32(bytes.subarray(at + 4, at + 8 + length));
    if (stored !== actual)
      throw invalid(
        `This PNG is damaged: the CRC of its ${type} chunk at byte ${at} does not match (stored ${hex(stored)}, computed ${hex(actual)}).`,
      );
    if (chunks.length === 0 && type !== 'IHDR')
      throw invalid(`This PNG is damaged: its first chunk is ${type}, not IHDR.`);
    chunks.push({ type, data: bytes.subarray(at + 8, at + 8 + length), offset: at });
    at = end;
    if (type === 'IEND') break;
  }
  if (chunks.length === 0) throw invalid('This PNG is damaged: it has no IHDR chunk.');
  if (chunks[chunks.length - 1]!.type !== 'IEND')
    throw invalid('This PNG is truncated: it ends before its IEND chunk.');
  return chunks;
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

/** Width and height from the IHDR chunk. */
export function readPngSize(bytes: Uint8Array): { width: number; height: number } {
  const ihdr = readPngChunks(bytes)[0]!;
  if (ihdr.data.length !== 13)
    throw invalid('This PNG is damaged: its IHDR chunk has the wrong length.');
  return { width: readUint32(ihdr.data, 0), height: readUint32(ihdr.data, 4) };
}

// ---------------------------------------------------------------- text encodings

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

function decodeLatin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192)
    out += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 8192)));
  return out;
}

/** True when every character fits in one Latin-1 byte (what tEXt can carry). */
export function isLatin1(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return false;
  return true;
}

function encodeLatin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function checkKeyword(keyword: string): void {
  const printable = [...keyword].every((c) => {
    const code = c.charCodeAt(0);
    return (code >= 0x20 && code <= 0x7e) || (code >= 0xa1 && code <= 0xff);
  });
  if (keyword.length < 1 || keyword.length > 79 || !printable || /^ | $| {2}/.test(keyword))
    throw new GessoError(
      'internal',
      `"${keyword}" cannot be a PNG text keyword (1 to 79 printable Latin-1 characters, no leading, trailing or double spaces).`,
    );
}

// ---------------------------------------------------------------- decompression

async function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// ---------------------------------------------------------------- decoding text chunks

function nul(data: Uint8Array, from: number, type: string): number {
  const at = data.indexOf(0, from);
  if (at < 0) throw invalid(`This PNG is damaged: a ${type} chunk is missing a separator.`);
  return at;
}

/** Decodes one tEXt, zTXt or iTXt chunk's data. */
export async function decodeTextChunk(type: string, data: Uint8Array): Promise<PngTextEntry> {
  const keywordEnd = nul(data, 0, type);
  const keyword = decodeLatin1(data.subarray(0, keywordEnd));
  if (type === 'tEXt')
    return { keyword, text: decodeLatin1(data.subarray(keywordEnd + 1)), kind: 'tEXt' };
  if (type === 'zTXt') {
    if (data[keywordEnd + 1] !== 0)
      throw invalid('This PNG uses an unknown zTXt compression method.');
    const text = decodeLatin1(await inflateOrThrow(data.subarray(keywordEnd + 2), type));
    return { keyword, text, kind: 'zTXt', compressed: true };
  }
  if (type !== 'iTXt') throw new GessoError('internal', `${type} is not a text chunk.`);
  const compressed = data[keywordEnd + 1] === 1;
  if (compressed && data[keywordEnd + 2] !== 0)
    throw invalid('This PNG uses an unknown iTXt compression method.');
  const languageEnd = nul(data, keywordEnd + 3, type);
  const translatedEnd = nul(data, languageEnd + 1, type);
  const languageTag = decodeLatin1(data.subarray(keywordEnd + 3, languageEnd));
  const raw = data.subarray(translatedEnd + 1);
  try {
    const translatedKeyword = utf8Decoder.decode(data.subarray(languageEnd + 1, translatedEnd));
    const text = utf8Decoder.decode(compressed ? await inflateOrThrow(raw, type) : raw);
    return { keyword, text, kind: 'iTXt', compressed, languageTag, translatedKeyword };
  } catch (error) {
    if (error instanceof GessoError) throw error;
    throw invalid(`This PNG is damaged: its iTXt chunk "${keyword}" is not valid UTF-8.`);
  }
}

async function inflateOrThrow(bytes: Uint8Array, type: string): Promise<Uint8Array> {
  try {
    return await inflate(bytes);
  } catch (cause) {
    throw new GessoError(
      'invalid-image',
      `This PNG is damaged: a ${type} chunk does not decompress.`,
      {
        cause,
      },
    );
  }
}

const TEXT_TYPES = new Set(['tEXt', 'zTXt', 'iTXt']);

/** Every text chunk of a PNG in file order. Throws GessoError('invalid-image') on a bad file. */
export async function readPngText(bytes: Uint8Array): Promise<PngTextEntry[]> {
  const entries: PngTextEntry[] = [];
  for (const chunk of readPngChunks(bytes))
    if (TEXT_TYPES.has(chunk.type)) entries.push(await decodeTextChunk(chunk.type, chunk.data));
  return entries;
}

// ---------------------------------------------------------------- writing

/** A complete chunk (length, type, data, CRC). */
export function encodeChunk(type: string, data: Uint8Array): Uint8Array {
  if (!/^[A-Za-z]{4}$/.test(type))
    throw new GessoError('internal', `"${type}" is not a PNG chunk type.`);
  const out = new Uint8Array(12 + data.length);
  writeUint32(out, 0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  writeUint32(out, 8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

export interface TextChunkOptions {
  /**
   * 'auto' (the default) writes tEXt when the text is Latin-1 without NUL
   * characters and iTXt (UTF-8) otherwise, as Pillow and A1111 do.
   */
  kind?: 'auto' | 'tEXt' | 'iTXt';
  /** Compress an iTXt chunk with zlib (CompressionStream). */
  compress?: boolean;
}

/** Encodes one text chunk (tEXt, or iTXt when the text needs UTF-8 or compression). */
export async function encodeTextChunk(
  keyword: string,
  text: string,
  options: TextChunkOptions = {},
): Promise<Uint8Array> {
  checkKeyword(keyword);
  const fitsLatin1 = isLatin1(text) && !text.includes('\0');
  const kind = options.compress ? 'iTXt' : (options.kind ?? 'auto');
  if (kind === 'tEXt' && !fitsLatin1)
    throw new GessoError(
      'internal',
      `The "${keyword}" text needs an iTXt chunk: it is not Latin-1.`,
    );
  if (kind === 'tEXt' || (kind === 'auto' && fitsLatin1)) {
    const key = encodeLatin1(keyword);
    const body = encodeLatin1(text);
    const data = new Uint8Array(key.length + 1 + body.length);
    data.set(key, 0);
    data.set(body, key.length + 1);
    return encodeChunk('tEXt', data);
  }
  const key = encodeLatin1(keyword);
  const utf8 = utf8Encoder.encode(text);
  const body = options.compress ? await deflate(utf8) : utf8;
  // keyword NUL, compression flag, method, empty language tag NUL, empty translated keyword NUL
  const data = new Uint8Array(key.length + 5 + body.length);
  data.set(key, 0);
  data[key.length + 1] = options.compress ? 1 : 0;
  data.set(body, key.length + 5);
  return encodeChunk('iTXt', data);
}

function keywordOf(chunk: PngChunk): string | null {
  if (!TEXT_TYPES.has(chunk.type)) return null;
  const end = chunk.data.indexOf(0);
  return end < 0 ? null : decodeLatin1(chunk.data.subarray(0, end));
}

/**
 * A copy of `png` with the given text chunks inserted before its first IDAT
 * (so readers that stop at the image data still see them). Existing text
 * chunks with the same keywords are removed, so writing twice replaces.
 */
export async function setPngText(
  png: Uint8Array,
  entries: { keyword: string; text: string; options?: TextChunkOptions }[],
): Promise<Uint8Array> {
  const chunks = readPngChunks(png);
  const encoded = await Promise.all(
    entries.map((e) => encodeTextChunk(e.keyword, e.text, e.options)),
  );
  const replaced = new Set(entries.map((e) => e.keyword));
  const insertAt = chunks.findIndex((c) => c.type === 'IDAT' || c.type === 'IEND');
  const parts: Uint8Array[] = [png.subarray(0, 8)];
  chunks.forEach((chunk, index) => {
    if (index === insertAt) parts.push(...encoded);
    const keyword = keywordOf(chunk);
    if (keyword !== null && replaced.has(keyword)) return;
    parts.push(png.subarray(chunk.offset, chunk.offset + 12 + chunk.data.length));
  });
  return concatBytes(parts);
}
