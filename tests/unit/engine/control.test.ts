/**
 * Following an outline (ControlNet) in Node, on the LCM fixture's `control`
 * variant: a ControlNet and a residual-taking UNet with the exact I/O of the
 * public SD 1.5 ControlNet exports (13 residuals named down_block_0..11 and
 * mid_block_res_sample -> mid_block_additional_residual). The fixture UNet
 * with zero residuals is the plain UNet bit for bit, so strength 0 must give
 * exactly the picture without an outline.
 */

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateImage } from '../../../src/engine/generate';
import { Pipeline } from '../../../src/engine/pipelines';
import { bindResiduals, controlledUnet, outlineImage } from '../../../src/engine/pipelines/control';
import type { ModelSession, ValueInfo } from '../../../src/engine/session';
import type { CpuTensor } from '../../../src/engine/tensors';
import { GessoError } from '../../../src/shared/errors';
import { encodeRuns } from '../../../src/shared/mask-runs';
import type { PackManifest } from '../../../src/shared/pack-manifest';
import type { RgbaImage } from '../../../src/shared/rgba';
import type { SessionFactory } from '../../../src/engine/session';
import { dirPackSource, fixturePack, nodeFactory } from './helpers/node-packs';

const SIZE = 64;

/** 255 on a square's 2-px outline, 0 elsewhere. */
function squareOutline(x0: number, y0: number, side: number): Uint8Array {
  const mask = new Uint8Array(SIZE * SIZE);
  for (let y = y0; y < y0 + side; y++)
    for (let x = x0; x < x0 + side; x++) {
      const edge = x < x0 + 2 || x >= x0 + side - 2 || y < y0 + 2 || y >= y0 + side - 2;
      if (edge) mask[y * SIZE + x] = 255;
    }
  return mask;
}

async function controlPipeline(factory: SessionFactory = nodeFactory) {
  const source = fixturePack('lcm');
  const variant = source.manifest.variants.find((v) => v.id === 'control')!;
  return { source, pipeline: await Pipeline.load(source, { factory, variant }) };
}

function session(inputs: string[], outputs: string[]): ModelSession {
  const info = (name: string): ValueInfo => ({ name, type: 'float32', shape: [] });
  return {
    inputs: inputs.map(info),
    outputs: outputs.map(info),
    run: async () => ({}),
    release: async () => undefined,
  };
}

const DOWN = Array.from({ length: 12 }, (_, i) => `down_block_${i}`);
const UNET_IN = ['sample', 'timestep', 'encoder_hidden_states', 'timestep_cond'];

describe('bindResiduals', () => {
  it('pairs the down residuals by name and the middle one by "mid"', () => {
    const net = session([], [...DOWN, 'mid_block_res_sample']);
    const unet = session([...UNET_IN, ...DOWN, 'mid_block_additional_residual'], ['out_sample']);
    const bindings = bindResiduals(net, unet);
    expect(bindings).toHaveLength(13);
    expect(bindings).toContainEqual({ output: 'down_block_11', input: 'down_block_11' });
    expect(bindings).toContainEqual({
      output: 'mid_block_res_sample',
      input: 'mid_block_additional_residual',
    });
  });

  it('refuses a ControlNet that does not fit its UNet, in a sentence', () => {
    const unet = session([...UNET_IN, ...DOWN, 'mid_block_additional_residual'], ['out_sample']);
    const short = session([], [...DOWN.slice(0, 11), 'mid_block_res_sample']);
    const extra = session([], [...DOWN, 'mid_block_res_sample', 'down_block_12']);
    const plain = session(UNET_IN, ['out_sample']);
    for (const [net, target, detail] of [
      [short, unet, 'nothing gives its input "down_block_11"'],
      [extra, unet, 'its output "down_block_12" goes nowhere'],
      [short, plain, 'the image model takes no residual inputs'],
    ] as const) {
      const error = (() => {
        try {
          bindResiduals(net, target);
        } catch (e) {
          return e as GessoError;
        }
        throw new Error('not refused');
      })();
      expect(error.code).toBe('invalid-manifest');
      expect(error.message).toContain(detail);
      expect(error.message).toMatch(/cannot follow an outline/);
    }
  });
});

describe('outlineImage', () => {
  it('gives three equal planes in [0, 1]', () => {
    const image = outlineImage(Uint8Array.from([0, 255, 51, 0]), 2, 2);
    expect(image).toEqual(Float32Array.from([0, 1, 0.2, 0, 0, 1, 0.2, 0, 0, 1, 0.2, 0]));
    expect(() => outlineImage(new Uint8Array(3), 2, 2)).toThrow(/3 pixels, the image 4/);
  });
});

