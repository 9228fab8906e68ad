/**
 * Loads the one onnxruntime-web build this device uses, from the app's own
 * origin: the CPU-only wasm build for WebAssembly, the WebGPU build otherwise.
 * The two bundles are separate chunks, so a device downloads only its own.
 */

import type * as Ort from 'onnxruntime-web';
import type { Backend } from '../shared/pack-manifest';

export type OrtModule = typeof Ort;

const loaded = new Map<Backend, Promise<OrtModule>>();

async function importRuntime(backend: Backend): Promise<{ ort: OrtModule; wasmUrl: string }> {
  if (backend === 'webgpu') {
    const [ort, { default: wasmUrl }] = await Promise.all([
      import('onnxruntime-web/webgpu'),
      import('onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url'),
    ]);
    return { ort, wasmUrl };
  }
  const [ort, { default: wasmUrl }] = await Promise.all([
    import('onnxruntime-web/wasm'),
    import('onnxruntime-web/ort-wasm-simd-threaded.wasm?url'),
  ]);
  return { ort, wasmUrl };
}

function configure(ort: OrtModule, wasmUrl: string, threads: number): void {
  ort.env.wasm.wasmPaths = { wasm: new URL(wasmUrl, globalThis.location.href).href };
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = 'error';
}

/**
 * Threads for onnxruntime's wasm build (more than one needs cross-origin
 * isolation), fixed when the runtime starts, so per pack: the worker is
 * replaced when another pack loads. Heavy steps (a real-size UNet) use every
 * core up to 4; light ones (the demo pack's, milliseconds) leave one core to
 * the page and the OS, because handing tiny ops between threads costs more
 * than it gives. Measured on this project's 2-core machine (npm run bench):
 * the full-size int8 SD-Turbo UNet step at 512x512 took 29.0 s on 1 thread,
 * 16.5 s on 2 and 23.8 s on 4; the demo pack's int8 UNet step 10 ms on 1
 * thread and 23 ms on 2.
 */
export function wasmThreads(cores: number, isolated: boolean, heavy = false): number {
  if (!isolated) return 1;
  return Math.max(1, Math.min(4, heavy ? cores : cores - 1));
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

async function startRuntime(
  backend: Backend,
  threads: number | Promise<number | undefined> | undefined,
): Promise<OrtModule> {
  // The runtime's JavaScript loads while the caller decides the thread count.
  const [{ ort, wasmUrl }, chosen] = await Promise.all([importRuntime(backend), threads]);
  configure(
    ort,
    wasmUrl,
    chosen ??
      wasmThreads(globalThis.navigator?.hardwareConcurrency ?? 1, globalThis.crossOriginIsolated),
  );
  const session = await ort.InferenceSession.create(IDENTITY_MODEL, {
    executionProviders: [backend],
  });
  await session.release();
  return ort;
}

/**
 * The runtime for `backend`, imported and started once per worker. Loading
 * a pack calls it alongside opening the pack, so the runtime's code loads
 * while the pack is read; `threads` (default: the light-pack rule) may come
 * once the pack is known. Later calls get the runtime as first started.
 */
export function loadRuntime(
  backend: Backend,
  threads?: number | Promise<number | undefined>,
): Promise<OrtModule> {
  let runtime = loaded.get(backend);
  if (!runtime) {
    runtime = startRuntime(backend, threads);
    loaded.set(backend, runtime);
    runtime.catch(() => loaded.delete(backend));
  }
  return runtime;
}
