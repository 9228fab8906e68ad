/**
 * Pointer bookkeeping for the drawing surface, free of the DOM so it runs in
 * Node tests. The component feeds pointer events in (positions in CSS pixels
 * relative to the untransformed drawing frame) and applies what comes out.
 *
 * - One finger, pen or mouse draws.
 * - A second touch turns the gesture into pan / pinch-zoom and cancels the
 *   stroke the first finger started; no drawing until every finger is up.
 * - Palm rejection: while a pen is down, touches are ignored; a pen landing
 *   during a touch stroke cancels that stroke (it was the palm).
 * - Pen pressure scales the brush width.
 */

import type { LayoutPoint } from '../../shared/regions/layout';

export type PointerKind = 'mouse' | 'pen' | 'touch';

export interface PointerInput {
  id: number;
  kind: PointerKind;
  /** CSS pixels, relative to the frame's top-left corner. */
  x: number;
  y: number;
  /** 0..1; pens report real pressure, others 0.5 while pressed. */
  pressure: number;
  /** Mouse button (0 = primary); only the primary button draws. */
  button?: number;
}

/** Maps content (the image, 0..1 on each axis) onto the frame: frame = content * size * scale + offset. */
export interface View {
  scale: number;
  x: number;
  y: number;
}

export type StrokePoint = LayoutPoint;

export type GestureAction =
  | { type: 'stroke-start'; point: StrokePoint; pointerId: number }
  | { type: 'stroke-move'; point: StrokePoint }
  | { type: 'stroke-end' }
  | { type: 'stroke-cancel' }
  | { type: 'view'; view: View };

export const MIN_SCALE = 1;
export const MAX_SCALE = 8;

interface Pinch {
  ids: [number, number];
  centre: { x: number; y: number };
  distance: number;
  view: View;
}

export interface GestureState {
  /** Every pointer currently down that the gesture listens to. */
  readonly pointers: Map<number, PointerInput>;
  mode: 'idle' | 'draw' | 'pinch' | 'wait';
  drawing: number | null;
  pinch: Pinch | null;
  view: View;
  /** Frame size in CSS pixels (square image area). */
  frame: { width: number; height: number };
  /** Brush width as a fraction of the image width, before pressure. */
  brush: number;
}

export function createGesture(
  frame: { width: number; height: number },
  brush: number,
): GestureState {
  return {
    pointers: new Map(),
    mode: 'idle',
    drawing: null,
    pinch: null,
    view: { scale: 1, x: 0, y: 0 },
    frame,
    brush,
  };
}

/** Pen pressure 0..1 scales the width from 0.25x to 1.75x (1x at 0.5); other pointers draw at 1x. */
export function pressureFactor(kind: PointerKind, pressure: number): number {
  if (kind !== 'pen') return 1;
  const p = Number.isFinite(pressure) ? Math.min(1, Math.max(0, pressure)) : 0.5;
  return 0.25 + 1.5 * p;
}

export function toImagePoint(state: GestureState, p: PointerInput): StrokePoint {
  const { view, frame } = state;
  return {
    x: (p.x - view.x) / (frame.width * view.scale),
    y: (p.y - view.y) / (frame.height * view.scale),
    width: state.brush * pressureFactor(p.kind, p.pressure),
  };
}

function penDown(state: GestureState): boolean {
  for (const p of state.pointers.values()) if (p.kind === 'pen') return true;
  return false;
}

function touches(state: GestureState): PointerInput[] {
  return [...state.pointers.values()].filter((p) => p.kind === 'touch');
}

function centreAndDistance(a: PointerInput, b: PointerInput) {
  return {
    centre: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 },
    distance: Math.max(1, Math.hypot(a.x - b.x, a.y - b.y)),
  };
}

export function clampView(view: View, frame: { width: number; height: number }): View {
  const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, view.scale));
  const minX = frame.width - frame.width * scale;
  const minY = frame.height - frame.height * scale;
  return {
    scale,
    x: Math.min(0, Math.max(minX, view.x)),
    y: Math.min(0, Math.max(minY, view.y)),
  };
}

