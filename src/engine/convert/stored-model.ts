/**
 * An installed model file as the converter reads it: the model's bytes as a
 * stream of stored chunks, and its external data by byte range, straight
 * from the model store (never the whole file in memory).
 */

import { GessoError } from '../../shared/errors';
import type { KV } from '../../store/kv';
import type { FileRecord } from '../../store/records';
import { RangeReader, streamFile } from '../../store/stream-file';

export interface StoredModel {
  chunks: AsyncIterable<Uint8Array>;
  /** `length` bytes at `offset` of the external-data file the model names `location` (relative to itself). */
  readExternal(location: string, offset: number, length: number): Promise<Uint8Array>;
}

function gone(path: string): GessoError {
  return new GessoError(
    'pack-corrupt',
    `The stored file ${path} is gone (the pack may have been updated or deleted meanwhile). Reload, or download the pack again in Models.`,
  );
}

/** `location` as the model names it, resolved against the model's folder: a manifest path. */
export function resolveLocation(modelPath: string, location: string): string {
  const folder = modelPath.includes('/') ? modelPath.slice(0, modelPath.lastIndexOf('/') + 1) : '';
  const parts: string[] = [];
  for (const part of `${folder}${location}`.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}

export async function openStoredModel(
  kv: KV,
  slot: string,
  modelPath: string,
  externalPaths: string[],
  signal?: AbortSignal,
): Promise<StoredModel> {
  const file = await kv.get<FileRecord>('files', [slot, modelPath]);
  if (!file) throw gone(modelPath);
  const readers = new Map<string, RangeReader>();
  return {
    chunks: streamFile(kv, file, signal),
    async readExternal(location, offset, length) {
      const path = resolveLocation(modelPath, location);
      let reader = readers.get(path);
      if (!reader) {
        if (!externalPaths.includes(path))
          throw new GessoError(
            'pack-missing',
            `The model ${modelPath} keeps weights in "${location}", which its pack does not list. Download the pack again, or ask its publisher to list ${path}.`,
          );
        const record = await kv.get<FileRecord>('files', [slot, path]);
        if (!record) throw gone(path);
        reader = new RangeReader(kv, record);
        readers.set(path, reader);
      }
      return reader.read(offset, length, signal);
    },
  };
}
