/** Whether a pack variant can run on this device, in a sentence: pure, from detected capabilities. */

import { isSoftwareAdapter, type Capabilities } from '../shared/capabilities';
import type { PackVariant } from '../shared/pack-manifest';
import { formatBytes } from '../ui/format';

export interface Fit {
  /** null while capabilities are unknown. */
  fits: boolean | null;
  reason: string;
}

/** WebAssembly memory is 32-bit: 4 GiB at most, and weights plus working memory must fit. */
const WASM_MEMORY = 4 * 1024 ** 3;
const GiB = 1024 ** 3;

export function variantFits(
  variant: PackVariant,
  caps: Capabilities | null,
  deviceMemoryGiB?: number,
): Fit {
  if (!caps) return { fits: null, reason: 'Checking what this device can run…' };
  const req = variant.requires;
  const gpuFaults: string[] = [];
  const gpu = caps.webgpu;
  if (!variant.backends.includes('webgpu')) gpuFaults.push('this pack has no WebGPU build');
  else if (!gpu)
    gpuFaults.push(`WebGPU is unavailable (${caps.webgpuUnavailableReason ?? 'not supported'})`);
  else {
    if (req.shaderF16 && !gpu.shaderF16)
      gpuFaults.push('the GPU lacks 16-bit float shaders (shader-f16)');
    if (gpu.maxStorageBufferBindingSize < req.maxStorageBufferBindingSize)
      gpuFaults.push(
        `the GPU binds at most ${formatBytes(gpu.maxStorageBufferBindingSize)} where the pack needs ${formatBytes(req.maxStorageBufferBindingSize)}`,
      );
    else if (gpu.maxBufferSize < req.maxBufferSize)
      gpuFaults.push(
        `the GPU's largest buffer is ${formatBytes(gpu.maxBufferSize)}, the pack needs ${formatBytes(req.maxBufferSize)}`,
      );
  }
  if (gpu && gpuFaults.length === 0 && !isSoftwareAdapter(gpu))
    return { fits: true, reason: 'Fits: runs on this GPU.' };

  const memoryFault =
    req.memoryBytes > WASM_MEMORY
      ? `needs ${formatBytes(req.memoryBytes)} of memory, more than WebAssembly can address`
      : deviceMemoryGiB !== undefined && req.memoryBytes > (deviceMemoryGiB * GiB) / 2
        ? `needs ${formatBytes(req.memoryBytes)} of memory and this device has about ${deviceMemoryGiB} GB`
        : null;
  if (variant.backends.includes('wasm') && !memoryFault)
    return {
      fits: true,
      reason: gpuFaults.length
        ? `Fits, on the CPU (WebAssembly, slower): ${gpuFaults[0]}.`
        : 'Fits, on the CPU (WebAssembly): the only GPU here is a software renderer.',
    };
  const faults = [...gpuFaults, ...(memoryFault ? [memoryFault] : [])];
  return { fits: false, reason: `Won't run here: ${faults.join('; ')}.` };
}
