/**
 * Where the worker gets a pack: the model store (IndexedDB) first; the
 * built-in demo pack falls back to the app's own server while the store has
 * not installed it yet.
 */

import { GessoError } from '../shared/errors';
import type { PackSource } from '../shared/pack-source';
import { openModelDb } from '../store/idb-kv';
import { ModelStore } from '../store/model-store';
import { openStoredPack } from '../store/pack-reader';
import { fetchPackSource } from './fetch-pack-source';

/** The demo pack's manifest, relative to the app's base URL (as in models/catalog/index.json). */
export const DEMO_MANIFEST_PATH = 'packs/demo/manifest.json';

function appBase(): string {
  return new URL(import.meta.env.BASE_URL, globalThis.location.href).href;
}

/** The demo pack's id when the store has it installed (found offline, by its manifest URL). */
async function installedDemoId(): Promise<string | null> {
  try {
    const packs = await new ModelStore(await openModelDb()).listPacks();
    const demo = packs.find(
      (p) => p.origin === 'builtin' && p.manifestUrl.endsWith(DEMO_MANIFEST_PATH) && p.installed,
    );
    return demo?.id ?? null;
  } catch {
    return null;
  }
}

/**
 * `packId` undefined means the built-in demo pack: the store's copy when
 * installed (works offline), else the server's. `installedOnly`: never the
 * server's (a load ahead of need must not download anything).
 */
export async function openPack(
  packId: string | undefined,
  signal?: AbortSignal,
  installedOnly = false,
): Promise<PackSource> {
  if (packId) {
    try {
      return await openStoredPack(packId);
    } catch (error) {
      if (!(error instanceof GessoError && error.code === 'pack-missing') || installedOnly)
        throw error;
      const demo = await fetchPackSource(new URL(DEMO_MANIFEST_PATH, appBase()).href, signal).catch(
        () => null,
      );
      if (demo && demo.manifest.id === packId) return demo;
      throw error;
    }
  }
  const installed = await installedDemoId();
  if (installed) {
    try {
      return await openStoredPack(installed);
    } catch (error) {
      // Damaged or mid-update: fall back to the server's copy.
      if (installedOnly) throw error;
    }
  }
  if (installedOnly)
    throw new GessoError('pack-missing', 'The built-in pack is not installed on this device yet.');
  return fetchPackSource(new URL(DEMO_MANIFEST_PATH, appBase()).href, signal);
}
