/**
 * What making an int8 copy of an installed variant involves, decided from
 * the installed manifest alone (pure): which model files to convert, with
 * their external data, where the copies go, and the new variant's manifest
 * entry once the sizes are known.
 */

import { GessoError } from '../../shared/errors';
import type { ComponentName, PackManifest, PackVariant } from '../../shared/pack-manifest';
import { filesForVariant } from '../../store/validate-manifest';
import { deviceVariantId, isDeviceVariant } from '../../store/variant-writer';
import { externalDataPaths } from '../pipelines/external-data';
import { packAttentionBlocks } from '../../shared/onnx/slice-attention';

/**
 * Models up to this size (the file and its external data) are written as one
 * file with the weights inline, exactly as models/quantize.py writes them (so
 * the demo pack's copies equal its shipped int8 files byte for byte); the
 * converter holds such a copy in memory until it ends. Larger ones get a
 * small graph file and an external-data file, streamed.
 */
export const INLINE_MAX_BYTES = 64 * 1024 * 1024;

export interface ModelJob {
  /** The model file converted, as the manifest lists it. */
  source: string;
  /** Its external-data files (manifest paths). */
  external: string[];
  /** Bytes read: the model and its external data. */
  bytesIn: number;
  /** The copy's graph file. */
  graphPath: string;
  /** The copy's external-data file (written only when some tensor goes there). */
  dataPath: string;
  /** Write every weight inline (one file), as quantize.py does. */
  inline: boolean;
  /** The components that use this model. */
  components: ComponentName[];
  /** Row blocks for its self-attention at the pack's image size (slice-attention.ts). */
  attentionBlocks: number;
}

export interface ConversionPlan {
  from: PackVariant;
  variantId: string;
  models: ModelJob[];
  /** Bytes of model files read, all models. */
  bytesIn: number;
  /** Bytes of the source variant's files (models, external data, tokenizer). */
  variantBytes: number;
}

/** `unet/model.fp16.onnx` -> `unet/model.fp16.int8-device.onnx`. */
export function deviceModelPath(path: string): string {
  const base = path.endsWith('.onnx') ? path.slice(0, -'.onnx'.length) : path;
  return `${base}.int8-device.onnx`;
}

function sizeOf(manifest: PackManifest, path: string): number {
  const file = manifest.files.find((f) => f.path === path);
  if (!file)
    throw new GessoError(
      'pack-corrupt',
      `The installed pack "${manifest.name}" does not list its model file ${path}. Delete the pack in Models and download it again.`,
    );
  return file.size;
}

/** The variant an int8 copy is made from: `from`, else the default one (never a copy). */
export function sourceVariant(manifest: PackManifest, from?: string): PackVariant {
  if (manifest.variants.some(isDeviceVariant))
    throw new GessoError(
      'internal',
      `"${manifest.name}" already has an int8 copy made on this device.`,
    );
  const variant = from
    ? manifest.variants.find((v) => v.id === from)
    : (manifest.variants.find((v) => v.default) ?? manifest.variants[0]);
  if (!variant)
    throw new GessoError(
      'pack-missing',
      `"${manifest.name}" has no installed variant "${from ?? ''}"; reload Models.`,
    );
  return variant;
}

export function planConversion(
  manifest: PackManifest,
  from?: string,
  inlineMaxBytes = INLINE_MAX_BYTES,
): ConversionPlan {
  const variant = sourceVariant(manifest, from);
  const byPath = new Map<string, ComponentName[]>();
  for (const [component, path] of Object.entries(variant.components) as [ComponentName, string][])
    if (path) byPath.set(path, [...(byPath.get(path) ?? []), component]);
  const attentionBlocks = packAttentionBlocks(manifest);
  const models = [...byPath].map(([source, components]): ModelJob => {
    const external = externalDataPaths(manifest, source);
    const bytesIn = [source, ...external].reduce((n, p) => n + sizeOf(manifest, p), 0);
    const graphPath = deviceModelPath(source);
    return {
      source,
      external,
      bytesIn,
      graphPath,
      dataPath: `${graphPath}_data`,
      inline: bytesIn <= inlineMaxBytes,
      components,
      attentionBlocks,
    };
  });
  return {
    from: variant,
    variantId: deviceVariantId(variant.id),
    models,
    bytesIn: models.reduce((n, m) => n + m.bytesIn, 0),
    variantBytes: filesForVariant(manifest, variant.id).reduce((n, f) => n + (f.size ?? 0), 0),
  };
}

/** How one model came out: the path the new variant uses for it and the bytes that path adds. */
export interface ModelOutcome {
  job: ModelJob;
  /** The copy's graph path, or the source's when nothing in it was quantized (the original is used). */
  path: string;
  /** Bytes of the files written and kept (graph and data); 0 when the original is used. */
  bytesOut: number;
}

/**
 * The new variant's manifest entry. Weights are int8 and the copy computes
 * in float32 (the converter makes every float16 float32), so it runs on
 * WebAssembly and on WebGPU without shader-f16. A float16 source's buffers
 * double: its dequantized weights and its activations are float32 now
 * (convert-variant.ts then replaces these figures with the copy's measured
 * ones). Memory: the source's estimate less the bytes the copy saves.
 */
export function deviceVariant(plan: ConversionPlan, outcomes: ModelOutcome[]): PackVariant {
  const { from } = plan;
  const components = { ...from.components };
  for (const outcome of outcomes)
    for (const component of outcome.job.components) components[component] = outcome.path;
  const converted = outcomes.filter((o) => o.path !== o.job.source);
  const before = converted.reduce((n, o) => n + o.job.bytesIn, 0);
  const after = converted.reduce((n, o) => n + o.bytesOut, 0);
  const half = from.requires.shaderF16 || from.requires.weights === 'float16';
  const widen = half ? 2 : 1;
  return {
    id: plan.variantId,
    label: `int8 copy of “${from.label}”, made on this device`,
    default: true,
    ...(from.loras ? { loras: from.loras } : {}),
    backends: from.backends.includes('wasm') ? [...from.backends] : [...from.backends, 'wasm'],
    requires: {
      shaderF16: false,
      weights: 'int8',
      maxStorageBufferBindingSize: from.requires.maxStorageBufferBindingSize * widen,
      maxBufferSize: from.requires.maxBufferSize * widen,
      memoryBytes: Math.max(after, from.requires.memoryBytes - (before - after)),
    },
    components,
  };
}
