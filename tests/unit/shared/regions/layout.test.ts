import { describe, expect, it } from 'vitest';
import {
  activeRegions,
  decodeLayout,
  encodeLayout,
  parseLayout,
  RegionLayoutError,
  serializeLayout,
  type RegionLayout,
} from '../../../../src/shared/regions/layout';

const layout: RegionLayout = {
  version: 1,
  regions: [
    { id: 1, name: 'Sky', colour: '#1e88e5', prompt: 'blue square', strength: 0.8, hidden: false },
    { id: 3, name: 'Sun', colour: '#fdd835', prompt: 'yellow circle', strength: 1, hidden: true },
  ],
  strokes: [
    {
      region: 1,
      erase: false,
      points: [
        { x: 0.123456, y: 0.5, width: 0.1 },
        { x: 0.2, y: 0.6, width: 0.05 },
      ],
    },
    { region: 3, erase: true, points: [{ x: 0.9, y: 0.9, width: 0.2 }] },
  ],
  startImage: { strength: 0.6 },
};

describe('region layout JSON', () => {
  it('round-trips (points rounded to 1e-4)', () => {
    const json = serializeLayout(layout);
    const back = parseLayout(json);
    expect(back.regions).toEqual(layout.regions);
    expect(back.startImage).toEqual({ strength: 0.6 });
    expect(back.strokes[0]!.points[0]).toEqual({ x: 0.1235, y: 0.5, width: 0.1 });
    expect(back.strokes[1]).toEqual(layout.strokes[1]);
    expect(serializeLayout(back)).toBe(json);
    // Also from the object form (what a store keeps).
    expect(decodeLayout(structuredClone(encodeLayout(layout)))).toEqual(back);
  });

  it('packs points flat', () => {
    expect(encodeLayout(layout).strokes[0]!.points).toEqual([0.1235, 0.5, 0.1, 0.2, 0.6, 0.05]);
  });

  it.each([
    ['not JSON', '{'],
    ['wrong version', JSON.stringify({ version: 2, regions: [], strokes: [] })],
    [
      'bad colour',
      JSON.stringify({
        ...encodeLayout(layout),
        regions: [{ ...layout.regions[0], colour: 'red' }],
      }),
    ],
    [
      'strength above 1',
      JSON.stringify({ ...encodeLayout(layout), regions: [{ ...layout.regions[0], strength: 2 }] }),
    ],
    [
      'stroke for a missing region',
      JSON.stringify({ ...encodeLayout(layout), regions: [layout.regions[0]] }),
    ],
    [
      'ragged points',
      JSON.stringify({
        ...encodeLayout(layout),
        strokes: [{ region: 1, erase: false, points: [0.1, 0.2] }],
      }),
    ],
  ])('rejects %s with a RegionLayoutError', (_, json) => {
    expect(() => parseLayout(json)).toThrow(RegionLayoutError);
  });

  it('active regions: visible, prompted, painted', () => {
    expect(activeRegions(layout).map((r) => r.id)).toEqual([1]);
  });
});
