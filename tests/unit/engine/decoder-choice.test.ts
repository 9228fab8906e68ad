import { describe, expect, it } from 'vitest';
import {
  defaultDecoder,
  FAST_DECODE_OVER_MS,
  SLOW_DECODER_BYTES,
} from '../../../src/engine/decoder-choice';
import { dirPackSource, nodeFactory } from './helpers/node-packs';
import { Pipeline } from '../../../src/engine/pipelines';
import { imageDifference } from '../../helpers/node-webgpu';

describe('the default final decoder', () => {
  const real = { hasFast: true, fullDecoderBytes: 99e6 };
  it('is Full on a GPU and wherever the pack has no fast decoder', () => {
    expect(defaultDecoder({ ...real, backend: 'webgpu' })).toBe('full');
    expect(defaultDecoder({ ...real, backend: 'wasm', hasFast: false })).toBe('full');
  });

  it('is Fast on WebAssembly for a real VAE until a full decode is measured fast here', () => {
    expect(defaultDecoder({ ...real, backend: 'wasm' })).toBe('fast');
    expect(
      defaultDecoder({ ...real, backend: 'wasm', fullDecoderBytes: SLOW_DECODER_BYTES - 1 }),
    ).toBe('full');
    expect(defaultDecoder({ ...real, backend: 'wasm', measuredFullMs: 94_000 })).toBe('fast');
    expect(
      defaultDecoder({ ...real, backend: 'wasm', measuredFullMs: FAST_DECODE_OVER_MS - 1 }),
    ).toBe('full');
  });
});

describe('Fast decode on the demo pack', () => {
  it('makes the final image with the preview decoder and says so in the recipe', async () => {
    const pipeline = await Pipeline.load(dirPackSource('public/packs/demo'), {
      factory: nodeFactory,
      variant: dirPackSource('public/packs/demo').manifest.variants.find((v) => v.id === 'fp32')!,
    });
    expect(pipeline.hasFastDecoder).toBe(true);
    const request = { prompt: 'red heart', seed: 3, steps: 4, preview: false };
    const full = await pipeline.generate({ ...request, decoder: 'full' });
    const fast = await pipeline.generate({ ...request, decoder: 'fast' });
    expect(full.recipe.decoder).toBe('full');
    expect(fast.recipe.decoder).toBe('fast');
    // The same latents through two decoders: close, not equal.
    const difference = imageDifference(full.image, fast.image);
    expect(difference.max).toBeGreaterThan(0);
    expect(difference.mean).toBeLessThan(40);
    await pipeline.release();
  });
});
