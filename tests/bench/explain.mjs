/**
 * Explain mode's cost and quality.
 *
 * - `benchExplain(ctx)`: called by run.mjs (`npm run bench`) with the engine
 *   worker's RPC in an isolated Chromium page (wasm): one image made
 *   normally and in explain mode, alternately; the median time of each, and
 *   the peak memory of every Chromium process during each.
 * - `node tests/bench/explain.mjs [--pack DIR]`: in Node (onnxruntime-node,
 *   the engine's TypeScript loaded by Vite), the same comparison natively
 *   (time, peak RSS growth), then the "pointing game" on the 18
 *   "<colour> <shape>" prompts over 3 seeds: is the brightest point of a
 *   word's map on the object (its saturated pixels)? Against the object's
 *   share of the image (what a uniform map scores), with the mean map value
 *   inside and outside the object, for all cross-attention layers averaged
 *   and for each layer alone.
 */

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { load, loadNodePipeline } from './node-pipeline.mjs';
import { median } from './stats.mjs';

const REQUEST = { prompt: 'red heart', steps: 4, preview: false };

/** Browser: normal vs explain, alternately; `memory()` samples all Chromium processes' RSS. */
export async function benchExplain({ call, repeats, memory }) {
  const runs = { generate: [], explain: [] };
  const peaks = { generate: 0, explain: 0 };
  for (let i = -1; i < repeats; i++)
    for (const method of ['generate', 'explain']) {
      let peak = memory();
      const timer = setInterval(() => (peak = Math.max(peak, memory())), 20);
      const { wallMs } = await call(method, { ...REQUEST, seed: i + 2 });
      clearInterval(timer);
      peak = Math.max(peak, memory());
      if (i < 0) continue;
      runs[method].push(wallMs);
      peaks[method] = Math.max(peaks[method], peak);
    }
  return {
    generateMs: median(runs.generate),
    explainMs: median(runs.explain),
    generatePeak: peaks.generate,
    explainPeak: peaks.explain,
  };
}

async function benchNode(packDir) {
  const { explainImage } = await load('src/engine/explain/explain.ts');
  const { generateImage } = await load('src/engine/generate.ts');
  const attention = await load('src/shared/onnx/attention-outputs.ts');
  const game = await load('tests/unit/engine/explain/pointing-game.ts');
  const { pipeline, manifest, source, variant } = await loadNodePipeline(packDir);

  const times = { generate: [], explain: [] };
  const growth = { generate: 0, explain: 0 };
  for (let i = -1; i < 5; i++)
    for (const [name, run] of [
      ['generate', generateImage],
      ['explain', explainImage],
    ]) {
      const before = process.memoryUsage().rss;
      let peak = before;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
      const t = performance.now();
      await run(pipeline, { ...REQUEST, seed: i + 2 });
      const ms = performance.now() - t;
      clearInterval(timer);
      if (i < 0) continue;
      times[name].push(ms);
      growth[name] = Math.max(growth[name], Math.max(peak, process.memoryUsage().rss) - before);
    }

  // Which layers: all of them (the engine's maps), then each alone. For one
  // layer, the UNet copy outputs only its probabilities; the recorder skips
  // the names that are not there.
  const unetBytes = await source.read(variant.components.unet);
  const layers = (await attention.findAttention(unetBytes)).crossAttention;
  const subsets = [
    ['all layers', pipeline],
    ...layers.map((name, i) => [`layer ${i + 1} alone (${name})`, onlyLayer(pipeline, name)]),
  ];
  const games = [];
  for (const [label, target] of subsets) {
    const tallies = [game.emptyTally(), game.emptyTally()];
    for (const colour of game.POINTING_COLOURS)
      for (const shape of game.POINTING_SHAPES)
        for (const seed of game.POINTING_SEEDS) {
          const result = await explainImage(target, {
            prompt: `${colour} ${shape}`,
            steps: 4,
            seed,
            preview: false,
          });
          const mask = game.objectMask(result.image);
          const words = result.explanation.prompts[0].words;
          game.scorePointing(words.find((w) => w.word === colour).map, mask, tallies[0]);
          game.scorePointing(words.find((w) => w.word === shape).map, mask, tallies[1]);
        }
    games.push([label, ...tallies]);
  }
  await pipeline.release();
  return {
    id: `${manifest.id}@${manifest.version} (${variant.id})`,
    times: { generate: median(times.generate), explain: median(times.explain) },
    growth,
    games,
  };

  function onlyLayer(base, name) {
    const stub = Object.create(base);
    stub.withUnetCopy = (copy, work, signal) =>
      base.withUnetCopy(
        {
          ...copy,
          rewrite: async (model) => {
            await copy.rewrite(model); // the engine's own checks, and the names it will look for
            return attention.withExtraOutputs(model, [name]);
          },
        },
        work,
        signal,
      );
    return stub;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.dirname, 'explain.mjs')) {
  const args = process.argv.slice(2);
  const option = (name, fallback) =>
    args.includes(name) ? args[args.indexOf(name) + 1] : fallback;
  const packDir = resolve(option('--pack', 'public/packs/demo'));
  if (!existsSync(resolve(packDir, 'manifest.json'))) throw new Error(`No pack at ${packDir}.`);
  const { table } = await import('./stats.mjs');
  const { id, times, growth, games } = await benchNode(packDir);
  const mib = (b) => (b / 1024 ** 2).toFixed(1);
  console.log(
    `Explain in Node (onnxruntime-node), ${id}, "${REQUEST.prompt}", ${REQUEST.steps} steps, median of 5:`,
  );
  console.log(
    table(
      ['mode', 'ms', 'peak RSS growth MiB'],
      [
        ['normal', times.generate.toFixed(1), mib(growth.generate)],
        ['explain', times.explain.toFixed(1), mib(growth.explain)],
      ],
    ),
  );
  const pct = (t) => `${t.hits}/${t.cases} (${((100 * t.hits) / t.cases).toFixed(0)}%)`;
  const mean = (t, k) => (t[k] / t.cases).toFixed(2);
  console.log(
    `\nPointing game, 18 "<colour> <shape>" prompts x 3 seeds: the brightest point of the word's map on the object (saturated pixels); a uniform map scores the object's share.`,
  );
  console.log(
    table(
      [
        'maps from',
        'object share',
        'shape word hits',
        'inside/outside',
        'colour word hits',
        'inside/outside',
      ],
      games.map(([label, colour, shape]) => [
        label,
        `${((100 * shape.share) / shape.cases).toFixed(0)}%`,
        pct(shape),
        `${mean(shape, 'inside')}/${mean(shape, 'outside')}`,
        pct(colour),
        `${mean(colour, 'inside')}/${mean(colour, 'outside')}`,
      ]),
    ),
  );
}
