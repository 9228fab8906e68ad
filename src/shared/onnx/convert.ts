/**
 * Streaming conversion of an ONNX model to a weight-only int8 copy, as
 * models/quantize.py makes it, written as two files: a small graph `.onnx`
 * and one external-data file holding every weight of `externalThreshold`
 * bytes or more, at `alignment`-byte offsets. The input model is read once,
 * as a stream of chunks (external data through `readExternal`); peak memory
 * is a few times the largest tensor, never the whole file. With the block
 * modes, 2-D MatMul weights become com.microsoft MatMulNBits (int4/int8
 * blocks along K, float32 scales) and the other weights int8 per channel as
 * above. The copy computes in float32: every float16 of the source becomes
 * float32 (widen.ts), as quantize.py's widen_graph does.
 *
 * Over 300 lines because the three passes (plan, graph, data) share one
 * streaming state; split, each would need the walker's position passed around.
 */

import { GessoError } from '../errors';
import {
  DataLocation,
  DataType,
  ModelField,
  TensorField,
  elementCount,
  isKnownDataType,
  rawByteLength,
  type NodeProto,
  type TensorHeader,
} from './schema';
import {
  MIN_ELEMENTS,
  QuantizationPlan,
  dequantizeNodes,
  gatherNodes,
  gatheredOnly,
  hasSubgraph,
  intAttribute,
  floatValues,
  quantizeNBits,
  quantizePerChannel,
} from './quantize';
import { decodeOpset, externalRef, throwIfAborted, walkModel, type Payload } from './walk';
import { graphOutputNames } from './graph-info';
import { sliceAttention } from './slice-attention';
import { WireType, corrupt, type Field } from './wire';
import { encodeOpset, writeModel, type TensorParts } from './write';
import { widenFloat16, widenGraphFields, widenNode } from './widen';

export type ConvertMode = 'int8-per-channel' | 'int4-block' | 'int8-block';

export interface ConvertProgress {
  /** Bytes read so far: the model stream plus external data. */
  bytesIn: number;
  /** Bytes handed to the sink so far, both files. */
  bytesOut: number;
  /** Initializers done. */
  tensors: number;
}

/**
 * Receives the output in order, per file. A chunk is only valid until the
 * returned promise settles (buffers are reused): a sink that keeps bytes must
 * copy them (IndexedDB's put() does).
 */
export type ConvertSink = (file: 'graph' | 'data', chunk: Uint8Array) => void | Promise<void>;

export interface ConvertOptions {
  /** The external-data file's name as the graph refers to it (relative to the graph file), e.g. "model.int8.onnx_data". */
  dataLocation: string;
  mode?: ConvertMode;
  /** Reads `length` bytes at `offset` of an external-data file the input model names (relative path). */
  readExternal?: (path: string, offset: number, length: number) => Promise<Uint8Array>;
  /** Weights with fewer elements are kept as they are (quantize.py's --min-elements, 1024). */
  minElements?: number;
  /** Tensors of at least this many bytes go to the data file; smaller ones stay in the graph (1024). */
  externalThreshold?: number;
  /** Offsets in the data file are multiples of this (64). */
  alignment?: number;
  /** Row blocks each self-attention runs in (slice-attention.ts attentionBlocksFor; 1, the default, leaves attention whole). */
  attentionBlocks?: number;
  /** MatMulNBits block size along K, a power of two >= 16 (32). */
  blockSize?: number;
  /** Largest chunk handed to the sink (4 MiB). */
  chunkSize?: number;
  onProgress?: (progress: ConvertProgress) => void;
  signal?: AbortSignal;
}

