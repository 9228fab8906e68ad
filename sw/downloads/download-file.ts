/**
 * Downloads one file into the store: a plain GET or a single Range header
 * (CORS-safelisted, no preflight), chunks written as they fill, SHA-256
 * updated incrementally and saved with every chunk, resumed from the last
 * whole chunk after any interruption. Runtime-agnostic: the service worker
 * runs it; Node tests run it against a fake fetch and an in-memory KV.
 *
 * Every wait has a limit (the response head: connectTimeoutMs; each piece of
 * the body: stallTimeoutMs). A failed store write is a storage failure, never
 * a dropped connection: the download stops at once and keeps what it stored.
 */

import type { IHasher } from 'hash-wasm';
import { GessoError } from '../../src/shared/errors';
import { formatBytes } from '../../src/shared/format';
import { ChunkAssembler, judgeResponse, resumePoint, type ResponseHead } from './chunks';
import type { ModelStore } from '../../src/store/model-store';
import { describeStorageError, storageFailure } from '../../src/store/storage-errors';
import type { FileRecord } from '../../src/store/records';
import { realClock, TimeoutError, withTimeout, type Clock } from './timeouts';

/** Defaults for the two time limits (the store's configure call can change them). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;

export interface RetryInfo {
  path: string;
  /** The attempt about to be made, counting those in a row that stored nothing (1: progress was made). */
  attempt: number;
  of: number;
  reason: string;
  delayMs: number;
}

export interface DownloadDeps {
  store: ModelStore;
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  createHasher: () => Promise<IHasher>;
  signal: AbortSignal;
  /** Called after every stored chunk with the file's new record. */
  onChunk?: (file: FileRecord) => void;
  /** Called with each chunk's bytes once stored (`index`: its place in the file); the loop waits for it. */
  onStored?: (file: FileRecord, index: number, chunk: Uint8Array) => Promise<void> | void;
  /** Called as bytes arrive: the file's record and the bytes received for its next, unstored chunk. */
  onBytes?: (file: FileRecord, pending: number) => void;
  /** Called before each retry, with why the last attempt failed. */
  onRetry?: (info: RetryInfo) => void;
  sleep?: (ms: number) => Promise<void>;
  /** Attempts in a row without a stored chunk before giving up on network errors. */
  maxAttempts?: number;
  retryDelayMs?: number;
  /** How long the host may take to send the response head. */
  connectTimeoutMs?: number;
  /** How long the body may go without a byte. */
  stallTimeoutMs?: number;
  clock?: Clock;
  /** False when the device knows it is offline (navigator.onLine): a failed request then waits for the network. */
  isOnline?: () => boolean;
}

/**
 * A download failure that is the network's or the host's. `transient`: it may
 * work later without anything changing here (a timeout, a dropped
 * connection, HTTP 5xx), so coming back online retries it; `offline`: the
 * device was offline when it failed.
 */
export class NetworkError extends GessoError {
  constructor(
    message: string,
    readonly transient: boolean,
    readonly offline = false,
  ) {
    super('network', message);
  }
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

/** A failed store write as a sentence: storage-full when there is no room, storage-refused otherwise. */
export function storageError(path: string, cause: unknown): GessoError {
  if (cause instanceof GessoError) return cause;
  if (storageFailure(cause, true) === 'full')
    return new GessoError(
      'storage-full',
      `The device ran out of storage space while saving ${path}. Free some space (delete packs or images), then resume.`,
      { cause },
    );
  return new GessoError(
    'storage-refused',
    `The browser's storage refused to save ${path} (${describeStorageError(cause)}). Free some space or reload Gesso, then resume.`,
    { cause },
  );
}

/** Runs a store write; any failure is a storage failure (never a network one). */
async function saving<T>(path: string, write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    throw storageError(path, error);
  }
}

function abortError(): DOMException {
  return new DOMException('Download paused or cancelled.', 'AbortError');
}

class Retry extends Error {}

