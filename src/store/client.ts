/**
 * The page's side of the model store: send commands to the service worker,
 * hear progress, read pack records, and sum storage use.
 *
 *   await startDownload({ manifest, manifestUrl, licenseAccepted: true, origin: 'user' });
 *   const stop = onStoreEvent((event) => ...);   // progress + changed, from every tab
 *   const packs = await listStoredPacks();
 */

import { fromErrorData, GessoError, type ErrorData } from '../shared/errors';
import { openModelDb } from './idb-kv';
import { ModelStore } from './model-store';
import {
  STORE_CHANNEL,
  type BackgroundFetchHandOff,
  STORE_MESSAGE,
  type StoreCommand,
  type StoreEvent,
  type StoreMessage,
} from './protocol';
import type { PackRecord } from './records';

/** Sends a command to the service worker; resolves with its result, rejects with the GessoError it answers with. */
export async function sendStoreCommand(command: StoreCommand): Promise<unknown> {
  if (!('serviceWorker' in navigator))
    throw new GessoError(
      'storage-refused',
      'This browser has no service worker here, so packs cannot be downloaded.',
    );
  const registration = await navigator.serviceWorker.ready;
  const worker = registration.active;
  if (!worker)
    throw new GessoError('internal', 'The service worker is not running yet; reload the page.');
  const channel = new MessageChannel();
  type Answer = { ok: boolean; result?: unknown; error?: ErrorData };
  const answer = new Promise<Answer>((resolve) => {
    channel.port1.onmessage = (event) => resolve(event.data as Answer);
  });
  const message: StoreMessage = { type: STORE_MESSAGE, command };
  worker.postMessage(message, [channel.port2]);
  const result = await answer;
  channel.port1.close();
  if (!result.ok)
    throw fromErrorData(
      result.error ?? {
        name: 'GessoError',
        code: 'internal',
        message: 'The service worker failed.',
      },
    );
  return result.result;
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
export async function startDownload(
  request: Omit<Extract<StoreCommand, { cmd: 'download' }>, 'cmd'>,
): Promise<void> {
  const handOff = (await sendStoreCommand({
    cmd: 'download',
    ...request,
  })) as BackgroundFetchHandOff | null;
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
    await sendStoreCommand({ cmd: 'resume', packId: handOff.packId });
  }
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
    if (Date.now() - lastProgress < 60_000) void sendStoreCommand({ cmd: 'wake' }).catch(() => {});
  }, 20_000);
  return () => {
    stop();
    clearInterval(timer);
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

export interface StorageUser {
  label: string;
  bytes: () => Promise<number>;
}

const users: StorageUser[] = [
  {
    label: 'Model packs',
    bytes: async () => {
      const store = new ModelStore(await openModelDb());
      let total = 0;
      for (const pack of await store.listPacks()) {
        if (pack.installed) total += pack.installed.bytes;
        if (pack.job) total += await store.slotBytes(pack.job.slot);
      }
      return total;
    },
  },
];

/** Lets another part of the app (the gallery) list its own storage on the Models screen. */
export function registerStorageUser(user: StorageUser): () => void {
  users.push(user);
  return () => users.splice(users.indexOf(user), 1);
}

export interface StorageSummary {
  /** What the browser reports for this origin (everything: packs, images, caches). */
  usageBytes: number | null;
  quotaBytes: number | null;
  persisted: boolean | null;
  /** Per registered user (model packs first). */
  parts: { label: string; bytes: number }[];
}

export async function storageSummary(): Promise<StorageSummary> {
  const estimate = await navigator.storage?.estimate?.().catch(() => null);
  const persisted = navigator.storage?.persisted
    ? await navigator.storage.persisted().catch(() => null)
    : null;
  const parts = await Promise.all(
    users.map(async (u) => ({ label: u.label, bytes: await u.bytes().catch(() => 0) })),
  );
  return {
    usageBytes: estimate?.usage ?? null,
    quotaBytes: estimate?.quota ?? null,
    persisted,
    parts,
  };
}
