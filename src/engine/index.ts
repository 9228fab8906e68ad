/** The page's handle on the engine worker. */

import { GessoError } from '../shared/errors';
import { RpcClient } from '../shared/rpc/client';
import type { EngineApi } from './api';

export type EngineClient = RpcClient<EngineApi>;

export interface EngineHandle {
  client: EngineClient;
  /** Ends the worker: everything it held (wasm heap, GPU buffers) goes back to the system. */
  terminate(): void;
}

export function startEngine(): EngineHandle {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), {
    type: 'module',
    name: 'gesso-engine',
  });
  const client = new RpcClient<EngineApi>(worker);
  return {
    client,
    terminate: () => {
      worker.terminate();
      client.failPending(new GessoError('aborted', 'The engine was restarted.'));
    },
  };
}

export type * from './api';
