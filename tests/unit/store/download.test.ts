import { readFileSync } from 'node:fs';
import { createSHA256 } from 'hash-wasm';
import { beforeEach, describe, expect, it } from 'vitest';
import { GessoError } from '../../../src/shared/errors';
import { prepareJob, runJob, type RunDeps } from '../../../sw/downloads/download-pack';
import { NetworkError } from '../../../sw/downloads/download-file';
import { MemoryKV } from '../../../src/store/kv';
import { ModelStore } from '../../../src/store/model-store';
import { openStoredPack } from '../../../src/store/pack-reader';
import type { FileRecord, PackRecord } from '../../../src/store/records';
import { componentDimensions } from '../../../src/shared/free-dimensions';
import { summariseModel } from '../../../src/shared/onnx/inspect';
import { measureOf } from '../../../src/shared/measured-needs';
import type { ComponentName } from '../../../src/shared/pack-manifest';
import type { PackManifestInput } from '../../../src/store/validate-manifest';
import { FakeServer, randomBytes } from './fake-server';
import { testManifest } from './fixtures';

const BASE = 'https://host.test/pack/';
const CHUNK = 1000;

async function sha(bytes: Uint8Array): Promise<string> {
  const h = await createSHA256();
  h.init();
  h.update(bytes);
  return h.digest('hex');
}

let kv: MemoryKV;
let store: ModelStore;
let server: FakeServer;

function deps(signal = new AbortController().signal): RunDeps {
  return {
    store,
    fetch: server.fetch,
    createHasher: createSHA256,
    signal,
    sleep: async () => {},
    retryDelayMs: 0,
    maxAttempts: 3,
  };
}

async function setup(
  id: string,
  contents: Record<string, Uint8Array>,
  hashes: 'known' | 'null' | 'wrong' = 'known',
  version = '1.0.0',
) {
  const files = [];
  for (const [path, bytes] of Object.entries(contents)) {
    server.files.set(BASE + path, { bytes });
    const sha256 =
      hashes === 'null' ? null : hashes === 'wrong' ? 'f'.repeat(64) : await sha(bytes);
    files.push({ path, size: bytes.length, sha256 });
  }
  const manifest = testManifest(id, files, { version });
  await prepareJob(store, {
    manifest,
    manifestUrl: BASE + 'manifest.json',
    variant: 'main',
    chunkSize: CHUNK,
    origin: 'user',
    licenseAccepted: false,
  });
  return manifest;
}

/** Body bytes the server sent for one URL, over all requests. */
const sentFor = (path: string) =>
  server.log.filter((r) => r.url === BASE + path).reduce((s, r) => s + r.sent, 0);

beforeEach(() => {
  kv = new MemoryKV();
  store = new ModelStore(kv);
  server = new FakeServer();
});

