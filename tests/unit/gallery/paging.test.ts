import { describe, expect, it } from 'vitest';
import { fitWithin, newItemId, nextCursor } from '../../../src/store/gallery/paging';
import { pngFileName } from '../../../src/ui/gallery/files';

describe('gallery paging', () => {
  const page = [
    { id: 'c', createdAt: 30 },
    { id: 'b', createdAt: 20 },
    { id: 'a', createdAt: 20 },
  ];

  it('continues after the last item of a full page', () => {
    expect(nextCursor(page, 3)).toEqual({ id: 'a', createdAt: 20 });
  });

  it('ends after a short or empty page', () => {
    expect(nextCursor(page, 4)).toBeNull();
    expect(nextCursor([], 60)).toBeNull();
  });

  it('makes ids that sort by creation time', () => {
    const ids = [5, 1_700_000_000_000, 40, 1_800_000_000_000].map((t) =>
      newItemId(t, () => 'abcdefgh-1234'),
    );
    expect([...ids].sort()).toEqual([ids[0], ids[2], ids[1], ids[3]]);
    expect(ids[1]).toBe(`${(1_700_000_000_000).toString(36).padStart(9, '0')}-abcdefgh`);
    expect(newItemId(1)).not.toBe(newItemId(1));
  });
});

describe('thumbnail size', () => {
  it('fits the longer side and keeps the aspect ratio', () => {
    expect(fitWithin(512, 768, 256)).toEqual({ width: 171, height: 256 });
    expect(fitWithin(1024, 256, 256)).toEqual({ width: 256, height: 64 });
  });

  it('never enlarges a small image, nor shrinks a side to zero', () => {
    expect(fitWithin(64, 64, 256)).toEqual({ width: 64, height: 64 });
    expect(fitWithin(4000, 1, 256)).toEqual({ width: 256, height: 1 });
  });
});

describe('saved file names', () => {
  it('are readable and safe', () => {
    expect(pngFileName({ prompt: 'A red heart!', seed: 7 })).toBe('gesso-a-red-heart-7.png');
    expect(pngFileName({ prompt: 'Crème brûlée / 猫', seed: 1 })).toBe('gesso-creme-brulee-1.png');
    expect(pngFileName({ prompt: '', seed: 0 })).toBe('gesso-0.png');
    const long = pngFileName({ prompt: 'word '.repeat(50), seed: 3 });
    expect(long).toMatch(/^gesso-(word-)+3\.png$/);
    expect(long.length).toBeLessThanOrEqual(6 + 40 + 1 + 1 + 4);
  });
});
