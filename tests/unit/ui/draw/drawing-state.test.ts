import { describe, expect, it } from 'vitest';
import { decodeLayout } from '../../../../src/shared/regions/layout';
import {
  currentLayout,
  getDrawingState,
  layoutForGenerate,
  repaintMask,
  restoreLayout,
  setDrawing,
  setRepaint,
  setSketch,
  subscribe,
} from '../../../../src/ui/draw/drawing-state';
import { addRegion, beginStroke, endStroke, updateRegion } from '../../../../src/ui/draw/strokes';

describe('drawing store', () => {
  it('sends no layout until a visible region with a prompt is painted, or the sketch is on', () => {
    expect(layoutForGenerate()).toBeUndefined();
    setDrawing(addRegion);
    const id = getDrawingState().drawing.regions[0]!.id;
    setDrawing((d) => endStroke(beginStroke(d, { x: 0.5, y: 0.5, width: 0.2 })));
    expect(layoutForGenerate()).toBeUndefined(); // painted, but no prompt yet
    setDrawing((d) => updateRegion(d, id, { prompt: 'red square' }));
    const json = layoutForGenerate();
    expect(json?.regions.map((r) => r.prompt)).toEqual(['red square']);
    expect(json?.strokes[0]?.points).toEqual([0.5, 0.5, 0.2]);
    setDrawing((d) => updateRegion(d, id, { hidden: true }));
    expect(layoutForGenerate()).toBeUndefined();
    setSketch({ enabled: true, strength: 0.7 });
    expect(layoutForGenerate()?.startImage).toEqual({ strength: 0.7 });
  });

  it('restores a saved layout and tells subscribers', () => {
    let calls = 0;
    const stop = subscribe(() => calls++);
    const saved = decodeLayout(
      JSON.stringify({
        version: 1,
        regions: [
          {
            id: 7,
            name: 'Sky',
            colour: '#1e88e5',
            prompt: 'blue square',
            strength: 0.8,
            hidden: false,
          },
        ],
        strokes: [{ region: 7, erase: false, points: [0.1, 0.1, 0.1] }],
      }),
    );
    restoreLayout(saved);
    stop();
    expect(calls).toBe(1);
    expect(currentLayout().regions).toEqual(saved.regions);
    expect(currentLayout().strokes).toEqual(saved.strokes);
    expect(getDrawingState().sketch.enabled).toBe(false);
  });

  it('paints a separate repaint mask in repaint mode, leaving the regions as they were', () => {
    const regionsBefore = JSON.stringify(currentLayout());
    expect(repaintMask({ width: 8, height: 8 })).toBeNull(); // mode off
    setRepaint(true);
    expect(getDrawingState().repaint).toBe(true);
    expect(getDrawingState().drawing.regions).toEqual([]); // a fresh, empty mask
    expect(repaintMask({ width: 8, height: 8 })).toBeNull(); // nothing painted yet
    // A stroke down the right edge: the mask is 255 there and 0 on the left.
    setDrawing((d) => endStroke(beginStroke(d, { x: 0.9, y: 0, width: 0.2 })));
    setDrawing((d) => endStroke(beginStroke(d, { x: 0.9, y: 1, width: 0.2 })));
    const mask = repaintMask({ width: 8, height: 8 })!;
    expect(mask[0 * 8 + 7]).toBe(255);
    expect(mask[0 * 8 + 0]).toBe(0);
    expect(JSON.stringify(currentLayout())).toBe(regionsBefore);
    setRepaint(false);
    expect(repaintMask({ width: 8, height: 8 })).toBeNull();
    expect(getDrawingState().drawing.regions.length).toBeGreaterThan(0); // the regions are back
  });
});
