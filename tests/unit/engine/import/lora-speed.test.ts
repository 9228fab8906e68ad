/**
 * Where "Apply LoRA"'s seconds go on a full-size pack, in Node (skipped
 * unless GESSO_LORA_BENCH names a full-size SD 1.5 checkpoint; LoRA files in
 * GESSO_LORA_BENCH_FILES, comma-separated; full templates as in
 * import-full.test.ts). Each touched weight's stored fp16 bytes are made
 * from the checkpoint first (not timed), then the engine's own steps are
 * timed one by one: decode, reading the LoRA, the fusion, encode.
 */

import { readFileSync } from 'node:fs';
import { openAsBlob } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { detectCheckpoint } from '../../../../src/engine/import/detect';
import {
  bytesOfHalves,
  floatsToHalves,
  halvesOf,
  halvesToFloats,
} from '../../../../src/engine/import/kernels';
import { fuseLoras, planLora } from '../../../../src/engine/import/lora';
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
    const jobs = new Map(plan.components.flatMap((c) => c.jobs.map((j) => [j.entry.diffusers, j])));
    for (const path of FILES) {
      const lora = new File([await openAsBlob(path)], path.split('/').pop()!);
      const loraPlan = await planLora(
        lora,
        await readSafetensorsHeader(lora, lora.name),
        template,
        0.8,
      );
      const t = { read: 0, decode: 0, fuse: 0, encode: 0 };
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
        await fuseLoras(values, job.entry, [loraPlan], 'stored');
        lap('fuse');
        bytesOfHalves(floatsToHalves(values));
        lap('encode');
      }
      const total = t.read + t.decode + t.fuse + t.encode;
      console.log(
        `${lora.name}: ${loraPlan.modules.size} weights, ${(bytes / 1e6).toFixed(0)} MB fp16; ` +
          `decode ${(t.decode / 1000).toFixed(1)} s, LoRA read + fusion ${(t.fuse / 1000).toFixed(1)} s, ` +
          `encode ${(t.encode / 1000).toFixed(1)} s, total ${(total / 1000).toFixed(1)} s`,
      );
    }
  }, 3_600_000);
});
