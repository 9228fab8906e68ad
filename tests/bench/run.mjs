/**
 * `npm run bench` (after `vite build`): the demo pack, stage by stage, at 1,
 * 2 and 4 steps, on wasm in Chromium (threads on: the page is cross-origin
 * isolated by `vite preview`'s COOP/COEP headers) and natively with
 * onnxruntime-node in the same run, with the browser/native ratio twice:
 * against native on its default threads, and against native at the wasm
 * thread count (the fair comparison of the runtimes). Both thread counts are
 * printed; native's default is measured (tests/bench/threads.mjs). WebGPU on
 * SwiftShader is run for correctness only (agreement with wasm), never timed.
 *
 * Also: the first image of a returning visit (tests/bench/first-image.mjs),
 * explain mode's cost (tests/bench/explain.mjs), repaint's (tests/bench/repaint.mjs)
 * and following an outline's (tests/bench/control.mjs).
 *
 * Options: --repeats N (default 5), --first-image-runs N (default 10),
 * --first-image-only (just that figure), --control-only (just what an outline costs),
 * --dist DIR (the built app, default dist),
 * --pack DIR (default <dist>/packs/demo),
 * --variant ID (default: the pack's default variant).
 *
 * --real-size: instead of all the above, the shape-true packs of
 * models/realsize (real SD-Turbo and LCM architectures, random weights; built
 * into ~/.cache/gesso/realsize by models/realsize/build.py), each on wasm in
 * Chromium through the engine worker (tests/bench/real-size-browser.mjs: the
 * pack served as the demo pack's URL, load with its phases, text encoder,
 * UNet step, decode and total of 1-step images, peak memory of all Chromium
 * processes) beside onnxruntime-node (tests/bench/real-size-native.mjs), one
 * table per pack. With it: --width reduced|full (default reduced; full also
 * benches the int8 copies models/realsize/int8_copy.py --layout external makes,
 * <pack>-full-int8-ext, which is what runs on wasm at full size),
 * --sizes 512,256 (default), --repeats N (default 2 here),
 * --native stages|pipeline|none (default stages; pipeline, all 4 models in
 * one process, for full width), --pack-dir DIR[,DIR] (bench these pack
 * folders instead of the built ones), --steps N (default 1), --decoders
 * full,fast (default both; the final decoders to time), --threads N (wasm
 * threads instead of the device's rule, and native at the same count). A pack that fails to load or run on wasm
 * (full-size fp16) is printed as "fails: <message>".
 *
 * --lora: instead of all the above, where "Apply LoRA"'s seconds go on a
 * full-size pack, in Node (tests/bench/lora-fusion.ts: --checkpoint FILE
 * --loras A,B [--ort-threads N]).
 *
 * --gpu: instead of all the above, the GPU path in Node on onnxruntime-node's
 * WebGPU provider (tests/bench/gpu.ts): per stage first run against warm,
 * the GPU-resident loop against the round-trip loop, sliced against whole
 * attention, agreement with fp32. With it: --json (last line one JSON
 * object), --width reduced|full, --packs sd-turbo,lcm[,demo].
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { preview, runnerImport } from 'vite';
import { benchFirstImage } from './first-image.mjs';
import { benchExplain } from './explain.mjs';
import { benchRegions } from './regions.mjs';
import { benchControl } from './control.mjs';
import { benchRepaint } from './repaint.mjs';
import { benchRealSize, realSizeMount } from './real-size-browser.mjs';
import { fmt, median, summarise, table } from './stats.mjs';
import { measureDefaultThreads, openNativeWithThreads } from './threads.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const repeats = Number(option('--repeats', '5'));
const firstImageRuns = Number(option('--first-image-runs', '10'));
const distDir = resolve(option('--dist', 'dist'));
const packDir = resolve(option('--pack', `${distDir}/packs/demo`));
const variantId = option('--variant', undefined);
const STEPS = [1, 2, 4];
const realSize = args.includes('--real-size');

if (args.includes('--lora')) {
  await (await runnerImport(resolve('tests/bench/lora-fusion.ts'))).module.main(args);
  process.exit(0);
}

if (args.includes('--gpu')) {
  await (await runnerImport(resolve('tests/bench/gpu-cli.ts'))).module.main(args);
  process.exit(0);
}

const realSizeServer = realSize ? realSizeMount() : null;

if (!realSize && !existsSync(resolve(packDir, 'manifest.json'))) {
  console.error(
    `No pack at ${packDir}: build the demo pack (models/build.sh) and run \`vite build\` first.`,
  );
  process.exit(1);
}

const { launchBrowser, CHROMIUM_ARGS, CHROMIUM_PATH, PHONE } = (
  await runnerImport(resolve('tests/helpers/browser.ts'))
).module;
const { startStaticServer } = (await runnerImport(resolve('tests/helpers/static-server.ts')))
  .module;
function workerAsset() {
  const name = readdirSync(resolve(distDir, 'assets')).find((f) => /^worker-.*\.js$/.test(f));
  if (!name) throw new Error(`No engine worker in ${distDir}/assets: run \`vite build\` first.`);
  return `/assets/${name}`;
}
const { openNative } = (await runnerImport(resolve('tests/bench/native.ts'))).module;
const { wasmThreads } = (await runnerImport(resolve('src/engine/ort-runtime.ts'))).module;

const server = await preview({
  logLevel: 'silent',
  preview: { port: 0, host: '127.0.0.1', open: false },
  build: { outDir: distDir },
  plugins: realSizeServer ? [realSizeServer.plugin] : [],
});
const base = server.resolvedUrls.local[0];
const browser = await launchBrowser();

async function isolatedPage() {
  const page = await (await browser.newContext({ serviceWorkers: 'block' })).newPage();
  await page.goto(new URL('#/settings', base).href);
  return page;
}

/** Starts a fresh engine worker in `page`; returns a call function (Node side). */
async function startWorker(page) {
  await page.evaluate((url) => {
    const worker = new Worker(url, { type: 'module' });
    let nextId = 1;
    const pending = new Map();
    worker.addEventListener('message', (event) => {
      const m = event.data;
      const entry = pending.get(m.id);
      if (!entry) return;
      if (m.type === 'progress') entry.progress.push(m.data);
      else {
        pending.delete(m.id);
        if (m.type === 'result')
          entry.resolve({
            result: m.data,
            progress: entry.progress,
            wallMs: performance.now() - entry.start,
          });
        else entry.reject(new Error(JSON.stringify(m.error)));
      }
    });
    globalThis.engineCall = (method, callArgs) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject, progress: [], start: performance.now() });
        worker.postMessage({ type: 'call', id, method, args: callArgs });
      });
  }, workerAsset());
  return (method, callArgs) =>
    page.evaluate(
      async ({ method, callArgs }) => {
        const out = await globalThis.engineCall(method, callArgs);
        // Typed arrays do not cross page.evaluate: send the pixels as a plain array.
        if (out.result?.image?.data)
          out.result.image = {
            width: out.result.image.width,
            height: out.result.image.height,
            data: Array.from(out.result.image.data),
          };
        out.progress = out.progress.length;
        return out;
      },
      { method, callArgs },
    );
}

