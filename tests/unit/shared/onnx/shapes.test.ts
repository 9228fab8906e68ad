/**
 * shapes.ts: every value a node computes gets the dims onnxruntime gives it
 * (checked by running each model with all its float values as outputs), and
 * the operator rules on hand-made nodes, including where they must give up.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { componentDimensions } from '../../../../src/shared/free-dimensions';
import type { ComponentName, PackManifest } from '../../../../src/shared/pack-manifest';
import { summariseModel } from '../../../../src/shared/onnx/inspect';
import { DataType, type NodeProto } from '../../../../src/shared/onnx/schema';
import {
  inferShapes,
  largestActivation,
  type ShapeGraph,
} from '../../../../src/shared/onnx/shapes';
import { checkShapes } from '../../../helpers/onnx-shapes';

const PACKS = ['public/packs/demo', 'tests/fixtures/models/sd-turbo', 'tests/fixtures/models/lcm'];

const models = PACKS.flatMap((dir) => {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as PackManifest;
  const seen = new Set<string>();
  return manifest.variants.flatMap((variant) =>
    Object.entries(variant.components)
      .filter(([, path]) => !seen.has(path) && seen.add(path))
      .map(([component, path]) => ({
        file: join(dir, path),
        dims: componentDimensions(manifest, component as ComponentName),
      })),
  );
});

describe('inferred shapes agree with onnxruntime', () => {
  it.each(models)('$file', async ({ file, dims }) => {
    const data = `${file}_data`;
    const external = existsSync(data)
      ? [{ path: `${file.split('/').pop()}_data`, data: readFileSync(data) }]
      : undefined;
    const check = await checkShapes(readFileSync(file), dims, external);
    expect(check.uninferred).toEqual([]);
    expect(check.wrong).toEqual([]);
    expect(check.compared).toBeGreaterThan(0);
    expect(check.inferredLargest).toBe(check.realLargest);
  });

  it('covers the demo pack, both fixture packs and external data', () => {
    expect(models.length).toBeGreaterThanOrEqual(21 + 6 + 8);
    expect(models.some(({ file }) => existsSync(`${file}_data`))).toBe(true);
  });
});

const node = (
  opType: string,
  input: string[],
  output: string[],
  attrs: Record<string, number | number[]> = {},
): NodeProto => ({
  opType,
  input,
  output,
  attribute: Object.entries(attrs).map(([name, v]) =>
    Array.isArray(v)
      ? { name, ints: v.map(BigInt), floats: [], other: [] }
      : { name, i: BigInt(v), ints: [], floats: [], other: [] },
  ),
  other: [],
});
const F = DataType.FLOAT;
const I = DataType.INT64;

function run(
  nodes: NodeProto[],
  inits: Record<string, [number[], number, number[]?]>,
  inputs: ShapeGraph['inputs'],
  dimValues = {},
) {
  const graph: ShapeGraph = {
    nodes,
    inputs,
    initializers: new Map(
      Object.entries(inits).map(([name, [dims, type, values]]) => [name, { dims, type, values }]),
    ),
  };
  return { facts: inferShapes(graph, dimValues), graph };
}

describe('operator rules', () => {
  it('follows a Shape -> Gather -> Concat -> Reshape chain with symbolic inputs', () => {
    const { facts } = run(
      [
        node('Shape', ['x'], ['s']),
        node('Gather', ['s', 'zero'], ['b']),
        node('Unsqueeze', ['b'], ['b1'], { axes: [0] }),
        node('Concat', ['b1', 'rest'], ['shape'], { axis: 0 }),
        node('Reshape', ['x', 'shape'], ['y']),
      ],
      { zero: [[], I, [0]], rest: [[2], I, [-1, 8]] },
      [{ name: 'x', elemType: F, dims: ['batch', 4, 'height', 'width'] }],
      { batch: 2, height: 8, width: 8 },
    );
    expect(facts.get('shape')?.values).toEqual([2, -1, 8]);
    expect(facts.get('y')?.dims).toEqual([2, 32, 8]);
  });

  it('computes Conv, ConvTranspose and pooling sizes from strides, pads and dilations', () => {
    const { facts } = run(
      [
        node('Conv', ['x', 'w'], ['c'], { strides: [2, 2], pads: [1, 1, 1, 1] }),
        node('Conv', ['x', 'w'], ['d'], { dilations: [2, 2] }),
        node('ConvTranspose', ['x', 'wt'], ['t'], {
          strides: [2, 2],
          pads: [1, 1, 1, 1],
          output_padding: [1, 1],
        }),
        node('MaxPool', ['x'], ['p'], { kernel_shape: [2, 2], strides: [2, 2] }),
      ],
      { w: [[16, 3, 3, 3], F], wt: [[3, 5, 3, 3], F] },
      [{ name: 'x', elemType: F, dims: [1, 3, 31, 31] }],
    );
    expect(facts.get('c')?.dims).toEqual([1, 16, 16, 16]);
    expect(facts.get('d')?.dims).toEqual([1, 16, 27, 27]);
    expect(facts.get('t')?.dims).toEqual([1, 5, 62, 62]);
    expect(facts.get('p')?.dims).toEqual([1, 3, 15, 15]);
  });

  it('slices with negative bounds and steps, and splits evenly or by sizes', () => {
    const { facts } = run(
      [
        node('Slice', ['x', 'starts', 'ends', 'axes', 'steps'], ['s']),
        node('Slice', ['v', 'vs', 've'], ['vv']),
        node('Split', ['x'], ['a', 'b'], { axis: 1 }),
        node('Split', ['x', 'sizes'], ['c', 'd'], { axis: 2 }),
      ],
      {
        starts: [[2], I, [-1, 1]],
        ends: [[2], I, [-1e9, 100]],
        axes: [[2], I, [1, 2]],
        steps: [[2], I, [-2, 3]],
        v: [[5], I, [10, 11, 12, 13, 14]],
        vs: [[1], I, [-3]],
        ve: [[1], I, [5]],
        sizes: [[2], I, [3, 7]],
      },
      [{ name: 'x', elemType: F, dims: [1, 6, 10] }],
    );
    expect(facts.get('s')?.dims).toEqual([1, 3, 3]);
    expect(facts.get('vv')?.values).toEqual([12, 13, 14]);
    expect([facts.get('a')?.dims, facts.get('b')?.dims]).toEqual([
      [1, 3, 10],
      [1, 3, 10],
    ]);
    expect([facts.get('c')?.dims, facts.get('d')?.dims]).toEqual([
      [1, 6, 3],
      [1, 6, 7],
    ]);
  });

  it('resizes by sizes or by scales, and broadcasts MatMul batches', () => {
    const { facts } = run(
      [
        node('Resize', ['x', '', 'scales'], ['r']),
        node('Resize', ['x', '', '', 'sizes'], ['q']),
        node('MatMul', ['a', 'b'], ['m']),
      ],
      { scales: [[4], F, [1, 1, 2, 2]], sizes: [[4], I, [1, 3, 7, 9]] },
      [
        { name: 'x', elemType: F, dims: [1, 3, 5, 5] },
        { name: 'a', elemType: F, dims: [2, 1, 4, 8] },
        { name: 'b', elemType: F, dims: [3, 8, 5] },
      ],
    );
    expect(facts.get('r')?.dims).toEqual([1, 3, 10, 10]);
    expect(facts.get('q')?.dims).toEqual([1, 3, 7, 9]);
    expect(facts.get('m')?.dims).toEqual([2, 3, 4, 5]);
  });

  it('reads symbolic dims written as a name times or over a number', () => {
    const { facts } = run(
      [node('Relu', ['x'], ['y'])],
      {},
      [{ name: 'x', elemType: F, dims: ['height/2', 'width * 2', 'height/3'] }],
      { height: 8, width: 3 },
    );
    expect(facts.get('y')?.dims).toEqual([4, 6, 2]);
  });

  it('leaves values of unknown operators and unnamed dims unknown, and counts them', () => {
    const { facts, graph } = run(
      [node('Mystery', ['x'], ['y']), node('Relu', ['y'], ['z']), node('Relu', ['u'], ['v'])],
      {},
      [
        { name: 'x', elemType: F, dims: [1, 4] },
        { name: 'u', elemType: F, dims: ['unnamed', 4] },
      ],
    );
    expect(facts.get('z')?.dims).toBeNull();
    expect(facts.get('v')?.dims).toBeNull();
    expect(largestActivation(graph, facts)).toMatchObject({ unknown: 3, count: 3, bytes: 0 });
  });

  it('names the largest value a node computes, in bytes of its type', () => {
    const { facts, graph } = run(
      [
        node('Cast', ['x'], ['half'], { to: DataType.FLOAT16 }),
        node('MatMul', ['half', 'halfT'], ['scores']),
        node('Softmax', ['scores'], ['probs'], { axis: -1 }),
      ],
      { halfT: [[64, 1000], DataType.FLOAT16] },
      [{ name: 'x', elemType: F, dims: [1, 1000, 64] }],
    );
    expect(largestActivation(graph, facts)).toEqual({
      name: 'scores',
      bytes: 2_000_000,
      unknown: 0,
      count: 3,
    });
  });
});

it('summarises a model file: largest weight, total weights, largest activation', async () => {
  const summary = await summariseModel(
    [readFileSync('public/packs/demo/unet/model.fp32.onnx')],
    componentDimensions(
      JSON.parse(readFileSync('public/packs/demo/manifest.json', 'utf8')) as PackManifest,
      'unet',
    ),
  );
  expect(summary.weights.largestBytes).toBeGreaterThan(0);
  expect(summary.weights.totalBytes).toBeGreaterThan(summary.weights.largestBytes);
  expect(summary.activation).toMatchObject({ unknown: 0, bytes: 65536 });
});
