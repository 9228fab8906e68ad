/**
 * The whole path a user takes with a full-size shape-true pack (gigabytes),
 * in pieces for tests/browser/models/realsize-full.test.ts: a static host
 * serving a pack folder straight from disk (another origin: CORS, Range, no
 * exposed headers; nothing held in the test's memory), a watch on the memory
 * of every Chromium process with a limit that stops the browser, IndexedDB
 * read without reading the gigabytes back, and Create driven as a person
 * would.
 */

import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import type { Page } from 'playwright-core';
import type { PackManifestInput } from '../../../src/store/validate-manifest';
import { descendants, rss } from './memory';
import { awaitRun, prepareRun } from './realsize-pack';

// ---------------------------------------------------------------------------
// A plain static host for pack folders on disk

export interface Served {
  path: string;
  range: string | undefined;
  status: number;
  /** Body bytes written to the connection. */
  sent: number;
  /** Sec-Fetch-Dest/Sec-Fetch-Mode of the request (who fetched it). */
  fetchedBy: string;
}

export interface DiskPack {
  id: string;
  name: string;
  dir: string;
  manifestUrl: string;
  manifest: PackManifestInput;
  /** Bytes of every file the manifest lists. */
  bytes: number;
}

export interface DiskHost {
  url: string;
  log: Served[];
  add(dir: string): DiskPack;
  /** Requests for `pack`'s files (not its manifest). */
  sentFor(pack: DiskPack): Served[];
  close(): Promise<void>;
}

/**
 * Serves pack folders as a cheap static host on another origin would, like
 * Hugging Face: `Access-Control-Allow-Origin: *`, Range requests, an ETag, no
 * Access-Control-Expose-Headers, preflights refused. Files stream from disk.
 */
export async function startDiskHost(): Promise<DiskHost> {
  const packs = new Map<string, DiskPack>();
  const log: Served[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const [, id, ...rest] = url.pathname.split('/');
    const entry: Served = {
      path: url.pathname,
      range: req.headers.range,
      status: 200,
      sent: 0,
      fetchedBy: `${req.headers['sec-fetch-dest']}/${req.headers['sec-fetch-mode']}`,
    };
    log.push(entry);
    const cors = { 'Access-Control-Allow-Origin': '*' };
    const fail = (status: number, text: string) => {
      entry.status = status;
      res.writeHead(status, { ...cors, 'Content-Type': 'text/plain' }).end(text);
    };
    if (req.method === 'OPTIONS') return fail(405, 'no preflight');
    const pack = packs.get(id ?? '');
    const path = decodeURIComponent(rest.join('/'));
    if (!pack) return fail(404, 'no such pack');
    const file = normalize(join(pack.dir, path));
    if (!file.startsWith(pack.dir + '/')) return fail(403, 'outside the pack');
    let size: number;
    let mtime: number;
    try {
      const stat = statSync(file);
      if (!stat.isFile()) return fail(404, 'not found');
      ({ size, mtimeMs: mtime } = stat);
    } catch {
      return fail(404, 'not found');
    }
    const headers: Record<string, string | number> = {
      ...cors,
      'Content-Type': path.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      'Accept-Ranges': 'bytes',
      ETag: `"${size.toString(16)}-${Math.round(mtime).toString(16)}"`,
    };
    let start = 0;
    let end = size - 1;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size) {
        entry.status = 416;
        res.writeHead(416, { ...cors, 'Content-Range': `bytes */${size}` }).end();
        return;
      }
      entry.status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    }
    headers['Content-Length'] = end - start + 1;
    res.writeHead(entry.status, headers);
    if (req.method === 'HEAD') return void res.end();
    const stream = createReadStream(file, { start, end, highWaterMark: 1 << 20 });
    stream.on('data', (chunk) => {
      entry.sent += chunk.length;
      if (!res.write(chunk)) stream.pause();
    });
    res.on('drain', () => stream.resume());
    stream.on('end', () => res.end());
    stream.on('error', () => res.destroy());
    res.on('close', () => stream.destroy());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    log,
    add(dir) {
      const manifest = JSON.parse(
        readFileSync(join(dir, 'manifest.json'), 'utf8'),
      ) as PackManifestInput;
      const pack: DiskPack = {
        id: manifest.id,
        name: manifest.name,
        dir: normalize(dir),
        manifestUrl: `${url}/${manifest.id}/manifest.json`,
        manifest,
        bytes: manifest.files.reduce((n, f) => n + (f.size ?? 0), 0),
      };
      packs.set(pack.id, pack);
      return pack;
    },
    sentFor: (pack) =>
      log.filter((s) => s.path.startsWith(`/${pack.id}/`) && !s.path.endsWith('/manifest.json')),
    close: () =>
      new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------
