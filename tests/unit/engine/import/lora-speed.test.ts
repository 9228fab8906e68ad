/**
 * Where "Apply LoRA"'s seconds go on a full-size pack, in Node (skipped
 * unless GESSO_LORA_BENCH names a full-size SD 1.5 checkpoint; LoRA files in
 * GESSO_LORA_BENCH_FILES, comma-separated; full templates as in
 * import-full.test.ts). Each touched weight's stored fp16 bytes are made
 * from the checkpoint first (not timed), then the engine's own steps are
 * timed one by one: decode, reading the LoRA, the fusion, encode.
 * GESSO_LORA_BENCH_ORT=<threads>: each weight is also fused with the
 * product on onnxruntime-web's WebAssembly build (as in the browser), right
 * after the JavaScript loop on the same weight, so both see the same load on
 * a shared machine; the two results must agree.
 */

import { readFileSync } from 'node:fs';
import { openAsBlob } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectCheckpoint } from '../../../../src/engine/import/detect';
import {
  bytesOfHalves,
  floatsToHalves,
  halvesOf,
  halvesToFloats,
} from '../../../../src/engine/import/kernels';
import { fuseLoras, planLora } from '../../../../src/engine/import/lora';
import { ortLowRank, type OrtLowRank } from '../../../../src/engine/import/ort-low-rank';
import { planImport } from '../../../../src/engine/import/plan';
import { readSafetensorsHeader, readTensorBytes } from '../../../../src/engine/import/safetensors';
import { halfBytesForTemplate } from '../../../../src/engine/import/tensor';
import {
  TEMPLATE_COMPONENTS,
  type Template,
  type TemplateMap,
} from '../../../../src/engine/import/template';

const CHECKPOINT = process.env.GESSO_LORA_BENCH;
const FILES = (process.env.GESSO_LORA_BENCH_FILES ?? '').split(',').filter(Boolean);
const TEMPLATES =
  process.env.GESSO_TEMPLATE_DIR ?? join(homedir(), '.cache/gesso/templates/sd15-full');

function fullTemplate(): Template {
  const components = {} as Template['components'];
  for (const c of TEMPLATE_COMPONENTS) {
    const map = JSON.parse(readFileSync(join(TEMPLATES, c, 'map.json'), 'utf8')) as TemplateMap;
    components[c] = { graph: new Uint8Array(readFileSync(join(TEMPLATES, c, 'model.onnx'))), map };
  }
  return { family: 'sd15', width: 'full', components };
}

describe.skipIf(!CHECKPOINT)('LoRA fusion on a full-size pack, step by step', () => {
  it('prints the time of each step', async () => {
    const file = new File([await openAsBlob(CHECKPOINT!)], 'model.safetensors');
    const header = await readSafetensorsHeader(file, file.name);
    const template = fullTemplate();
    const plan = planImport(header, detectCheckpoint(header), template);
    const threads = Number(process.env.GESSO_LORA_BENCH_ORT ?? 0);
    let fusion: OrtLowRank | null = null;
    if (threads) {
      const ort = await import('onnxruntime-web');
      ort.env.wasm.numThreads = threads;
      fusion = await ortLowRank(ort, 'wasm');
    }
    const jobs = new Map(plan.components.flatMap((c) => c.jobs.map((j) => [j.entry.diffusers, j])));
    for (const path of FILES) {
      const lora = new File([await openAsBlob(path)], path.split('/').pop()!);
      const loraPlan = await planLora(
        lora,
        await readSafetensorsHeader(lora, lora.name),
        template,
        0.8,
      );
      const t = { read: 0, decode: 0, fuse: 0, ort: 0, encode: 0 };
      let bytes = 0;
      for (const key of loraPlan.modules.keys()) {
        const job = jobs.get(key)!;
        const stored = halfBytesForTemplate(
          await readTensorBytes(file, job.source),
          job.entry,
          job.third,
        )!;
        bytes += stored.byteLength;
        let at = performance.now();
        const lap = (k: keyof typeof t) => {
          const now = performance.now();
          t[k] += now - at;
          at = now;
        };
        const values = halvesToFloats(halvesOf(stored));
        lap('decode');
        const again = fusion ? values.slice() : null;
        at = performance.now();
        await fuseLoras(values, job.entry, [loraPlan], 'stored');
        lap('fuse');
        const encoded = bytesOfHalves(floatsToHalves(values));
        lap('encode');
        if (again) {
          await fuseLoras(again, job.entry, [loraPlan], 'stored', fusion!.add);
          lap('ort');
          const mine = halvesToFloats(halvesOf(encoded));
          const other = halvesToFloats(floatsToHalves(again));
          let off = 0;
          for (let i = 0; i < other.length; i++)
            if (Math.abs(other[i]! - mine[i]!) > 2 ** -10 * Math.max(Math.abs(mine[i]!), 2 ** -14))
              off++;
          expect(off, `${key}: results more than one float16 step apart`).toBe(0);
        }
      }
      const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      console.log(
        `${lora.name}: ${loraPlan.modules.size} weights, ${(bytes / 1e6).toFixed(0)} MB fp16; ` +
          `decode ${s(t.decode)}, LoRA read + fusion ${s(t.fuse)}, encode ${s(t.encode)}, ` +
          `total ${s(t.decode + t.fuse + t.encode)}` +
          (threads
            ? `; LoRA read + fusion on onnxruntime-web (${threads} thread(s)) ${s(t.ort)}`
            : ''),
      );
    }
    await fusion?.release();
  }, 3_600_000);
});
