/**
 * The drawing surface over the image area. Only wires pointer events to the
 * pure gesture tracker and the stroke model, and blits the pure raster.
 * Children (the generated image) sit under the drawing and zoom with it.
 */

import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import {
  createGesture,
  pointerDown,
  pointerMove,
  pointerUp,
  type GestureAction,
  type GestureState,
  type PointerInput,
  type View,
} from './gesture';
import { DrawingRaster } from './raster';
import { getDrawingState, setDrawing, useDrawingState } from './drawing-state';
import { beginStroke, cancelStroke, endStroke, extendStroke } from './strokes';
import './draw.css';

/** Canvas pixels (the canvas is scaled to the frame by CSS). */
export const DRAWING_RESOLUTION = 256;

function toInput(event: PointerEvent, frame: DOMRect): PointerInput {
  const kind =
    event.pointerType === 'pen' || event.pointerType === 'touch' ? event.pointerType : 'mouse';
  return {
    id: event.pointerId,
    kind,
    x: event.clientX - frame.left,
    y: event.clientY - frame.top,
    pressure: event.pressure,
    button: event.button,
  };
}

function apply(actions: GestureAction[], setView: (v: View) => void): void {
  for (const action of actions) {
    switch (action.type) {
      case 'stroke-start':
        setDrawing((d) => beginStroke(d, action.point));
        break;
      case 'stroke-move':
        setDrawing((d) => extendStroke(d, action.point));
        break;
      case 'stroke-end':
        setDrawing(endStroke);
        break;
      case 'stroke-cancel':
        setDrawing(cancelStroke);
        break;
      case 'view':
        setView(action.view);
        break;
    }
  }
}

export function DrawingLayer({
  children,
  enabled = true,
}: {
  children?: ComponentChildren;
  /** Takes strokes and gestures; false: the picture only (no tool open), the drawing shown as it is. */
  enabled?: boolean;
}) {
  const { drawing, showDrawing } = useDrawingState();
  const frameRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const gesture = useRef<GestureState | null>(null);
  const raster = useRef(
    new DrawingRaster({ width: DRAWING_RESOLUTION, height: DRAWING_RESOLUTION }),
  );
  const [view, setView] = useState<View>({ scale: 1, x: 0, y: 0 });

  // Layout effect: the canvas is up to date as soon as the render is, not a frame later.
  useLayoutEffect(() => {
    const ctx = canvasRef.current?.getContext('2d');
    if (!ctx) return;
    const pixels = raster.current.render(drawing);
    ctx.putImageData(new ImageData(pixels, DRAWING_RESOLUTION, DRAWING_RESOLUTION), 0, 0);
  }, [drawing]);

  const tracker = (): { g: GestureState; frame: DOMRect } => {
    const frame = frameRef.current!.getBoundingClientRect();
    const brush = getDrawingState().drawing.brush;
    const g = (gesture.current ??= createGesture(
      { width: frame.width, height: frame.height },
      brush,
    ));
    g.frame = { width: frame.width, height: frame.height };
    g.brush = brush;
    return { g, frame };
  };

  const onDown = (event: PointerEvent) => {
    event.preventDefault();
    (event.currentTarget as Element).setPointerCapture(event.pointerId);
    const { g, frame } = tracker();
    apply(pointerDown(g, toInput(event, frame)), setView);
  };
  const onMove = (event: PointerEvent) => {
    const { g, frame } = tracker();
    // Coalesced events: every sample the pointer made since the last frame, for smooth strokes.
    const samples = event.getCoalescedEvents?.() ?? [];
    for (const sample of samples.length > 0 ? samples : [event])
      apply(pointerMove(g, toInput(sample, frame)), setView);
  };
  const onUp = (event: PointerEvent) => {
    const { g } = tracker();
    apply(pointerUp(g, event.pointerId, event.type === 'pointercancel'), setView);
  };

  const transform = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`;
  return (
    <div class={enabled ? 'draw-frame' : 'draw-frame inactive'} ref={frameRef}>
      <div class="draw-content" style={{ transform }}>
        {children}
        <canvas
          ref={canvasRef}
          class={showDrawing ? 'draw-canvas' : 'draw-canvas hidden'}
          role="img"
          aria-label="Drawing canvas"
          width={DRAWING_RESOLUTION}
          height={DRAWING_RESOLUTION}
          onPointerDown={onDown}
          onPointerMove={onMove}
          onPointerUp={onUp}
          onPointerCancel={onUp}
          onLostPointerCapture={onUp}
        />
      </div>
      {view.scale > 1 && (
        <button
          type="button"
          class="draw-reset"
          onClick={() => setView(resetGestureView(gesture.current))}
        >
          Reset zoom
        </button>
      )}
    </div>
  );
}

function resetGestureView(g: GestureState | null): View {
  const view = { scale: 1, x: 0, y: 0 };
  if (g) g.view = view;
  return view;
}
