/**
 * Free-dimension overrides: the symbolic dimensions of the public exports
 * (batch_size, height, width, sequence_length, ...) fixed from the pack's
 * image size and tokenizer, so onnxruntime plans memory and picks kernels
 * for the one shape Gesso runs. Names an export does not use are ignored.
 * The UNet's batch stays free: regional prompts run several prompts in one
 * call where the export allows it.
 */

import type { ComponentName, PackManifest } from './pack-manifest';

interface Hints {
  freeDimensionOverrides: Record<string, number>;
}

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

/**
 * Every symbolic dimension of one component at the pack's image size, the
 * batch at 1 (one prompt): what its activations are sized by. The image
 * encoder's `height` and `width` are the image's, not the latent's.
 */
export function componentDimensions(
  manifest: Pick<PackManifest, 'image' | 'latent' | 'tokenizer'>,
  component: ComponentName,
): Record<string, number> {
  const dims = freeDimensions(manifest);
  const one = { batch_size: 1, batch: 1 };
  switch (component) {
    case 'textEncoder':
      return dims.textEncoder.freeDimensionOverrides;
    case 'unet':
    case 'controlUnet':
    case 'controlNet':
      return {
        ...dims.unet.freeDimensionOverrides,
        ...one,
        sequence: manifest.tokenizer.maxLength,
        image_height: manifest.image.height,
        image_width: manifest.image.width,
      };
    case 'vaeDecoder':
    case 'previewDecoder':
      return dims.decoder.freeDimensionOverrides;
    case 'vaeEncoder':
      return {
        ...one,
        num_channels: 3,
        channels: 3,
        height: manifest.image.height,
        width: manifest.image.width,
      };
  }
}
