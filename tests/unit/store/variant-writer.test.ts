/**
 * The variant writer over the in-memory KV: files written chunk by chunk
 * with their hash, read back by range, one transaction adding the variant,
 * interruptions that never leave a variant marked ready, orphans removed,
 * and "Remove the original".
 */

import { describe, expect, it } from 'vitest';
import { GessoError } from '../../../src/shared/errors';
import { chooseVariant } from '../../../src/shared/fit';
import type { PackManifest, PackVariant } from '../../../src/shared/pack-manifest';
import { MemoryKV, type KV, type Op } from '../../../src/store/kv';
import { openStoredPack } from '../../../src/store/pack-reader';
import type { PackRecord } from '../../../src/store/records';
import { RangeReader, streamFile } from '../../../src/store/stream-file';
import {
  StoredFileWriter,
  commitVariant,
  deviceVariantId,
  isDeviceVariant,
  kvPackTransaction,
  removeOrphans,
  removeOtherVariants,
  type AddedVariant,
} from '../../../src/store/variant-writer';
import { installPack, sha256, storedPaths, verifyInstalled } from '../engine/convert/install';
import { testManifest } from './fixtures';

const CHUNK = 1024;

function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 255);
}

/** A pack with one variant "fp16" of three files and a tokenizer, installed. */
async function installed(kv: KV): Promise<{ pack: PackRecord; files: Record<string, Uint8Array> }> {
  const files = {
    'tok.json': bytes(100, 1),
    'te.onnx': bytes(3000, 2),
    'unet.onnx': bytes(5000, 3),
    'unet.onnx_data': bytes(2500, 4),
    'dec.onnx': bytes(1500, 5),
  };
  const base = testManifest(
    'p',
    Object.entries(files).map(([path, b]) => ({ path, size: b.length, sha256: sha256(b) })),
  );
  const manifest: PackManifest = {
    ...(base as PackManifest),
    tokenizer: { ...base.tokenizer, vocab: 'tok.json', merges: 'tok.json' },
    variants: [
      {
        ...base.variants[0]!,
        id: 'fp16',
        components: { textEncoder: 'te.onnx', unet: 'unet.onnx', vaeDecoder: 'dec.onnx' },
      },
    ],
  };
  return { pack: await installPack(kv, manifest, files, 'fp16', CHUNK), files };
}

async function writeFile(kv: KV, slot: string, path: string, data: Uint8Array, piece = 700) {
  const writer = await StoredFileWriter.create(kv, slot, path, { chunkSize: CHUNK });
  for (let at = 0; at < data.length; at += piece) await writer.write(data.subarray(at, at + piece));
  return writer.close();
}

function copyVariant(from: PackVariant): PackVariant {
  return {
    ...from,
    id: deviceVariantId(from.id),
    label: 'int8 copy',
    backends: ['webgpu', 'wasm'],
    components: {
      textEncoder: 'te.int8-device.onnx',
      unet: 'unet.int8-device.onnx',
      vaeDecoder: 'dec.onnx',
    },
  };
}

/** Writes the copy's two files and commits it. */
async function addCopy(kv: KV, pack: PackRecord): Promise<AddedVariant> {
  const slot = pack.installed!.slot;
  const added: AddedVariant = {
    slot,
    version: pack.installed!.version,
    variant: copyVariant(pack.installed!.manifest.variants[0]!),
    files: [
      await writeFile(kv, slot, 'te.int8-device.onnx', bytes(900, 6)),
      await writeFile(kv, slot, 'unet.int8-device.onnx', bytes(2100, 7)),
    ],
  };
  await commitVariant(kv, kvPackTransaction(kv), pack.id, added);
  return added;
}

/** A KV whose chunk writes fail once `after` more have been stored (a crash, or a full disk); unarmed: null. */
class FailingKV extends MemoryKV {
  after: number | null = null;
  override async batch(ops: Op[]): Promise<void> {
    if (this.after !== null && ops.some((op) => op.type === 'put' && op.store === 'chunks')) {
      if (this.after <= 0) throw new Error('the tab was closed');
      this.after--;
    }
    return super.batch(ops);
  }
}

