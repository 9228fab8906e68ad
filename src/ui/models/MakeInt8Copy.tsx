/**
 * "Make an int8 copy for this device" on a pack's card: offered for an
 * installed pack whose variant this device runs badly (on WebAssembly,
 * float16 without shader-f16, or a buffer over what the GPU binds), with
 * the size before and an estimate after;
 * progress in bytes with the time left, and Cancel. The conversion runs in
 * a worker of its own (the engine's, started for it and ended after), so
 * it neither blocks generation nor stops when this screen is left. Once the
 * copy is there, "Remove the original" frees the original's files.
 */

import { useEffect, useState } from 'preact/hooks';
import { startEngine, type ConversionProgress, type EngineHandle } from '../../engine';
import { chooseBackend, type Capabilities } from '../../shared/capabilities';
import { formatBytes, formatDuration, formatMiB } from '../../shared/format';
import type { PackManifest, PackVariant } from '../../shared/pack-manifest';
import type { InstalledVersion, PackRecord } from '../../store/records';
import { filesForVariant } from '../../store/validate-manifest';
import { isDeviceVariant } from '../../store/variant-writer';
import { getEngine, loadBackendPreference } from '../app/engine';

export interface MakeInt8CopyProps {
  record: PackRecord | null;
  name: string;
}

// ---------------------------------------------------------------------------
// What to offer (pure)

const QUANTIZED = /(^|[^a-z0-9])(u?int[48]|q[48]|quantized)([^0-9]|$)/i;
const HALF = /(^|[^a-z0-9])(fp16|float16|f16|half)([^0-9]|$)/i;

function describes(variant: PackVariant): string {
  return [variant.id, variant.label, variant.components.unet].join(' ');
}

function variantBytes(manifest: PackManifest, id: string): number {
  return filesForVariant(manifest, id).reduce((n, f) => n + (f.size ?? 0), 0);
}

/** Bytes of the variant's model files (and their external data), the part conversion shrinks. */
function modelBytes(manifest: PackManifest, variant: PackVariant): number {
  const tokenizer = new Set([manifest.tokenizer.vocab, manifest.tokenizer.merges]);
  return filesForVariant(manifest, variant.id)
    .filter((f) => !tokenizer.has(f.path))
    .reduce((n, f) => n + (f.size ?? 0), 0);
}

export interface Offer {
  from: PackVariant;
  /** Why this device runs the installed variant badly, as a sentence. */
  reason: string;
  bytesBefore: number;
  /** int8 weights: a quarter of float32, half of float16. */
  estimateAfter: number;
}

/** The copy worth offering for an installed pack on this device, or null. */
export function int8Offer(
  installed: InstalledVersion,
  caps: Capabilities,
  preference = loadBackendPreference(),
): Offer | null {
  const manifest = installed.manifest;
  if (manifest.variants.some(isDeviceVariant)) return null;
  const from = manifest.variants.find((v) => v.default) ?? manifest.variants[0];
  if (!from || QUANTIZED.test(describes(from))) return null;
  const half = from.requires.shaderF16 || HALF.test(describes(from));
  const backend = chooseBackend(caps, preference).backend;
  const gpuOk = from.backends.includes('webgpu') && backend === 'webgpu';
  const binds = caps.webgpu?.maxStorageBufferBindingSize ?? Infinity;
  const needs = from.requires.maxStorageBufferBindingSize;
  let reason: string;
  if (gpuOk && half && !caps.webgpu?.shaderF16)
    reason =
      'This GPU lacks 16-bit float shaders (shader-f16), so this pack runs on the processor here.';
  else if (gpuOk && needs > binds)
    reason = `This GPU binds at most ${formatMiB(binds)} at once and this pack needs ${formatMiB(needs)}; an int8 copy computes its self-attention in blocks, which can bring it under that.`;
  else if (!gpuOk)
    reason = half
      ? 'This device runs this pack on the processor (WebAssembly), which holds a float32 copy of its float16 weights: twice their size.'
      : 'This device runs this pack on the processor (WebAssembly), where int8 weights take a quarter of the memory.';
  else return null;
  const bytesBefore = variantBytes(manifest, from.id);
  const models = modelBytes(manifest, from);
  return {
    from,
    reason,
    bytesBefore,
    estimateAfter: Math.round(bytesBefore - models + models * (half ? 0.5 : 0.25)),
  };
}

// ---------------------------------------------------------------------------
// Conversions in progress, one per pack, kept while this screen is away

type Job =
  | { state: 'running'; progress: ConversionProgress | null; cancel: () => void }
  | { state: 'done'; bytesBefore: number; bytesAfter: number; ms: number }
  | { state: 'failed'; message: string }
  | { state: 'removed'; bytesFreed: number };

const jobs = new Map<string, Job>();
const listeners = new Set<() => void>();

function setJob(packId: string, job: Job | null): void {
  if (job) jobs.set(packId, job);
  else jobs.delete(packId);
  for (const listener of listeners) listener();
}

