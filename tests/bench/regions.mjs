/**
 * The cost of regional prompts: one image with 0, 1, 2 and 4
 * painted regions over the main prompt "square".
 *
 * - `benchRegions(ctx)`: called by run.mjs (`npm run bench`) with the engine
 *   worker's RPC in an isolated Chromium page (wasm), the same path the app
 *   takes. Each region adds one UNet evaluation per step (where its masks
 *   leave the main prompt no cell, the main prompt's evaluation is skipped).
 * - `node tests/bench/regions.mjs [--pack DIR] [--repeats N]`: the same
 *   layouts in Node (onnxruntime-node, the engine's TypeScript loaded by
 *   Vite), comparing one batched UNet call per step with one call per prompt.
 *   A pack whose UNet has a fixed batch of 1 (the demo pack today) can only
 *   run per prompt; the batched rows then equal the sequential ones.
 */

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { load, loadNodePipeline } from './node-pipeline.mjs';
import { median } from './stats.mjs';

const region = (id, prompt) => ({
  id,
  name: prompt,
  colour: '#ff0000',
  prompt,
  strength: 1,
  hidden: false,
});

/** A rectangle (image fractions) filled with horizontal strokes, in the layout's JSON form. */
function fill(regionId, x0, x1, y0, y1, brush = 1 / 16) {
  const r = brush / 2;
  const strokes = [];
  for (let y = y0 + r; y < y1; y += r)
    strokes.push({
      region: regionId,
      erase: false,
      points: [x0 + r, Math.min(y, y1 - r), brush, x1 - r, Math.min(y, y1 - r), brush],
    });
  return strokes;
}

/** RegionLayoutJson for 0, 1, 2 and 4 regions. */
export const LAYOUTS = {
  0: null,
  1: { version: 1, regions: [region(1, 'red square')], strokes: fill(1, 0, 0.5, 0, 1) },
  2: {
    version: 1,
    regions: [region(1, 'red square'), region(2, 'blue square')],
    strokes: [...fill(1, 0, 0.5, 0, 1), ...fill(2, 0.5, 1, 0, 1)],
  },
  4: {
    version: 1,
    regions: [
      region(1, 'red square'),
      region(2, 'blue square'),
      region(3, 'green square'),
      region(4, 'yellow square'),
    ],
    strokes: [
      ...fill(1, 0, 0.5, 0, 0.5),
      ...fill(2, 0.5, 1, 0, 0.5),
      ...fill(3, 0, 0.5, 0.5, 1),
      ...fill(4, 0.5, 1, 0.5, 1),
    ],
  },
};
const COUNTS = [0, 1, 2, 4];
const STEPS = 4;
const label = (n) => `${n} region${n === 1 ? '' : 's'}`;
const perStep = (timings) => timings.unetMs.reduce((a, b) => a + b, 0) / timings.unetMs.length;

/**
 * @param {{ call: (method: string, args: unknown) => Promise<{ result: any, progress: any }>, repeats: number }} ctx
 * @returns {Promise<{ label: string, steps: number, totalMs: number, unetMsPerStep: number }[]>}
 */
export async function benchRegions({ call, repeats }) {
  const rows = [];
  let seed = 100;
  for (const count of COUNTS) {
    const regions = LAYOUTS[count] ?? undefined;
    const runs = [];
    for (let i = -1; i < repeats; i++) {
      const { result } = await call('generate', {
        prompt: 'square',
        steps: STEPS,
        seed: seed++,
        preview: false,
        regions,
      });
      if (i >= 0) runs.push(result.timings); // the first run warms up the region prompts' encodings
    }
    rows.push({
      label: label(count),
      steps: STEPS,
      totalMs: median(runs.map((t) => t.totalMs)),
      unetMsPerStep: median(runs.map(perStep)),
    });
  }
  return rows;
}

/** Node: batched vs one call per prompt, straight on the pipeline. */
async function benchNode(packDir, repeats) {
  const { planRegions } = await load('src/engine/regions/generate.ts');
  const { decodeLayout } = await load('src/shared/regions/layout.ts');
  const { pipeline, manifest, variant } = await loadNodePipeline(packDir);
  const request = {
    prompt: 'square',
    steps: STEPS,
    guidance: manifest.defaults.guidance,
    seed: 1,
    preview: false,
  };
  const rows = [];
  for (const count of COUNTS)
    for (const mode of count === 0 ? ['plain'] : ['batched', 'per prompt']) {
      const totals = [];
      const unets = [];
      let stats = { calls: STEPS, evaluations: STEPS };
      for (let i = -1; i < repeats; i++) {
        const layout = LAYOUTS[count] ? decodeLayout(LAYOUTS[count]) : null;
        const plan = layout
          ? await planRegions(pipeline, request, layout, { sequential: mode === 'per prompt' })
          : null;
        const { timings } = await pipeline.generate(
          { ...request, seed: i + 2 },
          plan?.predictor ? { predictor: plan.predictor } : {},
        );
        if (i < 0) continue;
        totals.push(timings.totalMs);
        unets.push(perStep(timings));
        if (plan) stats = plan.stats;
      }
      rows.push([
        label(count),
        mode,
        `${stats.calls}/${stats.evaluations}`,
        median(totals).toFixed(1),
        median(unets).toFixed(2),
      ]);
    }
  await pipeline.release();
  return { id: `${manifest.id}@${manifest.version} (${variant.id})`, rows };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.dirname, 'regions.mjs')) {
  const args = process.argv.slice(2);
  const option = (name, fallback) =>
    args.includes(name) ? args[args.indexOf(name) + 1] : fallback;
  const packDir = resolve(option('--pack', 'public/packs/demo'));
  if (!existsSync(resolve(packDir, 'manifest.json'))) throw new Error(`No pack at ${packDir}.`);
  const { table } = await import('./stats.mjs');
  const { id, rows } = await benchNode(packDir, Number(option('--repeats', '5')));
  console.log(
    `Regions in Node (onnxruntime-node), ${id}, ${STEPS} steps, median of the runs after a warm-up`,
  );
  console.log(
    table(['regions', 'mode', 'UNet calls/prompt evals', 'total ms', 'UNet ms/step'], rows),
  );
}
