/** An in-memory HTTP file host for Node tests of the download loop: Range support, faults, a request log. */

export interface FakeFile {
  bytes: Uint8Array;
  etag?: string;
  /** Answer every request with 200 and the whole file. */
  ignoreRange?: boolean;
  status?: number;
  /** Cut the connection after this many body bytes, once. */
  cutAfter?: number;
  /** Never answer this many requests (no head at all) until the request is aborted. */
  hangHead?: number;
  /** Send this many body bytes, then nothing more (no end, no error) until aborted; once. */
  stallAfter?: number;
  /** End the body cleanly after this many bytes (a host with less than it says). */
  endAfter?: number;
  /** Send no Content-Length (as a chunked or compressed response would). */
  noLength?: boolean;
}

export interface LoggedRequest {
  url: string;
  range: string | null;
  /** Bytes of body actually sent. */
  sent: number;
}

function aborted(signal: AbortSignal | null | undefined): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(new DOMException('The operation was aborted.', 'AbortError'));
    if (signal?.aborted) fail();
    else signal?.addEventListener('abort', fail, { once: true });
  });
}

export class FakeServer {
  files = new Map<string, FakeFile>();
  log: LoggedRequest[] = [];

  fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const headers = new Headers(init.headers);
    const entry: LoggedRequest = { url, range: headers.get('Range'), sent: 0 };
    this.log.push(entry);
    const file = this.files.get(url);
    if (!file) return new Response('not found', { status: 404 });
    if (file.hangHead) {
      file.hangHead--;
      return aborted(init.signal);
    }
    if (file.status) return new Response('error', { status: file.status });
    let start = 0;
    let status = 200;
    const h: Record<string, string> = {};
    if (file.etag) h.ETag = file.etag;
    const m = /^bytes=(\d+)-$/.exec(entry.range ?? '');
    if (m && !file.ignoreRange) {
      start = Number(m[1]);
      status = 206;
      h['Content-Range'] = `bytes ${start}-${file.bytes.length - 1}/${file.bytes.length}`;
    }
    let body = file.bytes.subarray(start);
    if (!file.noLength) h['Content-Length'] = String(body.length);
    if (file.endAfter !== undefined) body = body.subarray(0, Math.max(0, file.endAfter - start));
    const cut = file.cutAfter;
    if (cut !== undefined) file.cutAfter = undefined;
    const stall = file.stallAfter;
    if (stall !== undefined) file.stallAfter = undefined;
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < body.length; at += 777) pieces.push(body.subarray(at, at + 777));
    let i = 0;
    const signal = init.signal;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const piece = pieces[i++];
        if (!piece) return controller.close();
        if (stall !== undefined && entry.sent + piece.length > stall) {
          const part = piece.subarray(0, stall - entry.sent);
          if (part.length) controller.enqueue(part);
          entry.sent += part.length;
          await aborted(signal).catch((error: unknown) => controller.error(error));
          return;
        }
        if (cut !== undefined && entry.sent + piece.length > cut) {
          const part = piece.subarray(0, cut - entry.sent);
          if (part.length) controller.enqueue(part);
          entry.sent += part.length;
          controller.error(new TypeError('network error'));
          return;
        }
        entry.sent += piece.length;
        controller.enqueue(piece);
      },
    });
    return new Response(stream, { status, headers: h });
  };
}

export function randomBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
