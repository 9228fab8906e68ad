/**
 * The wire format of Gesso's two RPCs: page <-> engine worker (a long-lived
 * port, src/engine/api.ts) and page <-> service worker (one reply port per
 * call, src/store/protocol.ts). Each API is a map from method name to
 * {args, result, progress}; both sides are typed from that one map.
 */

import type { ErrorData } from '../errors';

export interface MethodSpec<Args, Result, Progress = never> {
  args: Args;
  result: Result;
  progress: Progress;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ApiMap = Record<string, MethodSpec<any, any, any>>;

export type CallMessage<A extends ApiMap> = {
  [M in keyof A & string]: { type: 'call'; id: number; method: M; args: A[M]['args'] };
}[keyof A & string];

export type ToWorker<A extends ApiMap> = CallMessage<A> | { type: 'abort'; id: number };

export type FromWorker =
  | { type: 'progress'; id: number; data: unknown }
  | { type: 'result'; id: number; data: unknown }
  | { type: 'error'; id: number; error: ErrorData };

/** A call to the service worker: one CallMessage under the API's message type, with a reply port. */
export interface Envelope<A extends ApiMap> {
  type: string;
  call: CallMessage<A>;
}

export function isEnvelope<A extends ApiMap>(data: unknown, type: string): data is Envelope<A> {
  const value = data as { type?: unknown; call?: { type?: unknown } } | null;
  return value?.type === type && value.call?.type === 'call';
}

/** Minimal port shape shared by Worker, DedicatedWorkerGlobalScope and MessagePort. */
export interface Port {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
}
