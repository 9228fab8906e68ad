/**
 * The native half of `npm run bench -- --real-size`: each component of a
 * shape-true pack (models/realsize/) in onnxruntime-node on the CPU, one
 * child process per measurement so every peak is its own: session load time,
 * one run per stage (text encoder, one UNet step, VAE decoder, TAESD preview
 * decoder, VAE encoder) at each size, and the process's peak resident memory
 * (VmHWM) after load and after the run. A last row per pack and size loads
 * text encoder + UNet + VAE decoder + TAESD together and runs them once, as
 * the app keeps them.
 *
 *   node tests/bench/real-size-native.mjs [--width full|reduced] [--packs DIR,DIR]
 *        [--sizes 512,256] [--stages textEncoder,unet,...] [--threads 2]
 *        [--load bytes|path] [--opt all|extended|basic|disabled] [--json out.json]
 *
 * Default packs: sd-turbo-<width> and lcm-<width> in
 * ${GESSO_REALSIZE_CACHE:-~/.cache/gesso/realsize} (build them with
 * models/realsize/build.py). `--load bytes` (default) reads each file into
 * memory and hands the bytes (and external data) to onnxruntime, as the app
 * does; `--load path` lets onnxruntime read the files itself. `--opt` is
 * onnxruntime's graph optimization level (default all).
 * onnxruntime-node has no free-dimension overrides: the exports' symbolic
 * dims (batch_size, height, ...) are resolved from the inputs at run time.
 *
 * Import: `benchRealSizeNative(options)` returns the rows; `formatRows(rows)` the table.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir, loadavg } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { table } from './stats.mjs';

const SELF = fileURLToPath(import.meta.url);
export const STAGES = ['textEncoder', 'unet', 'vaeDecoder', 'previewDecoder', 'vaeEncoder'];
const STAGE_LABEL = {
  textEncoder: 'text encoder',
  unet: 'UNet step',
  vaeDecoder: 'VAE decoder',
  previewDecoder: 'TAESD decoder',
  vaeEncoder: 'VAE encoder',
  pipeline: 'all 4 loaded + run',
};

export function cacheRoot() {
  return process.env.GESSO_REALSIZE_CACHE || resolve(homedir(), '.cache', 'gesso', 'realsize');
}

function readStatus() {
  const text = readFileSync('/proc/self/status', 'utf8');
  const kb = (key) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
}

function manifestOf(packDir) {
  return JSON.parse(readFileSync(resolve(packDir, 'manifest.json'), 'utf8'));
}

function variantOf(manifest) {
  return manifest.variants.find((v) => v.default) ?? manifest.variants[0];
}

/** The model file and, when it has one, its external data file (`<model>_data`, as the packs ship). */
function componentFiles(packDir, manifest, component) {
  const path = variantOf(manifest).components[component];
  if (!path) return null;
  const listed = new Set(manifest.files.map((f) => f.path));
  const data = `${path}_data`;
  return { path, data: listed.has(data) ? data : null };
}

function componentBytes(packDir, files) {
  return [files.path, files.data]
    .filter(Boolean)
    .reduce((sum, p) => sum + statSync(resolve(packDir, p)).size, 0);
}

// ----------------------------------------------------------------------------- child side

let seed = 42;
function randn(n, scale = 1) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    const u1 = (seed + 1) / 4294967297;
    seed = (seed * 1664525 + 1013904223) >>> 0;
    out[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos((2 * Math.PI * seed) / 4294967296) * scale;
  }
  return out;
}

/** Values for the exports' symbolic dims at `size` pixels (names as the public exports use them). */
function dimValues(component, size, latentDownscale) {
  const lat = size / latentDownscale;
  const common = { batch_size: 1, batch: 1, sequence_length: 77, num_channels_latent: 4 };
  if (component === 'unet') return { ...common, num_channels: 4, height: lat, width: lat };
  if (component === 'vaeEncoder')
    return {
      ...common,
      num_channels: 3,
      height: size,
      width: size,
      height_latent: lat,
      width_latent: lat,
    };
  return { ...common, height_latent: lat, width_latent: lat, height: lat, width: lat };
}

