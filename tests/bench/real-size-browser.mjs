/**
 * The browser half of `npm run bench -- --real-size` (run.mjs wires it): each
 * shape-true pack of models/realsize (the real SD-Turbo and LCM graphs with
 * seeded random weights) loaded and run on WebAssembly in Chromium through
 * the app's own engine worker, beside the native figures of
 * real-size-native.mjs for the same pack and sizes.
 *
 * The engine opens a pack by the demo pack's manifest URL when none is
 * stored (src/engine/pack-opener.ts, fetch-pack-source.ts: every file
 * fetched over HTTP and checked against its size and SHA-256), so the bench's
 * preview server answers `/packs/demo/*` from the real-size pack's folder
 * (`realSizeMount().plugin`, mounted one pack at a time), with the manifest's
 * image size set to the size measured: the engine fixes the UNet's and
 * decoders' free dimensions from it at load, and then makes that size
 * whatever a request's width and height say (asked for 256 with the packs'
 * own 512 manifest, it makes 512x512). Each size gets a fresh browser context and worker: load (with the
 * engine's load phases), then one warm-up image and `repeats` timed 1-step
 * images without previews (the engine's stage timings), while the summed
 * resident memory of all Chromium processes is sampled, and cut into the
 * load's and each image's phases (memory-timeline.mjs).
 *
 * Over 300 lines because it holds the preview-server mount, the wasm run and
 * the combined wasm/native table of one bench; the memory code is apart.
 */

import { createReadStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, extname, join, normalize, resolve } from 'node:path';
import { benchRealSizeNative, cacheRoot } from './real-size-native.mjs';
import { fmt, median, table } from './stats.mjs';
import {
  formatPhaseMemory,
  logWorkerMessages,
  phaseMemory,
  timeline,
  workerEvents,
} from './memory-timeline.mjs';

const PREFIX = '/packs/demo/';
const TYPES = { '.json': 'application/json', '.txt': 'text/plain; charset=utf-8' };

/** A preview-server plugin serving one real-size pack at /packs/demo/ (`mount(dir, size)`), nothing while unmounted. */
export function realSizeMount() {
  let mounted = null;
  const plugin = {
    name: 'gesso-bench-real-size-pack',
    configurePreviewServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = new URL(req.url ?? '/', 'http://localhost').pathname;
        if (!mounted || !path.startsWith(PREFIX)) return next();
        const headers = {
          'Cache-Control': 'no-store',
          'Cross-Origin-Resource-Policy': 'same-origin',
        };
        const relative = decodeURIComponent(path.slice(PREFIX.length));
        if (relative === 'manifest.json') {
          const body = Buffer.from(mounted.manifestText);
          res.writeHead(200, {
            ...headers,
            'Content-Type': 'application/json',
            'Content-Length': body.length,
          });
          res.end(body);
          return;
        }
        const file = normalize(join(mounted.dir, relative));
        if (!file.startsWith(mounted.dir + '/') || !existsSync(file) || !statSync(file).isFile()) {
          res.writeHead(404, headers).end('Not found');
          return;
        }
        res.writeHead(200, {
          ...headers,
          'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
          'Content-Length': statSync(file).size,
        });
        createReadStream(file).pipe(res);
      });
    },
  };
  return {
    plugin,
    /** Serves `dir` as the demo pack, its manifest saying `size` x `size` pixels. */
    mount(dir, size) {
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      manifest.image = { width: size, height: size };
      mounted = { dir: resolve(dir), manifestText: JSON.stringify(manifest) };
    },
    unmount() {
      mounted = null;
    },
  };
}

/** The packs of one width in the cache: `{ name, dir }` of those built, and the names missing. */
export function realSizePacks(width) {
  // At full size the fp16 packs are refused on wasm (the row says why); their int8 copies are what runs.
  const names = ['sd-turbo', 'lcm'].flatMap((p) =>
    width === 'full' ? [`${p}-full`, `${p}-full-int8-ext`] : [`${p}-${width}`],
  );
  const all = names.map((name) => ({ name, dir: resolve(cacheRoot(), name) }));
  return {
    found: all.filter((p) => existsSync(join(p.dir, 'manifest.json'))),
    missing: all.filter((p) => !existsSync(join(p.dir, 'manifest.json'))).map((p) => p.name),
  };
}

/** Samples `memory()` every `intervalMs` until stopped; returns the peak. */
function sampler(memory, intervalMs = 200) {
  let peak = memory();
  const timer = setInterval(() => (peak = Math.max(peak, memory())), intervalMs);
  return () => {
    clearInterval(timer);
    return Math.max(peak, memory());
  };
}

