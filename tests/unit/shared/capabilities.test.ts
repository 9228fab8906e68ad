import { describe, expect, it } from 'vitest';
import {
  chooseBackend,
  describeLimitations,
  isSoftwareAdapter,
  type Capabilities,
  type GpuInfo,
} from '../../../src/shared/capabilities';

const realGpu: GpuInfo = {
  vendor: 'qualcomm',
  architecture: 'adreno-7xx',
  description: '',
  isFallbackAdapter: false,
  shaderF16: false,
  maxBufferSize: 256 * 2 ** 20,
  maxStorageBufferBindingSize: 128 * 2 ** 20,
};

const swiftshader: GpuInfo = {
  vendor: 'google',
  architecture: 'swiftshader',
  description: '',
  isFallbackAdapter: false,
  shaderF16: false,
  maxBufferSize: 2 ** 30,
  maxStorageBufferBindingSize: 2 ** 30,
};

function caps(webgpu: GpuInfo | null, extra: Partial<Capabilities> = {}): Capabilities {
  return {
    webgpu,
    webgpuUnavailableReason: webgpu ? null : 'this browser has no WebGPU',
    wasmSimd: true,
    wasmThreads: true,
    crossOriginIsolated: true,
    hardwareConcurrency: 8,
    storage: { quotaBytes: 10e9, usageBytes: 0, persisted: false },
    ...extra,
  };
}

describe('chooseBackend', () => {
  it('prefers a real GPU', () => {
    expect(chooseBackend(caps(realGpu), 'auto').backend).toBe('webgpu');
  });

  it('uses a real GPU without shader-f16 and with tiny limits (variant choice is per pack)', () => {
    const tiny = {
      ...realGpu,
      maxBufferSize: 64 * 2 ** 20,
      maxStorageBufferBindingSize: 32 * 2 ** 20,
    };
    expect(chooseBackend(caps(tiny), 'auto').backend).toBe('webgpu');
  });

  it('avoids a software adapter unless forced', () => {
    const auto = chooseBackend(caps(swiftshader), 'auto');
    expect(auto.backend).toBe('wasm');
    expect(auto.reason).toMatch(/software/);
    expect(chooseBackend(caps(swiftshader), 'webgpu').backend).toBe('webgpu');
  });

  it('treats a fallback adapter as software whatever its name', () => {
    const fallback = { ...realGpu, isFallbackAdapter: true };
    expect(chooseBackend(caps(fallback), 'auto').backend).toBe('wasm');
  });

  it('falls back to wasm without WebGPU, even when WebGPU is forced, and says why', () => {
    expect(chooseBackend(caps(null), 'auto')).toEqual({
      backend: 'wasm',
      reason: 'WebAssembly, because this browser has no WebGPU.',
    });
    const forced = chooseBackend(caps(null), 'webgpu');
    expect(forced.backend).toBe('wasm');
    expect(forced.reason).toMatch(/you chose WebGPU, but this browser has no WebGPU/);
  });

  it('honours a forced wasm choice on a real GPU', () => {
    expect(chooseBackend(caps(realGpu), 'wasm').backend).toBe('wasm');
  });
});

describe('isSoftwareAdapter', () => {
  it.each([
    ['swiftshader', true],
    ['llvmpipe', true],
    ['Microsoft Basic Render Driver', true],
    ['apple-m2', false],
    ['adreno-7xx', false],
  ])('%s -> %s', (architecture, expected) => {
    expect(isSoftwareAdapter({ ...realGpu, architecture })).toBe(expected);
  });
});

describe('describeLimitations', () => {
  it('is silent on a fully capable browser', () => {
    expect(describeLimitations(caps(realGpu), true)).toEqual([]);
  });

  it('says one sentence per limitation', () => {
    const notes = describeLimitations(
      caps(null, {
        wasmThreads: false,
        crossOriginIsolated: true,
        storage: { quotaBytes: null, usageBytes: null, persisted: null },
      }),
      false,
    );
    expect(notes).toHaveLength(4);
    expect(notes[0]).toMatch(/offline/);
    expect(notes[1]).toMatch(/WebAssembly, because this browser has no WebGPU/);
    expect(notes[2]).toMatch(/one core/);
    expect(notes[3]).toMatch(/Storage is not available/);
    for (const note of notes) expect(note.trim().endsWith('.')).toBe(true);
  });

  it('tells a non-isolated page that a reload fixes threads', () => {
    const notes = describeLimitations(
      caps(realGpu, { wasmThreads: false, crossOriginIsolated: false }),
      true,
    );
    expect(notes).toEqual([expect.stringMatching(/reload once/)]);
  });
});
