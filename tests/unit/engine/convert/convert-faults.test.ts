/**
 * What can stop an on-device conversion, over the in-memory KV with the LCM
 * fixture pack (float32 weights): a cut at several points (as a closed tab:
 * nothing runs after it), a full disk, Cancel, and malformed models. Each
 * time: a sentence, the pack as it was (record, files, bytes), no variant
 * marked ready, and the next attempt starts clean and succeeds.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertVariant, type ConvertDeps } from '../../../../src/engine/convert/convert-variant';
import { GessoError } from '../../../../src/shared/errors';
import { MemoryKV, type Key, type Op, type StoreName } from '../../../../src/store/kv';
import { openStoredPack } from '../../../../src/store/pack-reader';
import type { PackRecord } from '../../../../src/store/records';
import { isDeviceVariant, kvPackTransaction } from '../../../../src/store/variant-writer';
import {
  LCM,
  ROOT,
  installPack,
  readDir,
  storeFiles,
  readManifest,
  sha256,
  storedPaths,
  verifyInstalled,
} from './install';

const CHUNK = 2048;
const manifest = readManifest(LCM);
const originals = readDir(LCM, manifest);

/**
 * Counts chunk writes; once `cutAfter` more have been stored the next one
 * throws, and with `crash` every later call throws too (a closed tab runs
 * no clean-up).
 */
class CutKV extends MemoryKV {
  cutAfter: number | null = null;
  crash = false;
  dead = false;
  chunkWrites = 0;
  override async batch(ops: Op[]): Promise<void> {
    if (this.dead) throw new Error('the tab is closed');
    if (ops.some((op) => op.type === 'put' && op.store === 'chunks')) {
      if (this.cutAfter !== null && this.cutAfter-- <= 0) {
        this.dead = this.crash;
        throw new Error('the tab was closed');
      }
      this.chunkWrites++;
    }
    return super.batch(ops);
  }
  override async get<T>(store: StoreName, key: Key): Promise<T | undefined> {
    if (this.dead) throw new Error('the tab is closed');
    return super.get<T>(store, key);
  }
}

async function setUp(files = originals) {
  const kv = new CutKV();
  const pack = await installPack(kv, manifest, files, 'int64', CHUNK);
  const deps: ConvertDeps = { kv, transact: kvPackTransaction(kv), chunkSize: CHUNK };
  return { kv, pack, deps, slot: pack.installed!.slot };
}

/** The pack exactly as installed: record, stored paths, and every file's bytes. */
async function expectUnchanged(kv: CutKV, pack: PackRecord): Promise<void> {
  const now = (await kv.get<PackRecord>('packs', pack.id))!;
  expect(now.installed).toEqual(pack.installed);
  expect(now.installed!.manifest.variants.some(isDeviceVariant)).toBe(false);
  const slot = pack.installed!.slot;
  expect(await storedPaths(kv, slot)).toEqual(
    pack.installed!.manifest.files.map((f) => f.path).sort(),
  );
  const source = await openStoredPack(pack.id, kv);
  for (const f of pack.installed!.manifest.files)
    expect(sha256(await source.read(f.path)), f.path).toBe(f.sha256);
  await verifyInstalled(kv, pack.id);
}

