/**
 * Regional prompts on the real demo pack (public/packs/demo), in Node with
 * onnxruntime-node: paint region prompts over parts of the image and measure
 * the hue that lands in each part.
 */

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipeline, type GenerateRequest } from '../../../../src/engine/pipelines';
import { generateImage } from '../../../../src/engine/generate';
import { encodeSketch } from '../../../../src/engine/regions/generate';
import { encodeLayout, type RegionLayout } from '../../../../src/shared/regions/layout';
import type { RgbaImage } from '../../../../src/shared/rgba';
import { dirPackSource, nodeFactory } from '../helpers/node-packs';
import { HUES, hueIs, hueStats } from './hue';
import { fillRect, type Area } from './shapes';

const PACK = resolve(__dirname, '../../../../public/packs/demo');
/**
 * Twelve seeds (the bars were set on six). Measured with the 1.1.0 pack:
 * every case 24/24 parts right (bar 20/24), the closest part 8° inside its
 * hue range; the control split 0/12 (bar at most 1); sketch-to-image kept
 * both colours 12/12 (bar 11/12).
 */
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

/** Degrees from the nearest edge of the colour's hue range: positive inside, negative outside. */
function hueMargin(hue: number, colour: string): number {
  const [lo, hi] = HUES[colour]!;
  const gap = (a: number, b: number) => Math.abs(((a - b + 540) % 360) - 180);
  const edge = Math.min(gap(hue, lo), gap(hue, hi));
  return hueIs(hue, colour) ? edge : -edge;
}

const LEFT: Area = { x0: 0, x1: 0.5, y0: 0, y1: 1 };
const RIGHT: Area = { x0: 0.5, x1: 1, y0: 0, y1: 1 };
const TOP: Area = { x0: 0, x1: 1, y0: 0, y1: 0.5 };
const BOTTOM: Area = { x0: 0, x1: 1, y0: 0.5, y1: 1 };

interface Case {
  name: string;
  main: string;
  parts: { prompt: string; colour: string; area: Area }[];
}

/**
 * Layouts and colour pairs the demo model keeps apart in regions. Whole-image
 * prompts get all six colours (models/MODEL_CARD.md), but in a half-image
 * region green and purple drift to the edges of their hue ranges: "green left,
 * purple right" measured 9 of 12 parts right (green 64°, purple 320-323°), under
 * this test's bar of 5 in 6, so it is not a case here. The oracle tests cover
 * other layouts independent of the model.
 */
const CASES: Case[] = [
  {
    name: 'red left, blue right',
    main: 'square',
    parts: [
      { prompt: 'red square', colour: 'red', area: LEFT },
      { prompt: 'blue square', colour: 'blue', area: RIGHT },
    ],
  },
  {
    name: 'blue left, red right',
    main: 'square',
    parts: [
      { prompt: 'blue square', colour: 'blue', area: LEFT },
      { prompt: 'red square', colour: 'red', area: RIGHT },
    ],
  },
  {
    name: 'yellow top, blue bottom',
    main: 'square',
    parts: [
      { prompt: 'yellow square', colour: 'yellow', area: TOP },
      { prompt: 'blue square', colour: 'blue', area: BOTTOM },
    ],
  },
  {
    name: 'blue top, red bottom',
    main: 'square',
    parts: [
      { prompt: 'blue square', colour: 'blue', area: TOP },
      { prompt: 'red square', colour: 'red', area: BOTTOM },
    ],
  },
];

function layoutOf(c: Case): RegionLayout {
  return {
    version: 1,
    regions: c.parts.map((p, i) => ({
      id: i + 1,
      name: p.prompt,
      colour: '#000000',
      prompt: p.prompt,
      strength: 1,
      hidden: false,
    })),
    strokes: c.parts.flatMap((p, i) => fillRect(i + 1, p.area)),
  };
}

const fmt = (hue: number) => (Number.isNaN(hue) ? '  —' : hue.toFixed(0).padStart(3));

let pipeline: Pipeline;

beforeAll(async () => {
  if (!existsSync(resolve(PACK, 'manifest.json')))
    throw new Error(`The demo pack is missing at ${PACK}.`);
  const source = dirPackSource(PACK);
  const variant = source.manifest.variants.find((v) => v.default) ?? source.manifest.variants[0]!;
  pipeline = await Pipeline.load(source, { factory: nodeFactory, variant });
});

afterAll(async () => {
  await pipeline?.release();
});

