/**
 * Classifier-free guidance checked as a formula, eps = uncond + g (cond - uncond)
 * (Ho & Salimans 2022), not only as "the pixels change".
 *
 * The pipeline runs the SD-Turbo fixture graphs as the "demo" kind: that UNet
 * has no timestep_cond, so guidance is classifier-free. A stub UNet with the
 * real export's metadata answers each prompt with a known pattern, whatever
 * the latents or the batch size: it recognises a prompt by its text states.
 * A stub decoder records the latents it is asked to decode. The expected
 * image latents replay the same scheduler with the expected noise
 * prediction and the same seeded noise; the schedulers themselves are checked
 * against an independent reference in schedulers-reference.test.ts.
 *
 * Regions (planRegions): each prompt's prediction is blended by its region
 * weights and one unconditional prediction serves them all, so
 * eps = u + g (sum_k w_k eps_k - u) per latent cell.
 *
 * Tolerance: float32 arithmetic on values of size ~1: 1e-5 relative to
 * max(1, |expected|); measured worst 1.2e-7 (console lines).
 */

import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../../src/engine/pipelines';
import { planRegions } from '../../../src/engine/regions/generate';
import { createScheduler } from '../../../src/engine/schedulers';
import type { ModelSession, SessionFactory, Value } from '../../../src/engine/session';
import { toFloat32, type CpuTensor } from '../../../src/engine/tensors';
import type { RegionLayout } from '../../../src/shared/regions/layout';
import { Random } from '../../../src/shared/random';
import { fillRect } from './regions/shapes';
import { fixturePack, nodeFactory } from './helpers/node-packs';

const PROMPTS = ['cat', 'red', 'heart', 'red heart', ''];
const TOLERANCE = 1e-5;

/** The stub UNet's answer for a prompt: a distinct smooth pattern per prompt. */
function pattern(prompt: string, length: number): Float32Array {
  const k = PROMPTS.indexOf(prompt);
  if (k < 0) throw new Error(`unknown prompt ${prompt}`);
  return Float32Array.from(
    { length },
    (_, j) => 0.3 * (k + 1) * Math.sin(0.17 * j * (k + 1) + k) + 0.1 * (k - 2),
  );
}

interface Call {
  batch: string[];
  timestep: number;
}

async function load() {
  const source = fixturePack('sd-turbo', (m) => ({
    ...m,
    pipeline: 'demo',
    ranges: { ...m.ranges, steps: [1, 8], guidance: [1, 12] },
  }));
  const known: { prompt: string; hidden: Float32Array }[] = [];
  const calls: Call[] = [];
  const decoded: Float32Array[] = [];
  const recognise = (hidden: Float32Array) => {
    let best = '';
    let bestD = Infinity;
    for (const k of known) {
      let d = 0;
      for (let i = 0; i < hidden.length; i++) d += (hidden[i]! - k.hidden[i]!) ** 2;
      if (d < bestD) [best, bestD] = [k.prompt, d];
    }
    expect(bestD).toBeLessThan(1e-6); // exactly one of the known encodings
    return best;
  };
  const stubUnet = (real: ModelSession): ModelSession => ({
    inputs: real.inputs,
    outputs: real.outputs,
    async run(feeds: Record<string, Value>) {
      const sample = feeds.sample as CpuTensor;
      const hidden = toFloat32(feeds.encoder_hidden_states as CpuTensor);
      const batch = sample.dims[0]!;
      const size = sample.data.length / batch;
      const per = hidden.length / batch;
      const out = new Float32Array(sample.data.length);
      const prompts: string[] = [];
      for (let b = 0; b < batch; b++) {
        const prompt = recognise(hidden.subarray(b * per, (b + 1) * per));
        prompts.push(prompt);
        out.set(pattern(prompt, size), b * size);
      }
      calls.push({ batch: prompts, timestep: Number((feeds.timestep as CpuTensor).data[0]) });
      return { out_sample: { type: 'float32', dims: [...sample.dims], data: out } };
    },
    release: () => real.release(),
  });
  const stubDecoder = (real: ModelSession): ModelSession => ({
    inputs: real.inputs,
    outputs: real.outputs,
    async run(feeds: Record<string, Value>) {
      const z = feeds.latent_sample as CpuTensor;
      decoded.push(toFloat32(z).slice());
      const [, , h, w] = z.dims as number[];
      const out = new Float32Array(3 * h! * 8 * w! * 8);
      return { sample: { type: 'float32', dims: [1, 3, h! * 8, w! * 8], data: out } };
    },
    release: () => real.release(),
  });
  const factory: SessionFactory = async (bytes, label, hints) => {
    const real = await nodeFactory(bytes, label, hints);
    if (label === 'image model (UNet)') return stubUnet(real);
    if (label === 'image decoder') return stubDecoder(real);
    return real;
  };
  const variant = source.manifest.variants.find((v) => v.id === 'fp32')!;
  const pipeline = await Pipeline.load(source, { factory, variant });
  for (const prompt of PROMPTS)
    known.push({
      prompt,
      hidden: toFloat32((await pipeline.encodePrompt(prompt)).hidden as CpuTensor),
    });
  return { pipeline, calls, decoded };
}

