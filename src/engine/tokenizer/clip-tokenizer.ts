/** CLIP's byte-level BPE tokenizer (openai/CLIP simple_tokenizer.py), driven by a pack's files. */

import { GessoError } from '../../shared/errors';
import type { TokenizerConfig } from '../../shared/pack-manifest';
import { bytesToUnicode } from './byte-encoder';
import { preTokenize } from './pretokenize';

export type TokenizerLimits = Pick<
  TokenizerConfig,
  'maxLength' | 'bosTokenId' | 'eosTokenId' | 'padTokenId'
>;

const END_OF_WORD = '</w>';
const BYTE_TABLE = bytesToUnicode();
const encoder = new TextEncoder();

export class ClipTokenizer {
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, string[]>();

  /**
   * @param vocab token -> id (the pack's vocab.json)
   * @param merges merge rules "a b" in priority order (no header line)
   */
  constructor(
    private readonly vocab: ReadonlyMap<string, number>,
    merges: readonly string[],
    readonly limits: TokenizerLimits,
  ) {
    merges.forEach((merge, rank) => this.ranks.set(merge, rank));
  }

  /** BPE of one pre-token, already byte-mapped. Merges the best-ranked pair everywhere, until none applies. */
  bpe(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached) return cached;
    const chars = Array.from(token);
    let word = [...chars.slice(0, -1), chars[chars.length - 1]! + END_OF_WORD];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best]!;
      const second = word[best + 1]!;
      const merged: string[] = [];
      for (let i = 0; i < word.length;) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]!);
          i += 1;
        }
      }
      word = merged;
    }
    if (this.cache.size < 10_000) this.cache.set(token, word);
    return word;
  }

  /** BPE tokens (strings) of a text, without BOS/EOS. */
  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const piece of preTokenize(text)) {
      if (piece === '<|startoftext|>' || piece === '<|endoftext|>') {
        out.push(piece);
        continue;
      }
      let mapped = '';
      for (const byte of encoder.encode(piece)) mapped += BYTE_TABLE[byte]!;
      out.push(...this.bpe(mapped));
    }
    return out;
  }

  /**
   * The words of a text (CLIP's pre-tokens) and the positions of their BPE
   * pieces in the encoded sequence (BOS is position 0); words cut off by
   * truncation are left out, as are special tokens.
   */
  words(text: string): { word: string; positions: number[] }[] {
    const last = this.limits.maxLength - 2; // positions 1..last hold text; EOS follows
    const out: { word: string; positions: number[] }[] = [];
    let next = 1;
    for (const piece of preTokenize(text)) {
      const pieces =
        piece === '<|startoftext|>' || piece === '<|endoftext|>' ? 1 : this.tokenize(piece).length;
      const positions = Array.from({ length: pieces }, (_, i) => next + i);
      next += pieces;
      if (positions[positions.length - 1]! > last) break;
      if (!piece.startsWith('<|')) out.push({ word: piece, positions });
    }
    return out;
  }

  /** Token ids of a text, without BOS/EOS or truncation. Unknown tokens become EOS (as Hugging Face's unk). */
  encodeText(text: string): number[] {
    return this.tokenize(text).map((token) => this.vocab.get(token) ?? this.limits.eosTokenId);
  }

  /** BOS + ids + EOS, truncated to maxLength with EOS kept last, then padded: exactly maxLength ids. */
  encode(text: string): Int32Array {
    const { maxLength, bosTokenId, eosTokenId, padTokenId } = this.limits;
    const ids = this.encodeText(text).slice(0, Math.max(0, maxLength - 2));
    const out = new Int32Array(maxLength).fill(padTokenId);
    out.set([bosTokenId, ...ids, eosTokenId].slice(0, maxLength));
    return out;
  }
}

/** Merge rules from a merges.txt: drops a "#version" header and blank lines. */
export function parseMerges(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter((line, i) => line.length > 0 && !(i === 0 && line.startsWith('#')));
}

/** The vocabulary file: a JSON object from token to id. */
export function parseVocab(json: string, path = 'vocab.json'): Map<string, number> {
  let object: unknown;
  try {
    object = JSON.parse(json);
  } catch {
    object = null;
  }
  const entries =
    object && typeof object === 'object' && !Array.isArray(object) ? Object.entries(object) : [];
  if (entries.length === 0 || !entries.every(([, id]) => Number.isInteger(id)))
    throw new GessoError(
      'pack-corrupt',
      `The tokenizer file ${path} is not a vocabulary (a JSON object of tokens and ids). Delete the pack in Models and download it again; if that does not help, the pack itself is broken.`,
    );
  return new Map(entries as [string, number][]);
}

export function loadClipTokenizer(
  vocabJson: string,
  mergesText: string,
  limits: TokenizerLimits,
  vocabPath?: string,
): ClipTokenizer {
  return new ClipTokenizer(parseVocab(vocabJson, vocabPath), parseMerges(mergesText), limits);
}
