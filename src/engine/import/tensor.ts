/**
 * One template weight from its checkpoint tensor: the values in the
 * diffusers element order (OpenCLIP's q, k or v rows taken out of the stacked
 * `in_proj`; an ldm [C, C, 1, 1] holds the same elements as diffusers'
 * [C, C]), LoRAs fused in, transposed where the graph holds a MatMul weight
 * as [in, out], and encoded in the template's data type.
 */

import { GessoError } from '../../shared/errors';
import { bytesOfHalves, floatsToHalves, transpose } from './kernels';
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
  const [rows, cols] = entry.shape as [number, number];
  if (entry.dataType === FLOAT16) {
    if (values.length * 2 !== entry.length) throw sizeMismatch(entry);
    const halves = floatsToHalves(values);
    return bytesOfHalves(
      entry.transpose ? transpose(halves, rows, cols, new Uint16Array(halves.length)) : halves,
    );
  } else if (entry.dataType === FLOAT) {
    if (values.length * 4 !== entry.length) throw sizeMismatch(entry);
    const ordered = entry.transpose
      ? transpose(values, rows, cols, new Float32Array(values.length))
      : values;
    const out = new Uint8Array(entry.length);
    const view = new DataView(out.buffer);
    for (let i = 0; i < ordered.length; i++) view.setFloat32(i * 4, ordered[i]!, true);
    return out;
  } else {
    throw new GessoError(
      'internal',
      `${entry.onnx}: template data type ${entry.dataType} is not a float.`,
    );
  }
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
    transpose(values, rows, cols, out);
  } else out.set(values);
  return new Uint8Array(out.buffer);
}
