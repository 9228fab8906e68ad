/**
 * createOrtSession's `consumeBytes`: the model's bytes (and external data)
 * are freed once the session holds its copy, and only then.
 */

import * as ortNode from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createOrtSession, detachBytes, type OrtApi } from '../../../src/engine/ort-session';

/** A Uint8Array over its own buffer, whose `transfer` (Chromium has it; Node 20 does not) is recorded. */
function transferable(length: number, calls: number[]): Uint8Array {
  const buffer = new ArrayBuffer(length) as ArrayBuffer & { transfer?: (n: number) => ArrayBuffer };
  buffer.transfer = (n: number) => {
    calls.push(n);
    return new ArrayBuffer(n);
  };
  return new Uint8Array(buffer);
}

/** An onnxruntime stand-in that records the options each session was created with. */
function recordingOrt(created: Record<string, unknown>[]): OrtApi {
  return {
    InferenceSession: {
      create: async (_bytes: Uint8Array, options: Record<string, unknown>) => {
        created.push(options);
        return { inputMetadata: [], outputMetadata: [], release: async () => undefined };
      },
    },
    Tensor: ortNode.Tensor,
  } as unknown as OrtApi;
}

describe('createOrtSession consuming its bytes', () => {
  it('detaches only a view that covers its whole buffer', () => {
    const calls: number[] = [];
    expect(detachBytes(transferable(16, calls))).toBe(true);
    expect(calls).toEqual([0]);
    expect(detachBytes(transferable(16, calls).subarray(4))).toBe(false);
    expect(detachBytes(new Uint8Array(transferable(16, calls).buffer, 0, 8))).toBe(false);
    expect(calls).toEqual([0]);
    expect(detachBytes(new Uint8Array(new SharedArrayBuffer(8)))).toBe(false);
  });

  it('hands the model and its external data back to the browser once the session exists', async () => {
    const calls: number[] = [];
    const created: Record<string, unknown>[] = [];
    const model = transferable(32, calls);
    const weights = transferable(64, calls);
    await createOrtSession(recordingOrt(created), model, 'UNet', {
      externalData: [{ path: 'model.onnx_data', data: weights }],
      consumeBytes: true,
    });
    expect(calls).toEqual([0, 0]);

    const kept: number[] = [];
    await createOrtSession(recordingOrt(created), transferable(32, kept), 'UNet', {});
    expect(kept).toEqual([]);
    expect(created).toHaveLength(2);
  });
});
