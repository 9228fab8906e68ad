/**
 * "Apply LoRA" on an imported pack (the engine's code over the in-memory
 * KV): a new default variant whose graphs point at a small data file of the
 * touched weights and at the pack's own data file for the rest; the fused
 * weights equal numpy's W + s*(alpha/r)*up@down within fp16 rounding; the
 * variant's UNet runs (onnxruntime-node resolves both data files) and
 * differs from the original's; strength 0 gives the original bytes;
 * removing the LoRA leaves the pack exactly as before, bit for bit.
 */

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { LORA_VARIANT, applyLora, removeLora } from '../../../../src/engine/import/apply-lora';
import { importModel } from '../../../../src/engine/import/service';
import { planLora } from '../../../../src/engine/import/lora';
import { halfToFloat, readSafetensorsHeader } from '../../../../src/engine/import/safetensors';
import { concatBytes } from '../../../../src/shared/concat-bytes';
import { MemoryKV } from '../../../../src/store/kv';
import type { FileRecord, PackRecord } from '../../../../src/store/records';
import { streamFile } from '../../../../src/store/stream-file';
import { kvPackTransaction } from '../../../../src/store/variant-writer';
import { blobOf, generated, loadTemplate, readFused, templateTokenizer } from './fixtures';

const SLOW = { timeout: 300_000 };
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const BASE = () =>
  generated('sd15-ldm-F16-distinct.safetensors', [
    'checkpoint',
    '--layout',
    'ldm',
    '--dtype',
    'F16',
    '--init',
    'distinct',
  ]);
const LORA = () =>
  generated('lora-sd15-kohya--conv.safetensors', [
    'lora',
    '--family',
    'sd15',
    '--format',
    'kohya',
    '--conv',
  ]);

const getTemplate = async () => {
  return {
    template: loadTemplate('sd15'),
    tokenizer: templateTokenizer(),
  };
};

async function installed(kv: MemoryKV) {
  const file = new File([await blobOf(BASE())], 'base.safetensors', { lastModified: 1 });
  const result = await importModel(
    { file },
    { kv, transact: kvPackTransaction(kv), getTemplate, chunkSize: 1 << 20 },
  );
  return result.packId;
}

async function fileBytes(kv: MemoryKV, slot: string, path: string): Promise<Uint8Array> {
  const record = (await kv.get<FileRecord>('files', [slot, path]))!;
  const parts: Uint8Array[] = [];
  for await (const c of streamFile(kv, record)) parts.push(c.slice());
  return concatBytes(parts);
}

/** Every file of the installed pack, written into a folder (as the store holds them). */
async function dump(kv: MemoryKV, packId: string): Promise<{ dir: string; pack: PackRecord }> {
  const pack = (await kv.get<PackRecord>('packs', packId))!;
  const dir = mkdtempSync(join(tmpdir(), 'gesso-lora-'));
  dirs.push(dir);
  for (const f of pack.installed!.manifest.files) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileSync(join(dir, f.path), await fileBytes(kv, pack.installed!.slot, f.path));
  }
  return { dir, pack };
}

async function unetOut(graph: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(graph);
  const n = 4 * 16 * 16;
  const out = await session.run({
    sample: new ort.Tensor(
      'float32',
      Float32Array.from({ length: n }, (_, i) => Math.sin(i)),
      [1, 4, 16, 16],
    ),
    timestep: new ort.Tensor('int64', BigInt64Array.of(500n), [1]),
    encoder_hidden_states: new ort.Tensor(
      'float32',
      Float32Array.from({ length: 77 * 96 }, (_, i) => Math.cos(i)),
      [1, 77, 96],
    ),
  });
  await session.release();
  return out['out_sample']!.data as Float32Array;
}

