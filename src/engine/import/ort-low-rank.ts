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

import { DataType, type NodeProto } from '../../shared/onnx/schema';
import { weightlessModel } from '../../shared/onnx/weightless-model';
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

const node = (opType: string, input: string[], output: string[]): NodeProto => ({
  opType,
  input,
  output,
  attribute: [],
  other: [],
});

/** p = a @ b, float32 of any shapes MatMul accepts. */
export function lowRankGraph(): Promise<Uint8Array> {
  return weightlessModel(
    'low_rank',
    [node('MatMul', ['a', 'b'], ['p'])],
    [
      ['a', DataType.FLOAT],
      ['b', DataType.FLOAT],
    ],
    [['p', DataType.FLOAT]],
  );
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
