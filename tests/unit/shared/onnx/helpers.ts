/** Shared helpers for the ONNX rewriter tests: chunked sources, sinks, digests as the Python fixture script computes them. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { concatBytes as concat } from '../../../../src/shared/concat-bytes';
import { convertModel, typedToRaw, type ConvertOptions } from '../../../../src/shared/onnx/convert';
import { GraphField, ModelField, TensorField } from '../../../../src/shared/onnx/schema';
import { decodeOpset, externalRef, walkModel } from '../../../../src/shared/onnx/walk';
import type { Field } from '../../../../src/shared/onnx/wire';
import {
  encodeNode,
  writeModel,
  type ModelParts,
  type TensorParts,
} from '../../../../src/shared/onnx/write';

export const ROOT = join(dirname(new URL(import.meta.url).pathname), '../../../..');
export const FIXTURES = join(ROOT, 'tests/fixtures/onnx');

export function* chunked(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

export { concat };

export async function collectAsync(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of it) parts.push(p);
  return concat(parts);
}

/** Reads external data beside `modelPath` from disk. */
export function diskReader(modelPath: string) {
  return async (path: string, offset: number, length: number) =>
    new Uint8Array(readFileSync(join(dirname(modelPath), path)).subarray(offset, offset + length));
}

export interface Converted {
  graph: Uint8Array;
  data: Uint8Array;
}

export async function convertFile(
  path: string,
  options: Partial<ConvertOptions> = {},
  chunkSize = 64 * 1024,
): Promise<Converted & { result: Awaited<ReturnType<typeof convertModel>> }> {
  const graph: Uint8Array[] = [];
  const data: Uint8Array[] = [];
  const result = await convertModel(
    chunked(new Uint8Array(readFileSync(path)), chunkSize),
    (file, chunk) => void (file === 'graph' ? graph : data).push(chunk.slice()),
    { dataLocation: 'model.onnx_data', readExternal: diskReader(path), ...options },
  );
  return { graph: concat(graph), data: concat(data), result };
}

/** Walks a whole model in memory into writer parts (values read into memory). */
export async function parseModel(
  bytes: Uint8Array,
  chunkSize = 4096,
  bufferBelow?: number,
): Promise<ModelParts> {
  const parts: ModelParts = { fields: [] };
  for await (const ev of walkModel(chunked(bytes, chunkSize), { bufferBelow })) {
    if (ev.kind === 'model-field') parts.fields.push(ev.field);
    else if (ev.kind === 'graph-start') parts.graph = { nodes: [], initializers: [], fields: [] };
    else if (ev.kind === 'node') parts.graph!.nodes.push(ev.node);
    else if (ev.kind === 'graph-field') parts.graph!.fields.push(ev.field);
    else if (ev.kind === 'initializer') {
      const p = ev.payload;
      const t: TensorParts = { header: ev.tensor };
      if (p) t.payload = { field: p.field, length: p.length, bytes: await p.read() };
      parts.graph!.initializers.push(t);
    }
  }
  return parts;
}

export async function roundTrip(bytes: Uint8Array, chunkSize = 4096, bufferBelow?: number) {
  return collectAsync(writeModel(await parseModel(bytes, chunkSize, bufferBelow)));
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function framed(items: Uint8Array[]): string {
  const h = createHash('sha256');
  for (const b of items) {
    const n = Buffer.alloc(8);
    n.writeBigUInt64LE(BigInt(b.length));
    h.update(n).update(b);
  }
  return h.digest('hex');
}

export interface Digest {
  opset: [string, number][];
  nodes: string;
  nodeCount: number;
  io: string;
  initializers: [string, number[], number, string][];
}

/** The digest make_onnx_fixtures.py computes, of a model whose external data is `data`. */
export async function digest(graph: Uint8Array, data: Uint8Array | null): Promise<Digest> {
  const parts = await parseModel(graph, 1 << 20);
  const g = parts.graph!;
  const io = (g.fields as Field[])
    .filter(
      (f) =>
        f.no === GraphField.input || f.no === GraphField.output || f.no === GraphField.valueInfo,
    )
    .map((f, i) => [f, i] as const)
    .sort((a, b) => a[0].no - b[0].no || a[1] - b[1])
    .map(([f]) => f.value as Uint8Array);
  return {
    opset: parts.fields
      .filter((f) => f.no === ModelField.opsetImport)
      .map((f) => {
        const o = decodeOpset(f.value as Uint8Array);
        return [o.domain, o.version];
      }),
    nodes: framed(g.nodes.map((n) => (n instanceof Uint8Array ? n : encodeNode(n)))),
    nodeCount: g.nodes.length,
    io: framed(io),
    initializers: g.initializers.map((t) => {
      const h = t.header;
      let raw: Uint8Array;
      const ext = externalRef(h);
      if (ext) raw = data!.subarray(ext.offset, ext.offset + ext.length!);
      else if (!t.payload) raw = new Uint8Array(0);
      else if (t.payload.field === TensorField.rawData) raw = t.payload.bytes!;
      else raw = typedToRaw(h, t.payload.field, t.payload.bytes!)!;
      return [h.name ?? '', h.dims, h.dataType ?? 0, sha256(raw)];
    }),
  };
}
