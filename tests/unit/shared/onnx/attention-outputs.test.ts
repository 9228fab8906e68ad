import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GessoError } from '../../../../src/shared/errors';
import { findAttention, withExtraOutputs } from '../../../../src/shared/onnx/attention-outputs';
import { float16ToFloat32, float32ToFloat16 } from '../../../../src/shared/onnx/quantize';
import { GraphField, type NodeProto, type TensorHeader } from '../../../../src/shared/onnx/schema';
import { walkModel } from '../../../../src/shared/onnx/walk';
import { decodeFields, utf8 } from '../../../../src/shared/onnx/wire';
import { FIXTURES, ROOT, convertFile } from './helpers';

const SLOW = { timeout: 120_000 };
const ATTENTION = join(ROOT, 'tests/fixtures/models/attention');
const DEMO_UNET = join(ROOT, 'public/packs/demo/unet');
const TOKENS = 16;
const load = (path: string) => new Uint8Array(readFileSync(path));

interface Graph {
  nodes: NodeProto[];
  initializers: TensorHeader[];
  /** Graph outputs as [name, elem_type]. */
  outputs: [string, number][];
}

async function graphOf(model: Uint8Array): Promise<Graph> {
  const g: Graph = { nodes: [], initializers: [], outputs: [] };
  for await (const ev of walkModel([model])) {
    if (ev.kind === 'node') g.nodes.push(ev.node);
    else if (ev.kind === 'initializer') g.initializers.push(ev.tensor);
    else if (ev.kind === 'graph-field' && ev.field.no === GraphField.output) {
      const f = decodeFields(ev.field.value as Uint8Array);
      const name = utf8(f.find((x) => x.no === 1)!.value as Uint8Array);
      const tensorType = decodeFields(f.find((x) => x.no === 2)!.value as Uint8Array)[0]!;
      const elem = decodeFields(tensorType.value as Uint8Array).find((x) => x.no === 1)!;
      g.outputs.push([name, Number(elem.value)]);
    }
  }
  return g;
}

/** `model` with every occurrence of one string replaced by another of the same length (names, so lengths stay valid). */
function replaceBytes(model: Uint8Array, from: string, to: string): Uint8Array {
  const [a, b] = [Buffer.from(from), Buffer.from(to)];
  expect(b.length).toBe(a.length);
  const out = Buffer.from(model);
  let found = 0;
  for (let at = out.indexOf(a); at >= 0; at = out.indexOf(a, at + 1), found++) b.copy(out, at);
  expect(found).toBeGreaterThan(1);
  return new Uint8Array(out);
}

const softmaxOutputs = (g: Graph) =>
  g.nodes.filter((n) => n.opType === 'Softmax').map((n) => n.output[0]!);

/** Deterministic inputs from a session's metadata (symbolic dims 2). */
function feeds(session: ort.InferenceSession): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const m of session.inputMetadata) {
    if (!m.isTensor) continue;
    const shape = m.shape.map((d) => (typeof d === 'number' ? d : 2));
    const n = shape.reduce((a, b) => a * b, 1);
    const f = (i: number) => Math.sin(i * 12.9898 + m.name.length) * 1.5;
    if (m.type === 'float32') {
      out[m.name] = new ort.Tensor(
        'float32',
        Float32Array.from({ length: n }, (_, i) => f(i)),
        shape,
      );
    } else if (m.type === 'float16') {
      const bits = Uint16Array.from({ length: n }, (_, i) => float32ToFloat16(Math.fround(f(i))));
      out[m.name] = new ort.Tensor('float16', bits, shape);
    } else if (m.type === 'int64') {
      out[m.name] = new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: n }, () => 321n),
        shape,
      );
    } else throw new Error(`no feed for ${m.type}`);
  }
  return out;
}

function floats(t: ort.Tensor): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') return Float32Array.from(t.data as Uint16Array, float16ToFloat32);
  throw new Error(`not a float tensor: ${t.type}`);
}

