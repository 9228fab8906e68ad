/**
 * Does a pack variant fit this device? One rule for the Models screen (a
 * verdict over both backends, in a sentence) and the engine (which variant
 * to load on the chosen backend). Pure: from the manifest and detected
 * capabilities, before anything is loaded.
 */

import { isSoftwareAdapter, type Capabilities } from './capabilities';
import { GessoError } from './errors';
import { formatBytes, formatMiB } from './format';
import type { Backend, PackManifest, PackVariant } from './pack-manifest';

/** wasm32 linear memory tops out at 4 GiB: weights plus working memory must fit in it. */
export const WASM_MEMORY_LIMIT = 4 * 1024 ** 3;
const GiB = 1024 ** 3;

/** What the Models screen shows for a variant. */
export interface Fit {
  /** null while capabilities are unknown. */
  fits: boolean | null;
  reason: string;
}

type GpuCaps = Pick<Capabilities, 'webgpu' | 'webgpuUnavailableReason'>;

/** Why `variant` cannot run on WebGPU here (clauses, most important first); empty when it can. */
function gpuFaults(variant: PackVariant, caps: Partial<GpuCaps>): string[] {
  const needs = variant.requires;
  const gpu = caps.webgpu;
  if (!variant.backends.includes('webgpu')) return ['this pack has no WebGPU build'];
  if (!gpu) return [`WebGPU is unavailable (${caps.webgpuUnavailableReason ?? 'not supported'})`];
  const faults: string[] = [];
  if (needs.shaderF16 && !gpu.shaderF16)
    faults.push('the GPU lacks 16-bit float shaders (shader-f16)');
  if (needs.maxStorageBufferBindingSize > gpu.maxStorageBufferBindingSize)
    faults.push(
      `the GPU binds at most ${formatMiB(gpu.maxStorageBufferBindingSize)} where the pack needs ${formatMiB(needs.maxStorageBufferBindingSize)}`,
    );
  if (needs.maxBufferSize > gpu.maxBufferSize)
    faults.push(
      `the GPU's largest buffer is ${formatMiB(gpu.maxBufferSize)}, the pack needs ${formatMiB(needs.maxBufferSize)}`,
    );
  return faults;
}

/** Why `variant` cannot run on WebAssembly here, or null when it can. */
function wasmFault(variant: PackVariant, deviceMemoryGiB?: number): string | null {
  const needs = variant.requires.memoryBytes;
  if (!variant.backends.includes('wasm')) return 'this pack has no WebAssembly build';
  if (needs > WASM_MEMORY_LIMIT)
    return `it needs ${formatBytes(needs)} of memory, more than WebAssembly can address (4 GiB)`;
  if (deviceMemoryGiB !== undefined && needs > (deviceMemoryGiB * GiB) / 2)
    return `it needs ${formatBytes(needs)} of memory and this device has about ${deviceMemoryGiB} GB`;
  return null;
}

/** Why `variant` cannot run on `backend`, in one sentence that says what to do, or null when it fits. */
export function whyVariantDoesNotFit(
  variant: PackVariant,
  backend: Backend,
  caps: Partial<GpuCaps>,
  deviceMemoryGiB?: number,
): string | null {
  const label = `The “${variant.label}” variant`;
  if (backend === 'wasm') {
    const fault = wasmFault(variant, deviceMemoryGiB);
    return fault
      ? `${label} cannot run on WebAssembly: ${fault}; use WebGPU or a smaller variant.`
      : null;
  }
  const faults = gpuFaults(variant, caps);
  return faults.length
    ? `${label} cannot run on WebGPU: ${faults.join('; ')}; choose a smaller variant or WebAssembly in Settings.`
    : null;
}

/** The Models screen's verdict: WebGPU when a real GPU takes it, else WebAssembly, else why neither. */
export function variantFits(
  variant: PackVariant,
  caps: Capabilities | null,
  deviceMemoryGiB?: number,
): Fit {
  if (!caps) return { fits: null, reason: 'Checking what this device can run…' };
  const onGpu = gpuFaults(variant, caps);
  if (caps.webgpu && onGpu.length === 0 && !isSoftwareAdapter(caps.webgpu))
    return { fits: true, reason: 'Fits: runs on this GPU.' };
  const onCpu = wasmFault(variant, deviceMemoryGiB);
  if (!onCpu)
    return {
      fits: true,
      reason: onGpu.length
        ? `Fits, on the CPU (WebAssembly, slower): ${onGpu[0]}.`
        : 'Fits, on the CPU (WebAssembly): the only GPU here is a software renderer.',
    };
  return { fits: false, reason: `Won't run here: ${[...onGpu, onCpu].join('; ')}.` };
}

/**
 * The variant to load: the requested one, else the pack's default, else the
 * first that fits. Throws GessoError('does-not-fit') with the reason when
 * the requested (or default) one does not fit and none other does.
 */
export function chooseVariant(
  manifest: PackManifest,
  backend: Backend,
  caps: Partial<GpuCaps>,
  requestedId?: string,
): PackVariant {
  const requested = requestedId ? manifest.variants.find((v) => v.id === requestedId) : undefined;
  if (requestedId && !requested)
    throw new GessoError('invalid-manifest', `The pack has no variant “${requestedId}”.`);
  if (requested) {
    const reason = whyVariantDoesNotFit(requested, backend, caps);
    if (reason) throw new GessoError('does-not-fit', reason);
    return requested;
  }
  const ordered = [...manifest.variants].sort(
    (a, b) => Number(Boolean(b.default)) - Number(Boolean(a.default)),
  );
  for (const variant of ordered) if (!whyVariantDoesNotFit(variant, backend, caps)) return variant;
  const first = ordered[0];
  if (!first) throw new GessoError('invalid-manifest', 'The pack lists no model variants.');
  throw new GessoError('does-not-fit', whyVariantDoesNotFit(first, backend, caps)!);
}
