/**
 * The on-device int8 copy at real size, in Chromium: the UNet of each
 * shape-true pack (models/realsize, built into ~/.cache/gesso/realsize) is
 * installed by the service worker into IndexedDB, then converted by the
 * engine worker's convertVariant exactly as "Make an int8 copy for this
 * device" does. Prints a table: time, bytes per second, size before and
 * after, and the browser's peak memory (resident set summed over every
 * Chromium process, sampled from /proc every 100 ms while converting).
 * Not part of `npm test`; run once, after `npx vite build`:
 *
 *   node tests/bench/convert-real-size.mjs [--packs sd-turbo-full,lcm-full] [--cache DIR]
 *   node tests/bench/convert-real-size.mjs --wasm [--latent 64] [--packs ...]
 *        [--modes int8-per-channel,int8-block,int4-block] [--no-original]
 *        [--component unet|text_encoder] [--attention-blocks N]
 *
 * --wasm: instead, the UNet against its int8 copies (--modes: per channel, the
 * default, and MatMulNBits int8/int4 blocks) on WebAssembly
 * (onnxruntime-web in Node, one process each, 1 thread): the copy is made in
 * Node by the same converter (same bytes as on the device), then each model's
 * session is created and one step run at the given latent size: wasm heap,
 * load and step time, and the copy's output against the original's
 * (onnxruntime-node when the original does not fit in WebAssembly).
 * --attention-blocks N: the copy's self-attention in N row blocks, as the
 * device's copy of a 512x512 pack slices it (8); default 1, not sliced.
 *
 * Each pack is reduced to its UNet (the tokenizer plus the UNet as every
 * component), so the figures are the UNet's; the pack is deleted afterwards.
 */

import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { runnerImport } from 'vite';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const cache = resolve(
  option('--cache', process.env.GESSO_REALSIZE_CACHE ?? join(homedir(), '.cache/gesso/realsize')),
);
const packs = option('--packs', 'sd-turbo-full,lcm-full').split(',');
const distDir = resolve('dist');
if (args.includes('--wasm')) {
  await wasmPhase();
  process.exit(0);
}

const { launchPersistent } = (await runnerImport(resolve('tests/helpers/browser.ts'))).module;
const { startStaticServer } = (await runnerImport(resolve('tests/helpers/static-server.ts')))
  .module;
const { waitForIsolatedControl, command } = (
  await runnerImport(resolve('tests/browser/store/models-page.ts'))
).module;
const { sampleBrowserMemory } = (await runnerImport(resolve('tests/browser/models/memory.ts')))
  .module;

function workerAsset() {
  const name = readdirSync(resolve(distDir, 'assets')).find((f) => /^worker-.*\.js$/.test(f));
  if (!name) throw new Error('No engine worker in dist/assets: run `npx vite build` first.');
  return `/assets/${name}`;
}

/** The pack reduced to its UNet: tokenizer + UNet files, the UNet as every component. */
function unetManifest(dir) {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const variant = manifest.variants.find((v) => v.default) ?? manifest.variants[0];
  const unet = variant.components.unet;
  const keep = new Set([manifest.tokenizer.vocab, manifest.tokenizer.merges, unet, `${unet}_data`]);
  return {
    ...manifest,
    id: `${manifest.id}-unet`,
    name: `${manifest.name} (UNet only)`,
    variants: [
      {
        ...variant,
        components: { textEncoder: unet, unet, vaeDecoder: unet },
      },
    ],
    files: manifest.files.filter((f) => keep.has(f.path)),
  };
}

const missing = packs.filter((p) => !existsSync(join(cache, p, 'manifest.json')));
if (missing.length) {
  console.log(
    `Not built: ${missing.map((p) => join(cache, p)).join(', ')}. Build with models/realsize/build.py (see its README).`,
  );
  process.exit(missing.length === packs.length ? 1 : 0);
}

const server = await startStaticServer(distDir);
server.intercept = (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const match = /^\/realsize\/([^/]+)\/(.+)$/.exec(url.pathname);
  if (!match) return false;
  const [, pack, path] = match;
  const dir = join(cache, pack);
  if (path === 'unet-manifest.json') {
    res
      .writeHead(200, { 'Content-Type': 'application/json' })
      .end(JSON.stringify(unetManifest(dir)));
    return true;
  }
  const file = resolve(dir, path);
  if (!file.startsWith(dir) || !existsSync(file)) return (res.writeHead(404).end(), true);
  const size = statSync(file).size;
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = range ? Number(range[1]) : 0;
  res.writeHead(range ? 206 : 200, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': size - start,
    'Accept-Ranges': 'bytes',
    ...(range ? { 'Content-Range': `bytes ${start}-${size - 1}/${size}` } : {}),
  });
  createReadStream(file, { start }).pipe(res);
  return true;
};

