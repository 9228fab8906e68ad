/**
 * When the app opens: fetch the one onnxruntime wasm build this device will
 * use on the first visit (so the service worker stores it and generation
 * works offline later; the other build is never downloaded), and on the
 * Create screen load the chosen pack at once, so that pressing Generate
 * right after opening (or after choosing a model) does not wait for the load.
 */

import { ORT_RUNTIME_CACHE } from '../../shared/cache-names';
import type { Backend, PackManifest } from '../../shared/pack-manifest';
import { catalog } from '../../store/catalog';
import { listStoredPacks } from '../../store/packs';
import { getGeneration } from '../create/useGeneration';
import { DEMO_CHOICE, packIdArg } from '../create/model-choice';
import { rememberedChoice } from '../create/useModelChoice';
import { parseRoute } from './routes';
import { wouldLoad } from '../../shared/fit';
import { engineFor, getEngine, loadBackendPreference, markLoaded } from './engine';

const WASM_URL: Record<Backend, () => Promise<{ default: string }>> = {
  webgpu: () => import('onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url'),
  wasm: () => import('onnxruntime-web/ort-wasm-simd-threaded.wasm?url'),
};

export async function warmRuntimeCache(): Promise<Backend> {
  const { backend } = await getEngine().call('chooseBackend', {
    preference: loadBackendPreference(),
  });
  if (!('serviceWorker' in navigator)) return backend;
  await navigator.serviceWorker.ready;
  const { default: url } = await WASM_URL[backend]();
  const cache = await caches.open(ORT_RUNTIME_CACHE);
  if (await cache.match(url)) return backend;
  const response = await fetch(url);
  await response.body?.pipeTo(new WritableStream());
  return backend;
}

/**
 * Loads the pack the Create screen has chosen, so that its first press does
 * not wait for the load (and, for a small pack on WebAssembly, for a cold
 * first run: the engine warms it up after loading). Only an installed pack
 * that the engine would load here: choosing one that cannot run keeps the
 * pack already loaded. Choosing another pack that can replaces the engine
 * worker (engineFor), which ends the old pack's load or warm-up with it. Never
 * while an image is being made: that would end the run.
 */
export async function preloadPack(packId: string | undefined): Promise<void> {
  const status = getGeneration().status;
  if (status === 'loading' || status === 'running') return;
  const manifest = await installedManifest(packId);
  if (!manifest) return;
  const preference = loadBackendPreference();
  const caps = await getEngine().call('detect', undefined);
  if (!wouldLoad(manifest, caps, preference)) return;
  const again = getGeneration().status;
  if (again === 'loading' || again === 'running') return;
  const engine = engineFor(packId);
  markLoaded(packId);
  const start = performance.now();
  const info = await engine.call('loadPack', { packId, preference });
  performance.measure('gesso: preload', { start });
  markLoaded(packId, info.packId);
}

/**
 * The same, at the very start of a visit that opens on Create, before the
 * page has read the store or rendered: the engine worker starts and loads
 * the remembered pack while the page gets ready. The worker checks what the
 * page would (installed, fits here) and gives up quietly otherwise; the Create
 * screen's preloadPack then finds the pack loaded, or decides again.
 */
export function preloadAtOpen(): void {
  if (parseRoute(location.hash) !== 'create') return;
  const packId = packIdArg(rememberedChoice() ?? DEMO_CHOICE);
  const engine = engineFor(packId);
  markLoaded(packId);
  const start = performance.now();
  engine
    .call('loadPack', { packId, preference: loadBackendPreference(), installedOnly: true })
    .then((info) => {
      performance.measure('gesso: preload at open', { start });
      markLoaded(packId, info.packId);
    })
    .catch(() => {
      // Not installed yet, or it cannot run here: nothing is loaded, nothing was downloaded.
    });
}

/** The installed manifest of `packId` (undefined: the built-in demo pack), or null when it is not installed. */
async function installedManifest(packId: string | undefined): Promise<PackManifest | null> {
  const demoUrls = catalog(new URL(import.meta.env.BASE_URL, location.href).href)
    .filter((entry) => entry.autoInstall)
    .map((entry) => entry.manifestUrl);
  const record = (await listStoredPacks()).find((pack) =>
    packId === undefined ? demoUrls.includes(pack.manifestUrl) : pack.id === packId,
  );
  return record?.installed?.manifest ?? null;
}
