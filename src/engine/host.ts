/**
 * Worker side of the RPC: runs calls one at a time, in arrival order, each
 * with an AbortSignal that the page can trip. Errors go back as data.
 */

import { toErrorData } from '../shared/errors';
import type { ApiMap, FromWorker, Port, ToWorker } from '../shared/rpc';

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

/** A result whose buffers should be moved to the page rather than copied. */
export class Transfer<T> {
  constructor(
    readonly value: T,
    readonly transfer: Transferable[],
  ) {}
}

export function serve<A extends ApiMap>(port: Port, handlers: Handlers<A>): void {
  const controllers = new Map<number, AbortController>();
  let queue: Promise<void> = Promise.resolve();
  const send = (message: FromWorker, transfer: Transferable[] = []) =>
    port.postMessage(message, transfer);

  port.addEventListener('message', (event: MessageEvent<ToWorker<A>>) => {
    const message = event.data;
    if (message.type === 'abort') {
      controllers.get(message.id)?.abort();
      return;
    }
    const { id, method, args } = message;
    const controller = new AbortController();
    controllers.set(id, controller);
    queue = queue.then(async () => {
      try {
        controller.signal.throwIfAborted();
        const handler = handlers[method];
        const output = await handler(args, {
          signal: controller.signal,
          progress: (data, transfer) => send({ type: 'progress', id, data }, transfer),
        });
        if (output instanceof Transfer)
          send({ type: 'result', id, data: output.value }, output.transfer);
        else send({ type: 'result', id, data: output });
      } catch (error) {
        send({ type: 'error', id, error: toErrorData(error) });
      } finally {
        controllers.delete(id);
      }
    });
  });
}
