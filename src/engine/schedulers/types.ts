/** What a pipeline needs from a scheduler: a plan of timesteps and one update rule. */

export interface StepResult {
  /** Latents for the next step (equal to `denoised` after the last step). */
  next: Float32Array;
  /** The current estimate of the clean latents, for previews and the final decode. */
  denoised: Float32Array;
}

/**
 * Step i written as a linear form in the latents `x`, the UNet's prediction
 * `eps` (the noise, or v for a v-prediction pack: prediction.ts folds it in)
 * and fresh noise `z` (every rule Gesso runs is one), so the step can run
 * where the latents are, as a tiny graph on the GPU (pipelines/device-step.ts):
 *   next = nextX x + nextEps eps + nextNoise z,  denoised = denoisedX x + denoisedEps eps.
 */
export interface StepForm {
  nextX: number;
  nextEps: number;
  nextNoise: number;
  denoisedX: number;
  denoisedEps: number;
  /** Whether step() draws noise at this step: the seeded generator must advance exactly as on the CPU. */
  drawsNoise: boolean;
}

export interface Scheduler {
  /** Training timesteps to visit, in order (e.g. 999, 759, 499, 259). */
  readonly timesteps: readonly number[];
  /** Pure noise is N(0,1) * initNoiseSigma. */
  readonly initNoiseSigma: number;
  /** The UNet sees `latents * modelInputScale(i)` at step i. */
  modelInputScale(i: number): number;
  /**
   * One update from the model's noise prediction `eps` at step i. `noise`
   * supplies fresh N(0,1) samples when the rule re-injects noise.
   */
  step(
    i: number,
    sample: Float32Array,
    eps: Float32Array,
    noise: (length: number) => Float32Array,
  ): StepResult;
  /** Step i's coefficients; step() computes the same values (checked by tests). */
  linear(i: number): StepForm;
  /**
   * Noise clean latents `x0` to the level of step i (img2img: start at i
   * with addNoise(x0, noise, 0) when built with a strength below 1).
   */
  addNoise(x0: Float32Array, noise: Float32Array, i: number): Float32Array;
}

export interface SchedulerOptions {
  steps: number;
  /** img2img: fraction of the schedule to run, (0, 1]; 1 = from pure noise. */
  strength?: number;
}