// Memory of every Chromium process, watched

export interface MemoryPhase {
  /** Summed RSS of all Chromium processes when the phase began. */
  start: number;
  /** Its peak during the phase. */
  peak: number;
  /** The largest single process's RSS during the phase. */
  peakProcess: number;
}

/**
 * Samples the summed RSS of every process below this one (Chromium's) every
 * `intervalMs`; past `limit` it kills them (by their ids: all were started by
 * this test process) and calls `onExceeded`, once.
 */
export class MemoryWatch {
  private readonly phases = new Set<MemoryPhase>();
  private readonly timer: ReturnType<typeof setInterval>;
  exceeded: string | null = null;
  latest = 0;

  constructor(
    private readonly limit: number,
    private readonly onExceeded: (why: string) => void,
    intervalMs = 250,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): number {
    const pids = descendants();
    let total = 0;
    let largest = 0;
    for (const pid of pids) {
      const bytes = rss([pid]);
      total += bytes;
      largest = Math.max(largest, bytes);
    }
    this.latest = total;
    for (const phase of this.phases) {
      phase.peak = Math.max(phase.peak, total);
      phase.peakProcess = Math.max(phase.peakProcess, largest);
    }
    if (total > this.limit && !this.exceeded) {
      this.exceeded = `Chromium's processes reached ${GB(total)}, past the ${GB(this.limit)} limit: the browser was stopped`;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      this.onExceeded(this.exceeded);
    }
    return total;
  }

  /** Starts measuring a phase; the returned function ends it. */
  phase(): () => MemoryPhase {
    const now = this.sample();
    const phase: MemoryPhase = { start: now, peak: now, peakProcess: 0 };
    this.phases.add(phase);
    return () => {
      this.sample();
      this.phases.delete(phase);
      return phase;
    };
  }

