/**
 * Models over 2 GB (and 4 GB), never held in memory: the protobuf stream is
 * generated on the fly, one reused 4 MiB buffer for the big tensor's bytes.
 */
import { describe, expect, it } from 'vitest';
import { convertModel } from '../../../../src/shared/onnx/convert';
import { DataType, TensorField } from '../../../../src/shared/onnx/schema';
import { walkModel } from '../../../../src/shared/onnx/walk';
import { ByteWriter, WireType } from '../../../../src/shared/onnx/wire';
import {
  encodeNode,
  encodeOpset,
  encodeTensor,
  modelSize,
  writeModel,
  type ModelParts,
} from '../../../../src/shared/onnx/write';

const HUGE = 2 ** 32 + 1000; // a length that needs more than 32 bits
const BLOCK = 4 << 20;
const pattern = Uint8Array.from({ length: BLOCK }, (_, i) => (i * 7) & 0xff);

/** The bytes of the huge tensor: `pattern` repeated (the same buffer, reused). */
function* hugeValues(): Generator<Uint8Array> {
  for (let at = 0; at < HUGE; at += BLOCK) {
    yield at + BLOCK <= HUGE ? pattern : pattern.subarray(0, HUGE - at);
  }
}

const w = Float32Array.from({ length: 32 * 64 }, (_, i) => Math.sin(i) * 0.5);
const wBytes = new Uint8Array(w.buffer);
const node = (input: string[], output: string[], opType: string) =>
  encodeNode({ input, output, opType, attribute: [], other: [] });

/** A model: Identity(after), MatMul(x, w); initializers huge (uint8), w (fp32), after; opset 17 after the graph. */
function layout() {
  const nodes = [node(['after'], ['y'], 'Identity'), node(['x', 'w'], ['z'], 'MatMul')];
  const hugeHeader = new ByteWriter()
    .varintField(TensorField.dims, HUGE)
    .varintField(TensorField.dataType, DataType.UINT8)
    .stringField(TensorField.name, 'huge')
    .tag(TensorField.rawData, WireType.LEN)
    .varint(HUGE)
    .finish();
  const hugeLength = hugeHeader.length + HUGE;
  const wTensor = encodeTensor(
    { name: 'w', dims: [32, 64], dataType: DataType.FLOAT, externalData: [], other: [] },
    { field: TensorField.rawData, bytes: wBytes },
  );
  const after = encodeTensor(
    { name: 'after', dims: [3], dataType: DataType.INT8, externalData: [], other: [] },
    { field: TensorField.rawData, bytes: Int8Array.of(-1, 2, -3) as unknown as Uint8Array },
  );
  const g = new ByteWriter();
  for (const n of nodes) g.bytesField(1, n);
  g.stringField(2, 'big');
  g.tag(5, WireType.LEN).varint(hugeLength);
  const graphHead = g.finish();
  const graphTail = new ByteWriter().bytesField(5, wTensor).bytesField(5, after).finish();
  const graphLength = graphHead.length + hugeHeader.length + HUGE + graphTail.length;
  const head = new ByteWriter()
    .varintField(1, 8)
    .tag(7, WireType.LEN)
    .varint(graphLength)
    .raw(graphHead)
    .raw(hugeHeader)
    .finish();
  const tail = new ByteWriter().raw(graphTail).bytesField(8, encodeOpset('', 17)).finish();
  return { head, tail, total: head.length + HUGE + tail.length, hugeAt: head.length };
}

async function* stream(): AsyncGenerator<Uint8Array> {
  const { head, tail } = layout();
  yield head;
  yield* hugeValues();
  yield tail;
}

