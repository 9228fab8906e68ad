/**
 * The worker's side of "Import a model file": the checkpoint (a File the
 * page hands over: the browser reads it from disk slice by slice) made into
 * a pack in IndexedDB through the store's file writer, measured like a
 * download, and added in one transaction. Cancel deletes what was written; a
 * closed tab or a reload leaves the finished files of its slot, and picking
 * the same file again goes on from them.
 */

import type { Capabilities } from '../../shared/capabilities';
import { GessoError, isAbortError } from '../../shared/errors';
import { formatBytes } from '../../shared/format';
import { measuredRequirements } from '../../shared/measured-needs';
import type { PackVariant } from '../../shared/pack-manifest';
import { openModelDb } from '../../store/idb-kv';
import {
  checkFreeId,
  deleteImportSlot,
  finishedFiles,
  importSlot,
  installImported,
  removeStaleImports,
  uninstallImported,
} from '../../store/import-pack';
import type { KV } from '../../store/kv';
import { measureModels } from '../../store/measure-models';
import { STORE_CHANNEL, type StoreEvent } from '../../store/protocol';
import type { FileRecord, PackRecord } from '../../store/records';
import {
  StoredFileWriter,
  deviceFileUrl,
  idbPackTransaction,
  removeOrphans,
  removeOtherVariants,
  type PackTransaction,
} from '../../store/variant-writer';
import { convertVariant } from '../convert/convert-variant';
import { ProgressMeter, type ConversionProgress } from '../convert/progress';
import type { OrtApi } from '../ort-session';
import { applyLora, removeLora, type ApplyLoraArgs, type ApplyLoraResult } from './apply-lora';
import { DEFAULT_TEMPLATE_BASE, templateFetcher } from './fetch-template';
import {
  importCheckpoint,
  inspectCheckpoint,
  packIdOf,
  packNameOf,
  type TemplateFiles,
} from './import-checkpoint';
import { ortLowRank, type LowRankAdd, type OrtLowRank } from './ort-low-rank';
import type { Family } from './template';
import { importWeights, type ImportWeights } from './weights';

export interface ImportModelArgs {
  file: File;
  /** An LCM-LoRA fused into the UNet while importing (SD 1.5). */
  lcmLora?: File;
  /** SD 2.x files that do not say: what the person chose. */
  prediction?: 'epsilon' | 'v';
  /** Where the templates are served (default: beside the app). */
  templateBase?: string;
}

/** What a picked file's header says, before importing (the form asks what it does not say). */
export interface InspectModelResult {
  family: Family;
  /** Null: an SD 2.x file whose metadata does not say (the person chooses). */
  prediction: 'epsilon' | 'v' | null;
}

/** Reads the picked file's header only; a file Gesso cannot import is refused with its sentence. */
export async function inspectModelFile(args: { file: File }): Promise<InspectModelResult> {
  const { detected } = await inspectCheckpoint({ file: args.file, name: args.file.name });
  return { family: detected.family, prediction: detected.prediction };
}

export interface ImportModelResult {
  packId: string;
  name: string;
  family: Family;
  layout: 'ldm' | 'diffusers';
  /** Checkpoint keys no weight reads (EMA copies and the like), ignored. */
  ignored: number;
  bytes: number;
  ms: number;
  /** Files an earlier attempt had written and this one kept. */
  resumedFiles: number;
  /** int8 where the fp16 pack would not run on this device (weights.ts), with why. */
  weights: 'fp16' | 'int8';
  int8Reason?: string;
}

export interface ImportDeps {
  kv: KV;
  transact: PackTransaction;
  signal?: AbortSignal;
  onProgress?: (progress: ConversionProgress) => void;
  getTemplate?: (family: Family, width: 'full' | 'reduced') => Promise<TemplateFiles>;
  chunkSize?: number;
  now?: () => number;
  /** fp16 or int8, from the measured fp16 pack and its weights' bytes (weights.ts); default fp16. */
  chooseWeights?: (fp16: PackVariant, weightBytes: number) => ImportWeights;
  /** The LoRA fusion's matrix product (ort-low-rank.ts); the JavaScript loop by default. */
  lowRank?: LowRankAdd;
}

