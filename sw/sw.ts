/// <reference lib="webworker" />
/**
 * Gesso's service worker: precaches the app shell, caches the onnxruntime
 * build this device uses on first use, adds cross-origin isolation headers,
 * and lets the page decide when a new version takes over.
 * Model weights are never cached here; the model store keeps them in IndexedDB.
 */

import { clientsClaim } from 'workbox-core';
import {
  addPlugins,
  cleanupOutdatedCaches,
  createHandlerBoundToURL,
  precacheAndRoute,
} from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { CacheFirst, NetworkOnly } from 'workbox-strategies';
import { ORT_RUNTIME_CACHE } from '../src/shared/cache-names';
import { setUpDownloads } from './downloads';
import { isolationPlugin } from './isolation';

declare const self: ServiceWorkerGlobalScope;

addPlugins([isolationPlugin]);
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

registerRoute(
  new NavigationRoute(createHandlerBoundToURL('index.html'), { denylist: [/^\/packs\//] }),
);

// onnxruntime's wasm binaries are 14-26 MB, so only the one build a device
// actually loads is stored, on first use. File names carry a content hash.
// The stored response is handed out as it is, without the isolation headers
// (a same-origin script needs none): Chrome keeps V8's compiled code for the
// wasm beside a Cache Storage response only when it is not rewritten, and
// that code is what makes a returning visit's runtime start faster.
registerRoute(
  ({ url, sameOrigin }) => sameOrigin && url.pathname.endsWith('.wasm'),
  new CacheFirst({ cacheName: ORT_RUNTIME_CACHE }),
);

// Everything else from this origin (worker scripts included) also needs the headers.
registerRoute(({ sameOrigin }) => sameOrigin, new NetworkOnly({ plugins: [isolationPlugin] }));

self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});

// Model packs: downloads into IndexedDB, resumable and verified (sw/downloads).
setUpDownloads(self);

clientsClaim();
