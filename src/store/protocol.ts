/**
 * The model store's API, served by the service worker's download manager:
 * one map from method to {args, result}, typed on both sides like the
 * engine's (src/engine/api.ts), over the shared RPC wire format.
 */

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

/** Download tuning; tests use small chunks, short retry delays and no Background Fetch. */
export interface StoreConfig {
  chunkSize: number;
  retryDelayMs: number;
  backgroundFetch: boolean;
  /** Packs smaller than this use the fetch loop even where Background Fetch exists. */
  backgroundFetchMinBytes: number;
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
  /** Resume interrupted downloads and install the demo pack if missing. */
  wake: MethodSpec<void, void>;
  configure: MethodSpec<Partial<StoreConfig>, void>;
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
    }
  /** A pack record changed (state, install, delete): read it again. */
  | { type: 'changed'; packId: string };
