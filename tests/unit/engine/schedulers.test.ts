import { describe, expect, it } from 'vitest';
import type { SchedulerConfig } from '../../../src/shared/pack-manifest';
import { createScheduler } from '../../../src/engine/schedulers';
import { alphasCumprod, sigmaOf } from '../../../src/engine/schedulers/alphas';
import {
  createEulerAncestralScheduler,
  trailingTimesteps,
} from '../../../src/engine/schedulers/euler-ancestral';
import { guidanceEmbedding } from '../../../src/engine/schedulers/guidance';
import { createLcmScheduler, lcmBoundary, lcmTimesteps } from '../../../src/engine/schedulers/lcm';

const LCM: SchedulerConfig = {
  kind: 'lcm',
  trainTimesteps: 1000,
  betaStart: 0.00085,
  betaEnd: 0.012,
  betaSchedule: 'scaled_linear',
  originalSteps: 50,
  timestepScaling: 10,
};
const TURBO: SchedulerConfig = { ...LCM, kind: 'euler-ancestral-trailing' };
const noNoise = () => {
  throw new Error('no noise expected');
};

describe('noise schedule', () => {
  it('builds scaled-linear alphas_cumprod', () => {
    const abar = alphasCumprod(LCM);
    expect(abar).toHaveLength(1000);
    expect(abar[0]).toBeCloseTo(1 - 0.00085, 12);
    expect(abar[999]).toBeCloseTo(0.0046601, 6);
    expect(sigmaOf(abar[999]!)).toBeCloseTo(14.6146, 4);
  });

  it('builds linear betas too', () => {
    const abar = alphasCumprod({
      ...LCM,
      betaSchedule: 'linear',
      trainTimesteps: 3,
      betaStart: 0.1,
      betaEnd: 0.3,
    });
    expect(Array.from(abar)).toEqual(
      [0.9, 0.9 * 0.8, 0.9 * 0.8 * 0.7].map((v) => expect.closeTo(v, 12)),
    );
  });
});

describe('LCM scheduler', () => {
  it('picks timesteps from the skip grid', () => {
    expect(lcmTimesteps(LCM, 4)).toEqual([999, 759, 499, 259]);
    expect(lcmTimesteps(LCM, 1)).toEqual([999]);
    expect(lcmTimesteps(LCM, 2)).toEqual([999, 499]);
    expect(lcmTimesteps(LCM, 8)).toEqual([999, 879, 759, 639, 499, 379, 259, 139]);
    expect(lcmTimesteps(LCM, 2, 0.5)).toEqual([499, 259]); // img2img grid 19..499
  });

  it('has boundary conditions c_skip -> 0, c_out -> 1 at large t', () => {
    const { cSkip, cOut } = lcmBoundary(999, 10);
    expect(cSkip).toBeCloseTo(0.25 / (9990 ** 2 + 0.25), 15);
    expect(cOut).toBeCloseTo(1, 8);
    expect(lcmBoundary(0, 10)).toEqual({ cSkip: 1, cOut: 0 });
  });

  it('predicts x0 and re-injects noise between steps', () => {
    const scheduler = createLcmScheduler(LCM, { steps: 2 });
    expect(scheduler.initNoiseSigma).toBe(1);
    expect(scheduler.modelInputScale(0)).toBe(1);
    const abar = alphasCumprod(LCM);
    const x = Float32Array.from([1]);
    const eps = Float32Array.from([0.5]);
    const x0 = (1 - Math.sqrt(1 - abar[999]!) * 0.5) / Math.sqrt(abar[999]!);
    const { cSkip, cOut } = lcmBoundary(999, 10);
    const { next, denoised } = scheduler.step(0, x, eps, (n) => new Float32Array(n).fill(2));
    expect(denoised[0]).toBeCloseTo(cOut * x0 + cSkip * 1, 4);
    expect(next[0]).toBeCloseTo(
      Math.sqrt(abar[499]!) * denoised[0]! + Math.sqrt(1 - abar[499]!) * 2,
      4,
    );
    // The last step draws no noise and returns the denoised latents.
    const last = scheduler.step(1, x, eps, noNoise);
    expect(last.next).toBe(last.denoised);
  });
});

