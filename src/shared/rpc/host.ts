/**
 * The answering side of the RPC. `serve` runs a port's calls one at a time,
 * in arrival order, each with an AbortSignal the caller can trip (the engine
 * worker); `answer` runs one call and replies on its own port (the service
 * worker). Errors go back as data.
 */

import { toErrorData } from '../errors';
import type { ApiMap, CallMessage, FromWorker, Port, ToWorker } from './wire';

export interface CallContext<P> {
  signal: AbortSignal;
  progress: (data: P, transfer?: Transferable[]) => void;
}

export type Handlers<A extends ApiMap> = {
  [M in keyof A]: (
    args: A[M]['args'],
    context: CallContext<A[M]['progress']>,
  ) => Promise<A[M]['result'] | Transfer<A[M]['result']>>;
};

/** A result whose buffers should be moved to the caller rather than copied. */
export class Transfer<T> {
  constructor(
    readonly value: T,
    readonly transfer: Transferable[],
  ) {}
}

type Send = (message: FromWorker, transfer?: Transferable[]) => void;

/** Runs one call and sends its progress, result or error; never rejects. */
export async function answer<A extends ApiMap>(
  handlers: Handlers<A>,
  message: CallMessage<A>,
  send: Send,
  signal: AbortSignal = new AbortController().signal,
  mapError: (error: unknown) => unknown = (error) => error,
): Promise<void> {
  const { id, method, args } = message;
  try {
    signal.throwIfAborted();
    const handler = handlers[method];
    const output = await handler(args, {
      signal,
      progress: (data, transfer) => send({ type: 'progress', id, data }, transfer),
    });
    if (output instanceof Transfer)
      send({ type: 'result', id, data: output.value }, output.transfer);
    else send({ type: 'result', id, data: output ?? null });
  } catch (error) {
    send({ type: 'error', id, error: toErrorData(mapError(error)) });
  }
}

export function serve<A extends ApiMap>(port: Port, handlers: Handlers<A>): void {
  const controllers = new Map<number, AbortController>();
  let queue: Promise<void> = Promise.resolve();
  const send: Send = (message, transfer = []) => port.postMessage(message, transfer);

  port.addEventListener('message', (event: MessageEvent<ToWorker<A>>) => {
    const message = event.data;
    if (message.type === 'abort') {
      controllers.get(message.id)?.abort();
      return;
    }
    const controller = new AbortController();
    controllers.set(message.id, controller);
    queue = queue.then(async () => {
      await answer(handlers, message, send, controller.signal);
      controllers.delete(message.id);
    });
  });
}
