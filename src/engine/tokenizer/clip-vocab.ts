/**
 * CLIP's vocabulary follows from its merges, as openai/CLIP's SimpleTokenizer
 * builds it: the 256 byte symbols, the same with `</w>`, one token per merge
 * (in merge order), then `<|startoftext|>` and `<|endoftext|>`. So a template
 * ships only merges.txt, and the import writes the vocab.json it implies.
 */

import { byteSymbolsInVocabOrder } from './byte-encoder';

export function clipVocabFromMerges(merges: readonly string[]): Map<string, number> {
  const bytes = byteSymbolsInVocabOrder();
  const tokens = [
    ...bytes,
    ...bytes.map((b) => `${b}</w>`),
    ...merges.map((m) => m.replace(' ', '')),
    '<|startoftext|>',
    '<|endoftext|>',
  ];
  return new Map(tokens.map((token, id) => [token, id]));
}

/** The vocabulary as a pack's vocab.json (a JSON object from token to id). */
export function vocabJson(vocab: ReadonlyMap<string, number>): string {
  return JSON.stringify(Object.fromEntries(vocab));
}
