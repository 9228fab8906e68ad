import { describe, expect, it } from 'vitest';
import { importWeights, int8Estimate } from '../../../../src/engine/import/weights';
import type { PackVariant } from '../../../../src/shared/pack-manifest';
import { deviceWith, GiB, gpuInfo, MiB } from '../../../helpers/devices';

/** A full-size SD 1.5 import as measured: 2.13 GB of fp16 weights. */
const WEIGHTS = 2_132_000_000;
const fp16: PackVariant = {
  id: 'fp16',
  label: 'fp16 weights, imported on this device',
  default: true,
  backends: ['webgpu', 'wasm'],
  requires: {
    shaderF16: true,
    maxStorageBufferBindingSize: 100 * MiB,
    maxBufferSize: 100 * MiB,
    memoryBytes: WEIGHTS + 50 * MiB,
  },
  components: { textEncoder: 't', unet: 'u', vaeDecoder: 'v' },
};

describe('fp16 or int8 for an imported pack', () => {
  it('keeps fp16 where a real GPU with 16-bit shaders runs it', () => {
    const caps = deviceWith(
      gpuInfo({ shaderF16: true, maxStorageBufferBindingSize: GiB, maxBufferSize: GiB }),
    );
    expect(importWeights(fp16, WEIGHTS, caps, 8)).toEqual({ weights: 'fp16' });
  });

  it('writes int8 where only WebAssembly runs here and fp16 would be widened past 4 GiB', () => {
    const choice = importWeights(fp16, WEIGHTS, deviceWith(null), 8);
    expect(choice.weights).toBe('int8');
    expect(choice.weights === 'int8' && choice.reason).toMatch(/more than WebAssembly can address/);
  });

  it('writes int8 where the GPU lacks shader-f16 and the CPU cannot hold fp16', () => {
    expect(importWeights(fp16, WEIGHTS, deviceWith(gpuInfo()), 8).weights).toBe('int8');
  });

  it('keeps fp16 where int8 would not run either, and while capabilities are unknown', () => {
    expect(importWeights(fp16, WEIGHTS, deviceWith(null), 1)).toEqual({ weights: 'fp16' });
    expect(importWeights(fp16, WEIGHTS, null, 8)).toEqual({ weights: 'fp16' });
  });

  it('estimates the int8 copy as the quantizer makes it: half the weights, float32 compute, wider GPU buffers', () => {
    const int8 = int8Estimate(fp16, WEIGHTS);
    expect(int8.requires).toMatchObject({
      weights: 'int8',
      shaderF16: false,
      maxStorageBufferBindingSize: 200 * MiB,
      memoryBytes: WEIGHTS / 2 + 50 * MiB,
    });
    expect(int8.backends).toContain('wasm');
  });
});
