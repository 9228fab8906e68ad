/**
 * Downloads one file into the store: a plain GET or a single Range header
 * (CORS-safelisted, no preflight), chunks written as they fill, SHA-256
 * updated incrementally and saved with every chunk, resumed from the last
 * whole chunk after any interruption. Runtime-agnostic: the service worker
 * runs it; Node tests run it against a fake fetch and an in-memory KV.
 */

import type { IHasher } from 'hash-wasm';
import { GessoError, isAbortError } from '../../src/shared/errors';
import { ChunkAssembler, judgeResponse, resumePoint, type ResponseHead } from './chunks';
import { isQuotaError, type ModelStore } from '../../src/store/model-store';
import type { FileRecord } from '../../src/store/records';

export interface DownloadDeps {
  store: ModelStore;
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  createHasher: () => Promise<IHasher>;
  signal: AbortSignal;
  /** Called after every stored chunk with the file's new record. */
  onChunk?: (file: FileRecord) => void;
  sleep?: (ms: number) => Promise<void>;
  /** Attempts in a row without a stored chunk before giving up on network errors. */
  maxAttempts?: number;
  retryDelayMs?: number;
}

const defaultSleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

function headOf(response: Response): ResponseHead {
  const h = response.headers;
  return {
    status: response.status,
    contentRange: h.get('Content-Range'),
    contentLength: h.get('Content-Encoding') ? null : h.get('Content-Length'),
    etag: h.get('ETag'),
    lastModified: h.get('Last-Modified'),
  };
}

function storageFull(path: string, cause: unknown): GessoError {
  return new GessoError(
    'storage-full',
    `The device ran out of storage space while saving ${path}. Free some space (delete packs or images), then resume.`,
    { cause },
  );
}

class Retry extends Error {}

/** Resolves with the completed, verified record; throws GessoError (or an AbortError). */
export async function downloadFile(deps: DownloadDeps, start: FileRecord): Promise<FileRecord> {
  const { store, signal } = deps;
  const sleep = deps.sleep ?? defaultSleep;
  const maxAttempts = deps.maxAttempts ?? 5;
  const retryDelay = deps.retryDelayMs ?? 1000;
  let file = start;
  let failures = 0;
  let restarts = 0;
  let lastReason = '';

  const abortIfNeeded = () => {
    if (signal.aborted) throw new DOMException('Download paused or cancelled.', 'AbortError');
  };

  while (!file.done) {
    abortIfNeeded();
    if (failures > 0) {
      if (failures >= maxAttempts)
        throw new GessoError(
          'network',
          `Couldn't download ${file.path}: ${lastReason}. Check the connection and resume; the download continues where it stopped.`,
        );
      await sleep(retryDelay * 2 ** (failures - 1));
      abortIfNeeded();
    }
    const point = resumePoint(file.chunksDone, file.chunkSize);
    let response: Response;
    try {
      response = await deps.fetch(file.url, {
        headers: point.range ? { Range: point.range } : {},
        referrerPolicy: 'no-referrer',
        credentials: 'omit',
        cache: 'no-store',
        signal,
      });
    } catch (error) {
      if (isAbortError(error) || signal.aborted) throw error;
      failures++;
      lastReason = 'the connection failed';
      continue;
    }
    const head = headOf(response);
    const verdict = judgeResponse(
      {
        offset: point.offset,
        expectedSize: file.size,
        validators:
          file.chunksDone > 0 ? { etag: file.etag, lastModified: file.lastModified } : null,
      },
      head,
    );
    const validators = { etag: head.etag, lastModified: head.lastModified };
    if (verdict.kind === 'fail') {
      void response.body?.cancel().catch(() => {});
      lastReason = verdict.reason;
      if (verdict.retry) {
        failures++;
        continue;
      }
      throw new GessoError(
        'network',
        `Couldn't download ${file.path}: ${verdict.reason}. The pack's host may have moved or changed it.`,
      );
    }
    if (verdict.kind === 'refetch') {
      void response.body?.cancel().catch(() => {});
      if (++restarts > 3)
        throw new GessoError(
          'network',
          `Couldn't download ${file.path}: ${verdict.reason}, again and again.`,
        );
      file = await wrapQuota(file.path, store.resetFile(file, { etag: null, lastModified: null }));
      continue;
    }
    if (verdict.kind === 'restart-with-body') {
      if (++restarts > 3)
        throw new GessoError(
          'network',
          `Couldn't download ${file.path}: ${verdict.reason}, again and again.`,
        );
      file = await wrapQuota(file.path, store.resetFile(file, validators));
    } else if (point.offset === 0) {
      file = { ...file, ...validators };
    }
    if (file.size === null && verdict.total !== null) file = { ...file, size: verdict.total };

    const before = file.chunksDone;
    try {
      file = await consume(deps, file, response);
    } catch (error) {
      if (!(error instanceof Retry)) throw error;
      lastReason = error.message;
      // consume() stored every whole chunk it got; carry on from there.
      file = (await store.getFile(file.slot, file.path)) ?? file;
      failures = file.chunksDone > before ? 0 : failures + 1;
    }
  }
  return file;
}

