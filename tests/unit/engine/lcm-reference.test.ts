/**
 * The LCM pipeline end to end against an independent reference
 * (models/reference/pipeline.py: the fixture graphs evaluated in numpy
 * float64, LCM multi-step sampling from the paper, the guidance embedding
 * as diffusers computes it in float32, Gesso's PRNG re-implemented in
 * Python), on the fixture pack tests/fixtures/models/lcm with
 * onnxruntime-node, for the int64- and float-timestep exports and img2img:
 * token ids, the seeded noise, every step's UNet output, the decoder's float
 * image and the RGBA bytes. The comparison is the same as
 * sd-turbo-reference.test.ts (helpers/reference-run.ts).
 *
 * Tolerances (float32 graphs against float64): noise bound 1e-6, measured 0;
 * UNet output bound 1e-4, measured worst 7.7e-7; decoder image bound 1e-4,
 * measured worst 4.6e-6; RGBA at most 1 level and 0.1% of bytes off,
 * measured 0 bytes off. (Measured values: the console lines of this test.)
 * A slip is far above the bounds: the guidance embedding of w = guidance
 * instead of guidance - 1 gives an image error of 0.11 to 0.52.
 */

import { resolve } from 'node:path';
import { describe, it } from 'vitest';
import { compareWithReference, referenceRuns } from './helpers/reference-run';

const runs = referenceRuns(resolve(__dirname, '../../fixtures/reference/lcm.json'));

describe('LCM pipeline against the numpy reference (fixture graphs)', () => {
  it.each(runs.map((r) => [r.name, r] as const))('%s', async (_, run) => {
    await compareWithReference('lcm', run);
  });
});