describe('Euler ancestral, trailing spacing (SD-Turbo)', () => {
  it('uses trailing timesteps', () => {
    expect(trailingTimesteps(1000, 4)).toEqual([999, 749, 499, 249]);
    expect(trailingTimesteps(1000, 1)).toEqual([999]);
    expect(trailingTimesteps(1000, 3)).toEqual([999, 666, 332]);
  });

  it('runs one step at t=999 with sigma_max scaling', () => {
    const scheduler = createEulerAncestralScheduler(TURBO, { steps: 1 });
    expect(scheduler.timesteps).toEqual([999]);
    expect(scheduler.initNoiseSigma).toBeCloseTo(14.6146, 4);
    expect(scheduler.modelInputScale(0)).toBeCloseTo(1 / Math.sqrt(14.6146 ** 2 + 1), 6);
    const { next, denoised } = scheduler.step(
      0,
      Float32Array.from([10]),
      Float32Array.from([0.5]),
      noNoise,
    );
    expect(denoised[0]).toBeCloseTo(10 - 14.61464 * 0.5, 3);
    expect(next).toBe(denoised);
  });

  it('splits the next sigma into a deterministic and an ancestral part', () => {
    const scheduler = createEulerAncestralScheduler(TURBO, { steps: 2 });
    const abar = alphasCumprod(TURBO);
    const from = sigmaOf(abar[999]!);
    const to = sigmaOf(abar[499]!);
    expect(to).toBeCloseTo(1.6129, 3);
    const up = Math.sqrt((to ** 2 * (from ** 2 - to ** 2)) / from ** 2);
    const down = Math.sqrt(to ** 2 - up ** 2);
    // x = 10, eps = 0.5: x0 = 10 - 0.5 from, derivative = 0.5, x' = x + 0.5 (down - from) + z up.
    const { next } = scheduler.step(0, Float32Array.from([10]), Float32Array.from([0.5]), (n) =>
      new Float32Array(n).fill(1),
    );
    expect(next[0]).toBeCloseTo(10 + 0.5 * (down - from) + up, 4);
    expect(up ** 2 + down ** 2).toBeCloseTo(to ** 2, 10);
  });

  it('skips early steps for img2img strength', () => {
    expect(createEulerAncestralScheduler(TURBO, { steps: 4, strength: 0.5 }).timesteps).toEqual([
      499, 249,
    ]);
  });
});

describe('LCM guidance embedding', () => {
  it('is sin 0 / cos 1 at guidance 1', () => {
    const embedding = guidanceEmbedding(1, 256);
    expect(Array.from(embedding.slice(0, 128)).every((v) => v === 0)).toBe(true);
    expect(Array.from(embedding.slice(128)).every((v) => v === 1)).toBe(true);
  });

  it('uses w = (g - 1) * 1000 and frequencies 10000^(-i/127)', () => {
    const embedding = guidanceEmbedding(8.5, 256);
    expect(embedding[0]).toBeCloseTo(Math.sin(7500), 5);
    expect(embedding[128]).toBeCloseTo(Math.cos(7500), 5);
    expect(embedding[127]).toBeCloseTo(Math.sin(0.75), 5); // f_127 = 1e-4
    expect(embedding[255]).toBeCloseTo(Math.cos(0.75), 5);
  });
});

describe('a step as a linear form (what the GPU step graph computes)', () => {
  const cases = [
    ['Euler ancestral, 4 steps', createEulerAncestralScheduler(TURBO, { steps: 4 })],
    ['Euler ancestral, 1 step', createEulerAncestralScheduler(TURBO, { steps: 1 })],
    ['Euler ancestral, img2img', createEulerAncestralScheduler(TURBO, { steps: 4, strength: 0.5 })],
    ['LCM, 4 steps', createLcmScheduler(LCM, { steps: 4 })],
    ['LCM, img2img', createLcmScheduler(LCM, { steps: 4, strength: 0.6 })],
    ['Euler ancestral, v-prediction', createScheduler({ ...TURBO, prediction: 'v' }, { steps: 4 })],
    [
      'Euler ancestral, v-prediction, img2img',
      createScheduler({ ...TURBO, prediction: 'v' }, { steps: 4, strength: 0.5 }),
    ],
    ['LCM, v-prediction', createScheduler({ ...LCM, prediction: 'v' }, { steps: 4 })],
  ] as const;

  it.each(cases)('%s: gives step()’s latents, estimate and noise draws', (_, scheduler) => {
    const n = 64;
    const wave = (k: number) => Float32Array.from({ length: n }, (_, j) => Math.sin(j * k + 1) * 2);
    for (let i = 0; i < scheduler.timesteps.length; i++) {
      const x = wave(0.3);
      const eps = wave(0.7);
      const z = wave(1.9);
      let drew = false;
      const { next, denoised } = scheduler.step(i, x, eps, (length) => {
        drew = true;
        return z.subarray(0, length);
      });
      const form = scheduler.linear(i);
      expect(form.drawsNoise).toBe(drew);
      for (let j = 0; j < n; j++) {
        const zj = form.drawsNoise ? z[j]! : 0;
        expect(form.nextX * x[j]! + form.nextEps * eps[j]! + form.nextNoise * zj).toBeCloseTo(
          next[j]!,
          4,
        );
        expect(form.denoisedX * x[j]! + form.denoisedEps * eps[j]!).toBeCloseTo(denoised[j]!, 4);
      }
    }
  });
});
