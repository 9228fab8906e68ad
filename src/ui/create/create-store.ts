/**
 * The Create screen's state in one place, outside the screen: it outlives a
 * visit to another screen, and is kept in sessionStorage so a reload brings
 * it back (with a lost run reported). Components read it with useCreate().
 */

import { useEffect, useState } from 'preact/hooks';
import { randomSeed } from '../../shared/random';
import { restoreCreateState, serializeCreateState, type CreateState } from './create-state';
import type { StartImageChoice } from './start-image/photo';

const SAVED = 'gesso.create';

function load(): CreateState {
  let json: string | null = null;
  try {
    json = globalThis.sessionStorage?.getItem(SAVED) ?? null;
  } catch {
    // Storage refused: start fresh.
  }
  return restoreCreateState(json, randomSeed());
}

let state: CreateState = load();
const listeners = new Set<() => void>();

function save(): void {
  try {
    globalThis.sessionStorage?.setItem(SAVED, serializeCreateState(state));
  } catch {
    // Storage full or refused: the state just won't survive a reload.
  }
}
// Saved at once: what a reload finds is what was on screen.
save();

export function getCreate(): CreateState {
  return state;
}

export function updateCreate(update: (s: CreateState) => CreateState): void {
  const next = update(state);
  if (next === state) return;
  state = next;
  save();
  listeners.forEach((l) => l());
}

export function patchCreate(patch: Partial<CreateState>): void {
  updateCreate((s) => ({ ...s, ...patch }));
}

export function useCreate(): CreateState {
  const [current, setCurrent] = useState(state);
  useEffect(() => {
    setCurrent(state);
    const listener = () => setCurrent(state);
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return current;
}

// The start photo: a bitmap, so kept between screens but not across a reload.
let photo: StartImageChoice | null = null;
const photoListeners = new Set<() => void>();

/** Sets the start photo (the picker releases the one it replaces). */
export function setStartPhoto(next: StartImageChoice | null): void {
  photo = next;
  photoListeners.forEach((l) => l());
}

export function useStartPhoto(): StartImageChoice | null {
  const [current, setCurrent] = useState(photo);
  useEffect(() => {
    setCurrent(photo);
    const listener = () => setCurrent(photo);
    photoListeners.add(listener);
    return () => void photoListeners.delete(listener);
  }, []);
  return current;
}
