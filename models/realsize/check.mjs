/**
 * End-to-end check of a shape-true pack in onnxruntime-node: text encoder ->
 * one UNet step -> VAE decoder (and the TAESD preview decoder and both
 * encoders), at the pack's size or --size N, checking every output's shape
 * and that every value is finite. Only the manifest is read to find files;
 * I/O names come from the sessions.
 *
 *   node models/realsize/check.mjs <pack dir> [--size 512] [--threads 2]
 *
 * Exit 0 when every check passes. Weights are random, so values mean nothing.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const dir = resolve(
  args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')) ?? '.',
);
const manifest = JSON.parse(readFileSync(resolve(dir, 'manifest.json'), 'utf8'));
const size = Number(opt('--size', String(manifest.image.width)));
const threads = Number(opt('--threads', '2'));
const variant = manifest.variants.find((v) => v.default) ?? manifest.variants[0];
const lat = size / manifest.latent.downscale;

let seed = 1234;
function randn(n) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const u1 = (seed + 1) / 4294967297;
    seed = (seed * 1103515245 + 12345) >>> 0;
    const u2 = seed / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

const failures = [];
function check(label, tensor, dims) {
  const ok = tensor.dims.length === dims.length && tensor.dims.every((d, i) => d === dims[i]);
  let bad = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of tensor.data) {
    if (!Number.isFinite(v)) bad++;
    else {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const line = `${label}: [${tensor.dims}] ${tensor.type}, range ${min.toFixed(3)}..${max.toFixed(3)}${bad ? `, ${bad} non-finite` : ''}`;
  console.log(`${ok && !bad ? 'ok  ' : 'FAIL'} ${line}`);
  if (!ok) failures.push(`${label}: dims [${tensor.dims}], expected [${dims}]`);
  if (bad) failures.push(`${label}: ${bad} non-finite values`);
}

async function open(component) {
  const path = variant.components[component];
  if (!path) return null;
  const t = performance.now();
  const session = await ort.InferenceSession.create(resolve(dir, path), {
    intraOpNumThreads: threads,
  });
  console.log(
    `     ${component}: ${path} loaded in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  return session;
}

async function run(session, feeds) {
  const t = performance.now();
  const out = await session.run(feeds);
  return { out, ms: performance.now() - t };
}

const text = await open('textEncoder');
const ids = new Int32Array(77).fill(manifest.tokenizer.padTokenId);
[49406, 320, 1125, 49407].forEach((v, i) => (ids[i] = v));
const te = await run(text, { [text.inputNames[0]]: new ort.Tensor('int32', ids, [1, 77]) });
const hidden = te.out.last_hidden_state ?? te.out[text.outputNames[0]];
const width = hidden.dims[2];
check(`text encoder (${(te.ms / 1000).toFixed(1)} s) last_hidden_state`, hidden, [1, 77, width]);
await text.release();

const unet = await open('unet');
const sigma = 14.6146;
const noise = randn(4 * lat * lat);
const lcm = manifest.pipeline === 'lcm';
const sample = lcm ? noise : noise.map((v) => v * sigma);
const feeds = {
  sample: new ort.Tensor(
    'float32',
    lcm ? sample : sample.map((v) => v / Math.sqrt(sigma * sigma + 1)),
    [1, 4, lat, lat],
  ),
  timestep: new ort.Tensor('int64', BigInt64Array.from([999n]), [1]),
  encoder_hidden_states: hidden,
};
if (unet.inputNames.includes('timestep_cond')) {
  const dim = manifest.guidanceEmbedding.dim;
  const w = (manifest.defaults.guidance - 1) * manifest.guidanceEmbedding.scale;
  const emb = new Float32Array(dim);
  for (let i = 0; i < dim / 2; i++) {
    const f = Math.exp((-i * Math.log(10000)) / (dim / 2 - 1));
    emb[i] = Math.sin(w * f);
    emb[i + dim / 2] = Math.cos(w * f);
  }
  feeds.timestep_cond = new ort.Tensor('float32', emb, [1, dim]);
}
const u = await run(unet, feeds);
const eps = u.out.out_sample;
check(`unet step (${(u.ms / 1000).toFixed(1)} s) out_sample`, eps, [1, 4, lat, lat]);
await unet.release();

// x0 for one step (SD-Turbo: latents - sigma * eps; LCM at t=999: (x - sqrt(1-abar) eps) / sqrt(abar)).
const abar = 0.00466; // alpha-bar at t=999 for scaled_linear 0.00085..0.012
const x0 = sample.map((v, i) =>
  lcm ? (v - Math.sqrt(1 - abar) * eps.data[i]) / Math.sqrt(abar) : v - sigma * eps.data[i],
);

const vae = await open('vaeDecoder');
const d = await run(vae, {
  [vae.inputNames[0]]: new ort.Tensor(
    'float32',
    x0.map((v) => v / manifest.latent.scalingFactor),
    [1, 4, lat, lat],
  ),
});
check(`vae decoder (${(d.ms / 1000).toFixed(1)} s) sample`, d.out[vae.outputNames[0]], [
  1,
  3,
  size,
  size,
]);
await vae.release();

const preview = await open('previewDecoder');
if (preview) {
  const p = await run(preview, {
    [preview.inputNames[0]]: new ort.Tensor('float32', x0, [1, 4, lat, lat]),
  });
  check(`preview decoder (${(p.ms / 1000).toFixed(1)} s) sample`, p.out[preview.outputNames[0]], [
    1,
    3,
    size,
    size,
  ]);
  await preview.release();
}

const encoder = await open('vaeEncoder');
if (encoder) {
  const img = new ort.Tensor(
    'float32',
    randn(3 * size * size).map((v) => Math.tanh(v)),
    [1, 3, size, size],
  );
  const e = await run(encoder, { [encoder.inputNames[0]]: img });
  check(
    `vae encoder (${(e.ms / 1000).toFixed(1)} s) latent_sample`,
    e.out[encoder.outputNames[0]],
    [1, 4, lat, lat],
  );
  await encoder.release();
}

if (failures.length) {
  console.error(`\n${failures.length} check(s) failed:\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
console.log(`\nall checks passed: ${manifest.id} at ${size}x${size}`);
