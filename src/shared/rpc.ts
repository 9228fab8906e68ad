/**
 * The wire format between the page and the engine worker. The API itself is a
 * map from method name to {args, result, progress} (see src/engine/api.ts);
 * both sides are typed from that one map.
 */

import type { ErrorData } from './errors';

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

/** Minimal port shape shared by Worker, DedicatedWorkerGlobalScope and MessagePort. */
export interface Port {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
}
