/**
 * A checkpoint made into pack files: header, detection, plan, the optional
 * LCM-LoRA (SD 1.5 only), then the models written tensor by tensor, the
 * tokenizer, and the pack's manifest. Storage is the caller's (OpenSink):
 * IndexedDB in the app (src/engine/import/service.ts), a folder in tests.
 */

import { GessoError } from '../../shared/errors';
import { loraTag, modelFileStem } from '../../shared/model-source';
import type { PackFile, PackManifest } from '../../shared/pack-manifest';
import { detectCheckpoint, type Detected } from './detect';
import { sha256OfBlob } from './file-hash';
import { planLora, type LoraPlan } from './lora';
import type { LowRankAdd } from './ort-low-rank';
import { planImport, type ImportPlan } from './plan';
import { readSafetensorsHeader, type SafetensorsHeader } from './safetensors';
import type { Family, Template } from './template';
import { writeModels, type OpenSink } from './write-models';

export interface ImportSource {
  file: Blob;
  /** The file's name as picked ("my-model.safetensors"). */
  name: string;
}

export interface ImportOptions {
  /** An LCM-LoRA to fuse into the UNet (SD 1.5 only): the pack then samples in 4 steps. */
  lcmLora?: ImportSource;
  /** LoRAs fused at a strength while importing. */
  loras?: (ImportSource & { strength: number })[];
  /** SD 2.x with no prediction type in its metadata: what the user said. */
  prediction?: 'epsilon' | 'v';
  /** The fusion's matrix product (ort-low-rank.ts); the JavaScript loop by default. */
  lowRank?: LowRankAdd;
  signal?: AbortSignal;
  onProgress?: (bytesIn: number, bytesTotal: number) => void;
  onStart?: (path: string) => void;
  /** Files an earlier attempt with the same file stored whole (resume after a reload). */
  done?: ReadonlyMap<string, PackFile>;
}

export interface Inspected {
  header: SafetensorsHeader;
  detected: Detected;
}

export async function inspectCheckpoint(source: ImportSource): Promise<Inspected> {
  const header = await readSafetensorsHeader(source.file, source.name);
  return { header, detected: detectCheckpoint(header) };
}

/** "my-model.safetensors" -> "my-model". */
export function packNameOf(fileName: string): string {
  return modelFileStem(fileName) || 'Imported model';
}

export function packIdOf(fileName: string): string {
  const slug = packNameOf(fileName)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return `imported-${slug || 'model'}`;
}

export interface Imported {
  manifest: PackManifest;
  files: PackFile[];
  detected: Detected;
  plan: ImportPlan;
  loras: LoraPlan[];
}

export interface TemplateFiles {
  template: Template;
  tokenizer: { vocab: Uint8Array; merges: Uint8Array };
}

export async function importCheckpoint(
  source: ImportSource,
  getTemplate: (family: Family, width: 'full' | 'reduced') => Promise<TemplateFiles>,
  open: OpenSink,
  options: ImportOptions = {},
): Promise<Imported> {
  const { header, detected } = await inspectCheckpoint(source);
  const prediction = detected.prediction ?? options.prediction;
  if (!prediction)
    throw new GessoError(
      'does-not-fit',
      `"${source.name}" is an SD 2.x model that does not say whether it predicts noise (epsilon) or v; choose one and import again.`,
    );
  if (options.lcmLora && detected.family !== 'sd15')
    throw new GessoError(
      'does-not-fit',
      'There is no LCM-LoRA for SD 2.x models: import it without one (it then needs more steps).',
    );
  // The file's hash (its own pass, in file order) runs beside the import and is awaited at the end.
  const hashing = sha256OfBlob(source.file, options.signal);
  hashing.catch(() => {});
  const { template, tokenizer } = await getTemplate(detected.family, detected.width);
  const plan = planImport(header, detected, template);
  const loras: LoraPlan[] = [];
  for (const lora of [
    ...(options.lcmLora ? [{ ...options.lcmLora, strength: 1 }] : []),
    ...(options.loras ?? []),
  ]) {
    const h = await readSafetensorsHeader(lora.file, lora.name);
    loras.push(await planLora(lora.file, h, template, lora.strength));
  }
  const files = await writeModels(source.file, plan, template, open, {
    loras,
    lowRank: options.lowRank,
    signal: options.signal,
    onProgress: (read) => options.onProgress?.(read, plan.bytesIn),
    onStart: options.onStart,
    done: options.done,
  });
  for (const [path, bytes] of [
    ['tokenizer/vocab.json', tokenizer.vocab],
    ['tokenizer/merges.txt', tokenizer.merges],
  ] as const) {
    const kept = options.done?.get(path);
    if (kept?.size === bytes.length) {
      files.push(kept);
      continue;
    }
    options.onStart?.(path);
    const sink = await open(path);
    await sink.write(bytes);
    files.push(await sink.close());
  }
  const manifest = importedManifest(
    source.name,
    await hashing,
    detected,
    files,
    Boolean(options.lcmLora),
    loras,
    prediction,
  );
  return { manifest, files, detected, plan, loras };
}

