/**
 * load.ts opens the largest model first: onnxruntime copies a model into its
 * heap while the model's bytes are also in JavaScript, so the biggest copy is
 * best made while the heap holds nothing else.
 */

import { describe, expect, it } from 'vitest';
import { loadModels } from '../../../src/engine/pipelines/load';
import type { SessionFactory } from '../../../src/engine/session';
import type { PackManifest } from '../../../src/shared/pack-manifest';
import { fixturePack } from './helpers/node-packs';

/** The fixture pack with these declared sizes (bytes) for files whose path starts with a key. */
function withSizes(sizes: Record<string, number>) {
  return (m: PackManifest): PackManifest => ({
    ...m,
    files: m.files.map((f) => {
      const key = Object.keys(sizes).find((k) => f.path.startsWith(k));
      return key ? { ...f, size: sizes[key] } : f;
    }),
  });
}

async function openingOrder(patch: (m: PackManifest) => PackManifest): Promise<string[]> {
  const labels: string[] = [];
  const factory: SessionFactory = async (_bytes, label) => {
    labels.push(label);
    return { label, inputs: [], outputs: [], run: async () => ({}), release: async () => {} };
  };
  const source = fixturePack('lcm', patch);
  await loadModels(source, { variant: source.manifest.variants[0]!, factory });
  return labels;
}

describe('load.ts opens models largest first', () => {
  it('UNet, text encoder, decoder, preview for SD-sized files', async () => {
    const order = await openingOrder(
      withSizes({ unet: 867e6, text_encoder: 341e6, vae_decoder: 99e6, taesd: 5e6 }),
    );
    expect(order).toEqual([
      'image model (UNet)',
      'text encoder',
      'image decoder',
      'preview decoder',
    ]);
  });

  it('follows the sizes, not the roles', async () => {
    const order = await openingOrder(
      withSizes({ unet: 10e6, text_encoder: 20e6, vae_decoder: 30e6, taesd: 5e6 }),
    );
    expect(order).toEqual([
      'image decoder',
      'text encoder',
      'image model (UNet)',
      'preview decoder',
    ]);
  });
});
