/**
 * One template weight from its checkpoint tensor: the values in the
 * diffusers element order (OpenCLIP's q, k or v rows taken out of the stacked
 * `in_proj`; an ldm [C, C, 1, 1] holds the same elements as diffusers'
 * [C, C]), LoRAs fused in, transposed where the graph holds a MatMul weight
 * as [in, out], and encoded in the template's data type.
 */

import { GessoError } from '../../shared/errors';
import { float32ToFloat16 } from '../../shared/onnx/quantize';
import type { TemplateEntry } from './template';

const FLOAT16 = 10;
const FLOAT = 1;

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** The entry's values from the source's (all of them, or one third of the rows). */
export function diffusersValues(
  source: Float32Array,
  entry: TemplateEntry,
  third: number | null,
): Float32Array {
  const n = elementCount(entry.shape);
  const values = third === null ? source : source.subarray(third * n, (third + 1) * n);
  if (values.length !== n)
    throw new GessoError(
      'internal',
      `${entry.diffusers}: ${values.length} values where ${n} are needed.`,
    );
  return values;
}

/** The bytes the data file holds for `entry`, from its diffusers-ordered values. */
export function encodeForTemplate(values: Float32Array, entry: TemplateEntry): Uint8Array {
  let ordered = values;
  if (entry.transpose) {
    const [rows, cols] = entry.shape as [number, number];
    ordered = new Float32Array(values.length);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) ordered[c * rows + r] = values[r * cols + c]!;
  }
  const out = new Uint8Array(entry.length);
  const view = new DataView(out.buffer);
  if (entry.dataType === FLOAT16) {
    if (ordered.length * 2 !== entry.length) throw sizeMismatch(entry);
    for (let i = 0; i < ordered.length; i++)
      view.setUint16(i * 2, float32ToFloat16(ordered[i]!), true);
  } else if (entry.dataType === FLOAT) {
    if (ordered.length * 4 !== entry.length) throw sizeMismatch(entry);
    for (let i = 0; i < ordered.length; i++) view.setFloat32(i * 4, ordered[i]!, true);
  } else {
    throw new GessoError(
      'internal',
      `${entry.onnx}: template data type ${entry.dataType} is not a float.`,
    );
  }
  return out;
}

function sizeMismatch(entry: TemplateEntry): GessoError {
  return new GessoError(
    'internal',
    `${entry.onnx}: the template's ${entry.length} bytes do not match its shape.`,
  );
}

/**
 * The fast path for a float16 checkpoint tensor into a float16 weight that
 * no LoRA touches: the same 16-bit values, only sliced and transposed, so no
 * arithmetic (and the same bytes the float path gives: fp16 -> float32 ->
 * fp16 is exact). Null where the source holds NaN (the caller says so).
 */
export function halfBytesForTemplate(
  source: Uint8Array,
  entry: TemplateEntry,
  third: number | null,
): Uint8Array | null {
  const all = new Uint16Array(source.buffer, source.byteOffset, source.byteLength / 2);
  const n = elementCount(entry.shape);
  const values = third === null ? all : all.subarray(third * n, (third + 1) * n);
  if (values.length !== n || n * 2 !== entry.length) throw sizeMismatch(entry);
  for (let i = 0; i < n; i++)
    if ((values[i]! & 0x7c00) === 0x7c00 && values[i]! & 0x3ff) return null;
  const out = new Uint16Array(n);
  if (entry.transpose) {
    const [rows, cols] = entry.shape as [number, number];
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  } else out.set(values);
  return new Uint8Array(out.buffer);
}