const { context, close } = await launchPersistent();
const rows = [];
try {
  const page = await context.newPage();
  await page.goto(`${server.url}/#/models`);
  await waitForIsolatedControl(page);
  await command(page, { cmd: 'configure', chunkSize: 4 << 20, backgroundFetch: false });
  await page.evaluate((url) => {
    const worker = new Worker(url, { type: 'module' });
    let next = 1;
    const pending = new Map();
    worker.onmessage = (event) => {
      const m = event.data;
      const entry = pending.get(m.id);
      if (!entry) return;
      if (m.type === 'progress') globalThis.convertProgress = m.data;
      else {
        pending.delete(m.id);
        if (m.type === 'result') entry.resolve(m.data);
        else entry.reject(new Error(m.error.message));
      }
    };
    globalThis.engineCall = (method, a) =>
      new Promise((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ type: 'call', id, method, args: a });
      });
  }, workerAsset());

  for (const pack of packs) {
    const manifest = unetManifest(join(cache, pack));
    const manifestUrl = `${server.url}/realsize/${pack}/unet-manifest.json`;
    const unetFiles = manifest.files.filter((f) => f.path.startsWith('unet/'));
    const unetBytes = unetFiles.reduce((n, f) => n + f.size, 0);
    console.error(
      `${pack}: installing the UNet (${(unetBytes / 1e9).toFixed(2)} GB) into IndexedDB…`,
    );
    const installStart = Date.now();
    const answer = await command(page, {
      cmd: 'download',
      manifest,
      manifestUrl,
      licenseAccepted: true,
      origin: 'user',
    });
    if (!answer.ok) throw new Error(answer.error.message);
    for (;;) {
      const state = await page.evaluate(async (id) => {
        const db = await new Promise((done) => {
          const open = indexedDB.open('gesso-models');
          open.onsuccess = () => done(open.result);
        });
        const record = await new Promise((done) => {
          const r = db.transaction('packs').objectStore('packs').get(id);
          r.onsuccess = () => done(r.result);
        });
        db.close();
        return {
          installed: Boolean(record?.installed),
          error: record?.job?.error?.message ?? null,
        };
      }, manifest.id);
      if (state.installed) break;
      if (state.error) throw new Error(`download failed: ${state.error}`);
      await new Promise((done) => setTimeout(done, 1000));
    }
    const installSeconds = (Date.now() - installStart) / 1000;
    console.error(`${pack}: installed in ${installSeconds.toFixed(0)} s; converting…`);

    const stop = sampleBrowserMemory(100);
    const started = Date.now();
    const ticker = setInterval(async () => {
      const p = await page.evaluate(() => globalThis.convertProgress ?? null).catch(() => null);
      if (p)
        console.error(
          `  ${(p.bytesDone / 1e6).toFixed(0)} of ${(p.bytesTotal / 1e6).toFixed(0)} MB, ${p.secondsLeft === null ? '?' : p.secondsLeft.toFixed(0)} s left`,
        );
    }, 10_000);
    let result;
    try {
      result = await page.evaluate(
        (id) => globalThis.engineCall('convertVariant', { packId: id }),
        manifest.id,
      );
    } finally {
      clearInterval(ticker);
    }
    const seconds = (Date.now() - started) / 1000;
    const memory = stop();
    const record = await page.evaluate(async (id) => {
      const db = await new Promise((done) => {
        const open = indexedDB.open('gesso-models');
        open.onsuccess = () => done(open.result);
      });
      const r = await new Promise((done) => {
        const q = db.transaction('packs').objectStore('packs').get(id);
        q.onsuccess = () => done(q.result);
      });
      db.close();
      return r.installed.manifest;
    }, manifest.id);
    const copy = record.files.filter((f) => f.path.includes('int8-device'));
    const after = copy.reduce((n, f) => n + f.size, 0);
    rows.push({
      pack,
      before: unetBytes,
      after,
      files: copy.map((f) => `${f.path} ${(f.size / 1e6).toFixed(1)} MB`).join(', '),
      seconds,
      rate: unetBytes / seconds,
      start: memory.start,
      peak: memory.peak,
      ms: result.ms,
    });
    await command(page, { cmd: 'delete', packId: manifest.id });
  }
} finally {
  await close();
  await server.close();
}