describe('StoredFileWriter and stream-file', () => {
  it('stores fixed-size chunks with the size and SHA-256, and reads them back whole and by range', async () => {
    const kv = new MemoryKV();
    const data = bytes(5000, 9);
    const file = await writeFile(kv, 's@1', 'x.onnx', data);
    expect(file).toEqual({ path: 'x.onnx', size: 5000, sha256: sha256(data) });
    const record = (await kv.get<{ done: boolean; chunksDone: number; computedSha256: string }>(
      'files',
      ['s@1', 'x.onnx'],
    ))!;
    expect(record).toMatchObject({ done: true, chunksDone: 5, computedSha256: sha256(data) });
    const chunks: Uint8Array[] = [];
    for await (const c of streamFile(kv, record as never)) chunks.push(c);
    expect(chunks.map((c) => c.length)).toEqual([1024, 1024, 1024, 1024, 904]);
    expect(Buffer.concat(chunks)).toEqual(Buffer.from(data));
    const reader = new RangeReader(kv, record as never);
    for (const [offset, length] of [
      [0, 5000],
      [1000, 100],
      [1023, 2],
      [4999, 1],
      [2048, 0],
    ] as const)
      expect(await reader.read(offset, length)).toEqual(data.subarray(offset, offset + length));
    await expect(reader.read(4990, 20)).rejects.toMatchObject({ code: 'pack-corrupt' });
  });

  it('says a stored file is damaged when a chunk is missing or the wrong size', async () => {
    const kv = new MemoryKV();
    await writeFile(kv, 's@1', 'x.onnx', bytes(3000, 1));
    const record = (await kv.get('files', ['s@1', 'x.onnx'])) as never;
    await kv.delete('chunks', ['s@1', 'x.onnx', 1]);
    await expect(new RangeReader(kv, record).read(1500, 10)).rejects.toThrow(
      /x\.onnx is damaged \(part 2 of 3 is missing\)/,
    );
    await kv.put('chunks', ['s@1', 'x.onnx', 1], new Uint8Array(10));
    const read = async () => {
      for await (const chunk of streamFile(kv, record)) void chunk;
    };
    await expect(read()).rejects.toThrow(/part 2 of 3 has the wrong size/);
  });
});

describe('adding a variant', () => {
  it('adds the copy as the default variant in one write; the download check passes; the engine chooses it', async () => {
    const kv = new MemoryKV();
    const { pack } = await installed(kv);
    const added = await addCopy(kv, pack);
    const after = (await kv.get<PackRecord>('packs', 'p'))!.installed!;
    expect(after.manifest.variants.map((v) => [v.id, v.default])).toEqual([
      ['fp16-int8-device', true],
      ['fp16', false],
    ]);
    expect(after.variant).toBe('fp16-int8-device');
    expect(after.manifest.files.map((f) => f.path)).toEqual([
      ...pack.installed!.manifest.files.map((f) => f.path),
      'te.int8-device.onnx',
      'unet.int8-device.onnx',
    ]);
    expect(after.bytes).toBe(pack.installed!.bytes + 900 + 2100);
    await verifyInstalled(kv, 'p');
    const chosen = chooseVariant(after.manifest, 'wasm', {});
    expect(chosen.id).toBe('fp16-int8-device');
    expect(isDeviceVariant(chosen)).toBe(true);
    const source = await openStoredPack('p', kv);
    expect(sha256(await source.read(added.files[1]!.path))).toBe(added.files[1]!.sha256);
  });

  it('never marks a variant whose files are not whole', async () => {
    const kv = new MemoryKV();
    const { pack } = await installed(kv);
    const slot = pack.installed!.slot;
    const file = await writeFile(kv, slot, 'unet.int8-device.onnx', bytes(2100, 7));
    await kv.delete('chunks', [slot, 'unet.int8-device.onnx', 0]);
    const variant = copyVariant(pack.installed!.manifest.variants[0]!);
    await expect(
      commitVariant(kv, kvPackTransaction(kv), 'p', {
        slot,
        version: '1.0.0',
        variant,
        files: [file],
      }),
    ).rejects.toMatchObject({ code: 'pack-corrupt' });
    expect((await kv.get<PackRecord>('packs', 'p'))!.installed).toEqual(pack.installed);
  });

  it('drops the copy when the pack was updated or deleted meanwhile', async () => {
    const kv = new MemoryKV();
    const { pack } = await installed(kv);
    const slot = pack.installed!.slot;
    const file = await writeFile(kv, slot, 'unet.int8-device.onnx', bytes(2100, 7));
    const updated = { ...pack, installed: { ...pack.installed!, slot: 'p@2', version: '2' } };
    await kv.put('packs', 'p', updated);
    const variant = copyVariant(pack.installed!.manifest.variants[0]!);
    const commit = () =>
      commitVariant(kv, kvPackTransaction(kv), 'p', {
        slot,
        version: '1.0.0',
        variant,
        files: [file],
      });
    await expect(commit()).rejects.toThrow(
      /was updated or deleted while its int8 copy was being made/,
    );
    expect(await kv.get('packs', 'p')).toEqual(updated);
    await kv.delete('packs', 'p');
    await expect(commit()).rejects.toMatchObject({ code: 'pack-missing' });
  });
});

