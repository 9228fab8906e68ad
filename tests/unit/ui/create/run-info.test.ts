import { describe, expect, it } from 'vitest';
import { runInfoOf } from '../../../../src/ui/create/run-info';

describe('what the gallery keeps of a run', () => {
  const timings = {
    tokenizeMs: 1,
    textEncodeMs: 2,
    unetMs: [3, 4, 5, 6],
    stepOverheadMs: 7,
    decodeMs: 8,
    totalMs: 40,
  };

  it('keeps the backend, every timing and where the text states lived', () => {
    const run = runInfoOf({
      backend: 'webgpu',
      timings,
      textStatesOnGpu: true,
      tiledDecode: false,
    });
    expect(run).toEqual({ backend: 'webgpu', timings, textStatesOnGpu: true });
  });

  it('says when the decode ran in tiles to save memory', () => {
    const run = runInfoOf({ backend: 'wasm', timings, textStatesOnGpu: false, tiledDecode: true });
    expect(run).toEqual({ backend: 'wasm', timings, textStatesOnGpu: false, tiledDecode: true });
  });

  it('copies the per-step times, so the engine output can be reused', () => {
    const run = runInfoOf({ backend: 'wasm', timings, textStatesOnGpu: false, tiledDecode: false });
    expect(run.timings.unetMs).not.toBe(timings.unetMs);
  });
});