function startPinch(state: GestureState, a: PointerInput, b: PointerInput): void {
  const { centre, distance } = centreAndDistance(a, b);
  state.pinch = { ids: [a.id, b.id], centre, distance, view: { ...state.view } };
  state.mode = 'pinch';
}

export function pointerDown(state: GestureState, p: PointerInput): GestureAction[] {
  if (p.kind === 'mouse' && (p.button ?? 0) !== 0) return [];
  if (p.kind === 'touch' && penDown(state)) return []; // palm while a pen draws
  const actions: GestureAction[] = [];
  if (p.kind === 'pen') {
    // A pen wins over any touch in progress: those touches were the palm.
    if (state.mode === 'draw') actions.push({ type: 'stroke-cancel' });
    for (const other of [...state.pointers.values()])
      if (other.kind === 'touch') state.pointers.delete(other.id);
    state.pinch = null;
    state.mode = 'idle';
    state.drawing = null;
  }
  state.pointers.set(p.id, p);
  if (state.mode === 'idle') {
    state.mode = 'draw';
    state.drawing = p.id;
    actions.push({ type: 'stroke-start', point: toImagePoint(state, p), pointerId: p.id });
    return actions;
  }
  if (p.kind !== 'touch') return actions;
  const fingers = touches(state);
  if (state.mode === 'draw' && fingers.length >= 2) {
    actions.push({ type: 'stroke-cancel' });
    state.drawing = null;
    startPinch(state, fingers[0]!, fingers[1]!);
  } else if (state.mode === 'wait' && fingers.length >= 2) {
    startPinch(state, fingers[0]!, fingers[1]!);
  }
  return actions;
}

export function pointerMove(state: GestureState, p: PointerInput): GestureAction[] {
  if (!state.pointers.has(p.id)) return [];
  state.pointers.set(p.id, p);
  if (state.mode === 'draw' && state.drawing === p.id)
    return [{ type: 'stroke-move', point: toImagePoint(state, p) }];
  if (state.mode === 'pinch' && state.pinch && state.pinch.ids.includes(p.id)) {
    const a = state.pointers.get(state.pinch.ids[0]);
    const b = state.pointers.get(state.pinch.ids[1]);
    if (!a || !b) return [];
    const { centre, distance } = centreAndDistance(a, b);
    const start = state.pinch;
    const scale = Math.min(
      MAX_SCALE,
      Math.max(MIN_SCALE, (start.view.scale * distance) / start.distance),
    );
    // Keep the content point that was under the starting centre under the current centre.
    const cx = (start.centre.x - start.view.x) / start.view.scale;
    const cy = (start.centre.y - start.view.y) / start.view.scale;
    state.view = clampView(
      { scale, x: centre.x - cx * scale, y: centre.y - cy * scale },
      state.frame,
    );
    return [{ type: 'view', view: { ...state.view } }];
  }
  return [];
}

/** Pointer lifted. `cancelled` for pointercancel / lost capture: the stroke is dropped. */
export function pointerUp(state: GestureState, id: number, cancelled = false): GestureAction[] {
  if (!state.pointers.delete(id)) return [];
  const actions: GestureAction[] = [];
  if (state.mode === 'draw' && state.drawing === id) {
    actions.push({ type: cancelled ? 'stroke-cancel' : 'stroke-end' });
    state.drawing = null;
    state.mode = state.pointers.size > 0 ? 'wait' : 'idle';
  } else if (state.mode === 'pinch' && state.pinch?.ids.includes(id)) {
    state.pinch = null;
    const fingers = touches(state);
    if (fingers.length >= 2) startPinch(state, fingers[0]!, fingers[1]!);
    else state.mode = state.pointers.size > 0 ? 'wait' : 'idle';
  } else if (state.pointers.size === 0) {
    state.mode = 'idle';
  }
  return actions;
}
