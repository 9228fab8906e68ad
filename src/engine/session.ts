/**
 * The small session interface the pipelines depend on, so they run the same
 * in Node tests (onnxruntime-node, onnxruntime-web's wasm build) and in the
 * worker. Names, dtypes and shapes come from the model's own metadata.
 */

import { GessoError } from '../shared/errors';
import type { CpuTensor, DType } from './tensors';

export interface ValueInfo {
  name: string;
  /** 'float32' | 'float16' | 'int32' | 'int64' for the tensors pipelines use; other dtypes pass through as text. */
  type: DType | string;
  /** Numbers for fixed dimensions, strings for symbolic ones (e.g. "batch_size"); empty when unknown. */
  shape: readonly (number | string)[];
}

/**
 * A tensor left where the runtime produced it (e.g. a WebGPU buffer), fed
 * back to another session without a copy to the CPU. Only the session
 * adapter looks inside `handle`.
 */
export interface DeviceTensor {
  type: DType;
  dims: readonly number[];
  location: 'gpu-buffer';
  handle: unknown;
  dispose(): void;
}

export type Value = CpuTensor | DeviceTensor;

export function isDeviceTensor(value: Value): value is DeviceTensor {
  return 'location' in value && value.location === 'gpu-buffer';
}

export interface ModelSession {
  /** What the model is, for messages: "text encoder", "image model (UNet)". */
  readonly label?: string;
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  /** Outputs come back as CpuTensor, or as DeviceTensor where the session was asked to keep them on the GPU. */
  run(feeds: Record<string, Value>): Promise<Record<string, Value>>;
  release(): Promise<void>;
}

/** A weights file the model refers to by `path` (see pipelines/external-data.ts). */
export interface ExternalData {
  path: string;
  data: Uint8Array;
}

export interface SessionHints {
  /** Outputs worth leaving on the GPU (the text states fed to every UNet step). */
  deviceOutputs?: readonly string[];
  /** The model's external-data files, when its weights live outside the .onnx file. */
  externalData?: ExternalData[];
  /** Symbolic dimensions fixed for this pack (shared/free-dimensions.ts). */
  freeDimensionOverrides?: Record<string, number>;
}

/** Creates a session from a model file's bytes; `label` names the component in error messages. */
export type SessionFactory = (
  bytes: Uint8Array,
  label: string,
  hints?: SessionHints,
) => Promise<ModelSession>;

function missing(session: ModelSession, kind: 'input' | 'output', name: string): GessoError {
  const what = session.label ?? 'model';
  return new GessoError(
    'invalid-manifest',
    `The ${what} in this pack has no ${kind} "${name}", so it is not an export Gesso can run for this kind of pack. Check the pack's manifest (its pipeline and files) with its publisher, or choose another pack.`,
  );
}

export function findInput(session: ModelSession, name: string): ValueInfo | undefined {
  return session.inputs.find((input) => input.name === name);
}

/** The named input, or the only/first one when the export names it differently. */
export function inputOr(session: ModelSession, name: string, index = 0): ValueInfo {
  const info = findInput(session, name) ?? session.inputs[index];
  if (!info) throw missing(session, 'input', name);
  return info;
}

export function outputOr(session: ModelSession, name: string, index = 0): ValueInfo {
  const info = session.outputs.find((output) => output.name === name) ?? session.outputs[index];
  if (!info) throw missing(session, 'output', name);
  return info;
}

/** A dimension from metadata when fixed, otherwise `fallback`. */
export function dimOr(info: ValueInfo, axis: number, fallback: number): number {
  const dim = info.shape[axis];
  return typeof dim === 'number' && dim > 0 ? dim : fallback;
}