/** Resolves with the completed, verified record; throws GessoError (or an AbortError). */
export async function downloadFile(deps: DownloadDeps, start: FileRecord): Promise<FileRecord> {
  const { store, signal } = deps;
  const sleep = deps.sleep ?? defaultSleep;
  const clock = deps.clock ?? realClock;
  const maxAttempts = deps.maxAttempts ?? 5;
  const retryDelay = deps.retryDelayMs ?? 1000;
  const connectTimeout = deps.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const isOnline = deps.isOnline ?? (() => true);
  let file = start;
  let failures = 0;
  let restarts = 0;
  let lastReason = '';

  const abortIfNeeded = () => {
    if (signal.aborted) throw abortError();
  };
  const offline = () =>
    new NetworkError(
      `You're offline, so the download of ${file.path} stopped at ${formatBytes(file.bytesDone)}. It continues by itself when the connection is back (or press Retry).`,
      true,
      true,
    );

  while (!file.done) {
    abortIfNeeded();
    if (failures > 0) {
      if (failures >= maxAttempts)
        throw new NetworkError(
          `Couldn't download ${file.path}: ${lastReason}. Check the connection and resume; the download continues where it stopped.`,
          true,
        );
      const delayMs = retryDelay * 2 ** (failures - 1);
      deps.onRetry?.({
        path: file.path,
        attempt: failures + 1,
        of: maxAttempts,
        reason: lastReason,
        delayMs,
      });
      await sleep(delayMs);
      abortIfNeeded();
    }
    const point = resumePoint(file.chunksDone, file.chunkSize);
    // One controller per request: a time limit aborts the request, not the job.
    const request = new AbortController();
    const forward = () => request.abort();
    signal.addEventListener('abort', forward, { once: true });
    try {
      let response: Response;
      try {
        response = await withTimeout(
          deps.fetch(file.url, {
            headers: point.range ? { Range: point.range } : {},
            referrerPolicy: 'no-referrer',
            credentials: 'omit',
            cache: 'no-store',
            signal: request.signal,
          }),
          'connect',
          connectTimeout,
          () => request.abort(),
          clock,
        );
      } catch (error) {
        if (signal.aborted) throw abortError();
        if (!isOnline()) throw offline();
        failures++;
        lastReason = error instanceof TimeoutError ? error.message : 'the connection failed';
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
        throw new NetworkError(
          `Couldn't download ${file.path}: ${verdict.reason}. The pack's host may have moved or changed it.`,
          false,
        );
      }
      if (verdict.kind === 'refetch') {
        void response.body?.cancel().catch(() => {});
        if (++restarts > 3)
          throw new NetworkError(
            `Couldn't download ${file.path}: ${verdict.reason}, again and again.`,
            false,
          );
        file = await saving(file.path, store.resetFile(file, { etag: null, lastModified: null }));
        continue;
      }
      if (verdict.kind === 'restart-with-body') {
        if (++restarts > 3)
          throw new NetworkError(
            `Couldn't download ${file.path}: ${verdict.reason}, again and again.`,
            false,
          );
        file = await saving(file.path, store.resetFile(file, validators));
      } else if (point.offset === 0) {
        file = { ...file, ...validators };
      }
      if (file.size === null && verdict.total !== null) file = { ...file, size: verdict.total };

      const before = file.chunksDone;
      try {
        file = await consume(deps, file, response, request, head.contentLength !== null);
      } catch (error) {
        if (!(error instanceof Retry)) throw error;
        if (signal.aborted) throw abortError();
        lastReason = error.message;
        // consume() stored every whole chunk it got; carry on from there.
        file = (await saving(file.path, store.getFile(file.slot, file.path))) ?? file;
        failures = file.chunksDone > before ? 0 : failures + 1;
        // Progress was made, so it resumes at once (no wait): still, say why it stopped.
        if (failures === 0)
          deps.onRetry?.({
            path: file.path,
            attempt: 1,
            of: maxAttempts,
            reason: lastReason,
            delayMs: 0,
          });
      }
    } finally {
      signal.removeEventListener('abort', forward);
    }
  }
  return file;
}

/**
 * Reads one response body into chunks. Returns the new record; throws Retry
 * on a cut or a stall, GessoError when storing fails or the body is wrong.
 * `hasLength`: the response said how long it is.
 */
async function consume(
  deps: DownloadDeps,
  start: FileRecord,
  response: Response,
  request: AbortController,
  hasLength: boolean,
): Promise<FileRecord> {
  const { store, signal } = deps;
  const clock = deps.clock ?? realClock;
  const stallTimeout = deps.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
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
    await saving(file.path, store.writeChunk(next, file.chunksDone, chunk));
    const index = file.chunksDone;
    file = next;
    deps.onChunk?.(file);
    await deps.onStored?.(file, index, chunk);
  };

  try {
    for (;;) {
      const { done, value } = await withTimeout(
        reader.read(),
        'stall',
        stallTimeout,
        () => request.abort(),
        clock,
      );
      if (done) break;
      if (file.size !== null && file.bytesDone + assembler.pending + value.byteLength > file.size)
        throw new NetworkError(
          `Couldn't download ${file.path}: the server sent more than the ${file.size} bytes the pack says. The pack's host may have changed the file.`,
          false,
        );
      for (const chunk of assembler.push(value)) await store1(chunk);
      deps.onBytes?.(file, assembler.pending);
      if (signal.aborted) throw abortError();
    }
  } catch (error) {
    // Whatever stopped the loop, the rest of this body is not wanted.
    void reader.cancel().catch(() => {});
    request.abort();
    if (error instanceof GessoError || signal.aborted) throw error;
    throw new Retry(error instanceof TimeoutError ? error.message : 'the connection dropped');
  }
  const received = file.bytesDone + assembler.pending;
  if (file.size !== null && received < file.size) {
    // With a length, a short body is a cut (the browser reports it as an error, but be safe).
    if (hasLength) throw new Retry('the connection dropped');
    // Without one, the body simply ended: the host has less than the manifest says.
    throw new NetworkError(
      `Couldn't download ${file.path}: the host sent ${formatBytes(received)} where the pack says ${formatBytes(file.size)} (${received} of ${file.size} bytes), and said nothing about a shorter length. The pack's host may have changed or cut the file; try again later, or ask the pack's author.`,
      false,
    );
  }
  const last = assembler.flush();
  if (last) await store1(last);
  if (file.size === null) file = { ...file, size: file.bytesDone };

  const digest = hasher.digest('hex');
  if (file.sha256 !== null && digest !== file.sha256) {
    await saving(file.path, store.resetFile(file, { etag: null, lastModified: null }));
    throw new GessoError(
      'pack-corrupt',
      `${file.path} did not match its published SHA-256 (expected ${file.sha256.slice(0, 12)}…, got ${digest.slice(0, 12)}…), so it was discarded. Try again; if it fails again, the pack's host serves a different file than the manifest describes.`,
    );
  }
  const finished: FileRecord = { ...file, computedSha256: digest, hashState: null, done: true };
  await saving(file.path, store.putFile(finished));
  return finished;
}
