import { describe, expect, it } from 'vitest';
import {
  chooseVariant,
  memoryIsShort,
  slicesAttention,
  storageFault,
  textEncoderMustGo,
  variantFits,
  whyVariantDoesNotFit,
  wouldLoad,
} from '../../../src/shared/fit';
import type { Capabilities, GpuInfo } from '../../../src/shared/capabilities';
import { deviceWith, gpuInfo, MiB } from '../../helpers/devices';
import type { PackManifest, PackVariant } from '../../../src/shared/pack-manifest';

const gpu = (over: Partial<GpuInfo> = {}): GpuInfo =>
  gpuInfo({ vendor: 'qualcomm', architecture: 'adreno-7xx', ...over });
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

describe('whether memory is short (the text encoder is then freed after each prompt)', () => {
  const GiB = 1024 * MiB;
  const needing = (bytes: number, weights?: 'float16') =>
    variant('v', { memoryBytes: bytes, ...(weights ? { weights, shaderF16: true } : {}) });

  it('never counts the demo pack short of memory, even on a 2 GB phone', () => {
    for (const backend of ['wasm', 'webgpu'] as const)
      for (const memory of [undefined, 2, 4, 8])
        expect(memoryIsShort(needing(60 * MiB), backend, memory)).toBe(false);
  });

  it('judges by the device: SD-Turbo-sized int8 (1.6 GB) is short on 4 GB, not on 8 GB', () => {
    const sdTurboInt8 = needing(1.6 * GiB);
    expect(memoryIsShort(sdTurboInt8, 'webgpu', 4)).toBe(true); // 4 GB x 0.5 usable x 0.75 = 1.5 GB
    expect(memoryIsShort(sdTurboInt8, 'webgpu', 8)).toBe(false);
    expect(memoryIsShort(sdTurboInt8, 'wasm', 8)).toBe(false);
  });

  it('on WebAssembly counts the 4 GiB address space and fp16 widening', () => {
    // fp16 weights are widened there (3x): 1.2 GB declared needs 3.6 GB of the 4 GiB.
    expect(memoryIsShort(needing(1.2 * GiB, 'float16'), 'wasm', 8)).toBe(true);
    expect(memoryIsShort(needing(1.2 * GiB, 'float16'), 'webgpu', 8)).toBe(false);
  });

  it('frees the text encoder only where the wasm heap could not hold it (over 90% of 4 GiB)', () => {
    expect(textEncoderMustGo(needing(3.3e9), 'wasm')).toBe(false);
    expect(memoryIsShort(needing(3.3e9), 'wasm', 8)).toBe(true); // short: the decode is tiled instead
    expect(textEncoderMustGo(needing(3.7 * GiB), 'wasm')).toBe(true);
    expect(textEncoderMustGo(needing(1.3 * GiB, 'float16'), 'wasm')).toBe(true); // 3.9 GiB widened
    expect(textEncoderMustGo(needing(3.7 * GiB), 'webgpu')).toBe(false);
    expect(textEncoderMustGo(needing(60 * MiB), 'wasm')).toBe(false);
  });

  it('falls back to the size (over 1 GiB) where the browser does not say how much memory there is', () => {
    expect(memoryIsShort(needing(0.9 * GiB), 'webgpu')).toBe(false);
    expect(memoryIsShort(needing(1.1 * GiB), 'webgpu')).toBe(true);
  });
});

describe('attention sliced where the GPU cannot bind the whole score tensor', () => {
  const phone = gpu({ shaderF16: true, maxStorageBufferBindingSize: 128 * MiB });
  const whole = { maxStorageBufferBindingSize: 256 * MiB, maxBufferSize: 256 * MiB };

  it('fits a phone GPU once the install measured a sliced figure under its limit', () => {
    const measured = variant('fp16', { ...whole, slicedBufferSize: 32 * MiB });
    expect(slicesAttention(measured, phone)).toBe(true);
    expect(whyVariantDoesNotFit(measured, 'webgpu', { webgpu: phone })).toBeNull();
  });

  it('keeps attention whole where the GPU binds it, and says so where even sliced is too big', () => {
    const measured = variant('fp16', { ...whole, slicedBufferSize: 32 * MiB });
    const laptop = gpu({ maxStorageBufferBindingSize: 1024 * MiB, maxBufferSize: 1024 * MiB });
    expect(slicesAttention(measured, laptop)).toBe(false);
    const tooBig = variant('fp16', { ...whole, slicedBufferSize: 200 * MiB });
    expect(whyVariantDoesNotFit(tooBig, 'webgpu', { webgpu: phone })).toMatch(
      /binds at most 128 MiB where the pack needs 200 MiB/,
    );
  });

  it('without a sliced measure, judges the whole figure as before', () => {
    const declared = variant('fp16', whole);
    expect(slicesAttention(declared, phone)).toBe(false);
    expect(whyVariantDoesNotFit(declared, 'webgpu', { webgpu: phone })).toMatch(/256 MiB/);
  });
});

describe('storage in the verdict, before Download is pressed', () => {
  const caps = (quotaBytes: number | null, usageBytes: number | null) =>
    ({
      ...deviceWith(null),
      storage: { quotaBytes, usageBytes, persisted: null },
    }) as Capabilities;

  it('does not fit, and blocks the download, when the pack is larger than the free quota', () => {
    const fit = variantFits(variant('int8'), caps(2 * 1024 ** 3, 1024 ** 3), undefined, 1e15);
    expect(fit.fits).toBe(false);
    expect(fit.blocksDownload).toBe(true);
    expect(fit.reason).toMatch(
      /needs 1000 TB of storage and this browser may keep only 1.07 GB more/,
    );
  });

  it('counts nothing left to download for an installed pack, and passes unknown quotas', () => {
    expect(variantFits(variant('int8'), caps(1e9, 1e9), undefined, 0).fits).toBe(true);
    expect(
      variantFits(variant('int8'), caps(null, null), undefined, 1e15).blocksDownload,
    ).toBeUndefined();
    expect(storageFault(1e9, { quotaBytes: 2e9, usageBytes: 5e8, persisted: null })).toBeNull();
  });
});

describe('whether the Create screen loads a chosen pack ahead of the press', () => {
  const fp16Only = pack([{ ...variant('fp16', { shaderF16: true }, true), backends: ['webgpu'] }]);
  const hugeOnWasm = pack([variant('huge', { memoryBytes: 5 * 1024 * MiB }, true)]);

  it('loads a pack the chosen backend can run, and no other', () => {
    const phone = deviceWith(gpu({ shaderF16: true }));
    expect(wouldLoad(fp16Only, phone, 'auto')).toBe(true);
    expect(wouldLoad(fp16Only, phone, 'wasm')).toBe(false);
    expect(wouldLoad(fp16Only, deviceWith(gpu()), 'auto')).toBe(false);
    expect(wouldLoad(hugeOnWasm, deviceWith(null), 'auto')).toBe(false);
    expect(wouldLoad(pack([variant('small', {}, true)]), deviceWith(null), 'auto')).toBe(true);
  });

  it('loads a pack when a variant other than its default fits, as the engine would', () => {
    const both = pack([
      { ...variant('fp16', { shaderF16: true }, true), backends: ['webgpu'] },
      variant('int8'),
    ]);
    expect(wouldLoad(both, deviceWith(null), 'auto')).toBe(true);
  });
});
