/**
 * Fetches a pack manifest from its host with a time limit, for the Models
 * screen (adding a pack, checking for updates) and the demo pack's
 * automatic install. Every failure is a sentence that says what to do.
 */

import { GessoError } from '../../src/shared/errors';
import { packAddressFault } from '../../src/shared/pack-host-policy';
import { realClock, withTimeout, formatWait, type Clock } from './timeouts';

export const DEFAULT_MANIFEST_TIMEOUT_MS = 15_000;

export interface ManifestFetchDeps {
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  timeoutMs?: number;
  clock?: Clock;
  isOnline?: () => boolean;
}

function cannot(why: string, advice: string): GessoError {
  return new GessoError('network', `Couldn't load the manifest: ${why}. ${advice}`);
}

/** The manifest's JSON (not yet validated); GessoError('network') with a sentence otherwise. */
export async function fetchManifestJson(deps: ManifestFetchDeps, url: string): Promise<unknown> {
  const fault = packAddressFault(url);
  if (fault) throw new GessoError('invalid-manifest', fault);
  const parsed = new URL(url);
  if (deps.isOnline && !deps.isOnline())
    throw new GessoError(
      'network',
      "You're offline, so the manifest can't be loaded. Connect to the internet and try again.",
    );
  const timeoutMs = deps.timeoutMs ?? DEFAULT_MANIFEST_TIMEOUT_MS;
  const controller = new AbortController();
  const work = (async () => {
    const response = await deps.fetch(parsed.href, {
      cache: 'no-cache',
      referrerPolicy: 'no-referrer',
      credentials: 'omit',
      signal: controller.signal,
    });
    if (!response.ok) {
      void response.body?.cancel().catch(() => {});
      throw cannot(
        `the server answered HTTP ${response.status}`,
        'Check the address; the pack may have moved.',
      );
    }
    const text = await response.text();
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw cannot('it is not JSON', 'Check that the address is the manifest itself.');
    }
  })();
  try {
    // One limit for the head and the body together: a manifest is small.
    return await withTimeout(
      work,
      'connect',
      timeoutMs,
      () => controller.abort(),
      deps.clock ?? realClock,
    );
  } catch (error) {
    if (error instanceof GessoError) throw error;
    if ((error as { name?: unknown }).name === 'TimeoutError')
      throw cannot(
        `the host did not answer within ${formatWait(timeoutMs)}`,
        'Check the address and the connection, then try again.',
      );
    throw cannot(
      'the request failed',
      'Check the address and the connection; the host must allow cross-origin requests.',
    );
  }
}
