/**
 * load.ts: it opens the largest model first (onnxruntime copies a model into
 * its heap while the model's bytes are also in JavaScript, so the biggest
 * copy is best made while the heap holds nothing else), and which decoder
 * decodes in tiles.
 */

import { describe, expect, it } from 'vitest';
import {
  DECODE_TILE_OVERLAP,
  DECODE_TILE_SIZE,
  loadModels,
  type LoadOptions,
} from '../../../src/engine/pipelines/load';
import type { SessionFactory, SessionHints } from '../../../src/engine/session';
import type { PackManifest } from '../../../src/shared/pack-manifest';
import { fixturePack } from './helpers/node-packs';

/** The fixture pack with these declared sizes (bytes) for files whose path starts with a key. */
function withSizes(sizes: Record<string, number>) {
  return (m: PackManifest): PackManifest => ({
    ...m,
    files: m.files.map((f) => {
      const key = Object.keys(sizes).find((k) => f.path.startsWith(k));
      return key ? { ...f, size: sizes[key]! } : f;
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
  const cases: [string, Record<string, number>, string[]][] = [
    [
      'UNet, text encoder, decoder, preview for SD-sized files',
      { unet: 867e6, text_encoder: 341e6, vae_decoder: 99e6, taesd: 5e6 },
      ['image model (UNet)', 'text encoder', 'image decoder', 'preview decoder'],
    ],
    [
      'follows the sizes, not the roles',
      { unet: 10e6, text_encoder: 20e6, vae_decoder: 30e6, taesd: 5e6 },
      ['image decoder', 'text encoder', 'image model (UNet)', 'preview decoder'],
    ],
  ];
  for (const [name, sizes, order] of cases)
    it(name, async () => expect(await openingOrder(withSizes(sizes))).toEqual(order));
});

// -- which decoder load.ts tiles -----------------------------------------------

/** A factory of empty sessions that records each session's hints by label. */
function hintsRecorder() {
  const hints = new Map<string, SessionHints | undefined>();
  const factory: SessionFactory = async (_bytes, label, given) => {
    hints.set(label, given);
    return { label, inputs: [], outputs: [], run: async () => ({}), release: async () => {} };
  };
  return { hints, factory };
}

const at512 = (m: PackManifest): PackManifest => ({ ...m, image: { width: 512, height: 512 } });

async function loadWith(source: ReturnType<typeof fixturePack>, options: Partial<LoadOptions>) {
  const recorder = hintsRecorder();
  const models = await loadModels(source, {
    variant: source.manifest.variants[0]!,
    factory: recorder.factory,
    ...options,
  });
  const latentSize = (label: string) => {
    const o = recorder.hints.get(label)?.freeDimensionOverrides;
    return [o?.height_latent, o?.width_latent];
  };
  return { models, latentSize };
}

describe('load.ts: which decoder decodes in tiles', () => {
  it('tiles the VAE when asked and a separate decoder previews', async () => {
    const { models, latentSize } = await loadWith(fixturePack('lcm', at512), { tiledDecode: true });
    expect(models.previewDecoder).not.toBe(models.decoder);
    expect(models.decoder.tile).toEqual({ size: DECODE_TILE_SIZE, overlap: DECODE_TILE_OVERLAP });
    expect(latentSize('image decoder')).toEqual([DECODE_TILE_SIZE, DECODE_TILE_SIZE]);
    expect(latentSize('preview decoder')).toEqual([64, 64]);
  });

  it('keeps the full size when not asked', async () => {
    const { models, latentSize } = await loadWith(fixturePack('lcm', at512), {});
    expect(models.decoder.tile).toBeUndefined();
    expect(latentSize('image decoder')).toEqual([64, 64]);
  });

  it('keeps the full size when the VAE also previews', async () => {
    const { models, latentSize } = await loadWith(fixturePack('sd-turbo', at512), {
      tiledDecode: true,
    });
    expect(models.previewDecoder).toBe(models.decoder);
    expect(models.decoder.tile).toBeUndefined();
    expect(latentSize('image decoder')).toEqual([64, 64]);
  });

  it('keeps the full size when the image is no larger than a tile', async () => {
    for (const image of [
      { width: 288, height: 288 },
      { width: 768, height: 280 },
    ]) {
      const { models, latentSize } = await loadWith(
        fixturePack('lcm', (m) => ({ ...m, image })),
        { tiledDecode: true },
      );
      expect(models.decoder.tile).toBeUndefined();
      expect(latentSize('image decoder')).toEqual([image.height / 8, image.width / 8]);
    }
  });

  it('tiles a wide image whose short side is a tile', async () => {
    const { models, latentSize } = await loadWith(
      fixturePack('lcm', (m) => ({ ...m, image: { width: 768, height: 288 } })),
      { tiledDecode: true },
    );
    expect(models.decoder.tile).toEqual({ size: DECODE_TILE_SIZE, overlap: DECODE_TILE_OVERLAP });
    expect(latentSize('image decoder')).toEqual([DECODE_TILE_SIZE, DECODE_TILE_SIZE]);
  });
});
