/**
 * Thread counts for the bench's native side: what onnxruntime-node uses by
 * default (measured, not assumed), and the engine's own pipeline on
 * onnxruntime-node with its intra-op thread count fixed, so that wasm and
 * native can be compared at the same number of threads.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { runnerImport } from 'vite';

const taskCount = () => readdirSync('/proc/self/task').length;

/**
 * The intra-op thread count onnxruntime-node gives a session created with
 * default options: the calling thread plus the pool threads the session
 * starts (counted in /proc/self/task, Linux). Null where that cannot be seen.
 */
export async function measureDefaultThreads() {
  if (!existsSync('/proc/self/task')) return null;
  const bytes = readFileSync(resolve('tests/fixtures/models/kernels/conv.onnx'));
  // One session first, so that threads the runtime starts once per process are not counted.
  const warm = await ortNode.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const before = taskCount();
  const session = await ortNode.InferenceSession.create(bytes);
  const started = taskCount() - before;
  await session.release();
  await warm.release();
  return started + 1;
}

/** onnxruntime-node's API with every session created at `threads` intra-op threads. */
export function ortWithThreads(threads) {
  return {
    Tensor: ortNode.Tensor,
    InferenceSession: {
      create: (bytes, options = {}) =>
        ortNode.InferenceSession.create(bytes, { ...options, intraOpNumThreads: threads }),
    },
  };
}

/**
 * The demo pack on the engine's Pipeline (TypeScript, loaded through Vite)
 * with onnxruntime-node at `threads` intra-op threads; the same interface as
 * tests/bench/native.ts's openNative.
 */
export async function openNativeWithThreads(packDir, variantId, threads) {
  const { Pipeline } = (await runnerImport(resolve('src/engine/pipelines/index.ts'))).module;
  const { createOrtSession } = (await runnerImport(resolve('src/engine/ort-session.ts'))).module;
  const manifest = JSON.parse(readFileSync(resolve(packDir, 'manifest.json'), 'utf8'));
  const source = {
    manifest,
    read: async (path) => new Uint8Array(readFileSync(resolve(packDir, path))),
  };
  const variant =
    manifest.variants.find((v) => (variantId ? v.id === variantId : v.default)) ??
    manifest.variants[0];
  const ort = ortWithThreads(threads);
  const started = performance.now();
  const pipeline = await Pipeline.load(source, {
    variant,
    factory: (bytes, label) => createOrtSession(ort, bytes, label, { backend: 'cpu' }),
  });
  const loadMs = performance.now() - started;
  return {
    variant: variant.id,
    threads,
    loadMs,
    async run(steps, prompt, seed) {
      pipeline.clearPromptCache();
      const t = performance.now();
      const result = await pipeline.generate({
        prompt,
        steps,
        guidance: manifest.defaults.guidance,
        seed,
      });
      return { steps, timings: result.timings, wallMs: performance.now() - t };
    },
    release: () => pipeline.release(),
  };
}
