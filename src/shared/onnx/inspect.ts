/**
 * What a model file says about its memory before it is loaded: the largest
 * weight (the biggest buffer a GPU must bind for it) and the total weight
 * bytes, read by walking the file's initializer headers without reading
 * their values.
 */

import { rawByteLength } from './schema';
import { walkModel } from './walk';

export interface WeightSummary {
  largestName: string | null;
  largestBytes: number;
  totalBytes: number;
  count: number;
}

export async function summariseWeights(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  signal?: AbortSignal,
): Promise<WeightSummary> {
  const summary: WeightSummary = { largestName: null, largestBytes: 0, totalBytes: 0, count: 0 };
  for await (const event of walkModel(source, signal ? { signal } : {})) {
    if (event.kind !== 'initializer') continue;
    const { tensor } = event;
    const count = tensor.dims.reduce((a, b) => a * b, 1);
    const bytes = rawByteLength(tensor.dataType ?? 0, count) ?? event.payload?.length ?? 0;
    summary.count++;
    summary.totalBytes += bytes;
    if (bytes > summary.largestBytes) {
      summary.largestBytes = bytes;
      summary.largestName = tensor.name ?? null;
    }
  }
  return summary;
}
