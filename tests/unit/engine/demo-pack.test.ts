/**
 * The engine's pipeline on the real demo pack against an independent
 * implementation of the same maths (models/js/lcm.mjs, written by the pack's
 * author), driven with the engine's noise in the same order: the decoded
 * images agree within 2/255 (float32 rounding in a different order; the
 * guidance embedding is float32-rounded in the engine, float64 there).
 */

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../../src/engine/pipelines';
import { Random } from '../../../src/shared/random';
import type { PackManifest } from '../../../src/shared/pack-manifest';
import { dirPackSource, nodeFactory } from './helpers/node-packs';

const ROOT = resolve(__dirname, '../../..');
const PACK = resolve(ROOT, 'public/packs/demo');
const REFERENCE = resolve(ROOT, 'models/js/lcm.mjs');
const present = existsSync(resolve(PACK, 'manifest.json')) && existsSync(REFERENCE);
if (!present)
  console.warn('demo pack or models/js/lcm.mjs missing: skipping the demo pack cross-check');

interface Reference {
  alphasCumprod(s: unknown): Float64Array;
  lcmTimesteps(s: unknown, steps: number): number[];
  guidanceEmbedding(g: number, dim: number, scale: number): Float32Array;
  lcmStep(
    s: unknown,
    abar: Float64Array,
    x: Float32Array,
    eps: Float32Array,
    t: number,
    tPrev: number | undefined,
    noise: Float32Array | null,
  ): { denoised: Float32Array; next: Float32Array };
}

/**
 * Requests over several seeds, step counts, guidances and prompts (the bound
 * was first set from one seed, 11). Measured worst over these 12 runs: 1/255
 * (9 of 12 runs pixel-identical); bound 2/255.
 */
const CASES = [
  { prompt: 'red heart', steps: 4, guidance: 4, seed: 11 },
  { prompt: 'red heart', steps: 4, guidance: 4, seed: 1 },
  { prompt: 'red heart', steps: 4, guidance: 4, seed: 2 },
  { prompt: 'blue circle', steps: 1, guidance: 4, seed: 3 },
  { prompt: 'blue circle', steps: 2, guidance: 8, seed: 4 },
  { prompt: 'cat face', steps: 4, guidance: 1, seed: 5 },
  { prompt: 'cat face', steps: 8, guidance: 4, seed: 6 },
  { prompt: 'green square', steps: 4, guidance: 6, seed: 7 },
  { prompt: 'yellow circle', steps: 3, guidance: 2, seed: 8 },
  { prompt: 'purple heart', steps: 4, guidance: 4, seed: 123456789 },
  { prompt: 'orange square', steps: 2, guidance: 3, seed: 4294967295 },
  { prompt: '', steps: 4, guidance: 4, seed: 9 },
];
const BOUND = 2;

describe.skipIf(!present)('demo pack end to end', () => {
  it('matches an independent LCM implementation given the same noise, over 12 requests', async () => {
    const reference = (await import(/* @vite-ignore */ REFERENCE)) as Reference;
    const source = dirPackSource(PACK);
    const m: PackManifest = source.manifest;
    const variant = m.variants.find((v) => v.default)!;
    const pipeline = await Pipeline.load(source, { factory: nodeFactory, variant });
    // The graphs exactly as written (no graph optimisation), as fold-weights.test.ts checks the
    // engine's folded int8 weights against. onnxruntime's default "all" level rewrites the int8
    // models' DequantizeLinear -> MatMul/Conv patterns and moves the image by up to 11/255 on these
    // requests (against 0 or 1 with "disabled" or "basic"), which is not what the engine runs.
    const load = async (path: string) =>
      ort.InferenceSession.create(new Uint8Array(readFileSync(resolve(PACK, path))), {
        graphOptimizationLevel: 'disabled',
      });
    const [te, unet, dec] = await Promise.all([
      load(variant.components.textEncoder),
      load(variant.components.unet),
      load(variant.components.vaeDecoder),
    ]);
    const results: string[] = [];
    let worstOfAll = 0;
    for (const c of CASES) {
      const request = { ...c, preview: false };
      const ours = await pipeline.generate(request);
      const ids = pipeline.tokenizer.encode(request.prompt);
      const { last_hidden_state: text } = await te.run({
        input_ids: new ort.Tensor('int32', ids, [1, ids.length]),
      });
      const abar = reference.alphasCumprod(m.scheduler);
      const ts = reference.lcmTimesteps(m.scheduler, request.steps);
      const cond = new ort.Tensor(
        'float32',
        reference.guidanceEmbedding(
          request.guidance,
          m.guidanceEmbedding!.dim,
          m.guidanceEmbedding!.scale,
        ),
        [1, m.guidanceEmbedding!.dim],
      );
      const [C, H, W] = [
        m.latent.channels,
        m.image.height / m.latent.downscale,
        m.image.width / m.latent.downscale,
      ];
      const random = new Random(request.seed);
      let x = random.gaussians(C * H * W);
      let denoised = x;
      const timestepType = unet.inputMetadata.find((i) => i.name === 'timestep');
      for (let i = 0; i < ts.length; i++) {
        const t = ts[i]!;
        const timestep =
          timestepType?.isTensor && timestepType.type === 'int64'
            ? new ort.Tensor('int64', BigInt64Array.from([BigInt(t)]), [1])
            : new ort.Tensor('float32', Float32Array.from([t]), [1]);
        const { out_sample } = await unet.run({
          sample: new ort.Tensor('float32', x, [1, C, H, W]),
          timestep,
          encoder_hidden_states: text!,
          timestep_cond: cond,
        });
        const last = i + 1 === ts.length;
        const step = reference.lcmStep(
          m.scheduler,
          abar,
          x,
          out_sample!.data as Float32Array,
          t,
          last ? undefined : ts[i + 1],
          last ? null : random.gaussians(x.length),
        );
        denoised = step.denoised;
        if (!last) x = step.next;
      }
      const { sample } = await dec.run({
        latent_sample: new ort.Tensor(
          'float32',
          denoised.map((v) => v / m.latent.scalingFactor),
          [1, C, H, W],
        ),
      });
      const pixels = sample!.data as Float32Array;
      let worst = 0;
      const plane = H * m.latent.downscale * W * m.latent.downscale;
      for (let i = 0; i < plane; i++)
        for (let c = 0; c < 3; c++) {
          const v = Math.round((Math.min(1, Math.max(-1, pixels[c * plane + i]!)) + 1) * 127.5);
          worst = Math.max(worst, Math.abs(v - ours.image.data[i * 4 + c]!));
        }
      results.push(`seed ${c.seed} ${c.steps} steps g ${c.guidance}: ${worst}`);
      worstOfAll = Math.max(worstOfAll, worst);
    }
    console.log(
      `demo pack vs models/js/lcm.mjs, worst |difference| in levels of 255 (bound ${BOUND}):\n  ${results.join('\n  ')}`,
    );
    expect(worstOfAll).toBeLessThanOrEqual(BOUND);
    await Promise.all([pipeline.release(), te.release(), unet.release(), dec.release()]);
  });
});