export interface ConvertResult {
  graphBytes: number;
  dataBytes: number;
  bytesIn: number;
  /** Names of the weights now stored quantized, in quantize.py's order. */
  quantized: string[];
  /** Of those, the ones computed by MatMulNBits (block modes). */
  nbits: string[];
  /** Size in bytes of the largest tensor met (input or output), for memory bounds. */
  largestTensorBytes: number;
  /** Self-attentions now run in row blocks (slice-attention.ts). */
  slicedAttentions: number;
  /** float16 tensors kept unquantized, nodes and value types made float32 (0 for a float32 model). */
  widened: number;
}

const EXTERNAL_WINDOW = 16 << 20;

/** Writes the data file in chunks of `chunkSize`, tracking offsets; one buffer, reused. */
class DataFile {
  offset = 0;
  private readonly buf: Uint8Array;
  private used = 0;
  constructor(
    private readonly emit: (chunk: Uint8Array) => Promise<void>,
    private readonly chunkSize: number,
  ) {
    this.buf = new Uint8Array(chunkSize);
  }

  async write(bytes: Uint8Array): Promise<void> {
    for (let at = 0; at < bytes.length;) {
      if (this.used === 0 && bytes.length - at >= this.chunkSize) {
        // A whole chunk: handed on as it is, no copy.
        const view = bytes.subarray(at, at + this.chunkSize);
        at += this.chunkSize;
        this.offset += this.chunkSize;
        await this.emit(view);
        continue;
      }
      const take = Math.min(bytes.length - at, this.chunkSize - this.used);
      this.buf.set(bytes.subarray(at, at + take), this.used);
      this.used += take;
      at += take;
      this.offset += take;
      if (this.used === this.chunkSize) await this.flush();
    }
  }

  async pad(alignment: number): Promise<void> {
    const rem = this.offset % alignment;
    if (rem) await this.write(new Uint8Array(alignment - rem));
  }

  async flush(): Promise<void> {
    if (!this.used) return;
    const out = this.buf.subarray(0, this.used);
    await this.emit(out);
    this.used = 0;
  }
}

function notStreamable(): GessoError {
  return new GessoError(
    'pack-corrupt',
    'This model lists some graph nodes after its weights, an order the on-device converter cannot read in one pass. Re-save it with the onnx package (onnx.save) and add it again.',
  );
}

function unknownType(name: string, type: number | undefined): GessoError {
  return corrupt(
    type === undefined
      ? `the weight "${name}" has no data type`
      : `the weight "${name}" has an unknown data type (${type})`,
  );
}

/**
 * Converts the model read from `source` (the bytes of model.onnx, in order)
 * and writes the new graph and data files through `sink`.
 */