describe('interrupted writes', () => {
  for (const after of [0, 1, 3]) {
    it(`cut after ${after} chunk(s): nothing marked ready, orphans removed, a retry succeeds`, async () => {
      const kv = new FailingKV();
      const { pack } = await installed(kv);
      kv.after = after;
      await expect(addCopy(kv, pack)).rejects.toThrow('the tab was closed');
      const now = (await kv.get<PackRecord>('packs', 'p'))!;
      expect(now.installed).toEqual(pack.installed);
      expect(now.installed!.manifest.variants.some(isDeviceVariant)).toBe(false);
      // The engine still opens the pack as before, and reads only what its manifest lists.
      await expect(openStoredPack('p', kv)).resolves.toBeDefined();
      const orphans = (await storedPaths(kv, 'p@1.0.0')).filter((p) => p.includes('int8-device'));
      expect(orphans.length).toBeGreaterThan(0);
      expect(await removeOrphans(kv, 'p')).toMatchObject({ files: orphans.length });
      expect(await kv.count('chunks', ['p@1.0.0', 'te.int8-device.onnx'])).toBe(0);
      expect(await storedPaths(kv, 'p@1.0.0')).toEqual(
        pack.installed!.manifest.files.map((f) => f.path).sort(),
      );
      kv.after = null;
      await addCopy(kv, pack);
      await verifyInstalled(kv, 'p');
    });
  }

  it('a full disk: a storage-full sentence, nothing marked ready', async () => {
    const kv = new MemoryKV();
    const { pack } = await installed(kv);
    kv.failPut = (store) =>
      store === 'chunks' ? new DOMException('Quota exceeded', 'QuotaExceededError') : null;
    const error = await addCopy(kv, pack).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GessoError);
    expect(error).toMatchObject({ code: 'storage-full', message: /out of storage space/ });
    expect((await kv.get<PackRecord>('packs', 'p'))!.installed).toEqual(pack.installed);
    kv.failPut = null;
    await removeOrphans(kv, 'p');
    await addCopy(kv, pack);
    await verifyInstalled(kv, 'p');
  });
});

describe('Remove the original', () => {
  it('keeps the copy and the files it shares, deletes the rest, in one write', async () => {
    const kv = new MemoryKV();
    const { pack } = await installed(kv);
    await addCopy(kv, pack);
    const slot = pack.installed!.slot;
    const result = await removeOtherVariants(kvPackTransaction(kv), 'p', 'fp16-int8-device');
    expect(result).toEqual({ removed: ['fp16'], bytesFreed: 3000 + 5000 + 2500 });
    const after = (await kv.get<PackRecord>('packs', 'p'))!.installed!;
    expect(after.manifest.variants.map((v) => [v.id, v.default])).toEqual([
      ['fp16-int8-device', true],
    ]);
    expect(await storedPaths(kv, slot)).toEqual(
      ['dec.onnx', 'te.int8-device.onnx', 'tok.json', 'unet.int8-device.onnx'].sort(),
    );
    expect(await kv.count('chunks', [slot, 'unet.onnx'])).toBe(0);
    expect(after.bytes).toBe(100 + 1500 + 900 + 2100);
    await verifyInstalled(kv, 'p');
  });

  it('changes nothing when the variant to keep is gone', async () => {
    const kv = new MemoryKV();
    const { pack } = await installed(kv);
    await expect(
      removeOtherVariants(kvPackTransaction(kv), 'p', 'fp16-int8-device'),
    ).rejects.toMatchObject({ code: 'pack-missing' });
    expect((await kv.get<PackRecord>('packs', 'p'))!.installed).toEqual(pack.installed);
  });
});
