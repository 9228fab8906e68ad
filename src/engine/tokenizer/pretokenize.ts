/**
 * CLIP's text clean-up and pre-tokenisation: NFC, whitespace collapsed and
 * trimmed, lower-cased, then split by CLIP's regex (special tokens,
 * contractions, letter runs, single digits, runs of anything else that is not
 * whitespace). CLIP also runs ftfy, whose default output is NFC text.
 */

const PATTERN =
  /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/gu;

export function cleanText(text: string): string {
  return text.normalize('NFC').replace(/\s+/g, ' ').trim().toLowerCase();
}

export function preTokenize(text: string): string[] {
  return cleanText(text).match(PATTERN) ?? [];
}
