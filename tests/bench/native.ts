/**
 * The engine's own pipeline on onnxruntime-node (native CPU), loaded by
 * run.mjs through Vite's runnerImport so it uses the same TypeScript sources
 * as the worker.
 */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { createOrtSession, type OrtApi } from '../../src/engine/ort-session';
import { Pipeline, type StageTimings } from '../../src/engine/pipelines';
import type { PackManifest } from '../../src/shared/pack-manifest';
import type { PackSource } from '../../src/shared/pack-source';

export interface NativeRun {
  steps: number;
  timings: StageTimings;
  wallMs: number;
}

function dirSource(dir: string): PackSource {
  const manifest = JSON.parse(readFileSync(resolve(dir, 'manifest.json'), 'utf8')) as PackManifest;
  return { manifest, read: async (path) => new Uint8Array(readFileSync(resolve(dir, path))) };
}

export interface NativeEngine {
  variant: string;
  loadMs: number;
  /** Resident memory growth from before loading to the process's peak so far (includes the bench harness's own growth). */
  peakRssGrowthBytes(): number;
  run(steps: number, prompt: string, seed: number): Promise<NativeRun>;
  release(): Promise<void>;
}

/** Loads the pack's default variant on onnxruntime-node; each run re-encodes its prompt. */
export async function openNative(packDir: string, variantId?: string): Promise<NativeEngine> {
  const source = dirSource(packDir);
  const variant =
    source.manifest.variants.find((v) => (variantId ? v.id === variantId : v.default)) ??
    source.manifest.variants[0]!;
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  const pipeline = await Pipeline.load(source, {
    variant,
    factory: (bytes, label) =>
      createOrtSession(ortNode as unknown as OrtApi, bytes, label, { backend: 'cpu' }),
  });
  const loadMs = performance.now() - started;
  return {
    variant: variant.id,
    loadMs,
    peakRssGrowthBytes: () => process.resourceUsage().maxRSS * 1024 - rssBefore,
    async run(steps, prompt, seed) {
      pipeline.clearPromptCache();
      const t = performance.now();
      const result = await pipeline.generate({
        prompt,
        steps,
        guidance: source.manifest.defaults.guidance,
        seed,
      });
      return { steps, timings: result.timings, wallMs: performance.now() - t };
    },
    release: () => pipeline.release(),
  };
}