function importedManifest(
  fileName: string,
  sha256: string,
  detected: Detected,
  files: PackFile[],
  lcm: boolean,
  loras: LoraPlan[],
  prediction: 'epsilon' | 'v',
): PackManifest {
  const sd15 = detected.family === 'sd15';
  const models = files.filter((f) => !f.path.startsWith('tokenizer/'));
  const weights = models.reduce((n, f) => n + f.size, 0);
  const fused = loras.map(loraTag).join(' ');
  return {
    format: 'gesso-pack@1',
    id: packIdOf(fileName),
    name: packNameOf(fileName),
    version: '1.0.0',
    description: `Imported on this device from ${fileName} (${sd15 ? 'SD 1.5' : 'SD 2.x'}, ${detected.layout} layout, ${detected.dtype})${fused ? `, with ${fused} fused` : ''}.`,
    pipeline: sd15 ? 'lcm' : 'sd-turbo',
    image: { width: 512, height: 512 },
    latent: {
      channels: 4,
      downscale: 8,
      scalingFactor: 0.18215,
      decoderOutput: 'minus-one-to-one',
    },
    defaults: { steps: lcm ? 4 : sd15 ? 8 : 4, guidance: lcm ? 1.5 : sd15 ? 7.5 : 1 },
    ranges: { steps: [1, lcm ? 8 : 50], guidance: [1, lcm ? 2 : 12] },
    scheduler: sd15
      ? {
          kind: 'lcm',
          trainTimesteps: 1000,
          betaStart: 0.00085,
          betaEnd: 0.012,
          betaSchedule: 'scaled_linear',
          originalSteps: 50,
          timestepScaling: 10,
          prediction,
        }
      : {
          kind: 'euler-ancestral-trailing',
          trainTimesteps: 1000,
          betaStart: 0.00085,
          betaEnd: 0.012,
          betaSchedule: 'scaled_linear',
          prediction,
        },
    tokenizer: {
      kind: 'clip-bpe',
      vocab: 'tokenizer/vocab.json',
      merges: 'tokenizer/merges.txt',
      maxLength: 77,
      bosTokenId: 49406,
      eosTokenId: 49407,
      padTokenId: sd15 ? 49407 : 0,
    },
    variants: [
      {
        id: 'fp16',
        label: 'fp16 weights, imported on this device',
        default: true,
        backends: ['webgpu', 'wasm'],
        requires: {
          shaderF16: true,
          maxStorageBufferBindingSize: 0,
          maxBufferSize: 0,
          memoryBytes: weights,
        },
        components: {
          textEncoder: 'text_encoder/model.onnx',
          unet: 'unet/model.onnx',
          vaeDecoder: 'vae_decoder/model.onnx',
          vaeEncoder: 'vae_encoder/model.onnx',
        },
      },
    ],
    files,
    license: {
      spdx: 'LicenseRef-imported',
      name: 'The licence your file came with',
      url: 'https://huggingface.co/spaces/CompVis/stable-diffusion-license',
      restricted: false,
      summary: `Your own file ${fileName}: its licence is the one it came with (Stable Diffusion models are usually under the CreativeML OpenRAIL-M licence linked here).`,
    },
    attribution: `Imported from ${fileName} on this device.`,
    imported: {
      file: fileName,
      family: detected.family,
      width: detected.width,
      sha256,
      loras: loras.map((l) => ({ name: l.name, strength: l.strength })),
    },
  };
}
