import { afterEach, describe, expect, it, vi } from 'vitest';
import { fetchPackSource } from '../../../src/engine/fetch-pack-source';
import { classifyOrtError } from '../../../src/engine/ort-session';

const bytes = new TextEncoder().encode('hello') as Uint8Array<ArrayBuffer>;
// sha256("hello")
const HELLO = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';

function serve(files: Record<string, Uint8Array | string | number>) {
  vi.stubGlobal('fetch', async (url: string) => {
    const body = files[new URL(url).pathname];
    if (body === undefined) return new Response('missing', { status: 404 });
    if (typeof body === 'number') return new Response('error', { status: body });
    return new Response(body as BodyInit);
  });
}

const manifest = (sha256: string | null, size = 5) =>
  JSON.stringify({ format: 'gesso-pack@1', files: [{ path: 'a/model.onnx', size, sha256 }] });

afterEach(() => vi.unstubAllGlobals());

describe('fetch-based pack source', () => {
  it('reads a file relative to the manifest and checks its SHA-256', async () => {
    serve({ '/packs/demo/manifest.json': manifest(HELLO), '/packs/demo/a/model.onnx': bytes });
    const source = await fetchPackSource('http://app.test/packs/demo/manifest.json');
    expect(new TextDecoder().decode(await source.read('a/model.onnx'))).toBe('hello');
  });

  it('reports a damaged file, a missing file and a missing pack with their codes', async () => {
    serve({
      '/packs/demo/manifest.json': manifest('0'.repeat(64)),
      '/packs/demo/a/model.onnx': bytes,
    });
    const source = await fetchPackSource('http://app.test/packs/demo/manifest.json');
    await expect(source.read('a/model.onnx')).rejects.toMatchObject({ code: 'pack-corrupt' });
    await expect(source.read('b.onnx')).rejects.toMatchObject({ code: 'pack-missing' });
    serve({});
    await expect(fetchPackSource('http://app.test/packs/demo/manifest.json')).rejects.toMatchObject(
      { code: 'pack-missing' },
    );
  });

  it('reports a truncated download as damaged even without a published hash', async () => {
    serve({ '/p/manifest.json': manifest(null, 99), '/p/a/model.onnx': bytes });
    const source = await fetchPackSource('http://app.test/p/manifest.json');
    await expect(source.read('a/model.onnx')).rejects.toMatchObject({ code: 'pack-corrupt' });
  });

  it('streams a file in pieces into one buffer of its own, hashed as it comes', async () => {
    const pieces = (parts: string[]) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (const part of parts) controller.enqueue(new TextEncoder().encode(part));
          controller.close();
        },
      });
    vi.stubGlobal('fetch', async (url: string) =>
      url.endsWith('manifest.json')
        ? new Response(manifest(HELLO))
        : new Response(
            url.includes('long') ? pieces(['he', 'llo', '!']) : pieces(['he', 'l', 'lo']),
          ),
    );
    const source = await fetchPackSource('http://app.test/p/manifest.json');
    const read = await source.read('a/model.onnx');
    expect(new TextDecoder().decode(read)).toBe('hello');
    // The whole buffer: ort-session's consumeBytes can free it once the session has its copy.
    expect([read.byteOffset, read.byteLength, read.buffer.byteLength]).toEqual([0, 5, 5]);
    const long = await fetchPackSource('http://app.test/long/manifest.json');
    await expect(long.read('a/model.onnx')).rejects.toMatchObject({ code: 'pack-corrupt' });
  });
});

describe('onnxruntime failures as user-facing errors', () => {
  it.each([
    ['std::bad_alloc', 'out-of-memory', /Close other tabs/],
    ['RangeError: Array buffer allocation failed', 'out-of-memory', /smaller model variant/],
    ['GPUDevice was lost', 'backend-lost', /Reload the page/],
    [
      'Could not find an implementation for GroupQueryAttention(1) node',
      'unsupported-operator',
      /other backend/,
    ],
    ['Failed to load model because protobuf parsing failed', 'pack-corrupt', /download it again/],
    ['something else', 'internal', /something else/],
  ])('%s -> %s', (message, code, advice) => {
    const error = classifyOrtError(new Error(message), 'image model (UNet)', 'wasm');
    expect(error.code).toBe(code);
    expect(error.message).toMatch(advice);
  });
});
