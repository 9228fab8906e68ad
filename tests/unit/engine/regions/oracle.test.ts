/**
 * Regional prompting end to end through the real LCM and SD-Turbo pipelines,
 * with an "oracle" UNet that knows what each prompt should look like: its
 * noise prediction points straight at a flat colour for that prompt. Then
 * the picture shows exactly where each prompt's prediction was used, so this
 * checks the masks, the blending and the schedulers together, independent of
 * how well any model is trained.
 */

import { describe, expect, it } from 'vitest';
import { Pipeline, type GenerateRequest } from '../../../../src/engine/pipelines';
import { generateImage } from '../../../../src/engine/generate';
import { encodeLayout, type RegionLayout } from '../../../../src/shared/regions/layout';
import { alphasCumprod, sigmaOf } from '../../../../src/engine/schedulers/alphas';
import type { CpuTensor } from '../../../../src/engine/tensors';
import { toFloat32 } from '../../../../src/engine/tensors';
import type { ModelSession, SessionFactory, Value } from '../../../../src/engine/session';
import type { PackManifest } from '../../../../src/shared/pack-manifest';
import { fixturePack, nodeFactory } from '../helpers/node-packs';
import { hueIs, hueStats } from './hue';
import { fillRect } from './shapes';

/** UNet-space latents whose first three channels read as RGB in [-1, 1]. */
const TARGETS: Record<string, number[]> = {
  square: [0, 0, 0, 0],
  'red square': [1, -1, -1, 0],
  'blue square': [-1, -1, 1, 0],
  'green square': [-1, 1, -1, 0],
  'yellow square': [1, 1, -1, 0],
};

function oracle(
  real: ModelSession,
  manifest: PackManifest,
  known: { prompt: string; hidden: Float32Array }[],
): ModelSession {
  const abar = alphasCumprod(manifest.scheduler);
  const euler = manifest.scheduler.kind === 'euler-ancestral-trailing';
  return {
    inputs: real.inputs.map((i) => ({ ...i, shape: [1, ...i.shape.slice(1)] })), // one prompt per call
    outputs: real.outputs,
    async run(feeds: Record<string, Value>) {
      const x = toFloat32(feeds.sample as CpuTensor);
      const t = Number((feeds.timestep as CpuTensor).data[0]);
      const hidden = toFloat32(feeds.encoder_hidden_states as CpuTensor);
      let best = known[0]!;
      let bestD = Infinity;
      for (const k of known) {
        let d = 0;
        for (let i = 0; i < hidden.length; i++) d += (hidden[i]! - k.hidden[i]!) ** 2;
        if (d < bestD) [best, bestD] = [k, d];
      }
      const target = TARGETS[best.prompt]!;
      const plane = x.length / 4;
      const eps = new Float32Array(x.length);
      const a = abar[t]!;
      for (let i = 0; i < x.length; i++) {
        const x0 = target[Math.floor(i / plane)]!;
        // Euler: the UNet sees x / sqrt(sigma^2 + 1) and x0 = x - sigma eps; LCM: x0 = (x - sqrt(1-a) eps) / sqrt(a).
        if (euler) {
          const sigma = sigmaOf(a);
          const latent = x[i]! * Math.sqrt(sigma * sigma + 1);
          eps[i] = (latent - x0) / sigma;
        } else eps[i] = (x[i]! - Math.sqrt(a) * x0) / Math.sqrt(1 - a);
      }
      return { [real.outputs[0]!.name]: { type: 'float32', dims: [1, 4, 8, 8], data: eps } };
    },
    release: () => real.release(),
  };
}

/** Decoder stand-in: nearest-neighbour upsampling of latent channels 0-2 to RGB. */
function flatDecoder(real: ModelSession, scaling: number): ModelSession {
  return {
    inputs: real.inputs,
    outputs: real.outputs,
    async run(feeds) {
      const z = toFloat32(Object.values(feeds)[0] as CpuTensor);
      const out = new Float32Array(3 * 64 * 64);
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < 64; y++)
          for (let x = 0; x < 64; x++)
            out[c * 4096 + y * 64 + x] = z[c * 64 + (y >> 3) * 8 + (x >> 3)]! * scaling;
      return { [real.outputs[0]!.name]: { type: 'float32', dims: [1, 3, 64, 64], data: out } };
    },
    release: () => real.release(),
  };
}