/** The engine's error as "code: message" (it crosses page.evaluate as JSON), else the text. */
function message(error) {
  const text = String(error?.message ?? error).replace(/\s+/g, ' ');
  const json = /\{"name".*\}/.exec(text)?.[0];
  try {
    const parsed = JSON.parse(json);
    return `${parsed.code ?? parsed.name}: ${parsed.message}`;
  } catch {
    return text.replace(/^(page\.evaluate: )?Error: /, '');
  }
}

/**
 * One pack on wasm at each size, one fresh context each. `browser`: a
 * Playwright browser; `base`: the preview server (with `mount.plugin`);
 * `startWorker(page)`: run.mjs's engine-worker starter; `memory()`: summed RSS
 * of all Chromium processes in bytes.
 */
export async function benchRealSizeWasm({
  browser,
  base,
  mount,
  startWorker,
  memory,
  packDir,
  sizes,
  repeats,
  steps = 1,
  decoders = ['full', 'fast'],
  threads,
}) {
  const results = {};
  let caps = null;
  let n = 0;
  for (const size of sizes) {
    mount.mount(packDir, size);
    const context = await browser.newContext({ serviceWorkers: 'block' });
    const r = { size };
    const calls = [];
    let stopTimeline = null;
    let page = null;
    try {
      page = await context.newPage();
      await page.goto(new URL('#/settings', base).href);
      caps ??= await page.evaluate(() => ({
        isolated: crossOriginIsolated,
        cores: navigator.hardwareConcurrency,
      }));
      await logWorkerMessages(page);
      const call = await startWorker(page);
      stopTimeline = timeline();
      r.idle = memory();
      let stop = sampler(memory);
      try {
        calls.push({ method: 'loadPack' });
        r.loaded = (
          await call('loadPack', { preference: 'wasm', noWarmUp: true, wasmThreads: threads })
        ).result;
      } catch (error) {
        r.loadPeak = stop();
        r.error = `load: ${message(error)}`;
        continue;
      }
      r.loadPeak = stop();
      stop = sampler(memory);
      r.runs = [];
      r.fastRuns = [];
      try {
        // A 1-step warm-up with the first decoder, then `repeats` images with each decoder
        // (full: the VAE; fast: the pack's TAESD).
        const plan = [
          { decoder: decoders[0], warmUp: true },
          ...decoders.flatMap((decoder) =>
            Array.from({ length: repeats }, () => ({ decoder, warmUp: false })),
          ),
        ];
        for (const { decoder, warmUp } of plan) {
          n++;
          const entry = { method: 'generate' };
          calls.push(entry);
          const { result, wallMs } = await call('generate', {
            prompt: `a red heart ${n}`,
            steps: warmUp ? 1 : steps,
            seed: n,
            width: size,
            height: size,
            preview: false,
            decoder,
          });
          if (result.recipe.width !== size || result.image.width !== size)
            throw new Error(
              `asked for ${size} px, the engine made ${result.image.width}x${result.image.height}`,
            );
          entry.timings = result.timings;
          if (warmUp) continue;
          if (decoder === 'fast') r.fastRuns.push({ timings: result.timings, wallMs });
          else r.runs.push({ timings: result.timings, wallMs });
        }
      } catch (error) {
        r.error = `generate: ${message(error)}`;
      } finally {
        r.runPeak = stop();
      }
    } finally {
      if (stopTimeline) {
        const samples = stopTimeline();
        try {
          const events = await workerEvents(page);
          r.memory = phaseMemory(samples, events, calls, packDir);
          // The raw timeline and worker log, for a closer look: GESSO_BENCH_TIMELINE=prefix writes prefix-<size>.json.
          if (process.env.GESSO_BENCH_TIMELINE)
            writeFileSync(
              `${process.env.GESSO_BENCH_TIMELINE}-${size}.json`,
              JSON.stringify({ packDir, size, calls, events, samples, phases: r.memory.phases }),
            );
        } catch (error) {
          r.memoryError = String(error?.message ?? error);
        }
      }
      await context.close();
      mount.unmount();
      results[size] = r;
    }
  }
  return { caps, results };
}

const mib = (bytes) => (Number.isFinite(bytes) ? (bytes / 2 ** 20).toFixed(0) : '-');
const ratio = (a, b) =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) : '-';

