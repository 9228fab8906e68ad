/**
 * Test packs served from memory through the static server's intercept hook,
 * with Range support and injectable faults, and a log of the body bytes each
 * request really sent (the static server's own log has no sizes).
 */

import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StaticServer } from '../../helpers/static-server';
import { randomBytes } from '../../unit/store/fake-server';
import { testManifest } from '../../unit/store/fixtures';
import type { PackManifestInput } from '../../../src/store/validate-manifest';

export interface Fault {
  /** HTTP status to answer with instead of the file. */
  status?: number;
  /** Answer ranged requests with 200 and the whole file. */
  ignoreRange?: boolean;
  /** Destroy the connection after this many body bytes (once). */
  cutAfter?: number;
  /** Milliseconds between 4 KB pieces. */
  pieceDelayMs?: number;
  /** After the cut, the host replaces the file with other bytes of the same size (new ETag). */
  changeAfterCut?: boolean;
  /** Never answer (no status, no headers) while set: a host that accepts the connection and says nothing. */
  hang?: boolean;
  /** Send this many body bytes, then nothing more, neither end nor error (once). */
  stallAfter?: number;
  /** Send no Content-Length (chunked encoding, as compressed or streamed responses come). */
  noLength?: boolean;
  /** The file ends cleanly after this many bytes of the whole file (a host with less than the manifest says). */
  endAfter?: number;
}

export interface Sent {
  method: string;
  path: string;
  range: string | undefined;
  status: number;
  sent: number;
  /** The request's Sec-Fetch-Dest and Sec-Fetch-Mode headers (who fetched it). */
  fetchedBy: string;
}

export interface TestPack {
  id: string;
  name: string;
  manifestUrl: string;
  manifest: PackManifestInput;
  files: Record<string, Uint8Array>;
  faults: Record<string, Fault>;
  /** Never answer requests for the manifest while set. */
  manifestHang?: boolean;
}

export const PREFIX = '/test-packs/';

export class PackHost {
  readonly packs = new Map<string, TestPack>();
  readonly log: Sent[] = [];
  /** Responses still open (streaming or hanging). */
  private readonly open = new Set<ServerResponse>();

  /**
   * `cors`: serve as another origin would, like Hugging Face: CORS allowed,
   * but no Access-Control-Expose-Headers, so Content-Range and ETag are
   * unreadable to the app. Preflights (OPTIONS) are refused.
   */
  constructor(
    private readonly server: StaticServer,
    private readonly options: { cors?: boolean } = {},
  ) {
    server.intercept = (req, res) => this.handle(req, res);
  }

  /** A pack of `sizes.length` random files; hashes published unless `sha256` says otherwise. */
  add(
    id: string,
    sizes: number[],
    options: { sha256?: 'wrong' | 'null'; version?: string } = {},
  ): TestPack {
    const files: Record<string, Uint8Array> = {};
    sizes.forEach((size, i) => (files[`f${i}.onnx`] = randomBytes(size, id.length * 31 + i)));
    const entries = Object.entries(files).map(([path, bytes]) => ({
      path,
      size: bytes.length,
      sha256:
        options.sha256 === 'null'
          ? null
          : options.sha256 === 'wrong'
            ? '0'.repeat(64)
            : createHash('sha256').update(bytes).digest('hex'),
    }));
    const manifest = testManifest(id, entries, { version: options.version ?? '1.0.0' });
    const pack: TestPack = {
      id,
      name: manifest.name,
      manifestUrl: `${this.server.url}${PREFIX}${id}/manifest.json`,
      manifest,
      files,
      faults: {},
    };
    this.packs.set(id, pack);
    return pack;
  }

  sentFor(id: string, path: string): Sent[] {
    return this.log.filter((s) => s.path === `${PREFIX}${id}/${path}`);
  }

  /** Body bytes sent for one file, over all requests. */
  bytesFor(id: string, path: string): number {
    return this.sentFor(id, path).reduce((n, s) => n + s.sent, 0);
  }

  /** Drops every open connection, as a network that goes away does. */
  dropConnections(): void {
    for (const res of this.open) res.destroy();
    this.open.clear();
  }