function makeFeeds(ort, session, component, size, manifest) {
  const dims = dimValues(component, size, manifest.latent.downscale);
  const feeds = {};
  for (const meta of session.inputMetadata) {
    const shape = meta.shape.map((d) => (typeof d === 'number' ? d : dims[d]));
    if (shape.some((d) => !Number.isInteger(d)))
      throw new Error(`${component}: cannot size input ${meta.name} [${meta.shape}]`);
    const n = shape.reduce((a, b) => a * b, 1);
    if (meta.name === 'input_ids') {
      const ids = new Int32Array(n).fill(manifest.tokenizer.padTokenId);
      [49406, 320, 1125, 49407].forEach((v, i) => (ids[i] = v));
      feeds[meta.name] = new ort.Tensor(
        meta.type,
        meta.type === 'int64' ? BigInt64Array.from(ids, BigInt) : ids,
        shape,
      );
    } else if (meta.name === 'timestep') {
      feeds[meta.name] =
        meta.type === 'int64'
          ? new ort.Tensor('int64', BigInt64Array.from([999n]), shape)
          : new ort.Tensor(meta.type, Float32Array.from([999]), shape);
    } else if (meta.type === 'float32') {
      feeds[meta.name] = new ort.Tensor(
        'float32',
        randn(n, meta.name === 'sample' && component === 'vaeEncoder' ? 0.5 : 1),
        shape,
      );
    } else throw new Error(`${component}: unexpected input ${meta.name} of type ${meta.type}`);
  }
  return feeds;
}

async function openSession(ort, packDir, manifest, component, job) {
  const { threads, load, opt = 'all' } = job;
  const files = componentFiles(packDir, manifest, component);
  const options = { intraOpNumThreads: threads, graphOptimizationLevel: opt };
  if (load === 'path') return ort.InferenceSession.create(resolve(packDir, files.path), options);
  const bytes = new Uint8Array(readFileSync(resolve(packDir, files.path)));
  if (files.data)
    options.externalData = [
      {
        path: basename(files.data),
        data: new Uint8Array(readFileSync(resolve(packDir, files.data))),
      },
    ];
  return ort.InferenceSession.create(bytes, options);
}

function finite(tensor) {
  for (const v of tensor.data) if (!Number.isFinite(v)) return false;
  return true;
}

async function child(job) {
  const ort = await import('onnxruntime-node');
  const manifest = manifestOf(job.pack);
  const before = readStatus();
  const components =
    job.stage === 'pipeline'
      ? ['textEncoder', 'unet', 'vaeDecoder', 'previewDecoder']
      : [job.stage];
  const load1 = loadavg()[0];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sessions = {};
  for (const c of components) sessions[c] = await openSession(ort, job.pack, manifest, c, job);
  const loadMs = performance.now() - t0;
  const cpu1 = process.cpuUsage();
  global.gc?.();
  const afterLoad = readStatus();
  const t1 = performance.now();
  let ok = true;
  const outputs = [];
  for (const c of components) {
    const s = sessions[c];
    const out = await s.run(makeFeeds(ort, s, c, job.size, manifest));
    const first = out[s.outputNames[0]];
    ok &&= finite(first);
    outputs.push(`${c}:[${first.dims}]`);
  }
  const runMs = performance.now() - t1;
  const cpu2 = process.cpuUsage();
  const afterRun = readStatus();
  const cpuMs = (a, b) => (b.user - a.user + b.system - a.system) / 1000;
  process.stdout.write(
    JSON.stringify({
      loadMs,
      runMs,
      loadCpuMs: cpuMs(cpu0, cpu1),
      runCpuMs: cpuMs(cpu1, cpu2),
      loadavg: load1,
      ok,
      outputs,
      baseRss: before.rss,
      loadHwm: afterLoad.hwm,
      runHwm: afterRun.hwm,
      rssAfterRun: afterRun.rss,
    }) + '\n',
  );
}

// ----------------------------------------------------------------------------- parent side