describe('regional prompts on the demo pack', () => {
  it.each(CASES)('$name: each part takes its region’s colour', async (c) => {
    const { defaults } = pipeline.manifest;
    const lines: string[] = [];
    let hits = 0;
    let total = 0;
    let closest = Infinity;
    for (const seed of SEEDS) {
      const request: GenerateRequest = {
        prompt: c.main,
        steps: defaults.steps,
        guidance: defaults.guidance,
        seed,
        preview: false,
      };
      const { image } = await generateImage(pipeline, {
        ...request,
        regions: encodeLayout(layoutOf(c)),
      });
      const cells = c.parts.map((p) => {
        const stats = hueStats(image as RgbaImage, p.area);
        const ok = hueIs(stats.hue, p.colour);
        if (ok) closest = Math.min(closest, hueMargin(stats.hue, p.colour));
        hits += ok ? 1 : 0;
        total++;
        return `${p.colour} ${fmt(stats.hue)}° (${(stats.coloured * 100).toFixed(0)}% coloured)${ok ? '' : ' ✗'}`;
      });
      lines.push(`  seed ${seed}: ${cells.join(' | ')}`);
    }
    console.log(
      `${c.name} (main prompt "${c.main}", ${hits}/${total} parts right, bar ${Math.ceil(total * (5 / 6))}; ` +
        `closest right part ${closest.toFixed(0)}° inside its range):\n${lines.join('\n')}`,
    );
    // Every part right in at least 5 of 6 seeds on average.
    expect(hits).toBeGreaterThanOrEqual(Math.ceil(total * (5 / 6)));
  });

  it('without regions the same seeds do not split by colour (the control)', async () => {
    const { defaults } = pipeline.manifest;
    let split = 0;
    for (const seed of SEEDS) {
      const { image } = await pipeline.generate({
        prompt: 'square',
        steps: defaults.steps,
        guidance: defaults.guidance,
        seed,
        preview: false,
      });
      const left = hueStats(image, LEFT);
      const right = hueStats(image, RIGHT);
      if (hueIs(left.hue, 'red') && hueIs(right.hue, 'blue')) split++;
      console.log(`control seed ${seed}: left ${fmt(left.hue)}°, right ${fmt(right.hue)}°`);
    }
    expect(split).toBeLessThanOrEqual(1);
  });

  const sketch = (keep: number): RegionLayout => ({
    version: 1,
    regions: [
      { id: 1, name: 'Left', colour: '#e53935', prompt: '', strength: 1, hidden: false },
      { id: 2, name: 'Right', colour: '#1e88e5', prompt: '', strength: 1, hidden: false },
    ],
    strokes: [...fillRect(1, LEFT), ...fillRect(2, RIGHT)],
    startImage: { strength: keep },
  });

  it('sketch-to-image: the drawing round-trips through the pack’s VAE encoder and decoder', async () => {
    const encoder = (await pipeline.openComponent('vaeEncoder', 'image encoder'))!;
    const dims = [1, 4, 8, 8];
    const init = await encodeSketch(
      pipeline,
      encoder,
      sketch(0.5),
      4,
      { width: 64, height: 64 },
      dims,
    );
    await encoder.release();
    const image = await pipeline.decode(init!.latents, dims);
    const left = hueStats(image, LEFT);
    const right = hueStats(image, RIGHT);
    console.log(`sketch round trip: left ${fmt(left.hue)}°, right ${fmt(right.hue)}°`);
    expect(hueIs(left.hue, 'red')).toBe(true);
    expect(hueIs(right.hue, 'blue')).toBe(true);
  });

  // With no prompt the drawing alone decides. A prompt the drawing does not match
  // wins over it in the 1.1.0 demo model (see models/MODEL_CARD.md, known limits):
  // with 'square', its memorised squares repaint the blue half purple at every seed.
  it('sketch-to-image: at drawing strength 0.9 the drawing’s colours survive denoising', async () => {
    const { defaults } = pipeline.manifest;
    let kept = 0;
    for (const seed of SEEDS) {
      const request: GenerateRequest = {
        prompt: '',
        steps: defaults.steps,
        guidance: defaults.guidance,
        seed,
        preview: false,
      };
      const { image } = await generateImage(pipeline, {
        ...request,
        regions: encodeLayout(sketch(0.9)),
      });
      const left = hueStats(image, LEFT);
      const right = hueStats(image, RIGHT);
      const ok = hueIs(left.hue, 'red') && hueIs(right.hue, 'blue');
      kept += ok ? 1 : 0;
      console.log(
        `sketch seed ${seed}: left ${fmt(left.hue)}° (${(left.coloured * 100).toFixed(0)}%), right ${fmt(right.hue)}° (${(right.coloured * 100).toFixed(0)}%)${ok ? '' : ' ✗'}`,
      );
    }
    expect(kept).toBeGreaterThanOrEqual(SEEDS.length - 1);
  });
});
