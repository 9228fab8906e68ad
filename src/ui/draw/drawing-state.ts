/**
 * The drawing as app state: one module-level store, so the drawing survives
 * switching screens and the Create screen can read the layout when it
 * generates. Components subscribe through useDrawingState(). The drawing is
 * also kept in sessionStorage, so a reload does not lose it.
 */

import { useEffect, useState } from 'preact/hooks';
import {
  activeRegions,
  decodeLayout,
  encodeLayout,
  serializeLayout,
  type RegionLayout,
  type RegionLayoutJson,
} from '../../shared/regions/layout';
import { rasterizeRegion } from '../../shared/regions/masks';
import type { Size } from '../../shared/regions/masks';
import { rasterizeOutline } from './outline';
import { createDrawing, fromLayout, toLayout, visibleStrokes, type Drawing } from './strokes';

export interface SketchSettings {
  /** Use the drawing as the starting image. */
  enabled: boolean;
  /** 0..1: how much the drawing shapes the result. */
  strength: number;
}

export interface DrawingStore {
  /** What the canvas paints now: the regions, the repaint mask in repaint mode, or the outline in outline mode. */
  drawing: Drawing;
  sketch: SketchSettings;
  /** The drawing is shown over the picture (hide it to look at the result). */
  showDrawing: boolean;
  /** Repaint mode: the same brush, eraser, undo and gestures paint a mask over the result. */
  repaint: boolean;
  /**
   * Outline mode: the same tools draw the lines a ControlNet follows. Never
   * on together with repaint mode.
   */
  outline: boolean;
}

/** The store inside: the three drawings; `DrawingStore.drawing` is whichever the mode paints. */
interface Stored extends Omit<DrawingStore, 'drawing'> {
  regions: Drawing;
  mask: Drawing;
  lines: Drawing;
}

type DrawingKey = 'regions' | 'mask' | 'lines';

/** The drawing the mode paints. */
function painted(s: Stored): DrawingKey {
  if (s.repaint) return 'mask';
  return s.outline ? 'lines' : 'regions';
}

function view(s: Stored): DrawingStore {
  const { sketch, showDrawing, repaint, outline } = s;
  return { sketch, showDrawing, repaint, outline, drawing: s[painted(s)] };
}

/** An empty outline, drawn with a thin brush: what is on screen is close to the lines that count. */
function emptyOutline(): Drawing {
  return { ...createDrawing(), brush: 0.03 };
}

const SAVED = 'gesso.drawing';
const listeners = new Set<() => void>();

/** The drawing saved in this tab (it survives reloads, e.g. the first visit's reload for isolation). */
function loadSaved(): Stored {
  const fresh: Stored = {
    regions: createDrawing(),
    mask: createDrawing(),
    lines: emptyOutline(),
    repaint: false,
    outline: false,
    // 0.9: on the demo pack the drawing's colours survive only from about 0.9 (measured:
    // demo-pack.test.ts); lower values follow the prompt more than the drawing.
    sketch: { enabled: false, strength: 0.9 },
    showDrawing: true,
  };
  try {
    const json = globalThis.sessionStorage?.getItem(SAVED);
    if (!json) return fresh;
    const layout = decodeLayout(json);
    return {
      ...fresh,
      regions: fromLayout(layout),
      sketch: layout.startImage
        ? { enabled: true, strength: layout.startImage.strength }
        : fresh.sketch,
    };
  } catch {
    return fresh;
  }
}

let saveScheduled = false;
/**
 * Saves the drawing when the page is idle: serialising a long drawing takes
 * time that must never land between two pointer events.
 */
function saveSoon(): void {
  if (saveScheduled || !globalThis.sessionStorage) return;
  saveScheduled = true;
  const save = () => {
    saveScheduled = false;
    if (view(state).drawing.active) return; // a stroke began meanwhile: its end saves again
    try {
      sessionStorage.setItem(SAVED, serializeLayout(currentLayout()));
    } catch {
      // Storage full or refused: the drawing just won't survive a reload.
    }
  };
  if (typeof requestIdleCallback === 'function') requestIdleCallback(save, { timeout: 2000 });
  else setTimeout(save, 300);
}

let state: Stored = loadSaved();
let snapshot: DrawingStore = view(state);

function changed(): void {
  snapshot = view(state);
  listeners.forEach((l) => l());
  if (!snapshot.drawing.active) saveSoon();
}

export function getDrawingState(): DrawingStore {
  return snapshot;
}