/**
 * Browser (wasm) and native runs interleaved, one of each in turn, so all
 * see the same background load on a shared machine; one warm-up each.
 * `natives`: native engines (default threads, equal threads); returns their runs in that order.
 */
async function pairedRuns(call, natives) {
  const browserRuns = [];
  const nativeRuns = natives.map(() => []);
  let n = 0;
  for (const steps of STEPS)
    for (let i = -1; i < repeats; i++) {
      n++;
      const { result, wallMs } = await call('generate', {
        prompt: `red heart ${n}`,
        steps,
        seed: n,
      });
      const runs = [];
      for (const native of natives) runs.push(await native.run(steps, `red heart ${n}`, n));
      if (i < 0) continue;
      browserRuns.push({ steps, timings: result.timings, wallMs });
      runs.forEach((run, k) => nativeRuns[k].push(run));
    }
  return { browserRuns, nativeRuns };
}

/** Click on Generate to the <img> decoded, on the real Create screen, 4 steps (after one warm-up run). */
async function clickToPixels(page) {
  await page.goto(new URL('#/create', base).href);
  await page.getByLabel('Prompt').fill('red heart');
  await page.getByLabel('Steps').fill('4');
  const times = [];
  for (let i = -1; i < repeats; i++) {
    const ms = await page.evaluate(async () => {
      const previous = document.querySelector('img')?.src ?? '';
      const button = [...document.querySelectorAll('button')].find(
        (b) => b.textContent === 'Generate',
      );
      const start = performance.now();
      button.click();
      for (;;) {
        await new Promise((r) => requestAnimationFrame(r));
        const img = document.querySelector('img');
        if (img && img.src !== previous) {
          await img.decode();
          return performance.now() - start;
        }
        if (document.querySelector('[role="alert"]'))
          throw new Error(document.querySelector('[role="alert"]').textContent);
      }
    });
    if (i >= 0) times.push(ms);
  }
  return median(times);
}

