import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration } from '../../../src/shared/format';
import { parseRoute } from '../../../src/ui/app/routes';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.00 KB'],
    [4_910_000, '4.91 MB'],
    [1_733_430_199, '1.73 GB'],
    [-1, 'unknown'],
  ])('%d -> %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));
});

describe('formatDuration', () => {
  it.each([
    [0.2, '1 s'],
    [59, '59 s'],
    [61, '1 min 1 s'],
    [3 * 3600 + 120, '3 h 2 min'],
    [Infinity, 'unknown'],
  ])('%d -> %s', (seconds, text) => expect(formatDuration(seconds)).toBe(text));
});

describe('parseRoute', () => {
  it('maps hashes to screens and defaults to Create', () => {
    expect(parseRoute('#/gallery')).toBe('gallery');
    expect(parseRoute('#settings')).toBe('settings');
    expect(parseRoute('')).toBe('create');
    expect(parseRoute('#/nope')).toBe('create');
  });
});
