/**
 * A model file's graph with its weights left where they are. Every
 * initializer whose raw values are at least `minBytes` becomes an
 * external-data reference into the model file itself (location: the file's
 * own name; offset: where its values start in it), so onnxruntime parses a
 * graph of a few MB and reads each weight from the file as it needs it,
 * through the same external-data path a `model.onnx_data` file takes. Nothing
 * else changes: weights already external keep their references, and small
 * ones stay inline.
 *
 * The walk reads only the graph's own bytes when the file can be read at any
 * offset (`fileChunks` over a Seekable view): the weights are skipped unread.
 */

import { concatBytes } from '../concat-bytes';
import { DataLocation, TensorField, type TensorHeader } from './schema';
import { walkModel, type WalkOptions } from './walk';
import type { Seekable } from './wire';
import { writeModel, type GraphParts, type ModelParts, type TensorParts } from './write';

/** What a file must offer: its size and a copy of any byte range (a Uint8Array, or store/disk-bytes.ts's view of one). */
export interface RandomAccessBytes {
  readonly byteLength: number;
  subarray(start: number, end: number): Uint8Array;
}

/** Windows small enough that a weight's header read does not pull much of the weight with it. */
const WINDOW = 64 * 1024;

/** `file`'s bytes in windows from the start, jumping where the walk skips. */
export function fileChunks(
  file: RandomAccessBytes,
  window = WINDOW,
): AsyncIterable<Uint8Array> & Seekable {
  let at = 0;
  return {
    seek(offset: number) {
      at = offset;
    },
    [Symbol.asyncIterator]() {
      return {
        next: async (): Promise<IteratorResult<Uint8Array>> => {
          if (at >= file.byteLength) return { done: true, value: undefined };
          const end = Math.min(file.byteLength, at + window);
          const value = file.subarray(at, end);
          at = end;
          return { done: false, value };
        },
      };
    },
  };
}

export interface ByReference {
  /** The model to hand onnxruntime in place of the file. */
  graph: Uint8Array;
  /** Weights now read from the file by reference. */
  weights: number;
  /** Their bytes. */
  weightBytes: number;
}

export async function weightsByReference(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  fileName: string,
  options: WalkOptions & { minBytes: number },
): Promise<ByReference> {
  const fields: ModelParts['fields'] = [];
  let graph: GraphParts | undefined;
  const initializers: {
    tensor: TensorHeader;
    parts: TensorParts;
    offset?: number;
    length?: number;
  }[] = [];
  // Weights from minBytes up are walked past unread (bufferBelow would read smaller ones whole).
  for await (const event of walkModel(chunks, { bufferBelow: options.minBytes - 1, ...options })) {
    switch (event.kind) {
      case 'model-field':
        fields.push(event.field);
        break;
      case 'graph-start':
        graph = { nodes: [], initializers: [], fields: [] };
        break;
      case 'graph-field':
        graph!.fields.push(event.field);
        break;
      case 'node':
        graph!.nodes.push(event.node);
        break;
      case 'initializer': {
        const { tensor, payload } = event;
        const inFile =
          payload &&
          payload.field === TensorField.rawData &&
          payload.offset >= 0 &&
          payload.length >= options.minBytes &&
          tensor.dataLocation !== DataLocation.EXTERNAL;
        if (inFile) {
          // Left unread: the walk skips it.
          initializers.push({
            tensor,
            parts: { header: tensor },
            offset: payload.offset,
            length: payload.length,
          });
        } else {
          const bytes = payload ? (payload.bytes ?? (await payload.read())) : null;
          initializers.push({
            tensor,
            parts: {
              header: tensor,
              payload: payload && { field: payload.field, length: bytes!.length, bytes: bytes! },
            },
          });
        }
        break;
      }
      case 'graph-end':
        break;
    }
  }
  let weights = 0;
  let weightBytes = 0;
  // Headers are complete only now (fields stored after a weight's values are added as the walk passes them).
  for (const entry of initializers) {
    if (entry.offset === undefined) continue;
    weights++;
    weightBytes += entry.length!;
    entry.parts.header = {
      ...entry.tensor,
      dataLocation: DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: fileName },
        { key: 'offset', value: String(entry.offset) },
        { key: 'length', value: String(entry.length) },
      ],
    };
  }
  if (graph) graph.initializers = initializers.map((entry) => entry.parts);
  const out: Uint8Array[] = [];
  for await (const chunk of writeModel({ fields, ...(graph ? { graph } : {}) })) out.push(chunk);
  return { graph: concatBytes(out), weights, weightBytes };
}
