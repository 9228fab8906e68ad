/**
 * What one chunk record holds. Chunks are written as Blobs: the browser
 * keeps a stored Blob in a file of its own and hands back a handle, so the
 * engine worker can read any part of a model straight from disk
 * (disk-bytes.ts) instead of loading whole files into memory. Stores written
 * before that hold the bytes themselves; both are read.
 */

export type StoredChunk = Blob | Uint8Array;

/** The record to write for `bytes`: a Blob wherever the runtime has them. */
export function toStoredChunk(bytes: Uint8Array): StoredChunk {
  return typeof Blob === 'function' ? new Blob([bytes as Uint8Array<ArrayBuffer>]) : bytes;
}

/** The chunk's bytes in memory. */
export async function storedChunkBytes(chunk: StoredChunk): Promise<Uint8Array> {
  return chunk instanceof Uint8Array ? chunk : new Uint8Array(await chunk.arrayBuffer());
}

/** Whether a record is a chunk (anything else is damage, or a value some other code wrote). */
export function isStoredChunk(value: unknown): value is StoredChunk {
  return value instanceof Uint8Array || (typeof Blob === 'function' && value instanceof Blob);
}
