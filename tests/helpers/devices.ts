/**
 * Devices for fit tests: a GPU's reported limits (a phone's defaults:
 * 128 MiB storage binding, 256 MiB buffers, no shader-f16) and the
 * capabilities around it.
 */

import type { Capabilities, GpuInfo } from '../../src/shared/capabilities';

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

export function gpuInfo(over: Partial<GpuInfo> = {}): GpuInfo {
  return {
    vendor: 'v',
    architecture: 'a',
    description: '',
    isFallbackAdapter: false,
    shaderF16: false,
    maxBufferSize: 256 * MiB,
    maxStorageBufferBindingSize: 128 * MiB,
    ...over,
  };
}

/** An 8-core, cross-origin isolated device with `gpu` (null: no WebGPU adapter). */
export function deviceWith(gpu: GpuInfo | null): Capabilities {
  return {
    webgpu: gpu,
    webgpuUnavailableReason: gpu ? null : 'no adapter',
    wasmSimd: true,
    wasmThreads: true,
    crossOriginIsolated: true,
    hardwareConcurrency: 8,
    storage: { quotaBytes: null, usageBytes: null, persisted: null },
  };
}
