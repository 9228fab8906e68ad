/**
 * What following an outline costs: one image made plainly and one with a
 * drawn circle as its outline (the ControlNet at strength 1), alternately,
 * through the engine worker (wasm), same prompt, seed and steps. The
 * ControlNet runs before the UNet at every step; its two sessions are opened
 * by the warm-up run and kept (the demo pack's pair is small). Called by run.mjs.
 */

import { median } from './stats.mjs';

const REQUEST = { prompt: 'blue circle', steps: 4, preview: false };

/** A 2-px circle outline in a width x height image, as the page sends it (0-255). */
function circleOutline(width, height) {
  const mask = new Uint8Array(width * height);
  const [cx, cy, r] = [width * 0.6, height * 0.4, width * 0.25];
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (Math.abs(Math.hypot(x + 0.5 - cx, y + 0.5 - cy) - r) <= width / 64)
        mask[y * width + x] = 255;
  return mask;
}

export async function benchControl({ call, repeats, image }) {
  const outline = { mask: circleOutline(image.width, image.height), strength: 1 };
  const plain = [];
  const controlled = [];
  for (let i = -1; i < repeats; i++) {
    const a = await call('generate', { ...REQUEST, seed: i + 2 });
    const b = await call('generate', { ...REQUEST, seed: i + 2, outline });
    if (i < 0) continue;
    plain.push(a);
    controlled.push(b);
  }
  const total = (runs) => median(runs.map((r) => r.wallMs));
  const unetStep = (runs) =>
    median(
      runs.map(
        ({ result: { timings: t } }) => t.unetMs.reduce((x, y) => x + y, 0) / t.unetMs.length,
      ),
    );
  return {
    plainMs: total(plain),
    controlMs: total(controlled),
    plainStepMs: unetStep(plain),
    controlStepMs: unetStep(controlled),
  };
}
