import { describe, expect, it } from 'vitest';
import { freeDimensions } from '../../../src/shared/free-dimensions';

describe('free-dimension overrides from the pack', () => {
  const sdTurbo = {
    image: { width: 512, height: 512 },
    latent: {
      channels: 4,
      downscale: 8,
      scalingFactor: 0.18215,
      decoderOutput: 'minus-one-to-one' as const,
    },
    tokenizer: { maxLength: 77 } as never,
  };

  it('fixes what the public SD-Turbo export leaves symbolic, as its web demo does', () => {
    const dims = freeDimensions(sdTurbo);
    expect(dims.unet.freeDimensionOverrides).toMatchObject({
      num_channels: 4,
      height: 64,
      width: 64,
      sequence_length: 77,
    });
    expect(dims.textEncoder.freeDimensionOverrides).toMatchObject({ batch_size: 1 });
    expect(dims.decoder.freeDimensionOverrides).toMatchObject({
      batch_size: 1,
      num_channels_latent: 4,
      height_latent: 64,
      width_latent: 64,
    });
  });

  it('leaves the UNet batch free (regional prompts batch several prompts)', () => {
    const unet = freeDimensions(sdTurbo).unet.freeDimensionOverrides!;
    expect(Object.keys(unet)).not.toContain('batch_size');
    expect(Object.keys(unet)).not.toContain('batch');
  });

  it('follows the pack size: a 768x512 pack has 96x64 latents', () => {
    const dims = freeDimensions({ ...sdTurbo, image: { width: 768, height: 512 } });
    expect(dims.unet.freeDimensionOverrides).toMatchObject({ height: 64, width: 96 });
  });
});
