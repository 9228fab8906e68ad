/**
 * Word heat maps from cross-attention probabilities, after "What the DAAM"
 * (Tang et al. 2022): each layer's probabilities are summed over heads,
 * upsampled to one grid, and averaged over layers and steps; the pieces of
 * one word are summed; each word's map is scaled to [0, 1] between its
 * least and most (attention mostly goes to the start token, so a word's
 * share varies little in absolute terms: the scale shows where it is most).
 */

/** One cross-attention layer's probabilities: [batch * heads, positions, tokens] or [batch, heads, positions, tokens]. */
export interface AttentionProbs {
  data: Float32Array;
  dims: readonly number[];
}

/** A word of the prompt and the token positions (in the text encoder's sequence) of its pieces. */
export interface PromptWord {
  word: string;
  positions: number[];
}

/** The layer's grid for `positions` image positions, keeping the latent's aspect ratio. */
export function layerGrid(positions: number, height: number, width: number): [number, number] {
  const scale = Math.sqrt((height * width) / positions);
  const h = Math.round(height / scale);
  const w = Math.round(width / scale);
  if (h * w !== positions)
    throw new Error(`${positions} attention positions do not tile a ${height}x${width} latent.`);
  return [h, w];
}

/** Bilinear resize of one [sh, sw] plane to [dh, dw], pixel centres aligned (as torch's align_corners=False). */
export function resizeBilinear(
  src: ArrayLike<number>,
  sh: number,
  sw: number,
  dh: number,
  dw: number,
): Float32Array {
  const out = new Float32Array(dh * dw);
  const coord = (d: number, sn: number, dn: number) => {
    const s = Math.max(0, ((d + 0.5) * sn) / dn - 0.5);
    const i0 = Math.min(Math.floor(s), sn - 1);
    const i1 = Math.min(i0 + 1, sn - 1);
    return [i0, i1, s - i0] as const;
  };
  for (let y = 0; y < dh; y++) {
    const [y0, y1, fy] = coord(y, sh, dh);
    for (let x = 0; x < dw; x++) {
      const [x0, x1, fx] = coord(x, sw, dw);
      const top = src[y0 * sw + x0]! * (1 - fx) + src[y0 * sw + x1]! * fx;
      const bottom = src[y1 * sw + x0]! * (1 - fx) + src[y1 * sw + x1]! * fx;
      out[y * dw + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/**
 * Sums one batch item's probabilities over heads: [tokens, positions]
 * (token-major, so each token's plane is contiguous).
 */
export function sumHeads(
  probs: AttentionProbs,
  batch: number,
  item: number,
): { planes: Float32Array; tokens: number; positions: number } {
  const { data, dims } = probs;
  const tokens = dims[dims.length - 1]!;
  const positions = dims[dims.length - 2]!;
  const heads = dims.length === 4 ? dims[1]! : dims[0]! / batch;
  if (!Number.isInteger(heads) || heads < 1 || (dims.length === 4 && dims[0] !== batch))
    throw new Error(`Attention of shape [${dims.join(', ')}] does not hold a batch of ${batch}.`);
  const planes = new Float32Array(tokens * positions);
  const block = positions * tokens;
  for (let h = 0; h < heads; h++) {
    const base = (item * heads + h) * block;
    for (let p = 0; p < positions; p++)
      for (let t = 0; t < tokens; t++) planes[t * positions + p]! += data[base + p * tokens + t]!;
  }
  return { planes, tokens, positions };
}

/** Running mean, per token, of head-summed maps on the latent grid. */
export class AttentionAccumulator {
  private sum: Float32Array | null = null;
  private tokens = 0;
  count = 0;

  constructor(
    readonly height: number,
    readonly width: number,
  ) {}

  /** Adds one layer's map for batch item `item` of a `batch`-item run. */
  add(probs: AttentionProbs, batch: number, item: number): void {
    const { planes, tokens, positions } = sumHeads(probs, batch, item);
    const [h, w] = layerGrid(positions, this.height, this.width);
    const size = this.height * this.width;
    if (!this.sum) {
      this.tokens = tokens;
      this.sum = new Float32Array(tokens * size);
    } else if (tokens !== this.tokens)
      throw new Error(`Attention over ${tokens} tokens after ${this.tokens}.`);
    for (let t = 0; t < tokens; t++) {
      const plane = planes.subarray(t * positions, (t + 1) * positions);
      const grid =
        h === this.height && w === this.width
          ? plane
          : resizeBilinear(plane, h, w, this.height, this.width);
      const target = this.sum.subarray(t * size, (t + 1) * size);
      for (let i = 0; i < size; i++) target[i]! += grid[i]!;
    }
    this.count++;
  }

  /** The mean map of every token, [tokens, height, width]; null before any layer was added. */
  mean(): Float32Array | null {
    if (!this.sum) return null;
    return this.sum.map((v) => v / this.count);
  }
}

/**
 * Each word's map at the image's size: its pieces' mean maps summed, then
 * resized and scaled to [0, 1] between the word's least and most (a word
 * whose attention is the same everywhere, or absent, is 0).
 */
export function wordMaps(
  mean: Float32Array,
  grid: { height: number; width: number },
  words: readonly PromptWord[],
  image: { height: number; width: number },
): { word: string; map: Float32Array }[] {
  const size = grid.height * grid.width;
  const tokens = mean.length / size;
  return words.map(({ word, positions }) => {
    const summed = new Float32Array(size);
    for (const t of positions) {
      if (t >= tokens) continue;
      const plane = mean.subarray(t * size, (t + 1) * size);
      for (let i = 0; i < size; i++) summed[i]! += plane[i]!;
    }
    const map = resizeBilinear(summed, grid.height, grid.width, image.height, image.width);
    let min = Infinity;
    let max = -Infinity;
    for (const v of map) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    const range = max - min;
    for (let i = 0; i < map.length; i++) map[i] = range > 0 ? (map[i]! - min) / range : 0;
    return { word, map };
  });
}
