/** Capability detection: the effects behind src/shared/capabilities.ts. Runs once per worker. */

import type { Capabilities, GpuInfo } from '../shared/capabilities';

// A minimal wasm module using a SIMD instruction (v128.const), from the wasm-feature-detect test.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15,
  253, 98, 11,
]);

function detectSimd(): boolean {
  try {
    return WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

function detectThreads(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || !globalThis.crossOriginIsolated) return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

async function detectWebGpu(): Promise<{ gpu: GpuInfo | null; reason: string | null }> {
  if (!globalThis.isSecureContext)
    return { gpu: null, reason: 'the page is not served over HTTPS' };
  const gpuApi = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpuApi) return { gpu: null, reason: 'this browser has no WebGPU' };
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpuApi.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    return { gpu: null, reason: `the GPU refused to start (${String(error)})` };
  }
  if (!adapter) return { gpu: null, reason: 'no WebGPU adapter is available on this device' };
  return { gpu: describeAdapter(adapter), reason: null };
}

/** What Gesso needs to know of an adapter (the Node GPU tests read Dawn's adapter with it too). */
export function describeAdapter(adapter: GPUAdapter): GpuInfo {
  const info = adapter.info;
  const legacyFallback = (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const infoFallback = (info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    description: info.description,
    isFallbackAdapter: Boolean(infoFallback ?? legacyFallback),
    shaderF16: adapter.features.has('shader-f16'),
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  };
}

async function detectStorage(): Promise<Capabilities['storage']> {
  const storage = (globalThis.navigator as Navigator | undefined)?.storage;
  if (!storage?.estimate) return { quotaBytes: null, usageBytes: null, persisted: null };
  try {
    const estimate = await storage.estimate();
    const persisted = storage.persisted ? await storage.persisted() : null;
    return { quotaBytes: estimate.quota ?? null, usageBytes: estimate.usage ?? null, persisted };
  } catch {
    return { quotaBytes: null, usageBytes: null, persisted: null };
  }
}

export async function detectCapabilities(): Promise<Readonly<Capabilities>> {
  const [{ gpu, reason }, storage] = await Promise.all([detectWebGpu(), detectStorage()]);
  return Object.freeze({
    webgpu: gpu,
    webgpuUnavailableReason: reason,
    wasmSimd: detectSimd(),
    wasmThreads: detectThreads(),
    crossOriginIsolated: Boolean(globalThis.crossOriginIsolated),
    hardwareConcurrency: globalThis.navigator?.hardwareConcurrency ?? 1,
    storage,
  });
}
