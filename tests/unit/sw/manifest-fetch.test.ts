import { describe, expect, it } from 'vitest';
import { fetchManifestJson } from '../../../sw/downloads/manifest-fetch';
import { ManualClock } from './manual-clock';

const URL_ = 'https://host.example/manifest.json';

describe('fetching a manifest with a time limit: "Add pack" never stuck', () => {
  it('a host that never answers gives a sentence when the limit passes, and the request is aborted', async () => {
    const clock = new ManualClock();
    let signal: AbortSignal | undefined;
    const result = fetchManifestJson(
      {
        fetch: (_, init) => {
          signal = init.signal ?? undefined;
          return new Promise<Response>(() => {});
        },
        timeoutMs: 15_000,
        clock,
      },
      URL_,
    );
    await Promise.resolve();
    clock.advance(15_000);
    await expect(result).rejects.toMatchObject({
      code: 'network',
      message:
        "Couldn't load the manifest: the host did not answer within 15 s. Check the address and the connection, then try again.",
    });
    expect(signal?.aborted).toBe(true);
  });

  it('a body that never ends counts against the same limit', async () => {
    const clock = new ManualClock();
    const body = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}) });
    const result = fetchManifestJson(
      { fetch: async () => new Response(body, { status: 200 }), timeoutMs: 1000, clock },
      URL_,
    );
    await new Promise((r) => setTimeout(r, 10));
    clock.advance(1000);
    await expect(result).rejects.toMatchObject({ message: expect.stringContaining('within 1 s') });
  });

  it('says what went wrong otherwise', async () => {
    const fetchWith = (response: Response | Error) => ({
      fetch: async () => {
        if (response instanceof Error) throw response;
        return response;
      },
    });
    await expect(
      fetchManifestJson(fetchWith(new Response('x', { status: 404 })), URL_),
    ).rejects.toMatchObject({
      message:
        "Couldn't load the manifest: the server answered HTTP 404. Check the address; the pack may have moved.",
    });
    await expect(fetchManifestJson(fetchWith(new Response('<html>')), URL_)).rejects.toMatchObject({
      message: expect.stringContaining('it is not JSON'),
    });
    await expect(
      fetchManifestJson(fetchWith(new TypeError('Failed to fetch')), URL_),
    ).rejects.toMatchObject({
      message: expect.stringContaining('the host must allow cross-origin requests'),
    });
    await expect(fetchManifestJson(fetchWith(new Response('{"a":1}')), URL_)).resolves.toEqual({
      a: 1,
    });
    await expect(
      fetchManifestJson({ ...fetchWith(new Response('{}')), isOnline: () => false }, URL_),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/^You're offline/),
    });
    await expect(
      fetchManifestJson(fetchWith(new Response('{}')), 'ftp://x/y'),
    ).rejects.toMatchObject({
      code: 'invalid-manifest',
    });
  });
});
