/**
 * Checks shapes.ts against onnxruntime: runs a model in onnxruntime-node
 * with every float value a node computes exposed as an extra output, and
 * compares each value's real dims with the inferred ones.
 */

import * as ort from 'onnxruntime-node';
import { withExtraOutputs } from '../../src/shared/onnx/attention-outputs';
import { summariseModel, readShapeGraph } from '../../src/shared/onnx/inspect';
import { DataType } from '../../src/shared/onnx/schema';
import { inferShapes, type TensorFact } from '../../src/shared/onnx/shapes';

export interface ShapeCheck {
  /** Values compared (float node outputs with inferred dims). */
  compared: number;
  /** Float node outputs whose dims were not inferred. */
  uninferred: string[];
  /** Values whose inferred dims differ from onnxruntime's: name, inferred, real. */
  wrong: [string, number[], readonly number[]][];
  /** The largest float output onnxruntime produced, in bytes, and the inferred largest activation. */
  realLargest: number;
  inferredLargest: number;
}

const FLOATS = new Set<number>([DataType.FLOAT, DataType.FLOAT16]);

const TYPED: Record<number, (n: number) => ort.Tensor['data']> = {
  [DataType.FLOAT]: (n) => new Float32Array(n).fill(0.5),
  [DataType.FLOAT16]: (n) => new Uint16Array(n).fill(0x3800),
  [DataType.INT64]: (n) => new BigInt64Array(n).fill(1n),
  [DataType.INT32]: (n) => new Int32Array(n).fill(1),
};
const NAMES: Record<number, ort.Tensor.Type> = {
  [DataType.FLOAT]: 'float32',
  [DataType.FLOAT16]: 'float16',
  [DataType.INT64]: 'int64',
  [DataType.INT32]: 'int32',
};

export async function checkShapes(
  model: Uint8Array,
  dimValues: Record<string, number>,
  externalData?: { path: string; data: Uint8Array }[],
): Promise<ShapeCheck> {
  const graph = await readShapeGraph([model]);
  const facts = inferShapes(graph, dimValues);
  const { activation } = await summariseModel([model], dimValues);
  const produced = graph.nodes.flatMap((n) => n.output.filter(Boolean));
  const floats = produced.filter((name) => FLOATS.has(facts.get(name)?.type ?? -1));
  const uninferred = produced.filter((name) => !facts.get(name)?.dims);
  const exposed = floats.filter((name) => facts.get(name)?.dims);
  const session = await ort.InferenceSession.create(await withExtraOutputs(model, exposed), {
    ...(externalData ? { externalData } : {}),
    graphOptimizationLevel: 'disabled',
  });
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of graph.inputs) {
    if (graph.initializers.has(input.name)) continue;
    const fact = facts.get(input.name) as TensorFact;
    const size = fact.dims!.reduce((a, b) => a * b, 1);
    feeds[input.name] = new ort.Tensor(NAMES[fact.type!]!, TYPED[fact.type!]!(size), fact.dims!);
  }
  const results = await session.run(feeds);
  const wrong: ShapeCheck['wrong'] = [];
  let realLargest = 0;
  for (const name of exposed) {
    const real = results[name]!.dims;
    const bytes = results[name]!.data.length * (results[name]!.type === 'float16' ? 2 : 4);
    realLargest = Math.max(realLargest, bytes);
    const inferred = facts.get(name)!.dims!;
    if (inferred.join() !== real.join()) wrong.push([name, inferred, real]);
  }
  await session.release();
  return {
    compared: exposed.length,
    uninferred,
    wrong,
    realLargest,
    inferredLargest: activation.bytes,
  };
}