describe('a LoRA applied to an imported pack', () => {
  it(
    'is a variant of references plus the touched weights, fused as numpy says, and removing it restores the pack bit for bit; strength 0 writes the original bytes',
    SLOW,
    async () => {
      const kv = new MemoryKV();
      const packId = await installed(kv);
      const before = await dump(kv, packId);
      const hashesBefore = before.pack
        .installed!.manifest.files.map((f) => `${f.path}:${f.sha256}`)
        .sort();

      const result = await applyLora(
        { packId, file: new File([await blobOf(LORA())], 'detail.safetensors'), strength: 0.8 },
        { kv, transact: kvPackTransaction(kv), getTemplate },
      );
      expect(result.tag).toBe('<lora:detail:0.8>');
      const after = await dump(kv, packId);
      const manifest = after.pack.installed!.manifest;
      const variant = manifest.variants.find((v) => v.id === LORA_VARIANT)!;
      expect(variant.default).toBe(true);
      expect(variant.components.vaeDecoder).toBe('vae_decoder/model.onnx');
      // the variant's data files hold only the touched weights: far less than the originals
      const added = manifest.files.filter((f) => f.path.includes('/lora-'));
      const dataAdded = added
        .filter((f) => f.path.endsWith('.onnx_data'))
        .reduce((n, f) => n + f.size, 0);
      const dataBase = manifest.files
        .filter((f) => /^(unet|text_encoder)\/model\.onnx_data$/.test(f.path))
        .reduce((n, f) => n + f.size, 0);
      expect(dataAdded).toBeLessThan(dataBase);

      const template = (await getTemplate()).template;
      // fused values against numpy (the same files, strength 0.8)
      const expected = readFused(
        generated('fused-sd15-kohya--conv-0.8', [
          'fused',
          '--checkpoint',
          BASE(),
          '--lora',
          LORA(),
          '--strength',
          '0.8',
          '--family',
          'sd15',
        ]),
      );
      const unetGraph = variant.components.unet;
      const unetData = join(after.dir, unetGraph + '_data');
      const data = readFileSync(unetData);
      let at = 0;
      let worst = 0;
      for (const entry of template.components.unet.map.entries.filter((e) =>
        expected.has(e.diffusers),
      )) {
        const want = expected.get(entry.diffusers)!;
        const raw = Float32Array.from({ length: entry.length / 2 }, (_, i) =>
          halfToFloat(data.readUInt16LE(at + i * 2)),
        );
        const [rows, cols] = entry.shape as [number, number];
        const got = entry.transpose
          ? Float32Array.from(want, (_, i) => raw[(i % cols) * rows + Math.floor(i / cols)]!)
          : raw;
        for (let i = 0; i < want.length; i++)
          worst = Math.max(
            worst,
            Math.abs(got[i]! - want[i]!) / (Math.max(Math.abs(want[i]!), 2 ** -14) * 2 ** -11),
          );
        at += entry.length;
      }
      expect(at).toBe(data.length);
      expect(worst).toBeLessThanOrEqual(1.01);

      // the variant's UNet runs, reading both data files, and differs from the original's
      const original = await unetOut(join(after.dir, 'unet/model.onnx'));
      const withLora = await unetOut(join(after.dir, unetGraph));
      expect(withLora.length).toBe(original.length);
      expect(withLora.some((v, i) => v !== original[i])).toBe(true);

      // removing it: the pack as it was, bit for bit
      await removeLora(packId, { kv, transact: kvPackTransaction(kv) });
      const restored = await dump(kv, packId);
      expect(
        restored.pack.installed!.manifest.files.map((f) => `${f.path}:${f.sha256}`).sort(),
      ).toEqual(hashesBefore);
      expect(restored.pack.installed!.manifest.variants.map((v) => v.id)).toEqual(['fp16']);
      for (const f of restored.pack.installed!.manifest.files)
        expect(
          readFileSync(join(restored.dir, f.path)).equals(readFileSync(join(before.dir, f.path))),
        ).toBe(true);
      expect((await kv.list<FileRecord>('files', [restored.pack.installed!.slot])).length).toBe(
        restored.pack.installed!.manifest.files.length,
      );
      expect(await unetOut(join(restored.dir, 'unet/model.onnx'))).toEqual(original);

      // strength 0: the variant's data file holds the original bytes of the weights the LoRA touches
      await applyLora(
        { packId, file: new File([await blobOf(LORA())], 'detail.safetensors'), strength: 0 },
        { kv, transact: kvPackTransaction(kv), getTemplate },
      );
      const zero = (await kv.get<PackRecord>('packs', packId))!.installed!.manifest.variants.find(
        (v) => v.id === LORA_VARIANT,
      )!;
      const zeroData = await fileBytes(
        kv,
        restored.pack.installed!.slot,
        zero.components.unet + '_data',
      );
      const base = readFileSync(join(before.dir, 'unet/model.onnx_data'));
      const plan = await planLora(
        await blobOf(LORA()),
        await readSafetensorsHeader(await blobOf(LORA()), 'x.safetensors'),
        template,
        0,
      );
      const slices = template.components.unet.map.entries
        .filter((e) => plan.modules.has(e.diffusers))
        .map((e) => base.subarray(e.offset, e.offset + e.length));
      expect(Buffer.concat(slices).equals(Buffer.from(zeroData))).toBe(true);
    },
  );
});
