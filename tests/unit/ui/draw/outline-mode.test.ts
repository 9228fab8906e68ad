import { describe, expect, it } from 'vitest';
import {
  currentLayout,
  getDrawingState,
  outlineMask,
  outlineSnapshot,
  repaintMask,
  setDrawing,
  setOutline,
  setRepaint,
} from '../../../../src/ui/draw/drawing-state';
import { beginStroke, clear, endStroke, extendStroke, undo } from '../../../../src/ui/draw/strokes';

const SIZE = { width: 64, height: 64 };

/** A horizontal line across the middle, as the finger draws it. */
function drawLine(): void {
  setDrawing((d) => beginStroke(d, { x: 0.1, y: 0.5, width: 0.2 }));
  setDrawing((d) => extendStroke(d, { x: 0.9, y: 0.5, width: 0.2 }));
  setDrawing(endStroke);
}

describe('outline mode', () => {
  it('starts off and empty, and draws its own lines apart from the regions', () => {
    const regionsBefore = JSON.stringify(currentLayout());
    expect(getDrawingState().outline).toBe(false);
    expect(outlineMask(SIZE)).toBeNull();
    setOutline(true);
    expect(getDrawingState().outline).toBe(true);
    expect(getDrawingState().drawing.regions).toEqual([]);
    expect(outlineMask(SIZE)).toBeNull(); // nothing drawn yet
    drawLine();
    const mask = outlineMask(SIZE)!;
    expect(mask.length).toBe(64 * 64);
    expect(mask[32 * 64 + 32]).toBe(255);
    expect(mask[10 * 64 + 32]).toBe(0);
    // Thin whatever the brush: 2 px at 64 x 64.
    let column = 0;
    for (let y = 0; y < 64; y++) column += mask[y * 64 + 32] === 255 ? 1 : 0;
    expect(column).toBe(2);
    expect(JSON.stringify(currentLayout())).toBe(regionsBefore);
  });

  it('keeps the outline when the mode is turned off and on again', () => {
    const drawn = outlineMask(SIZE);
    setOutline(false);
    expect(getDrawingState().outline).toBe(false);
    expect(outlineMask(SIZE)).toBeNull();
    expect(outlineSnapshot()).toBeNull();
    setOutline(true);
    expect(outlineMask(SIZE)).toEqual(drawn);
  });

  it('is not on together with repaint mode', () => {
    setRepaint(true);
    expect(getDrawingState()).toMatchObject({ repaint: true, outline: false });
    expect(outlineMask(SIZE)).toBeNull();
    setOutline(true);
    expect(getDrawingState()).toMatchObject({ repaint: false, outline: true });
    expect(repaintMask(SIZE)).toBeNull();
    expect(outlineMask(SIZE)).not.toBeNull(); // the lines are still there
  });

  it('gives a snapshot: drawing more later does not change it', () => {
    const snapshot = outlineSnapshot()!;
    const before = snapshot(SIZE);
    setDrawing((d) => endStroke(beginStroke(d, { x: 0.5, y: 0.1, width: 0.1 })));
    expect(snapshot(SIZE)).toEqual(before);
    expect(outlineMask(SIZE)).not.toEqual(before);
    setDrawing(undo);
    expect(outlineMask(SIZE)).toEqual(before);
    expect(snapshot({ width: 512, height: 512 })!.length).toBe(512 * 512);
  });

  it('leaves out what the eraser took away, and is null once cleared', () => {
    setDrawing((d) => ({ ...d, eraser: true }));
    setDrawing((d) => beginStroke(d, { x: 0.5, y: 0, width: 0.3 }));
    setDrawing((d) => extendStroke(d, { x: 0.5, y: 1, width: 0.3 }));
    setDrawing(endStroke);
    const mask = outlineMask(SIZE)!;
    expect(mask[32 * 64 + 32]).toBe(0);
    expect(mask[32 * 64 + 10]).toBe(255);
    setDrawing(clear);
    expect(outlineMask(SIZE)).toBeNull();
    expect(outlineSnapshot()).toBeNull();
  });
});
