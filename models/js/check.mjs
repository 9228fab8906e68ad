// ONNX (onnxruntime-node) vs PyTorch: max abs difference per component and
// variant on the fixed inputs export.py saved; also checks the JS tokenizer
// against models/tokenizer_examples.json. Usage: node check.mjs <packDir> <reference.json> <examples.json>
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { loadTokenizer } from './lcm.mjs';

const [dir, refPath, examplesPath] = process.argv.slice(2);
const m = JSON.parse(readFileSync(`${dir}/manifest.json`, 'utf8'));
const ref = JSON.parse(readFileSync(refPath, 'utf8'));
const arrays = { float32: Float32Array, int32: Int32Array, int64: BigInt64Array };
const result = { maxAbsDiff: {}, tokenizer: null };
for (const v of m.variants) {
  result.maxAbsDiff[v.id] = {};
  for (const [name, r] of Object.entries(ref)) {
    const session = await ort.InferenceSession.create(`${dir}/${name}/model.${v.id}.onnx`);
    const feeds = {};
    for (const [n, x] of Object.entries(r.inputs)) {
      const data =
        x.dtype === 'int64' ? BigInt64Array.from(x.data.map(BigInt)) : arrays[x.dtype].from(x.data);
      feeds[n] = new ort.Tensor(x.dtype, data, x.dims);
    }
    const out = (await session.run(feeds))[r.output].data;
    let d = 0;
    for (let i = 0; i < out.length; i++) d = Math.max(d, Math.abs(out[i] - r.expected[i]));
    result.maxAbsDiff[v.id][name] = d;
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
}
console.log(JSON.stringify(result, null, 1));
