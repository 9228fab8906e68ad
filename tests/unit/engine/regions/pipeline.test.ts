/**
 * Regional prompting through the real pipelines on the fixture graphs (random
 * weights, SD-Turbo and LCM I/O) in onnxruntime-node: the plumbing, not the
 * pictures (those are checked on the demo pack in demo-pack.test.ts).
 */

import { describe, expect, it } from 'vitest';
import { Pipeline, type GenerateRequest } from '../../../../src/engine/pipelines';
import {
  planRegions,
  scheduleStrength,
  type RegionalOptions,
} from '../../../../src/engine/regions/generate';
import type { CpuTensor } from '../../../../src/engine/tensors';
import { GessoError } from '../../../../src/shared/errors';
import type { RegionLayout } from '../../../../src/shared/regions/layout';
import type { ModelSession, SessionFactory } from '../../../../src/engine/session';
import { fixturePack, nodeFactory } from '../helpers/node-packs';

/** What the engine does with a layout, with the test's own encoder opener. */
async function generateWithPlan(
  pipeline: Pipeline,
  request: GenerateRequest,
  layout: RegionLayout,
  options: RegionalOptions,
) {
  const plan = await planRegions(pipeline, request, layout, options);
  return pipeline.generate(request, {
    ...(plan.init ? { init: plan.init } : {}),
    ...(plan.predictor ? { predictor: plan.predictor } : {}),
  });
}

const half = (id: number, left: boolean) => ({
  region: id,
  erase: false,
  points: [
    { x: left ? 0.25 : 0.75, y: -1, width: 0.5 },
    { x: left ? 0.25 : 0.75, y: 2, width: 0.5 },
  ],
});
const everywhere = (id: number) => ({
  region: id,
  erase: false,
  points: [{ x: 0.5, y: 0.5, width: 3 }],
});
const region = (id: number, prompt: string) => ({
  id,
  name: `R${id}`,
  colour: '#ff0000',
  prompt,
  strength: 1,
  hidden: false,
});

function countingFactory() {
  const runs: { label: string; batch: number }[] = [];
  const factory: SessionFactory = async (bytes, label, hints) => {
    const s = await nodeFactory(bytes, label, hints);
    const spy: ModelSession = {
      inputs: s.inputs,
      outputs: s.outputs,
      run: (feeds) => {
        const first = Object.values(feeds)[0]!;
        runs.push({ label, batch: first.dims[0] ?? 1 });
        return s.run(feeds);
      },
      release: () => s.release(),
    };
    return spy;
  };
  return { factory, runs };
}

async function load(name: 'sd-turbo' | 'lcm', factory: SessionFactory = nodeFactory) {
  const source = fixturePack(name);
  const variant = source.manifest.variants.find((v) => v.default) ?? source.manifest.variants[0]!;
  return Pipeline.load(source, { factory, variant });
}

function maxDiff(a: Uint8ClampedArray, b: Uint8ClampedArray): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe.each(['sd-turbo', 'lcm'] as const)('regions on the %s fixture pack', (name) => {
  const request: GenerateRequest = {
    prompt: 'square',
    steps: 2,
    guidance: name === 'lcm' ? 4 : 1,
    seed: 3,
    preview: false,
  };

  it('a region covering everything gives exactly that prompt’s image', async () => {
    const pipeline = await load(name);
    const layout: RegionLayout = {
      version: 1,
      regions: [region(1, 'red square')],
      strokes: [everywhere(1)],
    };
    const plan = await planRegions(pipeline, request, layout);
    const regional = await pipeline.generate(request, { predictor: plan.predictor });
    const direct = await pipeline.generate({ ...request, prompt: 'red square' });
    const base = await pipeline.generate(request);
    expect(maxDiff(regional.image.data, direct.image.data)).toBe(0);
    expect(maxDiff(regional.image.data, base.image.data)).toBeGreaterThan(0);
    expect(plan.stats.evaluations).toBe(2); // the main prompt has no cell left: not run
    await pipeline.release();
  });

  it('batched and sequential predictions give the same image; counts UNet calls', async () => {
    const { factory, runs } = countingFactory();
    const pipeline = await load(name, factory);
    const layout: RegionLayout = {
      version: 1,
      regions: [region(1, 'red square'), region(2, 'blue square')],
      strokes: [half(1, true), half(2, false)],
    };
    const batchedPlan = await planRegions(pipeline, request, layout);
    runs.length = 0;
    const batched = await pipeline.generate(request, { predictor: batchedPlan.predictor });
    const batchedUnetRuns = runs.filter((r) => r.label.includes('UNet'));
    const seqPlan = await planRegions(pipeline, request, layout, { sequential: true });
    runs.length = 0;
    const sequential = await pipeline.generate(request, { predictor: seqPlan.predictor });
    const seqUnetRuns = runs.filter((r) => r.label.includes('UNet'));
    expect(maxDiff(batched.image.data, sequential.image.data)).toBeLessThanOrEqual(1);
    // The two halves cover every cell (the seam is shared 0.75/0.25), so the main prompt is
    // never run: two prompts per step.
    expect(seqPlan.stats).toEqual({ calls: 4, evaluations: 4 });
    expect(seqUnetRuns.map((r) => r.batch)).toEqual([1, 1, 1, 1]);
    expect(batchedPlan.stats.evaluations).toBe(4);
    if (batchedPlan.stats.calls === 2) expect(batchedUnetRuns.map((r) => r.batch)).toEqual([2, 2]);
    else expect(batchedPlan.stats.calls).toBe(4); // a fixed-batch export falls back to one call per prompt
    console.log(
      `${name}: batched plan made ${batchedPlan.stats.calls} UNet calls for 4 evaluations`,
    );
    await pipeline.release();
  });
});

