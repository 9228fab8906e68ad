/**
 * The TypeScript schedulers against an independent numpy reference written
 * from the papers (models/reference/schedulers.py; fixture written by
 * models/reference/write_scheduler_fixtures.py): whole multi-step runs with
 * fixed initial latents, fixed per-step model outputs and fixed ancestral
 * noise, for the demo pack's and the catalog packs' scheduler configs, with
 * and without img2img strength; and the timestep plans for every step count.
 *
 * Tolerance: the reference is float64 throughout and its inputs (noise,
 * model outputs) are float32-exact; the TypeScript keeps its scalars in
 * float64 and its latents in Float32Array, so the difference is float32
 * rounding (relative 6e-8) of the latents, amplified where a step divides by
 * a small number (LCM's x0 = (x - sqrt(1 - abar) eps) / sqrt(abar), sqrt(abar)
 * = 0.068 at t = 999) and compounded over up to 8 steps.
 * Bound: |ts - ref| <= 1e-5 * max(1, |ref|) for every latent, denoised
 * estimate and model input of every step. Measured worst (printed by the
 * summary test): 1.2e-6 over the packs' configs (8x under the bound), 3.9e-6
 * on the synthetic linear-beta config (abar_999 = 4e-5, so 156x
 * amplification). For scale: diffusers' own float32 alpha_bar differs from
 * float64 by up to 1.6e-6; a formula slip is far above the bound (an initial
 * sigma of sqrt(sigma_max^2 + 1) is 2.3e-3; LCM with sigma_data = 1 fails
 * the timestepScaling 0.01 runs at 1.2e-2).
 */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alphasCumprod } from '../../../src/engine/schedulers/alphas';
import { trailingTimesteps } from '../../../src/engine/schedulers/euler-ancestral';
import { createScheduler } from '../../../src/engine/schedulers';
import { lcmTimesteps } from '../../../src/engine/schedulers/lcm';
import type { PackManifest, SchedulerConfig } from '../../../src/shared/pack-manifest';

const ROOT = resolve(__dirname, '../../..');
const FIXTURE = resolve(ROOT, 'tests/fixtures/reference/schedulers.json');

interface Run {
  name: string;
  source: string | null;
  config: SchedulerConfig;
  steps: number;
  strength: number;
  timesteps: number[];
  initNoiseSigma: number;
  modelInputScales: number[];
  alphasCumprod: number[];
  sigmas?: number[];
  noise: number[];
  init: number[] | null;
  start: number[];
  ancestralNoise: number[][];
  records: { t: number; modelInput: number[]; eps: number[]; denoised: number[]; next: number[] }[];
}

interface Fixture {
  alphasCumprod: { config: SchedulerConfig; at: Record<string, number> };
  runs: Run[];
  lcmTimesteps: {
    config: SchedulerConfig;
    tables: { strength: number; timesteps: Record<string, number[]> }[];
  };
  trailingTimesteps: { trainTimesteps: number; tables: Record<string, number[]> };
  eulerImg2imgTimesteps: { steps: number; strength: number; timesteps: number[] }[];
}

const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Fixture;

const RELATIVE = 1e-5;
let worstSeen = 0; // over the current run
const worstByRun = new Map<string, number>();

/** Largest |got - want| / max(1, |want|) over the arrays. */
function relError(got: ArrayLike<number>, want: readonly number[]): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++)
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)));
  worstSeen = Math.max(worstSeen, worst);
  return worst;
}

/** The scheduler config a pipeline would use for a manifest (the demo kind samples with LCM). */
function schedulerOf(path: string): SchedulerConfig {
  const manifest = JSON.parse(readFileSync(resolve(ROOT, path), 'utf8')) as PackManifest;
  return manifest.pipeline === 'demo'
    ? { ...manifest.scheduler, kind: 'lcm' }
    : { ...manifest.scheduler };
}

describe('scheduler fixtures are for the packs as they are', () => {
  it.each(fixture.runs.filter((r) => r.source).map((r) => [r.name, r] as const))(
    '%s: the fixture was made from the current manifest',
    (_, run) => {
      // If a pack's scheduler changes, rerun models/reference/write_scheduler_fixtures.py.
      expect(schedulerOf(run.source!)).toEqual(run.config);
    },
  );
});

describe('noise schedule against the reference', () => {
  it('alphas_cumprod at sample timesteps', () => {
    const abar = alphasCumprod(fixture.alphasCumprod.config);
    for (const [t, want] of Object.entries(fixture.alphasCumprod.at))
      expect(Math.abs(abar[Number(t)]! - want) / want).toBeLessThan(1e-12);
  });
});

