/**
 * What an int8 weight costs in each form onnxruntime's CPU kernels can take
 * it, on one real-size SD layer (models/realsize/int8_kernels.py: a 3x3 conv
 * 320 -> 320 on a 64x64 latent, a 320 -> 1280 linear over 4,096 positions):
 * float32 weights, DequantizeLinear on every run (in float32, and cast to
 * float16 as the int8 copies of fp16 packs compute), activations quantized on
 * the fly (ConvInteger / MatMulInteger), and MatMulNBits in 8 and 4 bits.
 * Each on WebAssembly (onnxruntime-web in Node, the build Chromium runs) and
 * natively (onnxruntime-node), 1 thread each, median of --repeats runs after
 * one warm-up; and each form's output against the float32 graph's.
 *
 *   node tests/bench/int8-kernels.mjs [--repeats 7]
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, median, table } from './stats.mjs';

const args = process.argv.slice(2);
const repeatsAt = args.indexOf('--repeats');
const repeats = repeatsAt >= 0 ? Number(args[repeatsAt + 1]) : 7;

const dir = mkdtempSync(join(tmpdir(), 'gesso-int8-kernels-'));
try {
  execFileSync('/usr/bin/python3', ['models/realsize/int8_kernels.py', dir], { stdio: 'ignore' });
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.onnx'))
    .map((f) => f.slice(0, -'.onnx'.length))
    .sort();

  const web = await import('onnxruntime-web');
  web.env.wasm.numThreads = 1;
  const node = await import('onnxruntime-node');

  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const inputs = {
    conv: Float32Array.from({ length: 320 * 64 * 64 }, random),
    matmul: Float32Array.from({ length: 4096 * 320 }, random),
  };
  const dims = { conv: [1, 320, 64, 64], matmul: [1, 4096, 320] };

  async function time(ort, name, options) {
    const kind = name.split('-')[0];
    const session = await ort.InferenceSession.create(readFileSync(join(dir, `${name}.onnx`)), {
      graphOptimizationLevel: 'all',
      ...options,
    });
    const feeds = { x: new ort.Tensor('float32', inputs[kind], dims[kind]) };
    let out = await session.run(feeds);
    const times = [];
    for (let i = 0; i < repeats; i++) {
      const start = performance.now();
      out = await session.run(feeds);
      times.push(performance.now() - start);
    }
    const y = Float32Array.from(out.y.data);
    await session.release();
    return { ms: median(times), y };
  }

  const rows = [];
  const reference = {};
  for (const name of names) {
    const w = await time(web, name, {});
    const n = await time(node, name, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const kind = name.split('-')[0];
    if (name.endsWith('-fp32')) reference[kind] = w.y;
    rows.push({ name, kind, web: w.ms, native: n.ms, y: w.y });
  }
  const error = (kind, y) => {
    const ref = reference[kind];
    let max = 0;
    let range = 0;
    for (let i = 0; i < ref.length; i++) {
      max = Math.max(max, Math.abs(ref[i] - y[i]));
      range = Math.max(range, Math.abs(ref[i]));
    }
    return `${((100 * max) / range).toFixed(2)}%`;
  };
  console.log(
    `\nOne SD layer per int8 form, 1 thread, median of ${repeats} after a warm-up; error = largest difference from the float32 weights' output, in % of that output's range:\n`,
  );
  console.log(
    table(
      ['graph', 'wasm ms', 'native ms', 'wasm / native', 'wasm vs fp32 weights', 'error'],
      rows.map((r) => {
        const fp32 = rows.find((x) => x.name === `${r.kind}-fp32`);
        return [
          r.name,
          fmt(r.web),
          fmt(r.native),
          (r.web / r.native).toFixed(2),
          (r.web / fp32.web).toFixed(2),
          error(r.kind, r.y),
        ];
      }),
    ),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
