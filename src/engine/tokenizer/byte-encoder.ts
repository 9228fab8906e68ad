/**
 * GPT-2/CLIP's reversible byte -> printable character map: printable Latin-1
 * bytes map to themselves, the other 68 bytes to U+0100 upwards, so BPE works
 * on strings with no whitespace or control characters.
 */

export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table = new Array<string>(256);
  for (const b of printable) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++)
    if (table[b] === undefined) table[b] = String.fromCharCode(256 + n++);
  return table;
}

/** The byte symbols in CLIP's vocabulary order: the printable bytes first, then the rest. */
export function byteSymbolsInVocabOrder(): string[] {
  const table = bytesToUnicode();
  const order: number[] = [];
  for (let b = 0; b < 256; b++) if (table[b]!.charCodeAt(0) === b) order.push(b);
  for (let b = 0; b < 256; b++) if (table[b]!.charCodeAt(0) !== b) order.push(b);
  return order.map((b) => table[b]!);
}
