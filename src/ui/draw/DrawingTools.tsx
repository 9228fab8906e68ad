/** Brush size, eraser, undo, redo, clear. */

import { setDrawing, setShowDrawing, useDrawingState } from './drawing-state';
import {
  canRedo,
  canUndo,
  clear,
  redo,
  setBrush,
  setEraser,
  undo,
  visibleStrokes,
} from './strokes';

export function DrawingTools() {
  const { drawing, showDrawing } = useDrawingState();
  return (
    <div class="draw-tools" role="toolbar" aria-label="Drawing tools">
      <label>
        Brush size
        <input
          type="range"
          min={1}
          max={40}
          step={1}
          value={Math.round(drawing.brush * 100)}
          onInput={(e) => {
            const value = Number(e.currentTarget.value) / 100;
            setDrawing((d) => setBrush(d, value));
          }}
        />
      </label>
      <button
        type="button"
        aria-pressed={drawing.eraser}
        onClick={() => setDrawing((d) => setEraser(d, !d.eraser))}
      >
        Eraser
      </button>
      <button type="button" disabled={!canUndo(drawing)} onClick={() => setDrawing(undo)}>
        Undo
      </button>
      <button type="button" disabled={!canRedo(drawing)} onClick={() => setDrawing(redo)}>
        Redo
      </button>
      <button
        type="button"
        disabled={visibleStrokes(drawing).length === 0}
        onClick={() => setDrawing(clear)}
      >
        Clear
      </button>
      <button
        type="button"
        aria-pressed={!showDrawing}
        onClick={() => setShowDrawing(!showDrawing)}
      >
        Hide drawing
      </button>
    </div>
  );
}
