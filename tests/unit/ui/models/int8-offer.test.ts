/**
 * When the Models card offers "Make an int8 copy for this device", and the
 * sentence it gives: on the catalog's fp16 SD-Turbo (whose largest buffer
 * is its UNet's self-attention scores at 512x512, 160 MiB).
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { GpuInfo } from '../../../../src/shared/capabilities';
import { deviceWith, gpuInfo, MiB } from '../../../helpers/devices';
import type { PackManifest } from '../../../../src/shared/pack-manifest';
import type { InstalledVersion } from '../../../../src/store/records';
import { int8Offer } from '../../../../src/ui/models/MakeInt8Copy';

const hosted = JSON.parse(readFileSync('models/catalog/sd-turbo.json', 'utf8')) as PackManifest;
const installed: InstalledVersion = {
  version: hosted.version,
  slot: `${hosted.id}@${hosted.version}`,
  variant: hosted.variants[0]!.id,
  manifest: hosted,
  unverified: [],
  bytes: 0,
  installedAt: 0,
};
/** A laptop-like GPU with shader-f16 and 2 GiB buffers, changed by `gpu`; null: none. */
const device = (gpu: Partial<GpuInfo> | null) =>
  deviceWith(
    gpu &&
      gpuInfo({
        shaderF16: true,
        maxBufferSize: 2048 * MiB,
        maxStorageBufferBindingSize: 2048 * MiB,
        ...gpu,
      }),
  );

describe('the int8 copy offer', () => {
  it('is not made where the GPU runs the fp16 pack as it is', () => {
    expect(int8Offer(installed, device({}), 'auto')).toBeNull();
  });

  it('is made where the GPU cannot bind the largest buffer, saying both sizes', () => {
    const offer = int8Offer(installed, device({ maxStorageBufferBindingSize: 128 * MiB }), 'auto');
    expect(offer?.reason).toBe(
      'This GPU binds at most 128 MiB at once and this pack needs 160 MiB; an int8 copy computes its self-attention in blocks, which can bring it under that.',
    );
    expect(offer?.estimateAfter).toBeLessThan(offer!.bytesBefore);
  });

  it('is made without shader-f16, and on WebAssembly, with their own sentences', () => {
    expect(int8Offer(installed, device({ shaderF16: false }), 'auto')?.reason).toMatch(
      /lacks 16-bit float shaders/,
    );
    expect(int8Offer(installed, device(null), 'auto')?.reason).toMatch(
      /float32 copy of its float16 weights/,
    );
  });
});
