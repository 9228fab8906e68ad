/**
 * Tiled decoding: where tiles start, that a local decoder gives the same
 * image tiled as whole, that seams are blended, the real demo VAE tiled
 * against whole (PSNR) and on a session with the tile's dimensions fixed.
 * Which decoder load.ts tiles: load.test.ts.
 */

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createOrtSession, type OrtApi } from '../../../src/engine/ort-session';
import { decodeLatents, decodePixels, type Decoder } from '../../../src/engine/pipelines/decode';
import { cropLatents, tileStarts } from '../../../src/engine/pipelines/decode-tiles';
import { DECODE_TILE_OVERLAP, DECODE_TILE_SIZE } from '../../../src/engine/pipelines/load';
import type { ModelSession } from '../../../src/engine/session';
import type { CpuTensor } from '../../../src/engine/tensors';
import type { PackManifest } from '../../../src/shared/pack-manifest';
import { Random } from '../../../src/shared/random';
import { withFreeLatentSize } from './helpers/free-latent-size';

describe('tileStarts', () => {
  it('is one tile at 0 when the tile covers the axis', () => {
    expect(tileStarts(8, 8, 2)).toEqual([0]);
    expect(tileStarts(5, 32, 8)).toEqual([0]);
  });

  it('fits tiles exactly when the overlap divides evenly', () => {
    expect(tileStarts(56, 32, 8)).toEqual([0, 24]);
    expect(tileStarts(64, 32, 8)).toEqual([0, 16, 32]);
    expect(tileStarts(8, 4, 2)).toEqual([0, 2, 4]);
  });

  it('covers the axis, overlaps neighbours by at least the minimum and ends at size - tile', () => {
    for (let size = 1; size <= 130; size++)
      for (const [tile, minOverlap] of [
        [32, 8],
        [4, 2],
        [16, 0],
        [7, 3],
      ] as const) {
        const starts = tileStarts(size, tile, minOverlap);
        expect(starts[0]).toBe(0);
        if (size <= tile) {
          expect(starts).toEqual([0]);
          continue;
        }
        expect(starts.at(-1)).toBe(size - tile);
        for (let i = 1; i < starts.length; i++) {
          expect(starts[i]!).toBeGreaterThan(starts[i - 1]!);
          expect(starts[i - 1]! + tile - starts[i]!).toBeGreaterThanOrEqual(minOverlap);
        }
        // The fewest tiles that can: one fewer would leave an overlap short.
        expect(starts.length).toBe(Math.ceil((size - minOverlap) / (tile - minOverlap)));
      }
  });

  it('refuses an overlap as large as the tile', () => {
    expect(() => tileStarts(64, 8, 8)).toThrow(/cannot overlap/);
  });
});

describe('cropLatents', () => {
  it('takes the tile of every channel', () => {
    const latents = Float32Array.from({ length: 2 * 4 * 5 }, (_, i) => i);
    const tile = cropLatents(latents, [1, 2, 4, 5], 1, 2, 2, 3);
    expect(Array.from(tile)).toEqual([7, 8, 9, 12, 13, 14, 27, 28, 29, 32, 33, 34]);
  });
});

const SCALE = 8;

/**
 * A decoder that is a pure local op: each latent cell's first 3 channels
 * become an 8x8 block of pixels, plus `offset(call)` for the call'th run.
 */
function blockDecoder(offset: (call: number) => number = () => 0) {
  const shapes: number[][] = [];
  const session: ModelSession = {
    inputs: [{ name: 'latent_sample', type: 'float32', shape: [1, 4, 'h', 'w'] }],
    outputs: [{ name: 'sample', type: 'float32', shape: [1, 3, 'H', 'W'] }],
    run: async (feeds) => {
      const input = feeds.latent_sample as CpuTensor;
      const [, channels, h, w] = input.dims as number[];
      const data = input.data as Float32Array;
      const add = offset(shapes.length);
      shapes.push([...input.dims]);
      const H = h! * SCALE;
      const W = w! * SCALE;
      const out = new Float32Array(3 * H * W);
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < H; y++)
          for (let x = 0; x < W; x++)
            out[(c * H + y) * W + x] =
              data[
                (Math.min(c, channels! - 1) * h! + Math.floor(y / SCALE)) * w! +
                  Math.floor(x / SCALE)
              ]! + add;
      return { sample: { type: 'float32', dims: [1, 3, H, W], data: out } };
    },
    release: async () => {},
  };
  return { session, shapes };
}