/** One op type per graph (models/fixtures/make_fixtures.py kernels()): what a single kernel costs on each side. */
const KERNELS = [
  ['conv', 'Conv 64->64 3x3 at 32x32', [1, 64, 32, 32], 64 * 64 * 9 * 32 * 32],
  ['matmul', 'MatMul 256x256 by 256x256', [256, 256], 256 ** 3],
  ['chain', '200 Adds of 4,096 floats', [1, 64, 8, 8], 0],
];

async function kernelFloor(page, threads) {
  const rows = [];
  for (const [name, label, dims, macs] of KERNELS) {
    const bytes = readFileSync(`tests/fixtures/models/kernels/${name}.onnx`);
    const size = dims.reduce((a, b) => a * b, 1);
    const input = Float32Array.from({ length: size }, (_, i) => Math.sin(i));
    const wasmMs = await page.evaluate(
      async ({ model, dims, repeats }) => {
        const bytes = Uint8Array.from(atob(model), (c) => c.charCodeAt(0));
        const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) =>
          Math.sin(i),
        );
        const out = await globalThis.engineCall('runModel', {
          model: bytes.buffer,
          backend: 'wasm',
          feeds: { x: { dims, data } },
          repeats,
        });
        return out.result.milliseconds;
      },
      { model: bytes.toString('base64'), dims, repeats: 20 },
    );
    const session = await ortNode.InferenceSession.create(bytes, { intraOpNumThreads: threads });
    const feeds = { x: new ortNode.Tensor('float32', input, dims) };
    await session.run(feeds);
    const times = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await session.run(feeds);
      times.push(performance.now() - t);
    }
    await session.release();
    const nativeMs = median(times);
    const rate = (ms) => (macs ? `${(macs / ms / 1e6).toFixed(1)}` : '-');
    rows.push([
      label,
      fmt(wasmMs),
      fmt(nativeMs),
      (wasmMs / nativeMs).toFixed(2),
      rate(wasmMs),
      rate(nativeMs),
    ]);
  }
  return rows;
}

/**
 * The first image of a returning visit (first-image.mjs), two ways: the
 * person types for 3 s and then presses, and the person presses the moment
 * the page appears; printed with where the time went.
 */
