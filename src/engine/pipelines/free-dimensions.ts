/**
 * Free-dimension overrides: the symbolic dimensions of the public exports
 * (batch_size, height, width, sequence_length, ...) fixed from the pack's
 * image size and tokenizer, so onnxruntime plans memory and picks kernels
 * for the one shape Gesso runs. Names an export does not use are ignored.
 * The UNet's batch stays free: regional prompts run several prompts in one
 * call where the export allows it.
 */

import type { PackManifest } from '../../shared/pack-manifest';
import type { SessionHints } from '../session';

type Hints = Pick<SessionHints, 'freeDimensionOverrides'>;

/** The latent's height and width at the pack's image size. */
export function latentSize(manifest: Pick<PackManifest, 'image' | 'latent'>): {
  height: number;
  width: number;
} {
  const { downscale } = manifest.latent;
  return {
    height: Math.round(manifest.image.height / downscale),
    width: Math.round(manifest.image.width / downscale),
  };
}

export function freeDimensions(manifest: Pick<PackManifest, 'image' | 'latent' | 'tokenizer'>): {
  textEncoder: Hints;
  unet: Hints;
  decoder: Hints;
} {
  const { channels } = manifest.latent;
  const { height: h, width: w } = latentSize(manifest);
  const tokens = manifest.tokenizer.maxLength;
  return {
    textEncoder: {
      freeDimensionOverrides: {
        batch_size: 1,
        batch: 1,
        sequence_length: tokens,
        sequence: tokens,
      },
    },
    unet: {
      freeDimensionOverrides: {
        num_channels: channels,
        channels,
        height: h,
        width: w,
        sequence_length: tokens,
      },
    },
    decoder: {
      freeDimensionOverrides: {
        batch_size: 1,
        batch: 1,
        num_channels_latent: channels,
        height_latent: h,
        width_latent: w,
      },
    },
  };
}
