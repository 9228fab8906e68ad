/**
 * Latent Consistency Model scheduler (Luo et al. 2023), the multi-step
 * consistency sampler as in diffusers' LCMScheduler, epsilon prediction.
 *
 * Timesteps: skip k = trainTimesteps / originalSteps, training grid
 * k-1, 2k-1, ..., trainTimesteps-1, reversed; n steps take entries
 * floor(i * len / n). Each step: x0 = (x - sqrt(1-abar_t) eps) / sqrt(abar_t),
 * denoised = c_out x0 + c_skip x with s = timestepScaling * t,
 * c_skip = 0.25 / (s^2 + 0.25), c_out = s / sqrt(s^2 + 0.25) (sigma_data 0.5);
 * then, except after the last step, x = sqrt(abar_prev) denoised + sqrt(1-abar_prev) z.
 */

import type { SchedulerConfig } from '../../shared/pack-manifest';
import { alphasCumprod } from './alphas';
import type { Scheduler, SchedulerOptions, StepResult } from './types';

export function lcmTimesteps(config: SchedulerConfig, steps: number, strength = 1): number[] {
  const originalSteps = config.originalSteps ?? 50;
  const k = Math.floor(config.trainTimesteps / originalSteps);
  const count = Math.floor(originalSteps * strength);
  if (count < 1) throw new RangeError('Strength is too low to run any step.');
  const grid: number[] = [];
  for (let i = count; i >= 1; i--) grid.push(i * k - 1);
  if (steps < 1 || steps > grid.length) throw new RangeError(`Steps must be 1 to ${grid.length}.`);
  const out: number[] = [];
  for (let i = 0; i < steps; i++) out.push(grid[Math.floor((i * grid.length) / steps)]!);
  return out;
}

export function lcmBoundary(t: number, timestepScaling: number): { cSkip: number; cOut: number } {
  const s = timestepScaling * t;
  return { cSkip: 0.25 / (s * s + 0.25), cOut: s / Math.sqrt(s * s + 0.25) };
}

export function createLcmScheduler(config: SchedulerConfig, options: SchedulerOptions): Scheduler {
  const abar = alphasCumprod(config);
  const timesteps = lcmTimesteps(config, options.steps, options.strength ?? 1);
  const scaling = config.timestepScaling ?? 10;
  return {
    timesteps,
    initNoiseSigma: 1,
    modelInputScale: () => 1,
    step(i, sample, eps, noise): StepResult {
      const t = timesteps[i]!;
      const a = abar[t]!;
      const sqrtA = Math.sqrt(a);
      const sqrtB = Math.sqrt(1 - a);
      const { cSkip, cOut } = lcmBoundary(t, scaling);
      const denoised = new Float32Array(sample.length);
      for (let j = 0; j < sample.length; j++) {
        const x0 = (sample[j]! - sqrtB * eps[j]!) / sqrtA;
        denoised[j] = cOut * x0 + cSkip * sample[j]!;
      }
      if (i + 1 >= timesteps.length) return { next: denoised, denoised };
      const aPrev = abar[timesteps[i + 1]!]!;
      const z = noise(sample.length);
      const next = new Float32Array(sample.length);
      const sa = Math.sqrt(aPrev);
      const sb = Math.sqrt(1 - aPrev);
      for (let j = 0; j < sample.length; j++) next[j] = sa * denoised[j]! + sb * z[j]!;
      return { next, denoised };
    },
    linear(i) {
      const t = timesteps[i]!;
      const a = abar[t]!;
      const { cSkip, cOut } = lcmBoundary(t, scaling);
      // denoised = c_out (x - sqrt(1-a) eps) / sqrt(a) + c_skip x
      const denoisedX = cOut / Math.sqrt(a) + cSkip;
      const denoisedEps = (-cOut * Math.sqrt(1 - a)) / Math.sqrt(a);
      if (i + 1 >= timesteps.length)
        return {
          nextX: denoisedX,
          nextEps: denoisedEps,
          nextNoise: 0,
          denoisedX,
          denoisedEps,
          drawsNoise: false,
        };
      const aPrev = abar[timesteps[i + 1]!]!;
      const sa = Math.sqrt(aPrev);
      return {
        nextX: sa * denoisedX,
        nextEps: sa * denoisedEps,
        nextNoise: Math.sqrt(1 - aPrev),
        denoisedX,
        denoisedEps,
        drawsNoise: true,
      };
    },
    addNoise(x0, z, i) {
      const a = abar[timesteps[i]!]!;
      const out = new Float32Array(x0.length);
      const sa = Math.sqrt(a);
      const sb = Math.sqrt(1 - a);
      for (let j = 0; j < x0.length; j++) out[j] = sa * x0[j]! + sb * z[j]!;
      return out;
    },
  };
}
