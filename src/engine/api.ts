/** The engine worker's API: one map, used by both sides (client.ts, worker.ts). */

import type { BackendPreference, BackendChoice, Capabilities } from '../shared/capabilities';
import type { Backend } from '../shared/pack-manifest';
import type { MethodSpec } from '../shared/rpc';

export interface Float32TensorData {
  dims: number[];
  data: Float32Array;
}

export interface RunModelArgs {
  model: ArrayBuffer;
  backend: Backend;
  feeds: Record<string, Float32TensorData>;
}

export interface RunModelResult {
  backend: Backend;
  outputs: Record<string, Float32TensorData>;
  milliseconds: number;
}

export type EngineApi = {
  detect: MethodSpec<void, Capabilities>;
  chooseBackend: MethodSpec<{ preference: BackendPreference }, BackendChoice & { capabilities: Capabilities }>;
  /** Runs one ONNX model once; used by the Diagnostics self-test and the smoke test. */
  runModel: MethodSpec<RunModelArgs, RunModelResult>;
};
