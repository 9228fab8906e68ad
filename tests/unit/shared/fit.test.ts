import { describe, expect, it } from 'vitest';
import { chooseVariant, whyVariantDoesNotFit } from '../../../src/shared/fit';
import type { GpuInfo } from '../../../src/shared/capabilities';
import type { PackManifest, PackVariant } from '../../../src/shared/pack-manifest';

const MiB = 1024 * 1024;
const gpu = (over: Partial<GpuInfo> = {}): GpuInfo => ({
  vendor: 'qualcomm',
  architecture: 'adreno-7xx',
  description: '',
  isFallbackAdapter: false,
  shaderF16: false,
  maxBufferSize: 256 * MiB,
  maxStorageBufferBindingSize: 128 * MiB,
  ...over,
});
const variant = (
  id: string,
  over: Partial<PackVariant['requires']> = {},
  isDefault = false,
): PackVariant => ({
  id,
  label: id,
  default: isDefault,
  backends: ['webgpu', 'wasm'],
  requires: {
    shaderF16: false,
    maxStorageBufferBindingSize: 10 * MiB,
    maxBufferSize: 10 * MiB,
    memoryBytes: 100 * MiB,
    ...over,
  },
  components: { textEncoder: 'a', unet: 'b', vaeDecoder: 'c' },
});
const pack = (variants: PackVariant[]) => ({ variants }) as PackManifest;

describe('variant fit', () => {
  it('needs shader-f16 for fp16 variants on WebGPU only', () => {
    const fp16 = variant('fp16', { shaderF16: true });
    expect(whyVariantDoesNotFit(fp16, 'webgpu', { webgpu: gpu() })).toMatch(/shader-f16/);
    expect(whyVariantDoesNotFit(fp16, 'webgpu', { webgpu: gpu({ shaderF16: true }) })).toBeNull();
    expect(whyVariantDoesNotFit(fp16, 'wasm', { webgpu: null })).toBeNull();
  });

  it('checks the largest weight against the storage binding limit, and buffers against maxBufferSize', () => {
    expect(
      whyVariantDoesNotFit(variant('big', { maxStorageBufferBindingSize: 200 * MiB }), 'webgpu', {
        webgpu: gpu(),
      }),
    ).toMatch(/binds at most 128 MiB where the pack needs 200 MiB/);
    expect(
      whyVariantDoesNotFit(variant('buf', { maxBufferSize: 300 * MiB }), 'webgpu', {
        webgpu: gpu(),
      }),
    ).toMatch(/largest buffer is 256 MiB, the pack needs 300 MiB/);
  });

  it('refuses more than 4 GiB of memory on wasm', () => {
    expect(
      whyVariantDoesNotFit(variant('huge', { memoryBytes: 5 * 1024 * MiB }), 'wasm', {
        webgpu: null,
      }),
    ).toMatch(/4 GiB/);
  });

  it('falls back from a default that does not fit to one that does, and says why when none does', () => {
    const manifest = pack([variant('fp32'), variant('fp16', { shaderF16: true }, true)]);
    expect(chooseVariant(manifest, 'webgpu', { webgpu: gpu() }).id).toBe('fp32');
    expect(chooseVariant(manifest, 'webgpu', { webgpu: gpu({ shaderF16: true }) }).id).toBe('fp16');
    expect(() => chooseVariant(manifest, 'webgpu', { webgpu: gpu() }, 'fp16')).toThrow(
      expect.objectContaining({ code: 'does-not-fit' }),
    );
    const none = pack([variant('fp16', { shaderF16: true }, true)]);
    expect(() => chooseVariant(none, 'webgpu', { webgpu: gpu() })).toThrow(/shader-f16/);
  });
});
