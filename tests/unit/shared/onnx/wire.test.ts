import { describe, expect, it } from 'vitest';
import { GessoError } from '../../../../src/shared/errors';
import {
  ByteReader,
  ByteWriter,
  StreamReader,
  decodeFields,
  encodeFields,
  varintSize,
} from '../../../../src/shared/onnx/wire';
import { chunked } from './helpers';

const bytes = (...b: number[]) => Uint8Array.from(b);

function expectCorrupt(fn: () => unknown, message: RegExp) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GessoError);
    expect((e as GessoError).code).toBe('pack-corrupt');
    expect((e as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected a GessoError');
}

async function expectCorruptAsync(p: Promise<unknown>, message: RegExp) {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(GessoError);
  expect((e as GessoError).code).toBe('pack-corrupt');
  expect((e as Error).message).toMatch(message);
}

describe('varints', () => {
  const cases: [number, number[]][] = [
    [0, [0]],
    [1, [1]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [300, [0xac, 0x02]],
    [2 ** 31 - 1, [0xff, 0xff, 0xff, 0xff, 0x07]],
    [2 ** 31, [0x80, 0x80, 0x80, 0x80, 0x08]],
    [2 ** 32, [0x80, 0x80, 0x80, 0x80, 0x10]],
    [2 ** 32 + 5, [0x85, 0x80, 0x80, 0x80, 0x10]],
    [Number.MAX_SAFE_INTEGER, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]],
  ];

  it('read and write lengths past 2 GB and 4 GB as exact Numbers', () => {
    for (const [n, enc] of cases) {
      expect(new ByteReader(bytes(...enc)).varint()).toBe(n);
      expect(Array.from(new ByteWriter().varint(n).finish())).toEqual(enc);
      expect(varintSize(n)).toBe(enc.length);
    }
  });

  it('read the same values from a stream cut into 1-byte chunks', async () => {
    const all = cases.flatMap(([, enc]) => enc);
    const r = new StreamReader(chunked(bytes(...all), 1));
    for (const [n] of cases) expect(await r.varint()).toBe(n);
    expect(await r.atEnd()).toBe(true);
    expect(r.offset).toBe(all.length);
  });

  it('keep negative int64 values as 10-byte two’s complement', () => {
    const minus1 = new ByteWriter().varint(-1).finish();
    expect(Array.from(minus1)).toEqual([255, 255, 255, 255, 255, 255, 255, 255, 255, 1]);
    expect(new ByteReader(minus1).int64()).toBe(-1);
    expect(BigInt.asIntN(64, new ByteReader(minus1).varint64())).toBe(-1n);
    const max = new ByteWriter().varint(2n ** 63n - 1n).finish();
    expect(new ByteReader(max).varint64()).toBe(2n ** 63n - 1n);
    expect(new ByteReader(new ByteWriter().varint(-(2 ** 40)).finish()).int64()).toBe(-(2 ** 40));
  });

  it('reject numbers too large for a length, over 10 bytes, or cut short', () => {
    expectCorrupt(
      () => new ByteReader(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f)).varint(),
      /too large/,
    );
    expectCorrupt(
      () => new ByteReader(new Uint8Array(11).fill(0x80)).varint64(),
      /longer than 10 bytes/,
    );
    expectCorrupt(() => new ByteReader(bytes(0x80, 0x80)).varint(), /ends too early, at byte 2/);
    expectCorrupt(
      () => new ByteReader(new ByteWriter().varint(2n ** 60n).finish()).int64(),
      /too large/,
    );
  });
});

describe('tags and fields', () => {
  it('round trip every wire type', () => {
    const fields = [
      { no: 1, wire: 0, value: 150n },
      { no: 2, wire: 2, value: bytes(1, 2, 3) },
      { no: 3, wire: 5, value: 0xdeadbeef },
      { no: 4, wire: 1, value: 2n ** 64n - 1n },
      { no: 536870911, wire: 0, value: 0n },
    ];
    const enc = encodeFields(fields);
    expect(decodeFields(enc)).toEqual(fields);
  });

  it.each([3, 4, 6, 7])('reject wire type %i with the byte it is at', (wire) => {
    expectCorrupt(
      () => decodeFields(bytes(0x08, 0x01, (5 << 3) | wire, 0)),
      new RegExp(`field at byte 2 has an invalid wire type \\(${wire}\\)`),
    );
  });

  it('rejects field number 0 and a length past the end', () => {
    expectCorrupt(() => decodeFields(bytes(0x00, 0x01)), /number 0/);
    expectCorrupt(() => decodeFields(bytes(0x0a, 0x05, 1, 2)), /ends too early/);
  });

  it('stream reader: exact reads across chunks, views, skips, truncation', async () => {
    const data = Uint8Array.from({ length: 100 }, (_, i) => i);
    const r = new StreamReader(chunked(data, 7));
    expect(Array.from(await r.read(10))).toEqual(Array.from(data.subarray(0, 10)));
    const parts: number[] = [];
    for await (const c of r.chunks(20)) parts.push(...c);
    expect(parts).toEqual(Array.from(data.subarray(10, 30)));
    await r.skip(60);
    expect(r.offset).toBe(90);
    await expectCorruptAsync(
      r.read(20),
      /ends too early, at byte 100 \(10 more bytes were expected\)/,
    );
  });
});