describe('an outline on the LCM fixture (SD 1.5 ControlNet export layout)', () => {
  it('strength 0 is the picture without an outline, bit for bit; strength 1 and another outline change it', async () => {
    const { pipeline } = await controlPipeline();
    const request = { prompt: 'a cat', steps: 2, seed: 7, preview: false } as const;
    const plain = await generateImage(pipeline, request);
    const outline = squareOutline(16, 16, 32);
    const off = await generateImage(pipeline, {
      ...request,
      outline: { mask: outline, strength: 0 },
    });
    const on = await generateImage(pipeline, {
      ...request,
      outline: { mask: outline, strength: 1 },
    });
    const other = await generateImage(pipeline, {
      ...request,
      outline: { mask: squareOutline(4, 30, 20), strength: 1 },
    });
    expect(off.image.data).toEqual(plain.image.data);
    expect(on.image.data).not.toEqual(plain.image.data);
    expect(other.image.data).not.toEqual(on.image.data);
    expect(on.recipe.outline).toEqual({ strength: 1, mask: encodeRuns(outline) });
    expect(plain.recipe.outline).toBeUndefined();
    await pipeline.release();
  });

  it('runs a batch as its items run one by one (the outline repeated per item)', async () => {
    const { source, pipeline } = await controlPipeline();
    const variant = source.manifest.variants.find((v) => v.id === 'control')!;
    const read = async (path: string, label: string) => nodeFactory(await source.read(path), label);
    const net = await read(variant.components.controlNet!, 'ControlNet');
    const unet = await read(variant.components.controlUnet!, 'UNet');
    const controlled = controlledUnet(net, unet, {
      image: outlineImage(squareOutline(10, 10, 40), SIZE, SIZE),
      dims: [1, 3, SIZE, SIZE],
      strength: 1.5,
    });
    expect(controlled.inputs.map((i) => i.name)).toEqual(UNET_IN);
    const item = (k: number, n: number) =>
      Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + k));
    const feeds = (items: number[]) =>
      ({
        sample: {
          type: 'float32',
          dims: [items.length, 4, 8, 8],
          data: Float32Array.from(items.flatMap((k) => [...item(k, 256)])),
        },
        timestep: { type: 'int64', dims: [1], data: BigInt64Array.of(499n) },
        encoder_hidden_states: {
          type: 'float32',
          dims: [items.length, 77, 32],
          data: Float32Array.from(items.flatMap((k) => [...item(k + 10, 77 * 32)])),
        },
        timestep_cond: {
          type: 'float32',
          dims: [items.length, 256],
          data: Float32Array.from(items.flatMap((k) => [...item(k + 20, 256)])),
        },
      }) as Record<string, CpuTensor>;
    const both = (await controlled.run(feeds([1, 2]))).out_sample as CpuTensor;
    const first = (await controlled.run(feeds([1]))).out_sample as CpuTensor;
    const second = (await controlled.run(feeds([2]))).out_sample as CpuTensor;
    const data = both.data as Float32Array;
    // Batched kernels may sum in another order: equal to float32 rounding.
    const gap = (a: Float32Array, b: Float32Array) =>
      Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));
    expect(gap(data.subarray(0, 256), first.data as Float32Array)).toBeLessThan(1e-5);
    expect(gap(data.subarray(256), second.data as Float32Array)).toBeLessThan(1e-5);
    expect(gap(first.data as Float32Array, second.data as Float32Array)).toBeGreaterThan(1e-3);
    await Promise.all([net.release(), unet.release(), pipeline.release()]);
  });

  it("keeps a small ControlNet open between runs; a big one takes the loaded UNet's turn", async () => {
    const events: string[] = [];
    const counting: SessionFactory = async (bytes, label, hints) => {
      const s = await nodeFactory(bytes, label, hints);
      events.push(`open ${label}`);
      return {
        ...s,
        inputs: s.inputs,
        outputs: s.outputs,
        run: (f) => s.run(f),
        release: async () => {
          events.push(`release ${label}`);
          await s.release();
        },
      };
    };
    const { pipeline } = await controlPipeline(counting);
    const outline = { mask: squareOutline(16, 16, 32), strength: 1 };
    const request = { prompt: 'a cat', steps: 1, seed: 3, preview: false, outline };
    events.length = 0;
    const kept1 = await generateImage(pipeline, request);
    const kept2 = await generateImage(pipeline, request);
    expect(events).toEqual(['open ControlNet', 'open image model (UNet) with control']);
    expect(kept2.image.data).toEqual(kept1.image.data);

    pipeline.alongsideMaxBytes = 0;
    const { pipeline: big } = await controlPipeline(counting);
    big.alongsideMaxBytes = 0;
    events.length = 0;
    const turn = await generateImage(big, request);
    expect(events).toEqual([
      'release image model (UNet)',
      'open ControlNet',
      'open image model (UNet) with control',
      'release ControlNet',
      'release image model (UNet) with control',
      'open image model (UNet)',
    ]);
    expect(turn.image.data).toEqual(kept1.image.data);
    await Promise.all([pipeline.release(), big.release()]);
  });

  it('says so when the pack has no ControlNet', async () => {
    const source = fixturePack('lcm');
    const variant = source.manifest.variants.find((v) => v.id === 'int64')!;
    const pipeline = await Pipeline.load(source, { factory: nodeFactory, variant });
    await expect(
      generateImage(pipeline, {
        prompt: 'a cat',
        steps: 1,
        seed: 1,
        outline: { mask: squareOutline(16, 16, 32), strength: 1 },
      }),
    ).rejects.toThrow('This pack has no ControlNet, so it cannot follow an outline.');
    await pipeline.release();
  });
});

