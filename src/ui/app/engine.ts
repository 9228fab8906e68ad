/**
 * The one engine worker the page talks to, started on first use. A worker's
 * wasm memory never shrinks, so the worker is replaced (and all its memory
 * handed back) when another pack is loaded or after it ran out of memory.
 */

import { startEngine, type EngineClient, type EngineHandle } from '../../engine';
import type { BackendPreference } from '../../shared/capabilities';
import { GessoError } from '../../shared/errors';

let engine: EngineHandle | null = null;
/**
 * The pack the current worker loaded: as asked (undefined: the demo pack)
 * and its manifest id once known; null before any load.
 */
let loadedPack: { packId: string | undefined; manifestId: string | null } | null = null;
/** The loaded pack changed in the store (a new variant, an update): load it afresh next time. */
let stale = false;

export function getEngine(): EngineClient {
  return (engine ??= startEngine()).client;
}

/** Ends the worker; the next call starts a fresh one. */
export function restartEngine(): void {
  engine?.terminate();
  engine = null;
  loadedPack = null;
  stale = false;
}

/**
 * Before loading `packId`: a worker that holds another pack is replaced
 * first, so the old pack's memory is really freed, not just reused.
 */
export function engineFor(packId: string | undefined): EngineClient {
  if (stale || (loadedPack && loadedPack.packId !== packId)) restartEngine();
  // From now on the worker holds whatever a load of `packId` leaves in it, even
  // a load that fails part-way: the next other pack must get a fresh worker.
  if (!loadedPack) loadedPack = { packId, manifestId: null };
  return getEngine();
}

/** A store event: the pack the worker holds changed (a new variant, an update, a delete). */
export function packChanged(packId: string): void {
  if (loadedPack?.manifestId === packId) stale = true;
}

export function markLoaded(packId: string | undefined, manifestId: string | null = null): void {
  loadedPack = { packId, manifestId };
}

/** After a failure: out of memory leaves the worker's heap at its peak, so start over. */
export function recoverFrom(error: unknown): void {
  if (error instanceof GessoError && error.code === 'out-of-memory') restartEngine();
}

const PREFERENCE_KEY = 'gesso.backend';

export function loadBackendPreference(): BackendPreference {
  const stored = globalThis.localStorage?.getItem(PREFERENCE_KEY);
  return stored === 'webgpu' || stored === 'wasm' ? stored : 'auto';
}

export function saveBackendPreference(preference: BackendPreference): void {
  globalThis.localStorage?.setItem(PREFERENCE_KEY, preference);
}
