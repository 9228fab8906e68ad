/**
 * A painted mask as run lengths, small enough to keep in a recipe: the
 * lengths of alternating unpainted and painted runs, row-major, starting
 * with unpainted (so a mask painted from its first pixel starts with 0).
 * A pixel counts as painted from 128 of 255.
 */

export function encodeRuns(mask: Uint8Array): number[] {
  const runs: number[] = [];
  let painted = false;
  let length = 0;
  for (const value of mask) {
    if (value >= 128 === painted) {
      length++;
      continue;
    }
    runs.push(length);
    painted = !painted;
    length = 1;
  }
  runs.push(length);
  return runs;
}

/** The mask back, 0 or 255 per pixel; throws when the runs do not add up to `length`. */
export function decodeRuns(runs: readonly number[], length: number): Uint8Array {
  const mask = new Uint8Array(length);
  let at = 0;
  runs.forEach((run, i) => {
    if (!Number.isInteger(run) || run < 0 || at + run > length)
      throw new RangeError('The mask runs do not fit the image.');
    if (i % 2 === 1) mask.fill(255, at, at + run);
    at += run;
  });
  if (at !== length) throw new RangeError('The mask runs do not cover the image.');
  return mask;
}

/** The painted share of the pixels, 0..1. */
export function paintedShare(runs: readonly number[]): number {
  let painted = 0;
  let total = 0;
  runs.forEach((run, i) => {
    total += run;
    if (i % 2 === 1) painted += run;
  });
  return total > 0 ? painted / total : 0;
}