  private handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(PREFIX)) return false;
    const [id, ...rest] = url.pathname.slice(PREFIX.length).split('/');
    const pack = this.packs.get(id ?? '');
    const path = rest.join('/');
    const entry: Sent = {
      method: req.method ?? 'GET',
      path: url.pathname,
      range: req.headers.range,
      status: 200,
      sent: 0,
      fetchedBy: `${req.headers['sec-fetch-dest']}/${req.headers['sec-fetch-mode']}/${req.headers['cache-control'] ?? ''}`,
    };
    this.log.push(entry);
    const cors: Record<string, string> = this.options.cors
      ? { 'Access-Control-Allow-Origin': '*' }
      : {};
    const respond = (
      status: number,
      headers: Record<string, string | number>,
      body?: Uint8Array | string,
    ) => {
      entry.status = status;
      res.writeHead(status, { ...cors, ...headers }).end(body);
    };
    if (req.method === 'OPTIONS') return (respond(405, {}, 'no preflight'), true);
    if (!pack) return (respond(404, {}, 'no such pack'), true);
    if (path === 'manifest.json' && pack.manifestHang) return (this.hold(res), true);
    if (path === 'manifest.json')
      return (
        respond(200, { 'Content-Type': 'application/json' }, JSON.stringify(pack.manifest)),
        true
      );
    const bytes = pack.files[path];
    const fault = pack.faults[path] ?? {};
    if (!bytes) return (respond(404, {}, 'not found'), true);
    if (fault.status)
      return (respond(fault.status, { 'Content-Type': 'text/plain' }, 'fault'), true);
    if (fault.hang) return (this.hold(res), true);
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    const headers: Record<string, string | number> = {
      ...cors,
      'Content-Type': 'application/octet-stream',
      'Accept-Ranges': 'bytes',
      ETag: `"${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}"`,
    };
    if (range && !fault.ignoreRange) {
      start = Number(range[1]);
      headers['Content-Range'] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
      entry.status = 206;
    }
    let body = bytes.subarray(start);
    if (!fault.noLength) headers['Content-Length'] = body.length;
    if (fault.endAfter !== undefined) body = body.subarray(0, Math.max(0, fault.endAfter - start));
    res.writeHead(entry.status, headers);
    const cut = fault.cutAfter;
    if (cut !== undefined) fault.cutAfter = undefined;
    if (cut !== undefined && fault.changeAfterCut)
      pack.files[path] = randomBytes(bytes.length, 999);
    const stall = fault.stallAfter;
    if (stall !== undefined) fault.stallAfter = undefined;
    this.open.add(res);
    res.on('close', () => this.open.delete(res));
    void this.stream(res, body, entry, cut, fault.pieceDelayMs ?? 0, stall);
    return true;
  }

  /** Keeps the request open without a word until the client gives up (or dropConnections). */
  private hold(res: ServerResponse): void {
    this.open.add(res);
    res.on('close', () => this.open.delete(res));
  }

  private async stream(
    res: ServerResponse,
    body: Uint8Array,
    entry: Sent,
    cut: number | undefined,
    delay: number,
    stall?: number,
  ) {
    const PIECE = 4096;
    for (let at = 0; at < body.length; at += PIECE) {
      if (res.destroyed) return;
      let piece = body.subarray(at, at + PIECE);
      if (stall !== undefined && entry.sent + piece.length >= stall) {
        piece = piece.subarray(0, stall - entry.sent);
        res.write(piece);
        entry.sent += piece.length;
        return; // and never another byte: the client's stall limit must drop it
      }
      if (cut !== undefined && entry.sent + piece.length >= cut) {
        piece = piece.subarray(0, cut - entry.sent);
        res.write(piece);
        entry.sent += piece.length;
        // Let the bytes reach the browser, then drop the connection.
        await new Promise((done) => setTimeout(done, 300));
        res.destroy();
        return;
      }
      if (!res.write(piece)) await new Promise((done) => res.once('drain', done));
      entry.sent += piece.length;
      if (delay) await new Promise((done) => setTimeout(done, delay));
    }
    res.end();
  }
}
