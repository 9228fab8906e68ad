/** For the Node halves of the benches: the engine's TypeScript loaded by Vite, and a pack's pipeline on onnxruntime-node. */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Loads a module of the repository (TypeScript included) through Vite. */
export async function load(path) {
  const { runnerImport } = await import('vite');
  return (await runnerImport(resolve(path))).module;
}

/** The pack in `packDir` (its default variant) loaded into the engine's Pipeline, on onnxruntime-node's CPU provider. */
export async function loadNodePipeline(packDir) {
  const { Pipeline } = await load('src/engine/pipelines/index.ts');
  const { createOrtSession } = await load('src/engine/ort-session.ts');
  const ort = await import('onnxruntime-node');
  const manifest = JSON.parse(readFileSync(resolve(packDir, 'manifest.json'), 'utf8'));
  const source = {
    manifest,
    read: async (path) => new Uint8Array(readFileSync(resolve(packDir, path))),
  };
  const variant = manifest.variants.find((v) => v.default) ?? manifest.variants[0];
  const pipeline = await Pipeline.load(source, {
    variant,
    factory: (bytes, name) => createOrtSession(ort, bytes, name, { backend: 'cpu' }),
  });
  return { pipeline, manifest, source, variant };
}
