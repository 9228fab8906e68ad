/**
 * Euler-ancestral sampling with "trailing" timestep spacing, as SD-Turbo is
 * run (diffusers' EulerAncestralDiscreteScheduler, epsilon prediction).
 *
 * Timesteps: round(T - i T / n) - 1, half to even for i < n (4 of 1000: 999, 749, 499, 249).
 * sigma_t = sqrt((1 - abar_t) / abar_t), then a final 0. Pure noise is
 * N(0,1) * sigma_0 (trailing spacing uses sigma_max itself). The UNet sees
 * x / sqrt(sigma^2 + 1). Each step: x0 = x - sigma eps; with sigma_to the
 * next sigma, sigma_up = sqrt(sigma_to^2 (sigma^2 - sigma_to^2) / sigma^2),
 * sigma_down = sqrt(sigma_to^2 - sigma_up^2),
 * x' = x + (x - x0) / sigma * (sigma_down - sigma) + z sigma_up.
 * The last step has sigma_to = 0, so x' = x0 and no noise is drawn.
 */

import type { SchedulerConfig } from '../../shared/pack-manifest';
import { alphasCumprod, sigmaOf } from './alphas';
import type { Scheduler, SchedulerOptions, StepResult } from './types';

/** numpy's rounding (half to even), which diffusers' timestep tables use. */
function roundHalfEven(x: number): number {
  const nearest = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && nearest % 2 !== 0 ? nearest - 1 : nearest;
}

export function trailingTimesteps(trainTimesteps: number, steps: number): number[] {
  if (steps < 1 || steps > trainTimesteps)
    throw new RangeError(`Steps must be 1 to ${trainTimesteps}.`);
  // As numpy's arange(T, 0, -T/n) computes it: the step is taken back from
  // the first two values, so the float rounding (and the ties) are the same.
  const delta = trainTimesteps - trainTimesteps / steps - trainTimesteps;
  const out: number[] = [];
  for (let i = 0; i < steps; i++) out.push(roundHalfEven(trainTimesteps + i * delta) - 1);
  return out;
}

export function createEulerAncestralScheduler(
  config: SchedulerConfig,
  options: SchedulerOptions,
): Scheduler {
  const abar = alphasCumprod(config);
  const all = trailingTimesteps(config.trainTimesteps, options.steps);
  // img2img as diffusers' img2img pipelines do it: skip the first steps.
  const strength = options.strength ?? 1;
  const start = options.steps - Math.min(options.steps, Math.floor(options.steps * strength));
  const timesteps = all.slice(start);
  if (timesteps.length === 0) throw new RangeError('Strength is too low to run any step.');
  const sigmas = [...timesteps.map((t) => sigmaOf(abar[t]!)), 0];
  return {
    timesteps,
    initNoiseSigma: sigmas[0]!,
    modelInputScale: (i) => 1 / Math.sqrt(sigmas[i]! ** 2 + 1),
    step(i, sample, eps, noise): StepResult {
      const sigma = sigmas[i]!;
      const sigmaTo = sigmas[i + 1]!;
      const denoised = new Float32Array(sample.length);
      for (let j = 0; j < sample.length; j++) denoised[j] = sample[j]! - sigma * eps[j]!;
      if (sigmaTo === 0) return { next: denoised, denoised };
      const sigmaUp = Math.sqrt((sigmaTo ** 2 * (sigma ** 2 - sigmaTo ** 2)) / sigma ** 2);
      const sigmaDown = Math.sqrt(sigmaTo ** 2 - sigmaUp ** 2);
      const dt = sigmaDown - sigma;
      const z = noise(sample.length);
      const next = new Float32Array(sample.length);
      for (let j = 0; j < sample.length; j++) {
        const derivative = (sample[j]! - denoised[j]!) / sigma;
        next[j] = sample[j]! + derivative * dt + z[j]! * sigmaUp;
      }
      return { next, denoised };
    },
    linear(i) {
      const sigma = sigmas[i]!;
      const sigmaTo = sigmas[i + 1]!;
      const denoised = { denoisedX: 1, denoisedEps: -sigma };
      if (sigmaTo === 0)
        return { nextX: 1, nextEps: -sigma, nextNoise: 0, ...denoised, drawsNoise: false };
      // (x - denoised) / sigma is eps itself, so x' = x + eps dt + z sigma_up.
      const sigmaUp = Math.sqrt((sigmaTo ** 2 * (sigma ** 2 - sigmaTo ** 2)) / sigma ** 2);
      const dt = Math.sqrt(sigmaTo ** 2 - sigmaUp ** 2) - sigma;
      return { nextX: 1, nextEps: dt, nextNoise: sigmaUp, ...denoised, drawsNoise: true };
    },
    addNoise(x0, z, i) {
      const sigma = sigmas[i]!;
      const out = new Float32Array(x0.length);
      for (let j = 0; j < x0.length; j++) out[j] = x0[j]! + z[j]! * sigma;
      return out;
    },
  };
}