describe('a model over 4 GB, streamed', { timeout: 120_000 }, () => {
  it('walks with exact offsets past 2^32 and streams the big tensor without holding it', async () => {
    const { total, hugeAt } = layout();
    expect(total).toBeGreaterThan(2 ** 32);
    const seen: string[] = [];
    let streamed = 0;
    for await (const ev of walkModel(stream())) {
      if (ev.kind !== 'initializer') continue;
      seen.push(ev.tensor.name!);
      if (ev.tensor.name === 'huge') {
        expect(ev.tensor.dims).toEqual([HUGE]);
        expect(ev.payload!.offset).toBe(hugeAt);
        expect(ev.payload!.length).toBe(HUGE);
        for await (const c of ev.payload!.chunks()) {
          expect(c[1]).toBe(((streamed + 1) * 7) & 0xff);
          streamed += c.length;
        }
      } else {
        expect(ev.offset).toBeGreaterThan(2 ** 32);
        expect(ev.payload!.offset).toBeGreaterThan(2 ** 32);
        if (ev.tensor.name === 'after') {
          const b = await ev.payload!.read();
          expect(Array.from(new Int8Array(b.buffer, b.byteOffset, b.length))).toEqual([-1, 2, -3]);
        }
      }
    }
    expect(seen).toEqual(['huge', 'w', 'after']);
    expect(streamed).toBe(HUGE);
  });

  it('skips a big tensor nobody reads', async () => {
    const names: string[] = [];
    for await (const ev of walkModel(stream())) {
      if (ev.kind === 'initializer') names.push(ev.tensor.name!);
    }
    expect(names).toEqual(['huge', 'w', 'after']);
  });

  it('writes the same stream with writeModel from a tensor source', async () => {
    const { total, head, tail } = layout();
    const parts: ModelParts = {
      fields: [
        { no: 8, wire: WireType.LEN, value: encodeOpset('', 17) },
        { no: 1, wire: WireType.VARINT, value: 8n },
      ],
      graph: {
        nodes: [node(['after'], ['y'], 'Identity'), node(['x', 'w'], ['z'], 'MatMul')],
        fields: [{ no: 2, wire: WireType.LEN, value: new TextEncoder().encode('big') }],
        initializers: [
          {
            header: {
              name: 'huge',
              dims: [HUGE],
              dataType: DataType.UINT8,
              externalData: [],
              other: [],
            },
            payload: {
              field: TensorField.rawData,
              length: HUGE,
              chunks: hugeValues,
            },
          },
          {
            header: {
              name: 'w',
              dims: [32, 64],
              dataType: DataType.FLOAT,
              externalData: [],
              other: [],
            },
            payload: { field: TensorField.rawData, length: wBytes.length, bytes: wBytes },
          },
          {
            header: {
              name: 'after',
              dims: [3],
              dataType: DataType.INT8,
              externalData: [],
              other: [],
            },
            payload: { field: TensorField.rawData, length: 3, bytes: Uint8Array.of(255, 2, 253) },
          },
        ],
      },
    };
    expect(modelSize(parts)).toBe(total);
    // Compare the written stream with the hand-made one at its start and end.
    let at = 0;
    const last: number[] = [];
    for await (const c of writeModel(parts)) {
      if (at < head.length) {
        const n = Math.min(c.length, head.length - at);
        expect(Array.from(c.subarray(0, n))).toEqual(Array.from(head.subarray(at, at + n)));
      }
      at += c.length;
      last.push(...c.subarray(Math.max(0, c.length - tail.length)));
      last.splice(0, Math.max(0, last.length - tail.length));
    }
    expect(at).toBe(total);
    expect(last).toEqual(Array.from(tail));
  });

  it('converts it: the big tensor copied to the data file, the weight after it quantized', async () => {
    let dataBytes = 0;
    let probe = -1;
    const graph: Uint8Array[] = [];
    const result = await convertModel(
      stream(),
      (file, chunk) => {
        if (file === 'graph') graph.push(chunk.slice());
        else {
          // The huge tensor starts at offset 0 of the data file.
          if (dataBytes <= 12345 && 12345 < dataBytes + chunk.length)
            probe = chunk[12345 - dataBytes]!;
          dataBytes += chunk.length;
        }
      },
      { dataLocation: 'big.onnx_data' },
    );
    expect(probe).toBe((12345 * 7) & 0xff);
    expect(result.quantized).toEqual(['w']);
    expect(result.bytesIn).toBe(layout().total);
    expect(result.dataBytes).toBe(dataBytes);
    expect(dataBytes).toBeGreaterThan(HUGE + 32 * 64);
    expect(result.largestTensorBytes).toBeLessThan(64 << 20);
    const offsets: Record<string, string> = {};
    for await (const ev of walkModel(graph)) {
      if (ev.kind === 'initializer' && ev.tensor.externalData.length) {
        offsets[ev.tensor.name!] = ev.tensor.externalData.find((e) => e.key === 'offset')!.value;
      }
    }
    expect(offsets.huge).toBe('0');
    expect(Number(offsets.w_quantized)).toBeGreaterThan(2 ** 32);
    expect(Number(offsets.w_quantized) % 64).toBe(0);
  });
});
