/**
 * The drawing's model: regions (one paint layer each) and an undoable
 * history of strokes and clears. Immutable updates, so a component can keep
 * it in state and tests can compare snapshots. Coordinates are image
 * fractions (0..1), so the same drawing rasterises at any resolution.
 */

import type { Region, RegionLayout, Stroke } from '../../shared/regions/layout';
import type { StrokePoint } from './gesture';

export type HistoryEntry = { kind: 'stroke'; stroke: Stroke } | { kind: 'clear' };

export interface Drawing {
  regions: Region[];
  /** Id of the region the finger paints; null before any region exists. */
  selected: number | null;
  history: HistoryEntry[];
  /** Undone entries, most recent last. */
  future: HistoryEntry[];
  /** The stroke under the finger, not yet in the history. */
  active: Stroke | null;
  eraser: boolean;
  /** Brush width as a fraction of the image width. */
  brush: number;
  nextId: number;
}

export const MAX_REGIONS = 8;
/** Distinct, saturated colours, so regions read apart on the canvas. */
export const REGION_COLOURS = [
  '#e53935',
  '#1e88e5',
  '#43a047',
  '#fdd835',
  '#8e24aa',
  '#fb8c00',
  '#00acc1',
  '#d81b60',
];

export function createDrawing(): Drawing {
  return {
    regions: [],
    selected: null,
    history: [],
    future: [],
    active: null,
    eraser: false,
    brush: 0.1,
    nextId: 1,
  };
}

function unusedColour(regions: Region[]): string {
  const used = new Set(regions.map((r) => r.colour));
  return (
    REGION_COLOURS.find((c) => !used.has(c)) ??
    REGION_COLOURS[regions.length % REGION_COLOURS.length]!
  );
}

export function addRegion(d: Drawing): Drawing {
  if (d.regions.length >= MAX_REGIONS) return d;
  const id = d.nextId;
  const region: Region = {
    id,
    name: `Region ${d.regions.length + 1}`,
    colour: unusedColour(d.regions),
    prompt: '',
    strength: 1,
    hidden: false,
  };
  return { ...d, regions: [...d.regions, region], selected: id, nextId: id + 1, eraser: false };
}

export function updateRegion(d: Drawing, id: number, patch: Partial<Omit<Region, 'id'>>): Drawing {
  const regions = d.regions.map((r) => (r.id === id ? { ...r, ...patch, id } : r));
  return { ...d, regions };
}

/** Deleting a region deletes its paint too (from the history and redo list). */
export function deleteRegion(d: Drawing, id: number): Drawing {
  const keep = (e: HistoryEntry) => e.kind === 'clear' || e.stroke.region !== id;
  const regions = d.regions.filter((r) => r.id !== id);
  const selected = d.selected === id ? (regions[regions.length - 1]?.id ?? null) : d.selected;
  return {
    ...d,
    regions,
    selected,
    history: d.history.filter(keep),
    future: d.future.filter(keep),
    active: d.active?.region === id ? null : d.active,
  };
}

export function selectRegion(d: Drawing, id: number): Drawing {
  return d.regions.some((r) => r.id === id) ? { ...d, selected: id } : d;
}

export function setBrush(d: Drawing, brush: number): Drawing {
  return { ...d, brush: Math.min(0.5, Math.max(0.005, brush)) };
}

export function setEraser(d: Drawing, eraser: boolean): Drawing {
  return { ...d, eraser };
}

/** Starts a stroke in the selected region; painting before any region exists adds Region 1 first. */
export function beginStroke(d: Drawing, point: StrokePoint): Drawing {
  const target = d.selected === null && !d.eraser ? addRegion(d) : d;
  if (target.selected === null) return d;
  const stroke: Stroke = { region: target.selected, erase: target.eraser, points: [point] };
  return { ...target, active: stroke };
}

export function extendStroke(d: Drawing, point: StrokePoint): Drawing {
  if (!d.active) return d;
  return { ...d, active: { ...d.active, points: [...d.active.points, point] } };
}

export function endStroke(d: Drawing): Drawing {
  if (!d.active) return d;
  return {
    ...d,
    active: null,
    history: [...d.history, { kind: 'stroke', stroke: d.active }],
    future: [],
  };
}

export function cancelStroke(d: Drawing): Drawing {
  return d.active ? { ...d, active: null } : d;
}

/** Clearing is one undoable step. */
export function clear(d: Drawing): Drawing {
  if (visibleStrokes(d).length === 0) return d;
  return { ...d, active: null, history: [...d.history, { kind: 'clear' }], future: [] };
}

export function canUndo(d: Drawing): boolean {
  return d.history.length > 0;
}

export function canRedo(d: Drawing): boolean {
  return d.future.length > 0;
}

export function undo(d: Drawing): Drawing {
  const last = d.history[d.history.length - 1];
  if (!last) return d;
  return { ...d, active: null, history: d.history.slice(0, -1), future: [...d.future, last] };
}

export function redo(d: Drawing): Drawing {
  const next = d.future[d.future.length - 1];
  if (!next) return d;
  return { ...d, history: [...d.history, next], future: d.future.slice(0, -1) };
}

/** Strokes that count now: everything after the last clear, in order. */
export function visibleStrokes(d: Drawing): Stroke[] {
  const out: Stroke[] = [];
  for (const entry of d.history) {
    if (entry.kind === 'clear') out.length = 0;
    else out.push(entry.stroke);
  }
  return out;
}

/** Strokes of one region's layer, in order (paint and erase). */
export function layerStrokes(d: Drawing, region: number): Stroke[] {
  return visibleStrokes(d).filter((s) => s.region === region);
}

export function toLayout(d: Drawing): RegionLayout {
  return { version: 1, regions: d.regions.map((r) => ({ ...r })), strokes: visibleStrokes(d) };
}

/** A drawing that continues from a saved layout (its history starts fresh). */
export function fromLayout(layout: RegionLayout): Drawing {
  const maxId = layout.regions.reduce((m, r) => Math.max(m, r.id), 0);
  return {
    ...createDrawing(),
    regions: layout.regions.map((r) => ({ ...r })),
    selected: layout.regions[0]?.id ?? null,
    history: layout.strokes.map((stroke) => ({ kind: 'stroke' as const, stroke })),
    nextId: maxId + 1,
  };
}
