/**
 * The model store's API, served by the service worker's download manager:
 * one map from method to {args, result}, typed on both sides like the
 * engine's (src/engine/api.ts), over the shared RPC wire format.
 */

import type { ErrorData } from '../shared/errors';
import type { MethodSpec } from '../shared/rpc/wire';
import type { PackRecord } from './records';

/** Calls go to the service worker as postMessage({ type: STORE_MESSAGE, call }) with a reply port. */
export const STORE_MESSAGE = 'gesso-store';
/** Events come back to every open page (and worker) on this BroadcastChannel. */
export const STORE_CHANNEL = 'gesso-store';

export interface DownloadRequest {
  /** The manifest JSON; validated again by the service worker. */
  manifest: unknown;
  manifestUrl: string;
  variant?: string;
  licenseAccepted: boolean;
  origin: PackRecord['origin'];
}

/** Download tuning; tests use small chunks, short retry delays and time limits, and no Background Fetch. */
export interface StoreConfig {
  chunkSize: number;
  retryDelayMs: number;
  backgroundFetch: boolean;
  /** Packs smaller than this use the fetch loop even where Background Fetch exists. */
  backgroundFetchMinBytes: number;
  /** How long a pack's host may take to answer a file request (the response head). */
  connectTimeoutMs: number;
  /** How long a file's body may go without a byte before the request is dropped and retried. */
  stallTimeoutMs: number;
  /** How long fetching a manifest may take, head and body together. */
  manifestTimeoutMs: number;
}

/** The result of checking one user pack's host for a newer manifest. */
export interface UpdateCheck {
  packId: string;
  /** Whether the host was asked (false: checked recently, or offline). */
  checked: boolean;
  /** The newest version known (the installed one when there is nothing newer). */
  latest: string | null;
  /** Why the check failed or was not made, as a sentence; null when it worked or was not due. */
  error: string | null;
  checkedAt: number | null;
}

/** The service worker's answer to 'download' when the page should start a Background Fetch. */
export interface BackgroundFetchHandOff {
  id: string;
  packId: string;
  title: string;
  urls: string[];
  downloadTotal: number | null;
  icon: string;
}

export type StoreApi = {
  /** Starts (or resumes) a download; a hand-off when the page should start a Background Fetch. */
  download: MethodSpec<DownloadRequest, BackgroundFetchHandOff | null>;
  pause: MethodSpec<{ packId: string }, void>;
  resume: MethodSpec<{ packId: string }, void>;
  cancel: MethodSpec<{ packId: string }, void>;
  delete: MethodSpec<{ packId: string }, void>;
  /**
   * Resume interrupted downloads and install the demo pack if missing.
   * `online`: the page just came back online; downloads that failed for a
   * passing reason (offline, a timeout, a dropped connection) resume too.
   */
  wake: MethodSpec<{ online?: boolean } | undefined, void>;
  /** Changes download tuning; answers with the settings now in force. */
  configure: MethodSpec<Partial<StoreConfig>, StoreConfig>;
  /** Fetches a manifest's JSON from its host, with a time limit (not validated: the page does that). */
  fetchManifest: MethodSpec<{ url: string }, { manifest: unknown }>;
  /**
   * Asks user packs' hosts for newer manifests: those not checked for a day
   * (and only when online), or every one listed when `asked` (the user
   * pressed "Check for updates"). `packIds`: only these packs.
   */
  checkUpdates: MethodSpec<{ packIds?: string[]; asked?: boolean }, UpdateCheck[]>;
};

export type StoreEvent =
  | {
      type: 'progress';
      packId: string;
      bytesDone: number;
      bytesTotal: number;
      unknownSizes: number;
      /** Bytes per second, null until measurable. */
      rate: number | null;
      secondsLeft: number | null;
      /** What the download is waiting for, as a sentence ("… trying again (2 of 5)"); null while bytes flow. */
      note?: string | null;
      /**
       * True while a finished Background Fetch's responses are stored and
       * hashed: the bytes counted are saved ones, the download itself is done.
       */
      saving?: boolean;
    }
  /** A pack record changed (state, install, delete): read it again. */
  | { type: 'changed'; packId: string }
  /**
   * A download stopped with an error. The record says so too, unless storage
   * was too broken to write it: then this event is the only news.
   */
  | { type: 'failed'; packId: string; error: ErrorData };