/** The largest distance from 1 of a row sum over the last dim. */
function worstRowSum(t: ort.Tensor): number {
  const values = floats(t);
  const width = t.dims.at(-1)!;
  let worst = 0;
  for (let at = 0; at < values.length; at += width) {
    let sum = 0;
    for (let i = 0; i < width; i++) sum += values[at + i]!;
    worst = Math.max(worst, Math.abs(sum - 1));
  }
  return worst;
}

/**
 * Runs `model` and its copy with `names` as extra outputs on the same inputs;
 * checks out_sample is unchanged and returns the extra outputs.
 */
async function runWithExtras(model: Uint8Array, names: string[]): Promise<ort.Tensor[]> {
  const original = await ort.InferenceSession.create(model);
  const extended = await ort.InferenceSession.create(await withExtraOutputs(model, names));
  try {
    expect(extended.outputNames).toEqual(['out_sample', ...names]);
    const inputs = feeds(original);
    const before = await original.run(inputs);
    const after = await extended.run(inputs);
    expect(after.out_sample!.dims).toEqual(before.out_sample!.dims);
    expect(after.out_sample!.data).toEqual(before.out_sample!.data);
    return names.map((n) => after[n]!);
  } finally {
    await original.release();
    await extended.release();
  }
}

describe('findAttention', () => {
  it('finds the cross-attention Softmax of an unfused UNet, not the self-attention one', async () => {
    const model = load(join(ATTENTION, 'unfused.onnx'));
    expect(softmaxOutputs(await graphOf(model))).toEqual(['self_attn/probs', 'cross_attn/probs']);
    expect(await findAttention(model)).toEqual({
      crossAttention: ['cross_attn/probs'],
      fused: false,
    });
  });

  it('says a graph with MultiHeadAttention has no probabilities to read', async () => {
    const model = load(join(ATTENTION, 'fused.onnx'));
    expect(await findAttention(model)).toEqual({ crossAttention: [], fused: true });
  });

  it.each(['fp32', 'int8', 'fp16'])(
    "finds the demo %s UNet's 5 cross-attention softmaxes among its 10",
    async (variant) => {
      const model = load(join(DEMO_UNET, `model.${variant}.onnx`));
      const all = softmaxOutputs(await graphOf(model));
      expect(all).toHaveLength(10);
      const layout = await findAttention(model);
      expect(layout.fused).toBe(false);
      expect(layout.crossAttention).toEqual(all.filter((n) => n.includes('/cross_attn/')));
      expect(layout.crossAttention).toHaveLength(5);
    },
  );

  it('finds them through MatMulNBits key projections (the on-device int4 copy)', SLOW, async () => {
    const { graph } = await convertFile(join(DEMO_UNET, 'model.fp32.onnx'), { mode: 'int4-block' });
    expect((await graphOf(graph)).nodes.some((n) => n.opType === 'MatMulNBits')).toBe(true);
    expect((await findAttention(graph)).crossAttention).toHaveLength(5);
  });

  it('takes the 3-D float input with a token count as the text when none is named encoder_hidden_states', async () => {
    const model = load(join(ATTENTION, 'unfused.onnx'));
    const renamed = replaceBytes(model, 'encoder_hidden_states', 'context_hidden_states');
    expect(await findAttention(renamed)).toEqual({
      crossAttention: ['cross_attn/probs'],
      fused: false,
    });
  });

  it('finds nothing in a graph with no text input', async () => {
    expect(await findAttention(load(join(ROOT, 'tests/fixtures/models/smoke.onnx')))).toEqual({
      crossAttention: [],
      fused: false,
    });
  });
});

