/**
 * What a model file says about its memory before it is loaded: the largest
 * weight, the total weight bytes (read from the initializer headers without
 * reading their values), and the largest activation at a given input size
 * (shapes.ts over the graph). ModelSummaryFeed does the same over chunks
 * pushed in file order as a download stores them.
 */

import { decodeValueInfo } from './graph-info';
import { GraphField, elementCount, rawByteLength } from './schema';
import {
  MAX_VALUES,
  inferShapes,
  largestActivation,
  smallValues,
  type LargestActivation,
  type ShapeGraph,
  type TensorFact,
} from './shapes';
import { sliceAttention } from './slice-attention';
import { walkModel } from './walk';
import { WireType } from './wire';
import type { NodeProto } from './schema';

export interface WeightSummary {
  largestName: string | null;
  largestBytes: number;
  totalBytes: number;
  count: number;
}

export interface ModelSummary {
  weights: WeightSummary;
  activation: LargestActivation;
  /**
   * The largest activation once self-attention runs in `attentionBlocks` row
   * blocks (slice-attention.ts, as WebGPU loads slice where the whole would
   * not bind); absent where nothing was sliced.
   */
  slicedActivation?: LargestActivation;
}

/**
 * Weights and the largest activation of the model streamed from `source`,
 * with the graph's symbolic input dims set from `dimValues`; with
 * `attentionBlocks` over 1, also the largest activation of the same graph
 * with its self-attention sliced.
 */
export async function summariseModel(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  dimValues: Readonly<Record<string, number>>,
  signal?: AbortSignal,
  attentionBlocks = 1,
): Promise<ModelSummary> {
  const weights: WeightSummary = { largestName: null, largestBytes: 0, totalBytes: 0, count: 0 };
  const graph = await readShapeGraph(source, signal, (name, bytes) => {
    weights.count++;
    weights.totalBytes += bytes;
    if (bytes > weights.largestBytes) {
      weights.largestBytes = bytes;
      weights.largestName = name;
    }
  });
  const activation = largestActivation(graph, inferShapes(graph, dimValues));
  const sliced = slicedGraph(graph, attentionBlocks);
  if (!sliced) return { weights, activation };
  const slicedActivation = largestActivation(sliced, inferShapes(sliced, dimValues));
  return { weights, activation, slicedActivation };
}

/** `graph` with its self-attention in row blocks, or null where none was found. */
function slicedGraph(graph: ShapeGraph, blocks: number): ShapeGraph | null {
  const sizes = new Map(
    [...graph.initializers].map(([name, fact]) => [name, elementCount(fact.dims ?? [])]),
  );
  // Graph outputs are never attention internals in the exports Gesso measures.
  const result = sliceAttention(
    graph.nodes,
    { initializerSizes: sizes, outputs: new Set() },
    blocks,
  );
  if (result.sliced === 0) return null;
  const initializers = new Map(graph.initializers);
  for (const { header, payload } of result.tensors)
    initializers.set(header.name ?? '', {
      dims: header.dims,
      type: header.dataType,
      values: payload?.bytes ? smallValues(header, payload.field, payload.bytes) : undefined,
    });
  return { nodes: result.nodes, inputs: graph.inputs, initializers };
}

/** The graph's nodes, inputs and initializer facts; `onWeight` hears each initializer's size. */
export async function readShapeGraph(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  signal?: AbortSignal,
  onWeight?: (name: string | null, bytes: number) => void,
): Promise<ShapeGraph> {
  const nodes: NodeProto[] = [];
  const inputs: ShapeGraph['inputs'][number][] = [];
  const initializers = new Map<string, TensorFact>();
  for await (const event of walkModel(source, signal ? { signal } : {})) {
    if (event.kind === 'node') nodes.push(event.node);
    else if (
      event.kind === 'graph-field' &&
      event.field.no === GraphField.input &&
      event.field.wire === WireType.LEN
    )
      inputs.push(decodeValueInfo(event.field.value as Uint8Array));
    else if (event.kind === 'initializer') {
      const { tensor, payload } = event;
      const count = elementCount(tensor.dims);
      onWeight?.(
        tensor.name ?? null,
        rawByteLength(tensor.dataType ?? 0, count) ?? payload?.length ?? 0,
      );
      const values =
        payload && count <= MAX_VALUES
          ? smallValues(tensor, payload.field, await payload.read())
          : undefined;
      if (tensor.name !== undefined)
        initializers.set(tensor.name, { dims: tensor.dims, type: tensor.dataType, values });
    }
  }
  return { nodes, inputs, initializers };
}

/** Chunks a feed may hold before push() makes the producer wait. */
const FEED_AHEAD = 4;

/**
 * summariseModel over chunks pushed in file order as they arrive (a
 * download), so the file is not read back to be measured. `result` rejects
 * when the bytes are not a model, or after abandon().
 */
export class ModelSummaryFeed {
  readonly result: Promise<ModelSummary>;
  private readonly queue: Uint8Array[] = [];
  private ended = false;
  private failed = false;
  private wakeReader: (() => void) | null = null;
  private wakeWriter: (() => void) | null = null;

  constructor(dimValues: Readonly<Record<string, number>>, attentionBlocks = 1) {
    this.result = summariseModel(this.chunks(), dimValues, undefined, attentionBlocks);
    this.result.catch(() => {
      this.failed = true;
      this.queue.length = 0;
      this.wakeWriter?.();
    });
  }

  /** Hands over the next chunk; resolves when the reader is close enough behind. */
  async push(chunk: Uint8Array): Promise<void> {
    if (this.failed || this.ended) return;
    this.queue.push(chunk);
    this.wakeReader?.();
    while (this.queue.length > FEED_AHEAD && !this.failed)
      await new Promise<void>((wake) => (this.wakeWriter = wake));
  }

  /** The file is complete. */
  end(): void {
    this.ended = true;
    this.wakeReader?.();
  }

  /** The bytes will not all come (a cut, a restart): the result rejects. */
  abandon(): void {
    this.queue.length = 0;
    this.failed = true;
    this.end();
  }

  private async *chunks(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        if (this.queue.length <= FEED_AHEAD) this.wakeWriter?.();
        yield next;
      } else if (this.failed) throw new Error('abandoned');
      else if (this.ended) return;
      else await new Promise<void>((wake) => (this.wakeReader = wake));
    }
  }
}
