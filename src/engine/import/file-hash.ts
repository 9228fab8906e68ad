/**
 * A model file's SHA-256, for the recipe's "Model hash". The import reads
 * tensors in the template's order, not the file's, and skips unused keys, so
 * the hash is its own pass over the file in order, slice by slice (never the
 * whole file in memory), run beside the import.
 */

import { createSHA256 } from 'hash-wasm';
import { GessoError } from '../../shared/errors';

const SLICE = 8 << 20;

export async function sha256OfBlob(blob: Blob, signal?: AbortSignal): Promise<string> {
  const hasher = await createSHA256();
  hasher.init();
  for (let at = 0; at < blob.size; at += SLICE) {
    if (signal?.aborted) throw new GessoError('aborted', 'Cancelled.');
    hasher.update(new Uint8Array(await blob.slice(at, at + SLICE).arrayBuffer()));
  }
  return hasher.digest('hex');
}
