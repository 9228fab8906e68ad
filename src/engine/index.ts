/** The page's handle on the engine worker. */

import { RpcClient } from '../shared/rpc/client';
import type { EngineApi } from './api';

export type EngineClient = RpcClient<EngineApi>;

export function startEngine(): EngineClient {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), {
    type: 'module',
    name: 'gesso-engine',
  });
  return new RpcClient<EngineApi>(worker);
}

export type * from './api';