/** Medians of the wasm runs' stage timings; "fails: ..." for what could not run. */
function wasmStages(r) {
  if (!r) return {};
  const peak = Math.max(r.loadPeak ?? 0, r.runPeak ?? 0) || undefined;
  const out = { peak, growth: peak && peak - r.idle };
  // The table's cell; the whole message is printed under the table.
  const failure = r.error && `fails: ${r.error.replace(/The “[^”]*” variant /, 'variant ')}`;
  out.load = r.loaded ? r.loaded.loadMs : failure;
  const all = [...(r.runs ?? []), ...(r.fastRuns ?? [])];
  if (!all.length) {
    for (const key of ['textEncoder', 'unet', 'vaeDecoder', 'total'])
      out[key] = r.loaded ? failure : 'not run';
    return out;
  }
  out.textEncoder = median(all.map((x) => x.timings.textEncodeMs));
  out.unet = median(
    all.map((x) => x.timings.unetMs.reduce((a, b) => a + b, 0) / x.timings.unetMs.length),
  );
  out.steps = all[0].timings.unetMs.length;
  if (r.runs?.length) {
    out.vaeDecoder = median(r.runs.map((x) => x.timings.decodeMs));
    out.total = median(r.runs.map((x) => x.timings.totalMs));
  }
  if (r.fastRuns?.length) {
    out.fastDecoder = median(r.fastRuns.map((x) => x.timings.decodeMs));
    out.fastTotal = median(r.fastRuns.map((x) => x.timings.totalMs));
  }
  return out;
}

/** The native rows of one size as the same stages (the text encoder is measured once, for every size). */
function nativeStages(rows, size, steps = 1) {
  const row = (stage) => rows.find((x) => x.stage === stage && (x.size ?? size) === size);
  const run = (stage) => {
    const x = row(stage);
    if (!x) return undefined;
    return x.error ? `fails: ${x.error}` : x.runMs;
  };
  const pipeline = row('pipeline');
  const stages = {
    textEncoder: run('textEncoder'),
    unet: run('unet'),
    vaeDecoder: run('vaeDecoder'),
  };
  const out = { ...stages, fastDecoder: run('previewDecoder') };
  const { textEncoder, unet, vaeDecoder } = stages;
  const numbers = (...v) => v.every((x) => typeof x === 'number');
  if (numbers(textEncoder, unet, vaeDecoder)) out.total = textEncoder + steps * unet + vaeDecoder;
  else if (pipeline && !pipeline.error && steps === 1) out.total = pipeline.runMs;
  if (numbers(textEncoder, unet, out.fastDecoder))
    out.fastTotal = textEncoder + steps * unet + out.fastDecoder;
  if (pipeline?.error) {
    out.load = `fails: ${pipeline.error}`;
    out.peak = out.load;
  } else if (pipeline) {
    out.load = pipeline.loadMs;
    out.peak = pipeline.runHwm;
    out.growth = pipeline.runHwm - pipeline.baseRss;
  }
  return out;
}

const ROWS = [
  ['load (fetch + sessions)', 'load', 'ms'],
  ['text encoder', 'textEncoder', 'ms'],
  ['UNet step', 'unet', 'ms'],
  ['VAE decoder (final decode)', 'vaeDecoder', 'ms'],
  ['total with the VAE', 'total', 'ms'],
  ['Fast decode (TAESD, final)', 'fastDecoder', 'ms'],
  ['total with Fast decode', 'fastTotal', 'ms'],
  ['peak memory MiB', 'peak', 'bytes'],
  ['peak growth MiB', 'growth', 'bytes'],
];

/** One pack's table: rows = stages, columns = wasm, native, ratio at each size. */
export function formatPackTable({ sizes, wasm, native, steps = 1 }) {
  const header = ['stage', ...sizes.flatMap((s) => [`wasm ${s}`, `native ${s}`, `ratio ${s}`])];
  const cell = (v, unit) =>
    typeof v === 'string'
      ? v.length > 90
        ? `${v.slice(0, 89)}…`
        : v
      : unit === 'bytes'
        ? mib(v)
        : Number.isFinite(v)
          ? fmt(v)
          : '-';
  const rows = ROWS.map(([label, key, unit]) => [
    label,
    ...sizes.flatMap((size) => {
      const w = wasmStages(wasm.results[size])[key];
      const n = nativeStages(native, size, steps)[key];
      return [cell(w, unit), cell(n, unit), ratio(w, n)];
    }),
  ]);
  return table(header, rows);
}

const sec = (ms) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Everything for `--real-size`: each built pack of `width`, wasm then native,
 * one table per pack printed as soon as it is done. `log` prints.
 */
