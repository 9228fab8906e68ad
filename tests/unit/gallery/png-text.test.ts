import { crc32 as zlibCrc32, deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { GessoError } from '../../../src/shared/errors';
import {
  crc32,
  encodeChunk,
  encodeTextChunk,
  readPngChunks,
  readPngSize,
  readPngText,
  setPngText,
} from '../../../src/shared/png-text';
import type { Recipe } from '../../../src/shared/recipe';
import { recipeFromText, recipeTextEntries } from '../../../src/shared/recipe-text';

/** A real 3x2 RGBA PNG, built by hand with Node's zlib (independent of the code under test's writer). */
function tinyPng(width = 3, height = 2): Uint8Array {
  const header = new Uint8Array(13);
  new DataView(header.buffer).setUint32(0, width);
  new DataView(header.buffer).setUint32(4, height);
  header.set([8, 6, 0, 0, 0], 8);
  const raw = new Uint8Array(height * (width * 4 + 1));
  for (let i = 0; i < raw.length; i++) raw[i] = i % (width * 4 + 1) === 0 ? 0 : (i * 37) & 0xff;
  return concat(
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    nodeChunk('IHDR', header),
    nodeChunk('IDAT', new Uint8Array(deflateSync(raw))),
    nodeChunk('IEND', new Uint8Array(0)),
  );
}

/** A chunk whose CRC comes from Node's zlib, not from the module under test. */
function nodeChunk(type: string, data: Uint8Array): Uint8Array {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(zlibCrc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return new Uint8Array(out);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

function types(png: Uint8Array): string[] {
  return readPngChunks(png).map((c) => c.type);
}

async function rejection(promise: Promise<unknown>): Promise<GessoError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GessoError);
  expect((error as GessoError).code).toBe('invalid-image');
  return error as GessoError;
}

describe('crc32', () => {
  it('matches the published check values', () => {
    const ascii = (s: string) => new TextEncoder().encode(s);
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926); // the CRC-32 check value
    expect(crc32(ascii('IEND'))).toBe(0xae426082); // every PNG ends with these bytes
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('agrees with zlib on random data and can be continued', () => {
    const data = new Uint8Array(10_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    expect(crc32(data)).toBe(zlibCrc32(data));
    expect(crc32(data.subarray(4000), crc32(data.subarray(0, 4000)))).toBe(zlibCrc32(data));
  });

  it('writes chunks whose CRC zlib accepts', () => {
    const chunk = encodeChunk('tEXt', new TextEncoder().encode('a\0b'));
    const view = Buffer.from(chunk);
    expect(view.readUInt32BE(chunk.length - 4)).toBe(zlibCrc32(view.subarray(4, chunk.length - 4)));
  });
});

describe('text chunks', () => {
  it('writes Latin-1 text as tEXt with one byte per character', async () => {
    const chunk = await encodeTextChunk('parameters', 'café crème');
    expect(String.fromCharCode(...chunk.subarray(4, 8))).toBe('tEXt');
    const data = chunk.subarray(8, chunk.length - 4);
    expect([...data]).toEqual([...Buffer.from('parameters\0café crème', 'latin1')]);
    expect(data.includes(0xc3)).toBe(false); // no UTF-8 lead byte
  });

  it('writes text beyond Latin-1 as uncompressed UTF-8 iTXt', async () => {
    const text = 'a cat 猫 on the moon 🌙, “quoted”';
    const chunk = await encodeTextChunk('parameters', text);
    expect(String.fromCharCode(...chunk.subarray(4, 8))).toBe('iTXt');
    const data = Buffer.from(chunk.subarray(8, chunk.length - 4));
    // keyword\0, compression flag 0, method 0, empty language tag\0, empty translated keyword\0
    expect([...data.subarray(0, 15)]).toEqual([...Buffer.from('parameters\0\0\0\0\0', 'latin1')]);
    expect(data.subarray(15).toString('utf8')).toBe(text);
  });

  it('can force iTXt and compress it with zlib', async () => {
    const text = 'steps '.repeat(500) + 'ünïcødé';
    const forced = await encodeTextChunk('Comment', 'plain', { kind: 'iTXt' });
    expect(String.fromCharCode(...forced.subarray(4, 8))).toBe('iTXt');
    const chunk = await encodeTextChunk('Comment', text, { compress: true });
    const data = Buffer.from(chunk.subarray(8, chunk.length - 4));
    expect(data[8]).toBe(1); // compression flag
    expect(data[9]).toBe(0); // zlib
    expect(inflateSync(data.subarray(12)).toString('utf8')).toBe(text);
    expect(chunk.length).toBeLessThan(text.length / 4);
  });

  it('refuses tEXt for text that is not Latin-1 and bad keywords', async () => {
    await expect(encodeTextChunk('k', '猫', { kind: 'tEXt' })).rejects.toThrow(/iTXt/);
    await expect(encodeTextChunk('', 'x')).rejects.toThrow(/keyword/);
    await expect(encodeTextChunk('k'.repeat(80), 'x')).rejects.toThrow(/keyword/);
    await expect(encodeTextChunk(' lead', 'x')).rejects.toThrow(/keyword/);
    await expect(encodeTextChunk('猫', 'x')).rejects.toThrow(/keyword/);
  });
});

describe('setPngText and readPngText', () => {
  it('inserts text chunks before IDAT, keeps the image bytes, and reads them back', async () => {
    const png = tinyPng();
    const out = await setPngText(png, [
      { keyword: 'parameters', text: 'red heart\nSteps: 4, Seed: 7, Size: 3x2' },
      { keyword: 'gesso-recipe', text: '{"prompt":"猫"}' },
    ]);
    expect(types(out)).toEqual(['IHDR', 'tEXt', 'iTXt', 'IDAT', 'IEND']);
    const idat = (bytes: Uint8Array) => readPngChunks(bytes).find((c) => c.type === 'IDAT')!.data;
    expect([...idat(out)]).toEqual([...idat(png)]);
    expect(readPngSize(out)).toEqual({ width: 3, height: 2 });
    const text = await readPngText(out);
    expect(text.map((t) => [t.kind, t.keyword, t.text])).toEqual([
      ['tEXt', 'parameters', 'red heart\nSteps: 4, Seed: 7, Size: 3x2'],
      ['iTXt', 'gesso-recipe', '{"prompt":"猫"}'],
    ]);
  });

  it('replaces text with the same keyword instead of adding a second one', async () => {
    const once = await setPngText(tinyPng(), [{ keyword: 'parameters', text: 'first' }]);
    const twice = await setPngText(once, [
      { keyword: 'parameters', text: 'second ☃' },
      { keyword: 'Software', text: 'Gesso' },
    ]);
    const text = await readPngText(twice);
    expect(text.map((t) => `${t.keyword}=${t.text}`)).toEqual([
      'parameters=second ☃',
      'Software=Gesso',
    ]);
  });

  it('round-trips long prompts (100 000 characters) in tEXt and compressed iTXt', async () => {
    const latin = 'a very long prompt, with commas: and colons; '.repeat(2300).slice(0, 100_000);
    const unicode = 'ünïcødé 猫 '.repeat(10_000);
    const out = await setPngText(tinyPng(), [
      { keyword: 'parameters', text: latin },
      { keyword: 'gesso-recipe', text: unicode, options: { compress: true } },
    ]);
    const text = await readPngText(out);
    expect(text[0]!.text).toBe(latin);
    expect(text[0]!.text.length).toBe(100_000);
    expect(text[1]).toMatchObject({ kind: 'iTXt', compressed: true, text: unicode });
  });

  it('reads zTXt and iTXt chunks written by another writer (zlib)', async () => {
    const png = tinyPng();
    const ztxt = nodeChunk(
      'zTXt',
      concat(Buffer.from('Comment\0\0', 'latin1'), deflateSync(Buffer.from('señor', 'latin1'))),
    );
    const itxt = nodeChunk(
      'iTXt',
      concat(
        Buffer.from('Title\0\x01\0en\0', 'latin1'),
        Buffer.from('Titel\0'),
        deflateSync('ein Bild 🖼'),
      ),
    );
    const withText = concat(png.subarray(0, 33), ztxt, itxt, png.subarray(33));
    const text = await readPngText(withText);
    expect(text).toEqual([
      { kind: 'zTXt', keyword: 'Comment', text: 'señor', compressed: true },
      {
        kind: 'iTXt',
        keyword: 'Title',
        text: 'ein Bild 🖼',
        compressed: true,
        languageTag: 'en',
        translatedKeyword: 'Titel',
      },
    ]);
  });

  it('carries a recipe with long region strokes compressed, and restores it exactly', async () => {
    const strokes = Array.from({ length: 40 }, (_, i) => ({
      region: 1,
      erase: false,
      points: Array.from(
        { length: 300 },
        (_, k) => Math.round((((i * 300 + k) % 997) * 1e4) / 997) / 1e4,
      ),
    }));
    const recipe: Recipe = {
      prompt: 'a cat under a starry sky',
      negativePrompt: '',
      pack: { id: 'demo-emoji', version: '0.1.0', variant: 'int8' },
      steps: 4,
      guidance: 4,
      seed: 9,
      width: 64,
      height: 64,
      regions: {
        version: 1,
        regions: [
          { id: 1, name: 'Sky', colour: '#123456', prompt: 'stars', strength: 1, hidden: false },
        ],
        strokes,
      },
    };
    const entries = recipeTextEntries(recipe);
    expect(entries.map((e) => e.options?.compress ?? false)).toEqual([false, true]);
    const out = await setPngText(tinyPng(), entries);
    const text = await readPngText(out);
    expect(text.map((t) => [t.keyword, t.kind, t.compressed ?? false])).toEqual([
      ['parameters', 'tEXt', false],
      ['gesso-recipe', 'iTXt', true],
    ]);
    expect(out.length).toBeLessThan(tinyPng().length + entries[1]!.text.length / 2);
    expect(recipeFromText(text)).toEqual({ draft: recipe, exact: true });
    // A short recipe stays uncompressed, readable by any PNG tool.
    expect(recipeTextEntries({ ...recipe, regions: undefined })[1]!.options?.compress).toBe(false);
  });

  it('returns no entries for a PNG without text', async () => {
    expect(await readPngText(tinyPng())).toEqual([]);
  });
});

describe('bad files are rejected with a clear error', () => {
  const png = tinyPng();

  it('a file that is not a PNG', async () => {
    const jpeg = Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46);
    const error = await rejection(readPngText(jpeg));
    expect(error.message).toBe('This file is not a PNG image (its signature is wrong).');
    await rejection(readPngText(new Uint8Array(0)));
  });

  it('a truncated file, cut inside a chunk or before IEND', async () => {
    expect((await rejection(readPngText(png.subarray(0, 50)))).message).toMatch(
      /truncated: its IDAT chunk at byte 33 is cut off/,
    );
    expect((await rejection(readPngText(png.subarray(0, png.length - 12)))).message).toMatch(
      /truncated: it ends before its IEND chunk/,
    );
    expect((await rejection(readPngText(png.subarray(0, 12)))).message).toMatch(/truncated/);
    await rejection(setPngText(png.subarray(0, png.length - 1), [{ keyword: 'a', text: 'b' }]));
  });

  it('a chunk whose CRC does not match', async () => {
    const damaged = png.slice();
    damaged[45] = damaged[45]! ^ 0x01; // a byte inside IDAT's data
    const error = await rejection(readPngText(damaged));
    expect(error.message).toMatch(/damaged: the CRC of its IDAT chunk at byte 33 does not match/);
  });

  it('a file whose first chunk is not IHDR', async () => {
    const noHeader = concat(png.subarray(0, 8), png.subarray(33));
    const error = await rejection(readPngText(noHeader));
    expect(error.message).toBe('This PNG is damaged: its first chunk is IDAT, not IHDR.');
    await rejection(readPngText(png.subarray(0, 8)));
  });

  it('a text chunk that is not valid UTF-8', async () => {
    const bad = nodeChunk(
      'iTXt',
      concat(Buffer.from('k\0\0\0\0\0', 'latin1'), Uint8Array.of(0xc3, 0x28)),
    );
    const withBad = concat(png.subarray(0, 33), bad, png.subarray(33));
    expect((await rejection(readPngText(withBad))).message).toMatch(/not valid UTF-8/);
  });
});
