/**
 * The demo pack's fp16 variant on a WebGPU device with 16-bit shaders
 * (onnxruntime-node's WebGPU provider on Mesa lavapipe 25: shader-f16,
 * 128 MiB bindings), through the engine's own Pipeline:
 * - it agrees with the fp32 variant on WebAssembly (onnxruntime-web, the
 *   browsers' CPU path) over six seeds; measured when written: largest RGB
 *   difference 3-4 of 255, mean 0.19-0.22;
 * - the GPU-resident loop reads nothing back to the CPU between steps (the
 *   preview pixels and the final image aside), and makes the image the
 *   round-trip loop makes on the same device. Both are deterministic run to
 *   run; they differ only by the step's float32 rounding (the GPU computes
 *   the linear form, the CPU the scheduler's own expression, each within
 *   1e-5 of the other: tests/unit/engine/device-step.test.ts), which the
 *   fp16 UNet's input rounding carries on: measured over seeds 1-4,
 *   identical pixels to 4 of 255 apart, mean 0 to 0.18.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pipeline } from '../../src/engine/pipelines';
import { imageDifference, loadNodePipeline, nodeAdapter, StageProbe } from '../helpers/node-webgpu';

const DEMO = 'public/packs/demo';
const SEEDS = [1, 2, 3, 4, 5, 6];
const request = (seed: number) => ({ prompt: 'red heart', seed, steps: 4, guidance: 4 });

let gpu: Pipeline;
let roundTrip: Pipeline;
let wasm: Pipeline;
const probe = new StageProbe('webgpu');

beforeAll(async () => {
  const adapter = await nodeAdapter();
  console.log(
    `adapter: ${adapter.description}; shader-f16 ${adapter.shaderF16}; binds ${adapter.maxStorageBufferBindingSize / 2 ** 20} MiB`,
  );
  expect(adapter.shaderF16).toBe(true);
  gpu = (
    await loadNodePipeline(DEMO, {
      backend: 'webgpu',
      variantId: 'fp16',
      latentsOnDevice: true,
      probe,
    })
  ).pipeline;
  roundTrip = (await loadNodePipeline(DEMO, { backend: 'webgpu', variantId: 'fp16' })).pipeline;
  wasm = (await loadNodePipeline(DEMO, { backend: 'wasm', variantId: 'fp32' })).pipeline;
});

afterAll(async () => {
  await Promise.all([gpu, roundTrip, wasm].map((p) => p?.release()));
  await probe.release();
});

describe('the demo pack in fp16 on WebGPU', () => {
  it('agrees with the fp32 variant on WebAssembly over six seeds', async () => {
    const rows: string[] = [];
    for (const seed of SEEDS) {
      const [onGpu, onWasm] = [
        await gpu.generate(request(seed)),
        await wasm.generate(request(seed)),
      ];
      const difference = imageDifference(onGpu.image, onWasm.image);
      rows.push(`seed ${seed}: max ${difference.max}, mean ${difference.mean.toFixed(3)}`);
      expect(difference.max).toBeLessThanOrEqual(10);
      expect(difference.mean).toBeLessThan(0.6);
    }
    console.log(`fp16 WebGPU against fp32 wasm, RGB of 255: ${rows.join('; ')}`);
  });

  it('keeps the latents on the GPU: 0 reads per step, previews aside', async () => {
    probe.reset();
    const previews: number[] = [];
    const result = await gpu.generate(request(7), {
      onStep: (step) => previews.push(step.preview ? 1 : 0),
    });
    expect(result.gpuReadsPerStep).toEqual([0, 0, 0, 0]);
    // Independently of the pipeline's own count: what each session handed back on the CPU.
    const cpuOutputs = (label: string) => probe.stages.get(label)?.cpuOutputs ?? 0;
    expect(probe.stages.get('image model (UNet)')?.ms).toHaveLength(4);
    expect(cpuOutputs('image model (UNet)')).toBe(0);
    expect(probe.stages.get('sampling step')?.ms).toHaveLength(4);
    expect(cpuOutputs('sampling step')).toBe(0);
    // The only reads: three previews' pixels and the final image.
    expect(previews).toEqual([1, 1, 1, 1]);
    expect(cpuOutputs('preview decoder')).toBe(3);
    expect(cpuOutputs('image decoder')).toBe(1);
  });

  it('warms up by running every model once, so a first press compiles no shader', async () => {
    const probe = new StageProbe('webgpu');
    const { pipeline } = await loadNodePipeline(DEMO, {
      backend: 'webgpu',
      variantId: 'fp16',
      latentsOnDevice: true,
      probe,
    });
    try {
      await pipeline.warmUp();
      expect([...probe.stages.keys()].sort()).toEqual(
        [
          'image decoder',
          'image model (UNet)',
          'preview decoder',
          'sampling step',
          'text encoder',
        ].sort(),
      );
    } finally {
      await pipeline.release();
      await probe.release();
    }
  });

  it('reads the prediction back where a run needs it on the CPU (regions, Explain)', async () => {
    const conditioning = await gpu.encodePrompt('red heart');
    const dims = gpu.latentDims({});
    const resident = await gpu.generate(request(9));
    const viaCpu = await gpu.generate(request(9), {
      predictor: (input, context) => gpu.predictNoise(input, dims, context, conditioning, 4, null),
    });
    expect(viaCpu.gpuReadsPerStep).toBeNull();
    expect(imageDifference(resident.image, viaCpu.image).max).toBeLessThanOrEqual(6);
  });

  it('makes the image the round-trip loop makes on the same device', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const resident = await gpu.generate(request(seed));
      const stepped = await roundTrip.generate(request(seed));
      expect(stepped.gpuReadsPerStep).toBeNull();
      const difference = imageDifference(resident.image, stepped.image);
      expect(difference.max).toBeLessThanOrEqual(6);
      expect(difference.mean).toBeLessThan(0.3);
    }
  });
});
