import { describe, expect, it } from 'vitest';
import type { GpuInfo } from '../../../src/shared/capabilities';
import { deviceWith, gpuInfo } from '../../helpers/devices';
import type { PackVariant } from '../../../src/shared/pack-manifest';
import { variantFits } from '../../../src/shared/fit';

const gpu = (over: Partial<GpuInfo> = {}): GpuInfo =>
  gpuInfo({ vendor: 'qualcomm', architecture: 'adreno-7xx', ...over });
const caps = deviceWith;
const variant = (
  requires: Partial<PackVariant['requires']>,
  backends: PackVariant['backends'] = ['webgpu', 'wasm'],
): PackVariant => ({
  id: 'v',
  label: 'v',
  backends,
  requires: {
    shaderF16: false,
    maxStorageBufferBindingSize: 1,
    maxBufferSize: 1,
    memoryBytes: 1,
    ...requires,
  },
  components: { textEncoder: 'a', unet: 'a', vaeDecoder: 'a' },
});

describe('variantFits', () => {
  it('is unknown until capabilities arrive', () => {
    expect(variantFits(variant({}), null).fits).toBeNull();
  });
  it('fits a GPU that meets every limit', () => {
    expect(
      variantFits(variant({ maxStorageBufferBindingSize: 100 * 2 ** 20 }), caps(gpu())),
    ).toEqual({
      fits: true,
      reason: 'Fits: runs on this GPU.',
    });
  });
  it('falls back to WebAssembly with the GPU fault named', () => {
    const fit = variantFits(variant({ shaderF16: true, memoryBytes: 900e6 }), caps(gpu()));
    expect(fit).toEqual({ fits: true, reason: expect.stringContaining('shader-f16') });
  });
  it("says why a big fp16 pack won't run on a phone", () => {
    const fit = variantFits(
      variant({
        shaderF16: true,
        maxStorageBufferBindingSize: 1_733_430_199,
        memoryBytes: 2_513_917_681,
      }),
      caps(gpu()),
      4,
    );
    expect(fit.fits).toBe(false);
    expect(fit.reason).toMatch(
      /shader-f16.*2.51 GB of memory and this device has 4 GB in all.*widened to 32 bits/,
    );
  });
  it('refuses WebGPU-only packs without WebGPU', () => {
    expect(variantFits(variant({}, ['webgpu']), caps(null)).fits).toBe(false);
  });
});