  /** The lowest summed RSS over `ms` (pages freed by an ended worker go back within moments). */
  async settled(ms: number): Promise<number> {
    let low = this.sample();
    const end = Date.now() + ms;
    while (Date.now() < end) {
      await new Promise((done) => setTimeout(done, 250));
      low = Math.min(low, this.sample());
    }
    return low;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

// ---------------------------------------------------------------------------
// Figures

export const GB = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export interface Row {
  pack: string;
  phase: string;
  time: string;
  bytes: string;
  before: string;
  peak: string;
  notes: string;
}

/** The rows as a Markdown table. */
export function table(rows: Row[]): string {
  const head: Row = {
    pack: 'pack',
    phase: 'phase',
    time: 'time',
    bytes: 'bytes',
    before: 'Chromium RSS before',
    peak: 'peak (largest process)',
    notes: 'notes',
  };
  const keys = Object.keys(head) as (keyof Row)[];
  const line = (row: Row) => `| ${keys.map((k) => row[k].replace(/\|/g, '/')).join(' | ')} |`;
  return [line(head), `| ${keys.map(() => '---').join(' | ')} |`, ...rows.map(line)].join('\n');
}

export function memoryCells(memory: MemoryPhase): Pick<Row, 'before' | 'peak'> {
  return { before: GB(memory.start), peak: `${GB(memory.peak)} (${GB(memory.peakProcess)})` };
}

// ---------------------------------------------------------------------------
// What the browser holds

export interface StoredFiles {
  installedVersion: string | null;
  /** Bytes of the installed version as the record counts them. */
  installedBytes: number;
  variants: string[];
  jobState: string | null;
  jobError: string | null;
  /** Per stored path: the file record's bytesDone and done, and the number of chunks. */
  files: Record<string, { bytesDone: number; done: boolean; chunks: number }>;
}

/** A pack's record and file records (raw IndexedDB), chunks counted, not read. */
export async function readFiles(page: Page, packId: string): Promise<StoredFiles | null> {
  return page.evaluate(async (id) => {
    const db = await new Promise<IDBDatabase>((done, fail) => {
      const open = indexedDB.open('gesso-models');
      open.onsuccess = () => done(open.result);
      open.onerror = () => fail(open.error);
    });
    const ask = <T>(request: () => IDBRequest) =>
      new Promise<T>((done, fail) => {
        const r = request();
        r.onsuccess = () => done(r.result as T);
        r.onerror = () => fail(r.error);
      });
    type Rec = {
      installed: {
        slot: string;
        version: string;
        bytes: number;
        manifest: { variants: { id: string }[] };
      } | null;
      job: { slot: string; state: string; error: { message: string } | null } | null;
    };
    const pack = await ask<Rec | undefined>(() =>
      db.transaction('packs').objectStore('packs').get(id),
    );
    if (!pack) return (db.close(), null);
    const slot = pack.installed?.slot ?? pack.job?.slot;
    const files: Record<string, { bytesDone: number; done: boolean; chunks: number }> = {};
    if (slot) {
      const records = await ask<{ path: string; bytesDone: number; done: boolean }[]>(() =>
        db
          .transaction('files')
          .objectStore('files')
          .getAll(IDBKeyRange.bound([slot], [slot, []])),
      );
      for (const f of records)
        files[f.path] = {
          bytesDone: f.bytesDone,
          done: f.done,
          chunks: await ask<number>(() =>
            db
              .transaction('chunks')
              .objectStore('chunks')
              .count(IDBKeyRange.bound([slot, f.path], [slot, f.path, []])),
          ),
        };
    }
    db.close();
    return {
      installedVersion: pack.installed?.version ?? null,
      installedBytes: pack.installed?.bytes ?? 0,
      variants: pack.installed?.manifest.variants.map((v) => v.id) ?? [],
      jobState: pack.job?.state ?? null,
      jobError: pack.job?.error?.message ?? null,
      files,
    };
  }, packId);
}

/** What the origin uses, as the browser estimates it. */
export async function storageUsed(page: Page): Promise<{ usage: number; quota: number }> {
  return page.evaluate(async () => {
    const { usage = 0, quota = 0 } = await navigator.storage.estimate();
    return { usage, quota };
  });
}

/** Backend, variant and stage timings of the newest gallery item. */
export async function lastRun(page: Page): Promise<Record<string, unknown>> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((done, fail) => {
      const open = indexedDB.open('gesso-gallery');
      open.onsuccess = () => done(open.result);
      open.onerror = () => fail(open.error);
    });
    const items = await new Promise<
      { createdAt: number; run: Record<string, unknown>; recipe?: { pack?: unknown } }[]
    >((done) => {
      const request = db.transaction('items').objectStore('items').getAll();
      request.onsuccess = () => done(request.result as never);
    });
    db.close();
    const newest = items.sort((a, b) => b.createdAt - a.createdAt)[0];
    return newest ? { ...newest.run, pack: newest.recipe?.pack } : {};
  });
}

/** The engine's stage timings in whole milliseconds, as text. */
export function engineTimes(timings: unknown): string {
  return Object.entries((timings ?? {}) as Record<string, unknown>)
    .map(
      ([stage, ms]) =>
        `${stage.replace(/Ms$/, '')} ${JSON.stringify(ms, (_, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))}`,
    )
    .join(', ');
}

// ---------------------------------------------------------------------------
// Create

export interface Generated {
  /** Click to the first step (the model loading), ms. */
  loadMs: number;
  /** First step to the image, ms. */
  generateMs: number;
  width: number;
  height: number;
  /** Distinct red values in the image (a noise picture has many). */
  distinctRed: number;
}

/**
 * Generates on Create (model chosen): fills Seed and Prompt, clicks Generate,
 * and waits for the image; throws with the app's alert when it says why not.
 */
export async function generateOnCreate(
  page: Page,
  prompt: string,
  seed: number,
  timeout: number,
  /** Called when the model has loaded (the first step began), with the load's milliseconds. */
  onLoaded?: (loadMs: number) => void,
): Promise<Generated> {
  const { alt, before } = await prepareRun(page, prompt, seed);
  const start = Date.now();
  await page.getByRole('button', { name: 'Generate' }).click();
  const { state, loadMs, generateMs } = await awaitRun(
    page,
    { alt, before, start, timeout },
    { load: 100, steps: 250 },
    onLoaded,
  );
  if (state !== 'done') throw new Error(`generation failed: ${state}`);
  const image = await page.getByRole('img', { name: alt, exact: true }).evaluate((node) => {
    const img = node as HTMLImageElement;
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d')!;
    context.drawImage(img, 0, 0);
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    const reds = new Set<number>();
    for (let i = 0; i < data.length; i += 4) reds.add(data[i]!);
    return { width: canvas.width, height: canvas.height, distinctRed: reds.size };
  });
  return { loadMs, generateMs, ...image };
}
