/** How much of a prompt the text encoder reads: its tokens against the limit, and the words left out. */

import type { ClipTokenizer } from './clip-tokenizer';
import { preTokenize } from './pretokenize';

export interface TokenCount {
  /** Tokens the text encoder gets, BOS and EOS included, at most `max`. */
  used: number;
  /** Tokens the whole prompt would need (BOS and EOS included). */
  needed: number;
  /** The tokenizer's limit (77 for CLIP). */
  max: number;
  /** The words that do not fit (a word cut part-way counts as left out), in order. */
  leftOut: string[];
}

export function countTokens(tokenizer: ClipTokenizer, text: string): TokenCount {
  const max = tokenizer.limits.maxLength;
  const last = max - 2; // positions 1..last hold text; EOS follows
  const leftOut: string[] = [];
  let next = 1;
  for (const piece of preTokenize(text)) {
    const pieces =
      piece === '<|startoftext|>' || piece === '<|endoftext|>'
        ? 1
        : tokenizer.tokenize(piece).length;
    if (next + pieces - 1 > last) leftOut.push(piece);
    next += pieces;
  }
  const needed = next + 1;
  return { used: Math.min(needed, max), needed, max, leftOut };
}
