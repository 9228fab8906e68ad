/**
 * v-prediction packs (SD 2.x 768): the UNet's v turned into the noise the
 * samplers step with, checked against the definitions and against diffusers'
 * own formulas; a pack whose manifest says `prediction: 'v'` loads and
 * samples through the same pipeline.
 */

import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../../src/engine/pipelines';
import { createScheduler } from '../../../src/engine/schedulers';
import { alphasCumprod, sigmaOf } from '../../../src/engine/schedulers/alphas';
import { lcmBoundary } from '../../../src/engine/schedulers/lcm';
import { epsilonFromV } from '../../../src/engine/schedulers/prediction';
import type { ModelSession, SessionFactory, Value } from '../../../src/engine/session';
import type { PackManifest, SchedulerConfig } from '../../../src/shared/pack-manifest';
import { parseManifest } from '../../../src/store/validate-manifest';
import { fixturePack, nodeFactory } from './helpers/node-packs';

const BASE: SchedulerConfig = {
  kind: 'euler-ancestral-trailing',
  trainTimesteps: 1000,
  betaStart: 0.00085,
  betaEnd: 0.012,
  betaSchedule: 'scaled_linear',
  originalSteps: 50,
  timestepScaling: 10,
};
const wave = (n: number, k: number) =>
  Float32Array.from({ length: n }, (_, j) => Math.sin(j * k + 1) * 2);

describe('v to noise', () => {
  it('recovers the noise and the clean latents that made x and v', () => {
    const x0 = wave(32, 0.4);
    const eps = wave(32, 1.3);
    for (const a of [0.9991, 0.5, 0.0047]) {
      const x = x0.map((v, j) => Math.sqrt(a) * v + Math.sqrt(1 - a) * eps[j]!);
      const v = eps.map((e, j) => Math.sqrt(a) * e - Math.sqrt(1 - a) * x0[j]!);
      const got = epsilonFromV(x, v, a, 1);
      for (let j = 0; j < 32; j++) expect(got[j]).toBeCloseTo(eps[j]!, 5);
      // and x0 = sqrt(a) x - sqrt(1-a) v, the brief's other half
      for (let j = 0; j < 32; j++)
        expect(Math.sqrt(a) * x[j]! - Math.sqrt(1 - a) * v[j]!).toBeCloseTo(x0[j]!, 5);
    }
  });

  it('Euler ancestral: the clean estimate is diffusers’ x/(σ²+1) − v σ/√(σ²+1) at every step', () => {
    const scheduler = createScheduler({ ...BASE, prediction: 'v' }, { steps: 4 });
    const abar = alphasCumprod(BASE);
    for (let i = 0; i < 4; i++) {
      const sigma = sigmaOf(abar[scheduler.timesteps[i]!]!);
      const x = wave(16, 0.3 + i);
      const v = wave(16, 0.9 + i);
      const { denoised } = scheduler.step(i, x, v, (n) => wave(n, 2.1));
      for (let j = 0; j < 16; j++)
        expect(denoised[j]).toBeCloseTo(
          x[j]! / (sigma ** 2 + 1) - (v[j]! * sigma) / Math.sqrt(sigma ** 2 + 1),
          4,
        );
    }
  });

  it('LCM: the estimate is c_out (√a x − √(1−a) v) + c_skip x, as diffusers’ LCMScheduler', () => {
    const config: SchedulerConfig = { ...BASE, kind: 'lcm', prediction: 'v' };
    const scheduler = createScheduler(config, { steps: 4 });
    const abar = alphasCumprod(config);
    for (let i = 0; i < 4; i++) {
      const t = scheduler.timesteps[i]!;
      const a = abar[t]!;
      const { cSkip, cOut } = lcmBoundary(t, 10);
      const x = wave(16, 0.5 + i);
      const v = wave(16, 1.1 + i);
      const { denoised } = scheduler.step(i, x, v, (n) => wave(n, 2.1));
      for (let j = 0; j < 16; j++)
        expect(denoised[j]).toBeCloseTo(
          cOut * (Math.sqrt(a) * x[j]! - Math.sqrt(1 - a) * v[j]!) + cSkip * x[j]!,
          4,
        );
    }
  });

  it('an epsilon pack (or one that says nothing) is stepped as before', () => {
    const plain = createScheduler(BASE, { steps: 4 });
    const eps = createScheduler({ ...BASE, prediction: 'epsilon' }, { steps: 4 });
    const x = wave(16, 0.3);
    const e = wave(16, 0.8);
    expect(eps.step(0, x, e, () => wave(16, 2)).next).toEqual(
      plain.step(0, x, e, () => wave(16, 2)).next,
    );
  });
});

describe('a pack whose manifest says prediction v', () => {
  const patch = (m: PackManifest): PackManifest => ({
    ...m,
    scheduler: { ...m.scheduler, prediction: 'v' },
  });

  it('passes the manifest check, and a prediction the engine does not know does not', () => {
    const manifest = fixturePack('sd-turbo', patch).manifest;
    expect(() => parseManifest(manifest)).not.toThrow();
    const wrong = { ...manifest, scheduler: { ...manifest.scheduler, prediction: 'sample' } };
    expect(() => parseManifest(wrong)).toThrow(/scheduler\.prediction/);
  });

  it('loads and samples: the decoder gets √a x − √(1−a) v from the UNet’s own input and output', async () => {
    const unet: { input: Float32Array; output: Float32Array }[] = [];
    const decoded: Float32Array[] = [];
    const factory: SessionFactory = async (bytes, label, hints) => {
      const session = await nodeFactory(bytes, label, hints);
      const data = (v: Value | undefined) =>
        Float32Array.from(v && 'data' in v ? (v.data as Float32Array) : []);
      const spy: ModelSession = {
        inputs: session.inputs,
        outputs: session.outputs,
        run: async (feeds) => {
          const out = await session.run(feeds);
          if (label === 'image model (UNet)')
            unet.push({ input: data(feeds.sample), output: data(Object.values(out)[0]) });
          if (label === 'image decoder') decoded.push(data(Object.values(feeds)[0]));
          return out;
        },
        release: () => session.release(),
      };
      return spy;
    };
    const source = fixturePack('sd-turbo', patch);
    const variant = source.manifest.variants.find((v) => v.id === 'fp32')!;
    const pipeline = await Pipeline.load(source, { factory, variant });
    const result = await pipeline.generate({ prompt: 'red heart', steps: 1, guidance: 1, seed: 5 });
    expect(result.image.data).toHaveLength(64 * 64 * 4);
    const a = alphasCumprod(source.manifest.scheduler)[999]!;
    const { input, output } = unet.at(-1)!;
    const latent = decoded.at(-1)!;
    expect(input.length).toBe(4 * 8 * 8);
    expect(latent).toHaveLength(input.length);
    const scale = 1 / source.manifest.latent.scalingFactor;
    for (let j = 0; j < input.length; j++)
      expect(latent[j]).toBeCloseTo(
        scale * (Math.sqrt(a) * input[j]! - Math.sqrt(1 - a) * output[j]!),
        3,
      );
    await pipeline.release();
  });
});
