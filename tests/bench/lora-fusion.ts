/**
 * Where "Apply LoRA"'s seconds go on a full-size pack, in Node:
 *
 *   npm run bench -- --lora --checkpoint FILE.safetensors --loras A,B [--ort-threads N]
 *     [--templates DIR]
 *
 * FILE is a full-size SD 1.5 checkpoint (models/templates/checkpoints.py
 * checkpoint --width full), the LoRAs files for it (checkpoints.py lora);
 * templates default to the build's public/templates/sd15-full. Each touched
 * weight's stored fp16 bytes are made from the checkpoint first (not timed),
 * then the engine's own steps are timed one by one: decode, reading the LoRA
 * and the fusion, encode. --ort-threads N: each weight is also fused with the
 * product on onnxruntime-web's WebAssembly build (as in the browser), right
 * after the JavaScript loop on the same weight, so both see the same load on
 * a shared machine; the two must agree within one float16 step.
 */

import { openAsBlob, readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { join } from 'node:path';
import { detectCheckpoint } from '../../src/engine/import/detect';
import {
  bytesOfHalves,
  floatsToHalves,
  halvesOf,
  halvesToFloats,
} from '../../src/engine/import/kernels';
import { fuseLoras, planLora } from '../../src/engine/import/lora';
import { ortLowRank, type OrtLowRank } from '../../src/engine/import/ort-low-rank';
import { planImport } from '../../src/engine/import/plan';
import { readSafetensorsHeader, readTensorBytes } from '../../src/engine/import/safetensors';
import { halfBytesForTemplate } from '../../src/engine/import/tensor';
import {
  TEMPLATE_COMPONENTS,
  type Template,
  type TemplateMap,
} from '../../src/engine/import/template';
import { table } from './stats.mjs';

let TEMPLATES = 'public/templates/sd15-full';

function fullTemplate(): Template {
  const components = {} as Template['components'];
  for (const c of TEMPLATE_COMPONENTS) {
    const map = JSON.parse(readFileSync(join(TEMPLATES, c, 'map.json'), 'utf8')) as TemplateMap;
    components[c] = { graph: new Uint8Array(readFileSync(join(TEMPLATES, c, 'model.onnx'))), map };
  }
  return { family: 'sd15', width: 'full', components };
}

export async function main(args: readonly string[]): Promise<void> {
  const option = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const checkpoint = option('--checkpoint');
  const files = (option('--loras') ?? '').split(',').filter(Boolean);
  if (!checkpoint || !files.length)
    throw new Error('npm run bench -- --lora --checkpoint FILE --loras A,B [--ort-threads N]');
  TEMPLATES = option('--templates') ?? TEMPLATES;
  const threads = Number(option('--ort-threads') ?? 0);
  const file = new File([await openAsBlob(checkpoint)], 'model.safetensors');
  const header = await readSafetensorsHeader(file, file.name);
  const template = fullTemplate();
  const plan = planImport(header, detectCheckpoint(header), template);
  let fusion: OrtLowRank | null = null;
  if (threads) {
    ort.env.wasm.numThreads = threads;
    fusion = await ortLowRank(ort, 'wasm');
  }
  const jobs = new Map(plan.components.flatMap((c) => c.jobs.map((j) => [j.entry.diffusers, j])));
  const rows: string[][] = [];
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  for (const path of files) {
    const lora = new File([await openAsBlob(path)], path.split('/').pop()!);
    const loraPlan = await planLora(
      lora,
      await readSafetensorsHeader(lora, lora.name),
      template,
      0.8,
    );
    const t = { decode: 0, fuse: 0, ort: 0, encode: 0 };
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
        for (let i = 0; i < other.length; i++)
          if (Math.abs(other[i]! - mine[i]!) > 2 ** -10 * Math.max(Math.abs(mine[i]!), 2 ** -14))
            throw new Error(`${key}: onnxruntime's fusion is more than one float16 step off`);
      }
    }
    rows.push([
      lora.name,
      String(loraPlan.modules.size),
      `${(bytes / 1e6).toFixed(0)} MB`,
      s(t.decode),
      s(t.fuse),
      s(t.encode),
      s(t.decode + t.fuse + t.encode),
      threads ? s(t.ort) : '-',
    ]);
  }
  await fusion?.release();
  console.log(
    `\nLoRA fusion on a full-size pack, Node, strength 0.8 (fusion on onnxruntime-web: ${threads ? `${threads} thread(s)` : 'not run'}):\n`,
  );
  console.log(
    table(
      [
        'LoRA',
        'weights',
        'fp16 touched',
        'decode',
        'read + fuse (JS)',
        'encode',
        'total (JS)',
        'read + fuse (onnxruntime)',
      ],
      rows,
    ),
  );
}
