/**
 * `npm run bench -- --gpu [--json] [--width reduced|full] [--packs sd-turbo,lcm,demo]`:
 * the GPU path headless in Node, on onnxruntime-node's WebGPU provider (the
 * C++ provider onnxruntime-web/webgpu runs in browsers) through the engine's
 * own Pipeline (tests/helpers/node-webgpu.ts). On this project's machines the
 * adapter is Mesa's lavapipe (GPU kernels on two CPU cores): its times are
 * relative only; correctness, reads and limits carry over to real GPUs. On
 * any other Dawn adapter (NVIDIA through Vulkan: scripts/gpu-run.sh) it runs
 * unchanged.
 *
 * Per pack, at the pack's own size (512x512 for the shape-true packs, in
 * their public fp16 export form, attention sliced where the adapter cannot
 * bind the whole score tensor, as the app decides):
 * - per stage, first run (shader compilation included) against warm: text
 *   encoder, UNet step, VAE decoder, TAESD preview decoder, scheduler step
 *   (the step graph); each stage timed with its output read back, so the
 *   GPU has finished it;
 * - whole images, first and warm: the GPU-resident loop (0 reads per step)
 *   against the round-trip loop (the noise prediction read back every step);
 * - sliced against whole attention, warm;
 * - the image's largest RGB difference from the fp32 copy on onnxruntime's
 *   CPU provider, and NaN/Inf at any stage.
 * With --json the last line is one JSON object (see README, "The GPU path").
 */

import { stepCoefficients, stepGraph, STEP } from '../../src/engine/pipelines/device-step';
import { createScheduler } from '../../src/engine/schedulers';
import { floatTensor } from '../../src/engine/tensors';
import { slicesAttention } from '../../src/shared/fit';
import { packAttentionBlocks } from '../../src/shared/onnx/slice-attention';
import { buildPack, float32Copy } from '../browser/models/realsize-pack';
import {
  imageDifference,
  loadNodePipeline,
  measureVariant,
  nodeAdapter,
  nodeSessionFactory,
  readPackDir,
  StageProbe,
} from '../helpers/node-webgpu';
import { fmt, table } from './stats.mjs';

interface PackSpec {
  steps: number;
  /** A folder in the repository; otherwise built by models/realsize/build.py. */
  dir?: string;
  variantId?: string;
}

const SPECS: Record<string, PackSpec> = {
  'sd-turbo': { steps: 1 },
  lcm: { steps: 4 },
  demo: { steps: 4, dir: 'public/packs/demo', variantId: 'fp16' },
};

export interface GpuBenchOptions {
  json: boolean;
  width: 'reduced' | 'full';
  packs: string[];
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Wall time of `work` in ms, and its value. */
async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const value = await work();
  return [performance.now() - start, value];
}

