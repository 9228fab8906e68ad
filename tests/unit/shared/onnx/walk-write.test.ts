import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DataLocation,
  DataType,
  TensorField,
  type NodeProto,
} from '../../../../src/shared/onnx/schema';
import { externalRef, walkModel, type WalkEvent } from '../../../../src/shared/onnx/walk';
import { encodeTensor, modelSize, writeModel } from '../../../../src/shared/onnx/write';
import { FIXTURES, ROOT, chunked, collectAsync, parseModel, roundTrip } from './helpers';

const load = (path: string) => new Uint8Array(readFileSync(path));

function onnxFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return onnxFiles(p);
    return name.endsWith('.onnx') ? [p] : [];
  });
}

async function events(bytes: Uint8Array, chunkSize = 4096, bufferBelow?: number) {
  const out: WalkEvent[] = [];
  for await (const ev of walkModel(chunked(bytes, chunkSize), { bufferBelow })) {
    if (ev.kind === 'initializer' && ev.payload) {
      // Keep the bytes: a payload is only valid until the walk moves on.
      const bytes = await ev.payload.read();
      out.push({ ...ev, payload: { ...ev.payload, read: async () => bytes } });
    } else out.push(ev);
  }
  return out;
}

describe(
  'walker + writer round trip models written by the Python onnx package',
  { timeout: 60_000 },
  () => {
    const roundtrip = load(join(FIXTURES, 'roundtrip.onnx'));

    it.each([
      [1, undefined],
      [7, undefined],
      [4096, undefined],
      [3, 0], // every initializer through the streaming path
      [1 << 20, 0],
    ])('roundtrip.onnx, chunks of %i bytes, bufferBelow %s: same bytes', async (chunk, below) => {
      expect(await roundTrip(roundtrip, chunk, below)).toEqual(roundtrip);
    });

    const models = [
      ...onnxFiles(join(ROOT, 'tests/fixtures/models')),
      ...onnxFiles(FIXTURES),
      ...onnxFiles(join(ROOT, 'public/packs/demo')),
    ];
    it.each(models.map((p) => [relative(ROOT, p)]))('%s: same bytes', async (rel) => {
      const bytes = load(join(ROOT, rel));
      const again = await roundTrip(bytes, 65536, rel.includes('unet') ? 0 : undefined);
      expect(again.length).toBe(bytes.length);
      expect(Buffer.compare(again, bytes)).toBe(0);
    });

    it('decodes every kind of field the Python package wrote', async () => {
      const parts = await parseModel(roundtrip);
      const g = parts.graph!;
      const byName: Record<string, NodeProto> = {};
      for (const n of g.nodes) if (!(n instanceof Uint8Array)) byName[n.opType!] = n;
      const custom = byName.Custom!;
      expect(custom.domain).toBe('com.example');
      const attr = Object.fromEntries(custom.attribute.map((a) => [a.name, a]));
      expect(attr.ints!.ints).toEqual([-1n, 0n, 9223372036854775807n, -9223372036854775808n]);
      expect(attr.floats!.floats).toEqual([0.5, -1, 3.25]);
      expect(attr.i!.i).toBe(-7n);
      expect(Array.from(attr.s!.s!)).toEqual([0, 255, ...Buffer.from('bytes')]);
      expect(byName.LeakyRelu!.attribute[0]!.f).toBeCloseTo(0.1, 7);
      expect(byName.LeakyRelu!.docString).toBe('a doc string');
      expect(byName.Pad!.domain).toBe('');
      const inits = Object.fromEntries(g.initializers.map((t) => [t.header.name, t]));
      expect(inits.floats!.payload!.field).toBe(TensorField.floatData);
      expect(Array.from(new Float32Array(inits.floats!.payload!.bytes!.slice().buffer))).toEqual([
        1, 2, 3, 4, 5, 6.5,
      ]);
      expect(inits.halfs!.payload!.field).toBe(TensorField.int32Data);
      expect(inits.pads!.payload!.field).toBe(TensorField.int64Data);
      expect(inits.strs!.payload).toBeUndefined();
      expect(inits.empty!.header.dims).toEqual([0, 3]);
      expect(inits.empty!.payload!.length).toBe(0);
      expect(inits.scalar!.header.dims).toEqual([]);
      expect(inits.ends!.header.docString).toBe('ends');
      expect(inits.big!.header.dataType).toBe(DataType.FLOAT);
    });

    it('gives each raw_data payload’s offset in the file', async () => {
      for (const below of [undefined, 0]) {
        for (const ev of await events(roundtrip, 5, below)) {
          if (
            ev.kind !== 'initializer' ||
            !ev.payload ||
            ev.payload.field !== TensorField.rawData
          ) {
            continue;
          }
          const p = ev.payload;
          expect(roundtrip.subarray(p.offset, p.offset + p.length)).toEqual(await p.read());
        }
      }
    });

    it('reads external-data tensors as locations, with no payload', async () => {
      const evs = await events(load(join(FIXTURES, 'external.onnx')));
      const data = load(join(FIXTURES, 'external.onnx_data'));
      const all = evs.filter((e) => e.kind === 'initializer');
      expect(all.length).toBe(6);
      // onnx.save(size_threshold=256) keeps the small ones inline.
      const inits = all.filter((e) => e.tensor.dataLocation === DataLocation.EXTERNAL);
      expect(inits.map((e) => e.tensor.name)).toEqual(['conv_w', 'conv_b', 'fc_w', 'kept_big']);
      for (const ev of all.filter((e) => !inits.includes(e))) expect(ev.payload).not.toBeNull();
      for (const ev of inits) {
        expect(ev.payload).toBeNull();
        expect(ev.tensor.dataLocation).toBe(DataLocation.EXTERNAL);
        const ref = externalRef(ev.tensor)!;
        expect(ref.location).toBe('external.onnx_data');
        expect(ref.offset + ref.length!).toBeLessThanOrEqual(data.length);
      }
      const conv = inits.find((e) => e.tensor.name === 'conv_w')!;
      const ref = externalRef(conv.tensor)!;
      expect(ref.length).toBe(64 * 4 * 3 * 3 * 4);
    });

    it('modelSize is what writeModel writes; streamed payloads pass through', async () => {
      const parts = await parseModel(roundtrip);
      for (const t of parts.graph!.initializers) {
        const p = t.payload;
        if (!p?.bytes) continue;
        const bytes = p.bytes;
        delete p.bytes;
        p.chunks = () => chunked(bytes, 3);
      }
      expect(modelSize(parts)).toBe(roundtrip.length);
      expect(await collectAsync(writeModel(parts, { chunkSize: 100 }))).toEqual(roundtrip);
    });

    it('encodes a tensor like numpy_helper.from_array', () => {
      // from_array(np.array([1, 2], np.int8), "q") serialised by onnx 1.12.
      const bytes = encodeTensor(
        { name: 'q', dims: [2], dataType: DataType.INT8, externalData: [], other: [] },
        { field: TensorField.rawData, bytes: Uint8Array.of(1, 2) },
      );
      expect(Buffer.from(bytes).toString('hex')).toBe('080210034201714a020102');
    });
  },
);
