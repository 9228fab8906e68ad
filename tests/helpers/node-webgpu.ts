/**
 * The engine's pipelines headless in Node, on onnxruntime-node's WebGPU
 * provider (the same C++ provider onnxruntime-web/webgpu runs in the
 * browser) or its CPU provider, through the ModelSession interface the
 * worker uses. On this project's machines the WebGPU adapter is Mesa's
 * lavapipe 25 (scripts/setup-test-bed.sh): shader-f16, and Android's
 * 128 MiB storage-binding limit.
 *
 * A StageProbe watches every session: run times, the largest absolute value
 * and the non-finite values of every output (GPU outputs too, through a
 * read-back of its own that the pipeline never sees), and how many outputs
 * came back to the CPU.
 */

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { create } from 'webgpu';
import { describeAdapter } from '../../src/engine/detect';
import { createOrtSession, type OrtApi } from '../../src/engine/ort-session';
import { Pipeline } from '../../src/engine/pipelines';
import { readBackGraph } from '../../src/engine/pipelines/device-step';
import {
  isDeviceTensor,
  type DeviceTensor,
  type ModelSession,
  type SessionFactory,
  type Value,
} from '../../src/engine/session';
import { toFloat32, type CpuTensor } from '../../src/engine/tensors';
import type { GpuInfo } from '../../src/shared/capabilities';
import { componentDimensions } from '../../src/shared/free-dimensions';
import {
  measuredRequirements,
  measureOf,
  type ModelMeasure,
} from '../../src/shared/measured-needs';
import { summariseModel } from '../../src/shared/onnx/inspect';
import { packAttentionBlocks } from '../../src/shared/onnx/slice-attention';
import type {
  ComponentName,
  PackManifest,
  PackVariant,
  VariantRequirements,
} from '../../src/shared/pack-manifest';
import type { PackSource } from '../../src/shared/pack-source';

/**
 * The WebGPU adapter this machine offers native code, as the engine
 * describes one (detect.ts), read through Dawn's Node bindings (the `webgpu`
 * package): the same Vulkan device onnxruntime-node's WebGPU provider picks.
 */
export async function nodeAdapter(): Promise<GpuInfo> {
  const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter)
    throw new Error(
      'No WebGPU adapter in Node: run scripts/setup-test-bed.sh (Mesa lavapipe 25 from bookworm-backports).',
    );
  return describeAdapter(adapter as unknown as GPUAdapter);
}

/** onnxruntime-node's WebGPU or CPU provider, or onnxruntime-web's WebAssembly build (the browsers' CPU path, 1 thread). */
export type NodeBackend = 'webgpu' | 'cpu' | 'wasm';

async function runtime(backend: NodeBackend): Promise<OrtApi> {
  if (backend !== 'wasm') return ortNode as unknown as OrtApi;
  const web = await import('onnxruntime-web');
  web.env.wasm.numThreads = 1;
  return web as unknown as OrtApi;
}

export interface StageRecord {
  /** Milliseconds of each run, in order (the first includes shader compilation on WebGPU). */
  ms: number[];
  /** Largest absolute finite value of any output of any run. */
  maxAbs: number;
  /** NaN and infinite values seen in the outputs. */
  nonFinite: number;
  /** Outputs that came back on the CPU: reads from the GPU, where the session runs there. */
  cpuOutputs: number;
}

/** What every session of one pipeline did, by its label ("image model (UNet)", "sampling step", ...). */
export class StageProbe {
  readonly stages = new Map<string, StageRecord>();
  private reader: Promise<Map<string, ModelSession>> | null = null;

  constructor(private readonly backend: NodeBackend) {}

  stage(label: string): StageRecord {
    let record = this.stages.get(label);
    if (!record) {
      record = { ms: [], maxAbs: 0, nonFinite: 0, cpuOutputs: 0 };
      this.stages.set(label, record);
    }
    return record;
  }

  /** Clears the records (keeps the sessions), e.g. between a first and a warm run. */
  reset(): void {
    this.stages.clear();
  }

  /** A GPU tensor's values for inspection, by a read-back session of the probe's own. */
  private async inspect(value: DeviceTensor): Promise<CpuTensor> {
    this.reader ??= Promise.resolve(new Map());
    const readers = await this.reader;
    let session = readers.get(value.type);
    if (!session) {
      session = await createOrtSession(
        await runtime(this.backend),
        await readBackGraph(value.type),
        'probe',
        {
          backend: this.backend,
        },
      );
      readers.set(value.type, session);
    }
    return (await session.run({ value }))['copy'] as CpuTensor;
  }

  async record(label: string, ms: number, outputs: Record<string, Value>): Promise<void> {
    const record = this.stage(label);
    record.ms.push(ms);
    for (const value of Object.values(outputs)) {
      if (!isDeviceTensor(value)) record.cpuOutputs++;
      const values = toFloat32(isDeviceTensor(value) ? await this.inspect(value) : value);
      for (const v of values) {
        if (!Number.isFinite(v)) record.nonFinite++;
        else if (Math.abs(v) > record.maxAbs) record.maxAbs = Math.abs(v);
      }
    }
  }

