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
import { createDrawing, fromLayout, toLayout, type Drawing } from './strokes';

export interface SketchSettings {
  /** Use the drawing as the starting image. */
  enabled: boolean;
  /** 0..1: how much the drawing shapes the result. */
  strength: number;
}

export interface DrawingStore {
  /** What the canvas paints now: the regions, or the repaint mask in repaint mode. */
  drawing: Drawing;
  sketch: SketchSettings;
  /** The drawing is shown over the picture (hide it to look at the result). */
  showDrawing: boolean;
  /** Repaint mode: the same brush, eraser, undo and gestures paint a mask over the result. */
  repaint: boolean;
}

/** The store inside: both drawings; `DrawingStore.drawing` is whichever the mode paints. */
interface Stored extends Omit<DrawingStore, 'drawing'> {
  regions: Drawing;
  mask: Drawing;
}

function view(s: Stored): DrawingStore {
  const { regions, mask, ...rest } = s;
  return { ...rest, drawing: s.repaint ? mask : regions };
}

const SAVED = 'gesso.drawing';
const listeners = new Set<() => void>();

/** The drawing saved in this tab (it survives reloads, e.g. the first visit's reload for isolation). */
function loadSaved(): Stored {
  const fresh: Stored = {
    regions: createDrawing(),
    mask: createDrawing(),
    repaint: false,
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

/** Updates the drawing the canvas paints now (the regions, or the repaint mask). */
export function setDrawing(update: (d: Drawing) => Drawing): void {
  const key = state.repaint ? 'mask' : 'regions';
  const next = update(state[key]);
  if (next === state[key]) return;
  state = { ...state, [key]: next };
  changed();
}

/** Repaint mode on or off; the mask starts empty each time it is turned on. */
export function setRepaint(repaint: boolean): void {
  if (repaint === state.repaint) return;
  state = { ...state, repaint, mask: repaint ? createDrawing() : state.mask };
  changed();
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

/** Whether repaint mode is on; re-renders only when that changes (not on every stroke). */
export function useRepaintMode(): boolean {
  const [on, setOn] = useState(state.repaint);
  useEffect(() => {
    setOn(state.repaint);
    return subscribe(() => setOn(state.repaint));
  }, []);
  return on;
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
