/**
 * v-prediction (SD 2.x 768 models): the UNet predicts v = sqrt(a) eps -
 * sqrt(1-a) x0 for alpha_bar a at the step, with x the sample the UNet sees.
 * Then x0 = sqrt(a) x - sqrt(1-a) v and eps = sqrt(1-a) x + sqrt(a) v, so a
 * noise-predicting rule runs unchanged on eps; and since eps is linear in x
 * and v, the rule stays linear in the latents and the prediction.
 */

import type { Scheduler, StepForm } from './types';

/**
 * eps from v at step i. The UNet sees `latents * inputScale`
 * (Scheduler.modelInputScale), so x = inputScale * latents.
 */
export function epsilonFromV(
  latents: Float32Array,
  v: Float32Array,
  abar: number,
  inputScale: number,
): Float32Array {
  const sx = Math.sqrt(1 - abar) * inputScale;
  const sv = Math.sqrt(abar);
  const eps = new Float32Array(latents.length);
  for (let j = 0; j < latents.length; j++) eps[j] = sx * latents[j]! + sv * v[j]!;
  return eps;
}

/** `scheduler`'s rules driven by a v-predicting UNet; `abar` is the schedule's alphas_cumprod. */
export function vPrediction(scheduler: Scheduler, abar: Float64Array): Scheduler {
  const at = (i: number) => {
    const a = abar[scheduler.timesteps[i]!]!;
    return { a, scale: scheduler.modelInputScale(i) };
  };
  return {
    timesteps: scheduler.timesteps,
    initNoiseSigma: scheduler.initNoiseSigma,
    modelInputScale: (i) => scheduler.modelInputScale(i),
    addNoise: (x0, noise, i) => scheduler.addNoise(x0, noise, i),
    step(i, sample, v, noise) {
      const { a, scale } = at(i);
      return scheduler.step(i, sample, epsilonFromV(sample, v, a, scale), noise);
    },
    linear(i): StepForm {
      const form = scheduler.linear(i);
      const { a, scale } = at(i);
      // c_x x + c_eps eps = (c_x + c_eps sqrt(1-a) scale) x + c_eps sqrt(a) v
      const sx = Math.sqrt(1 - a) * scale;
      const sv = Math.sqrt(a);
      return {
        ...form,
        nextX: form.nextX + form.nextEps * sx,
        nextEps: form.nextEps * sv,
        denoisedX: form.denoisedX + form.denoisedEps * sx,
        denoisedEps: form.denoisedEps * sv,
      };
    },
  };
}
