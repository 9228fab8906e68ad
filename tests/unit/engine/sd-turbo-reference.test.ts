/**
 * The SD-Turbo pipeline end to end against an independent reference
 * (models/reference/pipeline.py: the fixture graphs evaluated in numpy
 * float64, Euler-ancestral sampling from the papers, Gesso's PRNG
 * re-implemented in Python), on the fixture pack tests/fixtures/models/sd-turbo
 * with onnxruntime-node: token ids, the seeded noise, every step's UNet
 * output, the decoder's float image and the RGBA bytes.
 *
 * Tolerances (the engine runs the graphs in float32, the reference in float64):
 * - noise: the same float32 values (both round the same float64 Box-Muller
 *   output); bound 1e-6, measured 0.
 * - UNet output per step: bound 1e-4 absolute, measured worst 1.3e-6.
 * - decoder image (float CHW in [-1, 1]): bound 1e-4 absolute, measured worst
 *   2.2e-5 at 1 step (x0 = x - sigma eps at sigma 14.6 turns float32 rounding
 *   of the UNet output into ~1e-5 in the latents, divided by 0.18215 before
 *   decoding), 7e-6 or less at 2 to 4 steps.
 * - RGBA: at most 1 level apart where a value sits on a rounding edge, and
 *   at most 0.1% of bytes off; measured 0 bytes off.
 * (Measured values: the console lines of this test.) A slip is far above the
 * bounds: starting from sigma_max * sqrt(1 + 1/sigma_max^2) gives an image
 * error of 5e-3 to 1e-2; decoding without 1 / scalingFactor, 0.8.
 */

import { resolve } from 'node:path';
import { describe, it } from 'vitest';
import { compareWithReference, referenceRuns } from './helpers/reference-run';

const runs = referenceRuns(resolve(__dirname, '../../fixtures/reference/sd-turbo.json'));

describe('SD-Turbo pipeline against the numpy reference (fixture graphs)', () => {
  it.each(runs.map((r) => [r.name, r] as const))('%s', async (_, run) => {
    await compareWithReference('sd-turbo', run);
  });
});
