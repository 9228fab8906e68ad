/** The start photo's crop (object-fit: cover) and decodePhoto's refusals, with createImageBitmap stubbed in Node. */

import { afterEach, describe, expect, it, vi } from 'vitest';
import { GessoError } from '../../../../src/shared/errors';
import { coverCrop, decodePhoto } from '../../../../src/ui/create/start-image/photo';

describe('coverCrop', () => {
  it('takes the whole image when the aspect ratios match', () => {
    expect(coverCrop(640, 480, 64, 48)).toEqual({ sx: 0, sy: 0, sw: 640, sh: 480 });
    expect(coverCrop(512, 512, 512, 512)).toEqual({ sx: 0, sy: 0, sw: 512, sh: 512 });
  });

  it('takes the centred columns of a wide source for a square', () => {
    expect(coverCrop(300, 200, 64, 64)).toEqual({ sx: 50, sy: 0, sw: 200, sh: 200 });
  });

  it('takes the centred rows of a tall source for a wide destination', () => {
    expect(coverCrop(200, 300, 128, 64)).toEqual({ sx: 0, sy: 100, sw: 200, sh: 100 });
  });

  it('keeps odd sizes to whole pixels inside the source', () => {
    for (const [w, h, dw, dh] of [
      [101, 50, 64, 64],
      [3, 3, 2, 1],
      [1023, 767, 512, 512],
      [7, 1001, 768, 512],
      [1, 1, 512, 768],
    ] as const) {
      const crop = coverCrop(w, h, dw, dh);
      for (const v of Object.values(crop)) expect(Number.isInteger(v)).toBe(true);
      expect(crop.sw).toBeGreaterThanOrEqual(1);
      expect(crop.sh).toBeGreaterThanOrEqual(1);
      expect(crop.sx).toBeGreaterThanOrEqual(0);
      expect(crop.sy).toBeGreaterThanOrEqual(0);
      expect(crop.sx + crop.sw).toBeLessThanOrEqual(w);
      expect(crop.sy + crop.sh).toBeLessThanOrEqual(h);
      // Centred: the margins either side differ by at most one pixel.
      expect(Math.abs(w - crop.sw - 2 * crop.sx)).toBeLessThanOrEqual(1);
      expect(Math.abs(h - crop.sh - 2 * crop.sy)).toBeLessThanOrEqual(1);
    }
    expect(coverCrop(101, 50, 64, 64)).toEqual({ sx: 25, sy: 0, sw: 50, sh: 50 });
  });

  it('refuses sizes that are not positive', () => {
    expect(() => coverCrop(0, 10, 10, 10)).toThrow(RangeError);
  });
});

/** A stand-in for ImageBitmap in Node: a size and whether it was closed. */
class FakeBitmap {
  closed = false;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {}
  close(): void {
    this.closed = true;
  }
}

function file(bytes: number, name = 'photo.jpg'): File {
  return new File([new Uint8Array(bytes)], name, { type: 'image/jpeg' });
}

async function refusal(promise: Promise<unknown>): Promise<GessoError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GessoError);
  expect((error as GessoError).code).toBe('invalid-image');
  return error as GessoError;
}

describe('decodePhoto', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('refuses an empty file and a file over 40 MB without decoding', async () => {
    const decode = vi.fn();
    vi.stubGlobal('createImageBitmap', decode);
    expect((await refusal(decodePhoto(file(0)))).message).toBe(
      'That file is empty. Choose a photo.',
    );
    expect((await refusal(decodePhoto(file(41_500_000)))).message).toBe(
      'That file is 41.5 MB; choose a photo under 40 MB.',
    );
    expect(decode).not.toHaveBeenCalled();
  });

  it('refuses what does not decode', async () => {
    vi.stubGlobal('createImageBitmap', () =>
      Promise.reject(new DOMException('bad', 'InvalidStateError')),
    );
    expect((await refusal(decodePhoto(file(10)))).message).toBe(
      'That file is not an image Gesso can read. Choose a photo (JPEG, PNG or WebP).',
    );
  });

  it('refuses a photo over 50 megapixels and closes it', async () => {
    const big = new FakeBitmap(10_000, 6_000);
    vi.stubGlobal('createImageBitmap', () => Promise.resolve(big));
    expect((await refusal(decodePhoto(file(10)))).message).toBe(
      'That photo is 60 megapixels; choose one under 50 megapixels.',
    );
    expect(big.closed).toBe(true);
  });

  it('decodes upright and scales the longest side down to 1024, closing the big one', async () => {
    const big = new FakeBitmap(3000, 4000);
    const calls: unknown[][] = [];
    vi.stubGlobal('createImageBitmap', (source: unknown, options: ImageBitmapOptions) => {
      calls.push([source, options]);
      return Promise.resolve(
        source === big ? new FakeBitmap(options.resizeWidth!, options.resizeHeight!) : big,
      );
    });
    const bitmap = await decodePhoto(file(10));
    expect(calls[0]![1]).toEqual({ imageOrientation: 'from-image' });
    expect(calls[1]![1]).toEqual({ resizeWidth: 768, resizeHeight: 1024, resizeQuality: 'high' });
    expect([bitmap.width, bitmap.height]).toEqual([768, 1024]);
    expect(big.closed).toBe(true);
  });

  it('keeps a small photo as decoded', async () => {
    const small = new FakeBitmap(32, 48);
    vi.stubGlobal('createImageBitmap', () => Promise.resolve(small));
    expect(await decodePhoto(file(10))).toBe(small);
    expect(small.closed).toBe(false);
  });
});
