/**
 * "Apply LoRA" on an imported pack's card: a new variant that rewrites only
 * the tensors the LoRA touches. For the UNet and the text encoder, the
 * touched weights are read from the installed pack, fused at the strength
 * (W += s * alpha / r * up @ down) and written into a small data file of the
 * variant's own; its graph is the template's with those weights pointing
 * there and every other weight still pointing into the pack's data file.
 * The original variant's files are never written, so "Remove LoRA" (which
 * keeps only the original variant) gives it back bit for bit.
 */

import { GessoError, isAbortError } from '../../shared/errors';
import { measuredRequirements } from '../../shared/measured-needs';
import { loraTag } from '../../shared/model-source';
import type { PackFile, PackVariant } from '../../shared/pack-manifest';
import type { KV, Op } from '../../store/kv';
import { measureModels } from '../../store/measure-models';
import type { FileRecord, PackRecord } from '../../store/records';
import { RangeReader } from '../../store/stream-file';
import {
  StoredFileWriter,
  commitVariant,
  deviceFileUrl,
  removeOrphans,
  removeOtherVariants,
  type PackTransaction,
} from '../../store/variant-writer';
import { DEFAULT_TEMPLATE_BASE, templateFetcher } from './fetch-template';
import type { TemplateFiles } from './import-checkpoint';
import { fuseLoras, planLora } from './lora';
import type { LowRankAdd } from './ort-low-rank';
import { relocateGraph, type Move } from './relocate';
import { bytesOfHalves, floatsToHalves, halvesOf, halvesToFloats } from './kernels';
import { readSafetensorsHeader } from './safetensors';
import { PACK_PATHS, type Family } from './template';

export const BASE_VARIANT = 'fp16';
export const LORA_VARIANT = 'fp16-lora';

export interface ApplyLoraArgs {
  packId: string;
  file: File;
  /** 1 by default; 0 gives the original weights. */
  strength: number;
  templateBase?: string;
}

export interface ApplyLoraResult {
  variantId: string;
  /** `<lora:name:0.8>`, as A1111 writes it. */
  tag: string;
  /** Weights it changed. */
  weights: number;
  /** Bytes the variant added (its graphs and its data files). */
  bytesAdded: number;
  ms: number;
}

export interface LoraDeps {
  kv: KV;
  transact: PackTransaction;
  signal?: AbortSignal;
  getTemplate?: (family: Family, width: 'full' | 'reduced') => Promise<TemplateFiles>;
  now?: () => number;
  /** The fusion's matrix product (ort-low-rank.ts); the JavaScript loop by default. */
  lowRank?: LowRankAdd;
}

function aborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new GessoError('aborted', 'Cancelled.');
}