describe('timestep plans against the reference', () => {
  it('LCM: every step count at every strength', () => {
    const { config, tables } = fixture.lcmTimesteps;
    let compared = 0;
    for (const { strength, timesteps } of tables)
      for (const [steps, want] of Object.entries(timesteps)) {
        expect(
          lcmTimesteps(config, Number(steps), strength),
          `${steps} steps at ${strength}`,
        ).toEqual(want);
        compared++;
      }
    expect(compared).toBeGreaterThan(150);
  });

  it('Euler trailing: step counts a pack can ask for (1 to 15)', () => {
    const { trainTimesteps, tables } = fixture.trailingTimesteps;
    for (let n = 1; n <= 15; n++)
      expect(trailingTimesteps(trainTimesteps, n), `${n} steps`).toEqual(tables[String(n)]);
  });

  // Half-way cases (T*i/n ending in .5, first at n = 16: 812.5 -> 812) round
  // half to even, as numpy does for diffusers' tables. For a few n (61 is one)
  // numpy's float arange yields n + 1 entries; n steps run the first n.
  it('Euler trailing: every tabulated step count up to 1000 (half-way rounding)', () => {
    const { trainTimesteps, tables } = fixture.trailingTimesteps;
    for (const [n, want] of Object.entries(tables))
      expect(trailingTimesteps(trainTimesteps, Number(n)), `${n} steps`).toEqual(
        want.slice(0, Number(n)),
      );
  });

  it('Euler img2img: the last int(n * strength) timesteps', () => {
    const config = schedulerOf('models/catalog/sd-turbo.json');
    for (const { steps, strength, timesteps } of fixture.eulerImg2imgTimesteps)
      expect(
        createScheduler(config, { steps, strength }).timesteps,
        `${steps} at ${strength}`,
      ).toEqual(timesteps);
  });
});

describe.each(fixture.runs.map((r) => [r.name, r] as const))('whole run: %s', (_, run) => {
  it('matches the reference at every step', () => {
    worstSeen = 0;
    const scheduler = createScheduler(run.config, { steps: run.steps, strength: run.strength });
    expect(scheduler.timesteps).toEqual(run.timesteps);
    expect(Math.abs(scheduler.initNoiseSigma - run.initNoiseSigma)).toBeLessThan(
      1e-9 * run.initNoiseSigma,
    );
    const noise = Float32Array.from(run.noise);
    let latents = run.init
      ? scheduler.addNoise(Float32Array.from(run.init), noise, 0)
      : noise.map((v) => v * scheduler.initNoiseSigma);
    expect(relError(latents, run.start)).toBeLessThanOrEqual(RELATIVE);

    let drawn = 0;
    const draw = (length: number) => {
      expect(length).toBe(run.noise.length);
      const z = run.ancestralNoise[drawn++];
      if (!z) throw new Error('the scheduler drew more noise than the reference');
      return Float32Array.from(z);
    };
    run.records.forEach((record, i) => {
      expect(scheduler.timesteps[i]).toBe(record.t);
      expect(Math.abs(scheduler.modelInputScale(i) - run.modelInputScales[i]!)).toBeLessThan(1e-12);
      const input = latents.map((v) => v * scheduler.modelInputScale(i));
      expect(relError(input, record.modelInput), `model input, step ${i}`).toBeLessThanOrEqual(
        RELATIVE,
      );
      const { next, denoised } = scheduler.step(i, latents, Float32Array.from(record.eps), draw);
      expect(relError(denoised, record.denoised), `denoised, step ${i}`).toBeLessThanOrEqual(
        RELATIVE,
      );
      expect(relError(next, record.next), `next, step ${i}`).toBeLessThanOrEqual(RELATIVE);
      latents = next;
    });
    expect(drawn).toBe(run.ancestralNoise.length);
    worstByRun.set(run.name, worstSeen);
  });
});

describe('summary', () => {
  it('reports the worst relative error over all runs', () => {
    const worst = Math.max(...worstByRun.values());
    const lines = [...worstByRun].map(([name, w]) => `  ${name}: ${w.toExponential(2)}`);
    console.log(
      `scheduler reference: worst relative error ${worst.toExponential(2)} (bound ${RELATIVE}); per run:\n${lines.join('\n')}`,
    );
    expect(worstByRun.size).toBe(fixture.runs.length);
    expect(worst).toBeLessThanOrEqual(RELATIVE);
  });
});
