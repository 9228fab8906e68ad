import { beforeAll, describe, expect, it } from 'vitest';
import {
  bytesToUnicode,
  ClipTokenizer,
  cleanText,
  parseMerges,
  preTokenize,
} from '../../../src/engine/tokenizer';
import {
  HAVE_CLIP,
  realClipTokenizer,
  SD1_LIMITS,
  SD2_LIMITS,
  SKIP_REASON,
} from './helpers/clip-files';

if (!HAVE_CLIP) console.warn(SKIP_REASON);

describe('pre-tokenisation (CLIP regex)', () => {
  it('normalises to NFC, collapses whitespace and lower-cases', () => {
    expect(cleanText('  A  Cafe\u0301\n\tBAR ')).toBe('a caf\u00e9 bar');
  });

  it('splits letters, single digits, punctuation runs and contractions', () => {
    expect(preTokenize("Don't stop: 2024!! <|endoftext|>")).toEqual([
      'don',
      "'t",
      'stop',
      ':',
      '2',
      '0',
      '2',
      '4',
      '!!',
      '<|endoftext|>',
    ]);
  });

  it('keeps accented letters inside words and emoji as their own piece', () => {
    expect(preTokenize('Über-café 🙂🙂')).toEqual(['über', '-', 'café', '🙂🙂']);
  });
});

describe('BPE on a tiny hand-made vocabulary', () => {
  // Merges in priority order: l o -> lo, lo w</w> -> low</w>, e r</w> -> er</w>.
  const merges = parseMerges('#version: 0.2\nl o\nlo w</w>\ne r</w>\n');
  const vocab = new Map<string, number>([
    ['low</w>', 10],
    ['lo', 11],
    ['w', 12],
    ['er</w>', 13],
  ]);
  const tokenizer = new ClipTokenizer(vocab, merges, {
    maxLength: 6,
    bosTokenId: 1,
    eosTokenId: 2,
    padTokenId: 0,
  });

  it('drops the header and applies merges by rank', () => {
    expect(merges).toEqual(['l o', 'lo w</w>', 'e r</w>']);
    expect(tokenizer.tokenize('low lower')).toEqual(['low</w>', 'lo', 'w', 'er</w>']);
  });

  it('adds BOS/EOS, pads, truncates keeping EOS last', () => {
    expect(Array.from(tokenizer.encode('low'))).toEqual([1, 10, 2, 0, 0, 0]);
    expect(Array.from(tokenizer.encode('low low low low low'))).toEqual([1, 10, 10, 10, 10, 2]);
  });

  it('maps each unknown token to EOS', () => {
    expect(tokenizer.encodeText('zz')).toEqual([2, 2]); // 'z' and 'z</w>' are both unknown
  });
});

describe.skipIf(!HAVE_CLIP)('real CLIP vocabulary (bpe_simple_vocab_16e6)', () => {
  let tokenizer: ClipTokenizer;
  let merges: string[];
  // A merge on 0-based line r of the merge list (after the header) makes token id 512 + r.
  const mergeId = (merge: string) => 512 + merges.indexOf(merge);
  const byteTable = bytesToUnicode();

  beforeAll(() => {
    ({ tokenizer, merges } = realClipTokenizer(SD2_LIMITS));
  });

  it('has 48,894 merges and CLIP byte ids', () => {
    expect(merges).toHaveLength(48894);
    // '!' is the first printable byte: id 0; with </w> 256. Digits follow from 0x21: '1' = 0x31 -> 16.
    expect(tokenizer.encodeText('!')).toEqual([256]);
    expect(tokenizer.encodeText('1')).toEqual([256 + 0x31 - 0x21]);
  });

  it('encodes a common prompt with the well-known ids', () => {
    expect(Array.from(tokenizer.encode('a photo of a cat').slice(0, 8))).toEqual([
      49406, 320, 1125, 539, 320, 2368, 49407, 0,
    ]);
  });

  it('ignores case and punctuation spacing the way CLIP does', () => {
    expect(tokenizer.encodeText('Hello, WORLD!!')).toEqual(tokenizer.encodeText('hello ,world !!'));
    expect(tokenizer.tokenize('Hello, WORLD!!')).toEqual([
      'hello</w>',
      ',</w>',
      'world</w>',
      '!!</w>',
    ]);
    // "wor ld</w>" and "! !</w>" are merges; their ids are 512 + their rank.
    expect(tokenizer.encodeText('world !!')).toEqual([mergeId('wor ld</w>'), mergeId('! !</w>')]);
    expect(mergeId('wor ld</w>')).toBe(1002);
  });

  it('splits numbers into single digits', () => {
    expect(tokenizer.encodeText('2024')).toEqual([273, 256 + 15, 273, 275]);
  });

  it('treats composed and decomposed accents alike', () => {
    const composed = tokenizer.encodeText('Café crème');
    expect(tokenizer.encodeText('cafe\u0301 cre\u0300me')).toEqual(composed);
    // the é bytes (c3 a9) are byte symbols Ã and ©, merged inside the word.
    expect(tokenizer.tokenize('café').join('')).toBe(`caf${byteTable[0xc3]}${byteTable[0xa9]}</w>`);
  });

  it('encodes emoji as merged UTF-8 byte symbols that round-trip', () => {
    const tokens = tokenizer.tokenize('🙂');
    const utf8 = [0xf0, 0x9f, 0x99, 0x82].map((b) => byteTable[b]).join('');
    expect(tokens.join('')).toBe(`${utf8}</w>`);
    for (const id of tokenizer.encodeText('🙂')) expect(id).toBeLessThan(49406);
  });

  it('truncates a prompt of more than 77 tokens, keeping EOS last, and pads short ones per pack', () => {
    const long = tokenizer.encode('a '.repeat(100));
    expect(long).toHaveLength(77);
    expect(long[0]).toBe(49406);
    expect(Array.from(long.slice(1, 76)).every((id) => id === 320)).toBe(true);
    expect(long[76]).toBe(49407);

    const sd1 = realClipTokenizer(SD1_LIMITS).tokenizer.encode('cat');
    expect(Array.from(sd1.slice(0, 4))).toEqual([49406, 2368, 49407, 49407]);
    expect(Array.from(tokenizer.encode('cat').slice(0, 4))).toEqual([49406, 2368, 49407, 0]);
  });
});
