/**
 * The import into the model store (the worker's code over the in-memory
 * KV): the pack appears installed in one transaction, named after the file,
 * measured; Cancel, a full disk midway and a refusal leave nothing and never
 * touch existing packs; a tab closed midway leaves finished files that the
 * next attempt with the same file keeps; the stored pack runs.
 */

import { describe, expect, it } from 'vitest';
import { importModel, type ImportDeps } from '../../../../src/engine/import/service';
import { importWeights, type ImportWeights } from '../../../../src/engine/import/weights';
import type { PackVariant } from '../../../../src/shared/pack-manifest';
import { deviceWith, GiB } from '../../../helpers/devices';
import { Pipeline } from '../../../../src/engine/pipelines';
import { MemoryKV, type KV, type Op } from '../../../../src/store/kv';
import { openStoredPack } from '../../../../src/store/pack-reader';
import type { FileRecord, PackRecord } from '../../../../src/store/records';
import { manifestFaults } from '../../../../src/store/validate-manifest';
import { kvPackTransaction } from '../../../../src/store/variant-writer';
import { nodeFactory } from '../helpers/node-packs';
import { blobOf, generated, loadTemplate, templateTokenizer } from './fixtures';

const SLOW = { timeout: 300_000 };

async function picked(name: string): Promise<File> {
  const path = generated('sd15-ldm-F16-default.safetensors', [
    'checkpoint',
    '--layout',
    'ldm',
    '--dtype',
    'F16',
  ]);
  return new File([await blobOf(path)], name, { lastModified: 1234 });
}

function deps(kv: KV, extra: Partial<ImportDeps> = {}): ImportDeps {
  return {
    kv,
    transact: kvPackTransaction(kv),
    getTemplate: async () => ({
      template: loadTemplate('sd15'),
      tokenizer: templateTokenizer(),
    }),
    chunkSize: 1 << 20,
    ...extra,
  };
}

const OTHER: PackRecord = {
  id: 'demo',
  manifestUrl: 'builtin:demo',
  origin: 'builtin',
  manifest: { name: 'Demo' } as PackRecord['manifest'],
  licenseAccepted: true,
  installed: null,
  job: null,
  addedAt: 1,
};

async function snapshot(kv: KV) {
  return {
    packs: await kv.list<PackRecord>('packs', []),
    files: (await kv.list<FileRecord>('files', [])).map((f) => `${f.slot}/${f.path}`),
  };
}

/** A device with no WebGPU whose memory holds the measured fp16 pack once, not widened to float32. */
function cpuDeviceJustShortOfFp16(fp16: PackVariant, weightBytes: number): ImportWeights {
  return importWeights(fp16, weightBytes, deviceWith(null), (2 * fp16.requires.memoryBytes) / GiB);
}