describe('downloading a pack', () => {
  it('stores, verifies and installs; the reader returns the same bytes with no network', async () => {
    const a = randomBytes(4321, 1);
    const b = randomBytes(1000, 2);
    await setup('p', { 'a.onnx': a, 'b.onnx': b });
    const seen: number[] = [];
    const pack = await runJob({ ...deps(), onProgress: (p) => seen.push(p.bytesDone) }, 'p');
    expect(pack.installed?.version).toBe('1.0.0');
    expect(pack.job).toBeNull();
    expect(seen.every((v, i) => i === 0 || v >= seen[i - 1]!)).toBe(true);
    expect(seen.at(-1)).toBe(5321);
    expect(await kv.count('chunks', ['p@1.0.0', 'a.onnx'])).toBe(5);
    const source = await openStoredPack('p', kv);
    server.files.clear();
    expect(await source.read('a.onnx')).toEqual(a);
    expect(await source.read('b.onnx')).toEqual(b);
    expect(source.manifest.files.map((f) => f.size)).toEqual([4321, 1000]);
  });

  it('resumes after a cut from the last whole chunk, fetching no byte twice beyond the partial chunk', async () => {
    const a = randomBytes(10_500, 3);
    await setup('p', { 'a.onnx': a });
    server.files.get(BASE + 'a.onnx')!.cutAfter = 4_700;
    await runJob(deps(), 'p');
    const requests = server.log.filter((r) => r.url === BASE + 'a.onnx');
    expect(requests.map((r) => r.range)).toEqual([null, 'bytes=4000-']);
    expect(sentFor('a.onnx')).toBe(10_500 + 700);
    expect(await (await openStoredPack('p', kv)).read('a.onnx')).toEqual(a);
  });

  it('resumes the hash after a pause (a new run, as after a service-worker restart)', async () => {
    const a = randomBytes(6_000, 4);
    await setup('p', { 'a.onnx': a });
    const controller = new AbortController();
    const pausing: RunDeps = {
      ...deps(controller.signal),
      // Progress counts bytes as they arrive; pause once three whole chunks' worth came.
      onProgress: (p) => {
        if (p.bytesDone >= 3 * CHUNK) controller.abort();
      },
    };
    await expect(runJob(pausing, 'p')).rejects.toMatchObject({ name: 'AbortError' });
    const file = await store.getFile('p@1.0.0', 'a.onnx');
    expect(file?.chunksDone).toBe(3);
    expect(file?.hashState).toBeInstanceOf(Uint8Array);
    await runJob(deps(), 'p');
    expect(server.log.at(-1)?.range).toBe('bytes=3000-');
    expect((await store.getFile('p@1.0.0', 'a.onnx'))?.computedSha256).toBe(await sha(a));
  });

  it('starts the file over when the server ignores Range, and still verifies', async () => {
    const a = randomBytes(5_000, 5);
    await setup('p', { 'a.onnx': a });
    const f = server.files.get(BASE + 'a.onnx')!;
    f.cutAfter = 2_500;
    f.ignoreRange = true;
    await runJob(deps(), 'p');
    expect(server.log.map((r) => r.range)).toEqual([null, 'bytes=2000-']);
    expect(server.log[1]!.sent).toBe(5_000);
    expect(await (await openStoredPack('p', kv)).read('a.onnx')).toEqual(a);
  });

  it('starts over from byte 0 when the file changed (new ETag)', async () => {
    const a = randomBytes(5_000, 6);
    await setup('p', { 'a.onnx': a });
    const f = server.files.get(BASE + 'a.onnx')!;
    f.etag = '"v1"';
    f.cutAfter = 2_500;
    const run = runJob(
      {
        ...deps(),
        fetch: async (url, init) => {
          if (server.log.length === 1) f.etag = '"v2"';
          return server.fetch(url, init);
        },
      },
      'p',
    );
    await run;
    expect(server.log.map((r) => r.range)).toEqual([null, 'bytes=2000-', null]);
    expect((await store.getFile('p@1.0.0', 'a.onnx'))?.etag).toBe('"v2"');
  });

  it('discards a file whose hash does not match and never marks the pack ready', async () => {
    await setup('p', { 'a.onnx': randomBytes(2_500, 7) }, 'wrong');
    const error = await runJob(deps(), 'p').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GessoError);
    expect((error as GessoError).code).toBe('pack-corrupt');
    expect((error as GessoError).message).toMatch(/did not match its published SHA-256/);
    expect((await store.getPack('p'))?.installed).toBeNull();
    expect(await kv.count('chunks', ['p@1.0.0'])).toBe(0);
    expect((await store.getFile('p@1.0.0', 'a.onnx'))?.bytesDone).toBe(0);
    await expect(openStoredPack('p', kv)).rejects.toMatchObject({ code: 'pack-missing' });
  });

  it('checks every file again before install: a stored file that no longer verifies is discarded', async () => {
    for (const [id, damage, fault] of [
      [
        'p',
        (a: FileRecord) => store.putFile({ ...a, computedSha256: '0'.repeat(64) }),
        'its SHA-256 does not match',
      ],
      ['q', (a: FileRecord) => kv.delete('chunks', [a.slot, a.path, 1]), 'parts of it are missing'],
    ] as const) {
      await setup(id, { 'a.onnx': randomBytes(2_000, 17), 'b.onnx': randomBytes(3_000, 18) });
      const b = server.files.get(BASE + 'b.onnx')!;
      b.status = 500;
      await expect(runJob(deps(), id)).rejects.toMatchObject({ code: 'network' });
      const a = await store.getFile(`${id}@1.0.0`, 'a.onnx');
      expect(a?.done).toBe(true);
      await damage(a!); // as a crash or a bug could
      b.status = undefined;
      await expect(runJob(deps(), id)).rejects.toMatchObject({
        code: 'pack-corrupt',
        message: expect.stringContaining(`a.onnx failed its final check (${fault})`),
      });
      expect((await store.getPack(id))?.installed).toBeNull();
      expect((await store.getFile(`${id}@1.0.0`, 'a.onnx'))?.done).toBe(false);
      await runJob(deps(), id); // downloads a.onnx again, then installs
      expect((await store.getPack(id))?.installed?.version).toBe('1.0.0');
    }
  });

  it('records the computed hash of an unverified file', async () => {
    const a = randomBytes(1_234, 8);
    await setup('p', { 'a.onnx': a }, 'null');
    const pack = await runJob(deps(), 'p');
    expect(pack.installed?.unverified).toEqual(['a.onnx']);
    expect((await store.getFile('p@1.0.0', 'a.onnx'))?.computedSha256).toBe(await sha(a));
  });

  it('learns an unpublished size from the server and fills it into the installed manifest', async () => {
    const a = randomBytes(2_345, 16);
    server.files.set(BASE + 'a.onnx', { bytes: a });
    const manifest = testManifest('p', [{ path: 'a.onnx', size: null, sha256: await sha(a) }]);
    await prepareJob(store, {
      manifest,
      manifestUrl: BASE + 'manifest.json',
      variant: 'main',
      chunkSize: CHUNK,
      origin: 'builtin',
      licenseAccepted: false,
    });
    const pack = await runJob(deps(), 'p');
    expect(pack.installed?.manifest.files[0]?.size).toBe(2_345);
    expect((await store.getFile('p@1.0.0', 'a.onnx'))?.size).toBe(2_345);
    expect(await (await openStoredPack('p', kv)).read('a.onnx')).toEqual(a);
  });

  it('fails at once on 404 and after retries on 500, with the reason', async () => {
    await setup('p', { 'a.onnx': randomBytes(10, 9) });
    server.files.get(BASE + 'a.onnx')!.status = 404;
    await expect(runJob(deps(), 'p')).rejects.toMatchObject({
      code: 'network',
      message: expect.stringContaining('HTTP 404'),
    });
    expect(server.log).toHaveLength(1);
    server.log = [];
    server.files.get(BASE + 'a.onnx')!.status = 500;
    await expect(runJob(deps(), 'p')).rejects.toMatchObject({
      code: 'network',
      message: expect.stringContaining('HTTP 500'),
    });
    expect(server.log).toHaveLength(3);
  });

  it('refuses a body longer than the manifest says', async () => {
    const manifest = await setup('p', { 'a.onnx': randomBytes(3_000, 10) });
    server.files.set(BASE + 'a.onnx', { bytes: randomBytes(3_500, 10) });
    expect(manifest.files[0]!.size).toBe(3_000);
    await expect(runJob(deps(), 'p')).rejects.toMatchObject({
      code: 'network',
      message: expect.stringContaining('3500 bytes'),
    });
    expect((await store.getPack('p'))?.installed).toBeNull();
  });
});

