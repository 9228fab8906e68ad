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
}

/**
 * Weights and the largest activation of the model streamed from `source`,
 * with the graph's symbolic input dims set from `dimValues`.
 */
export async function summariseModel(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  dimValues: Readonly<Record<string, number>>,
  signal?: AbortSignal,
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
  return { weights, activation: largestActivation(graph, inferShapes(graph, dimValues)) };
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

  constructor(dimValues: Readonly<Record<string, number>>) {
    this.result = summariseModel(this.chunks(), dimValues);
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
