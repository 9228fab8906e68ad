import { describe, expect, it } from 'vitest';
import { openDiskBytes } from '../../../src/store/disk-bytes';
import { MemoryKV } from '../../../src/store/kv';
import { ModelStore } from '../../../src/store/model-store';
import { newFileRecord, type FileRecord } from '../../../src/store/records';
import { streamFile } from '../../../src/store/stream-file';

const bytes = Uint8Array.from({ length: 10 }, (_, i) => i * 3);

/** A 10-byte file in chunks of 4: each chunk written by the store, or as raw bytes the way stores before Blob chunks hold them. */
async function stored(rawChunks: number[]): Promise<{ kv: MemoryKV; file: FileRecord }> {
  const kv = new MemoryKV();
  const store = new ModelStore(kv);
  let file = newFileRecord({
    slot: 's',
    path: 'm.onnx',
    url: 'u',
    size: 10,
    sha256: null,
    chunkSize: 4,
  });
  for (let index = 0; index < 3; index++) {
    const chunk = bytes.slice(index * 4, index * 4 + 4);
    file = { ...file, chunksDone: index + 1, bytesDone: file.bytesDone + chunk.byteLength };
    if (rawChunks.includes(index)) await kv.put('chunks', ['s', 'm.onnx', index], chunk);
    else await store.writeChunk(file, index, chunk);
  }
  file = { ...file, done: true };
  await store.putFile(file);
  return { kv, file };
}

describe('stored chunks', () => {
  it('are written as Blobs, so a worker can read parts of them from disk', async () => {
    const { kv } = await stored([]);
    expect(await kv.get('chunks', ['s', 'm.onnx', 0])).toBeInstanceOf(Blob);
  });

  it('are read back whole and streamed alike, Blobs or bytes from older stores, mixed', async () => {
    for (const raw of [[], [0, 1, 2], [1]]) {
      const { kv, file } = await stored(raw);
      expect(await new ModelStore(kv).readFile(file)).toEqual(bytes);
      const parts: number[] = [];
      for await (const chunk of streamFile(kv, file)) parts.push(...chunk);
      expect(parts).toEqual([...bytes]);
    }
  });

  it('give no disk view outside a worker with FileReaderSync (the engine then reads files whole)', async () => {
    const { kv, file } = await stored([]);
    expect(await openDiskBytes(kv, file)).toBeNull();
  });
});