describe('withExtraOutputs', () => {
  it.each([
    join(ATTENTION, 'unfused.onnx'),
    join(ATTENTION, 'fused.onnx'),
    join(DEMO_UNET, 'model.fp32.onnx'),
    join(DEMO_UNET, 'model.int8.onnx'),
    join(FIXTURES, 'external.onnx'),
  ])('with no names, writes %s back byte for byte', async (path) => {
    const model = load(path);
    const copy = await withExtraOutputs(model, []);
    expect(copy.length).toBe(model.length);
    expect(Buffer.compare(copy, model)).toBe(0); // toEqual is slow on megabytes
  });

  it('adds the cross-attention maps of the unfused fixture; the result is unchanged', async () => {
    const model = load(join(ATTENTION, 'unfused.onnx'));
    const { crossAttention } = await findAttention(model);
    const [probs] = await runWithExtras(model, crossAttention);
    expect(probs!.type).toBe('float32');
    expect(probs!.dims).toEqual([2, 2, 64, TOKENS]); // batch, heads, pixels, tokens
    expect(worstRowSum(probs!)).toBeLessThan(1e-5);
  });

  it('adds the 5 maps of the demo fp32 UNet; the result is unchanged', SLOW, async () => {
    const model = load(join(DEMO_UNET, 'model.fp32.onnx'));
    const { crossAttention } = await findAttention(model);
    const maps = await runWithExtras(model, crossAttention);
    expect(maps).toHaveLength(5);
    for (const map of maps) {
      expect(map.type).toBe('float32');
      expect(map.dims).toHaveLength(4);
      expect(map.dims[0]).toBe(2);
      expect(map.dims.at(-1)).toBe(TOKENS);
      expect(worstRowSum(map)).toBeLessThan(1e-5);
    }
  });

  it('types the maps of the demo fp16 UNet float16', SLOW, async () => {
    const model = load(join(DEMO_UNET, 'model.fp16.onnx'));
    const { crossAttention } = await findAttention(model);
    expect(crossAttention).toHaveLength(5);
    const extended = await graphOf(await withExtraOutputs(model, crossAttention));
    expect(extended.outputs).toEqual([
      ['out_sample', 1],
      ...crossAttention.map((n) => [n, 10] as [string, number]),
    ]);
    const maps = await runWithExtras(model, crossAttention);
    for (const map of maps) {
      expect(map.type).toBe('float16');
      expect(map.dims.at(-1)).toBe(TOKENS);
      expect(worstRowSum(map)).toBeLessThan(1e-2); // float16 rounding
    }
  });

  it('keeps initializers, external-data references and nodes as they are', async () => {
    const model = load(join(FIXTURES, 'external.onnx'));
    const before = await graphOf(model);
    const after = await graphOf(await withExtraOutputs(model, ['r', 'p']));
    expect(after.initializers).toEqual(before.initializers);
    expect(after.initializers.some((t) => t.externalData.length > 0)).toBe(true);
    expect(after.nodes).toEqual(before.nodes);
    expect(after.outputs).toEqual([...before.outputs, ['r', 1], ['p', 1]]);
  });

  it('adds a name once, and none that is already an output', async () => {
    const model = load(join(ATTENTION, 'unfused.onnx'));
    const out = await graphOf(
      await withExtraOutputs(model, ['out_sample', 'cross_attn/probs', 'cross_attn/probs']),
    );
    expect(out.outputs).toEqual([
      ['out_sample', 1],
      ['cross_attn/probs', 1],
    ]);
  });

  it('refuses a name the graph does not compute', async () => {
    const model = load(join(ATTENTION, 'unfused.onnx'));
    await expect(withExtraOutputs(model, ['no/such/value'])).rejects.toThrow(/no value named/);
  });
});

describe('a file that is not an ONNX model', () => {
  it.each([
    ['text', new TextEncoder().encode('not a model at all')],
    ['empty', new Uint8Array(0)],
    ['truncated', load(join(ATTENTION, 'unfused.onnx')).subarray(0, 2000)],
  ])('gives a clear error (%s)', async (_, bytes) => {
    for (const call of [findAttention(bytes), withExtraOutputs(bytes, ['x'])]) {
      const error = await call.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(GessoError);
      expect((error as GessoError).code).toBe('pack-corrupt');
      expect((error as GessoError).message).toMatch(/model file/);
    }
  });
});