export async function convertModel(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  sink: ConvertSink,
  options: ConvertOptions,
): Promise<ConvertResult> {
  const mode = options.mode ?? 'int8-per-channel';
  const threshold = options.externalThreshold ?? 1024;
  const alignment = options.alignment ?? 64;
  const blockSize = options.blockSize ?? 32;
  const chunkSize = options.chunkSize ?? 4 << 20;
  const signal = options.signal;
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) {
    throw new GessoError(
      'internal',
      `MatMulNBits block size must be a power of two >= 16, not ${blockSize}.`,
    );
  }

  const progress: ConvertProgress = { bytesIn: 0, bytesOut: 0, tensors: 0 };
  const report = () => options.onProgress?.({ ...progress });
  let graphBytes = 0;
  const data = new DataFile(async (chunk) => {
    throwIfAborted(signal);
    await sink('data', chunk);
    progress.bytesOut += chunk.length;
    report();
  }, chunkSize);

  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source as AsyncIterable<Uint8Array>) {
      progress.bytesIn += chunk.length;
      report();
      yield chunk;
    }
  }

  const modelFields: Field[] = [];
  const graphFields: Field[] = [];
  const nodes: NodeProto[] = [];
  const kept: TensorParts[] = [];
  const added: { order: number; name: string; nodes: NodeProto[]; tensors: TensorParts[] }[] = [];
  const nbits = new Map<string, { bits: 4 | 8; k: number; n: number }>();
  /** Tables gathered row by row (gatherNodes). */
  const gathered = new Set<string>();
  const names = new Set<string>();
  let plan: QuantizationPlan | null = null;
  let rowGathers: boolean | null = null;
  let graphs = 0;
  let defaultOpset: number | null = null;
  let largest = 0;
  let widened = 0;

  const checkOpset = (version: number) => {
    if (version < 13) {
      throw new GessoError(
        'unsupported-operator',
        `This model uses ONNX operator set ${version}; making an int8 copy needs 13 or later (per-channel DequantizeLinear). Re-export the model with opset 13 or newer.`,
      );
    }
  };

  /** Puts a tensor's bytes in the data file (or keeps them inline when small); returns its new form. */
  const place = async (header: TensorHeader, bytes: Uint8Array): Promise<TensorParts> => {
    largest = Math.max(largest, bytes.length);
    if (bytes.length < threshold) {
      return { header, payload: { field: TensorField.rawData, length: bytes.length, bytes } };
    }
    await data.pad(alignment);
    const offset = data.offset;
    await data.write(bytes);
    return { header: externalHeader(header, options.dataLocation, offset, bytes.length) };
  };

  const readExternal = async (path: string, offset: number, length: number) => {
    if (!options.readExternal) {
      throw new GessoError(
        'pack-missing',
        `This model keeps its weights in a separate file ("${path}") that was not found. Download the whole pack again.`,
      );
    }
    const bytes = await options.readExternal(path, offset, length);
    if (bytes.length !== length) {
      throw new GessoError(
        'pack-corrupt',
        `The model's weights file "${path}" is shorter than the model says (${offset + bytes.length} of ${offset + length} bytes). Download the pack again.`,
      );
    }
    progress.bytesIn += length;
    report();
    return bytes;
  };

  const externalLength = (h: TensorHeader, name: string, given: number | undefined) => {
    if (given !== undefined) return given;
    const n = rawByteLength(h.dataType!, elementCount(h.dims));
    if (n === undefined) throw corrupt(`the external weight "${name}" has no length`);
    return n;
  };

  const valuesOf = async (
    h: TensorHeader,
    payload: Payload | null,
    name: string,
  ): Promise<{ field: number; bytes: Uint8Array }> => {
    const ext = externalRef(h);
    if (ext) {
      const length = externalLength(h, name, ext.length);
      return {
        field: TensorField.rawData,
        bytes: await readExternal(ext.location, ext.offset, length),
      };
    }
    if (!payload) throw corrupt(`the weight "${name}" has no values`);
    return { field: payload.field, bytes: await payload.read() };
  };

  for await (const event of walkModel(counted(), { signal })) {
    throwIfAborted(signal);
    switch (event.kind) {
      case 'model-field': {
        const f = event.field;
        modelFields.push(f);
        if (f.no === ModelField.opsetImport && f.wire === WireType.LEN) {
          const opset = decodeOpset(f.value as Uint8Array);
          if (defaultOpset === null && (opset.domain === '' || opset.domain === 'ai.onnx')) {
            defaultOpset = opset.version;
            checkOpset(opset.version);
          }
        }
        break;
      }
      case 'graph-start':
        if (++graphs > 1) throw corrupt('it holds two graphs');
        break;
      case 'graph-field':
        graphFields.push(event.field);
        break;
      case 'node':
        if (plan) throw notStreamable();
        nodes.push(event.node);
        break;
      case 'graph-end':
        break;
      case 'initializer': {
        plan ??= new QuantizationPlan(nodes, options.minElements ?? MIN_ELEMENTS);
        // Control flow bodies may use a table by name: then tables keep their DequantizeLinear.
        rowGathers ??= !nodes.some(hasSubgraph);
        const h = event.tensor;
        const name = h.name ?? '';
        if (h.dataType === undefined || !isKnownDataType(h.dataType)) {
          throw unknownType(name, h.dataType);
        }
        if (names.has(name)) throw corrupt(`two weights are named "${name}"`);
        names.add(name);
        const axis = plan.axisFor(name, h.dataType, h.dims);
        if (axis !== null) {
          const { field, bytes } = await valuesOf(h, event.payload, name);
          largest = Math.max(largest, bytes.length);
          const count = elementCount(h.dims);
          const values = floatValues(h.dataType, field, bytes, count, name);
          const uses = plan.usesOf(name);
          const asNBits =
            mode !== 'int8-per-channel' &&
            h.dims.length === 2 &&
            uses.every(
              (u) => u.node.opType === 'MatMul' && u.k === 1 && (u.node.domain ?? '') === '',
            );
          const tensors: TensorParts[] = [];
          if (asNBits) {
            const [k, n] = h.dims as [number, number];
            const bits = mode === 'int4-block' ? 4 : 8;
            const w = quantizeNBits(values, k, n, bits, blockSize, DataType.FLOAT);
            const blob = (blockSize * bits) / 8;
            tensors.push(
              await place(
                tensorHeader(`${name}_Q${bits}`, [n, w.blocks, blob], DataType.UINT8),
                w.packed,
              ),
              await place(tensorHeader(`${name}_scales`, [n * w.blocks], w.scaleType), w.scale),
            );
            nbits.set(name, { bits, k, n });
            added.push({ order: plan.order(name), name, nodes: [], tensors });
          } else {
            const pc = quantizePerChannel(values, h.dims, axis);
            const q = new Uint8Array(pc.q.buffer, pc.q.byteOffset, pc.q.length);
            // A table only gathered (rows, not the whole table, are dequantized): scales [rows, 1, ...], no zero point.
            const rows = axis === 0 && rowGathers && gatheredOnly(uses);
            const scaleDims = rows ? [pc.channels, ...h.dims.slice(1).map(() => 1)] : [pc.channels];
            tensors.push(
              await place(tensorHeader(`${name}_quantized`, [...h.dims], DataType.INT8), q),
              await place(tensorHeader(`${name}_scale`, scaleDims, DataType.FLOAT), pc.scale),
            );
            if (rows) gathered.add(name);
            else
              tensors.push(
                await place(
                  tensorHeader(`${name}_zero_point`, [pc.channels], DataType.INT8),
                  new Uint8Array(pc.channels),
                ),
              );
            const nodes = rows ? [] : dequantizeNodes(name, axis);
            added.push({ order: plan.order(name), name, nodes, tensors });
          }
        } else if (h.dataType === DataType.FLOAT16) {
          kept.push(await widenThrough(h, event.payload, name));
          widened++;
        } else {
          kept.push(await passThrough(h, event.payload, name));
        }
        progress.tensors++;
        report();
        break;
      }
    }
  }

  /** An initializer kept as it is: its bytes copied to the data file when large, inline otherwise. */
  async function passThrough(
    h: TensorHeader,
    payload: Payload | null,
    name: string,
  ): Promise<TensorParts> {
    const ext = externalRef(h);
    if (ext) {
      const length = externalLength(h, name, ext.length);
      largest = Math.max(largest, Math.min(length, EXTERNAL_WINDOW));
      await data.pad(alignment);
      const offset = data.offset;
      for (let at = 0; at < length; at += EXTERNAL_WINDOW) {
        const n = Math.min(EXTERNAL_WINDOW, length - at);
        await data.write(await readExternal(ext.location, ext.offset + at, n));
      }
      return { header: externalHeader(h, options.dataLocation, offset, length) };
    }
    if (!payload) return { header: h, payload: null };
    if (payload.length >= threshold && payload.field === TensorField.rawData) {
      await data.pad(alignment);
      const offset = data.offset;
      for await (const chunk of payload.chunks()) await data.write(chunk);
      return { header: externalHeader(h, options.dataLocation, offset, payload.length) };
    }
    const bytes = await payload.read();
    const raw = payload.length >= threshold ? typedToRaw(h, payload.field, bytes) : null;
    if (raw) return place(h, raw);
    largest = Math.max(largest, bytes.length);
    return { header: h, payload: { field: payload.field, length: bytes.length, bytes } };
  }

  /** A float16 initializer kept unquantized, as float32: streamed to the data file when large. */
  async function widenThrough(
    h: TensorHeader,
    payload: Payload | null,
    name: string,
  ): Promise<TensorParts> {
    const header: TensorHeader = { ...h, dataType: DataType.FLOAT };
    const count = elementCount(h.dims);
    const ext = externalRef(h);
    if (ext || (payload?.field === TensorField.rawData && count * 4 >= threshold)) {
      const length = ext ? externalLength(h, name, ext.length) : payload!.length;
      if (length !== count * 2)
        throw corrupt(`the weight "${name}" holds ${length} bytes, which does not match its shape`);
      largest = Math.max(largest, Math.min(count * 4, 2 * EXTERNAL_WINDOW));
      await data.pad(alignment);
      const offset = data.offset;
      if (ext) {
        for (let at = 0; at < count * 2; at += EXTERNAL_WINDOW) {
          const n = Math.min(EXTERNAL_WINDOW, count * 2 - at);
          await data.write(
            widenFloat16(await readExternal(ext.location, ext.offset + at, n), n / 2),
          );
        }
      } else {
        // Chunks may split a value: an odd byte waits for the next chunk.
        let carry: number | null = null;
        for await (const chunk of payload!.chunks()) {
          let rest = chunk;
          if (carry !== null && rest.length > 0) {
            await data.write(widenFloat16(Uint8Array.of(carry, rest[0]!), 1));
            rest = rest.subarray(1);
            carry = null;
          }
          const even = rest.length - (rest.length % 2);
          if (even > 0) await data.write(widenFloat16(rest.subarray(0, even), even / 2));
          if (even < rest.length) carry = rest[even]!;
        }
      }
      return { header: externalHeader(header, options.dataLocation, offset, count * 4) };
    }
    if (!payload) return { header, payload: null };
    return place(header, widenFloat16(await payload.read(), count, payload.field, name));
  }

  if (graphs === 0) throw corrupt('it holds no graph');
  if (defaultOpset === null) {
    throw corrupt('it names no ONNX operator set (opset_import)');
  }
  await data.flush();

  // quantize.py's order: new DequantizeLinear nodes first, new tensors after the kept ones.
  added.sort((a, b) => a.order - b.order);
  const initializers = [...kept, ...added.flatMap((a) => a.tensors)];
  const quantizedNodes: NodeProto[] = [
    ...added.flatMap((a) => a.nodes),
    ...nodes.flatMap((n) => {
      const table = n.opType === 'Gather' ? n.input[0] : undefined;
      if (table !== undefined && gathered.has(table)) return gatherNodes(n, table);
      const wide = widenNode(n);
      if (wide !== n) widened++;
      return [rewriteForNBits(wide, nbits, blockSize)];
    }),
  ];
  const outGraphFields = widenGraphFields(graphFields, () => widened++);
  const sliced = sliceAttention(
    quantizedNodes,
    {
      initializerSizes: new Map(
        initializers.map((t) => [t.header.name ?? '', elementCount(t.header.dims)]),
      ),
      outputs: graphOutputNames(outGraphFields),
    },
    options.attentionBlocks ?? 1,
  );
  const outFields = [...modelFields];
  if (nbits.size > 0 && !hasOpset(modelFields, 'com.microsoft')) {
    outFields.push({
      no: ModelField.opsetImport,
      wire: WireType.LEN,
      value: encodeOpset('com.microsoft', 1),
    });
  }
  for await (const chunk of writeModel(
    {
      fields: outFields,
      graph: {
        nodes: sliced.nodes,
        fields: outGraphFields,
        initializers: [...initializers, ...sliced.tensors],
      },
    },
    { chunkSize },
  )) {
    throwIfAborted(signal);
    await sink('graph', chunk);
    graphBytes += chunk.length;
    progress.bytesOut += chunk.length;
    report();
  }
  return {
    graphBytes,
    dataBytes: data.offset,
    bytesIn: progress.bytesIn,
    quantized: added.map((a) => a.name),
    nbits: added.filter((a) => nbits.has(a.name)).map((a) => a.name),
    largestTensorBytes: largest,
    slicedAttentions: sliced.sliced,
    widened,
  };
}

