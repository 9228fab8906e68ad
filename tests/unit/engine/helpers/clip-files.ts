/**
 * The real CLIP vocabulary, built from tests/fixtures/clip/bpe_simple_vocab_16e6.txt.gz
 * (openai/CLIP's merges file, MIT licence beside it, 1.3 MB) exactly as CLIP's
 * SimpleTokenizer builds it: 256 byte symbols, the same with `</w>`, the
 * first 48,894 merges joined, then the two specials.
 */

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  byteSymbolsInVocabOrder,
  ClipTokenizer,
  type TokenizerLimits,
} from '../../../../src/engine/tokenizer';

export const CLIP_MERGES_PATH = resolve(
  __dirname,
  '../../../fixtures/clip/bpe_simple_vocab_16e6.txt.gz',
);
export const HAVE_CLIP = existsSync(CLIP_MERGES_PATH);
export const SKIP_REASON = `real CLIP merges file not found at ${CLIP_MERGES_PATH}: skipping CLIP tokenizer comparisons`;

export const SD2_LIMITS: TokenizerLimits = {
  maxLength: 77,
  bosTokenId: 49406,
  eosTokenId: 49407,
  padTokenId: 0,
};
export const SD1_LIMITS: TokenizerLimits = { ...SD2_LIMITS, padTokenId: 49407 };

export function clipMerges(): string[] {
  const lines = gunzipSync(readFileSync(CLIP_MERGES_PATH)).toString('utf8').split('\n');
  return lines.slice(1, 49152 - 256 - 2 + 1);
}

export function clipVocab(merges: string[]): Map<string, number> {
  const bytes = byteSymbolsInVocabOrder();
  const tokens = [
    ...bytes,
    ...bytes.map((b) => b + '</w>'),
    ...merges.map((m) => m.replace(' ', '')),
    '<|startoftext|>',
    '<|endoftext|>',
  ];
  return new Map(tokens.map((token, id) => [token, id]));
}

export function realClipTokenizer(limits: TokenizerLimits = SD2_LIMITS): {
  tokenizer: ClipTokenizer;
  merges: string[];
} {
  const merges = clipMerges();
  return { tokenizer: new ClipTokenizer(clipVocab(merges), merges, limits), merges };
}
