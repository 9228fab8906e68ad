/** Heat maps as pictures: grey levels to a black-red-yellow-white scale (brighter is more attention). */

import type { Explanation } from '../../shared/explanation';
import { encodePng, type RgbaImage } from '../../shared/rgba';
import type { StoredExplanation } from '../../store/gallery';

/** The colour of grey level `v` (0-255): black, red, yellow, white, brighter all the way. */
export function heatColour(v: number): [number, number, number] {
  const t = v / 255;
  return [
    Math.round(255 * Math.min(1, 3 * t)),
    Math.round(255 * Math.min(1, Math.max(0, 3 * t - 1))),
    Math.round(255 * Math.max(0, 3 * t - 2)),
  ];
}

export function heatImage(map: Uint8Array, width: number, height: number): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < map.length; i++) {
    const [r, g, b] = heatColour(map[i]!);
    data.set([r, g, b, 255], i * 4);
  }
  return { width, height, data };
}

/** The engine's maps as PNGs, the form the page shows and the gallery keeps. */
export async function toStoredExplanation(explanation: Explanation): Promise<StoredExplanation> {
  const { width, height } = explanation;
  return {
    width,
    height,
    prompts: await Promise.all(
      explanation.prompts.map(async ({ label, prompt, words }) => ({
        label,
        prompt,
        words: await Promise.all(
          words.map(async ({ word, map }) => ({
            word,
            png: await encodePng(heatImage(map, width, height)),
          })),
        ),
      })),
    ),
  };
}
