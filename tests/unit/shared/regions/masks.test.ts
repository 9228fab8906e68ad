import { describe, expect, it } from 'vitest';
import type { RegionLayout } from '../../../../src/shared/regions/layout';
import {
  blur,
  downsample,
  normalizeWeights,
  paintSegment,
  rasterizeRegion,
  regionWeights,
} from '../../../../src/shared/regions/masks';
import { renderRgba, renderSketchTensor } from '../../../../src/shared/regions/sketch';

const region = (id: number, prompt: string, extra: Partial<RegionLayout['regions'][0]> = {}) => ({
  id,
  name: `Region ${id}`,
  colour: id === 1 ? '#ff0000' : '#0000ff',
  prompt,
  strength: 1,
  hidden: false,
  ...extra,
});
/** A brush as wide as the image, swept down a vertical line at x: covers a band of half-width 0.5. */
const band = (id: number, x0: number, x1: number, erase = false) => ({
  region: id,
  erase,
  points: [
    { x: (x0 + x1) / 2, y: -1, width: x1 - x0 },
    { x: (x0 + x1) / 2, y: 2, width: x1 - x0 },
  ],
});
const halves = (extra: Partial<RegionLayout> = {}): RegionLayout => ({
  version: 1,
  regions: [region(1, 'red square'), region(2, 'blue square')],
  strokes: [band(1, 0, 0.5), band(2, 0.5, 1)],
  ...extra,
});

describe('rasterisation', () => {
  it('a disc of the brush width around a single point', () => {
    const size = { width: 20, height: 20 };
    const mask = new Float32Array(400);
    paintSegment(mask, size, { x: 0.5, y: 0.5, width: 0.5 }, { x: 0.5, y: 0.5, width: 0.5 }, 1);
    const area = mask.reduce((a, b) => a + b, 0);
    expect(area).toBeGreaterThan(Math.PI * 25 * 0.85);
    expect(area).toBeLessThan(Math.PI * 25 * 1.15);
    expect(mask[10 * 20 + 10]).toBe(1);
    expect(mask[0]).toBe(0);
  });

  it('a capsule along a segment, and erase strokes remove paint', () => {
    const size = { width: 64, height: 64 };
    const layer = rasterizeRegion([band(1, 0, 0.5), band(1, 0.25, 0.5, true)], 1, size);
    // Columns 0..15 painted, 16..63 not.
    for (let y = 0; y < 64; y += 7) {
      expect(layer[y * 64 + 3]).toBe(1);
      expect(layer[y * 64 + 15]).toBe(1);
      expect(layer[y * 64 + 16]).toBe(0);
      expect(layer[y * 64 + 40]).toBe(0);
    }
    // Other regions' strokes don't paint this layer.
    expect(rasterizeRegion([band(2, 0, 1)], 1, size).every((v) => v === 0)).toBe(true);
  });
});

describe('reduction to latent resolution', () => {
  it('area-averages blocks', () => {
    const mask = new Float32Array(16);
    mask.set([1, 1, 0, 0, 1, 0, 0, 0], 0);
    expect([...downsample(mask, { width: 4, height: 4 }, 2)]).toEqual([0.75, 0, 0, 0]);
  });

  it('blur softens edges, keeps interiors and constant fields', () => {
    const size = { width: 8, height: 1 };
    const step = new Float32Array([1, 1, 1, 1, 0, 0, 0, 0]);
    const soft = blur(step, size);
    expect([...soft]).toEqual([1, 1, 1, 0.75, 0.25, 0, 0, 0]);
    expect(
      [...blur(new Float32Array(8).fill(0.3), size, 3)].every((v) => Math.abs(v - 0.3) < 1e-6),
    ).toBe(true);
  });
});

describe('region weights', () => {
  it('halves: red left, blue right, soft in the middle, summing to 1', () => {
    const w = regionWeights(halves(), { width: 64, height: 64 }, 8);
    expect(w.width).toBe(8);
    expect(w.regions.map((r) => r.prompt)).toEqual(['red square', 'blue square']);
    const [base, red, blue] = w.weights;
    for (let y = 0; y < 8; y++) {
      expect(red![y * 8]).toBeCloseTo(1, 6);
      expect(blue![y * 8 + 7]).toBeCloseTo(1, 6);
      expect(red![y * 8 + 3]).toBeCloseTo(0.75, 6);
      expect(blue![y * 8 + 3]).toBeCloseTo(0.25, 6);
      for (let x = 0; x < 8; x++) {
        const i = y * 8 + x;
        expect(base![i]! + red![i]! + blue![i]!).toBeCloseTo(1, 6);
        expect(base![i]).toBeCloseTo(0, 6);
      }
    }
  });

  it('unpainted cells belong to the main prompt; strength mixes it back in', () => {
    const layout = halves({ strokes: [band(1, 0, 0.5)] });
    layout.regions[0]!.strength = 0.6;
    const w = regionWeights(layout, { width: 64, height: 64 }, 8, { blurPasses: 0 });
    expect(w.regions).toHaveLength(1); // region 2 is not painted
    const [base, red] = w.weights;
    expect(red![0]).toBeCloseTo(0.6, 6);
    expect(base![0]).toBeCloseTo(0.4, 6);
    expect(base![7]).toBeCloseTo(1, 6);
    expect(red![7]).toBe(0);
  });

  it('overlapping regions share a cell in proportion', () => {
    const [base, a, b] = normalizeWeights(
      [new Float32Array([1, 0.5]), new Float32Array([1, 0.25])],
      [1, 1],
    );
    expect([...a!]).toEqual([0.5, 0.5]);
    expect([...b!]).toEqual([0.5, 0.25]);
    expect(base![0]).toBe(0);
    expect(base![1]).toBeCloseTo(0.25, 6);
  });

  it('hidden, empty-prompt and unpainted regions are left out; no regions means all main prompt', () => {
    const layout = halves();
    layout.regions[0]!.hidden = true;
    layout.regions[1]!.prompt = '  ';
    const w = regionWeights(layout, { width: 64, height: 64 }, 8);
    expect(w.regions).toEqual([]);
    expect(w.weights).toHaveLength(1);
    expect(w.weights[0]!.every((v) => v === 1)).toBe(true);
  });
});

describe('sketch', () => {
  it('renders region colours on white as a [-1, 1] tensor', () => {
    const t = renderSketchTensor(halves(), { width: 8, height: 8 });
    expect(t.length).toBe(3 * 64);
    expect([t[0], t[64], t[128]]).toEqual([1, -1, -1]); // left: red
    expect([t[7], t[64 + 7], t[128 + 7]]).toEqual([-1, -1, 1]); // right: blue
    const rgba = renderRgba(halves({ strokes: [band(1, 0, 0.5)] }), { width: 8, height: 8 });
    expect([...rgba.subarray(0, 4)]).toEqual([255, 0, 0, 255]);
    expect([...rgba.subarray(28, 32)]).toEqual([0, 0, 0, 0]);
  });
});
