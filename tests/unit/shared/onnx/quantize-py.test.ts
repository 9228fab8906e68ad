import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, FIXTURES, convertFile, digest } from './helpers';

const expected = JSON.parse(
  readFileSync(join(FIXTURES, 'quantize_py_expected.json'), 'utf8'),
) as Record<
  string,
  { quantized: number; attentionBlocks: number } & Awaited<ReturnType<typeof digest>>
>;

describe('the converter makes what models/quantize.py makes', { timeout: 60_000 }, () => {
  // "<model>@<blocks>": the same model with its self-attention sliced.
  for (const [key, { attentionBlocks, ...want }] of Object.entries(expected)) {
    it(key, async () => {
      const rel = key.split('@')[0]!;
      const { graph, data, result } = await convertFile(join(ROOT, rel), { attentionBlocks });
      const got = { quantized: result.quantized.length, ...(await digest(graph, data)) };
      expect(got).toEqual(want);
    });
  }
});