function runChild(job) {
  const r = spawnSync(process.execPath, ['--expose-gc', SELF, '--child', JSON.stringify(job)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const line = r.stdout.trim().split('\n').pop();
  try {
    return JSON.parse(line);
  } catch {
    return {
      error: (r.stderr || r.stdout || `exit ${r.status} ${r.signal ?? ''}`)
        .trim()
        .split('\n')
        .slice(-3)
        .join(' '),
    };
  }
}

/** Runs every stage of every pack at every size; one child process each. */
export async function benchRealSizeNative({
  packs,
  sizes = [512, 256],
  stages = [...STAGES, 'pipeline'],
  threads = 2,
  load = 'bytes',
  opt = 'all',
  onRow = () => {},
} = {}) {
  const rows = [];
  for (const pack of packs) {
    const manifest = manifestOf(pack);
    for (const stage of stages) {
      const comps =
        stage === 'pipeline' ? ['textEncoder', 'unet', 'vaeDecoder', 'previewDecoder'] : [stage];
      const files = comps.map((c) => componentFiles(pack, manifest, c));
      if (files.some((f) => !f)) continue;
      const weights = files.reduce((sum, f) => sum + componentBytes(pack, f), 0);
      // The text encoder's work does not depend on the image size: measured once.
      for (const size of stage === 'textEncoder' ? [sizes[0]] : sizes) {
        const job = { pack, stage, size, threads, load, opt };
        const started = performance.now();
        const result = runChild(job);
        const row = {
          pack: manifest.id,
          stage,
          size: stage === 'textEncoder' ? null : size,
          weightsBytes: weights,
          wallMs: performance.now() - started,
          ...result,
        };
        rows.push(row);
        onRow(row);
      }
    }
  }
  return rows;
}

const mib = (b) => (Number.isFinite(b) ? (b / 2 ** 20).toFixed(0) : '-');
const sec = (ms) => (Number.isFinite(ms) ? (ms / 1000).toFixed(ms < 10000 ? 2 : 1) : '-');

export function formatRows(rows) {
  const header = [
    'pack',
    'stage',
    'size',
    'weights MiB',
    'load s',
    'run s',
    'run CPU s',
    'loadavg',
    'base RSS',
    'peak RSS load',
    'peak RSS run',
    'peak/weights',
    'ok',
  ];
  const body = rows.map((r) =>
    r.error
      ? [
          r.pack,
          STAGE_LABEL[r.stage],
          r.size ?? '-',
          mib(r.weightsBytes),
          '-',
          '-',
          '-',
          '-',
          '-',
          '-',
          '-',
          '-',
          `error: ${r.error.slice(0, 80)}`,
        ]
      : [
          r.pack,
          STAGE_LABEL[r.stage],
          r.size ?? '-',
          mib(r.weightsBytes),
          sec(r.loadMs),
          sec(r.runMs),
          sec(r.runCpuMs),
          r.loadavg.toFixed(1),
          mib(r.baseRss),
          mib(r.loadHwm),
          mib(r.runHwm),
          ((r.runHwm - r.baseRss) / r.weightsBytes).toFixed(2),
          r.ok ? 'yes' : 'NON-FINITE',
        ],
  );
  return (
    table(header, body) +
    '\n(MiB; peak/weights = (peak RSS after the run - RSS before loading) / file bytes; run CPU s = user + system' +
    " time of all threads during the run; loadavg = the machine's 1-minute load average when the child started)"
  );
}

async function main(argv) {
  const opt = (name, fallback) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : fallback;
  };
  const width = opt('--width', 'full');
  const packs = (
    opt('--packs', '') ||
    ['sd-turbo', 'lcm'].map((p) => resolve(cacheRoot(), `${p}-${width}`)).join(',')
  )
    .split(',')
    .map((p) => resolve(p));
  const missing = packs.filter((p) => !existsSync(resolve(p, 'manifest.json')));
  if (missing.length) {
    console.error(
      `No built pack at ${missing.join(', ')}.\nBuild: /usr/bin/python3 models/realsize/build.py --pack all --width ${width}`,
    );
    process.exit(1);
  }
  const sizes = opt('--sizes', '512,256').split(',').map(Number);
  const stages = opt('--stages', [...STAGES, 'pipeline'].join(',')).split(',');
  const threads = Number(opt('--threads', '2'));
  const load = opt('--load', 'bytes');
  const level = opt('--opt', 'all');
  console.log(
    `onnxruntime-node, CPU, ${threads} threads, load from ${load}, graph optimization ${level}; ` +
      `packs: ${packs.map((p) => basename(p)).join(', ')}`,
  );
  const rows = await benchRealSizeNative({
    packs,
    sizes,
    stages,
    threads,
    load,
    opt: level,
    onRow: (r) =>
      console.error(
        `  ${r.pack} ${r.stage} ${r.size ?? ''}: ${r.error ? `error ${r.error}` : `load ${sec(r.loadMs)} s, run ${sec(r.runMs)} s, peak ${mib(r.runHwm)} MiB`}`,
      ),
  });
  console.log(formatRows(rows));
  const json = opt('--json', null);
  if (json) {
    const { writeFileSync, mkdirSync } = await import('node:fs');
    mkdirSync(dirname(resolve(json)), { recursive: true });
    writeFileSync(json, JSON.stringify({ threads, load, opt: level, rows }, null, 2) + '\n');
  }
}

if (process.argv[1] && resolve(process.argv[1]) === SELF) {
  const i = process.argv.indexOf('--child');
  if (i >= 0) await child(JSON.parse(process.argv[i + 1]));
  else await main(process.argv.slice(2));
}
