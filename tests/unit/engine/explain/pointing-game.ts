/**
 * The pointing game (Zhang et al. 2016, as DAAM uses it): is the brightest
 * point of a word's map on the object the word names? The object is the
 * generated image's saturated pixels; a uniform map "scores" the share of
 * the image the object covers. Shared by the demo-pack test and
 * `node tests/bench/explain.mjs`.
 */

import { rgbToHsv } from '../regions/hue';

export const POINTING_COLOURS = ['red', 'orange', 'yellow', 'green', 'blue', 'purple'];
export const POINTING_SHAPES = ['circle', 'heart', 'square'];
export const POINTING_SEEDS = [1, 2, 3];

export interface PointingTally {
  cases: number;
  hits: number;
  /** Sums over cases, divided by `cases` when reported. */
  share: number;
  inside: number;
  outside: number;
}

export const emptyTally = (): PointingTally => ({
  cases: 0,
  hits: 0,
  share: 0,
  inside: 0,
  outside: 0,
});

/** 1 where a pixel is saturated (s > 0.35, v > 0.25): the object on the demo pack's white. */
export function objectMask(image: {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}): Uint8Array {
  const mask = new Uint8Array(image.width * image.height);
  for (let i = 0; i < mask.length; i++) {
    const [, s, v] = rgbToHsv(image.data[i * 4]!, image.data[i * 4 + 1]!, image.data[i * 4 + 2]!);
    mask[i] = s > 0.35 && v > 0.25 ? 1 : 0;
  }
  return mask;
}

/** Adds one word's map (0-255 per pixel, the image's size) against the object mask to `tally`. */
export function scorePointing(map: Uint8Array, mask: Uint8Array, tally: PointingTally): void {
  let best = 0;
  for (let i = 1; i < map.length; i++) if (map[i]! > map[best]!) best = i;
  let inside = 0;
  let outside = 0;
  let n = 0;
  for (let i = 0; i < map.length; i++)
    if (mask[i]) {
      inside += map[i]!;
      n++;
    } else outside += map[i]!;
  tally.cases++;
  tally.hits += mask[best]!;
  tally.share += n / mask.length;
  tally.inside += n ? inside / n / 255 : 0;
  tally.outside += n < mask.length ? outside / (mask.length - n) / 255 : 0;
}