async function wrapQuota<T>(path: string, promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw isQuotaError(error) ? storageFull(path, error) : error;
  }
}

/** Reads one response body into chunks. Returns the new record; throws Retry on a cut. */
async function consume(
  deps: DownloadDeps,
  start: FileRecord,
  response: Response,
): Promise<FileRecord> {
  const { store, signal } = deps;
  let file = start;
  const hasher = await deps.createHasher();
  if (file.chunksDone > 0 && file.hashState) hasher.load(file.hashState);
  else hasher.init();
  const assembler = new ChunkAssembler(file.chunkSize);
  if (!response.body) throw new Retry('the server sent no body');
  const reader = response.body.getReader();

  const store1 = async (chunk: Uint8Array) => {
    hasher.update(chunk);
    const next: FileRecord = {
      ...file,
      chunksDone: file.chunksDone + 1,
      bytesDone: file.bytesDone + chunk.byteLength,
      hashState: hasher.save(),
    };
    await wrapQuota(file.path, store.writeChunk(next, file.chunksDone, chunk));
    file = next;
    deps.onChunk?.(file);
  };

  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (file.size !== null && file.bytesDone + assembler.pending + value.byteLength > file.size) {
        void reader.cancel().catch(() => {});
        throw new GessoError(
          'network',
          `Couldn't download ${file.path}: the server sent more than the ${file.size} bytes the pack says. The pack's host may have changed the file.`,
        );
      }
      for (const chunk of assembler.push(value)) await store1(chunk);
      if (signal.aborted) {
        void reader.cancel().catch(() => {});
        throw new DOMException('Download paused or cancelled.', 'AbortError');
      }
    }
  } catch (error) {
    if (error instanceof GessoError || isAbortError(error) || signal.aborted) throw error;
    throw new Retry('the connection dropped');
  }
  if (file.size !== null && file.bytesDone + assembler.pending < file.size)
    throw new Retry('the connection dropped');
  const last = assembler.flush();
  if (last) await store1(last);
  if (file.size === null) file = { ...file, size: file.bytesDone };

  const digest = hasher.digest('hex');
  if (file.sha256 !== null && digest !== file.sha256) {
    await store.resetFile(file, { etag: null, lastModified: null });
    throw new GessoError(
      'pack-corrupt',
      `${file.path} did not match its published SHA-256 (expected ${file.sha256.slice(0, 12)}…, got ${digest.slice(0, 12)}…), so it was discarded. Try again; if it fails again, the pack's host serves a different file than the manifest describes.`,
    );
  }
  const finished: FileRecord = { ...file, computedSha256: digest, hashState: null, done: true };
  await wrapQuota(file.path, store.putFile(finished));
  return finished;
}
