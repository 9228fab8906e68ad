/** Test helper: an exported model's fixed latent size made symbolic, so onnxruntime runs it at other sizes. */

import {
  DimensionField,
  GraphField,
  ModelField,
  TensorShapeField,
  TensorTypeField,
  TypeProtoField,
  ValueInfoField,
} from '../../../../src/shared/onnx/schema';
import { decodeFields, encodeFields, WireType, type Field } from '../../../../src/shared/onnx/wire';

/** A ValueInfo with dims 2 and 3 of its tensor shape made symbolic (`names`). */
function freeSpatialDims(valueInfo: Uint8Array, names: [string, string]): Uint8Array {
  const edit = (bytes: Uint8Array, no: number, change: (inner: Uint8Array) => Uint8Array) =>
    encodeFields(
      decodeFields(bytes).map((f) =>
        f.no === no && f.value instanceof Uint8Array ? { ...f, value: change(f.value) } : f,
      ),
    );
  const symbolic = (name: string): Field[] => [
    { no: DimensionField.dimParam, wire: WireType.LEN, value: new TextEncoder().encode(name) },
  ];
  return edit(valueInfo, ValueInfoField.type, (type) =>
    edit(type, TypeProtoField.tensorType, (tensor) =>
      edit(tensor, TensorTypeField.shape, (shape) => {
        let index = 0;
        return encodeFields(
          decodeFields(shape).map((f) => {
            if (f.no !== TensorShapeField.dim) return f;
            const name = index === 2 ? names[0] : index === 3 ? names[1] : null;
            index++;
            return name ? { ...f, value: encodeFields(symbolic(name)) } : f;
          }),
        );
      }),
    ),
  );
}

/** The demo decoder is exported for 8x8 latents only; with symbolic input and output sizes its graph runs at others. */
export function withFreeLatentSize(model: Uint8Array): Uint8Array {
  return encodeFields(
    decodeFields(model).map((f) => {
      if (f.no !== ModelField.graph || !(f.value instanceof Uint8Array)) return f;
      const graph = decodeFields(f.value)
        // Intermediate shapes recorded for 8x8 would contradict other sizes.
        .filter((g) => g.no !== GraphField.valueInfo)
        .map((g) => {
          if (!(g.value instanceof Uint8Array)) return g;
          if (g.no === GraphField.input)
            return { ...g, value: freeSpatialDims(g.value, ['height_latent', 'width_latent']) };
          if (g.no === GraphField.output)
            return { ...g, value: freeSpatialDims(g.value, ['height', 'width']) };
          return g;
        });
      return { ...f, value: encodeFields(graph) };
    }),
  );
}
