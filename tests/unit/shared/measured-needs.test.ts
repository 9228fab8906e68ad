/**
 * measured-needs.ts: the requirements an installed variant gets from its
 * measured models, and what the fit check then says on real devices.
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { GpuInfo } from '../../../src/shared/capabilities';
import { deviceWith, gpuInfo, MiB } from '../../helpers/devices';
import { variantFits, whyVariantDoesNotFit } from '../../../src/shared/fit';
import { componentDimensions } from '../../../src/shared/free-dimensions';
import {
  measuredRequirements,
  measureOf,
  type ModelMeasure,
} from '../../../src/shared/measured-needs';
import { summariseModel } from '../../../src/shared/onnx/inspect';
import type {
  ComponentName,
  PackManifest,
  PackVariant,
  VariantRequirements,
} from '../../../src/shared/pack-manifest';

const declared: VariantRequirements = {
  shaderF16: true,
  maxStorageBufferBindingSize: 200 * MiB,
  maxBufferSize: 200 * MiB,
  memoryBytes: 1000 * MiB,
};
const measure = (over: Partial<ModelMeasure>): ModelMeasure => ({
  component: 'unet',
  weightBytes: 800 * MiB,
  largestWeightBytes: 30 * MiB,
  largestActivationBytes: 100 * MiB,
  largestActivationName: 'scores',
  unknownValues: 0,
  ...over,
});

describe('measured requirements', () => {
  it('replace the declared largest buffer when every value was sized, either way', () => {
    const lower = measuredRequirements(declared, [
      measure({}),
      measure({ component: 'vaeDecoder', largestActivationBytes: 128 * MiB }),
    ]);
    expect(lower.maxStorageBufferBindingSize).toBe(128 * MiB);
    expect(lower.maxBufferSize).toBe(128 * MiB);
    const higher = measuredRequirements(declared, [measure({ largestActivationBytes: 256 * MiB })]);
    expect(higher.maxStorageBufferBindingSize).toBe(256 * MiB);
  });

  it('never go below the declared buffer when some value could not be sized', () => {
    const partial = measuredRequirements(declared, [measure({ unknownValues: 3 })]);
    expect(partial.maxStorageBufferBindingSize).toBe(200 * MiB);
  });

  it('count a weight larger than any activation', () => {
    const weighty = measuredRequirements(declared, [measure({ largestWeightBytes: 150 * MiB })]);
    expect(weighty.maxStorageBufferBindingSize).toBe(150 * MiB);
  });

  it('raise memory to every weight once plus the largest activation, never lower it', () => {
    const many = measuredRequirements(declared, [
      measure({}),
      measure({ component: 'textEncoder', weightBytes: 600 * MiB, largestActivationBytes: 1 }),
    ]);
    expect(many.memoryBytes).toBe((800 + 600 + 100) * MiB);
    expect(measuredRequirements(declared, [measure({ weightBytes: 1 })]).memoryBytes).toBe(
      declared.memoryBytes,
    );
  });

  it('leave the declared figures when nothing was measured', () => {
    expect(measuredRequirements(declared, [])).toBe(declared);
  });
});

const gpu = (over: Partial<GpuInfo>): GpuInfo => gpuInfo({ shaderF16: true, ...over });
const device = deviceWith;

describe('the fit check on measured figures', () => {
  it("the demo pack, measured from its own files, fits a phone's 128 MiB binding", async () => {
    const manifest = JSON.parse(
      readFileSync('public/packs/demo/manifest.json', 'utf8'),
    ) as PackManifest;
    const variant = manifest.variants.find((v) => v.id === 'fp32')!;
    const measures: ModelMeasure[] = [];
    for (const [component, path] of Object.entries(variant.components)) {
      const summary = await summariseModel(
        [readFileSync(`public/packs/demo/${path}`)],
        componentDimensions(manifest, component as ComponentName),
      );
      measures.push(measureOf(component as ComponentName, summary));
    }
    expect(measures.every((m) => m.unknownValues === 0)).toBe(true);
    const requires = measuredRequirements(variant.requires, measures);
    expect(requires.maxStorageBufferBindingSize).toBeLessThan(4 * MiB);
    const phone = device(gpu({ shaderF16: false }));
    expect(whyVariantDoesNotFit({ ...variant, requires }, 'webgpu', phone, 4)).toBeNull();
  });

  // Inputs: the largest values measured (summariseModel) on the shape-true
  // full-size SD-Turbo at 512x512: the fp16 export's UNet self-attention
  // scores (5 heads x 4096 x 4096 x 2 B), and the device's int8 copy with
  // its self-attention in 8 blocks, whose largest value is then the VAE
  // decoder's last upsample (128 MiB; the UNet's largest, a dequantized
  // weight, is 112.5 MiB).
  const whole = measure({ largestActivationBytes: 160 * MiB, largestWeightBytes: 56.3 * MiB });
  const sliced = [
    measure({ largestActivationBytes: 112.5 * MiB }),
    measure({ component: 'vaeDecoder', largestActivationBytes: 128 * MiB }),
  ];
  const fp16 = (requires: VariantRequirements): PackVariant => ({
    id: 'fp16',
    label: 'fp16',
    backends: ['webgpu', 'wasm'],
    components: { textEncoder: 't.onnx', unet: 'u.onnx', vaeDecoder: 'v.onnx' },
    requires,
  });

  it('refuses the whole attention on a phone GPU binding 128 MiB, saying how much it needs', () => {
    const variant = fp16(measuredRequirements(declared, [whole]));
    expect(whyVariantDoesNotFit(variant, 'webgpu', device(gpu({})), 8)).toMatch(
      /binds at most 128 MiB where the pack needs 160 MiB/,
    );
  });

  it('takes the sliced copy on the same GPU, where the declared (widened) figure refused it', () => {
    const copy = fp16({
      ...declared,
      maxStorageBufferBindingSize: 320 * MiB,
      maxBufferSize: 320 * MiB,
    });
    const phone = device(gpu({}));
    expect(whyVariantDoesNotFit(copy, 'webgpu', phone, 8)).toMatch(/binds at most 128 MiB/);
    const measured = fp16(measuredRequirements(copy.requires, sliced));
    expect(whyVariantDoesNotFit(measured, 'webgpu', phone, 8)).toBeNull();
    expect(variantFits(measured, phone, 8)).toEqual({
      fits: true,
      reason: 'Fits: runs on this GPU.',
    });
  });
});

describe('the largest buffer with self-attention sliced', () => {
  it('is kept where slicing makes the largest buffer smaller, never taken from the manifest', () => {
    const withSliced = measuredRequirements({ ...declared, slicedBufferSize: 1 }, [
      measure({ largestActivationBytes: 160 * MiB, slicedActivationBytes: 20 * MiB }),
      measure({ component: 'vaeDecoder', largestActivationBytes: 32 * MiB }),
    ]);
    expect(withSliced.maxStorageBufferBindingSize).toBe(160 * MiB);
    // The VAE's 32 MiB (not sliced) is now the largest.
    expect(withSliced.slicedBufferSize).toBe(32 * MiB);
    const nothingSliced = measuredRequirements({ ...declared, slicedBufferSize: 1 }, [measure({})]);
    expect(nothingSliced.slicedBufferSize).toBeUndefined();
  });

  it('is not claimed where some value could not be sized', () => {
    const partial = measuredRequirements(declared, [
      measure({
        largestActivationBytes: 160 * MiB,
        slicedActivationBytes: 20 * MiB,
        unknownValues: 3,
      }),
    ]);
    expect(partial.slicedBufferSize).toBeUndefined();
  });
});
