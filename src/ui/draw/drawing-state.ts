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
import { createDrawing, fromLayout, toLayout, type Drawing } from './strokes';

export interface SketchSettings {
  /** Use the drawing as the starting image. */
  enabled: boolean;
  /** 0..1: how much the drawing shapes the result. */
  strength: number;
}

export interface DrawingStore {
  drawing: Drawing;
  sketch: SketchSettings;
  /** The drawing is shown over the picture (hide it to look at the result). */
  showDrawing: boolean;
}

const SAVED = 'gesso.drawing';
const listeners = new Set<() => void>();

/** The drawing saved in this tab (it survives reloads, e.g. the first visit's reload for isolation). */
function loadSaved(): DrawingStore {
  const fresh: DrawingStore = {
    drawing: createDrawing(),
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
      drawing: fromLayout(layout),
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
    if (state.drawing.active) return; // a stroke began meanwhile: its end saves again
    try {
      sessionStorage.setItem(SAVED, serializeLayout(currentLayout()));
    } catch {
      // Storage full or refused: the drawing just won't survive a reload.
    }
  };
  if (typeof requestIdleCallback === 'function') requestIdleCallback(save, { timeout: 2000 });
  else setTimeout(save, 300);
}

let state: DrawingStore = loadSaved();

function changed(): void {
  listeners.forEach((l) => l());
  if (!state.drawing.active) saveSoon();
}

export function getDrawingState(): DrawingStore {
  return state;
}

export function setDrawing(update: (d: Drawing) => Drawing): void {
  const next = update(state.drawing);
  if (next === state.drawing) return;
  state = { ...state, drawing: next };
  changed();
}

export function setSketch(patch: Partial<SketchSettings>): void {
  state = { ...state, sketch: { ...state.sketch, ...patch } };
  changed();
}

export function setShowDrawing(showDrawing: boolean): void {
  state = { ...state, showDrawing };
  listeners.forEach((l) => l());
}

export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useDrawingState(): DrawingStore {
  const [snapshot, setSnapshot] = useState(state);
  useEffect(() => {
    setSnapshot(state);
    return subscribe(() => setSnapshot(state));
  }, []);
  return snapshot;
}

/** The layout to generate with (and to save with the result). */
export function currentLayout(): RegionLayout {
  const layout = toLayout(state.drawing);
  if (state.sketch.enabled) layout.startImage = { strength: state.sketch.strength };
  return layout;
}

/** Puts a saved layout back on the canvas (e.g. "edit again" from the gallery). */
export function restoreLayout(layout: RegionLayout): void {
  state = {
    ...state,
    drawing: fromLayout(layout),
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