export async function importModel(
  args: ImportModelArgs,
  deps: ImportDeps,
): Promise<ImportModelResult> {
  const { kv } = deps;
  const now = deps.now ?? (() => performance.now());
  const started = now();
  const id = packIdOf(args.file.name);
  const name = packNameOf(args.file.name);
  await checkFreeId(kv, { id, name });
  const slot = importSlot(id, args.file);
  await removeStaleImports(kv, slot);
  const done = await finishedFiles(kv, slot);
  let meter: ProgressMeter | null = null;
  let current: string | null = null;
  try {
    const imported = await importCheckpoint(
      { file: args.file, name: args.file.name },
      deps.getTemplate ?? templateFetcher(args.templateBase ?? DEFAULT_TEMPLATE_BASE, deps.signal),
      async (path) => {
        current = path;
        const writer = await StoredFileWriter.create(kv, slot, path, {
          chunkSize: deps.chunkSize,
          url: deviceFileUrl(args.file.name),
        });
        return { write: (bytes) => writer.write(bytes), close: () => writer.close() };
      },
      {
        lcmLora: args.lcmLora ? { file: args.lcmLora, name: args.lcmLora.name } : undefined,
        prediction: args.prediction,
        lowRank: deps.lowRank,
        signal: deps.signal,
        done,
        onProgress: (read, total) => {
          meter ??= new ProgressMeter(total, (p) => deps.onProgress?.(p), now);
          meter.update(read, current);
        },
      },
    );
    const { manifest, files } = imported;
    const variant = manifest.variants[0]!;
    const measured = await measureModels(
      kv,
      (path) => kv.get<FileRecord>('files', [slot, path]),
      manifest,
      variant,
      deps.signal,
    );
    const fp16 = { ...variant, requires: measuredRequirements(variant.requires, measured) };
    const choice = deps.chooseWeights?.(
      fp16,
      measured.reduce((n, m) => n + m.weightBytes, 0),
    ) ?? { weights: 'fp16' };
    const full = {
      ...manifest,
      variants: [fp16],
      imported: {
        ...manifest.imported!,
        weights: choice.weights,
        ...(choice.weights === 'int8' ? { int8Reason: choice.reason } : {}),
      },
    };
    let record = await installImported(deps.transact, full, slot, files, measured);
    if (choice.weights === 'int8') record = await keepInt8Only(record, slot, deps, now);
    return {
      packId: record.id,
      name: record.manifest.name,
      family: imported.detected.family,
      layout: imported.detected.layout,
      ignored: imported.plan.ignored,
      bytes: record.installed!.bytes,
      ms: now() - started,
      resumedFiles: [...done.keys()].filter((p) => files.some((f) => f.path === p)).length,
      ...(choice.weights === 'int8'
        ? { weights: 'int8' as const, int8Reason: choice.reason }
        : { weights: 'fp16' as const }),
    };
  } catch (error) {
    // Cancel and refusals leave nothing; a full disk frees what was written. A closed tab leaves the
    // slot's finished files for the next attempt with the same file (removeStaleImports otherwise).
    if (isAbortError(error) || !(error instanceof GessoError) || error.code !== 'network')
      await deleteImportSlot(kv, slot).catch(() => {});
    throw explain(error, name);
  }
}

/**
 * The import's second stage where fp16 would not run here: the int8 copy,
 * made by the existing quantizer from the pack just written, then the fp16
 * original removed. Anything that stops it removes the whole pack (nothing
 * half-made stays: an fp16 pack this device cannot run is no use here).
 */
