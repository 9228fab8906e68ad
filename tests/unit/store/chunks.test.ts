import { describe, expect, it } from 'vitest';
import { chunkBounds, chunkCount } from '../../../src/store/chunk-layout';
import {
  ChunkAssembler,
  judgeResponse,
  parseContentRange,
  resumePoint,
  type ResponseHead,
} from '../../../sw/downloads/chunks';

const head = (over: Partial<ResponseHead>): ResponseHead => ({
  status: 200,
  contentRange: null,
  contentLength: null,
  etag: null,
  lastModified: null,
  ...over,
});

describe('chunk bookkeeping', () => {
  it('counts chunks, with a short last one', () => {
    expect(chunkCount(0, 4)).toBe(0);
    expect(chunkCount(4, 4)).toBe(1);
    expect(chunkCount(5, 4)).toBe(2);
    expect(chunkCount(1_733_430_199, 4 * 1024 * 1024)).toBe(414);
    expect(chunkBounds(1, 10, 4)).toEqual({ start: 4, end: 8 });
    expect(chunkBounds(2, 10, 4)).toEqual({ start: 8, end: 10 });
  });

  it('resumes at the first byte after the last whole chunk', () => {
    expect(resumePoint(0, 1000)).toEqual({ offset: 0, index: 0, range: null });
    expect(resumePoint(3, 1000)).toEqual({ offset: 3000, index: 3, range: 'bytes=3000-' });
  });

  it('assembles arbitrary network pieces into whole chunks and keeps the partial rest', () => {
    const a = new ChunkAssembler(4);
    const data = Uint8Array.from({ length: 11 }, (_, i) => i);
    const out = [
      ...a.push(data.subarray(0, 3)),
      ...a.push(data.subarray(3, 9)),
      ...a.push(data.subarray(9)),
    ];
    expect(out.map((c) => [...c])).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    expect(a.pending).toBe(3);
    expect([...a.flush()!]).toEqual([8, 9, 10]);
    expect(a.flush()).toBeNull();
  });
});

describe('Content-Range', () => {
  it('parses valid headers', () => {
    expect(parseContentRange('bytes 100-199/1000')).toEqual({ start: 100, end: 199, total: 1000 });
    expect(parseContentRange('bytes 0-0/*')).toEqual({ start: 0, end: 0, total: null });
  });
  it('rejects malformed or impossible ones', () => {
    expect(parseContentRange(null)).toBeNull();
    expect(parseContentRange('bytes */1000')).toBeNull();
    expect(parseContentRange('bytes 200-100/1000')).toBeNull();
    expect(parseContentRange('bytes 0-1000/1000')).toBeNull();
    expect(parseContentRange('items 0-1/2')).toBeNull();
  });
});