  async release(): Promise<void> {
    const readers = this.reader ? await this.reader : new Map<string, ModelSession>();
    await Promise.all([...readers.values()].map((s) => s.release()));
    this.reader = null;
  }
}

/** Sessions on onnxruntime-node's `backend`, each watched by `probe` when given. */
export function nodeSessionFactory(backend: NodeBackend, probe?: StageProbe): SessionFactory {
  return async (bytes, label, hints) => {
    const session = await createOrtSession(await runtime(backend), bytes, label, {
      backend,
      ...(hints?.externalData?.length ? { externalData: hints.externalData } : {}),
      ...(hints?.freeDimensionOverrides
        ? { freeDimensionOverrides: hints.freeDimensionOverrides }
        : {}),
      ...(hints?.deviceOutputs ? { deviceOutputs: hints.deviceOutputs } : {}),
    });
    if (!probe) return session;
    return {
      label: session.label ?? label,
      inputs: session.inputs,
      outputs: session.outputs,
      release: () => session.release(),
      async run(feeds) {
        const start = performance.now();
        const outputs = await session.run(feeds);
        await probe.record(label, performance.now() - start, outputs);
        return outputs;
      },
    };
  };
}

/**
 * A pack folder; `filesDir` serves its files from elsewhere: a float32 copy
 * of its models, which has no manifest of its own and keeps every weight
 * inside its model files (so the manifest's external-data files are dropped).
 */
export function readPackDir(dir: string, filesDir = dir): PackSource {
  const manifest = JSON.parse(readFileSync(resolve(dir, 'manifest.json'), 'utf8')) as PackManifest;
  manifest.files = manifest.files.filter((file) => existsSync(resolve(filesDir, file.path)));
  return { manifest, read: async (path) => new Uint8Array(readFileSync(resolve(filesDir, path))) };
}

export interface NodePipelineOptions {
  backend: NodeBackend;
  /** The manifest's default variant when not given. */
  variantId?: string;
  /** The GPU-resident loop (text states and latents stay on the GPU); WebGPU only. */
  latentsOnDevice?: boolean;
  probe?: StageProbe;
  /** Read the models from here instead (models/realsize/fp32_copy.py's float32 copy). */
  filesDir?: string;
  /** Self-attention row blocks for the UNet (LoadOptions.attentionBlocks). */
  attentionBlocks?: number;
}

export async function loadNodePipeline(
  dir: string,
  options: NodePipelineOptions,
): Promise<{ pipeline: Pipeline; variant: PackVariant; manifest: PackManifest }> {
  const source = readPackDir(dir, options.filesDir);
  const { manifest } = source;
  const variant =
    manifest.variants.find((v) => v.id === options.variantId) ??
    manifest.variants.find((v) => v.default) ??
    manifest.variants[0]!;
  const onDevice = options.backend === 'webgpu' && Boolean(options.latentsOnDevice);
  const pipeline = await Pipeline.load(source, {
    variant,
    factory: nodeSessionFactory(options.backend, options.probe),
    keepTextOnDevice: onDevice,
    latentsOnDevice: onDevice,
    ...(options.attentionBlocks ? { attentionBlocks: options.attentionBlocks } : {}),
  });
  return { pipeline, variant, manifest };
}

/** Largest and mean absolute difference between two images' RGB values (0-255). */
export function imageDifference(
  a: { data: Uint8ClampedArray },
  b: { data: Uint8ClampedArray },
): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < a.data.length; i++) {
    if (i % 4 === 3) continue;
    const d = Math.abs(a.data[i]! - b.data[i]!);
    max = Math.max(max, d);
    sum += d;
    count++;
  }
  return { max, mean: sum / count };
}

/**
 * The requirements of a pack folder's variant measured from its model files,
 * as the install measures a stored pack (store/measure-models.ts): each
 * model's largest weight and activation at the pack's size, whole and with
 * self-attention sliced.
 */
export async function measureVariant(
  dir: string,
  variant: PackVariant,
): Promise<VariantRequirements> {
  const manifest = readPackDir(dir).manifest;
  const measures: ModelMeasure[] = [];
  const seen = new Set<string>();
  for (const [component, path] of Object.entries(variant.components) as [ComponentName, string][]) {
    if (seen.has(path)) continue;
    seen.add(path);
    const summary = await summariseModel(
      [new Uint8Array(readFileSync(resolve(dir, path)))],
      componentDimensions(manifest, component),
      undefined,
      packAttentionBlocks(manifest),
    );
    measures.push(measureOf(component, summary));
  }
  return measuredRequirements(variant.requires, measures);
}