function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++)
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)));
  return worst;
}

describe('classifier-free guidance in the pipeline', () => {
  it.each([
    [1, 1],
    [2.5, 1],
    [7, 1],
    [4, 3],
  ])('guidance %s, %s step(s): the scheduler gets uncond + g (cond - uncond)', async (g, steps) => {
    const { pipeline, calls, decoded } = await load();
    const request = { prompt: 'cat', negativePrompt: 'red', steps, guidance: g, seed: 5 };
    calls.length = 0;
    await pipeline.generate({ ...request, preview: false });
    const dims = pipeline.latentDims({});
    const count = dims.reduce((a, b) => a * b, 1);

    // Which predictions were asked for: the prompt, and the negative prompt only when g > 1.
    const evaluated = calls.flatMap((c) => c.batch);
    expect(evaluated).toEqual(
      Array.from({ length: steps }, () => (g > 1 ? ['cat', 'red'] : ['cat'])).flat(),
    );
    const cond = pattern('cat', count);
    const uncond = pattern('red', count);
    const eps = g > 1 ? cond.map((c, i) => uncond[i]! + g * (c - uncond[i]!)) : cond;

    // Replay: same scheduler, same seeded noise, the expected prediction at every step.
    const scheduler = createScheduler({ ...pipeline.manifest.scheduler, kind: 'lcm' }, { steps });
    const random = new Random(request.seed);
    let x: Float32Array = random.gaussians(count).map((v) => v * scheduler.initNoiseSigma);
    let denoised: Float32Array = x;
    for (let i = 0; i < steps; i++) {
      ({ next: x, denoised } = scheduler.step(i, x, eps, (n) => random.gaussians(n)));
    }
    const scale = pipeline.manifest.latent.scalingFactor;
    const got = decoded.at(-1)!.map((v) => v * scale);
    const error = relError(got, denoised);
    console.log(`CFG g=${g}, ${steps} step(s): worst relative error ${error.toExponential(1)}`);
    expect(error).toBeLessThanOrEqual(TOLERANCE);
    // The check has teeth: with g > 1 the guided prediction is far from the prompt's own.
    if (g > 1) expect(relError(eps, cond)).toBeGreaterThan(0.1);
    await pipeline.release();
  });
});

describe('classifier-free guidance with regions (one unconditional prediction for all prompts)', () => {
  const layout: RegionLayout = {
    version: 1,
    regions: [
      { id: 1, name: 'red', colour: '#000000', prompt: 'red', strength: 1, hidden: false },
      {
        id: 2,
        name: 'heart',
        colour: '#000000',
        prompt: 'red heart',
        strength: 0.5,
        hidden: false,
      },
    ],
    strokes: [
      ...fillRect(1, { x0: 0, x1: 0.5, y0: 0, y1: 1 }),
      ...fillRect(2, { x0: 0.5, x1: 1, y0: 0.5, y1: 1 }),
    ],
  };

  it.each([
    ['batched', false],
    ['one call per prompt', true],
  ])('%s: eps = u + g (sum_k w_k eps_k - u)', async (mode, sequential) => {
    const { pipeline, calls } = await load();
    const g = 6;
    const request = { prompt: 'cat', negativePrompt: '', steps: 1, guidance: g, seed: 1 };
    const plan = await planRegions(pipeline, request, layout, { sequential });
    expect(plan.predictor).toBeDefined();
    const dims = pipeline.latentDims({});
    const count = dims.reduce((a, b) => a * b, 1);
    const plane = dims[2]! * dims[3]!;
    calls.length = 0;
    const input = new Random(3).gaussians(count);
    const got = await plan.predictor!(input, { index: 0, steps: 1, timestep: 999 });

    // Every prompt with some weight, plus the unconditional (empty negative prompt) once.
    expect(calls.flatMap((c) => c.batch).sort()).toEqual(['', 'cat', 'red', 'red heart'].sort());
    expect(calls).toHaveLength(sequential ? 4 : 1);
    const prompts = ['cat', 'red', 'red heart'];
    const weights = plan.weights!.weights;
    expect(weights).toHaveLength(3);
    const u = pattern('', count);
    const want = new Float32Array(count);
    let coverage = 0;
    for (let i = 0; i < count; i++) {
      let blended = 0;
      for (let k = 0; k < prompts.length; k++)
        blended += weights[k]![i % plane]! * pattern(prompts[k]!, count)[i]!;
      want[i] = u[i]! + g * (blended - u[i]!);
      coverage = Math.max(coverage, Math.abs(weights[1]![i % plane]! - weights[0]![i % plane]!));
    }
    expect(coverage).toBeGreaterThan(0.5); // the regions really split the image
    const error = relError(got, want);
    console.log(`regional CFG (${mode}): worst relative error ${error.toExponential(1)}`);
    expect(error).toBeLessThanOrEqual(TOLERANCE);
    await pipeline.release();
  });
});