describe('updates, quota and other packs', () => {
  it('an update downloads beside the ready version and switches atomically', async () => {
    const v1 = randomBytes(2_000, 11);
    await setup('p', { 'a.onnx': v1 });
    await runJob(deps(), 'p');
    const v2 = randomBytes(3_000, 12);
    await setup('p', { 'a.onnx': v2 }, 'known', '2.0.0');
    server.files.get(BASE + 'a.onnx')!.cutAfter = 1_500;
    server.files.get(BASE + 'a.onnx')!.status = 500;
    await expect(runJob(deps(), 'p')).rejects.toThrow();
    // The failed update left v1 ready and readable.
    expect((await store.getPack('p'))?.installed?.version).toBe('1.0.0');
    expect(await (await openStoredPack('p', kv)).read('a.onnx')).toEqual(v1);
    server.files.get(BASE + 'a.onnx')!.status = undefined;
    await runJob(deps(), 'p');
    expect((await store.getPack('p'))?.installed?.version).toBe('2.0.0');
    expect(await (await openStoredPack('p', kv)).read('a.onnx')).toEqual(v2);
    expect(await kv.count('chunks', ['p@1.0.0'])).toBe(0);
    expect(await kv.count('files', ['p@1.0.0'])).toBe(0);
  });

  it('a quota error fails only the pack being written, as storage-full', async () => {
    const other = randomBytes(1_500, 13);
    await setup('other', { 'a.onnx': other });
    await runJob(deps(), 'other');
    await setup('big', { 'a.onnx': randomBytes(5_000, 14) });
    let puts = 0;
    kv.failPut = (s) =>
      s === 'chunks' && ++puts > 2 ? new DOMException('full', 'QuotaExceededError') : null;
    await expect(runJob(deps(), 'big')).rejects.toMatchObject({
      code: 'storage-full',
      message: expect.stringContaining('saving a.onnx: Test pack big needs 3.00 KB more.'),
    });
    expect((await store.getFile('big@1.0.0', 'a.onnx'))?.chunksDone).toBe(2);
    kv.failPut = null;
    expect(await (await openStoredPack('other', kv)).read('a.onnx')).toEqual(other);
    // Space freed: it resumes from the two chunks it kept.
    await runJob(deps(), 'big');
    expect(server.log.at(-1)?.range).toBe('bytes=2000-');
  });

  it('the reader reports a missing chunk as pack-corrupt', async () => {
    await setup('p', { 'a.onnx': randomBytes(3_000, 15) });
    await runJob(deps(), 'p');
    await kv.delete('chunks', ['p@1.0.0', 'a.onnx', 1]);
    const source = await openStoredPack('p', kv);
    await expect(source.read('a.onnx')).rejects.toMatchObject({ code: 'pack-corrupt' });
    await expect(source.read('nope.onnx')).rejects.toMatchObject({ code: 'pack-missing' });
  });
});

