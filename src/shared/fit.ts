/**
 * Does a pack variant fit this device? One rule for the Models screen (a
 * verdict over both backends, in a sentence) and the engine (which variant
 * to load on the chosen backend). Pure: from the manifest and detected
 * capabilities, before anything is loaded.
 */

import {
  chooseBackend,
  isSoftwareAdapter,
  type BackendPreference,
  type Capabilities,
} from './capabilities';
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
  /** The download cannot succeed here (not enough free storage): offer no Download. */
  blocksDownload?: boolean;
}

/**
 * Why `downloadBytes` cannot be stored here, or null: more than the origin's
 * free quota (the browser's estimate: quota less usage). Unknown figures
 * (private browsing, old browsers) pass; the download's own space check
 * still refuses then.
 */
export function storageFault(
  downloadBytes: number,
  storage: Capabilities['storage'] | undefined,
): string | null {
  if (!storage || storage.quotaBytes === null || storage.usageBytes === null) return null;
  const free = Math.max(0, storage.quotaBytes - storage.usageBytes);
  return downloadBytes > free
    ? `it needs ${formatBytes(downloadBytes)} of storage and this browser may keep only ${formatBytes(free)} more`
    : null;
}

type GpuCaps = Pick<Capabilities, 'webgpu' | 'webgpuUnavailableReason'>;

/**
 * Share of the device's memory a pack may count on: the OS, the browser and
 * other tabs keep the rest (phones share it with the GPU too).
 */
const USABLE_DEVICE_MEMORY = 0.5;

/**
 * onnxruntime's CPU kernels have no fp16 MatMul/Conv: on WebAssembly every
 * fp16 weight gets a float32 copy beside it, so an fp16 variant needs about
 * three times its weights (taken here as three times its declared memory).
 */
const FP16_ON_WASM = 3;

function memoryFault(needs: number, deviceMemoryGiB: number | undefined): string | null {
  if (deviceMemoryGiB === undefined || needs <= deviceMemoryGiB * GiB * USABLE_DEVICE_MEMORY)
    return null;
  return `it needs about ${formatBytes(needs)} of memory and this device has ${deviceMemoryGiB} GB in all`;
}

/**
 * Whether a WebGPU load of `variant` runs self-attention in row blocks: the
 * adapter cannot bind the whole largest buffer, and the install measured a
 * smaller one with attention sliced (VariantRequirements.slicedBufferSize).
 */
export function slicesAttention(
  variant: PackVariant,
  gpu: { maxStorageBufferBindingSize: number; maxBufferSize: number },
): boolean {
  const { maxStorageBufferBindingSize, maxBufferSize, slicedBufferSize } = variant.requires;
  const whole =
    maxStorageBufferBindingSize > gpu.maxStorageBufferBindingSize ||
    maxBufferSize > gpu.maxBufferSize;
  return whole && slicedBufferSize !== undefined;
}

/** Why `variant` cannot run on WebGPU here (clauses, most important first); empty when it can. */
function gpuFaults(
  variant: PackVariant,
  caps: Partial<GpuCaps>,
  deviceMemoryGiB?: number,
): string[] {
  const needs = variant.requires;
  const gpu = caps.webgpu;
  if (!variant.backends.includes('webgpu')) return ['this pack has no WebGPU build'];
  if (!gpu) return [`WebGPU is unavailable (${caps.webgpuUnavailableReason ?? 'not supported'})`];
  const faults: string[] = [];
  if (needs.shaderF16 && !gpu.shaderF16)
    faults.push('the GPU lacks 16-bit float shaders (shader-f16)');
  // The largest buffer is the larger of the biggest weight and the biggest
  // activation at the pack's image size (unfused attention scores, for SD
  // UNets), or what is left of it once attention is sliced.
  const sliced = slicesAttention(variant, gpu);
  const binding = sliced ? needs.slicedBufferSize! : needs.maxStorageBufferBindingSize;
  const buffer = sliced ? needs.slicedBufferSize! : needs.maxBufferSize;
  if (binding > gpu.maxStorageBufferBindingSize)
    faults.push(
      `the GPU binds at most ${formatMiB(gpu.maxStorageBufferBindingSize)} where the pack needs ${formatMiB(binding)}`,
    );
  if (buffer > gpu.maxBufferSize)
    faults.push(
      `the GPU's largest buffer is ${formatMiB(gpu.maxBufferSize)}, the pack needs ${formatMiB(buffer)}`,
    );
  const memory = memoryFault(needs.memoryBytes, deviceMemoryGiB);
  if (memory) faults.push(memory);
  return faults;
}

/** What WebAssembly needs: fp16 weights are widened to float32 copies on the CPU. */
function float16Weights(variant: PackVariant): boolean {
  const { weights, shaderF16 } = variant.requires;
  return (weights ?? (shaderF16 ? 'float16' : 'float32')) === 'float16';
}

function wasmMemory(variant: PackVariant): number {
  return variant.requires.memoryBytes * (float16Weights(variant) ? FP16_ON_WASM : 1);
}