describe('importing into the model store', () => {
  it(
    'adds an installed pack named after the file, measured, that the engine runs',
    SLOW,
    async () => {
      const kv = new MemoryKV();
      await kv.put('packs', 'demo', OTHER);
      const progress: number[] = [];
      const result = await importModel(
        { file: await picked('my-model.safetensors') },
        deps(kv, { onProgress: (p) => progress.push(p.bytesDone) }),
      );
      expect(result).toMatchObject({
        packId: 'imported-my-model',
        name: 'my-model',
        family: 'sd15',
        layout: 'ldm',
      });
      expect(progress.at(-1)).toBeGreaterThan(0);
      const pack = (await kv.get<PackRecord>('packs', 'imported-my-model'))!;
      expect(pack.installed?.manifest.name).toBe('my-model');
      expect(manifestFaults(pack.installed!.manifest)).toEqual([]);
      expect(pack.installed?.measured?.length).toBeGreaterThan(0);
      expect(
        pack.installed?.manifest.variants[0]!.requires.maxStorageBufferBindingSize,
      ).toBeGreaterThan(0);
      expect(await kv.get('packs', 'demo')).toEqual(OTHER);
      const source = await openStoredPack('imported-my-model', kv);
      const pipeline = await Pipeline.load(source, {
        factory: nodeFactory,
        variant: source.manifest.variants[0]!,
      });
      try {
        const out = await pipeline.generate({
          prompt: 'a boat',
          seed: 1,
          steps: 2,
          width: 128,
          height: 128,
          preview: false,
        });
        expect(out.image.width).toBe(128);
      } finally {
        await pipeline.release();
      }
      // the same file again: refused, the pack untouched
      await expect(
        importModel({ file: await picked('my-model.safetensors') }, deps(kv)),
      ).rejects.toThrow(/A pack named "my-model" is already on this device/);
      expect((await kv.get<PackRecord>('packs', 'imported-my-model'))!.installed).toEqual(
        pack.installed,
      );
    },
  );

  it(
    'Cancel and a full disk midway keep nothing and leave other packs as they were',
    SLOW,
    async () => {
      const kv = new MemoryKV();
      await kv.put('packs', 'demo', OTHER);
      const before = await snapshot(kv);
      const controller = new AbortController();
      await expect(
        importModel(
          { file: await picked('a.safetensors') },
          deps(kv, {
            signal: controller.signal,
            onProgress: (p) => p.bytesDone > 1e6 && controller.abort(),
          }),
        ),
      ).rejects.toThrow('Cancelled. Nothing was kept.');
      expect(await snapshot(kv)).toEqual(before);
      let stored = 0;
      kv.failPut = (store, value) =>
        store === 'chunks' && (stored += (value as Blob).size ?? 1) > 8e6
          ? new DOMException('The quota has been exceeded.', 'QuotaExceededError')
          : null;
      await expect(importModel({ file: await picked('a.safetensors') }, deps(kv))).rejects.toThrow(
        /ran out of storage space while importing "a", so nothing was kept/,
      );
      kv.failPut = null;
      expect(await snapshot(kv)).toEqual(before);
    },
  );

  it(
    'a tab closed midway: the next attempt with the same file keeps the finished files',
    SLOW,
    async () => {
      const kv = new MemoryKV();
      // the tab "closes" once 30 MB are stored: every later write hangs forever, as in a closed page
      let stored = 0;
      let closed!: () => void;
      const tabClosed = new Promise<void>((resolve) => (closed = resolve));
      const dying: KV = Object.create(kv, {
        batch: {
          value: (ops: Op[]) => {
            stored += ops.filter((o) => o.store === 'chunks').length;
            if (stored <= 30) return kv.batch(ops);
            closed();
            return new Promise<void>(() => {});
          },
        },
      }) as KV;
      void importModel(
        { file: await picked('b.safetensors') },
        deps(dying, { transact: kvPackTransaction(dying) }),
      );
      await tabClosed;
      expect(await kv.get('packs', 'imported-b')).toBeUndefined();
      const result = await importModel({ file: await picked('b.safetensors') }, deps(kv));
      expect(result.resumedFiles).toBeGreaterThan(0);
      expect((await kv.get<PackRecord>('packs', 'imported-b'))!.installed).not.toBeNull();
    },
  );
  it(
    'writes int8 through the quantizer where fp16 would not run here, keeps only that, and says so',
    SLOW,
    async () => {
      const kv = new MemoryKV();
      const stages = new Set<string>();
      const result = await importModel(
        { file: await picked('small-device.safetensors') },
        deps(kv, {
          chooseWeights: cpuDeviceJustShortOfFp16,
          onProgress: (p) => stages.add(p.stage ?? 'import'),
        }),
      );
      expect(result.weights).toBe('int8');
      expect(result.int8Reason).toMatch(/GB in all/);
      expect([...stages]).toEqual(['import', 'int8']);
      const pack = (await kv.get<PackRecord>('packs', 'imported-small-device'))!;
      const manifest = pack.installed!.manifest;
      expect(manifest.imported).toMatchObject({ weights: 'int8', int8Reason: result.int8Reason });
      expect(manifest.variants.map((v) => v.id)).toEqual(['fp16-int8-device']);
      expect(manifest.variants[0]!.requires.weights).toBe('int8');
      // the fp16 UNet is gone: only what the int8 variant reads is kept
      const paths = manifest.files.map((f) => f.path);
      expect(paths).not.toContain('unet/model.onnx_data');
      expect(manifestFaults(manifest)).toEqual([]);
      const stored = (await kv.list<FileRecord>('files', [pack.installed!.slot])).map(
        (f) => f.path,
      );
      expect(stored.sort()).toEqual([...paths].sort());
      const source = await openStoredPack('imported-small-device', kv);
      const pipeline = await Pipeline.load(source, {
        factory: nodeFactory,
        variant: source.manifest.variants[0]!,
      });
      try {
        const out = await pipeline.generate({
          prompt: 'a boat',
          seed: 1,
          steps: 2,
          width: 128,
          height: 128,
          preview: false,
        });
        expect(out.image.width).toBe(128);
      } finally {
        await pipeline.release();
      }
    },
  );

  it('Cancel while making the int8 weights keeps nothing', SLOW, async () => {
    const kv = new MemoryKV();
    await kv.put('packs', 'demo', OTHER);
    const controller = new AbortController();
    await expect(
      importModel(
        { file: await picked('cancelled.safetensors') },
        deps(kv, {
          signal: controller.signal,
          chooseWeights: cpuDeviceJustShortOfFp16,
          onProgress: (p) => {
            if (p.stage === 'int8' && p.bytesDone > 0) controller.abort();
          },
        }),
      ),
    ).rejects.toThrow(/Cancelled. Nothing was kept/);
    expect(await snapshot(kv)).toEqual({ packs: [OTHER], files: [] });
  });
});
