/**
 * Making an int8 copy of an installed variant: each model file streamed
 * from the store through the ONNX rewriter (src/shared/onnx/convert.ts) into
 * new pack files beside it, then one transaction adds the variant to the
 * installed manifest as its default. Whatever stops it before that
 * transaction leaves nothing marked ready: the files written so far are
 * deleted here when possible, and otherwise (a closed tab) by the next
 * attempt, which starts by removing orphans.
 */

import { measuredRequirements } from '../../shared/measured-needs';
import { measureModels } from '../../store/measure-models';
import { GessoError, isAbortError } from '../../shared/errors';
import { formatBytes } from '../../shared/format';
import type { PackFile } from '../../shared/pack-manifest';
import { convertModel } from '../../shared/onnx/convert';
import type { KV, Op } from '../../store/kv';
import type { FileRecord, PackRecord } from '../../store/records';
import { filesForVariant } from '../../store/validate-manifest';
import {
  StoredFileWriter,
  commitVariant,
  deviceFileUrl,
  removeOrphans,
  type PackTransaction,
} from '../../store/variant-writer';
import type { ConvertVariantArgs, ConvertVariantResult } from './types';
import { deviceVariant, planConversion, type ModelJob, type ModelOutcome } from './plan';
import { ProgressMeter, type ConversionProgress } from './progress';
import { openStoredModel } from './stored-model';

export interface ConvertDeps {
  kv: KV;
  /** Read-and-write transactions on the pack record (idbPackTransaction on IndexedDB). */
  transact: PackTransaction;
  signal?: AbortSignal;
  onProgress?: (progress: ConversionProgress) => void;
  /** Stored chunk size of the new files (default: the store's, 4 MiB). */
  chunkSize?: number;
  now?: () => number;
  /** Models up to this size are written with their weights inline (plan.ts, INLINE_MAX_BYTES). */
  inlineMaxBytes?: number;
}

function notInstalled(packId: string, pack: PackRecord | undefined): GessoError {
  return new GessoError(
    'pack-missing',
    `"${pack?.manifest.name ?? packId}" is not installed, so there is nothing to make an int8 copy of. Download it in Models first.`,
  );
}

/** The converter's and the store's failures, said for this job; the pack is never changed by a failure. */
function explain(error: unknown, name: string, path: string | null, needed: number): unknown {
  if (isAbortError(error)) return new GessoError('aborted', 'Cancelled.');
  if (!(error instanceof GessoError)) return error;
  const unchanged = `Nothing was changed: "${name}" works as before.`;
  switch (error.code) {
    case 'storage-full':
      return new GessoError(
        'storage-full',
        `The device ran out of storage space while making the int8 copy of "${name}" (it needs about ${formatBytes(needed)}). ${unchanged} Free some space (delete other packs or images) and try again.`,
        { cause: error },
      );
    case 'storage-refused':
      return new GessoError(
        'storage-refused',
        `${error.message.replace(/\.$/, '')}, so the int8 copy of "${name}" was not made. ${unchanged}`,
        { cause: error },
      );
    case 'pack-corrupt':
    case 'pack-missing':
    case 'unsupported-operator': {
      const message = path
        ? error.message.replace(/^The model file\b/, `The model file ${path}`)
        : error.message;
      return new GessoError(error.code, `${message} The int8 copy was not made. ${unchanged}`, {
        cause: error,
      });
    }
    default:
      return error;
  }
}

