/**
 * Reading a stored file without holding it whole: its chunks in order, or
 * any byte range, one IndexedDB record at a time. Files are laid out in
 * fixed-size chunks (chunk-layout.ts), so the chunk holding any byte is
 * known without reading the others.
 */

import { GessoError } from '../shared/errors';
import { chunkBounds, chunkCount } from './chunk-layout';
import type { KV } from './kv';
import type { FileRecord } from './records';
import { isStoredChunk, storedChunkBytes } from './stored-chunk';

/** A stored file's damage, in the sentence that tells the user what to do. */
export function damaged(path: string, why: string): GessoError {
  return new GessoError(
    'pack-corrupt',
    `The stored file ${path} is damaged (${why}). Delete the pack in Models and download it again.`,
  );
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new GessoError('aborted', 'Cancelled.');
}

/** The size of a complete stored file; 'pack-corrupt' when it was never completely written. */
export function completeSize(file: FileRecord): number {
  const size = file.size ?? file.bytesDone;
  if (!file.done || file.bytesDone !== size)
    throw damaged(file.path, 'it was never completely downloaded');
  return size;
}

/** Chunk `index` of `file`, checked to have exactly the bytes the layout says. */
async function readChunk(
  kv: KV,
  file: FileRecord,
  size: number,
  index: number,
): Promise<Uint8Array> {
  const count = chunkCount(size, file.chunkSize);
  const stored = await kv.get('chunks', [file.slot, file.path, index]);
  if (!isStoredChunk(stored)) throw damaged(file.path, `part ${index + 1} of ${count} is missing`);
  const chunk = await storedChunkBytes(stored);
  const { start, end } = chunkBounds(index, size, file.chunkSize);
  if (chunk.byteLength !== end - start)
    throw damaged(file.path, `part ${index + 1} of ${count} has the wrong size`);
  return chunk;
}

/**
 * The file's bytes in order, one stored chunk at a time, the next one read
 * while the caller works on this one (IndexedDB's latency overlaps the work).
 */
export async function* streamFile(
  kv: KV,
  file: FileRecord,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const size = completeSize(file);
  const count = chunkCount(size, file.chunkSize);
  let next = count > 0 ? readChunk(kv, file, size, 0) : null;
  for (let index = 0; index < count; index++) {
    throwIfAborted(signal);
    const chunk = await next!;
    next = index + 1 < count ? readChunk(kv, file, size, index + 1) : null;
    // A read started ahead and never awaited (the caller stopped) must not be an unhandled rejection.
    next?.catch(() => {});
    yield chunk;
  }
}

/**
 * Byte ranges of one stored file. Keeps the last chunk it read and reads
 * the next one ahead, so ranges read in order (a model's tensors) read each
 * chunk once, while the caller works.
 */
export class RangeReader {
  readonly size: number;
  private cached: { index: number; bytes: Promise<Uint8Array> } | null = null;
  private ahead: { index: number; bytes: Promise<Uint8Array> } | null = null;

  constructor(
    private readonly kv: KV,
    private readonly file: FileRecord,
  ) {
    this.size = completeSize(file);
  }

  /** `length` bytes from `offset`; 'pack-corrupt' when the range runs past the end of the file. */
  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size)
      throw damaged(
        this.file.path,
        `a model asks for bytes ${offset} to ${offset + length} of its ${this.size}`,
      );
    const out = new Uint8Array(length);
    const chunkSize = this.file.chunkSize;
    let at = 0;
    while (at < length) {
      throwIfAborted(signal);
      const position = offset + at;
      const index = Math.floor(position / chunkSize);
      const chunk = await this.chunk(index);
      const from = position - index * chunkSize;
      const take = Math.min(chunk.byteLength - from, length - at);
      out.set(chunk.subarray(from, from + take), at);
      at += take;
    }
    return out;
  }

  /** Chunk `index`; the one after it is read ahead (tensors are read in file order). */
  private chunk(index: number): Promise<Uint8Array> {
    if (this.cached?.index !== index) {
      const bytes =
        this.ahead?.index === index
          ? this.ahead.bytes
          : readChunk(this.kv, this.file, this.size, index);
      this.cached = { index, bytes };
      const last = chunkCount(this.size, this.file.chunkSize) - 1;
      this.ahead =
        index < last
          ? { index: index + 1, bytes: readChunk(this.kv, this.file, this.size, index + 1) }
          : null;
      this.ahead?.bytes.catch(() => {});
    }
    return this.cached.bytes;
  }
}
