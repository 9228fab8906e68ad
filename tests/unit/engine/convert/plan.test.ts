/** The conversion plan, the new variant's manifest entry and the time-left arithmetic: pure. */

import { describe, expect, it } from 'vitest';
import {
  INLINE_MAX_BYTES,
  deviceModelPath,
  deviceVariant,
  planConversion,
} from '../../../../src/engine/convert/plan';
import { ProgressMeter, secondsLeft } from '../../../../src/engine/convert/progress';
import { resolveLocation } from '../../../../src/engine/convert/stored-model';
import type { PackManifest } from '../../../../src/shared/pack-manifest';
import { testManifest } from '../../store/fixtures';

const GB = 1e9;

/** An SD-Turbo-shaped installed manifest: fp16, UNet with external data, shared preview decoder path. */
function realSize(): PackManifest {
  const files = [
    ['tok/vocab.json', 6519],
    ['tok/merges.txt', 65],
    ['text_encoder/model.onnx', 0.68 * GB],
    ['unet/model.onnx', 95e6],
    ['unet/model.onnx_data', 1.62 * GB],
    ['vae_decoder/model.onnx', 99e6],
    ['taesd/vae_decoder/model.onnx', 4.9e6],
    ['taesd/vae_encoder/model.onnx', 4.9e6],
  ].map(([path, size]) => ({ path: path as string, size: size as number, sha256: null }));
  const base = testManifest('big', files) as PackManifest;
  return {
    ...base,
    name: 'Big',
    tokenizer: { ...base.tokenizer, vocab: 'tok/vocab.json', merges: 'tok/merges.txt' },
    variants: [
      {
        id: 'fp16',
        label: 'fp16 weights',
        default: true,
        backends: ['webgpu'],
        requires: {
          shaderF16: true,
          maxStorageBufferBindingSize: 100e6,
          maxBufferSize: 100e6,
          memoryBytes: 2.6 * GB,
        },
        components: {
          textEncoder: 'text_encoder/model.onnx',
          unet: 'unet/model.onnx',
          vaeDecoder: 'vae_decoder/model.onnx',
          previewDecoder: 'taesd/vae_decoder/model.onnx',
        },
      },
    ],
  };
}

describe('planConversion', () => {
  it('one job per model file, with its external data; big ones streamed to graph + data', () => {
    const plan = planConversion(realSize());
    expect(plan.variantId).toBe('fp16-int8-device');
    expect(
      plan.models.map((m) => [m.source, m.external, m.graphPath, m.dataPath, m.inline]),
    ).toEqual([
      [
        'text_encoder/model.onnx',
        [],
        'text_encoder/model.int8-device.onnx',
        'text_encoder/model.int8-device.onnx_data',
        false,
      ],
      [
        'unet/model.onnx',
        ['unet/model.onnx_data'],
        'unet/model.int8-device.onnx',
        'unet/model.int8-device.onnx_data',
        false,
      ],
      [
        'vae_decoder/model.onnx',
        [],
        'vae_decoder/model.int8-device.onnx',
        'vae_decoder/model.int8-device.onnx_data',
        false,
      ],
      [
        'taesd/vae_decoder/model.onnx',
        [],
        'taesd/vae_decoder/model.int8-device.onnx',
        'taesd/vae_decoder/model.int8-device.onnx_data',
        true,
      ],
    ]);
    expect(plan.bytesIn).toBe(0.68 * GB + 95e6 + 1.62 * GB + 99e6 + 4.9e6);
    // The variant's files as the download holds them: the models, the UNet's data, the
    // tokenizer and files no variant uses (the TAESD encoder).
    expect(plan.variantBytes).toBe(plan.bytesIn + 6519 + 65 + 4.9e6);
    expect(4.9e6).toBeLessThanOrEqual(INLINE_MAX_BYTES);
  });

  it('names copies beside their originals', () => {
    expect(deviceModelPath('unet/model.fp16.onnx')).toBe('unet/model.fp16.int8-device.onnx');
    expect(deviceModelPath('model')).toBe('model.int8-device.onnx');
    expect(resolveLocation('unet/model.onnx', 'model.onnx_data')).toBe('unet/model.onnx_data');
    expect(resolveLocation('a/b/m.onnx', '../w.bin')).toBe('a/w.bin');
    expect(resolveLocation('m.onnx', './m.onnx_data')).toBe('m.onnx_data');
  });

  it('refuses a second copy and an unknown variant', () => {
    const m = realSize();
    expect(() => planConversion(m, 'int4')).toThrow(/no installed variant "int4"/);
    const withCopy = {
      ...m,
      variants: [...m.variants, { ...m.variants[0]!, id: 'fp16-int8-device' }],
    };
    expect(() => planConversion(withCopy)).toThrow(/already has an int8 copy/);
  });
});

describe('the new variant', () => {
  it('is the default, runs on wasm and without shader-f16, and needs less memory', () => {
    const plan = planConversion(realSize());
    const outcomes = plan.models.map((job, i) => ({
      job,
      // The preview decoder had nothing to quantize: the original file is used.
      path: i === 3 ? job.source : job.graphPath,
      bytesOut: i === 3 ? 0 : Math.round(job.bytesIn / 2),
    }));
    const v = deviceVariant(plan, outcomes);
    expect(v).toMatchObject({
      id: 'fp16-int8-device',
      default: true,
      backends: ['webgpu', 'wasm'],
      components: {
        textEncoder: 'text_encoder/model.int8-device.onnx',
        unet: 'unet/model.int8-device.onnx',
        vaeDecoder: 'vae_decoder/model.int8-device.onnx',
        previewDecoder: 'taesd/vae_decoder/model.onnx',
      },
    });
    // The copy computes in float32.
    expect(v.requires.shaderF16).toBe(false);
    // Its dequantized weights and activations are float32: twice the float16 source's largest buffer.
    expect(v.requires.maxBufferSize).toBe(200e6);
    const saved = (0.68 * GB + 95e6 + 1.62 * GB + 99e6) / 2;
    expect(v.requires.memoryBytes).toBeCloseTo(2.6 * GB - saved, -3);
  });
});

describe('progress', () => {
  it('time left from the average rate, after the first second', () => {
    expect(secondsLeft(0, 100, 5)).toBeNull();
    expect(secondsLeft(10, 100, 0.5)).toBeNull();
    expect(secondsLeft(25, 100, 2)).toBe(6);
    expect(secondsLeft(100, 100, 2)).toBe(0);
  });

  it('reports at most every interval, always when forced, never backwards', () => {
    let t = 0;
    const sent: number[] = [];
    const meter = new ProgressMeter(
      1000,
      (p) => sent.push(p.bytesDone),
      () => t,
      100,
    );
    meter.update(0, 'a', true);
    t = 50;
    meter.update(10, 'a');
    t = 150;
    meter.update(20, 'a');
    meter.update(5, 'a', true);
    expect(sent).toEqual([0, 20, 20]);
  });
});
