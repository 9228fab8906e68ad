/**
 * The sampling loop: at each of the scheduler's timesteps, predict noise,
 * step the scheduler (keeping given latents outside a mask, for repaint),
 * report progress with a preview. Yields to the event
 * loop between steps so the page's abort arrives promptly.
 */

import type { StageTimings } from '../../shared/recipe';
import type { Random } from '../../shared/random';
import type { RgbaImage } from '../../shared/rgba';
import { throwIfAborted, yieldToEvents } from '../abort';
import { scaled } from '../image';
import type { Scheduler } from '../schedulers';
import type { KeepLatents, NoisePredictor, StepProgress } from './types';

export interface DenoiseLoop {
  scheduler: Scheduler;
  /** Starting latents, already at the first step's noise level. */
  latents: Float32Array;
  random: Random;
  predict: NoisePredictor;
  /** Decodes a preview of the current estimate; null: no previews. */
  preview: ((denoised: Float32Array) => Promise<RgbaImage>) | null;
  /** UNet time per step and the rest of each step are added here. */
  timings: StageTimings;
  signal?: AbortSignal;
  /** After every step but the last (which the caller reports with the final image). */
  onStep?: (progress: StepProgress) => void;
  /** Latents to keep outside a mask (repaint). */
  keep?: KeepLatents;
}

/** `mask * generated + (1 - mask) * kept`, the mask per position, shared by the channels. */
export function blendLatents(
  generated: Float32Array,
  kept: Float32Array,
  mask: Float32Array,
): Float32Array {
  const out = new Float32Array(generated.length);
  for (let i = 0; i < out.length; i++) {
    const m = mask[i % mask.length]!;
    out[i] = m * generated[i]! + (1 - m) * kept[i]!;
  }
  return out;
}

/** Runs every step; returns the final clean-latent estimate. */
export async function denoise(loop: DenoiseLoop): Promise<Float32Array> {
  const { scheduler, random, timings, signal } = loop;
  const total = scheduler.timesteps.length;
  let latents = loop.latents;
  let denoised = latents;
  for (let i = 0; i < total; i++) {
    await yieldToEvents();
    throwIfAborted(signal);
    const timestep = scheduler.timesteps[i]!;
    const stepStart = performance.now();
    const input = scaled(latents, scheduler.modelInputScale(i));
    const unetStart = performance.now();
    const eps = await loop.predict(input, { index: i, steps: total, timestep, signal });
    const unetMs = performance.now() - unetStart;
    timings.unetMs.push(unetMs);
    const result = scheduler.step(i, latents, eps, (n) => random.gaussians(n));
    latents = result.next;
    denoised = result.denoised;
    const last = i + 1 === total;
    if (loop.keep) {
      const { latents: kept, mask } = loop.keep;
      denoised = blendLatents(denoised, kept, mask);
      if (!last) {
        const noised = scheduler.addNoise(kept, random.gaussians(kept.length), i + 1);
        latents = blendLatents(latents, noised, mask);
      }
    }
    const preview = !last && loop.preview ? await loop.preview(denoised) : null;
    timings.stepOverheadMs += performance.now() - stepStart - unetMs;
    if (!last) loop.onStep?.({ step: i + 1, steps: total, timestep, preview });
  }
  return denoised;
}
