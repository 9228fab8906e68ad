/** The DDPM noise schedule shared by every scheduler: betas -> cumulative alphas. */

import type { SchedulerConfig } from '../../shared/pack-manifest';

/**
 * alphas_cumprod[t] = prod_{s<=t} (1 - beta_s), t = 0 .. trainTimesteps-1.
 * "scaled_linear" betas are linear in sqrt(beta) (Stable Diffusion's
 * schedule); "linear" are linear in beta. Computed in float64.
 */
export function alphasCumprod(
  config: Pick<SchedulerConfig, 'trainTimesteps' | 'betaStart' | 'betaEnd' | 'betaSchedule'>,
): Float64Array {
  const n = config.trainTimesteps;
  const out = new Float64Array(n);
  let product = 1;
  for (let t = 0; t < n; t++) {
    const f = n === 1 ? 0 : t / (n - 1);
    let beta: number;
    if (config.betaSchedule === 'scaled_linear') {
      const root =
        Math.sqrt(config.betaStart) + f * (Math.sqrt(config.betaEnd) - Math.sqrt(config.betaStart));
      beta = root * root;
    } else {
      beta = config.betaStart + f * (config.betaEnd - config.betaStart);
    }
    product *= 1 - beta;
    out[t] = product;
  }
  return out;
}

/** Karras/EDM noise level of timestep t: sigma = sqrt((1 - abar) / abar). */
export function sigmaOf(abar: number): number {
  return Math.sqrt((1 - abar) / abar);
}
