// ONNX (onnxruntime-node) vs PyTorch: max abs difference per component and
// variant on the fixed inputs export.py saved; and the JS tokenizer against
// the tokenizer's examples (models/tokenizer_examples.json). Fails (exit 1)
// when a difference is over its threshold or any tokenizer example differs.
//
// Usage: node check.mjs <packDir> <reference.json> [examples.json] [--scale X]
//   --scale X  multiplies every threshold by X (e.g. 0.001 to see the check fail).
// stdout: the results as JSON (evaluate.py reads it); stderr: a table with the thresholds.
//
// Sessions are created as the engine creates them (src/engine/ort-session.ts):
// graph optimisation "all", and for models up to 16 MiB the int8 weights'
// DequantizeLinear folded at load (disable_quant_qdq), so the check measures
// what the app runs. onnxruntime's default instead rewrites the int8 models'
// DequantizeLinear -> MatMul/Conv patterns, a further, different error.
import { readFileSync, statSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { loadTokenizer } from './lcm.mjs';

// Max abs difference allowed, per variant and component. Measured:
//   full build 1.1.0 (models/eval_results.json, onnxruntime's default options): fp32 <= 3.1e-6;
//     fp16 text_encoder 2.6e-3, unet 2.2e-3, vae_decoder 5.2e-4, vae_encoder 1.2e-3, preview 1.2e-3;
//     int8 text_encoder 3.9e-2, unet 1.6e-2, vae_decoder 1.5e-2, vae_encoder 2.8e-2, preview 2.8e-2.
//   smoke build (build.sh --smoke, these session options): fp32 <= 8.2e-7;
//     fp16 text_encoder 2.4e-3, unet 4.4e-3, vae_decoder 3.6e-4, vae_encoder 5.6e-5, preview 3.5e-4;
//     int8 text_encoder 1.3e-2, unet 1.0e-2, vae_decoder 3.2e-3, vae_encoder 2.0e-3, preview 3.8e-3
//     (onnxruntime's defaults: int8 text_encoder 1.7e-2, unet 1.1e-2, the rest the same).
//   ControlNet stage (1.2.0, --control build, these session options): fp32 controlnet 1.2e-7,
//     unet_control 1.3e-6; fp16 1.4e-4 and 2.1e-3; int8 2.0e-3 and 1.4e-2.
// Thresholds: about 3x the worst of those (2.3x for the fp16 UNet in smoke); fp32 at 1e-4, since
// only float32 reordering separates it from PyTorch.
export const THRESHOLDS = {
  fp32: {
    text_encoder: 1e-4,
    unet: 1e-4,
    vae_decoder: 1e-4,
    vae_encoder: 1e-4,
    preview_decoder: 1e-4,
    controlnet: 1e-4,
    unet_control: 1e-4,
  },
  fp16: {
    text_encoder: 1e-2,
    unet: 1e-2,
    vae_decoder: 5e-3,
    vae_encoder: 5e-3,
    preview_decoder: 5e-3,
    controlnet: 1e-3,
    unet_control: 1e-2,
  },
  int8: {
    text_encoder: 0.12,
    unet: 0.05,
    vae_decoder: 0.05,
    vae_encoder: 0.1,
    preview_decoder: 0.1,
    controlnet: 1e-2,
    unet_control: 0.05,
  },
};

const FOLD_MAX_BYTES = 16 * 1024 * 1024; // src/engine/ort-session.ts FOLD_QUANTIZED_WEIGHTS_MAX_BYTES

const args = process.argv.slice(2);
const scaleAt = args.indexOf('--scale');
const scale = scaleAt >= 0 ? Number(args[scaleAt + 1]) : 1;
const [dir, refPath, examplesPath] = args.filter(
  (a, i) => !a.startsWith('--') && !(scaleAt >= 0 && i === scaleAt + 1),
);
if (!dir || !refPath || !(scale > 0)) {
  console.error('usage: node check.mjs <packDir> <reference.json> [examples.json] [--scale X]');
  process.exit(2);
}

const m = JSON.parse(readFileSync(`${dir}/manifest.json`, 'utf8'));
const ref = JSON.parse(readFileSync(refPath, 'utf8'));
const arrays = { float32: Float32Array, int32: Int32Array, int64: BigInt64Array };
const result = { maxAbsDiff: {}, thresholds: {}, tokenizer: null, failures: [], ok: true };
const rows = [];

for (const v of m.variants) {
  result.maxAbsDiff[v.id] = {};
  result.thresholds[v.id] = {};
  for (const [name, r] of Object.entries(ref)) {
    const file = `${dir}/${name}/model.${v.id}.onnx`;
    const session = await ort.InferenceSession.create(file, {
      graphOptimizationLevel: 'all',
      ...(statSync(file).size <= FOLD_MAX_BYTES
        ? { extra: { session: { disable_quant_qdq: '1' } } }
        : {}),
    });
    const feeds = {};
    for (const [n, x] of Object.entries(r.inputs)) {
      const data =
        x.dtype === 'int64' ? BigInt64Array.from(x.data.map(BigInt)) : arrays[x.dtype].from(x.data);
      feeds[n] = new ort.Tensor(x.dtype, data, x.dims);
    }
    const out = (await session.run(feeds))[r.output].data;
    await session.release();
    let d = out.length === r.expected.length ? 0 : Infinity;
    for (let i = 0; i < out.length; i++) {
      const diff = Math.abs(out[i] - r.expected[i]);
      d = Number.isNaN(diff) ? Infinity : Math.max(d, diff);
    }
    const limit = (THRESHOLDS[v.id]?.[name] ?? NaN) * scale;
    const ok = d <= limit; // false for a variant or component without a threshold (NaN)
    result.maxAbsDiff[v.id][name] = d;
    result.thresholds[v.id][name] = limit;
    if (!ok) result.failures.push(`${v.id} ${name}: max abs diff ${d} over ${limit}`);
    rows.push([v.id, name, d.toExponential(2), limit.toExponential(2), ok ? 'ok' : 'FAIL']);
  }
}

if (examplesPath) {
  const ex = JSON.parse(readFileSync(examplesPath, 'utf8'));
  const tok = loadTokenizer(dir, m.tokenizer);
  const bad = ex.examples.filter((e) => JSON.stringify(tok(e.text)) !== JSON.stringify(e.ids));
  result.tokenizer = {
    examples: ex.examples.length,
    mismatches: bad.map((e) => ({ text: e.text, want: e.ids, got: tok(e.text) })),
  };
  if (ex.examples.length === 0) result.failures.push('tokenizer: no examples to check');
  for (const b of result.tokenizer.mismatches)
    result.failures.push(
      `tokenizer: "${b.text}" gives ${JSON.stringify(b.got)}, want ${JSON.stringify(b.want)}`,
    );
  rows.push([
    'tokenizer',
    `${ex.examples.length} examples`,
    `${bad.length} differ`,
    '0 differ',
    bad.length === 0 && ex.examples.length > 0 ? 'ok' : 'FAIL',
  ]);
}

result.ok = result.failures.length === 0;
const widths = [9, 15, 10, 10, 4];
const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
console.error(
  [
    `ONNX (onnxruntime-node, the engine's session options) vs PyTorch, max abs difference${scale !== 1 ? ` (thresholds x ${scale})` : ''}:`,
    line(['variant', 'component', 'measured', 'threshold', '']),
    ...rows.map(line),
    result.ok ? 'check: all within thresholds' : `check FAILED:\n  ${result.failures.join('\n  ')}`,
  ].join('\n'),
);
console.log(JSON.stringify(result, null, 1));
process.exit(result.ok ? 0 : 1);
