/**
 * The import's writing half: for each component, the template graph as it
 * is (its weights already point into `model.onnx_data` at fixed offsets)
 * and the data file, one tensor at a time in offset order, each read from
 * the checkpoint with Blob.slice, LoRAs fused in, and encoded. Live memory
 * is one tensor (its bytes, float32 values and encoded bytes), never the file.
 */

import { GessoError } from '../../shared/errors';
import type { PackFile } from '../../shared/pack-manifest';
import { fuseLoras, type LoraPlan } from './lora';
import type { LowRankAdd } from './ort-low-rank';
import type { ImportPlan } from './plan';
import { floatsOf, readTensorBytes } from './safetensors';
import { diffusersValues, encodeForTemplate, halfBytesForTemplate } from './tensor';
import { PACK_PATHS, type Template } from './template';

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

export interface FileSink {
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<PackFile>;
}

/** Starts a pack file (replacing anything stored at that path). */
export type OpenSink = (path: string) => Promise<FileSink>;

export interface WriteOptions {
  loras?: readonly LoraPlan[];
  /** The fusion's matrix product (ort-low-rank.ts); the JavaScript loop by default. */
  lowRank?: LowRankAdd;
  signal?: AbortSignal;
  /** Checkpoint bytes read so far, of plan.bytesIn. */
  onProgress?: (bytesIn: number) => void;
  /** Called with each path before its first byte (to clean up after a failure). */
  onStart?: (path: string) => void;
  /** Files an earlier attempt stored whole: a component whose two files are here is not written again. */
  done?: ReadonlyMap<string, PackFile>;
}

function aborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new GessoError('aborted', 'Cancelled.');
}

export async function writeModels(
  file: Blob,
  plan: ImportPlan,
  template: Template,
  open: OpenSink,
  options: WriteOptions = {},
): Promise<PackFile[]> {
  const files: PackFile[] = [];
  let read = 0;
  for (const { component, jobs } of plan.components) {
    const paths = PACK_PATHS[component];
    aborted(options.signal);
    const kept = [options.done?.get(paths.graph), options.done?.get(paths.data)];
    if (kept[0] && kept[1] && kept[1].size === template.components[component].map.dataBytes) {
      files.push(kept[0], kept[1]);
      for (const job of jobs)
        read += (job.source.end - job.source.begin) / (job.third === null ? 1 : 3);
      options.onProgress?.(read);
      continue;
    }
    options.onStart?.(paths.graph);
    const graph = await open(paths.graph);
    await graph.write(template.components[component].graph);
    files.push(await graph.close());
    options.onStart?.(paths.data);
    const data = await open(paths.data);
    let at = 0;
    for (const job of jobs) {
      aborted(options.signal);
      if (job.entry.offset !== at)
        throw new GessoError(
          'internal',
          `${job.entry.onnx}: the template's data file has a gap at ${at}.`,
        );
      const what = `The weight ${job.source.key} in "${file instanceof File ? file.name : 'the model file'}"`;
      const bytes = await readTensorBytes(file, job.source);
      const touched = options.loras?.some(
        (l) => l.strength !== 0 && l.modules.has(job.entry.diffusers),
      );
      const fast =
        !touched && job.source.dtype === 'F16' && job.entry.dataType === 10 && LITTLE_ENDIAN
          ? halfBytesForTemplate(bytes, job.entry, job.third)
          : null;
      if (fast) await data.write(fast);
      else {
        const source = floatsOf(bytes, job.source.dtype, what);
        // floatsOf made a fresh array: LoRAs are fused into it (or its third) in place, no copy
        const values = diffusersValues(source, job.entry, job.third);
        if (touched)
          await fuseLoras(values, job.entry, options.loras!, 'diffusers', options.lowRank);
        await data.write(encodeForTemplate(values, job.entry));
      }
      at += job.entry.length;
      read += (job.source.end - job.source.begin) / (job.third === null ? 1 : 3);
      options.onProgress?.(read);
    }
    files.push(await data.close());
  }
  return files;
}
