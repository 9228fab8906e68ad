/**
 * A plain static file server with no special headers (like a cheap static
 * host), for testing the production build. `intercept` lets a test inject
 * faults (cut connections, errors, slowness) for chosen paths.
 */

import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.onnx': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

/** Return true when the request was fully handled by the interceptor. */
export type Interceptor = (
  req: IncomingMessage,
  res: ServerResponse,
  filePath: string | null,
) => boolean | Promise<boolean>;

export interface StaticServer {
  url: string;
  server: Server;
  requests: { method: string; path: string; range: string | undefined }[];
  intercept: Interceptor | null;
  close(): Promise<void>;
}

export async function startStaticServer(
  root: string,
  options: { port?: number } = {},
): Promise<StaticServer> {
  const base = resolve(root);
  const state: StaticServer = {
    url: '',
    server: null as unknown as Server,
    requests: [],
    intercept: null,
    close: () =>
      new Promise((done) => {
        state.server.close(() => done());
        state.server.closeAllConnections();
      }),
  };
  state.server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    state.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      range: req.headers.range,
    });
    let path = normalize(join(base, decodeURIComponent(url.pathname)));
    if (!path.startsWith(base)) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(path) && statSync(path).isDirectory()) path = join(path, 'index.html');
    const filePath = existsSync(path) ? path : null;
    if (state.intercept && (await state.intercept(req, res, filePath))) return;
    if (!filePath) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found');
      return;
    }
    const size = statSync(filePath).size;
    const type = TYPES[extname(filePath)] ?? 'application/octet-stream';
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
        return;
      }
      res.writeHead(206, {
        'Content-Type': type,
        'Content-Length': end - start + 1,
        'Content-Range': `bytes ${start}-${end}/${size}`,
        'Accept-Ranges': 'bytes',
      });
      createReadStream(filePath, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': size, 'Accept-Ranges': 'bytes' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(filePath).pipe(res);
  });
  await new Promise<void>((done) => state.server.listen(options.port ?? 0, '127.0.0.1', done));
  const { port } = state.server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}`;
  return state;
}
