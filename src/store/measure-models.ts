/**
 * Measures a stored variant's models (measured-needs.ts): streams each
 * model file from IndexedDB through the ONNX walker, one chunk at a time.
 * Weights in external data are sized from the graph's headers, so only
 * `model.onnx` is read.
 */

import { componentDimensions } from '../shared/free-dimensions';
import { measureOf, type ModelMeasure } from '../shared/measured-needs';
import { summariseModel, type ModelSummary } from '../shared/onnx/inspect';
import { packAttentionBlocks } from '../shared/onnx/slice-attention';
import type { ComponentName, PackManifest, PackVariant } from '../shared/pack-manifest';
import type { KV } from './kv';
import type { FileRecord } from './records';
import { streamFile } from './stream-file';

/**
 * One measure per model file of `variant` (a file two components share is
 * measured for the first). `known`: summaries made while the files
 * downloaded; a file without one (or whose one failed) is read back. A model the walker cannot read is left out: the
 * fit check then keeps the declared figures, and loading it says what is wrong.
 */
export async function measureModels(
  kv: KV,
  getFile: (path: string) => Promise<FileRecord | undefined>,
  manifest: Pick<PackManifest, 'image' | 'latent' | 'tokenizer'>,
  variant: PackVariant,
  signal?: AbortSignal,
  known: ReadonlyMap<string, Promise<ModelSummary>> = new Map(),
): Promise<ModelMeasure[]> {
  const measures: ModelMeasure[] = [];
  const seen = new Set<string>();
  for (const [component, path] of Object.entries(variant.components) as [ComponentName, string][]) {
    if (seen.has(path)) continue;
    seen.add(path);
    const file = await getFile(path);
    if (!file) continue;
    try {
      const dims = componentDimensions(manifest, component);
      const summary = await (known.get(path) ?? Promise.reject()).catch(() =>
        summariseModel(streamFile(kv, file, signal), dims, signal, packAttentionBlocks(manifest)),
      );
      measures.push(measureOf(component, summary));
    } catch (error) {
      if (signal?.aborted) throw error;
    }
  }
  return measures;
}