export async function benchRealSize({
  browser,
  base,
  mount,
  startWorker,
  memory,
  wasmThreads,
  width = 'reduced',
  sizes = [512, 256],
  repeats = 2,
  nativeMode = width === 'full' ? 'pipeline' : 'stages',
  nativeThreads = 2,
  packDirs = null,
  steps = 1,
  decoders = ['full', 'fast'],
  threads,
  log = console.log,
}) {
  const { found, missing } = packDirs?.length
    ? { found: packDirs.map((dir) => ({ name: basename(dir), dir: resolve(dir) })), missing: [] }
    : realSizePacks(width);
  if (missing.length)
    log(
      `Not built (skipped): ${missing.join(', ')}. Build: /usr/bin/python3 models/realsize/build.py --pack all --width ${width}` +
        (width === 'full'
          ? `; the int8 copies: /usr/bin/python3 models/realsize/int8_copy.py <cache>/<pack>-full <cache>/<pack>-full-int8-ext --layout external`
          : ''),
    );
  for (const pack of found) {
    const manifest = JSON.parse(readFileSync(join(pack.dir, 'manifest.json'), 'utf8'));
    const variant = manifest.variants.find((v) => v.default) ?? manifest.variants[0];
    const loadStart = loadavg()[0];
    const started = performance.now();
    const wasm = await benchRealSizeWasm({
      browser,
      base,
      mount,
      startWorker,
      memory,
      packDir: pack.dir,
      sizes,
      repeats,
      steps,
      decoders,
      threads,
    });
    const wasmDone = performance.now();
    let native = [];
    if (nativeMode !== 'none')
      native = await benchRealSizeNative({
        packs: [pack.dir],
        sizes,
        threads: threads ?? nativeThreads,
        stages:
          nativeMode === 'pipeline'
            ? ['pipeline']
            : ['textEncoder', 'unet', 'vaeDecoder', 'previewDecoder', 'pipeline'],
      });
    const loadEnd = loadavg()[0];
    const wasmThreadCount =
      threads ?? (wasm.caps ? wasmThreads(wasm.caps.cores, wasm.caps.isolated, true) : '?');
    const first = Object.values(wasm.results).find((r) => r.loaded)?.loaded;
    log(
      `\nReal-size pack ${manifest.id} (${basename(pack.dir)}), width ${packDirs?.length ? 'as built' : width}, variant ${variant.id}: RANDOM WEIGHTS ` +
        '(shape-true architectures, images are noise; times and memory are real, quality is not). ' +
        `Machine load average (1 min) ${loadStart.toFixed(1)} at start, ${loadEnd.toFixed(1)} at the end.\n` +
        `wasm: Chromium, the app's engine worker, ${wasmThreadCount} thread${wasmThreadCount === 1 ? '' : 's'}${threads ? ' (set by --threads)' : ''} ` +
        `(crossOriginIsolated ${wasm.caps?.isolated}, ${wasm.caps?.cores} cores), a fresh page and load per size, ` +
        `median of ${repeats} ${steps}-step images (no previews) per decoder after one 1-step warm-up` +
        `${first?.releasesTextEncoder ? '; the engine frees the text encoder after each prompt (memory short), so its time includes reopening it' : ''}` +
        `${first?.tiledDecode ? '; the VAE decodes in overlapping latent tiles (memory short)' : ''}; ` +
        `peak = summed RSS of all Chromium processes. native: onnxruntime-node CPU, ${threads ?? nativeThreads} threads, ` +
        `${nativeMode === 'pipeline' ? 'the pipeline row only (all 4 models loaded, each run once)' : 'one child process per stage, one (first) run after load; load, peak: all 4 models loaded and run once; total: text encoder + ${steps} x UNet step + decoder'}; peak = the child's VmHWM.`,
    );
    log(formatPackTable({ sizes, wasm, native, steps }));
    for (const size of sizes) {
      const r = wasm.results[size];
      if (r?.loaded) {
        const phases = { ...r.loaded.loadPhases };
        const opening = Math.max(phases['open pack'] ?? 0, phases.runtime ?? 0);
        const sessions = Object.entries(phases)
          .filter(([k]) => k !== 'open pack' && k !== 'runtime')
          .reduce((a, [, v]) => a + v, 0);
        phases['fetch, SHA-256 and the rest'] = r.loaded.loadMs - opening - sessions;
        log(
          `  wasm load at ${size}, ${fmt(r.loaded.loadMs)} ms (runtime overlaps open pack; each model's file is fetched and checked before its session): ` +
            Object.entries(phases)
              .map(([k, v]) => `${k} ${fmt(v)}`)
              .join(', '),
        );
      }
      if (r?.error) log(`  wasm at ${size}: fails: ${r.error}`);
      if (r?.memory) log(formatPhaseMemory(r.memory, size));
      if (r?.memoryError) log(`  memory by phase at ${size}: not measured (${r.memoryError})`);
    }
    log(
      `  (${sec(wasmDone - started)} in Chromium, ${sec(performance.now() - wasmDone)} native; idle Chromium before loading ` +
        sizes.map((s) => `${mib(wasm.results[s]?.idle)} MiB at ${s}`).join(', ') +
        ')',
    );
  }
}
