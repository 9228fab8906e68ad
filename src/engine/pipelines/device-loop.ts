/**
 * The sampling loop with the latents kept on the GPU: the UNet's noise
 * prediction stays in a GPU buffer, the step graph (device-step.ts) turns it
 * into the next UNet input and the decoders' inputs there, and the only
 * reads back to the CPU are a preview's pixels and the final image. Fresh
 * noise is drawn on the CPU from the seeded generator and written to the
 * GPU (a write, not a read), exactly when the CPU loop draws it.
 *
 * Outputs that come back on the CPU anyway (an export whose UNet output is
 * not named as expected, say) are counted as reads, so the run information
 * says what really happened.
 */

import type { StageTimings } from '../../shared/recipe';
import type { Random } from '../../shared/random';
import type { RgbaImage } from '../../shared/rgba';
import { throwIfAborted, yieldToEvents } from '../abort';
import type { Scheduler } from '../schedulers';
import { isDeviceTensor, type DeviceTensor, type ModelSession, type Value } from '../session';
import { floatTensor, type CpuTensor } from '../tensors';
import { STEP, stepCoefficients } from './device-step';
import type { StepContext, StepProgress } from './types';

/** The UNet's prediction(s) for one step: the prompt's, and the unconditional one under CFG. */
export interface DevicePrediction {
  eps: Value;
  epsUncond?: Value;
}

export interface DeviceLoop {
  scheduler: Scheduler;
  /** Starting latents, already at the first step's noise level (written to the GPU once). */
  latents: Float32Array;
  dims: readonly number[];
  random: Random;
  /** The UNet on `input` (the scaled latents: CPU at the first step, then on the GPU). */
  predict: (input: Value, context: StepContext) => Promise<DevicePrediction>;
  /** The step graph's session: guided when predict gives epsUncond. */
  step: ModelSession;
  guidance: number;
  /** The decoders' latent scales (Decoder.latentScale). */
  finalScale: number;
  previewScale: number;
  /** Decodes a preview from the preview decoder's input, on the GPU; null: no previews. */
  preview: ((input: DeviceTensor) => Promise<RgbaImage>) | null;
  timings: StageTimings;
  signal?: AbortSignal;
  onStep?: (progress: StepProgress) => void;
}

export interface DeviceLoopResult {
  /** The final decoder's input (the last estimate times its latent scale), on the GPU. */
  decoderInput: Value;
  /** Outputs of the UNet and the step graph that came back to the CPU, per step (previews aside). */
  readsPerStep: number[];
}

const disposeAll = (values: Iterable<Value | undefined>) => {
  for (const value of values) if (value && isDeviceTensor(value)) value.dispose();
};

/** Runs every step on the GPU; returns the final decoder input, still there. */
export async function denoiseOnDevice(loop: DeviceLoop): Promise<DeviceLoopResult> {
  const { scheduler, random, timings, signal, dims } = loop;
  const total = scheduler.timesteps.length;
  const count = loop.latents.length;
  const zeros: CpuTensor = floatTensor('float32', dims, new Float32Array(count));
  const firstScale = scheduler.modelInputScale(0);
  let latents: Value = floatTensor('float32', dims, loop.latents);
  let input: Value = floatTensor(
    'float32',
    dims,
    loop.latents.map((v) => v * firstScale),
  );
  const readsPerStep: number[] = [];
  let decoderInput: Value | undefined;
  try {
    for (let i = 0; i < total; i++) {
      await yieldToEvents();
      throwIfAborted(signal);
      const timestep = scheduler.timesteps[i]!;
      const stepStart = performance.now();
      const prediction = await loop.predict(input, { index: i, steps: total, timestep, signal });
      const unetMs = performance.now() - stepStart;
      timings.unetMs.push(unetMs);
      const form = scheduler.linear(i);
      const last = i + 1 === total;
      const next = last ? 1 : scheduler.modelInputScale(i + 1);
      const noise = form.drawsNoise ? floatTensor('float32', dims, random.gaussians(count)) : zeros;
      const coefficients = stepCoefficients(form, {
        nextInputScale: next,
        finalScale: loop.finalScale,
        previewScale: loop.previewScale,
        guidance: loop.guidance,
      });
      const out = await loop.step.run({
        [STEP.latents]: latents,
        [STEP.eps]: prediction.eps,
        ...(prediction.epsUncond ? { [STEP.epsUncond]: prediction.epsUncond } : {}),
        [STEP.noise]: noise,
        [STEP.coefficients]: floatTensor('float32', [coefficients.length], coefficients),
      });
      const produced = [prediction.eps, prediction.epsUncond, ...Object.values(out)];
      readsPerStep.push(produced.filter((v) => v && !isDeviceTensor(v)).length);
      disposeAll([prediction.eps, prediction.epsUncond, latents, input]);
      latents = out[STEP.next]!;
      input = out[STEP.nextInput]!;
      disposeAll([decoderInput]);
      decoderInput = out[STEP.finalInput]!;
      const previewInput = out[STEP.previewInput]!;
      const preview =
        !last && loop.preview && isDeviceTensor(previewInput)
          ? await loop.preview(previewInput)
          : null;
      disposeAll([previewInput]);
      timings.stepOverheadMs += performance.now() - stepStart - unetMs;
      if (!last) loop.onStep?.({ step: i + 1, steps: total, timestep, preview });
    }
  } catch (error) {
    disposeAll([decoderInput]);
    throw error;
  } finally {
    disposeAll([latents, input]);
  }
  return { decoderInput: decoderInput!, readsPerStep };
}
