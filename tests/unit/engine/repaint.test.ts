/**
 * Repaint in Node: generate, paint the right half, generate again with
 * another prompt. Outside the painted area every pixel is the picture's
 * (the final composite is exact there); inside, the new prompt shows. On the
 * real demo pack with its VAE encoder, and on the LCM and SD-Turbo fixtures
 * (which ship no VAE encoder: a stand-in with the public export's signature,
 * `sample` [1, 3, H, W] -> `latent_sample` [1, 4, H/8, W/8], averages 8x8
 * blocks, enough for the keep-the-rest property this checks).
 */

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateImage } from '../../../src/engine/generate';
import { Pipeline } from '../../../src/engine/pipelines';
import type { ModelSession } from '../../../src/engine/session';
import { GessoError } from '../../../src/shared/errors';
import { encodeRuns } from '../../../src/shared/mask-runs';
import { encodeLayout, type RegionLayout } from '../../../src/shared/regions/layout';
import type { RgbaImage } from '../../../src/shared/rgba';
import { dirPackSource, fixturePack, nodeFactory } from './helpers/node-packs';
import { hueIs, hueStats } from './regions/hue';
import { fillRect } from './regions/shapes';

const DEMO = resolve(__dirname, '../../../public/packs/demo');
const RIGHT = { x0: 0.5, x1: 1, y0: 0, y1: 1 };

/** 255 on the right half of a width x height image. */
function rightHalf(width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) mask.fill(255, y * width + width / 2, (y + 1) * width);
  return mask;
}

/** Mean absolute difference per channel over the left `share` of the image, in 0-255 units. */
function leftDifference(a: RgbaImage, b: RgbaImage, share: number): number {
  let sum = 0;
  let n = 0;
  const columns = Math.floor(a.width * share);
  for (let y = 0; y < a.height; y++)
    for (let x = 0; x < columns; x++)
      for (let c = 0; c < 3; c++) {
        const i = (y * a.width + x) * 4 + c;
        sum += Math.abs(a.data[i]! - b.data[i]!);
        n++;
      }
  return sum / n;
}

function rightChanged(a: RgbaImage, b: RgbaImage): boolean {
  for (let y = 0; y < a.height; y++)
    for (let x = a.width / 2 + 2; x < a.width; x++)
      for (let c = 0; c < 3; c++) {
        const i = (y * a.width + x) * 4 + c;
        if (a.data[i] !== b.data[i]) return true;
      }
  return false;
}

/** A VAE encoder stand-in: 8x8 block means of the three channels, plus their mean as a fourth. */
function blockEncoder(): ModelSession {
  return {
    label: 'image encoder',
    inputs: [{ name: 'sample', type: 'float32', shape: [1, 3, 'height', 'width'] }],
    outputs: [{ name: 'latent_sample', type: 'float32', shape: [1, 4, 'h', 'w'] }],
    async run(feeds) {
      const sample = feeds.sample as unknown as { dims: number[]; data: Float32Array };
      const [, , height, width] = sample.dims as [number, number, number, number];
      const [h, w] = [height / 8, width / 8];
      const out = new Float32Array(4 * h * w);
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < height; y++)
          for (let x = 0; x < width; x++) {
            const v = sample.data[(c * height + y) * width + x]! / 64;
            out[(c * h + (y >> 3)) * w + (x >> 3)]! += v;
            out[(3 * h + (y >> 3)) * w + (x >> 3)]! += v / 3;
          }
      return { latent_sample: { type: 'float32', dims: [1, 4, h, w], data: out } };
    },
    release: async () => undefined,
  };
}

describe.skipIf(!existsSync(resolve(DEMO, 'manifest.json')))('repaint on the demo pack', () => {
  it('"red square", right half repainted "blue square": the left 40% is unchanged, the right half blue (5 of 6 seeds)', async () => {
    const source = dirPackSource(DEMO);
    const variant = source.manifest.variants.find((v) => v.default)!;
    const pipeline = await Pipeline.load(source, { factory: nodeFactory, variant });
    let blue = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const first = await generateImage(pipeline, {
        prompt: 'red square',
        steps: 4,
        seed,
        preview: false,
      });
      const second = await generateImage(pipeline, {
        prompt: 'blue square',
        steps: 4,
        seed: seed + 100,
        preview: false,
        repaint: { image: first.image, mask: rightHalf(64, 64), parent: 'parent-item' },
      });
      expect(second.recipe.repaint).toEqual({
        parent: 'parent-item',
        mask: encodeRuns(rightHalf(64, 64)),
      });
      const kept = leftDifference(first.image, second.image, 0.4);
      expect(kept).toBeLessThanOrEqual(2);
      const right = hueStats(second.image, RIGHT);
      console.log(
        `seed ${seed}: left 40% differs by ${kept.toFixed(2)}/255; right half hue ${right.hue.toFixed(0)}°, coloured ${right.coloured.toFixed(2)}`,
      );
      if (hueIs(right.hue, 'blue') && right.coloured > 0.3) blue++;
    }
    expect(blue).toBeGreaterThanOrEqual(5);
    await pipeline.release();
  });
});

