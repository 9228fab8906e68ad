import { describe, expect, it } from 'vitest';
import { renderRgba } from '../../../../src/shared/regions/sketch';
import { DrawingRaster } from '../../../../src/ui/draw/raster';
import {
  addRegion,
  beginStroke,
  createDrawing,
  endStroke,
  extendStroke,
  selectRegion,
  setEraser,
  toLayout,
  undo,
  updateRegion,
  type Drawing,
} from '../../../../src/ui/draw/strokes';

const size = { width: 32, height: 32 };
const pt = (x: number, y: number) => ({ x, y, width: 0.2 });

function scribble(d: Drawing, points: [number, number][], commit = true): Drawing {
  let out = beginStroke(d, pt(...points[0]!));
  for (const p of points.slice(1)) out = extendStroke(out, pt(...p));
  return commit ? endStroke(out) : out;
}

describe('DrawingRaster (what the canvas shows)', () => {
  it('painting point by point matches rasterising the finished drawing', () => {
    let d = addRegion(addRegion(createDrawing()));
    const raster = new DrawingRaster(size);
    d = selectRegion(d, d.regions[0]!.id);
    d = scribble(d, [
      [0.1, 0.1],
      [0.4, 0.5],
    ]);
    d = selectRegion(d, d.regions[1]!.id);
    let live = beginStroke(d, pt(0.9, 0.1));
    raster.render(live);
    const more: [number, number][] = [
      [0.7, 0.4],
      [0.6, 0.9],
    ];
    for (const [x, y] of more) {
      live = extendStroke(live, pt(x, y));
      raster.render(live);
    }
    const during = raster.render(live).slice();
    const done = endStroke(live);
    const after = raster.render(done).slice();
    const expected = renderRgba(toLayout(done), size);
    expect(after).toEqual(expected);
    expect(during).toEqual(expected);
  });

  it('erasing, undo, hiding and recolouring show up', () => {
    let d = addRegion(createDrawing());
    const id = d.regions[0]!.id;
    const raster = new DrawingRaster(size);
    d = scribble(d, [
      [0.2, 0.5],
      [0.8, 0.5],
    ]);
    const centre = (16 * 32 + 16) * 4;
    expect(raster.render(d)[centre + 3]).toBe(255);
    d = scribble(setEraser(d, true), [[0.5, 0.5]]);
    expect(raster.render(d)[centre + 3]).toBe(0);
    d = undo(d);
    expect(raster.render(d)[centre + 3]).toBe(255);
    d = updateRegion(d, id, { colour: '#00ff00' });
    expect([...raster.render(d).subarray(centre, centre + 4)]).toEqual([0, 255, 0, 255]);
    d = updateRegion(d, id, { hidden: true });
    expect(raster.render(d).every((v) => v === 0)).toBe(true);
  });
});

describe('DrawingRaster on a long drawing', () => {
  it('adds each finished stroke to its layer without redrawing the others, and shows the same pixels', () => {
    let d = addRegion(addRegion(createDrawing()));
    const raster = new DrawingRaster(size);
    raster.render(d);
    const before = raster.fullRasters;
    for (let k = 0; k < 2000; k++) {
      d = selectRegion(d, d.regions[k % 2]!.id);
      const x = (k % 37) / 37;
      const y = (k % 23) / 23;
      let live = beginStroke(d, pt(x, y));
      raster.render(live);
      live = extendStroke(live, pt(1 - x, y));
      // Every other stroke is rendered once more before it ends (as a frame would).
      if (k % 2 === 0) raster.render(live);
      d = endStroke(live);
      raster.render(d);
    }
    expect(raster.fullRasters).toBe(before);
    const fresh = new DrawingRaster(size);
    expect(fresh.render(d)).toEqual(raster.pixels);
    // Undo is another change: the layers are rasterised again, and still agree.
    d = undo(d);
    raster.render(d);
    expect(raster.fullRasters).toBe(before + 1);
    expect(new DrawingRaster(size).render(d)).toEqual(raster.pixels);
  });
});
