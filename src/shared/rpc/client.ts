/** The calling side of the RPC: typed, abortable calls over a port, or one call with its own reply port. */

import { fromErrorData, GessoError } from '../errors';
import type { ApiMap, CallMessage, Envelope, FromWorker, Port, ToWorker } from './wire';

export interface CallOptions<P> {
  signal?: AbortSignal;
  onProgress?: (progress: P) => void;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  onProgress?: (progress: unknown) => void;
}

export class RpcClient<A extends ApiMap> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly port: Port) {
    port.addEventListener('message', (event: MessageEvent<FromWorker>) => this.receive(event.data));
  }

  call<M extends keyof A & string>(
    method: M,
    args: A[M]['args'],
    options: CallOptions<A[M]['progress']> = {},
  ): Promise<A[M]['result']> {
    const { signal, onProgress } = options;
    if (signal?.aborted) return Promise.reject(new GessoError('aborted', 'Cancelled.'));
    const id = this.nextId++;
    return new Promise<A[M]['result']>((resolve, reject) => {
      const onAbort = () => this.port.postMessage({ type: 'abort', id } satisfies ToWorker<A>);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (value) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(value as A[M]['result']);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
        onProgress: onProgress as ((progress: unknown) => void) | undefined,
      });
      const message = { type: 'call', id, method, args } as ToWorker<A>;
      this.port.postMessage(message);
    });
  }

  /** Rejects every call still waiting (the callee is gone: a terminated worker). */
  failPending(error: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const call of pending) call.reject(error);
  }

  private receive(message: FromWorker): void {
    const pending = this.pending.get(message.id);
    if (!pending) return;
    if (message.type === 'progress') {
      pending.onProgress?.(message.data);
      return;
    }
    this.pending.delete(message.id);
    if (message.type === 'result') pending.resolve(message.data);
    else pending.reject(fromErrorData(message.error));
  }
}

/**
 * One call through `target` (a service worker) answered on a fresh
 * MessageChannel: for a callee that may be stopped and restarted between
 * calls, so no port can outlive one call.
 */
export function callOnce<A extends ApiMap, M extends keyof A & string>(
  target: { postMessage(message: unknown, transfer: Transferable[]): void },
  type: string,
  method: M,
  args: A[M]['args'],
): Promise<A[M]['result']> {
  const channel = new MessageChannel();
  return new Promise<A[M]['result']>((resolve, reject) => {
    channel.port1.onmessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      if (message.type === 'progress') return;
      channel.port1.close();
      if (message.type === 'result') resolve(message.data as A[M]['result']);
      else reject(fromErrorData(message.error));
    };
    const call = { type: 'call', id: 1, method, args } as CallMessage<A>;
    const envelope: Envelope<A> = { type, call };
    target.postMessage(envelope, [channel.port2]);
  });
}
