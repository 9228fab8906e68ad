/// <reference lib="webworker" />
/**
 * Background Fetch: where the browser has it, a fresh download of a big pack
 * is handed to the browser, which carries on when every tab is closed (with
 * its own progress notification). Chromium refuses backgroundFetch.fetch()
 * from a service worker ("not allowed in service worker environments"), so
 * the worker hands the page what to fetch (src/store/client.ts starts it). When it succeeds, the service worker
 * streams each response through the same chunking, hashing and verification
 * as its own fetch loop; when it fails, the fetch loop takes over. Partly
 * downloaded files always use the fetch loop (Background Fetch can't resume
 * from a chunk with Range).
 */

// Not in TypeScript's lib yet: the parts Gesso uses.
export interface BgFetchRecord {
  readonly request: Request;
  readonly responseReady: Promise<Response>;
}
export interface BgFetchRegistration extends EventTarget {
  readonly id: string;
  readonly downloadTotal: number;
  readonly downloaded: number;
  readonly result: '' | 'success' | 'failure';
  readonly failureReason: string;
  abort(): Promise<boolean>;
  matchAll(): Promise<BgFetchRecord[]>;
}
interface BgFetchManager {
  get(id: string): Promise<BgFetchRegistration | undefined>;
}
export interface BgFetchEvent extends ExtendableEvent {
  readonly registration: BgFetchRegistration;
  updateUI?(options: { title?: string }): Promise<void>;
}

const PREFIX = 'gesso:';

export function bgFetchId(slot: string): string {
  return PREFIX + slot;
}

export function slotOfBgFetch(id: string): string | null {
  return id.startsWith(PREFIX) ? id.slice(PREFIX.length) : null;
}

export function bgFetchManager(registration: ServiceWorkerRegistration): BgFetchManager | null {
  return (registration as unknown as { backgroundFetch?: BgFetchManager }).backgroundFetch ?? null;
}

export async function findBgFetch(
  registration: ServiceWorkerRegistration,
  slot: string,
): Promise<BgFetchRegistration | null> {
  return (
    (await bgFetchManager(registration)
      ?.get(bgFetchId(slot))
      .catch(() => undefined)) ?? null
  );
}

/** URL -> response of a finished Background Fetch, each usable once. */
export async function bgFetchResponses(
  registration: BgFetchRegistration,
): Promise<Map<string, Response>> {
  const responses = new Map<string, Response>();
  for (const record of await registration.matchAll()) {
    const response = await record.responseReady.catch(() => null);
    if (response?.ok) responses.set(record.request.url, response);
  }
  return responses;
}