/** Where the device's memory is unknown, packs needing more than this count as short of memory. */
const SHORT_WITHOUT_DEVICE_MEMORY = 1024 ** 3;
/** Memory is short when a variant needs more than this share of what it may count on. */
const SHORT_SHARE = 0.75;

/**
 * Whether memory is short for `variant` on `backend`: then the final image
 * is decoded in tiles (about a third of the VAE's working memory). On
 * WebAssembly the 4 GiB address space counts as well as the device.
 */
export function memoryIsShort(
  variant: PackVariant,
  backend: Backend,
  deviceMemoryGiB?: number,
): boolean {
  const needs = backend === 'wasm' ? wasmMemory(variant) : variant.requires.memoryBytes;
  if (backend === 'wasm' && needs > WASM_MEMORY_LIMIT * SHORT_SHARE) return true;
  if (deviceMemoryGiB === undefined) return needs > SHORT_WITHOUT_DEVICE_MEMORY;
  return needs > deviceMemoryGiB * GiB * USABLE_DEVICE_MEMORY * SHORT_SHARE;
}

/** Above this share of the 4 GiB wasm address space, the text encoder cannot stay beside the rest. */
const HEAP_FULL_SHARE = 0.9;

/**
 * Whether the text encoder is freed after each prompt (and read again for
 * the next): only where the wasm heap could not hold it beside the UNet's
 * working memory. Elsewhere it stays even when memory is short: reading it
 * back holds its file in JavaScript beside everything else, which measured
 * higher than keeping it (SD-Turbo int8, 512x512 on wasm, tiled decode:
 * +2,182 MiB over the idle app at the second prompt with it freed, +1,834 at
 * most with it kept).
 */
export function textEncoderMustGo(variant: PackVariant, backend: Backend): boolean {
  return backend === 'wasm' && wasmMemory(variant) > WASM_MEMORY_LIMIT * HEAP_FULL_SHARE;
}

/** Why `variant` cannot run on WebAssembly here, or null when it can. */
function wasmFault(variant: PackVariant, deviceMemoryGiB?: number): string | null {
  if (!variant.backends.includes('wasm')) return 'this pack has no WebAssembly build';
  const needs = wasmMemory(variant);
  if (needs > WASM_MEMORY_LIMIT)
    return `on the CPU it needs about ${formatBytes(needs)} of memory${float16Weights(variant) ? ' (its 16-bit weights are widened to 32 bits there)' : ''}, more than WebAssembly can address (4 GiB)`;
  return memoryFault(needs, deviceMemoryGiB);
}

/** What would make it fit, in a few words, from the faults found. */
function remedy(variant: PackVariant, faults: string[]): string {
  const text = faults.join(' ');
  const f16 =
    'use a device whose GPU has 16-bit float shaders, or a variant with 8- or 32-bit weights';
  if (variant.requires.shaderF16 && /shader-f16/.test(text)) return f16;
  if (/GB in all/.test(text)) return 'close other tabs and apps, or choose a smaller variant';
  if (/widened/.test(text)) return f16;
  if (/binds at most|largest buffer/.test(text))
    return 'choose a smaller variant or image size, or WebAssembly';
  return 'choose a smaller variant';
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
      ? `${label} cannot run on WebAssembly: ${fault}; ${remedy(variant, [fault])}.`
      : null;
  }
  const faults = gpuFaults(variant, caps, deviceMemoryGiB);
  return faults.length
    ? `${label} cannot run on WebGPU: ${faults.join('; ')}; ${remedy(variant, faults)}.`
    : null;
}

/**
 * The Models screen's verdict: first whether `downloadBytes` (what is left
 * to download; 0 for an installed pack) can be stored, then WebGPU when a
 * real GPU takes it, else WebAssembly, else why neither and what would help.
 */
export function variantFits(
  variant: PackVariant,
  caps: Capabilities | null,
  deviceMemoryGiB?: number,
  downloadBytes = 0,
): Fit {
  if (!caps) return { fits: null, reason: 'Checking what this device can run…' };
  const storage = storageFault(downloadBytes, caps.storage);
  if (storage)
    return {
      fits: false,
      blocksDownload: true,
      reason: `Won't fit: ${storage}. To download it: free up space (delete packs or images you no longer need), or choose a smaller pack.`,
    };
  const onGpu = gpuFaults(variant, caps, deviceMemoryGiB);
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
  const faults = [...onGpu, onCpu];
  return {
    fits: false,
    reason: `Won't run here: ${faults.join('; ')}. To run it: ${remedy(variant, faults)}.`,
  };
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

/**
 * Whether loading `manifest` here would get as far as opening its models:
 * the backend the preference picks, then a variant that fits it (what
 * PackSlot.load decides before it opens a session).
 */
export function wouldLoad(
  manifest: PackManifest,
  caps: Capabilities,
  preference: BackendPreference,
): boolean {
  const { backend } = chooseBackend(caps, preference);
  try {
    chooseVariant(manifest, backend, caps);
    return true;
  } catch {
    return false;
  }
}
