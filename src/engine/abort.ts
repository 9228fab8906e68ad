/** Cancellation inside the worker: abort checks and a way to let the page's abort message in. */

import { GessoError } from '../shared/errors';

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new GessoError('aborted', 'Cancelled.');
}

/**
 * Lets queued messages (the page's abort) run: inference resolves through
 * microtasks only, so without this a worker would not see an abort until
 * the whole generation ended. A MessageChannel hop is not clamped like setTimeout.
 */
export function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
