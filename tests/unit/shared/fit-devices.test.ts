/**
 * The fit verdicts for the packs people want on the devices they have. The
 * device limits are typical published WebGPU limits: Android phones (Adreno,
 * Mali) bind 128 MiB and have no shader-f16; iPhones take 1 GiB buffers;
 * laptops 2 GiB with shader-f16. The packs' figures are the catalog's
 * (models/catalog/), whose largest buffer is the SD UNet's unfused attention
 * scores at 64x64 latents (see models/catalog/README.md).
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deviceWith, GiB, gpuInfo } from '../../helpers/devices';
import { variantFits, whyVariantDoesNotFit } from '../../../src/shared/fit';
import type { PackManifest, PackVariant } from '../../../src/shared/pack-manifest';

const gpu = gpuInfo;
const device = deviceWith;
const android = device(gpu({ vendor: 'qualcomm', architecture: 'adreno-7xx' }));
const iphone = device(
  gpu({ vendor: 'apple', shaderF16: true, maxBufferSize: GiB, maxStorageBufferBindingSize: GiB }),
);
const laptop = device(
  gpu({
    vendor: 'nvidia',
    shaderF16: true,
    maxBufferSize: 2 * GiB,
    maxStorageBufferBindingSize: 2 * GiB,
  }),
);

const catalog = (name: string): PackManifest =>
  JSON.parse(readFileSync(`models/catalog/${name}.json`, 'utf8')) as PackManifest;
const sdTurbo = catalog('sd-turbo').variants[0]!;
const lcm = catalog('lcm-dreamshaper-v7').variants[0]!;
/** The same packs with weights quantized to int8 and computed in float32 (a quarter of fp32's memory less, no shader-f16). */
const int8Of = (v: PackVariant): PackVariant => ({
  ...v,
  id: 'int8',
  label: 'int8',
  requires: {
    ...v.requires,
    shaderF16: false,
    // float32 activations: twice the fp16 buffers; weights about the same bytes as fp16.
    maxStorageBufferBindingSize: v.requires.maxStorageBufferBindingSize * 2,
    maxBufferSize: v.requires.maxBufferSize * 2,
  },
});

describe('fp16 SD-Turbo and LCM (the public exports)', () => {
  for (const [name, pack] of [
    ['SD-Turbo', sdTurbo],
    ['LCM', lcm],
  ] as const) {
    it(`${name}: never on an Android phone: no shader-f16, and too big for WebAssembly once widened`, () => {
      for (const memory of [4, 6, 8]) {
        const fit = variantFits(pack, android, memory);
        expect(fit.fits).toBe(false);
        expect(fit.reason).toMatch(/shader-f16/);
        expect(fit.reason).toMatch(/widened to 32 bits/);
        expect(fit.reason).toMatch(/To run it: use a device whose GPU has 16-bit float shaders/);
      }
    });

    it(`${name}: on an iPhone's GPU with 6 or 8 GB`, () => {
      expect(variantFits(pack, iphone, 8)).toEqual({
        fits: true,
        reason: 'Fits: runs on this GPU.',
      });
      expect(variantFits(pack, iphone, 6).fits).toBe(true);
    });

    it(`${name}: on a laptop GPU`, () => {
      expect(variantFits(pack, laptop, 8).fits).toBe(true);
      expect(whyVariantDoesNotFit(pack, 'webgpu', laptop, 8)).toBeNull();
    });
  }

  it('says which buffer is too big on a phone GPU that has shader-f16', () => {
    const phoneF16 = device(gpu({ shaderF16: true }));
    expect(whyVariantDoesNotFit(sdTurbo, 'webgpu', phoneF16, 8)).toMatch(
      /binds at most 128 MiB where the pack needs 160 MiB.*choose a smaller variant or image size/,
    );
  });
});

describe('the int8 copy of an fp16 pack made on the device', () => {
  it('keeps needing shader-f16 on the GPU, but not the widened copies on the CPU', () => {
    const copy: PackVariant = {
      ...sdTurbo,
      id: 'fp16-int8-device',
      label: 'int8 copy',
      requires: { ...sdTurbo.requires, weights: 'int8' },
    };
    const fit = variantFits(copy, android, 8);
    expect(fit.fits).toBe(true);
    expect(fit.reason).toMatch(
      /^Fits, on the CPU \(WebAssembly, slower\): the GPU lacks 16-bit float shaders/,
    );
    expect(whyVariantDoesNotFit(sdTurbo, 'wasm', android, 8)).toMatch(/widened to 32 bits/);
  });
});

describe('memory', () => {
  it('SD-Turbo (2.5 GB at work) does not fit a 4 GB iPhone; LCM (2.1 GB) just does', () => {
    const turbo = variantFits(sdTurbo, iphone, 4);
    expect(turbo.fits).toBe(false);
    expect(turbo.reason).toMatch(/this device has 4 GB in all.*close other tabs and apps/);
    expect(variantFits(lcm, iphone, 4).fits).toBe(true);
  });
});

describe('int8 copies with float32 compute', () => {
  it('run on an Android phone, on the CPU, where the GPU cannot bind the attention scores', () => {
    for (const pack of [sdTurbo, lcm]) {
      const fit = variantFits(int8Of(pack), android, 8);
      expect(fit.fits).toBe(true);
      expect(fit.reason).toMatch(
        /^Fits, on the CPU \(WebAssembly, slower\): the GPU binds at most 128 MiB/,
      );
    }
  });

  it('do not fit a 4 GB phone whose memory the pack would take', () => {
    const fit = variantFits(int8Of(sdTurbo), android, 4);
    expect(fit.fits).toBe(false);
    expect(fit.reason).toMatch(/close other tabs and apps/);
  });
});
