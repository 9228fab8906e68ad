/**
 * Registers the service worker and tracks whether a new version is waiting.
 * The worker also adds the cross-origin isolation headers, so the first
 * visit reloads once when it takes control of a page that is not isolated.
 */

import { Workbox } from 'workbox-window';

type Listener = (updateWaiting: boolean) => void;

let workbox: Workbox | null = null;
let updateWaiting = false;
const listeners = new Set<Listener>();
const RELOADED_FOR_ISOLATION = 'gesso.reloaded-for-isolation';

function setUpdateWaiting(value: boolean) {
  updateWaiting = value;
  listeners.forEach((listener) => listener(value));
}

export function onUpdateWaiting(listener: Listener): () => void {
  listeners.add(listener);
  listener(updateWaiting);
  return () => listeners.delete(listener);
}

function reloadForIsolation() {
  if (globalThis.crossOriginIsolated || sessionStorage.getItem(RELOADED_FOR_ISOLATION)) return;
  sessionStorage.setItem(RELOADED_FOR_ISOLATION, '1');
  location.reload();
}

export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator) || workbox || import.meta.env.DEV) return;
  workbox = new Workbox(`${import.meta.env.BASE_URL}sw.js`, { scope: import.meta.env.BASE_URL });
  workbox.addEventListener('waiting', () => setUpdateWaiting(true));
  workbox.addEventListener('controlling', (event) => {
    if (event.isUpdate) location.reload();
    else reloadForIsolation();
  });
  if (navigator.serviceWorker.controller) reloadForIsolation();
  workbox.register().catch((error: unknown) => {
    // Blocked by policy or private mode: the app still works, just not offline.
    console.warn('Gesso could not install its service worker; offline use is off.', error);
  });
}

/** Activate the waiting version; the page reloads when it takes control. */
export function applyUpdate(): void {
  workbox?.messageSkipWaiting();
}