async function load(name: 'lcm' | 'sd-turbo' | 'demo') {
  // The demo kind runs the LCM fixture's graphs under the demo pipeline.
  const source =
    name === 'demo' ? fixturePack('lcm', (m) => ({ ...m, pipeline: 'demo' })) : fixturePack(name);
  const { manifest } = source;
  const known: { prompt: string; hidden: Float32Array }[] = [];
  const factory: SessionFactory = async (bytes, label, hints) => {
    const real = await nodeFactory(bytes, label, hints);
    if (label.includes('UNet')) return oracle(real, manifest, known);
    if (label.includes('decoder')) return flatDecoder(real, manifest.latent.scalingFactor);
    return real;
  };
  const variant = manifest.variants.find((v) => v.default) ?? manifest.variants[0]!;
  const pipeline = await Pipeline.load(source, { factory, variant });
  for (const prompt of Object.keys(TARGETS))
    known.push({
      prompt,
      hidden: toFloat32((await pipeline.encodePrompt(prompt)).hidden as CpuTensor),
    });
  return pipeline;
}

const rect = (region: number, x0: number, x1: number, y0: number, y1: number) =>
  fillRect(region, { x0, x1, y0, y1 });
const region = (id: number, prompt: string, strength = 1) => ({
  id,
  name: prompt,
  colour: '#000000',
  prompt,
  strength,
  hidden: false,
});

/**
 * Seeds for every case (the bounds were first set from seed 9 alone). The oracle
 * makes the picture independent of the noise except for rounding, so the exact
 * colours hold at every seed; the blended pixels stay within NEAR levels of
 * their expected colour, whose exact values fall between levels (127.5,
 * 191.25, 63.75). Measured worst over these 7 seeds and all three pipelines:
 * 1 level; NEAR = 2 (was 3).
 */
const SEEDS = [9, 1, 2, 3, 4, 5, 123456789];
const NEAR = 2;

describe.each(['lcm', 'sd-turbo', 'demo'] as const)(
  'oracle UNet through the %s pipeline',
  (name) => {
    const request: GenerateRequest = {
      prompt: 'square',
      steps: 4,
      guidance: name === 'sd-turbo' ? 1 : 4,
      seed: 9,
      preview: false,
    };

    it('red left, blue right: each half takes its prompt’s colour, the seam is blended', async () => {
      const pipeline = await load(name);
      const layout: RegionLayout = {
        version: 1,
        regions: [region(1, 'red square'), region(2, 'blue square')],
        strokes: [...rect(1, 0, 0.5, 0, 1), ...rect(2, 0.5, 1, 0, 1)],
      };
      for (const seed of SEEDS) {
        const { image } = await generateImage(pipeline, {
          ...request,
          seed,
          regions: encodeLayout(layout),
        });
        const left = hueStats(image, { x0: 0, x1: 0.5, y0: 0, y1: 1 });
        const right = hueStats(image, { x0: 0.5, x1: 1, y0: 0, y1: 1 });
        console.log(
          `${name} oracle, seed ${seed}: left ${left.hue.toFixed(0)}°, right ${right.hue.toFixed(0)}°`,
        );
        expect(hueIs(left.hue, 'red')).toBe(true);
        expect(hueIs(right.hue, 'blue')).toBe(true);
        // Pixel columns: pure red at the far left, pure blue at the far right.
        const px = (x: number, y: number) => [
          ...image.data.subarray((y * 64 + x) * 4, (y * 64 + x) * 4 + 3),
        ];
        expect(px(2, 32)).toEqual([255, 0, 0]);
        expect(px(61, 32)).toEqual([0, 0, 255]);
        // The latent cells next to the seam mix 3:1 (blurred masks): neither pure colour.
        expect(px(28, 32)).not.toEqual([255, 0, 0]);
      }
      await pipeline.release();
    });

    it('quadrants, an unpainted area and a half-strength region', async () => {
      const pipeline = await load(name);
      const layout: RegionLayout = {
        version: 1,
        regions: [region(1, 'green square'), region(2, 'yellow square', 0.5)],
        strokes: [...rect(1, 0, 0.5, 0, 0.5), ...rect(2, 0.5, 1, 0.5, 1)],
      };
      let worst = 0;
      for (const seed of SEEDS) {
        const { image } = await generateImage(pipeline, {
          ...request,
          seed,
          regions: encodeLayout(layout),
        });
        const px = (x: number, y: number) => [
          ...image.data.subarray((y * 64 + x) * 4, (y * 64 + x) * 4 + 3),
        ];
        const off = (got: number[], want: number[]) =>
          Math.max(...got.map((v, i) => Math.abs(v - want[i]!)));
        worst = Math.max(
          worst,
          off(px(4, 4), [0, 255, 0]), // green quadrant
          off(px(60, 4), [128, 128, 128]), // unpainted: the main prompt's grey
          off(px(4, 60), [128, 128, 128]),
          // Half strength: half yellow (255, 255, 0), half the main prompt's grey.
          off(px(60, 60), [191, 191, 64]),
        );
      }
      console.log(`${name} oracle quadrants: worst level difference ${worst} (bound ${NEAR})`);
      expect(worst).toBeLessThanOrEqual(NEAR);
      await pipeline.release();
    });
  },
);
