/**
 * The on-device flow in Node over the in-memory KV: the demo pack's fp32
 * variant, installed as a download leaves it, converted by the engine's
 * modules, gives byte for byte the shipped int8 files (models/quantize.py's
 * output), so the same images, colour score and PSNR as the shipped int8
 * variant. The fp16 variant gives quantize.py's tensors; a model written
 * with external data loads and draws the same image.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { convertVariant } from '../../../../src/engine/convert/convert-variant';
import type { ConversionProgress } from '../../../../src/engine/convert/progress';
import { createOrtSession, type OrtApi } from '../../../../src/engine/ort-session';
import { Pipeline } from '../../../../src/engine/pipelines';
import type { SessionFactory } from '../../../../src/engine/session';
import { chooseVariant } from '../../../../src/shared/fit';
import type { PackSource } from '../../../../src/shared/pack-source';
import { MemoryKV } from '../../../../src/store/kv';
import { openStoredPack } from '../../../../src/store/pack-reader';
import type { PackRecord } from '../../../../src/store/records';
import { kvPackTransaction } from '../../../../src/store/variant-writer';
import { digest } from '../../shared/onnx/helpers';
import { DEMO, LCM, ROOT, installDir, readManifest, storedPaths, verifyInstalled } from './install';

const SLOW = { timeout: 180_000 };
const present = existsSync(join(DEMO, 'manifest.json'));

const factory: SessionFactory = (bytes, label, hints) =>
  createOrtSession(ortNode as unknown as OrtApi, bytes, label, {
    backend: 'cpu',
    externalData: hints?.externalData,
  });

function diskSource(dir: string): PackSource {
  return {
    manifest: readManifest(dir),
    read: async (path) => new Uint8Array(readFileSync(resolve(dir, path))),
  };
}

async function images(source: PackSource, variantId: string, requests: object[]) {
  const variant = source.manifest.variants.find((v) => v.id === variantId)!;
  const pipeline = await Pipeline.load(source, { factory, variant });
  try {
    const out: Uint8ClampedArray[] = [];
    for (const r of requests)
      out.push(
        (
          await pipeline.generate({
            preview: false,
            ...(r as { prompt: string; steps: number; seed: number }),
          })
        ).image.data,
      );
    return out;
  } finally {
    await pipeline.release();
  }
}

describe.skipIf(!present)('an int8 copy of the demo pack made on the device', () => {
  it('equals the shipped int8 files byte for byte, and draws the same images', SLOW, async () => {
    const kv = new MemoryKV();
    const demo = readManifest(DEMO);
    await installDir(kv, DEMO, 'fp32', 64 * 1024);
    const progress: ConversionProgress[] = [];
    const result = await convertVariant(
      { packId: demo.id },
      { kv, transact: kvPackTransaction(kv), onProgress: (p) => progress.push(p) },
    );
    const installed = (await kv.get<PackRecord>('packs', demo.id))!.installed!;
    const copy = installed.manifest.variants[0]!;
    expect(result.variantId).toBe('fp32-int8-device');
    expect(copy).toMatchObject({ id: 'fp32-int8-device', default: true });
    const shipped = demo.variants.find((v) => v.id === 'int8')!;
    const sizeOf = (m: { files: { path: string; size: number }[] }, p: string) =>
      m.files.find((f) => f.path === p)!.size;
    for (const [component, path] of Object.entries(copy.components)) {
      const want = shipped.components[component as keyof typeof shipped.components]!;
      const file = installed.manifest.files.find((f) => f.path === path)!;
      expect(path).toBe(want.replace('model.int8.onnx', 'model.fp32.int8-device.onnx'));
      // Weights inline, as quantize.py writes them: the same file, hence the same hash.
      expect(file.sha256, path).toBe(demo.files.find((f) => f.path === want)!.sha256);
      expect(file.size).toBe(sizeOf(demo, want));
    }
    const int8Bytes = [...new Set(Object.values(shipped.components))].reduce(
      (n, p) => n + sizeOf(demo, p),
      0,
    );
    const tokenizer = sizeOf(demo, demo.tokenizer.vocab) + sizeOf(demo, demo.tokenizer.merges);
    expect(result.bytesAfter).toBe(int8Bytes + tokenizer);
    expect(result.bytesBefore).toBe(
      installed.manifest.files.reduce((n, f) => n + f.size, 0) - int8Bytes,
    );
    console.log(
      `demo pack fp32 -> int8 on the device: ${result.bytesBefore} -> ${result.bytesAfter} bytes in ${result.ms.toFixed(0)} ms (Node, in-memory KV)`,
    );
    // Progress in bytes read, never backwards, ending at the total.
    const total = progress[0]!.bytesTotal;
    expect(progress.at(-1)).toMatchObject({ bytesDone: total, path: null, secondsLeft: 0 });
    for (let i = 1; i < progress.length; i++)
      expect(progress[i]!.bytesDone).toBeGreaterThanOrEqual(progress[i - 1]!.bytesDone);
    await verifyInstalled(kv, demo.id);
    expect(chooseVariant(installed.manifest, 'wasm', {}).id).toBe('fp32-int8-device');

    // Same bytes, same images: the copy read from the store against the shipped int8 from disk.
    const requests = [1, 2, 4].map((steps, i) => ({
      prompt: ['red heart', 'blue circle', 'cat face'][i]!,
      steps,
      guidance: 4,
      seed: 11 + i,
    }));
    const mine = await images(await openStoredPack(demo.id, kv), 'fp32-int8-device', requests);
    const theirs = await images(diskSource(DEMO), 'int8', requests);
    for (let i = 0; i < requests.length; i++)
      expect(Buffer.from(mine[i]!)).toEqual(Buffer.from(theirs[i]!));
  });

  it(
    "the fp16 variant's copy holds quantize.py's tensors and graph, computes in float32, and draws as the fp32 variant's copy",
    SLOW,
    async () => {
      const kv = new MemoryKV();
      const demo = readManifest(DEMO);
      await installDir(kv, DEMO, 'fp16');
      await convertVariant({ packId: demo.id }, { kv, transact: kvPackTransaction(kv) });
      const expected = JSON.parse(
        readFileSync(join(ROOT, 'tests/fixtures/onnx/quantize_py_expected.json'), 'utf8'),
      ) as Record<string, object>;
      const source = await openStoredPack(demo.id, kv);
      const copy = source.manifest.variants[0]!;
      expect(copy.id).toBe('fp16-int8-device');
      // int8 weights and float32 compute: WebAssembly, and WebGPU without shader-f16.
      expect(copy.backends).toEqual(['webgpu', 'wasm']);
      expect(copy.requires.shaderF16).toBe(false);
      for (const [component, path] of Object.entries(copy.components)) {
        const original = demo.variants.find((v) => v.id === 'fp16')!.components[
          component as 'unet'
        ]!;
        const got = await digest(await source.read(path), null);
        const want = expected[`public/packs/demo/${original}`]!;
        expect(got, path).toEqual({ ...want, quantized: undefined, attentionBlocks: undefined });
      }
      // Float32 throughout: measured as the fp32 variant's copy is (same activations, same int8
      // weights' sizes), and it draws what that copy draws but for its float16-rounded weights.
      const kv32 = new MemoryKV();
      await installDir(kv32, DEMO, 'fp32');
      await convertVariant({ packId: demo.id }, { kv: kv32, transact: kvPackTransaction(kv32) });
      const source32 = await openStoredPack(demo.id, kv32);
      const copy32 = source32.manifest.variants[0]!;
      for (const key of ['maxStorageBufferBindingSize', 'maxBufferSize'] as const)
        expect(copy.requires[key], key).toBe(copy32.requires[key]);
      const request = [{ prompt: 'red heart', steps: 2, guidance: 4, seed: 3 }];
      const [mine] = await images(source, 'fp16-int8-device', request);
      const [theirs] = await images(source32, 'fp32-int8-device', request);
      let worst = 0;
      let sum = 0;
      for (let i = 0; i < mine!.length; i++) {
        const d = Math.abs(mine![i]! - theirs![i]!);
        worst = Math.max(worst, d);
        sum += d;
      }
      console.log(
        `demo fp16 copy against fp32 copy, RGBA of 255: max ${worst}, mean ${(sum / mine!.length).toFixed(3)}`,
      );
      // Measured max 6, mean 0.39.
      expect(worst).toBeLessThanOrEqual(16);
      expect(sum / mine!.length).toBeLessThan(2);
    },
  );
});

describe('external data', () => {
  it(
    'a copy written as graph + external data loads and draws as the inline one does',
    SLOW,
    async () => {
      const outputs: Uint8ClampedArray[][] = [];
      const layouts: string[][] = [];
      for (const inlineMaxBytes of [Infinity, 0]) {
        const kv = new MemoryKV();
        const lcm = readManifest(LCM);
        // The fixture's "external" variant keeps its UNet weights in unet/model.external.onnx_data.
        const pack = await installDir(kv, LCM, 'external', 4096);
        await convertVariant(
          { packId: lcm.id },
          { kv, transact: kvPackTransaction(kv), inlineMaxBytes, chunkSize: 4096 },
        );
        await verifyInstalled(kv, lcm.id);
        layouts.push(
          (await storedPaths(kv, pack.installed!.slot)).filter((p) => p.includes('int8-device')),
        );
        const source = await openStoredPack(lcm.id, kv);
        outputs.push(
          await images(source, 'external-int8-device', [{ prompt: 'cat', steps: 2, seed: 5 }]),
        );
      }
      // Inline: quantized weights inline; tensors kept as they are stay external (the converter
      // never pulls external data into a graph). External: every tensor of 1 KB or more in data.
      expect(layouts).toEqual([
        [
          'text_encoder/model.int8-device.onnx',
          'unet/model.external.int8-device.onnx',
          'unet/model.external.int8-device.onnx_data',
        ],
        [
          'text_encoder/model.int8-device.onnx',
          'text_encoder/model.int8-device.onnx_data',
          'unet/model.external.int8-device.onnx',
          'unet/model.external.int8-device.onnx_data',
        ],
      ]);
      // Inline small models have their weights folded at load, external ones not: float32
      // rounding differs by a hair, never by a visible amount.
      const [a, b] = [outputs[0]![0]!, outputs[1]![0]!];
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      expect(worst).toBeLessThanOrEqual(1);
    },
  );
});
