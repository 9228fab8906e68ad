/**
 * Loads the one onnxruntime-web build this device uses, from the app's own
 * origin: the CPU-only wasm build for WebAssembly, the WebGPU build otherwise.
 * The two bundles are separate chunks, so a device downloads only its own.
 */

import type * as Ort from 'onnxruntime-web';
import type { Backend } from '../shared/pack-manifest';

export type OrtModule = typeof Ort;

const loaded = new Map<Backend, Promise<OrtModule>>();

async function importRuntime(backend: Backend, threads?: number): Promise<OrtModule> {
  if (backend === 'webgpu') {
    const [ort, { default: wasm }] = await Promise.all([
      import('onnxruntime-web/webgpu'),
      import('onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url'),
    ]);
    configure(ort, wasm, threads);
    return ort;
  }
  const [ort, { default: wasm }] = await Promise.all([
    import('onnxruntime-web/wasm'),
    import('onnxruntime-web/ort-wasm-simd-threaded.wasm?url'),
  ]);
  configure(ort, wasm, threads);
  return ort;
}

function configure(ort: OrtModule, wasmUrl: string, threads?: number): void {
  ort.env.wasm.wasmPaths = { wasm: new URL(wasmUrl, globalThis.location.href).href };
  ort.env.wasm.numThreads =
    threads ??
    wasmThreads(globalThis.navigator?.hardwareConcurrency ?? 1, globalThis.crossOriginIsolated);
  ort.env.logLevel = 'error';
}

/**
 * Threads for onnxruntime's wasm build (more than one needs cross-origin
 * isolation). One core is left to the page and the OS: on a 2-core machine
 * this measured faster (the int8 UNet step: median 10 ms with 1 thread, 23 ms
 * with 2; npm run bench).
 */
export function wasmThreads(cores: number, isolated: boolean): number {
  return isolated ? Math.max(1, Math.min(4, cores - 1)) : 1;
}

/**
 * An ONNX model with one Identity node (float[1] in, float[1] out). Opening
 * it starts the runtime: the wasm is instantiated and onnxruntime's global
 * state is set up (on this 2-core machine about 1 s even with the browser's
 * compiled-code cache, the largest part of a returning visit's first image).
 */
export const IDENTITY_MODEL = new Uint8Array([
  8, 8, 58, 55, 10, 16, 10, 1, 120, 18, 1, 121, 34, 8, 73, 100, 101, 110, 116, 105, 116, 121, 18, 1,
  103, 90, 15, 10, 1, 120, 18, 10, 10, 8, 8, 1, 18, 4, 10, 2, 8, 1, 98, 15, 10, 1, 121, 18, 10, 10,
  8, 8, 1, 18, 4, 10, 2, 8, 1, 66, 4, 10, 0, 16, 17,
]);

async function startRuntime(backend: Backend, threads?: number): Promise<OrtModule> {
  const ort = await importRuntime(backend, threads);
  const session = await ort.InferenceSession.create(IDENTITY_MODEL, {
    executionProviders: [backend],
  });
  await session.release();
  return ort;
}

/**
 * The runtime for `backend`, imported and started once per worker. Loading
 * a pack calls it alongside opening the pack, so the runtime starts while
 * the first model's bytes are read.
 */
export function loadRuntime(backend: Backend, threads?: number): Promise<OrtModule> {
  let runtime = loaded.get(backend);
  if (!runtime) {
    runtime = startRuntime(backend, threads);
    loaded.set(backend, runtime);
    runtime.catch(() => loaded.delete(backend));
  }
  return runtime;
}
