/**
 * Loads the one onnxruntime-web build this device uses, from the app's own
 * origin: the CPU-only wasm build for WebAssembly, the WebGPU build otherwise.
 * The two bundles are separate chunks, so a device downloads only its own.
 */

import type * as Ort from 'onnxruntime-web';
import type { Backend } from '../shared/pack-manifest';

export type OrtModule = typeof Ort;

const loaded = new Map<Backend, Promise<OrtModule>>();

async function importRuntime(backend: Backend): Promise<OrtModule> {
  if (backend === 'webgpu') {
    const [ort, { default: wasm }] = await Promise.all([
      import('onnxruntime-web/webgpu'),
      import('onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url'),
    ]);
    configure(ort, wasm);
    return ort;
  }
  const [ort, { default: wasm }] = await Promise.all([
    import('onnxruntime-web/wasm'),
    import('onnxruntime-web/ort-wasm-simd-threaded.wasm?url'),
  ]);
  configure(ort, wasm);
  return ort;
}

function configure(ort: OrtModule, wasmUrl: string): void {
  ort.env.wasm.wasmPaths = { wasm: new URL(wasmUrl, globalThis.location.href).href };
  ort.env.wasm.numThreads = wasmThreads(
    globalThis.navigator?.hardwareConcurrency ?? 1,
    globalThis.crossOriginIsolated,
  );
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

export function loadRuntime(backend: Backend): Promise<OrtModule> {
  let runtime = loaded.get(backend);
  if (!runtime) {
    runtime = importRuntime(backend);
    loaded.set(backend, runtime);
    runtime.catch(() => loaded.delete(backend));
  }
  return runtime;
}
