// Generate images with a built pack in onnxruntime-node, driven only by the
// manifest and the LCM maths. Usage:
//   node models/js/sample.mjs <packDir> <out.png> [--variant int8] [--steps 4] [--guidance 4] [--seed 1] "prompt" ...
// Several prompts are laid out side by side in one PNG.
import { readFileSync, writeFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import {
  alphasCumprod,
  guidanceEmbedding,
  lcmStep,
  lcmTimesteps,
  loadTokenizer,
  normal,
  writePng,
} from './lcm.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const variantId = opt('variant', null),
  seed = Number(opt('seed', 1));
const [dir, outPng] = args.splice(0, 2);
const m = JSON.parse(readFileSync(`${dir}/manifest.json`, 'utf8'));
const steps = Number(opt('steps', m.defaults.steps)),
  guidance = Number(opt('guidance', m.defaults.guidance));
const prompts = args.length ? args : ['red heart'];
const variant = m.variants.find((v) => (variantId ? v.id === variantId : v.default));
const load = (p) => ort.InferenceSession.create(`${dir}/${p}`);
const [te, unet, dec] = await Promise.all([
  load(variant.components.textEncoder),
  load(variant.components.unet),
  load(variant.components.vaeDecoder),
]);
const tokenize = loadTokenizer(dir, m.tokenizer);
const s = m.scheduler,
  abar = alphasCumprod(s),
  ts = lcmTimesteps(s, steps);
const { channels: C, downscale } = m.latent,
  H = m.image.height / downscale,
  W = m.image.width / downscale;
const tsType = unet.inputMetadata?.find?.((x) => x.name === 'timestep')?.type ?? 'int64';
const images = [];
const t0 = performance.now();
for (const [pi, prompt] of prompts.entries()) {
  const ids = tokenize(prompt);
  const { last_hidden_state: ehs } = await te.run({
    input_ids: new ort.Tensor('int32', Int32Array.from(ids), [1, ids.length]),
  });
  const cond = new ort.Tensor(
    'float32',
    guidanceEmbedding(guidance, m.guidanceEmbedding.dim, m.guidanceEmbedding.scale),
    [1, m.guidanceEmbedding.dim],
  );
  const rand = normal(seed * 1000 + pi);
  let x = rand(C * H * W),
    denoised;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    const timestep =
      tsType === 'int64'
        ? new ort.Tensor('int64', BigInt64Array.from([BigInt(t)]), [1])
        : new ort.Tensor('float32', Float32Array.from([t]), [1]);
    const { out_sample } = await unet.run({
      sample: new ort.Tensor('float32', x, [1, C, H, W]),
      timestep,
      encoder_hidden_states: ehs,
      timestep_cond: cond,
    });
    const r = lcmStep(
      s,
      abar,
      x,
      out_sample.data,
      t,
      ts[i + 1],
      i + 1 < ts.length ? rand(x.length) : null,
    );
    denoised = r.denoised;
    x = r.next;
  }
  const lat = denoised.map((v) => v / m.latent.scalingFactor);
  const { sample } = await dec.run({ latent_sample: new ort.Tensor('float32', lat, [1, C, H, W]) });
  images.push(sample.data);
}
const ms = performance.now() - t0;
const w = m.image.width,
  h = m.image.height,
  n = images.length;
const rgb = Buffer.alloc(w * n * h * 3);
images.forEach((img, k) => {
  for (let y = 0; y < h; y++)
    for (let xx = 0; xx < w; xx++)
      for (let c = 0; c < 3; c++) {
        const v =
          m.latent.decoderOutput === 'zero-to-one'
            ? img[c * h * w + y * w + xx]
            : (img[c * h * w + y * w + xx] + 1) / 2;
        rgb[(y * w * n + k * w + xx) * 3 + c] = Math.max(0, Math.min(255, Math.round(v * 255)));
      }
});
writeFileSync(outPng, writePng(rgb, w * n, h));
console.log(
  JSON.stringify({
    variant: variant.id,
    steps,
    guidance,
    timesteps: ts,
    prompts: prompts.length,
    msPerImage: ms / n,
  }),
);
