/**
 * Starting from a photo (img2img) on the real demo pack in Node: a solid
 * green photo with the prompt "circle" comes out a green circle; strength 0
 * gives the photo back untouched; a pack without an image encoder, and a
 * photo of the wrong size, each get a sentence.
 */

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateImage } from '../../../src/engine/generate';
import { Pipeline } from '../../../src/engine/pipelines';
import { GessoError } from '../../../src/shared/errors';
import type { RgbaImage } from '../../../src/shared/rgba';
import { dirPackSource, fixturePack, nodeFactory } from './helpers/node-packs';
import { hueIs, hueStats } from './regions/hue';

const PACK = resolve(__dirname, '../../../public/packs/demo');
const present = existsSync(resolve(PACK, 'manifest.json'));

function solid(width: number, height: number, [r, g, b]: [number, number, number]): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([r, g, b, 255], i * 4);
  return { width, height, data };
}

const CENTRE = { x0: 0.3, x1: 0.7, y0: 0.3, y1: 0.7 };
const CORNERS = [
  { x0: 0, x1: 0.12, y0: 0, y1: 0.12 },
  { x0: 0.88, x1: 1, y0: 0, y1: 0.12 },
  { x0: 0, x1: 0.12, y0: 0.88, y1: 1 },
  { x0: 0.88, x1: 1, y0: 0.88, y1: 1 },
];

describe.skipIf(!present)('start from a photo on the demo pack', () => {
  let pipeline: Pipeline;
  beforeAll(async () => {
    const source = dirPackSource(PACK);
    const variant = source.manifest.variants.find((v) => v.default)!;
    pipeline = await Pipeline.load(source, { factory: nodeFactory, variant });
  });

  it('turns a green photo and "circle" into a green circle at the pack’s default strength (5 of 6 seeds)', async () => {
    const photo = solid(64, 64, [0, 200, 0]);
    let right = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const { image, recipe } = await generateImage(pipeline, {
        prompt: 'circle',
        steps: 4,
        seed,
        preview: false,
        startImage: { image: photo, strength: pipeline.manifest.defaults.startStrength! },
      });
      expect(recipe.startImage).toEqual({ strength: 0.15 });
      const centre = hueStats(image, CENTRE);
      const corners = CORNERS.map((c) => hueStats(image, c).coloured);
      const cornerColour = corners.reduce((a, b) => a + b, 0) / corners.length;
      // Green in the middle; the corners, outside a circle, less coloured than the middle.
      const ok =
        hueIs(centre.hue, 'green') && centre.coloured > 0.8 && cornerColour < centre.coloured;
      console.log(
        `seed ${seed}: centre hue ${centre.hue.toFixed(0)}°, coloured ${centre.coloured.toFixed(2)}; corners coloured ${cornerColour.toFixed(2)}`,
      );
      if (ok) right++;
    }
    expect(right).toBeGreaterThanOrEqual(5);
  });

  it('gives the photo back untouched at strength 0', async () => {
    const photo = solid(64, 64, [10, 120, 240]);
    photo.data[0] = 1; // not a flat image: a pixel that must survive exactly
    const { image, recipe } = await generateImage(pipeline, {
      prompt: 'circle',
      steps: 4,
      seed: 1,
      startImage: { image: photo, strength: 0 },
    });
    expect(Buffer.from(image.data).equals(Buffer.from(photo.data))).toBe(true);
    expect(recipe.steps).toBe(0);
    expect(recipe.startImage).toEqual({ strength: 0 });
  });

  it('says so when the photo is not the pack’s size', async () => {
    const error = await generateImage(pipeline, {
      prompt: 'circle',
      steps: 4,
      seed: 1,
      startImage: { image: solid(32, 32, [0, 0, 0]), strength: 0.5 },
    }).catch((e: unknown) => e);
    expect((error as GessoError).code).toBe('invalid-image');
    expect((error as GessoError).message).toMatch(/32 × 32.*64 × 64.*Choose the photo again/);
  });
});

describe('start from a photo without an image encoder', () => {
  it('says in one sentence that this pack cannot', async () => {
    const source = fixturePack('sd-turbo');
    const variant = source.manifest.variants.find((v) => v.default)!;
    expect(variant.components.vaeEncoder).toBeUndefined();
    const pipeline = await Pipeline.load(source, { factory: nodeFactory, variant });
    const { width, height } = source.manifest.image;
    const error = await generateImage(pipeline, {
      prompt: 'circle',
      steps: 1,
      seed: 1,
      startImage: { image: solid(width, height, [0, 0, 0]), strength: 0.5 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GessoError);
    expect((error as GessoError).message).toBe(
      'This model pack has no image encoder, so it cannot start from a photo. Remove the start image or choose another pack.',
    );
    await pipeline.release();
  });
});