function hasOpset(fields: Field[], domain: string): boolean {
  return fields.some(
    (f) =>
      f.no === ModelField.opsetImport &&
      f.wire === WireType.LEN &&
      decodeOpset(f.value as Uint8Array).domain === domain,
  );
}

function tensorHeader(name: string, dims: number[], dataType: number): TensorHeader {
  return { name, dims, dataType, externalData: [], other: [] };
}

function externalHeader(
  h: TensorHeader,
  location: string,
  offset: number,
  length: number,
): TensorHeader {
  return {
    ...h,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ],
    dataLocation: DataLocation.EXTERNAL,
  };
}

/** A MatMul whose weight became MatMulNBits blocks, as that node; other nodes as they are. */
function rewriteForNBits(
  node: NodeProto,
  nbits: Map<string, { bits: 4 | 8; k: number; n: number }>,
  blockSize: number,
): NodeProto {
  const w = node.opType === 'MatMul' ? node.input[1] : undefined;
  const spec = w === undefined ? undefined : nbits.get(w);
  if (!spec || w === undefined) return node;
  return {
    ...node,
    input: [node.input[0] ?? '', `${w}_Q${spec.bits}`, `${w}_scales`],
    opType: 'MatMulNBits',
    domain: 'com.microsoft',
    attribute: [
      intAttribute('K', spec.k),
      intAttribute('N', spec.n),
      intAttribute('bits', spec.bits),
      intAttribute('block_size', blockSize),
    ],
  };
}

