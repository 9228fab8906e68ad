/** What this device can do, detected once (src/engine/detect.ts) and then frozen. */

import type { Backend } from './pack-manifest';

export interface GpuInfo {
  vendor: string;
  architecture: string;
  description: string;
  /** True for software adapters (SwiftShader, WARP, llvmpipe): slower than wasm. */
  isFallbackAdapter: boolean;
  shaderF16: boolean;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export interface Capabilities {
  webgpu: GpuInfo | null;
  /** Why WebGPU is unusable, when it is. */
  webgpuUnavailableReason: string | null;
  wasmSimd: boolean;
  wasmThreads: boolean;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  storage: {
    quotaBytes: number | null;
    usageBytes: number | null;
    persisted: boolean | null;
  };
}

export type BackendPreference = 'auto' | Backend;

export interface BackendChoice {
  backend: Backend;
  /** One sentence for the Diagnostics panel. */
  reason: string;
}

const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|warp|software|basic render/i;

export function isSoftwareAdapter(
  info: Pick<GpuInfo, 'isFallbackAdapter' | 'architecture' | 'vendor' | 'description'>,
): boolean {
  return (
    info.isFallbackAdapter ||
    SOFTWARE_ADAPTER.test(info.architecture) ||
    SOFTWARE_ADAPTER.test(info.vendor) ||
    SOFTWARE_ADAPTER.test(info.description)
  );
}

/**
 * A real GPU first, WebAssembly otherwise. A software WebGPU adapter is
 * slower than wasm, so it is used only when the user forces WebGPU.
 */
export function chooseBackend(caps: Capabilities, preference: BackendPreference): BackendChoice {
  const gpu = caps.webgpu;
  if (preference === 'wasm')
    return { backend: 'wasm', reason: 'WebAssembly, because you chose it.' };
  if (preference === 'webgpu') {
    if (gpu) return { backend: 'webgpu', reason: 'WebGPU, because you chose it.' };
    return {
      backend: 'wasm',
      reason: `WebAssembly: you chose WebGPU, but ${caps.webgpuUnavailableReason ?? 'it is not available'}.`,
    };
  }
  if (!gpu) {
    return {
      backend: 'wasm',
      reason: `WebAssembly, because ${caps.webgpuUnavailableReason ?? 'WebGPU is not available'}.`,
    };
  }
  if (isSoftwareAdapter(gpu)) {
    return {
      backend: 'wasm',
      reason: `WebAssembly, because the only WebGPU adapter (${gpu.architecture || gpu.vendor || 'unknown'}) is a software renderer, slower than WebAssembly.`,
    };
  }
  return { backend: 'webgpu', reason: `WebGPU on ${describeGpu(gpu)}.` };
}

export function describeGpu(gpu: GpuInfo): string {
  return (
    [gpu.vendor, gpu.architecture, gpu.description].filter(Boolean).join(' ') || 'an unnamed GPU'
  );
}

/** One sentence per limitation, for the banner the app shows on open. */
export function describeLimitations(caps: Capabilities, serviceWorker: boolean): string[] {
  const notes: string[] = [];
  if (!serviceWorker)
    notes.push('This browser has no service workers, so Gesso will not work offline.');
  if (!caps.webgpu)
    notes.push(
      `Images are made on the processor with WebAssembly, because ${caps.webgpuUnavailableReason ?? 'WebGPU is not available'}; it is slower but works.`,
    );
  if (!caps.wasmThreads)
    notes.push(
      caps.crossOriginIsolated
        ? 'WebAssembly threads are not available in this browser, so generation on the processor uses one core.'
        : 'The page is not cross-origin isolated yet, so generation on the processor uses one core; reload once to fix it.',
    );
  if (caps.storage.quotaBytes === null)
    notes.push(
      'Storage is not available (private browsing?), so models cannot be kept between visits.',
    );
  return notes;
}
