import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { findAttention } from '../../../../src/shared/onnx/attention-outputs';
import type { NodeProto } from '../../../../src/shared/onnx/schema';
import {
  attentionBlocksFor,
  findSelfAttentions,
  type GraphFacts,
} from '../../../../src/shared/onnx/slice-attention';
import { withSlicedAttention } from '../../../../src/shared/onnx/slice-model';
import { walkModel } from '../../../../src/shared/onnx/walk';
import { ROOT, convertFile } from './helpers';

const UNFUSED = join(ROOT, 'tests/fixtures/models/attention/unfused.onnx');
const DEMO_UNET = join(ROOT, 'public/packs/demo/unet/model.fp32.onnx');

const node = (opType: string, input: string[], output: string): NodeProto => ({
  opType,
  input,
  output: [output],
  name: output,
  attribute: [],
  other: [],
});

/** q and k projected from `queriesFrom` and `keysFrom`, scaled by `scale`, softmaxed, times v. */
function attention(queriesFrom: string, keysFrom: string, scale = 'scale'): NodeProto[] {
  return [
    node('MatMul', [queriesFrom, 'wq'], 'q_proj'),
    node('Reshape', ['q_proj', 'shape'], 'q'),
    node('MatMul', [keysFrom, 'wk'], 'k_proj'),
    node('Add', ['bk', 'k_proj'], 'k_bias'),
    node('Transpose', ['k_bias'], 'kt'),
    node('MatMul', [keysFrom, 'wv'], 'v'),
    node('MatMul', ['q', 'kt'], 'scores'),
    node('Mul', ['scores', scale], 'scaled'),
    node('Softmax', ['scaled'], 'probs'),
    node('MatMul', ['probs', 'v'], 'out'),
  ];
}

const facts = (outputs: string[] = ['out']): GraphFacts => ({
  initializerSizes: new Map([
    ['wq', 64],
    ['wk', 64],
    ['wv', 64],
    ['bk', 8],
    ['shape', 4],
    ['scale', 1],
    ['scale_grid', 16],
  ]),
  outputs: new Set(outputs),
});

async function nodesOf(model: Uint8Array): Promise<NodeProto[]> {
  const nodes: NodeProto[] = [];
  for await (const ev of walkModel([model])) if (ev.kind === 'node') nodes.push(ev.node);
  return nodes;
}

async function run(model: Uint8Array, data: Uint8Array) {
  const session = await ort.InferenceSession.create(model, {
    externalData: data.length ? [{ path: 'model.onnx_data', data }] : undefined,
  } as ort.InferenceSession.SessionOptions);
  const feeds: Record<string, ort.Tensor> = {};
  const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
  feeds.sample = new ort.Tensor('float32', ramp(2 * 4 * 8 * 8), [2, 4, 8, 8]);
  feeds.timestep = new ort.Tensor('int64', BigInt64Array.of(500n), [1]);
  feeds.encoder_hidden_states = new ort.Tensor('float32', ramp(2 * 16 * 32), [2, 16, 32]);
  const out = await session.run(feeds);
  await session.release();
  return out.out_sample!.data as Float32Array;
}

describe('sliced attention', () => {
  it('needs more blocks as the latent grows: none for the demo, 8 at 512x512', () => {
    expect(attentionBlocksFor(8 * 8)).toBe(1);
    expect(attentionBlocksFor(512)).toBe(1);
    expect(attentionBlocksFor(32 * 32)).toBe(2);
    expect(attentionBlocksFor(64 * 64)).toBe(8);
    expect(attentionBlocksFor(96 * 96)).toBe(18);
  });

  it('finds self-attention: queries and keys projected from the same tensor', () => {
    expect(findSelfAttentions(attention('h', 'h'), facts())).toHaveLength(1);
  });

  it('leaves cross-attention (keys from the text) whole', () => {
    expect(findSelfAttentions(attention('h', 'text'), facts())).toHaveLength(0);
  });

  it('leaves an attention whole when a block would change its result or lose a value', () => {
    // A scale that is not one number may differ per row.
    expect(findSelfAttentions(attention('h', 'h', 'scale_grid'), facts())).toHaveLength(0);
    // The probabilities are a graph output (explain mode reads them).
    expect(findSelfAttentions(attention('h', 'h'), facts(['out', 'probs']))).toHaveLength(0);
    // The scores feed something else too.
    const shared = [...attention('h', 'h'), node('ReduceMax', ['scores'], 'peak')];
    expect(findSelfAttentions(shared, facts())).toHaveLength(0);
  });

  it('gives the same output in row blocks, and explain still finds the cross-attention', async () => {
    const whole = await convertFile(UNFUSED);
    const sliced = await convertFile(UNFUSED, { attentionBlocks: 3 });
    expect(whole.result.slicedAttentions).toBe(0);
    expect(sliced.result.slicedAttentions).toBe(1);
    const softmaxes = (await nodesOf(sliced.graph)).filter((n) => n.opType === 'Softmax');
    expect(softmaxes).toHaveLength(1 + 3);
    const want = await run(whole.graph, whole.data);
    const got = await run(sliced.graph, sliced.data);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    expect(worst).toBeLessThan(1e-5);
    expect((await findAttention(sliced.graph)).crossAttention).toEqual(
      (await findAttention(whole.graph)).crossAttention,
    );
  });

  it("slices only the demo UNet's self-attention layers", async () => {
    const sliced = await convertFile(DEMO_UNET, { attentionBlocks: 2 });
    const layout = await findAttention(sliced.graph);
    const softmaxes = (await nodesOf(sliced.graph)).filter((n) => n.opType === 'Softmax');
    expect(sliced.result.slicedAttentions).toBeGreaterThan(0);
    expect(softmaxes).toHaveLength(
      layout.crossAttention.length + 2 * sliced.result.slicedAttentions,
    );
  });
});

describe('a model file with its attention sliced (WebGPU loads)', () => {
  it('rewrites the graph only: same output, weights untouched, a model without any left as it was', async () => {
    const model = new Uint8Array(readFileSync(UNFUSED));
    const { model: sliced, sliced: count } = await withSlicedAttention(model, 3);
    expect(count).toBe(1);
    const softmaxes = (await nodesOf(sliced)).filter((n) => n.opType === 'Softmax');
    expect(softmaxes).toHaveLength(1 + 3);
    const want = await run(model, new Uint8Array());
    const got = await run(sliced, new Uint8Array());
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    expect(worst).toBeLessThan(1e-5);
    expect((await withSlicedAttention(model, 1)).model).toBe(model);
  });
});
