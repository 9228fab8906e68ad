/// <reference lib="webworker" />
/** Engine worker entry: all inference happens here, never on the UI thread. */

import { chooseBackend } from '../shared/capabilities';
import type { Capabilities } from '../shared/capabilities';
import type { EngineApi, Float32TensorData } from './api';
import { detectCapabilities } from './detect';
import { PackSlot } from './pack-slot';
import { serve, Transfer } from '../shared/rpc/host';
import { loadRuntime, wasmThreads } from './ort-runtime';
import { convertStoredVariant, removeStoredVariants } from './convert/service';
import {
  applyStoredLora,
  importStoredModel,
  inspectModelFile,
  removeStoredLora,
} from './import/service';

let capabilities: Promise<Readonly<Capabilities>> | null = null;
const detectOnce = () => (capabilities ??= detectCapabilities());
const engine = new PackSlot(detectOnce);

/** The runtime this device already uses (its build is the one kept offline), for the LoRA fusion's matrix product. */
const fusionRuntime = async () =>
  loadRuntime(
    chooseBackend(await detectOnce(), 'auto').backend,
    wasmThreads(navigator.hardwareConcurrency ?? 1, globalThis.crossOriginIsolated, true),
  );

serve<EngineApi>(self as unknown as DedicatedWorkerGlobalScope, {
  detect: () => detectOnce(),

  chooseBackend: async ({ preference }) => {
    const caps = await detectOnce();
    return { ...chooseBackend(caps, preference), capabilities: caps };
  },

  runModel: async ({ model, backend, feeds, repeats = 1 }, { signal }) => {
    const ort = await loadRuntime(backend);
    signal.throwIfAborted();
    const session = await ort.InferenceSession.create(model, {
      executionProviders: [backend === 'webgpu' ? 'webgpu' : 'wasm'],
    });
    try {
      const inputs: Record<string, InstanceType<typeof ort.Tensor>> = {};
      for (const [name, tensor] of Object.entries(feeds))
        inputs[name] = new ort.Tensor('float32', tensor.data, tensor.dims);
      const times: number[] = [];
      const timedRun = async () => {
        const start = performance.now();
        const out = await session.run(inputs);
        times.push(performance.now() - start);
        return out;
      };
      // Warm-up first when timing: the first run's allocations are not the model's cost.
      if (repeats > 1) disposeAll(await session.run(inputs));
      let results = await timedRun();
      for (let i = 1; i < repeats; i++) {
        signal.throwIfAborted();
        disposeAll(results);
        results = await timedRun();
      }
      const milliseconds = [...times].sort((a, b) => a - b)[times.length >> 1]!;
      const outputs: Record<string, Float32TensorData> = {};
      const transfer: Transferable[] = [];
      for (const [name, tensor] of Object.entries(results)) {
        const data = new Float32Array((await tensor.getData()) as Float32Array);
        outputs[name] = { dims: [...tensor.dims], data };
        transfer.push(data.buffer);
        tensor.dispose();
      }
      return new Transfer({ backend, outputs, milliseconds }, transfer);
    } finally {
      await session.release();
    }
  },

  loadPack: (args, { signal, progress }) => engine.load(args, signal, progress),

  generate: async (args, { signal, progress }) => {
    const output = await engine.generate(args, signal, (step) =>
      progress(step, step.preview ? [step.preview.data.buffer] : []),
    );
    return new Transfer(output, [output.image.data.buffer]);
  },

  explain: async (args, { signal, progress }) => {
    const output = await engine.explain(args, signal, (step) =>
      progress(step, step.preview ? [step.preview.data.buffer] : []),
    );
    const maps = output.explanation.prompts.flatMap((p) => p.words.map((w) => w.map.buffer));
    return new Transfer(output, [output.image.data.buffer, ...maps]);
  },

  countTokens: ({ packId, prompt }) => engine.countTokens(packId, prompt),

  unloadPack: () => engine.unload(),

  convertVariant: (args, { signal, progress }) => convertStoredVariant(args, signal, progress),

  removeVariants: (args) => removeStoredVariants(args),

  inspectModel: (args) => inspectModelFile(args),

  importModel: (args, { signal, progress }) =>
    importStoredModel(args, signal, progress, detectOnce, fusionRuntime),

  applyLora: (args, { signal }) => applyStoredLora(args, signal, fusionRuntime),

  removeLora: (args) => removeStoredLora(args),
});

function disposeAll(results: Record<string, { dispose(): void }>): void {
  for (const tensor of Object.values(results)) tensor.dispose();
}
