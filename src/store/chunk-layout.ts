/**
 * How a file is laid out in IndexedDB: fixed-size chunks, one record each,
 * the last one short. Pure arithmetic shared by the store and the downloader.
 */

/** A few MB per IndexedDB record: big enough to be cheap, small enough to lose little on a cut. */
export const DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;

export function chunkCount(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize);
}

/** Byte range [start, end) of chunk `index` in a file of `size` bytes. */
export function chunkBounds(
  index: number,
  size: number,
  chunkSize: number,
): { start: number; end: number } {
  const start = index * chunkSize;
  return { start, end: Math.min(start + chunkSize, size) };
}
