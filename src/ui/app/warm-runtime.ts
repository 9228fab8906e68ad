/**
 * On the first visit, fetch the one onnxruntime wasm build this device will
 * use, so the service worker stores it and generation works offline later.
 * The other build is never downloaded.
 */

import { ORT_RUNTIME_CACHE } from '../../shared/cache-names';
import type { Backend } from '../../shared/pack-manifest';
import { getEngine, loadBackendPreference } from './engine';

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
