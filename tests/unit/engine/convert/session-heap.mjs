/**
 * onnxruntime-web (WebAssembly, the build Chromium runs) sessions of one
 * model in a fresh process: prints the wasm heap's size before and after
 * creating each, as JSON. The heap only grows, in steps, so the cost of one
 * session is read from several kept side by side: (last - first) / (n - 1).
 *
 *   node session-heap.mjs model.onnx [--data path/to/model.onnx_data] [--fold] [--sessions n]
 *                         [--run --latent 64 --out out.f32]
 *
 * --run: one UNet step after creating the session (inputs from the session's
 * metadata: batch 1, latent size --latent, 77 tokens, seeded values), its time
 * and the heap after it; --out writes the first output's float32 values.
 *
 * Session options as src/engine/ort-session.ts sets them: graph optimisation
 * "all"; --fold adds disable_quant_qdq (DequantizeLinear of constant weights
 * folded into float32 copies at load); --data hands the external-data file
 * over under its file name.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

const memories = [];
const Memory = WebAssembly.Memory;
WebAssembly.Memory = function (descriptor) {
  const memory = new Memory(descriptor);
  memories.push(memory);
  return memory;
};
WebAssembly.Memory.prototype = Memory.prototype;
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = async (...args) => {
  const result = await instantiate(...args);
  const instance = result.instance ?? result;
  for (const value of Object.values(instance.exports))
    if (value instanceof Memory) memories.push(value);
  return result;
};

const args = process.argv.slice(2);
const model = args[0];
const dataAt = args.indexOf('--data');
const data = dataAt > 0 ? args[dataAt + 1] : null;
const fold = args.includes('--fold');
const countAt = args.indexOf('--sessions');
const count = countAt > 0 ? Number(args[countAt + 1]) : 1;
const runStep = args.includes('--run');
const latentAt = args.indexOf('--latent');
const latent = latentAt > 0 ? Number(args[latentAt + 1]) : 64;
const outAt = args.indexOf('--out');
const outPath = outAt > 0 ? args[outAt + 1] : null;

const ort = await import('onnxruntime-web');
ort.env.wasm.numThreads = 1;
const heap = () => memories.reduce((n, m) => n + m.buffer.byteLength, 0);
// Start the runtime with a trivial model first, so its own start-up is not counted.
const warm = await ort.InferenceSession.create(
  readFileSync(new URL('../../../fixtures/models/smoke.onnx', import.meta.url)),
);
await warm.release();
const before = heap();
const heaps = [];
const sessions = [];
const bytes = readFileSync(model);
const external = data ? [{ path: basename(data), data: readFileSync(data) }] : null;
const started = performance.now();
for (let i = 0; i < count; i++) {
  sessions.push(
    await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: 'all',
      ...(fold ? { extra: { session: { disable_quant_qdq: '1' } } } : {}),
      ...(external ? { externalData: external } : {}),
    }),
  );
  heaps.push(heap());
}
const ms = (performance.now() - started) / count;
let run = null;
if (runStep) {
  const session = sessions[0];
  let seed = 1;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const feeds = {};
  for (const meta of session.inputMetadata) {
    const shape = meta.shape.map((d, i) => {
      if (typeof d === 'number' && d > 0) return d;
      if (i === 0) return 1;
      if (meta.name === 'sample') return i === 1 ? 4 : latent;
      return 77;
    });
    const n = shape.reduce((a, b) => a * b, 1);
    if (meta.type === 'int64')
      feeds[meta.name] = new ort.Tensor('int64', new BigInt64Array(n).fill(999n), shape);
    else if (meta.type === 'int32')
      feeds[meta.name] = new ort.Tensor('int32', new Int32Array(n).fill(999), shape);
    else if (meta.type === 'float32')
      feeds[meta.name] = new ort.Tensor('float32', Float32Array.from({ length: n }, random), shape);
    else throw new Error(`no feed for ${meta.name} (${meta.type})`);
  }
  const t = performance.now();
  try {
    const out = await session.run(feeds);
    const first = out[session.outputNames[0]];
    const values = await first.getData();
    if (outPath)
      writeFileSync(outPath, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    run = { ms: performance.now() - t, heap: heap(), dims: first.dims };
  } catch (error) {
    run = { error: String(error?.message ?? error).slice(0, 300), heap: heap() };
  }
}
for (const session of sessions) await session.release();
const perSession = count > 1 ? (heaps.at(-1) - heaps[0]) / (count - 1) : heaps[0] - before;
console.log(JSON.stringify({ before, heaps, perSession, ms, run }));
