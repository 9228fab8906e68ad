/**
 * The LoRA fusion's low-rank update, W += scale * up @ down: the product
 * runs on onnxruntime's WebAssembly kernels (SIMD, and threads where the
 * page is cross-origin isolated) as a one-node graph, MatMul(A, B), and is
 * added to W in JavaScript, so the weight never enters the runtime's memory
 * (which only grows: the product is the one weight-sized buffer there). On
 * this project's 2-core machine, in Node, a 1280 x 5120 weight at rank 32
 * ran about three times as fast as the JavaScript loop (kernels.ts). Small
 * updates stay in JavaScript, where a run's fixed cost would outweigh them.
 */

import { concatBytes } from '../../shared/concat-bytes';
import { DataType, GraphField, ModelField, type NodeProto } from '../../shared/onnx/schema';
import { WireType, type Field } from '../../shared/onnx/wire';
import { encodeOpset, encodeValueInfo, writeModel } from '../../shared/onnx/write';
import type { OrtApi } from '../ort-session';
import { addLowRank } from './kernels';

/** values [out, inner] += scale * up [out, rank] @ down [rank, inner], in place. */
export type LowRankAdd = (
  values: Float32Array,
  up: Float32Array,
  down: Float32Array,
  rank: number,
  out: number,
  scale: number,
) => Promise<void>;

export const jsLowRank: LowRankAdd = async (...args) => addLowRank(...args);

/** Multiply-adds below which the JavaScript loop runs the update (a run has a fixed cost). */
const SMALL = 1 << 22;

const text = new TextEncoder();
const bytesField = (no: number, value: Uint8Array): Field => ({ no, wire: WireType.LEN, value });
const node = (opType: string, input: string[], output: string[]): NodeProto => ({
  opType,
  input,
  output,
  attribute: [],
  other: [],
});

/** p = a @ b, float32 of any shapes MatMul accepts. */
export async function lowRankGraph(): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of writeModel({
    fields: [
      { no: ModelField.irVersion, wire: WireType.VARINT, value: 8n },
      bytesField(ModelField.producerName, text.encode('gesso')),
      bytesField(ModelField.opsetImport, encodeOpset('', 17)),
    ],
    graph: {
      nodes: [node('MatMul', ['a', 'b'], ['p'])],
      initializers: [],
      fields: [
        bytesField(GraphField.name, text.encode('low_rank')),
        ...['a', 'b'].map((n) => bytesField(GraphField.input, encodeValueInfo(n, DataType.FLOAT))),
        bytesField(GraphField.output, encodeValueInfo('p', DataType.FLOAT)),
      ],
    },
  }))
    chunks.push(chunk);
  return concatBytes(chunks);
}

export interface OrtLowRank {
  add: LowRankAdd;
  release(): Promise<void>;
}

/** The update on onnxruntime (`provider`: 'wasm' in the browser, 'cpu' for onnxruntime-node). */
export async function ortLowRank(ort: OrtApi, provider: 'wasm' | 'cpu'): Promise<OrtLowRank> {
  const session = await ort.InferenceSession.create(await lowRankGraph(), {
    executionProviders: [provider],
  });
  return {
    add: async (values, up, down, rank, out, scale) => {
      if (values.length * rank < SMALL) return addLowRank(values, up, down, rank, out, scale);
      const inner = values.length / out;
      const a = new Float32Array(up.length);
      for (let i = 0; i < up.length; i++) a[i] = scale * up[i]!;
      const { p } = await session.run({
        a: new ort.Tensor('float32', a, [out, rank]),
        b: new ort.Tensor('float32', down, [rank, inner]),
      });
      const product = p!.data as Float32Array;
      for (let i = 0; i < values.length; i++) values[i] = values[i]! + product[i]!;
      p!.dispose();
    },
    release: () => session.release(),
  };
}