function randomLatents(dims: readonly number[], seed: number): Float32Array {
  return new Random(seed).gaussians(dims.reduce((a, b) => a * b, 1));
}

/** How many elements differ (vitest's deep equality is slow on a million floats). */
function mismatches(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let count = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) count++;
  return count;
}

describe('tiled decode with a local decoder', () => {
  const base = { latentScale: 0.5, range: 'minus-one-to-one' as const };

  it('equals the whole decode exactly, every tile the same shape', async () => {
    for (const dims of [
      [1, 4, 64, 64],
      [1, 4, 48, 80],
      [1, 4, 60, 33],
    ]) {
      const latents = randomLatents(dims, dims[3]!);
      const whole = await decodePixels({ ...base, session: blockDecoder().session }, latents, dims);
      const tiled = blockDecoder();
      const decoder: Decoder = { ...base, session: tiled.session, tile: { size: 32, overlap: 8 } };
      const pixels = await decodePixels(decoder, latents, dims);
      expect(pixels.dims).toEqual(whole.dims);
      expect(mismatches(pixels.values, whole.values)).toBe(0);
      expect(tiled.shapes.length).toBeGreaterThan(1);
      for (const shape of tiled.shapes) expect(shape).toEqual([1, 4, 32, 32]);
      const image = await decodeLatents(decoder, latents, dims);
      const wholeImage = await decodeLatents(
        { ...base, session: blockDecoder().session },
        latents,
        dims,
      );
      expect(mismatches(image.data, wholeImage.data)).toBe(0);
    }
  });

  it('decodes 64x64 latents in 2x2 tiles of 36 with the load constants', async () => {
    const tiled = blockDecoder();
    const dims = [1, 4, 64, 64];
    await decodePixels(
      {
        ...base,
        session: tiled.session,
        tile: { size: DECODE_TILE_SIZE, overlap: DECODE_TILE_OVERLAP },
      },
      randomLatents(dims, 1),
      dims,
    );
    expect(tiled.shapes).toHaveLength(4);
    for (const shape of tiled.shapes) expect(shape).toEqual([1, 4, 36, 36]);
  });

  it('decodes whole when the latents fit in one tile', async () => {
    const tiled = blockDecoder();
    const dims = [1, 4, 32, 32];
    await decodePixels(
      { ...base, session: tiled.session, tile: { size: 32, overlap: 8 } },
      randomLatents(dims, 2),
      dims,
    );
    expect(tiled.shapes).toEqual([dims]);
  });

  it('blends a per-tile offset across each overlap: no jump larger than the ramp step', async () => {
    const dims = [1, 4, 16, 16];
    const tile = { size: 8, overlap: 4 };
    const offsets = (call: number) => 0.1 * ((call * 7) % 9);
    const decoder = { ...base, latentScale: 1, session: blockDecoder(offsets).session, tile };
    const { values, dims: out } = await decodePixels(decoder, new Float32Array(4 * 16 * 16), dims);
    const [, , H, W] = out as number[];
    // Tiles at 0, 4, 8: neighbours overlap by 4 cells, 32 pixels.
    const rampStep = 1 / (4 * SCALE);
    const tileOffsets = Array.from({ length: 9 }, (_, call) => offsets(call));
    const maxOffsetGap = Math.max(...tileOffsets) - Math.min(...tileOffsets);
    let largest = 0;
    for (let y = 0; y < H!; y++)
      for (let x = 0; x < W!; x++) {
        const v = values[y * W! + x]!;
        if (x + 1 < W!) largest = Math.max(largest, Math.abs(values[y * W! + x + 1]! - v));
        if (y + 1 < H!) largest = Math.max(largest, Math.abs(values[(y + 1) * W! + x]! - v));
      }
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThanOrEqual(maxOffsetGap * rampStep + 1e-6);
    // Corners only one tile covers keep that tile's offset.
    expect(values[0]).toBeCloseTo(offsets(0), 6);
    expect(values[H! * W! - 1]).toBeCloseTo(offsets(8), 6);
  });
});

// -- the real demo VAE ---------------------------------------------------------

const DEMO = resolve(__dirname, '../../../public/packs/demo');
const demoPresent = existsSync(resolve(DEMO, 'manifest.json'));

function psnr(a: Uint8ClampedArray, b: Uint8ClampedArray): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % 4 === 3) continue;
    sum += (a[i]! - b[i]!) ** 2;
    count++;
  }
  return 10 * Math.log10((255 * 255) / (sum / count));
}