function useJob(packId: string | undefined): Job | null {
  const [, render] = useState(0);
  useEffect(() => {
    const listener = () => render((n) => n + 1);
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return packId ? (jobs.get(packId) ?? null) : null;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs `work` in a worker started for it, ended after (its memory goes back). */
async function inOwnWorker<T>(work: (engine: EngineHandle) => Promise<T>): Promise<T> {
  const engine = startEngine();
  try {
    return await work(engine);
  } finally {
    engine.terminate();
  }
}

function startCopy(packId: string): void {
  const controller = new AbortController();
  const running = (progress: ConversionProgress | null): Job => ({
    state: 'running',
    progress,
    cancel: () => controller.abort(),
  });
  setJob(packId, running(null));
  void inOwnWorker((engine) =>
    engine.client.call(
      'convertVariant',
      { packId },
      { signal: controller.signal, onProgress: (p) => setJob(packId, running(p)) },
    ),
  ).then(
    (result) =>
      setJob(packId, {
        state: 'done',
        bytesBefore: result.bytesBefore,
        bytesAfter: result.bytesAfter,
        ms: result.ms,
      }),
    (error: unknown) =>
      setJob(
        packId,
        controller.signal.aborted
          ? { state: 'failed', message: 'Cancelled: no copy was kept.' }
          : { state: 'failed', message: message(error) },
      ),
  );
}

async function removeOriginal(packId: string): Promise<void> {
  try {
    const result = await inOwnWorker((engine) => engine.client.call('removeVariants', { packId }));
    setJob(packId, { state: 'removed', bytesFreed: result.bytesFreed });
  } catch (error) {
    setJob(packId, { state: 'failed', message: message(error) });
  }
}

// ---------------------------------------------------------------------------

let detected: Promise<Capabilities> | null = null;

function useCaps(): Capabilities | null {
  const [caps, setCaps] = useState<Capabilities | null>(null);
  useEffect(() => {
    let live = true;
    (detected ??= getEngine().call('detect', undefined))
      .then((c) => live && setCaps(c))
      .catch(() => {
        detected = null;
      });
    return () => {
      live = false;
    };
  }, []);
  return caps;
}

function progressText(p: ConversionProgress | null): string {
  if (!p) return 'Starting…';
  const parts = [`${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`];
  if (p.secondsLeft !== null) parts.push(`${formatDuration(p.secondsLeft)} left`);
  return parts.join(' · ');
}

export function MakeInt8Copy({ record, name }: MakeInt8CopyProps) {
  const caps = useCaps();
  const job = useJob(record?.id);
  const installed = record?.installed;
  if (!record || !installed || record.job) return null;
  const manifest = installed.manifest;
  const copy = manifest.variants.find(isDeviceVariant);

  if (job?.state === 'running')
    return (
      <div class="pack-progress pack-int8">
        <progress
          max={job.progress?.bytesTotal || 1}
          value={job.progress?.bytesDone ?? 0}
          aria-label={`int8 copy of ${name}`}
        />
        <p role="status">Making an int8 copy: {progressText(job.progress)}</p>
        <div class="pack-actions">
          <button type="button" onClick={job.cancel}>
            Cancel
          </button>
        </div>
      </div>
    );

  const notice =
    job?.state === 'failed' ? (
      <p role="alert">{job.message}</p>
    ) : job?.state === 'done' ? (
      <p role="status">
        Made an int8 copy: {formatBytes(job.bytesAfter)} (measured) instead of{' '}
        {formatBytes(job.bytesBefore)}, in {formatDuration(job.ms / 1000)}. This device uses it from
        now on.
      </p>
    ) : job?.state === 'removed' ? (
      <p role="status">Removed the original: {formatBytes(job.bytesFreed)} freed.</p>
    ) : null;

  if (copy) {
    const others = manifest.variants.filter((v) => v.id !== copy.id);
    return (
      <div class="pack-int8">
        {notice}
        <p>
          This device uses the int8 copy made here ({formatBytes(variantBytes(manifest, copy.id))}
          {others.length > 0
            ? `; the original, ${formatBytes(variantBytes(manifest, others[0]!.id))}, is kept too`
            : ''}
          ).
        </p>
        {others.length > 0 && (
          <div class="pack-actions">
            <button type="button" onClick={() => void removeOriginal(record.id)}>
              Remove the original
            </button>
          </div>
        )}
      </div>
    );
  }

  const offer = caps ? int8Offer(installed, caps) : null;
  if (!offer) return notice;
  return (
    <div class="pack-int8">
      {notice}
      <p>
        {offer.reason} An int8 copy made here takes about {formatBytes(offer.estimateAfter)} instead
        of {formatBytes(offer.bytesBefore)}, and works offline like the original.
      </p>
      <div class="pack-actions">
        <button type="button" class="primary" onClick={() => startCopy(record.id)}>
          Make an int8 copy for this device
        </button>
      </div>
    </div>
  );
}
