/**
 * A checkpoint made into pack files in Node through the engine's import
 * modules (src/engine/import/), checked from outside:
 * - every weight of every template is filled, each with its right transform:
 *   onnx itself (Python) reads the written pack, external data included, and
 *   compares each weight with the parameter the generator put in the file;
 * - the ldm and diffusers layouts give byte-identical packs, and so do F16
 *   and F32 files of the same weights;
 * - LoRAs (kohya with 3x3 convs, ldm-named kohya, PEFT, no alpha) fuse to an
 *   independent numpy W + s*(alpha/r)*up@down within fp16 rounding; strength
 *   0 gives the original bytes.
 */

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  importCheckpoint,
  type ImportOptions,
  type TemplateFiles,
} from '../../../../src/engine/import/import-checkpoint';
import { halfToFloat } from '../../../../src/engine/import/safetensors';
import type { Family } from '../../../../src/engine/import/template';
import { PACK_PATHS } from '../../../../src/engine/import/template';
import {
  blobOf,
  checkpointsPy,
  dirSink,
  generated,
  loadTemplate,
  readFused,
  templateTokenizer,
} from './fixtures';

const SLOW = { timeout: 300_000 };
const EPS = { prediction: 'epsilon' } as const;
const dirs: string[] = [];
afterAll(() => {
  if (!process.env.GESSO_KEEP_IMPORT)
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const templates = new Map<Family, TemplateFiles>();
async function getTemplate(family: Family): Promise<TemplateFiles> {
  if (!templates.has(family)) {
    templates.set(family, {
      template: loadTemplate(family),
      tokenizer: templateTokenizer(),
    });
  }
  return templates.get(family)!;
}

async function importTo(path: string, name: string, options: ImportOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-import-'));
  dirs.push(dir);
  const result = await importCheckpoint(
    { file: await blobOf(path), name },
    getTemplate,
    dirSink(dir),
    options,
  );
  return { dir, result, hashes: Object.fromEntries(result.files.map((f) => [f.path, f.sha256])) };
}

function distinct(family: Family, layout: string, dtype = 'F16', extra: string[] = []): string {
  return generated(`${family}-${layout}-${dtype}-distinct${extra.join('')}.safetensors`, [
    'checkpoint',
    '--family',
    family,
    '--layout',
    layout,
    '--dtype',
    dtype,
    '--init',
    'distinct',
    ...extra,
  ]);
}

describe('importing a checkpoint into pack files', () => {
  for (const family of ['sd15', 'sd21'] as const) {
    it(
      `${family}: every weight lands in its initializer with the right transform (onnx reads the pack back)`,
      SLOW,
      async () => {
        const { dir, result } = await importTo(
          distinct(family, 'ldm', 'F16', ['--extra', '3']),
          'my-model.safetensors',
          { prediction: 'epsilon' },
        );
        expect(result.manifest.name).toBe('my-model');
        expect(result.detected).toMatchObject({
          family,
          layout: 'ldm',
          dtype: 'F16',
          width: 'reduced',
        });
        // the 3 EMA-like extras, and for SD 2.x OpenCLIP's text_projection and logit_scale
        expect(result.plan.ignored).toBe(family === 'sd15' ? 3 : 5);
        const report = JSON.parse(checkpointsPy(['check-pack', '--family', family, dir])) as {
          checked: number;
          params: number;
          mismatched: string[];
          unchecked: string[];
        };
        expect(report.unchecked).toEqual([]);
        expect(report.mismatched).toEqual([]);
        expect(report.checked).toBe(report.params);
        expect(report.checked).toBeGreaterThan(1000);
      },
    );

    it(
      `${family}: the ldm and diffusers layouts give byte-identical packs, and F32 gives the F16 pack`,
      SLOW,
      async () => {
        const ldm = await importTo(distinct(family, 'ldm'), 'a.safetensors', EPS);
        const diffusers = await importTo(distinct(family, 'diffusers'), 'a.safetensors', EPS);
        const f32 = await importTo(
          distinct(family, 'diffusers', 'F32', ['--shuffle']),
          'a.safetensors',
          EPS,
        );
        expect(diffusers.result.detected.layout).toBe('diffusers');
        expect(f32.result.detected.dtype).toBe('F32');
        expect(diffusers.hashes).toEqual(ldm.hashes);
        expect(f32.hashes).toEqual(ldm.hashes);
        expect(Object.keys(ldm.hashes).sort()).toEqual(
          [
            ...Object.values(PACK_PATHS).flatMap((p) => [p.graph, p.data]),
            'tokenizer/merges.txt',
            'tokenizer/vocab.json',
          ].sort(),
        );
      },
    );
  }
});

/** A pack weight as float32 values in diffusers order (undoing the graph's transpose). */
function packWeight(
  dir: string,
  family: Family,
  key: string,
): { values: Float32Array; shape: number[] } {
  const template = templates.get(family)!.template;
  for (const [component, { map }] of Object.entries(template.components)) {
    const entry = map.entries.find((e) => e.diffusers === key);
    if (!entry) continue;
    const data = readFileSync(join(dir, PACK_PATHS[component as keyof typeof PACK_PATHS].data));
    const view = new DataView(data.buffer, data.byteOffset + entry.offset, entry.length);
    const raw = Float32Array.from({ length: entry.length / 2 }, (_, i) =>
      halfToFloat(view.getUint16(i * 2, true)),
    );
    if (!entry.transpose) return { values: raw, shape: entry.shape };
    const [rows, cols] = entry.shape as [number, number];
    const values = new Float32Array(raw.length);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) values[r * cols + c] = raw[c * rows + r]!;
    return { values, shape: entry.shape };
  }
  throw new Error(`no weight ${key}`);
}

describe('LoRAs fused while importing', () => {
  const family = 'sd15';
  const base = () => distinct(family, 'ldm');
  const cases = [
    { format: 'kohya', extra: ['--conv'], strength: 0.8 },
    { format: 'ldm-kohya', extra: ['--conv'], strength: 1 },
    { format: 'peft', extra: ['--no-alpha'], strength: 0.5 },
  ];
  for (const c of cases) {
    it(
      `${c.format}${c.extra.join(' ')} at ${c.strength} equals numpy's W + s*(alpha/r)*up@down within fp16 rounding`,
      SLOW,
      async () => {
        const lora = generated(`lora-${family}-${c.format}${c.extra.join('')}.safetensors`, [
          'lora',
          '--family',
          family,
          '--format',
          c.format,
          ...c.extra,
        ]);
        const expectedPath = generated(
          `fused-${family}-${c.format}${c.extra.join('')}-${c.strength}`,
          [
            'fused',
            '--checkpoint',
            base(),
            '--lora',
            lora,
            '--strength',
            String(c.strength),
            '--family',
            family,
          ],
        );
        const expected = readFused(expectedPath);
        const { dir, result } = await importTo(base(), 'base.safetensors', {
          loras: [
            { file: await blobOf(lora), name: `${c.format}.safetensors`, strength: c.strength },
          ],
        });
        expect(result.loras[0]!.modules.size).toBe(expected.size);
        let convs = 0;
        let worst = 0;
        for (const [key, want] of expected) {
          const { values, shape } = packWeight(dir, family, key);
          if (shape.length === 4 && shape[2] === 3) convs++;
          for (let i = 0; i < want.length; i++) {
            // fp16 rounding: half a unit in the last place of the expected value (2^-11 relative), plus a float32 margin
            const ulp = Math.max(Math.abs(want[i]!), 2 ** -14) * 2 ** -11;
            worst = Math.max(worst, Math.abs(values[i]! - want[i]!) / ulp);
          }
        }
        if (c.extra.includes('--conv')) expect(convs).toBeGreaterThan(0);
        expect(worst).toBeLessThanOrEqual(1.01);
      },
    );
  }

  it('strength 0 gives the original bytes', SLOW, async () => {
    const lora = generated(`lora-${family}-kohya--conv.safetensors`, [
      'lora',
      '--family',
      family,
      '--format',
      'kohya',
      '--conv',
    ]);
    const plain = await importTo(base(), 'base.safetensors');
    const zero = await importTo(base(), 'base.safetensors', {
      loras: [{ file: await blobOf(lora), name: 'kohya.safetensors', strength: 0 }],
    });
    expect(zero.hashes).toEqual(plain.hashes);
    expect(readdirSync(zero.dir)).toContain('unet');
  });
});