for (const [name, variantId] of [
  ['lcm', 'int64'],
  ['sd-turbo', 'fp32'],
] as const) {
  describe(`repaint on the ${name} fixture`, () => {
    it('keeps every unpainted pixel and repaints the painted half', async () => {
      const source = fixturePack(name);
      const variant = source.manifest.variants.find((v) => v.id === variantId)!;
      const pipeline = await Pipeline.load(source, { factory: nodeFactory, variant });
      pipeline.openComponent = async () => blockEncoder();
      const first = await generateImage(pipeline, {
        prompt: 'a cat',
        steps: 2,
        seed: 1,
        preview: false,
      });
      const second = await generateImage(pipeline, {
        prompt: 'a dog',
        steps: 2,
        seed: 2,
        preview: false,
        repaint: { image: first.image, mask: rightHalf(64, 64) },
      });
      expect(leftDifference(first.image, second.image, 0.4)).toBe(0);
      expect(rightChanged(first.image, second.image)).toBe(true);
      await pipeline.release();
    });
  });
}

describe('repaint with regions and an outline (LCM fixture, ControlNet variant)', () => {
  it('keeps every unpainted pixel while two region prompts and the outline steer the painted half', async () => {
    const source = fixturePack('lcm');
    const variant = source.manifest.variants.find((v) => v.id === 'control')!;
    const pipeline = await Pipeline.load(source, { factory: nodeFactory, variant });
    pipeline.openComponent = async () => blockEncoder();
    const first = await generateImage(pipeline, { prompt: 'a cat', steps: 2, seed: 1 });
    const layout: RegionLayout = {
      version: 1,
      regions: [
        { id: 1, name: 'top', colour: '#ff0000', prompt: 'a dog', strength: 1, hidden: false },
        { id: 2, name: 'low', colour: '#0000ff', prompt: 'a bird', strength: 1, hidden: false },
      ],
      strokes: [
        ...fillRect(1, { x0: 0, x1: 1, y0: 0, y1: 0.5 }),
        ...fillRect(2, { x0: 0, x1: 1, y0: 0.5, y1: 1 }),
      ],
    };
    const outline = new Uint8Array(64 * 64);
    for (let y = 8; y < 56; y++) outline[y * 64 + 40] = outline[y * 64 + 41] = 255;
    const request = {
      prompt: 'a cat',
      steps: 2,
      seed: 2,
      regions: encodeLayout(layout),
      repaint: { image: first.image, mask: rightHalf(64, 64) },
    };
    const plain = await generateImage(pipeline, request);
    const steered = await generateImage(pipeline, {
      ...request,
      outline: { mask: outline, strength: 1 },
    });
    for (const result of [plain, steered])
      expect(leftDifference(first.image, result.image, 0.4)).toBe(0);
    expect(rightChanged(plain.image, steered.image)).toBe(true);
    expect(steered.recipe.regions).toBeDefined();
    expect(steered.recipe.repaint?.mask).toEqual(encodeRuns(rightHalf(64, 64)));
    expect(steered.recipe.outline?.strength).toBe(1);
    await pipeline.release();
  });
});

describe('repaint refusals', () => {
  it('says what to do: nothing painted, the wrong size, no image encoder', async () => {
    const source = fixturePack('lcm');
    const variant = source.manifest.variants.find((v) => v.id === 'int64')!;
    const pipeline = await Pipeline.load(source, { factory: nodeFactory, variant });
    const picture = (await generateImage(pipeline, { prompt: 'a cat', steps: 1, seed: 1 })).image;
    const attempt = async (repaint: { image: RgbaImage; mask: Uint8Array }) => {
      try {
        await generateImage(pipeline, { prompt: 'a dog', steps: 1, seed: 1, repaint });
      } catch (error) {
        return error as GessoError;
      }
      throw new Error('the repaint was not refused');
    };
    expect((await attempt({ image: picture, mask: rightHalf(64, 64) })).message).toBe(
      'This model pack has no image encoder, so it cannot repaint part of a picture. Choose another pack.',
    );
    pipeline.openComponent = async () => blockEncoder();
    expect((await attempt({ image: picture, mask: new Uint8Array(64 * 64) })).message).toBe(
      'Paint the area to repaint first.',
    );
    const small = { width: 32, height: 32, data: new Uint8ClampedArray(32 * 32 * 4) };
    expect((await attempt({ image: small, mask: rightHalf(32, 32) })).message).toMatch(
      /32 × 32.*64 × 64/,
    );
    await pipeline.release();
  });
});
