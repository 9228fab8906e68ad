/**
 * The sampling step as an ONNX graph (pipelines/device-step.ts), run by
 * onnxruntime-node's CPU provider: the same next latents, UNet input and
 * decoder inputs as the scheduler's own step on the CPU, with and without
 * classifier-free guidance, float32 and float16 I/O.
 */

import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createOrtSession, type OrtApi } from '../../../src/engine/ort-session';
import { STEP, stepCoefficients, stepGraph } from '../../../src/engine/pipelines/device-step';
import { classifierFreeGuidance, createScheduler } from '../../../src/engine/schedulers';
import { floatTensor, toFloat32 } from '../../../src/engine/tensors';
import type { SchedulerConfig } from '../../../src/shared/pack-manifest';

const BASE = {
  trainTimesteps: 1000,
  betaStart: 0.00085,
  betaEnd: 0.012,
  betaSchedule: 'scaled_linear',
  originalSteps: 50,
  timestepScaling: 10,
} as const;
const CONFIGS: [string, SchedulerConfig][] = [
  ['LCM', { ...BASE, kind: 'lcm' }],
  ['Euler ancestral', { ...BASE, kind: 'euler-ancestral-trailing' }],
];
const DIMS = [1, 4, 8, 8];
const N = 256;
const wave = (k: number) => Float32Array.from({ length: N }, (_, j) => Math.sin(j * k + 0.5) * 1.5);

describe.each(CONFIGS)('%s step graph', (_, config) => {
  it.each([
    ['float32 I/O, unguided', 'float32', false],
    ['float16 I/O, guided', 'float16', true],
  ] as const)('%s: matches the scheduler step on the CPU', async (_, type, guided) => {
    const bytes = await stepGraph(
      { eps: type, unetInput: type, finalInput: type, previewInput: 'float32' },
      guided,
    );
    const session = await createOrtSession(ort as unknown as OrtApi, bytes, 'step', {
      backend: 'cpu',
    });
    const scheduler = createScheduler(config, { steps: 4 });
    const guidance = 3.5;
    const roundTrip = (values: Float32Array) => toFloat32(floatTensor(type, DIMS, values));
    for (let i = 0; i < scheduler.timesteps.length; i++) {
      const x = wave(0.3 + i);
      const cond = roundTrip(wave(0.7));
      const uncond = roundTrip(wave(1.1));
      const z = wave(1.9);
      const eps = guided ? classifierFreeGuidance(cond.slice(), uncond, guidance) : cond;
      const expected = scheduler.step(i, x, eps, () => z);
      const form = scheduler.linear(i);
      const out = await session.run({
        [STEP.latents]: floatTensor('float32', DIMS, x),
        [STEP.eps]: floatTensor(type, DIMS, cond),
        ...(guided ? { [STEP.epsUncond]: floatTensor(type, DIMS, uncond) } : {}),
        [STEP.noise]: floatTensor('float32', DIMS, form.drawsNoise ? z : new Float32Array(N)),
        [STEP.coefficients]: floatTensor(
          'float32',
          [9],
          stepCoefficients(form, { nextInputScale: 0.5, finalScale: 4, previewScale: 1, guidance }),
        ),
      });
      const read = (name: string) => toFloat32(out[name] as Parameters<typeof toFloat32>[0]);
      /** Largest difference relative to the largest wanted value. */
      const close = (actual: Float32Array, wanted: Float32Array, tolerance: number) => {
        let worst = 0;
        let scale = 1e-6;
        for (let j = 0; j < N; j++) {
          worst = Math.max(worst, Math.abs(actual[j]! - wanted[j]!));
          scale = Math.max(scale, Math.abs(wanted[j]!));
        }
        expect(worst / scale).toBeLessThan(tolerance);
      };
      // float16 outputs are rounded to 11 significant bits (relative error up to 2^-11).
      const f16 = type === 'float16' ? 1e-3 : 1e-5;
      close(read(STEP.next), expected.next, 1e-5);
      close(
        read(STEP.nextInput),
        expected.next.map((v) => v * 0.5),
        f16,
      );
      close(
        read(STEP.finalInput),
        expected.denoised.map((v) => v * 4),
        f16,
      );
      close(read(STEP.previewInput), expected.denoised, 1e-5);
    }
    await session.release();
  });
});
