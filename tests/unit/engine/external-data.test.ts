import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createOrtSession, type OrtApi } from '../../../src/engine/ort-session';
import { externalDataPaths, readExternalData } from '../../../src/engine/pipelines/external-data';
import { BY_REFERENCE_MIN_FILE_BYTES, readModel } from '../../../src/engine/pipelines/open-model';
import type { ExternalData } from '../../../src/engine/session';
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

  it("gives a LoRA variant's graph its own changed weights and the pack's untouched ones", () => {
    const manifest = files(
      'unet/model.onnx',
      'unet/model.onnx_data',
      'unet/lora-3f9a.onnx',
      'unet/lora-3f9a.onnx_data',
    );
    expect(externalDataPaths(manifest, 'unet/lora-3f9a.onnx')).toEqual([
      'unet/model.onnx_data',
      'unet/lora-3f9a.onnx_data',
    ]);
    expect(externalDataPaths(manifest, 'unet/model.onnx')).toEqual(['unet/model.onnx_data']);
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

const DEMO = resolve(__dirname, '../../../public/packs/demo');
const UNET = 'unet/model.fp32.onnx';

/** The demo pack with its fp32 UNet's recorded size set to `size`, leaving the file on "disk" (a Uint8Array) when asked. */
function fixtureSource(size: number, onDisk: boolean) {
  const manifest = JSON.parse(readFileSync(resolve(DEMO, 'manifest.json'), 'utf8')) as PackManifest;
  const calls: string[] = [];
  const file = (path: string) => new Uint8Array(readFileSync(resolve(DEMO, path)));
  const source: PackSource = {
    manifest: {
      ...manifest,
      files: manifest.files.map((f) => (f.path === UNET ? { ...f, size } : f)),
    },
    read: async (path) => {
      calls.push(`read ${path}`);
      return file(path);
    },
    ...(onDisk
      ? {
          readOnDisk: async (path: string) => {
            calls.push(`on disk ${path}`);
            return file(path);
          },
        }
      : {}),
  };
  return { source, calls };
}

async function runUnet(bytes: Uint8Array, externalData?: ExternalData[]): Promise<number[]> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const session = await createOrtSession(ort as unknown as OrtApi, bytes, 'UNet', {
    backend: 'wasm',
    ...(externalData ? { externalData } : {}),
  });
  const wave = (n: number, phase: number) =>
    Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + phase));
  const out = await session.run({
    sample: { type: 'float32', dims: [1, 4, 8, 8], data: wave(256, 1) },
    timestep: { type: 'int64', dims: [1], data: BigInt64Array.from([999n]) },
    encoder_hidden_states: { type: 'float32', dims: [1, 16, 128], data: wave(16 * 128, 2) },
    timestep_cond: { type: 'float32', dims: [1, 256], data: wave(256, 3) },
  });
  await session.release();
  return Array.from((out.out_sample as { data: Float32Array }).data);
}

describe('readModel: large models by reference', () => {
  it('hands a large model on disk over as its graph plus the file as external data, computing the same', async () => {
    const { source, calls } = fixtureSource(BY_REFERENCE_MIN_FILE_BYTES, true);
    const [graph, externalData] = await readModel(source, UNET);
    expect(calls).toEqual([`on disk ${UNET}`]);
    const whole = new Uint8Array(readFileSync(resolve(DEMO, UNET)));
    expect(graph.byteLength).toBeLessThan(whole.byteLength / 2);
    expect(externalData).toHaveLength(1);
    expect(externalData![0]!.path).toBe('model.fp32.onnx');
    expect(Buffer.compare(externalData![0]!.data, whole)).toBe(0);
    const [byReference, inline] = [await runUnet(graph, externalData), await runUnet(whole)];
    expect(byReference.length).toBe(256);
    expect(byReference).toEqual(inline);
  });

  it('reads small models, and any model a source cannot leave on disk, whole', async () => {
    const whole = new Uint8Array(readFileSync(resolve(DEMO, UNET)));
    const small = fixtureSource(BY_REFERENCE_MIN_FILE_BYTES - 1, true);
    const fetched = fixtureSource(BY_REFERENCE_MIN_FILE_BYTES, false);
    for (const { source, calls } of [small, fetched]) {
      const [bytes, externalData] = await readModel(source, UNET);
      expect(Buffer.compare(bytes, whole)).toBe(0);
      expect(externalData).toBeUndefined();
      expect(calls).toEqual([`read ${UNET}`]);
    }
  });
});