describe('judgeResponse', () => {
  const fresh = { offset: 0, expectedSize: 1000, validators: null };
  const resumed = {
    offset: 400,
    expectedSize: 1000,
    validators: { etag: '"a"', lastModified: null },
  };

  it('appends a whole-file 200 to a fresh download', () => {
    expect(judgeResponse(fresh, head({ contentLength: '1000' }))).toEqual({
      kind: 'append',
      total: 1000,
    });
  });
  it('appends a 206 that starts where it was asked to', () => {
    const v = judgeResponse(
      resumed,
      head({ status: 206, contentRange: 'bytes 400-999/1000', etag: '"a"' }),
    );
    expect(v).toEqual({ kind: 'append', total: 1000 });
  });
  it('restarts with the body when the server ignored Range (200 to a ranged GET)', () => {
    expect(judgeResponse(resumed, head({ contentLength: '1000' })).kind).toBe('restart-with-body');
  });
  it('refetches from zero when the ETag changed', () => {
    const v = judgeResponse(
      resumed,
      head({ status: 206, contentRange: 'bytes 400-999/1000', etag: '"b"' }),
    );
    expect(v).toMatchObject({ kind: 'refetch', reason: expect.stringContaining('ETag') });
  });
  it('refetches when Last-Modified changed and there is no ETag', () => {
    const state = {
      offset: 400,
      expectedSize: 1000,
      validators: { etag: null, lastModified: 'Mon' },
    };
    expect(
      judgeResponse(
        state,
        head({ status: 206, contentRange: 'bytes 400-999/1000', lastModified: 'Tue' }),
      ).kind,
    ).toBe('refetch');
  });
  it('refetches when the range starts elsewhere or is malformed', () => {
    expect(
      judgeResponse(resumed, head({ status: 206, contentRange: 'bytes 0-999/1000' })).kind,
    ).toBe('refetch');
    expect(judgeResponse(resumed, head({ status: 206, contentRange: 'garbage' })).kind).toBe(
      'refetch',
    );
    expect(judgeResponse(resumed, head({ status: 416 })).kind).toBe('refetch');
  });
  it('accepts a 206 whose Content-Range is hidden (cross-origin, not exposed) when its length fits', () => {
    expect(judgeResponse(resumed, head({ status: 206, contentLength: '600' }))).toEqual({
      kind: 'append',
      total: 1000,
    });
    expect(judgeResponse(resumed, head({ status: 206, contentLength: '1000' })).kind).toBe(
      'refetch',
    );
  });
  it('fails without retry when the size differs from the manifest', () => {
    expect(judgeResponse(fresh, head({ contentLength: '999' }))).toMatchObject({
      kind: 'fail',
      retry: false,
    });
    expect(
      judgeResponse(
        resumed,
        head({ status: 206, contentRange: 'bytes 400-1099/1100', etag: '"a"' }),
      ),
    ).toMatchObject({
      kind: 'fail',
      retry: false,
    });
  });
  it('retries server errors but not missing files', () => {
    expect(judgeResponse(fresh, head({ status: 500 }))).toMatchObject({
      kind: 'fail',
      retry: true,
    });
    expect(judgeResponse(fresh, head({ status: 503 }))).toMatchObject({
      kind: 'fail',
      retry: true,
    });
    expect(judgeResponse(fresh, head({ status: 404 }))).toMatchObject({
      kind: 'fail',
      retry: false,
    });
    expect(judgeResponse(fresh, head({ status: 403 }))).toMatchObject({
      kind: 'fail',
      retry: false,
    });
  });
  it('learns the size from the server when the manifest has none', () => {
    const unknown = { offset: 0, expectedSize: null, validators: null };
    expect(judgeResponse(unknown, head({ contentLength: '1234' }))).toEqual({
      kind: 'append',
      total: 1234,
    });
  });
});

describe('rate and time left', async () => {
  const { RateMeter, secondsLeft } = await import('../../../sw/downloads/progress');
  it('measures over a sliding window', () => {
    const m = new RateMeter(1000);
    m.add(0, 0);
    expect(m.rate()).toBeNull();
    m.add(500, 500_000);
    expect(m.rate()).toBe(1_000_000);
    m.add(3000, 1_000_000);
    // The first samples left the window: 500 KB over the last 2.5 s.
    expect(m.rate()).toBe(200_000);
    expect(secondsLeft(1_000_000, 200_000)).toBe(5);
    expect(secondsLeft(1, null)).toBeNull();
  });
});

describe('space check', async () => {
  const { checkSpace } = await import('../../../sw/downloads/space');
  it('refuses with the numbers', () => {
    expect(checkSpace('SD-Turbo', 2.6e9, { usage: 0.4e9, quota: 1.5e9 })).toEqual({
      ok: false,
      freeBytes: 1.1e9,
      message: expect.stringMatching(/^SD-Turbo needs 2.60 GB, 1.10 GB free\./),
    });
    expect(checkSpace('X', 1e9, { usage: 0, quota: 2e9 }).ok).toBe(true);
  });
});
