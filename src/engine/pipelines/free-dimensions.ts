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

export function freeDimensions(manifest: Pick<PackManifest, 'image' | 'latent' | 'tokenizer'>): {
  textEncoder: Hints;
  unet: Hints;
  decoder: Hints;
} {
  const { channels, downscale } = manifest.latent;
  const h = Math.round(manifest.image.height / downscale);
  const w = Math.round(manifest.image.width / downscale);
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
