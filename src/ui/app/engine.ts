/** The one engine worker the page talks to, started on first use. */

import { startEngine, type EngineClient } from '../../engine';
import type { BackendPreference } from '../../shared/capabilities';

let engine: EngineClient | null = null;

export function getEngine(): EngineClient {
  return (engine ??= startEngine());
}

const PREFERENCE_KEY = 'gesso.backend';

export function loadBackendPreference(): BackendPreference {
  const stored = globalThis.localStorage?.getItem(PREFERENCE_KEY);
  return stored === 'webgpu' || stored === 'wasm' ? stored : 'auto';
}

export function saveBackendPreference(preference: BackendPreference): void {
  globalThis.localStorage?.setItem(PREFERENCE_KEY, preference);
}
