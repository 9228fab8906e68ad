/**
 * The shape-true SD-Turbo and LCM packs (models/realsize: the real graphs,
 * random weights) in their public fp16 export form, at 512x512 on a WebGPU
 * device with 16-bit shaders and Android's 128 MiB binding limit
 * (onnxruntime-node's WebGPU provider on Mesa lavapipe 25), through the
 * engine's Pipeline with the latents kept on the GPU.
 *
 * Width / 8 by default (about 50 MB a pack; the attention score tensors are
 * full size, since the head counts and the 4,096 positions are the real
 * ones). GESSO_GPU_FULL=1 runs the real widths instead (2-3 GB a pack, built
 * on demand; an hour or more on lavapipe).
 *
 * Checked per pack:
 * - measured from the files as the install measures them: the UNet's whole
 *   self-attention scores are over the adapter's binding limit (160 MiB and
 *   256 MiB in fp16), sliced they are under it, and the fit check says the
 *   pack runs on this GPU with attention sliced;
 * - the image: no NaN or Inf at any stage, every fp16 stage's largest
 *   absolute value far below fp16's 65,504, 0 reads per step, and agreement
 *   with the float32 copy on onnxruntime's CPU provider within bounds
 *   measured when this was written (RGB of 255; the log prints this run's):
 *   attention sliced, SD-Turbo max 3, mean 0.24; LCM max 2-3, mean 0.23 at 2
 *   and 4 steps (with attention whole, SD-Turbo max 5, mean 0.58; LCM max 12,
 *   mean 1.05).
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerateResult } from '../../src/engine/pipelines';
import type { GpuInfo } from '../../src/shared/capabilities';
import { slicesAttention, whyVariantDoesNotFit } from '../../src/shared/fit';
import { packAttentionBlocks } from '../../src/shared/onnx/slice-attention';
import type { PackVariant } from '../../src/shared/pack-manifest';
import { buildPack, float32Copy } from '../browser/models/realsize-pack';
import {
  imageDifference,
  loadNodePipeline,
  measureVariant,
  nodeAdapter,
  readPackDir,
  StageProbe,
} from '../helpers/node-webgpu';

const FULL = process.env.GESSO_GPU_FULL === '1';
const WIDTH = FULL ? 'full' : 'reduced';
const MiB = 2 ** 20;
/** fp16's largest finite value, over 16: a stage this close to overflow fails. */
const FP16_HEADROOM = 65504 / 16;
/** Stages computed in fp16 (the sampling step is float32 throughout). */
const FP16_STAGES = ['text encoder', 'image model (UNet)', 'image decoder'];

const PACKS = [
  { pack: 'sd-turbo', steps: 1, maxBound: 12, meanBound: 1 },
  // Two steps keep npm test's time down; both sampling paths run (a noise-drawing step and the last).
  { pack: 'lcm', steps: 2, maxBound: 12, meanBound: 1 },
] as const;

let adapter: GpuInfo;
beforeAll(async () => {
  adapter = await nodeAdapter();
  expect(adapter.shaderF16).toBe(true);
});

describe.each(PACKS)('shape-true $pack ($steps steps) in fp16 at 512x512 on WebGPU', (spec) => {
  let dir: string;
  let variant: PackVariant;
  const probe = new StageProbe('webgpu');
  const request = { prompt: 'a lighthouse on a cliff at dawn', seed: 20241207, steps: spec.steps };

  beforeAll(async () => {
    dir = await buildPack(spec.pack, WIDTH);
    variant = readPackDir(dir).manifest.variants.find((v) => v.default)!;
  });
  afterAll(() => probe.release());

  it('needs attention sliced to stay under the binding limit, and fits this GPU that way', async () => {
    const requires = await measureVariant(dir, variant);
    const measured = { ...variant, requires };
    console.log(
      `${spec.pack}: largest buffer whole ${(requires.maxStorageBufferBindingSize / MiB).toFixed(1)} MiB, sliced ${((requires.slicedBufferSize ?? NaN) / MiB).toFixed(1)} MiB; adapter binds ${adapter.maxStorageBufferBindingSize / MiB} MiB`,
    );
    expect(requires.maxStorageBufferBindingSize).toBeGreaterThan(
      adapter.maxStorageBufferBindingSize,
    );
    expect(requires.slicedBufferSize).toBeLessThanOrEqual(adapter.maxStorageBufferBindingSize);
    expect(slicesAttention(measured, adapter)).toBe(true);
    expect(whyVariantDoesNotFit(measured, 'webgpu', { webgpu: adapter })).toBeNull();
  });

  it('makes the image: finite at every stage, 0 reads per step, close to the fp32 run', async () => {
    const blocks = packAttentionBlocks(readPackDir(dir).manifest);
    const gpu = await loadNodePipeline(dir, {
      backend: 'webgpu',
      latentsOnDevice: true,
      attentionBlocks: blocks,
      probe,
    });
    let onGpu: GenerateResult;
    const started = performance.now();
    try {
      onGpu = await gpu.pipeline.generate({ ...request, preview: false });
    } finally {
      await gpu.pipeline.release();
    }
    const gpuMs = performance.now() - started;

    const cpu = await loadNodePipeline(dir, { backend: 'cpu', filesDir: await float32Copy(dir) });
    const onCpu = await cpu.pipeline.generate({ ...request, preview: false });
    await cpu.pipeline.release();

    const stages = [...probe.stages].map(
      ([label, s]) => `${label}: max |x| ${s.maxAbs.toFixed(2)}, non-finite ${s.nonFinite}`,
    );
    const difference = imageDifference(onGpu.image, onCpu.image);
    console.log(
      `${spec.pack} fp16 on ${adapter.description}, attention in ${blocks} blocks: ${(gpuMs / 1000).toFixed(1)} s; ${stages.join('; ')}; reads per step ${JSON.stringify(onGpu.gpuReadsPerStep)}; against fp32 on the CPU: max ${difference.max}, mean ${difference.mean.toFixed(2)} of 255`,
    );

    expect([onGpu.image.width, onGpu.image.height]).toEqual([512, 512]);
    for (const [label, stage] of probe.stages) {
      expect(stage.nonFinite, label).toBe(0);
      if (FP16_STAGES.includes(label)) expect(stage.maxAbs, label).toBeLessThan(FP16_HEADROOM);
    }
    for (const label of FP16_STAGES)
      expect(probe.stages.get(label)?.ms.length, label).toBeGreaterThan(0);
    expect(onGpu.gpuReadsPerStep).toEqual(new Array(spec.steps).fill(0));
    expect(probe.stages.get('image model (UNet)')?.cpuOutputs).toBe(0);
    expect(difference.max).toBeLessThanOrEqual(spec.maxBound);
    expect(difference.mean).toBeLessThan(spec.meanBound);
  });
});
