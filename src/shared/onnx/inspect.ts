/**
 * What a model file says about its memory before it is loaded: the largest
 * weight, the total weight bytes (read from the initializer headers without
 * reading their values), and the largest activation at a given input size
 * (shapes.ts over the graph).
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
