/**
 * A model file with its self-attention sliced into row blocks
 * (slice-attention.ts), everything else passed through: weights,
 * external-data references, opsets, metadata. WebGPU loads use it where the
 * whole score tensor would not fit the adapter's largest storage binding
 * (Android binds at most 128 MiB; a 512x512 SD 1.5 UNet's is 256 MiB in float16).
 */

import { parseModel } from './attention-outputs';
import { elementCount } from './schema';
import { sliceAttention } from './slice-attention';
import { modelSize, writeModel } from './write';

export interface SlicedModel {
  model: Uint8Array;
  /** Self-attentions now run in blocks (0: the model is returned as it was). */
  sliced: number;
}

export async function withSlicedAttention(model: Uint8Array, blocks: number): Promise<SlicedModel> {
  if (blocks <= 1) return { model, sliced: 0 };
  const { parts, graph } = await parseModel(model);
  const result = sliceAttention(
    graph.nodes,
    {
      initializerSizes: new Map(
        parts.graph.initializers.map((t) => [t.header.name ?? '', elementCount(t.header.dims)]),
      ),
      outputs: new Set(graph.outputs),
    },
    blocks,
  );
  if (result.sliced === 0) return { model, sliced: 0 };
  parts.graph.nodes = result.nodes;
  parts.graph.initializers.push(...result.tensors);
  const out = new Uint8Array(modelSize(parts));
  let at = 0;
  for await (const chunk of writeModel(parts)) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return { model: out, sliced: result.sliced };
}