export async function applyLora(args: ApplyLoraArgs, deps: LoraDeps): Promise<ApplyLoraResult> {
  const { kv } = deps;
  const now = deps.now ?? (() => performance.now());
  const started = now();
  const pack = await kv.get<PackRecord>('packs', args.packId);
  const installed = pack?.installed;
  const from = installed?.manifest.imported;
  if (!installed || !from)
    throw new GessoError(
      'does-not-fit',
      'LoRAs can be added to models imported on this device (Import a model file), not to downloaded packs.',
    );
  const base = installed.manifest.variants.find((v) => v.id === BASE_VARIANT);
  if (!base)
    throw new GessoError(
      'pack-missing',
      'This pack has lost its original variant; import it again.',
    );
  // One LoRA at a time: a new one replaces the last (the original's files are untouched either way).
  if (installed.manifest.variants.some((v) => v.id === LORA_VARIANT))
    await removeLora(args.packId, deps);
  await removeOrphans(kv, args.packId);
  const { template } = await (
    deps.getTemplate ?? templateFetcher(args.templateBase ?? DEFAULT_TEMPLATE_BASE, deps.signal)
  )(from.family, from.width);
  const header = await readSafetensorsHeader(args.file, args.file.name);
  const lora = await planLora(args.file, header, template, args.strength);
  const { slot, version } = installed;
  const use = { name: lora.name, strength: args.strength };
  const tag = loraTag(use);
  const stamp = Math.floor(now() * 1000 + Math.random() * 1e6).toString(36);
  const written: string[] = [];
  const files: PackFile[] = [];
  const components: PackVariant['components'] = { ...base.components };
  let weights = 0;
  try {
    for (const component of ['unet', 'text_encoder'] as const) {
      const { map, graph } = template.components[component];
      const touched = map.entries.filter((e) => lora.modules.has(e.diffusers));
      if (touched.length === 0) continue;
      const dataPath = `${component}/lora-${stamp}.onnx_data`;
      const graphPath = `${component}/lora-${stamp}.onnx`;
      const record = await kv.get<FileRecord>('files', [slot, PACK_PATHS[component].data]);
      if (!record)
        throw new GessoError(
          'pack-missing',
          `The pack's ${PACK_PATHS[component].data} is gone; import it again.`,
        );
      const reader = new RangeReader(kv, record);
      written.push(dataPath);
      const data = await StoredFileWriter.create(kv, slot, dataPath, {
        url: deviceFileUrl(args.file.name),
      });
      const moves = new Map<string, Move>();
      let at = 0;
      for (const entry of touched) {
        aborted(deps.signal);
        // fused as stored ([in, out] for MatMul weights): no transposes of the weight
        const values = halvesToFloats(
          halvesOf(await reader.read(entry.offset, entry.length, deps.signal)),
        );
        await fuseLoras(values, entry, [lora], 'stored', deps.lowRank);
        await data.write(bytesOfHalves(floatsToHalves(values)));
        moves.set(entry.onnx, {
          location: dataPath.slice(dataPath.indexOf('/') + 1),
          offset: at,
          length: entry.length,
        });
        at += entry.length;
        weights++;
      }
      files.push(await data.close());
      written.push(graphPath);
      const g = await StoredFileWriter.create(kv, slot, graphPath, {
        url: deviceFileUrl(args.file.name),
      });
      await g.write(await relocateGraph(graph, moves));
      files.push(await g.close());
      if (component === 'unet') components.unet = graphPath;
      else components.textEncoder = graphPath;
    }
    const planned: PackVariant = {
      ...base,
      id: LORA_VARIANT,
      label: `${base.label} + ${tag}`,
      default: true,
      loras: [use],
      components,
    };
    const manifest = { ...installed.manifest, files: [...installed.manifest.files, ...files] };
    const measured = await measureModels(
      kv,
      (path) => kv.get<FileRecord>('files', [slot, path]),
      manifest,
      planned,
      deps.signal,
    );
    const variant = { ...planned, requires: measuredRequirements(base.requires, measured) };
    await commitVariant(kv, deps.transact, args.packId, {
      slot,
      version,
      variant,
      files,
      measured,
    });
    return {
      variantId: variant.id,
      tag,
      weights,
      bytesAdded: files.reduce((n, f) => n + f.size, 0),
      ms: now() - started,
    };
  } catch (error) {
    await kv
      .batch(
        written.flatMap((path): Op[] => [
          { type: 'delete-prefix', store: 'chunks', prefix: [slot, path] },
          { type: 'delete', store: 'files', key: [slot, path] },
        ]),
      )
      .catch(() => {});
    if (isAbortError(error))
      throw new GessoError('aborted', 'Cancelled: the LoRA was not applied.');
    throw error;
  }
}

/** Keeps only the original variant: the LoRA's files go, the original's were never changed. */
export async function removeLora(
  packId: string,
  deps: Pick<LoraDeps, 'kv' | 'transact'>,
): Promise<{ bytesFreed: number }> {
  const { bytesFreed } = await removeOtherVariants(deps.transact, packId, BASE_VARIANT);
  await removeOrphans(deps.kv, packId);
  return { bytesFreed };
}
