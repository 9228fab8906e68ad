/**
 * When the app opens: fetch the one onnxruntime wasm build this device will
 * use on the first visit (so the service worker stores it and generation
 * works offline later; the other build is never downloaded), and on the
 * Create screen start loading the chosen pack at once, so that pressing
 * Generate right after opening does not wait for the whole load.
 */

import { ORT_RUNTIME_CACHE } from '../../shared/cache-names';
import type { Backend } from '../../shared/pack-manifest';
import { DEMO_CHOICE, packIdArg } from '../create/model-choice';
import { catalog } from '../../store/catalog';
import { listStoredPacks } from '../../store/packs';
import { rememberedChoice } from '../create/useModelChoice';
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
 * Loads the model the Create screen will use, when it is installed (a first
 * visit is left to the download); Generate's own load then finds it loaded.
 */
export async function preloadChosenPack(): Promise<void> {
  const packId = packIdArg(rememberedChoice() ?? DEMO_CHOICE);
  const demoUrls = catalog(new URL(import.meta.env.BASE_URL, location.href).href)
    .filter((entry) => entry.autoInstall)
    .map((entry) => entry.manifestUrl);
  const installed = (await listStoredPacks()).some(
    (pack) =>
      Boolean(pack.installed) &&
      (packId === undefined ? demoUrls.includes(pack.manifestUrl) : pack.id === packId),
  );
  if (!installed) return;
  const engine = engineFor(packId);
  markLoaded(packId);
  const info = await engine.call('loadPack', { packId, preference: loadBackendPreference() });
  markLoaded(packId, info.packId);
}