export async function benchGpu({ json, width, packs }: GpuBenchOptions) {
  const adapter = await nodeAdapter();
  console.log(
    `WebGPU adapter (Dawn, through onnxruntime-node's provider): ${adapter.description}; shader-f16 ${adapter.shaderF16}; largest binding ${adapter.maxStorageBufferBindingSize / 2 ** 20} MiB, largest buffer ${adapter.maxBufferSize / 2 ** 20} MiB`,
  );
  const results = [];
  for (const id of packs) {
    const spec = SPECS[id];
    if (!spec) throw new Error(`Unknown pack "${id}": one of ${Object.keys(SPECS).join(', ')}`);
    const dir = spec.dir ?? (await buildPack(id as 'sd-turbo' | 'lcm', width));
    const manifest = readPackDir(dir).manifest;
    const variant =
      manifest.variants.find((v) => v.id === spec.variantId) ??
      manifest.variants.find((v) => v.default) ??
      manifest.variants[0]!;
    const requires = await measureVariant(dir, variant);
    const sliced = slicesAttention({ ...variant, requires }, adapter);
    const blocks = sliced ? packAttentionBlocks(manifest) : 1;
    const request = {
      prompt: 'a lighthouse on a cliff at dawn',
      seed: 42,
      steps: spec.steps,
      preview: false,
    };
    const base = { backend: 'webgpu' as const, variantId: variant.id };
    console.log(
      `\n${manifest.name} (${variant.id}), ${manifest.image.width}x${manifest.image.height}, ${spec.steps} step(s); largest buffer ${(requires.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB whole, ${requires.slicedBufferSize ? `${(requires.slicedBufferSize / 2 ** 20).toFixed(0)} MiB` : '-'} sliced: attention ${sliced ? `in ${blocks} blocks` : 'whole'}`,
    );

    // Whole images, GPU-resident loop: first (compiles) and warm.
    let device = (
      await loadNodePipeline(dir, {
        ...base,
        latentsOnDevice: true,
        attentionBlocks: blocks,
      })
    ).pipeline;
    const [firstRunMs] = await timed(() => device.generate(request));
    const [warmRunMs, resident] = await timed(() => device.generate(request));
    await device.release();

    // Per stage, round-trip loop (every stage's output read back: the GPU has finished it).
    const probe = new StageProbe('webgpu');
    const roundTrip = (await loadNodePipeline(dir, { ...base, attentionBlocks: blocks, probe }))
      .pipeline;
    const stagesOf = () =>
      Object.fromEntries(
        [...probe.stages].map(([label, s]) => [
          label,
          s.ms.reduce((a, b) => a + b, 0) / s.ms.length,
        ]),
      );
    const [roundTripFirstMs] = await timed(() => roundTrip.generate(request));
    const first = stagesOf();
    let nanOrInf = [...probe.stages.values()].reduce((n, s) => n + s.nonFinite, 0);
    probe.reset();
    roundTrip.clearPromptCache(); // the text encoder runs again, warm
    const [roundTripWarmMs, stepped] = await timed(() => roundTrip.generate(request));
    const warm = stagesOf();
    nanOrInf += [...probe.stages.values()].reduce((n, s) => n + s.nonFinite, 0);
    // TAESD on the final latents' shape, first and warm.
    const dims = roundTrip.latentDims({});
    const latents = new Float32Array(dims.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i));
    const taesd = roundTrip.hasPreview
      ? [
          await timed(() => roundTrip.decode(latents, dims, 'preview')),
          await timed(() => roundTrip.decode(latents, dims, 'preview')),
        ].map(([ms]) => ms)
      : [NaN, NaN];
    await roundTrip.release();
    await probe.release();

    // The scheduler step alone (the step graph, its outputs read back).
    const step = await nodeSessionFactory('webgpu')(
      await stepGraph(
        { eps: 'float32', unetInput: 'float32', finalInput: 'float32', previewInput: 'float32' },
        false,
      ),
      'sampling step',
    );
    const scheduler = createScheduler(
      { ...manifest.scheduler, kind: manifest.scheduler.kind },
      { steps: spec.steps },
    );
    const feeds = {
      [STEP.latents]: floatTensor('float32', dims, latents),
      [STEP.eps]: floatTensor('float32', dims, latents),
      [STEP.noise]: floatTensor('float32', dims, latents),
      [STEP.coefficients]: floatTensor(
        'float32',
        [9],
        stepCoefficients(scheduler.linear(0), {
          nextInputScale: 1,
          finalScale: 1,
          previewScale: 1,
          guidance: 1,
        }),
      ),
    };
    const stepMs = [
      (await timed(() => step.run(feeds)))[0],
      (await timed(() => step.run(feeds)))[0],
    ];
    await step.release();

    // Attention whole, where the app slices it: warm only (a first run compiles).
    let wholeWarmMs = NaN;
    if (sliced) {
      device = (await loadNodePipeline(dir, { ...base, latentsOnDevice: true })).pipeline;
      try {
        await device.generate(request);
        [wholeWarmMs] = await timed(() => device.generate(request));
      } catch (error) {
        console.log(
          `  attention whole: fails: ${error instanceof Error ? error.message : String(error)}`,
        );
      } finally {
        await device.release();
      }
    }

    // The fp32 reference on the CPU provider.
    const fp32Dir = spec.dir ? dir : await float32Copy(dir);
    const cpu = (
      await loadNodePipeline(dir, {
        backend: 'cpu',
        ...(spec.dir ? { variantId: 'fp32' } : { filesDir: fp32Dir }),
      })
    ).pipeline;
    const reference = await cpu.generate(request);
    await cpu.release();
    const difference = imageDifference(resident.image, reference.image);
    const residentVsStepped = imageDifference(resident.image, stepped.image);

    const stage = (label: string) => [fmt(first[label]), fmt(warm[label])];
    console.log(
      table(
        ['stage (ms)', 'first run', 'warm'],
        [
          ['text encoder', ...stage('text encoder')],
          ['UNet step', ...stage('image model (UNet)')],
          ['VAE decoder', ...stage('image decoder')],
          ['TAESD decoder', fmt(taesd[0]), fmt(taesd[1])],
          ['scheduler step (graph)', fmt(stepMs[0]), fmt(stepMs[1])],
        ],
      ),
    );
    console.log(
      table(
        ['whole image', 'first run', 'warm', 'GPU reads per step'],
        [
          [
            'GPU-resident loop',
            seconds(firstRunMs),
            seconds(warmRunMs),
            JSON.stringify(resident.gpuReadsPerStep),
          ],
          [
            'round-trip loop',
            seconds(roundTripFirstMs),
            seconds(roundTripWarmMs),
            `${spec.steps > 0 ? 1 : 0} (the noise prediction)`,
          ],
          ...(sliced
            ? [
                [
                  'attention whole (resident)',
                  '-',
                  Number.isFinite(wholeWarmMs) ? seconds(wholeWarmMs) : 'fails',
                  '0',
                ],
              ]
            : []),
        ],
      ),
    );
    console.log(
      `  image against fp32 on the CPU: max ${difference.max}, mean ${difference.mean.toFixed(2)} of 255; resident against round-trip: max ${residentVsStepped.max}; NaN/Inf at any stage: ${nanOrInf}`,
    );
    results.push({
      id: manifest.id,
      dtype: variant.id.includes('fp16') ? 'fp16' : variant.id,
      size: manifest.image.width,
      image: resident.image.width === manifest.image.width,
      nanOrInf,
      readsPerStep: Math.max(...(resident.gpuReadsPerStep ?? [NaN])),
      attention: sliced ? `sliced x${blocks}` : 'whole',
      unetStepMs: Math.round(warm['image model (UNet)'] ?? NaN),
      vaeMs: Math.round(warm['image decoder'] ?? NaN),
      firstRunMs: Math.round(firstRunMs),
      warmRunMs: Math.round(warmRunMs),
      roundTripWarmMs: Math.round(roundTripWarmMs),
      wholeAttentionWarmMs: Number.isFinite(wholeWarmMs) ? Math.round(wholeWarmMs) : null,
      maxAbsDiffVsFp32: difference.max,
    });
  }
  const summary = {
    adapter: adapter.description,
    shaderF16: adapter.shaderF16,
    maxBindingMiB: adapter.maxStorageBufferBindingSize / 2 ** 20,
    packs: results,
  };
  if (json) console.log(JSON.stringify(summary));
  return summary;
}