export async function convertVariant(
  args: ConvertVariantArgs,
  deps: ConvertDeps,
): Promise<ConvertVariantResult> {
  const { kv } = deps;
  const now = deps.now ?? (() => performance.now());
  const started = now();
  if (args.mode && args.mode !== 'int8-per-channel')
    throw new GessoError('internal', `Unknown conversion mode "${String(args.mode)}".`);
  const pack = await kv.get<PackRecord>('packs', args.packId);
  const installed = pack?.installed;
  if (!pack || !installed) throw notInstalled(args.packId, pack);
  const name = installed.manifest.name;
  const plan = planConversion(installed.manifest, args.from, deps.inlineMaxBytes);
  const { slot, version } = installed;

  // A previous attempt that was cut off (reload, closed tab) left its files here.
  await removeOrphans(kv, args.packId);

  const meter = new ProgressMeter(plan.bytesIn, (p) => deps.onProgress?.(p), now);
  const written = new Set<string>();
  let current: string | null = null;
  try {
    meter.update(0, plan.models[0]?.source ?? null, true);
    const outcomes: ModelOutcome[] = [];
    const files: PackFile[] = [];
    let base = 0;
    for (const job of plan.models) {
      current = job.source;
      const one = await convertOne(job, slot, deps, written, (read) =>
        meter.update(base + read, job.source),
      );
      outcomes.push(one);
      files.push(...one.files);
      base += job.bytesIn;
      meter.update(base, job.source, true);
    }
    current = null;
    const planned = deviceVariant(plan, outcomes);
    const measured = await measureModels(
      kv,
      (path) => kv.get<FileRecord>('files', [slot, path]),
      installed.manifest,
      planned,
      deps.signal,
    );
    const variant = { ...planned, requires: measuredRequirements(planned.requires, measured) };
    const next = await commitVariant(kv, deps.transact, args.packId, {
      slot,
      version,
      variant,
      files,
      measured,
    });
    meter.update(plan.bytesIn, null, true);
    return {
      variantId: variant.id,
      from: plan.from.id,
      bytesBefore: plan.variantBytes,
      bytesAfter: filesForVariant(next.manifest, variant.id).reduce((n, f) => n + (f.size ?? 0), 0),
      ms: now() - started,
    };
  } catch (error) {
    // Best effort: the files of this attempt (under the slot they were written to, even if the
    // pack moved on meanwhile), then any orphan. A tab closed mid-way leaves them to the next attempt.
    await kv.batch([...written].flatMap((path): Op[] => fileDeletion(slot, path))).catch(() => {});
    await removeOrphans(kv, args.packId).catch(() => {});
    throw explain(error, name, current, plan.bytesIn / 2);
  }
}

function fileDeletion(slot: string, path: string): Op[] {
  return [
    { type: 'delete-prefix', store: 'chunks', prefix: [slot, path] },
    { type: 'delete', store: 'files', key: [slot, path] },
  ];
}

/** Converts one model into its copy's files; `onRead` gets bytes read of this model so far. */
async function convertOne(
  job: ModelJob,
  slot: string,
  deps: ConvertDeps,
  written: Set<string>,
  onRead: (bytes: number) => void,
): Promise<ModelOutcome & { files: PackFile[] }> {
  const { kv, signal } = deps;
  const options = { chunkSize: deps.chunkSize, url: deviceFileUrl(job.source) };
  const model = await openStoredModel(kv, slot, job.source, job.external, signal);
  written.add(job.graphPath);
  const graph = await StoredFileWriter.create(kv, slot, job.graphPath, options);
  let data: StoredFileWriter | null = null;
  const result = await convertModel(
    model.chunks,
    async (file, chunk) => {
      if (file === 'graph') return graph.write(chunk);
      if (!data) {
        written.add(job.dataPath);
        data = await StoredFileWriter.create(kv, slot, job.dataPath, options);
      }
      return data.write(chunk);
    },
    {
      dataLocation: job.dataPath.slice(job.dataPath.lastIndexOf('/') + 1),
      readExternal: model.readExternal,
      ...(job.inline ? { externalThreshold: Infinity } : {}),
      attentionBlocks: job.attentionBlocks,
      signal,
      onProgress: (p) => onRead(p.bytesIn),
    },
  );
  const files = [await graph.close()];
  if (data) files.push(await (data as StoredFileWriter).close());
  if (result.quantized.length === 0 && result.widened === 0) {
    // Nothing to quantize or widen (a small float32 decoder, say): the variant uses the original file.
    await kv.batch(files.flatMap((f) => fileDeletion(slot, f.path)));
    for (const f of files) written.delete(f.path);
    return { job, path: job.source, bytesOut: 0, files: [] };
  }
  return { job, path: job.graphPath, bytesOut: files.reduce((n, f) => n + f.size, 0), files };
}
