import { describe, expect, it } from 'vitest';
import { externalDataPaths, readExternalData } from '../../../src/engine/pipelines/external-data';
import type { PackSource } from '../../../src/shared/pack-source';
import type { PackManifest } from '../../../src/shared/pack-manifest';

const files = (...paths: string[]) => ({
  files: paths.map((path) => ({ path, size: 1, sha256: null })),
});

describe('ONNX external data', () => {
  it('finds the weights file beside a model, by the exporters’ naming', () => {
    const manifest = files('unet/model.onnx', 'unet/model.onnx_data', 'text_encoder/model.onnx');
    expect(externalDataPaths(manifest, 'unet/model.onnx')).toEqual(['unet/model.onnx_data']);
    expect(externalDataPaths(manifest, 'text_encoder/model.onnx')).toEqual([]);
    expect(externalDataPaths(files('a/m.onnx', 'a/m.onnx.data'), 'a/m.onnx')).toEqual([
      'a/m.onnx.data',
    ]);
    // Another model's data in the same folder is not this model's.
    expect(externalDataPaths(files('a/m.onnx', 'a/n.onnx_data'), 'a/m.onnx')).toEqual([]);
  });

  it('hands the data over under the name the model refers to', async () => {
    const manifest = files('unet/model.onnx', 'unet/model.onnx_data') as unknown as PackManifest;
    const read: string[] = [];
    const source: PackSource = {
      manifest,
      read: async (path) => {
        read.push(path);
        return new Uint8Array([7]);
      },
    };
    expect(await readExternalData(source, 'unet/model.onnx')).toEqual([
      { path: 'model.onnx_data', data: new Uint8Array([7]) },
    ]);
    expect(read).toEqual(['unet/model.onnx_data']);
    expect(await readExternalData(source, 'unet/other.onnx')).toBeUndefined();
  });
});