async function reportFirstImage() {
  const plainHost = await startStaticServer(distDir);
  const spread = (values) =>
    `${fmt(median(values))} ms (min ${fmt(Math.min(...values))}, max ${fmt(Math.max(...values))})`;
  try {
    for (const [typeMs, how] of [
      [3000, 'typed for 3 s, then pressed'],
      [0, 'pressed the moment the page appears'],
    ]) {
      const first = await benchFirstImage({
        url: plainHost.url,
        runs: firstImageRuns,
        chromiumPath: CHROMIUM_PATH,
        chromiumArgs: CHROMIUM_ARGS,
        phone: PHONE,
        typeMs,
      });
      console.log(
        `\nFirst image of a returning visit (installed, offline, a fresh tab; demo pack, its default steps), ${how}, median of ${first.length}: ` +
          `press to image ${spread(first.map((r) => r.pressToImage))}; open to image ${spread(first.map((r) => r.openToImage))}; ` +
          `a later press in the same tab ${spread(first.map((r) => r.laterPressToImage))} (all on the page's clock: from the click event to the image decoded on screen).`,
      );
      console.log(
        'Where the time went (ms since the page was opened, median over the runs; worker measures moved onto the page clock):\n' +
          timelineTable(first.map((r) => r.timeline)),
      );
    }
  } finally {
    await plainHost.close();
  }
}

/** One row per event name found in every run: median start, end and duration. */
function timelineTable(runs) {
  const names = [...new Set(runs.flatMap((events) => events.map((e) => e.name)))];
  const rows = names
    .map((name) => {
      const found = runs.map((events) => events.find((e) => e.name === name)).filter(Boolean);
      return {
        name,
        seen: found.length,
        start: median(found.map((e) => e.start)),
        end: median(found.map((e) => e.end)),
        took: median(found.map((e) => e.end - e.start)),
      };
    })
    .sort((a, b) => a.start - b.start);
  return table(
    ['event', 'starts', 'ends', 'takes', 'runs'],
    rows.map((r) => [r.name, fmt(r.start), fmt(r.end), fmt(r.took), `${r.seen}/${runs.length}`]),
  );
}

function reportControl(control) {
  console.log(
    `\nOutline (wasm, "blue circle" following a drawn circle, ControlNet at strength 1, 4 steps, median of ${repeats}; the worker call): ` +
      `plain ${fmt(control.plainMs)} ms, with the outline ${fmt(control.controlMs)} ms; UNet per step ${fmt(control.plainStepMs)} ms against ${fmt(control.controlStepMs)} ms (the ControlNet, then the UNet that takes its residuals).`,
  );
}

if (args.includes('--first-image-only')) {
  try {
    await reportFirstImage();
  } finally {
    await browser.close();
    await new Promise((done) => server.httpServer.close(done));
  }
  process.exit(0);
}

if (realSize) {
  try {
    const { descendants, rss } = (await runnerImport(resolve('tests/browser/models/memory.ts')))
      .module;
    await benchRealSize({
      browser,
      base,
      mount: realSizeServer,
      startWorker,
      memory: () => rss(descendants()),
      wasmThreads,
      width: option('--width', 'reduced'),
      sizes: option('--sizes', '512,256').split(',').map(Number),
      repeats: args.includes('--repeats') ? repeats : 2,
      nativeMode: option('--native', undefined),
      packDirs: option('--pack-dir', undefined)
        ?.split(',')
        .map((d) => resolve(d)),
      steps: Number(option('--steps', '1')),
      decoders: option('--decoders', 'full,fast').split(','),
      threads: args.includes('--threads') ? Number(option('--threads')) : undefined,
    });
  } finally {
    await browser.close();
    await new Promise((done) => server.httpServer.close(done));
  }
  process.exit(0);
}

