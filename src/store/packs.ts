/**
 * The page's side of the model store: call the service worker,
 * hear progress, read pack records, fetch manifests (through the worker,
 * with a time limit), and sum storage use.
 *
 *   await startDownload({ manifest, manifestUrl, licenseAccepted: true, origin: 'user' });
 *   const stop = onStoreEvent((event) => ...);   // progress + changed, from every tab
 *   const packs = await listStoredPacks();
 */

import { GessoError } from '../shared/errors';
import { callOnce } from '../shared/rpc/client';
import { openModelDb } from './idb-kv';
import { ModelStore } from './model-store';
import {
  STORE_CHANNEL,
  STORE_MESSAGE,
  type DownloadRequest,
  type StoreApi,
  type StoreEvent,
} from './protocol';
import type { PackRecord } from './records';

/**
 * Calls the service worker's store; rejects with the GessoError it answers
 * with. `timeoutMs`: give up (with a sentence) when no answer comes in time,
 * for calls a person waits on.
 */
export async function callStore<M extends keyof StoreApi & string>(
  method: M,
  args: StoreApi[M]['args'],
  options: { timeoutMs?: number } = {},
): Promise<StoreApi[M]['result']> {
  if (!('serviceWorker' in navigator))
    throw new GessoError(
      'storage-refused',
      'This browser has no service worker here, so packs cannot be downloaded.',
    );
  const call = (async () => {
    const registration = await navigator.serviceWorker.ready;
    const worker = registration.active;
    if (!worker)
      throw new GessoError('internal', 'The service worker is not running yet; reload the page.');
    return callOnce<StoreApi, M>(worker, STORE_MESSAGE, method, args);
  })();
  if (!options.timeoutMs) return call;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new GessoError(
            'internal',
            "Gesso's background worker did not answer in time. Reload the page and try again.",
          ),
        ),
      options.timeoutMs,
    );
  });
  try {
    return await Promise.race([call, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long the page waits on the worker's manifest fetch: the worker's own limit plus a margin. */
const MANIFEST_CALL_TIMEOUT_MS = 60_000;

/**
 * A manifest's JSON, fetched by the service worker from its host with a time
 * limit (the store's manifestTimeoutMs): GessoError with a sentence when it
 * can't be had. Not validated: see manifestFaults.
 */
export async function fetchManifest(url: string): Promise<unknown> {
  const { manifest } = await callStore(
    'fetchManifest',
    { url },
    { timeoutMs: MANIFEST_CALL_TIMEOUT_MS },
  );
  return manifest;
}

interface BackgroundFetchManager {
  fetch(
    id: string,
    requests: Request[],
    options: {
      title: string;
      downloadTotal?: number;
      icons: { src: string; sizes: string; type: string }[];
    },
  ): Promise<unknown>;
}

/**
 * Starts (or resumes) a pack download in the service worker. A fresh, big
 * download goes to Background Fetch where the browser has it (it carries on
 * with the app closed); the worker's own fetch loop otherwise.
 */
export async function startDownload(request: DownloadRequest): Promise<void> {
  const handOff = await callStore('download', request);
  if (!handOff) return;
  const registration = await navigator.serviceWorker.ready;
  const manager = (registration as unknown as { backgroundFetch?: BackgroundFetchManager })
    .backgroundFetch;
  try {
    if (!manager) throw new Error('no Background Fetch');
    await manager.fetch(
      handOff.id,
      handOff.urls.map(
        (url) => new Request(url, { referrerPolicy: 'no-referrer', credentials: 'omit' }),
      ),
      {
        title: handOff.title,
        icons: [{ src: handOff.icon, sizes: '192x192', type: 'image/png' }],
        ...(handOff.downloadTotal ? { downloadTotal: handOff.downloadTotal } : {}),
      },
    );
  } catch {
    // Refused (permission, quota, a duplicate id): the worker's fetch loop does it.
    await callStore('resume', { packId: handOff.packId });
    return;
  }
  // The worker finds the running fetch and passes its progress on to every page.
  await callStore('wake', undefined);
}

/** Every progress and change event from the service worker, whichever tab started the download. */
export function onStoreEvent(listener: (event: StoreEvent) => void): () => void {
  const channel = new BroadcastChannel(STORE_CHANNEL);
  channel.onmessage = (event) => listener(event.data as StoreEvent);
  return () => channel.close();
}

/**
 * While downloads run in the service worker, message it every 20 s: each
 * message extends the worker's life (browsers stop an idle worker; the
 * download would then wait for the next page load to resume). Call once per
 * page, e.g. from main.tsx; returns a stop function.
 */
export function keepStoreAwake(): () => void {
  let lastProgress = 0;
  const stop = onStoreEvent((event) => {
    if (event.type === 'progress') lastProgress = Date.now();
  });
  const timer = setInterval(() => {
    if (Date.now() - lastProgress < 60_000) void callStore('wake', undefined).catch(() => {});
  }, 20_000);
  // Back online: downloads that stopped for the connection carry on by themselves. Once more a
  // little later, in case the first try met a network that was not quite back.
  let again: ReturnType<typeof setTimeout> | undefined;
  const wake = () => void callStore('wake', { online: true }).catch(() => {});
  const online = () => {
    wake();
    clearTimeout(again);
    again = setTimeout(wake, 5_000);
  };
  globalThis.addEventListener?.('online', online);
  return () => {
    stop();
    clearInterval(timer);
    clearTimeout(again);
    globalThis.removeEventListener?.('online', online);
  };
}

export async function listStoredPacks(): Promise<PackRecord[]> {
  return new ModelStore(await openModelDb()).listPacks();
}

/** Asks the browser not to evict the packs under storage pressure (page only: workers can't ask). */
export async function requestPersistence(): Promise<boolean> {
  if (!navigator.storage?.persist) return false;
  if (await navigator.storage.persisted()) return true;
  return navigator.storage.persist().catch(() => false);
}

/** Bytes of model packs stored, installed or part-downloaded. */
async function packBytes(): Promise<number> {
  const store = new ModelStore(await openModelDb());
  let total = 0;
  for (const pack of await store.listPacks()) {
    if (pack.installed) total += pack.installed.bytes;
    if (pack.job) total += await store.slotBytes(pack.job.slot);
  }
  return total;
}

export interface StorageSummary {
  /** What the browser reports for this origin (everything: packs, images, caches). */
  usageBytes: number | null;
  quotaBytes: number | null;
  persisted: boolean | null;
  /** What Gesso's own stores hold (the gallery shows its own). */
  parts: { label: string; bytes: number }[];
}

export async function storageSummary(): Promise<StorageSummary> {
  const estimate = await navigator.storage?.estimate?.().catch(() => null);
  const persisted = navigator.storage?.persisted
    ? await navigator.storage.persisted().catch(() => null)
    : null;
  const parts = [{ label: 'Model packs', bytes: await packBytes().catch(() => 0) }];
  return {
    usageBytes: estimate?.usage ?? null,
    quotaBytes: estimate?.quota ?? null,
    persisted,
    parts,
  };
}
