import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { IDENTITY_MODEL, wasmThreads } from '../../../src/engine/ort-runtime';

describe('the runtime', () => {
  it('starts with a model that is one Identity node, float[1] to float[1]', async () => {
    const session = await ort.InferenceSession.create(IDENTITY_MODEL);
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['y']);
    const { y } = await session.run({ x: new ort.Tensor('float32', [2.5], [1]) });
    expect(Array.from(y!.data as Float32Array)).toEqual([2.5]);
    await session.release();
  });

  it('gives a light pack one core fewer than the device has, up to 4, and 1 without isolation', () => {
    expect(wasmThreads(2, true)).toBe(1);
    expect(wasmThreads(8, true)).toBe(4);
    expect(wasmThreads(8, false)).toBe(1);
    expect(wasmThreads(1, true)).toBe(1);
  });

  it('gives a heavy pack every core, up to 4, and 1 without isolation', () => {
    expect(wasmThreads(2, true, true)).toBe(2);
    expect(wasmThreads(3, true, true)).toBe(3);
    expect(wasmThreads(8, true, true)).toBe(4);
    expect(wasmThreads(8, false, true)).toBe(1);
    expect(wasmThreads(1, true, true)).toBe(1);
  });
});