/**
 * Values stored in a typed field (float_data, int32_data, ...) as raw_data
 * bytes, so they can go to the data file; null where there is no such form.
 */
export function typedToRaw(h: TensorHeader, field: number, bytes: Uint8Array): Uint8Array | null {
  const type = h.dataType!;
  const count = elementCount(h.dims);
  const size = rawByteLength(type, count);
  if (size === undefined) return null;
  if (
    (field === TensorField.floatData && (type === DataType.FLOAT || type === DataType.COMPLEX64)) ||
    (field === TensorField.doubleData && (type === DataType.DOUBLE || type === DataType.COMPLEX128))
  ) {
    return bytes.length === size ? bytes : null;
  }
  const width = size / count;
  const isVarint =
    (field === TensorField.int64Data && type === DataType.INT64) ||
    (field === TensorField.uint64Data && (type === DataType.UINT32 || type === DataType.UINT64)) ||
    (field === TensorField.int32Data && Number.isInteger(width) && width <= 4 && width >= 1);
  if (!isVarint) return null;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let i = 0;
  let p = 0;
  while (p < bytes.length && i < count) {
    let v = 0n;
    let shift = 0n;
    let b: number;
    do {
      if (p >= bytes.length) return null;
      b = bytes[p++]!;
      v |= BigInt(b & 0x7f) << shift;
      shift += 7n;
    } while (b >= 0x80);
    if (width === 8) view.setBigUint64(i * 8, BigInt.asUintN(64, v), true);
    else if (width === 4) view.setUint32(i * 4, Number(BigInt.asUintN(32, v)), true);
    else if (width === 2) view.setUint16(i * 2, Number(BigInt.asUintN(16, v)), true);
    else view.setUint8(i, Number(BigInt.asUintN(8, v)));
    i++;
  }
  return i === count && p === bytes.length ? out : null;
}
