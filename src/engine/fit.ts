/** Does a pack variant fit this device and backend? Decided from the manifest and adapter limits before loading. */

import type { Capabilities } from '../shared/capabilities';
import { GessoError } from '../shared/errors';
import type { Backend, PackManifest, PackVariant } from '../shared/pack-manifest';
import { formatMiB } from './format-bytes';

/** wasm32 linear memory tops out at 4 GiB. */
export const WASM_MEMORY_LIMIT = 4 * 1024 ** 3;

/** Why `variant` cannot run here, in one sentence, or null when it fits. */
export function whyVariantDoesNotFit(
  variant: PackVariant,
  backend: Backend,
  caps: Pick<Capabilities, 'webgpu'>,
): string | null {
  if (!variant.backends.includes(backend))
    return `The “${variant.label}” variant does not run on ${backend === 'webgpu' ? 'WebGPU' : 'WebAssembly'}; switch the backend in Settings.`;
  const needs = variant.requires;
  if (backend === 'wasm') {
    if (needs.memoryBytes > WASM_MEMORY_LIMIT)
      return `The “${variant.label}” variant needs about ${formatMiB(needs.memoryBytes)} of memory, more than WebAssembly can address (4 GiB); use WebGPU or a smaller variant.`;
    return null;
  }
  const gpu = caps.webgpu;
  if (!gpu) return 'WebGPU is not available on this device; switch to WebAssembly in Settings.';
  if (needs.shaderF16 && !gpu.shaderF16)
    return `The “${variant.label}” variant needs 16-bit float shaders (shader-f16), which this GPU does not offer; choose a float32 variant or WebAssembly.`;
  if (needs.maxStorageBufferBindingSize > gpu.maxStorageBufferBindingSize)
    return `The “${variant.label}” variant has a ${formatMiB(needs.maxStorageBufferBindingSize)} weight, larger than this GPU's ${formatMiB(gpu.maxStorageBufferBindingSize)} binding limit; choose a smaller variant or WebAssembly.`;
  if (needs.maxBufferSize > gpu.maxBufferSize)
    return `The “${variant.label}” variant needs ${formatMiB(needs.maxBufferSize)} GPU buffers, larger than this GPU's ${formatMiB(gpu.maxBufferSize)} limit; choose a smaller variant or WebAssembly.`;
  return null;
}

/**
 * The variant to load: the requested one, else the pack's default, else the
 * first that fits. Throws GessoError('does-not-fit') with the reason when
 * the requested (or default) one does not fit and none other does.
 */
export function chooseVariant(
  manifest: PackManifest,
  backend: Backend,
  caps: Pick<Capabilities, 'webgpu'>,
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
