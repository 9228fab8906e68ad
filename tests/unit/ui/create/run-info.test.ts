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

  it('keeps the backend, every timing, where the text states lived and the GPU reads per step', () => {
    const run = runInfoOf({
      backend: 'webgpu',
      timings,
      textStatesOnGpu: true,
      tiledDecode: false,
      gpuReadsPerStep: [0, 0, 0, 0],
    });
    expect(run).toEqual({
      backend: 'webgpu',
      timings,
      textStatesOnGpu: true,
      gpuReadsPerStep: [0, 0, 0, 0],
    });
  });

  it('says when the decode ran in tiles to save memory', () => {
    const run = runInfoOf({
      backend: 'wasm',
      timings,
      textStatesOnGpu: false,
      tiledDecode: true,
      gpuReadsPerStep: null,
    });
    expect(run).toEqual({ backend: 'wasm', timings, textStatesOnGpu: false, tiledDecode: true });
  });

  it('copies the per-step times, so the engine output can be reused', () => {
    const run = runInfoOf({
      backend: 'wasm',
      timings,
      textStatesOnGpu: false,
      tiledDecode: false,
      gpuReadsPerStep: null,
    });
    expect(run.timings.unetMs).not.toBe(timings.unetMs);
  });
});
