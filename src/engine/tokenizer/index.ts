export {
  ClipTokenizer,
  loadClipTokenizer,
  parseMerges,
  parseVocab,
  type TokenizerLimits,
} from './clip-tokenizer';
export { bytesToUnicode, byteSymbolsInVocabOrder } from './byte-encoder';
export { cleanText, preTokenize } from './pretokenize';
export { clipVocabFromMerges, vocabJson } from './clip-vocab';