/** Updates the drawing the canvas paints now (the regions, the repaint mask or the outline). */
export function setDrawing(update: (d: Drawing) => Drawing): void {
  const key = painted(state);
  const next = update(state[key]);
  if (next === state[key]) return;
  state = { ...state, [key]: next };
  changed();
}

/** Repaint mode on or off (on turns outline mode off); the mask starts empty each time it is turned on. */
export function setRepaint(repaint: boolean): void {
  if (repaint === state.repaint) return;
  state = {
    ...state,
    repaint,
    outline: repaint ? false : state.outline,
    mask: repaint ? createDrawing() : state.mask,
  };
  changed();
}

/**
 * Outline mode on or off (on turns repaint mode off). The outline is kept
 * while the mode is off: turning it on again brings the same lines back.
 */
export function setOutline(outline: boolean): void {
  if (outline === state.outline) return;
  state = { ...state, outline, repaint: outline ? false : state.repaint };
  changed();
}

/**
 * The outline as drawn now, to rasterise at a size known later (the pack's,
 * once loaded): null when outline mode is off or nothing is drawn. Later
 * drawing does not change what it gives.
 */
export function outlineSnapshot(): ((size: Size) => Uint8Array | null) | null {
  if (!state.outline) return null;
  const strokes = visibleStrokes(state.lines);
  if (!strokes.some((s) => !s.erase)) return null;
  return (size) => rasterizeOutline(strokes, size);
}

/**
 * The outline at `size` as thin lines (about 3% of the width, whatever the
 * brush), 255 on the lines and 0 elsewhere; null when outline mode is off or
 * no line is drawn (or all are erased).
 */
export function outlineMask(size: Size): Uint8Array | null {
  return outlineSnapshot()?.(size) ?? null;
}

/**
 * The repaint mask at `size`, 0-255 (255: repaint), or null when repaint
 * mode is off or nothing is painted.
 */
export function repaintMask(size: { width: number; height: number }): Uint8Array | null {
  if (!state.repaint) return null;
  const layout = toLayout(state.mask);
  const painted = new Float32Array(size.width * size.height);
  for (const region of layout.regions)
    rasterizeRegion(layout.strokes, region.id, size).forEach((v, i) => {
      painted[i] = Math.max(painted[i]!, v);
    });
  if (!painted.some((v) => v > 0)) return null;
  return Uint8Array.from(painted, (v) => Math.round(v * 255));
}

export function setSketch(patch: Partial<SketchSettings>): void {
  state = { ...state, sketch: { ...state.sketch, ...patch } };
  changed();
}

export function setShowDrawing(showDrawing: boolean): void {
  state = { ...state, showDrawing };
  snapshot = view(state);
  listeners.forEach((l) => l());
}

export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useDrawingState(): DrawingStore {
  const [current, setCurrent] = useState(snapshot);
  useEffect(() => {
    setCurrent(snapshot);
    return subscribe(() => setCurrent(snapshot));
  }, []);
  return current;
}

/** One mode flag; re-renders only when it changes (not on every stroke). */
function useMode(key: 'repaint' | 'outline'): boolean {
  const [on, setOn] = useState(state[key]);
  useEffect(() => {
    setOn(state[key]);
    return subscribe(() => setOn(state[key]));
  }, []);
  return on;
}

/** Whether repaint mode is on. */
export function useRepaintMode(): boolean {
  return useMode('repaint');
}

/** Whether outline mode is on. */
export function useOutlineMode(): boolean {
  return useMode('outline');
}

/** The layout to generate with (and to save with the result). */
export function currentLayout(): RegionLayout {
  const layout = toLayout(state.regions);
  if (state.sketch.enabled) layout.startImage = { strength: state.sketch.strength };
  return layout;
}

/** Puts a saved layout back on the canvas (e.g. "edit again" from the gallery). */
export function restoreLayout(layout: RegionLayout): void {
  state = {
    ...state,
    regions: fromLayout(layout),
    sketch: layout.startImage
      ? { enabled: true, strength: layout.startImage.strength }
      : { ...state.sketch, enabled: false },
  };
  changed();
}

/** The layout in its JSON form for a generate call, or undefined when the drawing changes nothing. */
export function layoutForGenerate(): RegionLayoutJson | undefined {
  const layout = currentLayout();
  if (!layout.startImage && activeRegions(layout).length === 0) return undefined;
  return encodeLayout(layout);
}
