/** Settings → Diagnostics: what this device offers, the backend choice, and a model self-test. */

import { useEffect, useState } from 'preact/hooks';
import type { BackendChoice, BackendPreference, Capabilities } from '../../shared/capabilities';
import { describeGpu } from '../../shared/capabilities';
import { getEngine, loadBackendPreference, saveBackendPreference } from '../app/engine';
import { formatBytes } from '../../shared/format';

type Detected = BackendChoice & { capabilities: Capabilities };

function yesNo(value: boolean | null): string {
  return value === null ? 'unknown' : value ? 'yes' : 'no';
}

function Rows({ caps }: { caps: Capabilities }) {
  const gpu = caps.webgpu;
  const rows: [string, string][] = [
    ['WebGPU', gpu ? describeGpu(gpu) : `no: ${caps.webgpuUnavailableReason ?? 'unavailable'}`],
  ];
  if (gpu) {
    rows.push(
      ['Software adapter', yesNo(gpu.isFallbackAdapter || /swiftshader/i.test(gpu.architecture))],
      ['shader-f16', yesNo(gpu.shaderF16)],
      ['Largest buffer', formatBytes(gpu.maxBufferSize)],
      ['Largest storage binding', formatBytes(gpu.maxStorageBufferBindingSize)],
    );
  }
  rows.push(
    ['WebAssembly SIMD', yesNo(caps.wasmSimd)],
    ['WebAssembly threads', yesNo(caps.wasmThreads)],
    ['Cross-origin isolated', yesNo(caps.crossOriginIsolated)],
    ['CPU cores', String(caps.hardwareConcurrency)],
    [
      'Storage',
      caps.storage.quotaBytes === null
        ? 'unavailable'
        : `${formatBytes(caps.storage.usageBytes ?? 0)} used of ${formatBytes(caps.storage.quotaBytes)}`,
    ],
    ['Storage persistent', yesNo(caps.storage.persisted)],
  );
  return (
    <dl class="facts">
      {rows.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Diagnostics() {
  const [preference, setPreference] = useState<BackendPreference>(loadBackendPreference);
  const [detected, setDetected] = useState<Detected | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    getEngine()
      .call('chooseBackend', { preference })
      .then((result) => live && setDetected(result))
      .catch((err: unknown) => live && setError(String(err)));
    return () => {
      live = false;
    };
  }, [preference]);

  const choose = (value: BackendPreference) => {
    saveBackendPreference(value);
    setPreference(value);
  };

  return (
    <section aria-labelledby="diagnostics-title">
      <h2 id="diagnostics-title">Diagnostics</h2>
      <fieldset class="choice">
        <legend>Backend</legend>
        {(['auto', 'webgpu', 'wasm'] as const).map((value) => (
          <label key={value}>
            <input
              type="radio"
              name="backend"
              value={value}
              checked={preference === value}
              onChange={() => choose(value)}
            />
            {value === 'auto' ? 'Automatic' : value === 'webgpu' ? 'WebGPU' : 'WebAssembly'}
          </label>
        ))}
      </fieldset>
      {error && <p role="alert">The engine could not start: {error}</p>}
      {detected ? (
        <>
          <p>
            In use:{' '}
            <strong data-testid="backend-in-use">
              {detected.backend === 'webgpu' ? 'WebGPU' : 'WebAssembly'}
            </strong>
            . {detected.reason}
          </p>
          <Rows caps={detected.capabilities} />
        </>
      ) : (
        !error && <p>Detecting…</p>
      )}
    </section>
  );
}