/**
 * Measured on the demo's fp32 decoder, tiles of 4 cells overlapping by 2 on
 * its 8x8 latent (3x3 tiles), seeds 1-4: 22.78 dB at worst. Tiles this small
 * see much less of the latent than the whole decode does, so they differ
 * from it; flat weights in the overlaps (no feathering) measured 14.41 dB.
 */
const PSNR_MEASURED = 22.78;
const PSNR_FLOOR = PSNR_MEASURED - 1;

/** onnxruntime-web's WebAssembly build, the one browsers run (onnxruntime-node ignores free-dimension overrides). */
async function webOrt(): Promise<OrtApi> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  return ort as unknown as OrtApi;
}

/**
 * The demo's fp32 VAE decoder as a Decoder: as exported (8x8 latents only),
 * or with its latent size freed and then fixed by `overrides`, on
 * onnxruntime-node or onnxruntime-web.
 */
async function demoDecoder(overrides?: Record<string, number>, runtime: 'node' | 'web' = 'node') {
  const manifest = JSON.parse(readFileSync(resolve(DEMO, 'manifest.json'), 'utf8')) as PackManifest;
  const path = manifest.variants.find((v) => v.id === 'fp32')!.components.vaeDecoder;
  const bytes = new Uint8Array(readFileSync(resolve(DEMO, path)));
  const session = await createOrtSession(
    runtime === 'web' ? await webOrt() : (ortNode as unknown as OrtApi),
    overrides === undefined ? bytes : withFreeLatentSize(bytes),
    'image decoder',
    {
      backend: runtime === 'web' ? 'wasm' : 'cpu',
      ...(overrides ? { freeDimensionOverrides: overrides } : {}),
    },
  );
  const decoder: Decoder = {
    session,
    latentScale: 1 / manifest.latent.scalingFactor,
    range: manifest.latent.decoderOutput,
  };
  return { decoder, dims: [1, manifest.latent.channels, 8, 8] };
}

describe.skipIf(!demoPresent)('tiled decode on the demo pack VAE (onnxruntime-node)', () => {
  it(`stays within ${PSNR_FLOOR.toFixed(2)} dB PSNR of the whole decode (measured ${PSNR_MEASURED})`, async () => {
    const [{ decoder: whole, dims }, { decoder: exported }] = await Promise.all([
      demoDecoder({}),
      demoDecoder(),
    ]);
    const tiled: Decoder = { ...whole, tile: { size: 4, overlap: 2 } };
    let worst = Infinity;
    for (const seed of [1, 2, 3, 4]) {
      // UNet-space latents: unit variance before the decoder's 1 / scalingFactor.
      const latents = randomLatents(dims, seed);
      const a = await decodeLatents(whole, latents, dims);
      const b = await decodeLatents(tiled, latents, dims);
      // Freeing the latent size changes nothing at 8x8.
      const asExported = await decodeLatents(exported, latents, dims);
      expect(mismatches(a.data, asExported.data)).toBe(0);
      expect([b.width, b.height]).toEqual([a.width, a.height]);
      worst = Math.min(worst, psnr(a.data, b.data));
    }
    await Promise.all([whole.session.release(), exported.session.release()]);
    console.log(
      `demo VAE, 4x4 tiles overlapping by 2 on 8x8 latents: worst PSNR ${worst.toFixed(2)} dB`,
    );
    expect(worst).toBeGreaterThanOrEqual(PSNR_FLOOR);
  });

  it('runs every tile on a session with the tile fixed as its free dimensions', async () => {
    const tile = { size: 4, overlap: 2 };
    const [{ decoder: free, dims }, { decoder: fixed }] = await Promise.all([
      demoDecoder({}, 'web'),
      demoDecoder({ batch_size: 1, height_latent: tile.size, width_latent: tile.size }, 'web'),
    ]);
    const latents = randomLatents(dims, 5);
    const a = await decodeLatents({ ...free, tile }, latents, dims);
    const b = await decodeLatents({ ...fixed, tile }, latents, dims);
    expect(mismatches(a.data, b.data)).toBe(0);
    // The overrides took: the fixed session refuses the whole latent.
    await expect(decodeLatents(fixed, latents, dims)).rejects.toThrow(/invalid dimensions/);
    await Promise.all([free.session.release(), fixed.session.release()]);
  });
});