describe('faults: full disk, time limits, short bodies, offline', () => {
  it('a full disk that says "Failed to write blobs" stops at once: storage, not the connection, nothing fetched again', async () => {
    await setup('full', { 'a.onnx': randomBytes(6_000, 21) });
    let puts = 0;
    // What Chromium says on a full disk (measured on a full tmpfs profile): not a QuotaExceededError.
    kv.failPut = (s) =>
      s === 'chunks' && ++puts > 2
        ? new DOMException('Failed to write blobs (IOError)', 'DataError')
        : null;
    const error = await runJob({ ...deps(), maxAttempts: 5 }, 'full').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'storage-full',
      message: expect.stringMatching(
        /^The device ran out of storage space while saving a\.onnx: Test pack full needs 4\.00 KB more\. .*what is downloaded is kept\.$/,
      ),
    });
    // One request: no retry loop sending the file again and again.
    expect(server.log).toHaveLength(1);
    expect((await store.getFile('full@1.0.0', 'a.onnx'))?.chunksDone).toBe(2);
    kv.failPut = null;
    await runJob(deps(), 'full');
    expect(server.log.map((r) => r.range)).toEqual([null, 'bytes=2000-']);
  });

  it('any other failed store write is storage too (storage-refused), never retried as a network error', async () => {
    await setup('broken', { 'a.onnx': randomBytes(3_000, 22) });
    kv.failPut = (s) =>
      s === 'chunks'
        ? new DOMException('The database connection is closing.', 'InvalidStateError')
        : null;
    await expect(runJob(deps(), 'broken')).rejects.toMatchObject({
      code: 'storage-refused',
      message: expect.stringContaining(
        "The browser's storage refused to save a.onnx (InvalidStateError: The database connection is closing.): Test pack broken needs 3.00 KB more.",
      ),
    });
    expect(server.log).toHaveLength(1);
  });

  it('a host that never answers times out with a sentence (connect limit, retried, then failed)', async () => {
    await setup('silent', { 'a.onnx': randomBytes(2_000, 23) });
    server.files.get(BASE + 'a.onnx')!.hangHead = 99;
    const started = Date.now();
    await expect(runJob({ ...deps(), connectTimeoutMs: 30 }, 'silent')).rejects.toMatchObject({
      code: 'network',
      message:
        "Couldn't download a.onnx: the host did not answer within 30 ms. Check the connection and resume; the download continues where it stopped.",
    });
    expect(server.log).toHaveLength(3); // maxAttempts
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a body that stops sending is dropped after the stall limit and resumed by Range', async () => {
    const a = randomBytes(5_000, 24);
    await setup('stall', { 'a.onnx': a });
    server.files.get(BASE + 'a.onnx')!.stallAfter = 2_500;
    const retries: string[] = [];
    await runJob(
      { ...deps(), stallTimeoutMs: 30, onRetry: (r) => retries.push(r.reason) } as RunDeps,
      'stall',
    );
    expect(retries).toEqual(['the host stopped sending data for 30 ms']);
    expect(server.log.map((r) => r.range)).toEqual([null, 'bytes=2000-']);
    expect(await (await openStoredPack('stall', kv)).read('a.onnx')).toEqual(a);
  });

  it('a short body without Content-Length is the host sending less than the manifest says, not a dropped connection', async () => {
    await setup('short', { 'a.onnx': randomBytes(5_000, 25) });
    Object.assign(server.files.get(BASE + 'a.onnx')!, { noLength: true, endAfter: 3_100 });
    await expect(runJob(deps(), 'short')).rejects.toMatchObject({
      code: 'network',
      message: expect.stringContaining(
        "Couldn't download a.onnx: the host sent 3.10 KB where the pack says 5.00 KB (3100 of 5000 bytes)",
      ),
    });
    expect(server.log).toHaveLength(1); // not retried as a cut
    expect((await store.getFile('short@1.0.0', 'a.onnx'))?.chunksDone).toBe(3); // what came is kept
  });

  it('progress counts bytes as they arrive, before a whole chunk is stored', async () => {
    await setup('slow', { 'a.onnx': randomBytes(900, 26) }); // less than one chunk
    const seen: number[] = [];
    await runJob({ ...deps(), onProgress: (p) => seen.push(p.bytesDone) }, 'slow');
    expect(seen).toContain(777); // the first piece, while no chunk was stored yet
    expect(seen.at(-1)).toBe(900);
  });

  it('offline, a failed request waits for the network instead of using up its retries', async () => {
    await setup('offline', { 'a.onnx': randomBytes(2_000, 27) });
    const error = await runJob(
      {
        ...deps(),
        fetch: () => Promise.reject(new TypeError('Failed to fetch')),
        isOnline: () => false,
      },
      'offline',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ transient: true, offline: true });
    expect((error as Error).message).toMatch(
      /^You're offline, so the download of a\.onnx stopped at 0 B\. It continues by itself/,
    );
  });
});

