/**
 * Resume arithmetic and response checks for chunked downloads: pure
 * functions, no I/O. Only whole chunks (src/store/chunk-layout.ts) are ever
 * written, so a download resumes from `chunksDone * chunkSize`, never
 * re-fetching more than one partial chunk.
 */

export interface ResumePoint {
  /** First byte to fetch. */
  offset: number;
  /** Index of the next chunk to write. */
  index: number;
  /** The single Range header to send, or null for a plain GET. */
  range: string | null;
}

export function resumePoint(chunksDone: number, chunkSize: number): ResumePoint {
  const offset = chunksDone * chunkSize;
  return { offset, index: chunksDone, range: offset > 0 ? `bytes=${offset}-` : null };
}

export interface ContentRange {
  start: number;
  /** Inclusive, as in the header. */
  end: number;
  total: number | null;
}

/** Parses `bytes a-b/total` (total may be `*`); null when malformed. */
export function parseContentRange(header: string | null): ContentRange | null {
  const match = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(header ?? '');
  if (!match) return null;
  const start = Number(match[1]);
  const end = Number(match[2]);
  const total = match[3] === '*' ? null : Number(match[3]);
  if (end < start || (total !== null && end >= total)) return null;
  return { start, end, total };
}

export interface Validators {
  etag: string | null;
  lastModified: string | null;
}

export interface RequestState {
  /** Where this request asked to start (0 for a plain GET). */
  offset: number;
  /** Size the manifest promises, or null when unknown. */
  expectedSize: number | null;
  /** Validators seen when the file was started, if any. */
  validators: Validators | null;
}

export interface ResponseHead {
  status: number;
  contentRange: string | null;
  contentLength: string | null;
  etag: string | null;
  lastModified: string | null;
}

export type Verdict =
  /** Append the body at `offset`. `total` is the file size when known. */
  | { kind: 'append'; total: number | null }
  /** The body is the whole file from byte 0: drop stored chunks and take it. */
  | { kind: 'restart-with-body'; reason: string; total: number | null }
  /** Drop stored chunks and fetch again without Range. */
  | { kind: 'refetch'; reason: string }
  | { kind: 'fail'; retry: boolean; reason: string };

function changed(before: Validators | null, head: ResponseHead): string | null {
  if (!before) return null;
  if (before.etag && head.etag && before.etag !== head.etag)
    return 'the file changed on the server (new ETag)';
  if (
    !before.etag &&
    before.lastModified &&
    head.lastModified &&
    before.lastModified !== head.lastModified
  )
    return 'the file changed on the server (new Last-Modified)';
  return null;
}

function lengthOf(head: ResponseHead): number | null {
  const value = Number(head.contentLength ?? NaN);
  return head.contentLength !== null && Number.isInteger(value) && value >= 0 ? value : null;
}

/** Decides what to do with a response to a (possibly ranged) GET. */
export function judgeResponse(request: RequestState, head: ResponseHead): Verdict {
  const { status } = head;
  if (status === 200) {
    const total = lengthOf(head) ?? request.expectedSize;
    if (
      request.expectedSize !== null &&
      lengthOf(head) !== null &&
      lengthOf(head) !== request.expectedSize
    )
      return {
        kind: 'fail',
        retry: false,
        reason: `the server sends ${lengthOf(head)} bytes where the pack says ${request.expectedSize}`,
      };
    if (request.offset === 0) return { kind: 'append', total };
    return { kind: 'restart-with-body', reason: 'the server ignored the Range request', total };
  }
  if (status === 206) {
    if (request.offset === 0)
      return { kind: 'refetch', reason: 'the server sent a range that was not asked for' };
    if (head.contentRange === null) {
      // Cross-origin, Content-Range is readable only if the server exposes it
      // (Access-Control-Expose-Headers). A 206 answers the one range asked for;
      // check what can be checked (the length), and the final hash does the rest.
      const length = lengthOf(head);
      if (
        request.expectedSize !== null &&
        length !== null &&
        length !== request.expectedSize - request.offset
      )
        return {
          kind: 'refetch',
          reason: `the server sent ${length} bytes from byte ${request.offset} of ${request.expectedSize}`,
        };
      const why = changed(request.validators, head);
      if (why) return { kind: 'refetch', reason: why };
      return { kind: 'append', total: request.expectedSize };
    }
    const range = parseContentRange(head.contentRange);
    if (!range) return { kind: 'refetch', reason: 'the server sent a malformed Content-Range' };
    const why = changed(request.validators, head);
    if (why) return { kind: 'refetch', reason: why };
    if (
      request.expectedSize !== null &&
      range.total !== null &&
      range.total !== request.expectedSize
    )
      return {
        kind: 'fail',
        retry: false,
        reason: `the file on the server is ${range.total} bytes where the pack says ${request.expectedSize}`,
      };
    if (range.start !== request.offset)
      return {
        kind: 'refetch',
        reason: `the server answered from byte ${range.start}, not ${request.offset}`,
      };
    return { kind: 'append', total: range.total ?? request.expectedSize };
  }
  if (status === 416)
    return {
      kind: 'refetch',
      reason: 'the server says the resume point is past the end of the file',
    };
  if (status === 404 || status === 410)
    return { kind: 'fail', retry: false, reason: `the server has no such file (HTTP ${status})` };
  if (status === 401 || status === 403)
    return { kind: 'fail', retry: false, reason: `the server refused access (HTTP ${status})` };
  if (status === 408 || status === 429 || status >= 500)
    return { kind: 'fail', retry: true, reason: `the server had an error (HTTP ${status})` };
  return { kind: 'fail', retry: false, reason: `the server answered HTTP ${status}` };
}

/**
 * Cuts incoming bytes into chunk-sized records. `push` returns whole chunks
 * ready to store; `rest` is the partial chunk a cut would lose.
 */
export class ChunkAssembler {
  private buffer: Uint8Array;
  private filled = 0;
  constructor(readonly chunkSize: number) {
    this.buffer = new Uint8Array(chunkSize);
  }

  get pending(): number {
    return this.filled;
  }

  push(data: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let at = 0;
    while (at < data.length) {
      const take = Math.min(this.chunkSize - this.filled, data.length - at);
      this.buffer.set(data.subarray(at, at + take), this.filled);
      this.filled += take;
      at += take;
      if (this.filled === this.chunkSize) {
        out.push(this.buffer);
        this.buffer = new Uint8Array(this.chunkSize);
        this.filled = 0;
      }
    }
    return out;
  }

  /** The final short chunk at end of file (or null when the file ended on a boundary). */
  flush(): Uint8Array | null {
    if (this.filled === 0) return null;
    const last = this.buffer.slice(0, this.filled);
    this.filled = 0;
    return last;
  }
}