const gb = (n) => `${(n / 1e9).toFixed(2)} GB`;
const mb = (n) => `${(n / 1e6).toFixed(0)} MB`;
console.log(
  '\nint8 copy of the UNet in Chromium (engine worker, IndexedDB to IndexedDB), this machine:\n',
);
console.log(
  '| pack | UNet before | int8 copy | time | rate | browser RSS before | peak while converting |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows)
  console.log(
    `| ${r.pack} | ${gb(r.before)} | ${gb(r.after)} (${((100 * r.after) / r.before).toFixed(0)}%) | ${r.seconds.toFixed(1)} s | ${mb(r.rate)}/s | ${mb(r.start)} | ${mb(r.peak)} (+${mb(r.peak - r.start)}) |`,
  );
for (const r of rows) console.log(`\n${r.pack}: ${r.files}`);

/** --wasm: the UNet and its int8 copies (one per --modes entry) on WebAssembly, in Node. */
async function wasmPhase() {
  const { execFileSync } = await import('node:child_process');
  const {
    createReadStream: stream,
    mkdirSync,
    openSync,
    readSync,
    closeSync,
    writeSync,
    rmSync,
  } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { dirname } = await import('node:path');
  const { convertModel } = (await runnerImport(resolve('src/shared/onnx/convert.ts'))).module;
  const latent = Number(option('--latent', '64'));
  const modes = option('--modes', 'int8-per-channel').split(',');
  const withOriginal = !args.includes('--no-original');
  const component = option('--component', 'unet');
  const attentionBlocks = Number(option('--attention-blocks', '1'));
  const heapScript = resolve('tests/unit/engine/convert/session-heap.mjs');
  const work = join(tmpdir(), 'gesso-int8-wasm');
  const lines = [];
  for (const pack of packs) {
    const dir = join(cache, pack);
    const unet = join(dir, `${component}/model.onnx`);
    if (!existsSync(unet)) {
      console.log(`${pack}: not built (${unet} missing)`);
      continue;
    }
    const out = join(work, pack);
    mkdirSync(out, { recursive: true });
    const sizeOf = (p) => (existsSync(p) ? statSync(p).size : 0);
    const before = sizeOf(unet) + sizeOf(`${unet}_data`);
    const measure = (label, model, extra) => {
      console.error(`${pack}: ${label} on wasm…`);
      try {
        const text = execFileSync(
          process.execPath,
          [
            heapScript,
            model,
            ...extra,
            '--run',
            '--latent',
            String(latent),
            '--out',
            join(out, `${label}.f32`),
          ],
          { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        return JSON.parse(text.trim().split('\n').at(-1));
      } catch (error) {
        const text = String(error.stderr ?? error.message);
        const line = text.split('\n').find((l) => /^\w*Error: /.test(l)) ?? text.slice(-300);
        return { error: line.replace(/^\w*Error: /, '').slice(0, 300) };
      }
    };
    const original = withOriginal
      ? measure('original', unet, existsSync(`${unet}_data`) ? ['--data', `${unet}_data`] : [])
      : { error: 'not run (--no-original)' };
    // The original's output natively when WebAssembly cannot hold it (or was not asked to).
    let reference =
      existsSync(join(out, 'original.f32')) && original.run?.ms ? join(out, 'original.f32') : null;
    let referenceFrom = 'fp16 on wasm';
    if (!reference) {
      reference = join(out, 'native.f32');
      await writeNativeReference(await import('onnxruntime-node'), unet, latent, reference, {
        openSync,
        writeSync,
      });
      referenceFrom = 'fp16 in onnxruntime-node (CPU)';
    }
    for (const mode of modes) {
      const graph = join(out, `model.${mode}.onnx`);
      const data = join(out, `model.${mode}.onnx_data`);
      const fds = { graph: openSync(graph, 'w'), data: openSync(data, 'w') };
      console.error(`${pack}: converting ${component} in Node (${mode})…`);
      const t = performance.now();
      const result = await convertModel(
        stream(unet, { highWaterMark: 4 << 20 }),
        (file, chunk) => void writeSync(fds[file], chunk),
        {
          dataLocation: `model.${mode}.onnx_data`,
          mode,
          attentionBlocks,
          readExternal: async (location, offset, length) => {
            const fd = openSync(join(dirname(unet), location), 'r');
            const buf = new Uint8Array(length);
            let at = 0;
            while (at < length) at += readSync(fd, buf, at, length - at, offset + at);
            closeSync(fd);
            return buf;
          },
        },
      );
      closeSync(fds.graph);
      closeSync(fds.data);
      const convertSeconds = (performance.now() - t) / 1000;
      const after = sizeOf(graph) + sizeOf(data);
      const copy = measure(mode, graph, ['--data', data]);
      const diff =
        copy.run?.ms && reference ? difference(reference, join(out, `${mode}.f32`)) : null;
      lines.push({
        pack,
        mode,
        before,
        after,
        convertSeconds,
        nbits: result.nbits.length,
        original,
        copy,
        diff,
        referenceFrom,
      });
      rmSync(graph, { force: true });
      rmSync(data, { force: true });
    }
    rmSync(out, { recursive: true, force: true });
  }
  const gb = (n) => `${(n / 1e9).toFixed(2)} GB`;
  const cell = (m) =>
    m.error
      ? `fails: ${m.error}`
      : m.run?.error
        ? `loads (heap ${gb(m.heaps[0])}, ${(m.ms / 1000).toFixed(0)} s), step fails: ${m.run.error} (heap ${gb(m.run.heap)})`
        : `heap ${gb(m.heaps[0])} after load (${(m.ms / 1000).toFixed(0)} s), ${gb(m.run.heap)} after a step of ${(m.run.ms / 1000).toFixed(1)} s`;
  console.log(
    `\n${component} on WebAssembly (onnxruntime-web 1.30 in Node, 1 thread), latent ${latent}x${latent}, the copy's self-attention in ${attentionBlocks} row block(s):\n`,
  );
  console.log('| pack | original | copy made by the converter | copy vs original output |');
  console.log('| --- | --- | --- | --- |');
  for (const l of lines)
    console.log(
      `| ${l.pack} | ${gb(l.before)}: ${cell(l.original)} | ${l.mode}${l.nbits ? ` (${l.nbits} MatMulNBits)` : ''}, ${gb(l.after)} (Node conversion ${l.convertSeconds.toFixed(0)} s): ${cell(l.copy)} | ${l.diff ? `max ${l.diff.max.toExponential(2)}, mean ${l.diff.mean.toExponential(2)} (output range ${l.diff.range.toFixed(2)}; against ${l.referenceFrom})` : 'n/a'} |`,
    );
}

/** One UNet step of the original in onnxruntime-node on seeded inputs (as session-heap.mjs makes them), written as float32. */
async function writeNativeReference(ort, unet, latent, path, { openSync, writeSync }) {
  const session = await ort.InferenceSession.create(unet, { intraOpNumThreads: 2 });
  let seed = 1;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const feeds = {};
  for (const meta of session.inputMetadata) {
    const shape = meta.shape.map((d, i) =>
      typeof d === 'number' && d > 0
        ? d
        : i === 0
          ? 1
          : meta.name === 'sample'
            ? i === 1
              ? 4
              : latent
            : 77,
    );
    const n = shape.reduce((a, b) => a * b, 1);
    feeds[meta.name] =
      meta.type === 'int64'
        ? new ort.Tensor('int64', new BigInt64Array(n).fill(999n), shape)
        : meta.type === 'int32'
          ? new ort.Tensor('int32', new Int32Array(n).fill(999), shape)
          : new ort.Tensor('float32', Float32Array.from({ length: n }, random), shape);
  }
  const res = await session.run(feeds);
  const v = res[session.outputNames[0]].data;
  writeSync(openSync(path, 'w'), new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  await session.release();
}

/** Largest and mean absolute difference of two float32 files, and the first one's range. */
function difference(aPath, bPath) {
  const a = new Float32Array(readFileSync(aPath).buffer.slice(0));
  const b = new Float32Array(readFileSync(bPath).buffer.slice(0));
  let max = 0;
  let sum = 0;
  let range = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    max = Math.max(max, d);
    sum += d;
    range = Math.max(range, Math.abs(a[i]));
  }
  return { max, mean: sum / a.length, range };
}
