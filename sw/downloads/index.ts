/// <reference lib="webworker" />
/**
 * Wires the download manager into the service worker: store calls arrive by
 * postMessage (answered on the MessagePort sent with them), and every
 * navigation or activation wakes downloads a restart interrupted.
 * While a download runs, each event's waitUntil keeps the worker alive;
 * if the browser stops it anyway, the next wake resumes from the last chunk.
 */

import { answer } from '../../src/shared/rpc/host';
import { isEnvelope } from '../../src/shared/rpc/wire';
import { openModelDb } from '../../src/store/idb-kv';
import { asStorageError, ModelStore } from '../../src/store/model-store';
import { STORE_MESSAGE, type StoreApi } from '../../src/store/protocol';
import type { BgFetchEvent } from './background-fetch';
import { DownloadManager } from './manager';

/** Browsers stop an event that runs too long (Chrome: 5 minutes), so no waitUntil asks for more. */
const KEEP_ALIVE_MS = 4 * 60 * 1000;

export function setUpDownloads(sw: ServiceWorkerGlobalScope): DownloadManager {
  const manager = new DownloadManager(
    async () => new ModelStore(await openModelDb()),
    sw.registration.scope,
    sw.registration,
  );
  const keepAlive = (event: ExtendableEvent, work: Promise<unknown>) => {
    const alive = work
      .catch(() => {})
      .then(() =>
        Promise.race([manager.idle(), new Promise((done) => setTimeout(done, KEEP_ALIVE_MS))]),
      );
    event.waitUntil(alive);
  };

  sw.addEventListener('message', (event) => {
    if (!isEnvelope<StoreApi>(event.data, STORE_MESSAGE)) return;
    const reply = event.ports[0];
    const work = answer(
      manager.handlers,
      event.data.call,
      (message) => reply?.postMessage(message),
      undefined,
      asStorageError,
    );
    keepAlive(event, work);
  });

  sw.addEventListener('fetch', (event) => {
    if (event.request.mode === 'navigate') keepAlive(event, manager.wake());
  });

  sw.addEventListener('activate', () => {
    // Not part of activation (pages must not wait for a download); the next
    // navigation or page message keeps the worker alive while it runs.
    void manager.wake().catch(() => {});
  });

  // Background Fetch (where the browser has it): the browser downloaded a pack
  // while Gesso may have been closed; store and verify it now.
  sw.addEventListener('backgroundfetchsuccess' as 'message', (event: Event) => {
    const bg = event as BgFetchEvent;
    const work = manager.backgroundFetchSucceeded(bg.registration.id, bg.registration);
    bg.waitUntil(
      work.then(() => bg.updateUI?.({ title: 'Ready to use in Gesso' })).catch(() => {}),
    );
  });
  for (const [type, aborted] of [
    ['backgroundfetchfail', false],
    ['backgroundfetchabort', true],
  ] as const)
    sw.addEventListener(type as 'message', (event: Event) => {
      const bg = event as BgFetchEvent;
      bg.waitUntil(manager.backgroundFetchEnded(bg.registration.id, aborted).catch(() => {}));
    });
  sw.addEventListener('backgroundfetchclick' as 'message', (event: Event) => {
    (event as BgFetchEvent).waitUntil(sw.clients.openWindow(`${sw.registration.scope}#/models`));
  });

  return manager;
}
