/**
 * What Repaint costs: one image made plainly and one repaint of the right
 * half of it, alternately, through the engine worker (wasm), same prompt
 * and steps. A repaint adds one VAE encoding (its encoder opened for that
 * image) and a latent blend per step. Called by run.mjs.
 */

import { median } from './stats.mjs';

const REQUEST = { prompt: 'blue square', steps: 4, preview: false };

/** The right half of a width x height picture, as the page's mask (0-255). */
function rightHalf(width, height) {
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) mask.fill(255, y * width + width / 2, (y + 1) * width);
  return mask;
}

export async function benchRepaint({ call, repeats }) {
  const first = (await call('generate', { ...REQUEST, prompt: 'red square', seed: 1 })).result;
  const repaint = { image: first.image, mask: rightHalf(first.image.width, first.image.height) };
  const plain = [];
  const repainted = [];
  for (let i = -1; i < repeats; i++) {
    const a = await call('generate', { ...REQUEST, seed: i + 2 });
    const b = await call('generate', { ...REQUEST, seed: i + 2, repaint });
    if (i < 0) continue;
    plain.push(a);
    repainted.push(b);
  }
  // The worker call's time: the VAE encoding and the final composite included.
  const total = (runs) => median(runs.map((r) => r.wallMs));
  const perStep = (runs) =>
    median(
      runs.map(
        ({ result: { timings: t } }) =>
          (t.stepOverheadMs + t.unetMs.reduce((x, y) => x + y, 0)) / t.unetMs.length,
      ),
    );
  return {
    plainMs: total(plain),
    repaintMs: total(repainted),
    plainStepMs: perStep(plain),
    repaintStepMs: perStep(repainted),
  };
}
