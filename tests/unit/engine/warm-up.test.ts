import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { modelBytes } from '../../../src/engine/pipelines/external-data';
import { warmsUp } from '../../../src/engine/warm-up';
import type { PackManifest } from '../../../src/shared/pack-manifest';

const demo = JSON.parse(readFileSync('public/packs/demo/manifest.json', 'utf8')) as PackManifest;

describe('the throwaway image after a load', () => {
  it('runs on WebGPU always, and on WebAssembly only for a UNet as small as the demo pack’s', () => {
    const unet = modelBytes(demo, demo.variants[0]!.components.unet);
    expect(unet).toBeGreaterThan(0);
    expect(warmsUp('wasm', unet)).toBe(true);
    // A real SD UNet in int8 (about 860 MB): a step takes tens of seconds on the processor.
    expect(warmsUp('wasm', 860e6)).toBe(false);
    expect(warmsUp('webgpu', 860e6)).toBe(true);
  });

  it('counts a model’s external data with it', () => {
    const manifest = {
      ...demo,
      files: [
        { path: 'unet/model.onnx', size: 1000, sha256: null },
        { path: 'unet/model.onnx_data', size: 5000, sha256: null },
      ],
    } as unknown as PackManifest;
    expect(modelBytes(manifest, 'unet/model.onnx')).toBe(6000);
  });
});