describe('interrupted conversions', () => {
  it('counts the chunk writes of a whole conversion (for the cut points below)', async () => {
    const { kv, deps } = await setUp();
    kv.chunkWrites = 0;
    await convertVariant({ packId: manifest.id }, deps);
    // The text encoder's copy and the UNet's copy, 2 KiB chunks.
    expect(kv.chunkWrites).toBeGreaterThanOrEqual(8);
  });

  for (const cut of [0, 1, 4, 7]) {
    it(`a tab closed after ${cut} chunk(s): nothing marked ready; the next attempt removes the orphans and succeeds`, async () => {
      const { kv, pack, deps, slot } = await setUp();
      kv.cutAfter = cut;
      kv.crash = true;
      await expect(convertVariant({ packId: manifest.id }, deps)).rejects.toThrow();
      // "Reload": a fresh start over what the store kept.
      kv.dead = false;
      kv.cutAfter = null;
      const left = await storedPaths(kv, slot);
      if (cut > 0) expect(left.some((p) => p.includes('int8-device'))).toBe(true);
      const record = (await kv.get<PackRecord>('packs', pack.id))!;
      expect(record.installed).toEqual(pack.installed);
      // And a leftover at a path this attempt will not write (an earlier attempt's, say).
      await storeFiles(
        kv,
        slot,
        { 'stale/model.int8-device.onnx_data': new Uint8Array(5000) },
        CHUNK,
      );
      const result = await convertVariant({ packId: manifest.id }, deps);
      expect(result.variantId).toBe('int64-int8-device');
      await verifyInstalled(kv, pack.id);
      const installed = (await kv.get<PackRecord>('packs', pack.id))!.installed!;
      expect(await storedPaths(kv, slot)).toEqual(
        installed.manifest.files.map((f) => f.path).sort(),
      );
    });
  }

  it('a failure the worker survives cleans up at once', async () => {
    const { kv, pack, deps } = await setUp();
    kv.cutAfter = 3;
    await expect(convertVariant({ packId: manifest.id }, deps)).rejects.toThrow(
      'the tab was closed',
    );
    await expectUnchanged(kv, pack);
  });

  it('a full disk: a sentence, nothing kept, and a retry once there is room', async () => {
    const { kv, pack, deps } = await setUp();
    let room = 2;
    kv.failPut = (store) =>
      store === 'chunks' && room-- <= 0
        ? new DOMException('The quota has been exceeded.', 'QuotaExceededError')
        : null;
    const error = await convertVariant({ packId: manifest.id }, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GessoError);
    expect((error as GessoError).code).toBe('storage-full');
    expect((error as GessoError).message).toMatch(
      /^The device ran out of storage space while making the int8 copy of "Test fixture: lcm" \(it needs about [\d.]+ KB\)\. Nothing was changed: "Test fixture: lcm" works as before\. Free some space/,
    );
    await expectUnchanged(kv, pack);
    kv.failPut = null;
    await convertVariant({ packId: manifest.id }, deps);
    await verifyInstalled(kv, pack.id);
  });

  it('Cancel midway: aborted, nothing kept', async () => {
    const { kv, pack, deps } = await setUp();
    const controller = new AbortController();
    const error = await convertVariant(
      { packId: manifest.id },
      {
        ...deps,
        signal: controller.signal,
        onProgress: (p) => p.bytesDone > 0 && controller.abort(),
      },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'aborted', message: 'Cancelled.' });
    await expectUnchanged(kv, pack);
  });
});

describe('malformed models', () => {
  it('a truncated model: a sentence naming the file, nothing lost', async () => {
    const path = 'text_encoder/model.onnx';
    const bytes = originals[path]!;
    const files = { ...originals, [path]: bytes.subarray(0, bytes.length >> 1) };
    const { kv, pack, deps } = await setUp(files);
    const error = (await convertVariant({ packId: manifest.id }, deps).catch(
      (e: unknown) => e,
    )) as GessoError;
    expect(error.code).toBe('pack-corrupt');
    expect(error.message).toMatch(
      /^The model file text_encoder\/model\.onnx ends too early, at byte \d+.*The int8 copy was not made\. Nothing was changed: "Test fixture: lcm" works as before\.$/,
    );
    await expectUnchanged(kv, pack);
  });

  it('an unknown tensor data type: a sentence, nothing lost', async () => {
    const bad = new Uint8Array(readFileSync(join(ROOT, 'tests/fixtures/onnx/bad_dtype.onnx')));
    const files = { ...originals, 'unet/model.int64.onnx': bad };
    const { kv, pack, deps } = await setUp(files);
    const error = (await convertVariant({ packId: manifest.id }, deps).catch(
      (e: unknown) => e,
    )) as GessoError;
    expect(error.code).toBe('pack-corrupt');
    expect(error.message).toMatch(
      /^The model file unet\/model\.int64\.onnx is damaged: the weight "w" has an unknown data type \(99\)\./,
    );
    await expectUnchanged(kv, pack);
  });

  it('a pack that is not installed, or already has a copy: a sentence', async () => {
    const { deps } = await setUp();
    await expect(convertVariant({ packId: 'nope' }, deps)).rejects.toThrow(
      /"nope" is not installed/,
    );
    await convertVariant({ packId: manifest.id }, deps);
    await expect(convertVariant({ packId: manifest.id }, deps)).rejects.toThrow(
      /already has an int8 copy made on this device/,
    );
  });
});