/** A stand-in VAE encoder: 8x8 average pooling of R, G, B into latent channels 0-2 (channel 3 zero). */
function fakeEncoder(seen: CpuTensor[]): ModelSession {
  return {
    inputs: [{ name: 'sample', type: 'float32', shape: [1, 3, 64, 64] }],
    outputs: [{ name: 'latent_sample', type: 'float32', shape: [1, 4, 8, 8] }],
    async run(feeds) {
      const input = feeds.sample as CpuTensor;
      seen.push(input);
      const px = input.data as Float32Array;
      const out = new Float32Array(4 * 64);
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < 64; y++)
          for (let x = 0; x < 64; x++)
            out[c * 64 + (y >> 3) * 8 + (x >> 3)]! += px[c * 4096 + y * 64 + x]! / 64;
      return { latent_sample: { type: 'float32', dims: [1, 4, 8, 8], data: out } };
    },
    release: async () => undefined,
  };
}

describe('sketch-to-image on the lcm fixture pack', () => {
  const request: GenerateRequest = {
    prompt: 'square',
    steps: 2,
    guidance: 4,
    seed: 5,
    preview: false,
  };
  const layout: RegionLayout = {
    version: 1,
    regions: [{ ...region(1, ''), colour: '#ff0000' }],
    strokes: [half(1, true)],
    startImage: { strength: 0.6 },
  };

  it('encodes the drawing (red on white, in [-1, 1]) and starts part-way down the schedule', async () => {
    const { factory, runs } = countingFactory();
    const pipeline = await load('lcm', factory);
    const seen: CpuTensor[] = [];
    const plain = await pipeline.generate(request);
    runs.length = 0;
    const result = await generateWithPlan(pipeline, request, layout, {
      openEncoder: async () => fakeEncoder(seen),
    });
    expect(seen).toHaveLength(1);
    const px = seen[0]!.data as Float32Array;
    expect(seen[0]!.dims).toEqual([1, 3, 64, 64]);
    expect([px[32 * 64 + 5], px[4096 + 32 * 64 + 5], px[8192 + 32 * 64 + 5]]).toEqual([1, -1, -1]); // red
    expect([px[32 * 64 + 60], px[4096 + 32 * 64 + 60], px[8192 + 32 * 64 + 60]]).toEqual([1, 1, 1]); // white
    expect(runs.filter((r) => r.label.includes('UNet'))).toHaveLength(2);
    expect(result.image.data).not.toEqual(plain.image.data);
    await pipeline.release();
  });

  it('says so when the pack has no encoder', async () => {
    const pipeline = await load('lcm');
    await expect(
      generateWithPlan(pipeline, request, layout, {
        openEncoder: async () => null,
      }),
    ).rejects.toThrow(GessoError);
    await pipeline.release();
  });

  it('keeps at least one step of the schedule', () => {
    const lcm = {
      manifest: { pipeline: 'lcm', scheduler: { kind: 'lcm', originalSteps: 50 } },
    } as unknown as Pipeline;
    const turbo = {
      manifest: { pipeline: 'sd-turbo', scheduler: { kind: 'euler-ancestral-trailing' } },
    } as unknown as Pipeline;
    expect(scheduleStrength(lcm, 4, 0.6)).toBeCloseTo(0.4, 6);
    expect(scheduleStrength(lcm, 4, 0.99)).toBeCloseTo(0.08, 6);
    expect(scheduleStrength(turbo, 4, 0.5)).toBeCloseTo(0.5, 6);
    expect(scheduleStrength(turbo, 2, 0.9)).toBeCloseTo(0.5, 6);
  });
});
