/**
 * A stored file as bytes that stay on disk until asked for. onnxruntime-web
 * reads a model's external data through exactly two members of the
 * Uint8Array it is given: `byteLength`, and `subarray(start, end)` for each
 * weight, whose result it copies into its heap or uploads to the GPU
 * (tests/browser/engine/disk-bytes.test.ts checks that it still does). A
 * Uint8Array whose subarray reads that range from the chunks' Blobs with
 * FileReaderSync therefore loads a model without the whole file ever being
 * in memory: an 828 MiB UNet's weights arrive one tensor at a time.
 *
 * FileReaderSync exists only in dedicated workers (where the engine runs);
 * elsewhere, and for chunks stored before chunks were Blobs, there is no
 * such view and the caller reads the file whole.
 */

import { chunkBounds, chunkCount } from './chunk-layout';
import type { KV } from './kv';
import type { FileRecord } from './records';
import { completeSize, damaged } from './stream-file';

interface SyncBlobReader {
  readAsArrayBuffer(blob: Blob): ArrayBuffer;
}

function syncReader(): SyncBlobReader | null {
  const Reader = (globalThis as { FileReaderSync?: new () => SyncBlobReader }).FileReaderSync;
  return Reader ? new Reader() : null;
}

export class DiskBytes extends Uint8Array {
  readonly #file: Blob;
  readonly #reader: SyncBlobReader;
  #read = 0;
  /** The last range handed out. */
  #handedOut: ArrayBuffer | null = null;

  constructor(chunks: readonly Blob[], reader: SyncBlobReader) {
    super(0);
    this.#file = new Blob(chunks as Blob[]);
    this.#reader = reader;
  }

  override get byteLength(): number {
    return this.#file.size;
  }
  override get length(): number {
    return this.#file.size;
  }
  /** Bytes handed out so far (the loader's evidence that onnxruntime read its weights through the view). */
  get bytesRead(): number {
    return this.#read;
  }

  /**
   * Bytes [start, end), read from disk now. Valid until the next call:
   * onnxruntime copies each range before it asks for the next, and the
   * range before is freed then (a synchronous session build gives the
   * garbage collector no turn, so without this the weights read stayed in
   * memory until the load ended). Each range is read on its own: onnxruntime
   * does not ask in file order, and serving small weights from a cached
   * chunk re-read a 4 MiB chunk for most of them (measured: the load's peak
   * rose from +1.14 GiB to +1.8-2.5 GiB, and it took a third longer).
   */
  override subarray(start = 0, end = this.#file.size): Uint8Array<ArrayBuffer> {
    this.release();
    const size = this.#file.size;
    const from = Math.max(0, Math.min(size, start < 0 ? size + start : start));
    const to = Math.max(from, Math.min(size, end < 0 ? size + end : end));
    this.#read += to - from;
    const bytes = this.#readBlob(this.#file.slice(from, to));
    this.#handedOut = bytes.buffer;
    return bytes;
  }

  /** Frees the last range handed out: call once the session is made. */
  release(): void {
    detach(this.#handedOut);
    this.#handedOut = null;
  }

  #readBlob(blob: Blob): Uint8Array<ArrayBuffer> {
    return new Uint8Array(this.#reader.readAsArrayBuffer(blob));
  }
}

/** Frees an ArrayBuffer's memory now rather than at a garbage collection. */
function detach(buffer: ArrayBuffer | null): void {
  (buffer as (ArrayBuffer & { transfer?: (length: number) => ArrayBuffer }) | null)?.transfer?.(0);
}

/**
 * `file` as DiskBytes, or null where that cannot be had (no FileReaderSync
 * here, or a chunk holds bytes rather than a Blob). 'pack-corrupt' when a
 * chunk is missing or the wrong size.
 */
export async function openDiskBytes(kv: KV, file: FileRecord): Promise<DiskBytes | null> {
  const reader = syncReader();
  if (!reader || typeof Blob !== 'function') return null;
  const size = completeSize(file);
  const count = chunkCount(size, file.chunkSize);
  // One request for every chunk's handle, once the first shows they are handles (not bytes).
  if (count > 0 && (await kv.get('chunks', [file.slot, file.path, 0])) instanceof Uint8Array)
    return null;
  const chunks = await kv.list('chunks', [file.slot, file.path]);
  if (chunks.length !== count)
    throw damaged(file.path, `it has ${chunks.length} parts, not ${count}`);
  const parts: Blob[] = [];
  for (let index = 0; index < count; index++) {
    const chunk = chunks[index];
    if (chunk instanceof Uint8Array) return null;
    const { start, end } = chunkBounds(index, size, file.chunkSize);
    if (!(chunk instanceof Blob) || chunk.size !== end - start)
      throw damaged(file.path, `part ${index + 1} of ${count} is the wrong size`);
    parts.push(chunk);
  }
  return new DiskBytes(parts, reader);
}