async function keepInt8Only(
  record: PackRecord,
  slot: string,
  deps: ImportDeps,
  now: () => number,
): Promise<PackRecord> {
  const { kv } = deps;
  try {
    const { variantId } = await convertVariant(
      { packId: record.id },
      {
        kv,
        transact: deps.transact,
        signal: deps.signal,
        chunkSize: deps.chunkSize,
        now,
        onProgress: (p) => deps.onProgress?.({ ...p, stage: 'int8' }),
      },
    );
    await removeOtherVariants(deps.transact, record.id, variantId);
    await removeOrphans(kv, record.id);
    const kept = await kv.get<PackRecord>('packs', record.id);
    if (!kept?.installed)
      throw new GessoError(
        'pack-missing',
        `"${record.manifest.name}" was removed while importing.`,
      );
    return kept;
  } catch (error) {
    await uninstallImported(kv, record.id, slot).catch(() => {});
    throw error;
  }
}

function explain(error: unknown, name: string): unknown {
  if (isAbortError(error)) return new GessoError('aborted', 'Cancelled. Nothing was kept.');
  if (error instanceof GessoError && error.code === 'storage-full')
    return new GessoError(
      'storage-full',
      `The device ran out of storage space while importing "${name}", so nothing was kept (an imported SD 1.5 pack needs about ${formatBytes(2.2e9)}). Existing packs are as they were. Free some space and try again.`,
      { cause: error },
    );
  return error;
}

function announce(packId: string): void {
  if (typeof BroadcastChannel === 'undefined') return;
  const channel = new BroadcastChannel(STORE_CHANNEL);
  channel.postMessage({ type: 'changed', packId } satisfies StoreEvent);
  channel.close();
}

/** Bound to the browser's IndexedDB, for the engine worker; int8 where this device's verdict says so. */
export async function importStoredModel(
  args: ImportModelArgs,
  signal: AbortSignal,
  onProgress: (progress: ConversionProgress) => void,
  capabilities?: () => Promise<Readonly<Capabilities>>,
  runtime?: () => Promise<OrtApi>,
): Promise<ImportModelResult> {
  const kv = await openModelDb();
  const caps = capabilities ? await capabilities().catch(() => null) : null;
  const deviceMemory = (navigator as { deviceMemory?: number }).deviceMemory;
  const lowRank = args.lcmLora ? await lowRankOn(runtime) : null;
  try {
    const result = await importModel(args, {
      kv,
      transact: idbPackTransaction,
      signal,
      onProgress,
      chooseWeights: (fp16, weightBytes) => importWeights(fp16, weightBytes, caps, deviceMemory),
      ...(lowRank ? { lowRank: lowRank.add } : {}),
    });
    announce(result.packId);
    return result;
  } finally {
    await lowRank?.release().catch(() => {});
  }
}

/** The fusion on onnxruntime's wasm kernels; null (the JavaScript loop) where the runtime does not start. */
async function lowRankOn(runtime?: () => Promise<OrtApi>): Promise<OrtLowRank | null> {
  if (!runtime) return null;
  try {
    return await ortLowRank(await runtime(), 'wasm');
  } catch {
    return null;
  }
}

/** "Apply LoRA", bound to IndexedDB for the engine worker. */
export async function applyStoredLora(
  args: ApplyLoraArgs,
  signal: AbortSignal,
  runtime?: () => Promise<OrtApi>,
): Promise<ApplyLoraResult> {
  const kv = await openModelDb();
  const lowRank = await lowRankOn(runtime);
  try {
    const result = await applyLora(args, {
      kv,
      transact: idbPackTransaction,
      signal,
      ...(lowRank ? { lowRank: lowRank.add } : {}),
    });
    announce(args.packId);
    return result;
  } finally {
    await lowRank?.release().catch(() => {});
  }
}

/** "Remove LoRA", bound to IndexedDB for the engine worker. */
export async function removeStoredLora(args: { packId: string }): Promise<{ bytesFreed: number }> {
  const kv = await openModelDb();
  const result = await removeLora(args.packId, { kv, transact: idbPackTransaction });
  announce(args.packId);
  return result;
}
