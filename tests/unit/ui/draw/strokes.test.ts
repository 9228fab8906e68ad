import { describe, expect, it } from 'vitest';
import {
  addRegion,
  beginStroke,
  canRedo,
  canUndo,
  cancelStroke,
  clear,
  createDrawing,
  deleteRegion,
  endStroke,
  extendStroke,
  fromLayout,
  layerStrokes,
  MAX_REGIONS,
  redo,
  selectRegion,
  setEraser,
  toLayout,
  undo,
  updateRegion,
  visibleStrokes,
  type Drawing,
} from '../../../../src/ui/draw/strokes';

const pt = (x: number, y: number) => ({ x, y, width: 0.1 });
function draw(d: Drawing, ...points: [number, number][]): Drawing {
  let out = beginStroke(d, pt(...points[0]!));
  for (const p of points.slice(1)) out = extendStroke(out, pt(...p));
  return endStroke(out);
}

describe('strokes', () => {
  it('regions get distinct colours, ids and names; the new one is selected', () => {
    let d = createDrawing();
    for (let i = 0; i < 4; i++) d = addRegion(d);
    expect(d.regions.map((r) => r.name)).toEqual(['Region 1', 'Region 2', 'Region 3', 'Region 4']);
    expect(new Set(d.regions.map((r) => r.colour)).size).toBe(4);
    expect(d.selected).toBe(d.regions[3]!.id);
    for (let i = 0; i < 10; i++) d = addRegion(d);
    expect(d.regions.length).toBe(MAX_REGIONS);
  });

  it('painting before any region exists adds Region 1; erasing does not', () => {
    const d = draw(createDrawing(), [0.1, 0.1], [0.2, 0.2]);
    expect(d.regions.map((r) => r.name)).toEqual(['Region 1']);
    expect(visibleStrokes(d).map((s) => s.region)).toEqual([d.regions[0]!.id]);
    const erased = draw(setEraser(createDrawing(), true), [0.1, 0.1]);
    expect(erased.regions).toEqual([]);
    expect(visibleStrokes(erased)).toEqual([]);
  });

  it('paints the selected region, with the eraser flag', () => {
    let d = addRegion(addRegion(createDrawing()));
    const [r1, r2] = d.regions;
    d = selectRegion(d, r1!.id);
    d = draw(d, [0.1, 0.1], [0.2, 0.2]);
    d = selectRegion(d, r2!.id);
    d = draw(setEraser(d, true), [0.5, 0.5]);
    expect(layerStrokes(d, r1!.id)).toHaveLength(1);
    expect(layerStrokes(d, r1!.id)[0]!.points).toHaveLength(2);
    expect(layerStrokes(d, r2!.id)[0]!.erase).toBe(true);
  });

  it('undo, redo, and a new stroke drops the redo list', () => {
    let d = addRegion(createDrawing());
    d = draw(d, [0.1, 0.1]);
    d = draw(d, [0.2, 0.2]);
    expect(visibleStrokes(d)).toHaveLength(2);
    d = undo(d);
    expect(visibleStrokes(d)).toHaveLength(1);
    expect(canRedo(d)).toBe(true);
    d = redo(d);
    expect(visibleStrokes(d)).toHaveLength(2);
    d = undo(d);
    d = draw(d, [0.3, 0.3]);
    expect(canRedo(d)).toBe(false);
    expect(visibleStrokes(d).map((s) => s.points[0]!.x)).toEqual([0.1, 0.3]);
  });

  it('clear is one undoable step; clearing nothing does nothing', () => {
    let d = addRegion(createDrawing());
    expect(clear(d)).toBe(d);
    d = draw(d, [0.1, 0.1]);
    d = draw(d, [0.2, 0.2]);
    d = clear(d);
    expect(visibleStrokes(d)).toEqual([]);
    expect(canUndo(d)).toBe(true);
    d = undo(d);
    expect(visibleStrokes(d)).toHaveLength(2);
  });

  it('a cancelled stroke leaves no trace', () => {
    let d = addRegion(createDrawing());
    d = extendStroke(beginStroke(d, pt(0.1, 0.1)), pt(0.2, 0.2));
    d = cancelStroke(d);
    expect(d.active).toBeNull();
    expect(endStroke(d).history).toEqual([]);
  });

  it('rename, recolour, hide; delete removes the region and its paint', () => {
    let d = addRegion(addRegion(createDrawing()));
    const [r1, r2] = d.regions;
    d = updateRegion(d, r1!.id, { name: 'Sky', colour: '#123456', hidden: true, strength: 0.5 });
    expect(d.regions[0]).toMatchObject({
      id: r1!.id,
      name: 'Sky',
      colour: '#123456',
      hidden: true,
      strength: 0.5,
    });
    d = selectRegion(d, r1!.id);
    d = draw(d, [0.1, 0.1]);
    d = selectRegion(d, r2!.id);
    d = draw(d, [0.9, 0.9]);
    d = deleteRegion(selectRegion(d, r1!.id), r1!.id);
    expect(d.regions.map((r) => r.id)).toEqual([r2!.id]);
    expect(d.selected).toBe(r2!.id);
    expect(visibleStrokes(d).map((s) => s.region)).toEqual([r2!.id]);
  });

  it('round-trips through a layout', () => {
    let d = addRegion(addRegion(createDrawing()));
    d = updateRegion(d, d.regions[0]!.id, { prompt: 'red square' });
    d = draw(d, [0.1, 0.1], [0.4, 0.4]);
    const back = fromLayout(toLayout(d));
    expect(back.regions).toEqual(d.regions);
    expect(visibleStrokes(back)).toEqual(visibleStrokes(d));
    expect(addRegion(back).regions[2]!.id).toBeGreaterThan(Math.max(...d.regions.map((r) => r.id)));
  });
});
