/** A small ONNX model built on the device from nodes alone (opset 17, no weights), as bytes. */

import { concatBytes } from '../concat-bytes';
import { GraphField, ModelField, type NodeProto } from './schema';
import { WireType, type Field } from './wire';
import { encodeOpset, encodeValueInfo, writeModel } from './write';

const bytesField = (no: number, value: Uint8Array): Field => ({ no, wire: WireType.LEN, value });

/** `inputs` and `outputs` as [name, ONNX data type]; shapes are left free. */
export async function weightlessModel(
  name: string,
  nodes: NodeProto[],
  inputs: [string, number][],
  outputs: [string, number][],
): Promise<Uint8Array> {
  const text = new TextEncoder();
  const chunks: Uint8Array[] = [];
  for await (const chunk of writeModel({
    fields: [
      { no: ModelField.irVersion, wire: WireType.VARINT, value: 8n },
      bytesField(ModelField.producerName, text.encode('gesso')),
      bytesField(ModelField.opsetImport, encodeOpset('', 17)),
    ],
    graph: {
      nodes,
      initializers: [],
      fields: [
        bytesField(GraphField.name, text.encode(name)),
        ...inputs.map(([input, type]) =>
          bytesField(GraphField.input, encodeValueInfo(input, type)),
        ),
        ...outputs.map(([output, type]) =>
          bytesField(GraphField.output, encodeValueInfo(output, type)),
        ),
      ],
    },
  }))
    chunks.push(chunk);
  return concatBytes(chunks);
}