const DEMO = resolve(__dirname, '../../../public/packs/demo');
const demoHasControl =
  existsSync(resolve(DEMO, 'manifest.json')) &&
  Boolean(
    (JSON.parse(readFileSync(resolve(DEMO, 'manifest.json'), 'utf8')) as PackManifest).control,
  );

type Point = [number, number];

/** A closed outline as models/outline.py's shape_points draws it (centre, half-size r). */
function shapePoints(
  kind: 'circle' | 'square' | 'triangle' | 'heart',
  cx: number,
  cy: number,
  r: number,
): Point[] {
  const n = 64;
  const around = (f: (t: number) => Point) =>
    Array.from({ length: n }, (_, i) => f((2 * Math.PI * i) / n));
  if (kind === 'circle') return around((t) => [cx + r * Math.cos(t), cy + r * Math.sin(t)]);
  if (kind === 'square')
    return [
      [cx - r, cy - r],
      [cx + r, cy - r],
      [cx + r, cy + r],
      [cx - r, cy + r],
    ];
  if (kind === 'triangle')
    return [
      [cx, cy - r],
      [cx + r, cy + r],
      [cx - r, cy + r],
    ];
  return around((t) => {
    const hx = 16 * Math.sin(t) ** 3;
    const hy = -(13 * Math.cos(t) - 5 * Math.cos(2 * t) - 2 * Math.cos(3 * t) - Math.cos(4 * t));
    return [cx + (r * hx) / 16, cy + (r * (hy + 2.5)) / 14.5];
  });
}

/** The outline as 2-px lines (255) and its filled inside, at SIZE x SIZE. */
function drawnShape(points: Point[]): { lines: Uint8Array; fill: boolean[] } {
  const lines = new Uint8Array(SIZE * SIZE);
  const fill: boolean[] = [];
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      const [px, py] = [x + 0.5, y + 0.5];
      let inside = false;
      let nearest = Infinity;
      points.forEach(([ax, ay], i) => {
        const [bx, by] = points[(i + 1) % points.length]!;
        if (ay > py !== by > py && px < ax + ((py - ay) * (bx - ax)) / (by - ay)) inside = !inside;
        const t = Math.max(
          0,
          Math.min(
            1,
            ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2),
          ),
        );
        nearest = Math.min(nearest, Math.hypot(px - ax - t * (bx - ax), py - ay - t * (by - ay)));
      });
      if (nearest <= 1) lines[y * SIZE + x] = 255;
      fill.push(inside);
    }
  return { lines, fill };
}

/** Pixels at least 64/255 from white in some channel: the drawn object. */
function objectMask(image: RgbaImage): boolean[] {
  return Array.from({ length: image.width * image.height }, (_, i) =>
    [0, 1, 2].some((c) => 255 - image.data[i * 4 + c]! >= 64),
  );
}

function iou(a: boolean[], b: boolean[]): number {
  let both = 0;
  let either = 0;
  a.forEach((v, i) => {
    if (v && b[i]) both++;
    if (v || b[i]) either++;
  });
  return either ? both / either : 1;
}

describe.skipIf(!demoHasControl)('an outline on the demo pack (its own ControlNet)', () => {
  it('the picture follows drawn shapes away from the centre (IoU with the outline, against without)', async () => {
    const source = dirPackSource(DEMO);
    const variant = source.manifest.variants.find((v) => v.default)!;
    const pipeline = await Pipeline.load(source, { factory: nodeFactory, variant });
    const cases = [
      ['circle', 'blue circle', 43, 23, 14],
      ['square', 'green square', 24, 42, 13],
      ['heart', 'red heart', 21, 21, 12],
      ['triangle', 'warning', 40, 40, 17],
    ] as const;
    const scores = { with: [] as number[], without: [] as number[] };
    for (const [kind, prompt, cx, cy, r] of cases) {
      const { lines, fill } = drawnShape(shapePoints(kind, cx, cy, r));
      const request = { prompt, steps: 4, seed: 1, preview: false } as const;
      const plain = await generateImage(pipeline, request);
      const followed = await generateImage(pipeline, {
        ...request,
        outline: { mask: lines, strength: source.manifest.control!.defaultStrength },
      });
      scores.with.push(iou(objectMask(followed.image), fill));
      scores.without.push(iou(objectMask(plain.image), fill));
    }
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    console.log(
      `demo pack, int8, IoU with the outline ${scores.with.map((v) => v.toFixed(2)).join(' ')} (mean ${mean(scores.with).toFixed(3)}), without ${scores.without.map((v) => v.toFixed(2)).join(' ')} (mean ${mean(scores.without).toFixed(3)})`,
    );
    expect(mean(scores.with)).toBeGreaterThanOrEqual(0.5);
    expect(mean(scores.with) - mean(scores.without)).toBeGreaterThanOrEqual(0.2);
    await pipeline.release();
  });
});