describe('measuring the models at install', () => {
  const demo = (path: string) => new Uint8Array(readFileSync(`public/packs/demo/${path}`));
  const models = {
    'text_encoder.onnx': demo('text_encoder/model.int8.onnx'),
    'unet.onnx': demo('preview_decoder/model.int8.onnx'),
    'vae_decoder.onnx': demo('vae_decoder/model.int8.onnx'),
  };
  const components: [ComponentName, keyof typeof models][] = [
    ['textEncoder', 'text_encoder.onnx'],
    ['unet', 'unet.onnx'],
    ['vaeDecoder', 'vae_decoder.onnx'],
  ];

  /** runJob, counting the chunk reads by path. */
  async function install(): Promise<{ pack: PackRecord; reads: Map<string, number> }> {
    const reads = new Map<string, number>();
    const get = kv.get.bind(kv);
    kv.get = (async (name: Parameters<typeof kv.get>[0], key: Parameters<typeof kv.get>[1]) => {
      if (name === 'chunks') {
        const path = (key as string[])[1]!;
        reads.set(path, (reads.get(path) ?? 0) + 1);
      }
      return get(name, key);
    }) as typeof kv.get;
    return { pack: await runJob(deps(), 'm'), reads };
  }

  async function expected(manifest: PackManifestInput) {
    return Promise.all(
      components.map(async ([component, path]) =>
        measureOf(
          component,
          await summariseModel([models[path]], componentDimensions(manifest, component)),
        ),
      ),
    );
  }

  it('measures each model as its chunks are stored, reading none back', async () => {
    const manifest = await setup('m', models);
    const { pack, reads } = await install();
    expect(reads).toEqual(new Map());
    const measured = pack.installed!.measured!;
    expect(measured).toEqual(await expected(manifest));
    expect(measured.every((m) => m.unknownValues === 0 && m.largestActivationBytes > 0)).toBe(true);
    // The installed requirements are the measured ones, not the manifest's placeholder 1 byte.
    const largest = Math.max(
      ...measured.map((m) => Math.max(m.largestWeightBytes, m.largestActivationBytes)),
    );
    expect(pack.installed!.manifest.variants[0]!.requires.maxStorageBufferBindingSize).toBe(
      largest,
    );
  });

  it('keeps measuring across a cut resumed in the same run (the chunks still come in order)', async () => {
    const manifest = await setup('m', models);
    server.files.get(BASE + 'unet.onnx')!.cutAfter = 20_500;
    const { pack, reads } = await install();
    expect(server.log.filter((r) => r.url === BASE + 'unet.onnx').map((r) => r.range)).toEqual([
      null,
      'bytes=20000-',
    ]);
    expect(reads).toEqual(new Map());
    expect(pack.installed!.measured).toEqual(await expected(manifest));
  });

  it('after a pause, reads back only the files the earlier run stored (whole or in part)', async () => {
    const manifest = await setup('m', models);
    const controller = new AbortController();
    const pausing: RunDeps = {
      ...deps(controller.signal),
      onProgress: (p) => {
        if (p.bytesDone >= models['text_encoder.onnx'].length + 10 * CHUNK) controller.abort();
      },
    };
    await expect(runJob(pausing, 'm')).rejects.toMatchObject({ name: 'AbortError' });
    const { pack, reads } = await install();
    expect([...reads.keys()].sort()).toEqual(['text_encoder.onnx', 'unet.onnx']);
    expect(pack.installed!.measured).toEqual(await expected(manifest));
  });

  it('installs files that are not models, with no measure for them', async () => {
    await setup('m', { 'a.onnx': randomBytes(5000, 9) });
    const { pack } = await install();
    expect(pack.installed!.measured).toEqual([]);
    expect(pack.installed!.manifest.variants[0]!.requires.maxStorageBufferBindingSize).toBe(1);
  });
});
