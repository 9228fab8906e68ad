/** Messages between pages and the service worker's download manager. */

import type { PackRecord } from './records';

/** Commands go to the service worker with postMessage({ type: STORE_MESSAGE, command }). */
export const STORE_MESSAGE = 'gesso-store';
/** Events come back to every open page (and worker) on this BroadcastChannel. */
export const STORE_CHANNEL = 'gesso-store';

export type StoreCommand =
  | {
      cmd: 'download';
      /** The manifest JSON; validated again by the service worker. */
      manifest: unknown;
      manifestUrl: string;
      variant?: string;
      licenseAccepted: boolean;
      origin: PackRecord['origin'];
    }
  | { cmd: 'pause'; packId: string }
  | { cmd: 'resume'; packId: string }
  | { cmd: 'cancel'; packId: string }
  | { cmd: 'delete'; packId: string }
  /** Resume interrupted downloads and install the demo pack if missing. */
  | { cmd: 'wake' }
  /** Tests: small chunks, short retry delays; off switch for Background Fetch. */
  | {
      cmd: 'configure';
      chunkSize?: number;
      retryDelayMs?: number;
      backgroundFetch?: boolean;
      backgroundFetchMinBytes?: number;
    };

/** The service worker's answer to 'download' when the page should start a Background Fetch. */
export interface BackgroundFetchHandOff {
  id: string;
  packId: string;
  title: string;
  urls: string[];
  downloadTotal: number | null;
  icon: string;
}

export interface StoreMessage {
  type: typeof STORE_MESSAGE;
  command: StoreCommand;
}

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

export function isStoreMessage(data: unknown): data is StoreMessage {
  return (data as { type?: unknown } | null)?.type === STORE_MESSAGE;
}