const loadBefore = loadavg()[0];
try {
  bench: {
    const page = await isolatedPage();
    const caps = await page.evaluate(() => ({
      isolated: crossOriginIsolated,
      cores: navigator.hardwareConcurrency,
    }));
    const call = await startWorker(page);
    const loaded = (await call('loadPack', { preference: 'wasm', variantId })).result;
    if (args.includes('--control-only')) {
      reportControl(await benchControl({ call, repeats, image: loaded.image }));
      break bench;
    }
    const threads = wasmThreads(caps.cores, caps.isolated);
    const nativeDefaultThreads = await measureDefaultThreads();
    const native = await openNative(packDir, variantId);
    const nativeEqual = await openNativeWithThreads(packDir, variantId, threads);
    const {
      browserRuns,
      nativeRuns: [nativeRuns, nativeEqualRuns],
    } = await pairedRuns(call, [native, nativeEqual]);
    const nativeRss = native.peakRssGrowthBytes();
    await native.release();
    await nativeEqual.release();
    const kernels = await kernelFloor(page, threads);
    const click = await clickToPixels(page);

    // WebGPU (SwiftShader): correctness only. Same seed on both backends; compare pixels.
    const gpuPage = await isolatedPage();
    const gpuCall = await startWorker(gpuPage);
    let gpuNote;
    try {
      const gpuLoad = await gpuCall('loadPack', { preference: 'webgpu', variantId });
      const a = (await call('generate', { prompt: 'red heart', steps: 4, seed: 7 })).result;
      const b = (await gpuCall('generate', { prompt: 'red heart', steps: 4, seed: 7 })).result;
      let worst = 0;
      let sum = 0;
      for (let i = 0; i < a.image.data.length; i++) {
        const d = Math.abs(a.image.data[i] - b.image.data[i]);
        worst = Math.max(worst, d);
        sum += d;
      }
      gpuNote = `WebGPU (${gpuLoad.result.backend}, SwiftShader software adapter): CORRECTNESS ONLY, not a speed figure. 4 steps, seed 7: max |wasm - WebGPU| ${worst}/255, mean ${(sum / a.image.data.length).toFixed(4)}; text states on GPU: ${b.textStatesOnGpu}.`;
    } catch (error) {
      gpuNote = `WebGPU (SwiftShader): failed: ${error.message}`;
    }

    const manifest = loaded;
    console.log(
      `\nGesso bench: pack ${manifest.packId} ${manifest.version}, variant ${manifest.variantId}, ${repeats} runs per cell (median), after one warm-up.`,
    );
    const defaultThreads = nativeDefaultThreads ?? '?';
    console.log(
      `Threads: wasm ${threads} (onnxruntime-web: min(4, cores - 1) when isolated; Chromium sees ${caps.cores} cores, crossOriginIsolated ${caps.isolated}). ` +
        `Native (onnxruntime-node, variant ${native.variant}, CPU EP): default intra-op threads = ${defaultThreads}` +
        `${nativeDefaultThreads === null ? ' (not measurable here)' : ' (measured: calling thread + pool threads a default session starts)'}, ` +
        `and a second native engine at ${threads} thread${threads > 1 ? 's' : ''} (= wasm). Runs interleaved: wasm, native default, native equal.`,
    );
    console.log(
      `Machine load average (1 min): ${loadBefore.toFixed(1)} at start, ${loadavg()[0].toFixed(1)} at the end; other jobs on the same cores make every figure noisy.`,
    );
    console.log(
      `Load: browser ${fmt(manifest.loadMs)} ms (fetch + sessions), native ${fmt(native.loadMs)} ms.`,
    );
    console.log(
      `Memory: native peak RSS growth from before loading to the end of the runs ${(nativeRss / 1024 / 1024).toFixed(1)} MiB (includes harness growth); manifest estimate ${(manifest.memoryBytes / 1024 / 1024).toFixed(1)} MiB.\n`,
    );

    const stages = [
      ['tokenize', 'tokenize'],
      ['text encode', 'textEncode'],
      ['UNet per step', 'unetPerStep'],
      ['previews + scheduler', 'stepOverhead'],
      ['decode', 'decode'],
      ['engine total', 'engineTotal'],
    ];
    const header = [
      'ms (median)',
      ...STEPS.flatMap((s) => [
        `wasm ${s} (${threads}t)`,
        `native ${s} (${defaultThreads}t)`,
        `ratio ${s}`,
        `native ${s} (${threads}t)`,
        `ratio ${s} (=t)`,
      ]),
    ];
    const ratio = (b, n) => (n > 0.05 ? (b / n).toFixed(2) : '-');
    const rows = stages.map(([label, key]) => [
      label,
      ...STEPS.flatMap((steps) => {
        const b = summarise(browserRuns.filter((r) => r.steps === steps))[key];
        const n = summarise(nativeRuns.filter((r) => r.steps === steps))[key];
        const e = summarise(nativeEqualRuns.filter((r) => r.steps === steps))[key];
        return [fmt(b), fmt(n), ratio(b, n), fmt(e), ratio(b, e)];
      }),
    ]);
    rows.push([
      'worker call (page)',
      ...STEPS.flatMap((steps) => [
        fmt(summarise(browserRuns.filter((r) => r.steps === steps)).wall),
        '',
        '',
        '',
        '',
      ]),
    ]);
    console.log(table(header, rows));
    const whole = (runs) => summarise(runs.filter((r) => r.steps === 4)).engineTotal;
    const [w, d, e] = [whole(browserRuns), whole(nativeRuns), whole(nativeEqualRuns)];
    console.log(
      `Whole image, 4 steps: wasm ${fmt(w)} ms on ${threads} thread${threads > 1 ? 's' : ''}; ` +
        `native ${fmt(d)} ms on ${defaultThreads} (default), ratio ${ratio(w, d)}; ` +
        `native ${fmt(e)} ms on ${threads} (equal threads), ratio ${ratio(w, e)}.`,
    );
    console.log(
      `\nClick to pixels on the Create screen (wasm, 4 steps, PNG encode + <img> decode included): ${fmt(click)} ms (median of ${repeats}).`,
    );
    await reportFirstImage();
    console.log(gpuNote);
    console.log(
      `\nKernel floor: one op type per graph, median of 20 runs; wasm in the engine worker (${threads} thread${threads > 1 ? 's' : ''}) vs onnxruntime-node with the same thread count.\n` +
        table(['kernel', 'wasm ms', 'native ms', 'ratio', 'wasm GMAC/s', 'native GMAC/s'], kernels),
    );

    const { descendants, rss } = (await runnerImport(resolve('tests/browser/models/memory.ts')))
      .module;
    const explain = await benchExplain({ call, repeats, memory: () => rss(descendants()) });
    const mib = (bytes) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
    console.log(
      `\nExplain mode (wasm, "red heart", 4 steps, median of ${repeats}; the UNet copy with attention outputs is opened for each run and released after): ` +
        `normal ${fmt(explain.generateMs)} ms, explain ${fmt(explain.explainMs)} ms; ` +
        `peak memory of all Chromium processes ${mib(explain.generatePeak)} normal, ${mib(explain.explainPeak)} explain. ` +
        'Quality (the pointing game) and native figures: node tests/bench/explain.mjs.',
    );

    const repaint = await benchRepaint({ call, repeats });
    console.log(
      `\nRepaint (wasm, "blue square" over the right half of a picture, 4 steps, median of ${repeats}; the worker call, VAE encoding and final composite included): ` +
        `plain ${fmt(repaint.plainMs)} ms, repaint ${fmt(repaint.repaintMs)} ms; per step (UNet + the rest) ${fmt(repaint.plainStepMs)} ms against ${fmt(repaint.repaintStepMs)} ms.`,
    );

    reportControl(await benchControl({ call, repeats, image: loaded.image }));

    const regions = await benchRegions({ call, repeats });
    if (regions.length)
      console.log(
        '\nRegions\n' +
          table(
            ['regions', 'steps', 'total ms', 'UNet ms/step'],
            regions.map((r) => [r.label, r.steps, fmt(r.totalMs), fmt(r.unetMsPerStep)]),
          ),
      );
    else console.log('\nRegions: not measured (tests/bench/regions.mjs found no layouts to run).');
  }
} finally {
  await browser.close();
  await new Promise((done) => server.httpServer.close(done));
}
