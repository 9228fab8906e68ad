/** Inputs for running any test model in onnxruntime-node, from its own metadata. */

import * as ort from 'onnxruntime-node';
import { float32ToFloat16 } from '../../../../src/shared/onnx/quantize';

/**
 * Deterministic inputs from a session's metadata; a symbolic dim takes
 * `symbolic(name)` (default 2).
 */
export function feeds(
  session: ort.InferenceSession,
  symbolic: (name: string) => number = () => 2,
): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const m of session.inputMetadata) {
    if (!m.isTensor) continue;
    const shape = m.shape.map((d) => (typeof d === 'number' ? d : symbolic(d)));
    const n = shape.reduce((a, b) => a * b, 1);
    const f = (i: number) => Math.sin(i * 12.9898 + m.name.length) * 1.5;
    if (m.type === 'float32')
      out[m.name] = new ort.Tensor(
        'float32',
        Float32Array.from({ length: n }, (_, i) => f(i)),
        shape,
      );
    else if (m.type === 'float16') {
      out[m.name] = new ort.Tensor(
        'float16',
        Uint16Array.from({ length: n }, (_, i) => float32ToFloat16(Math.fround(f(i)))),
        shape,
      );
    } else if (m.type === 'int64')
      out[m.name] = new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 37 + 11) % 97)),
        shape,
      );
    else if (m.type === 'int32')
      out[m.name] = new ort.Tensor(
        'int32',
        Int32Array.from({ length: n }, (_, i) => (i * 37 + 11) % 97),
        shape,
      );
    else if (m.type === 'bool')
      out[m.name] = new ort.Tensor(
        'bool',
        Uint8Array.from({ length: n }, (_, i) => (i + 1) % 2),
        shape,
      );
    else throw new Error(`no feed for ${m.type}`);
  }
  return out;
}
