/**
 * The photo a run can start from (img2img): decoding a chosen file upright
 * and at a workable size, refusing what cannot be used with a sentence the
 * person can act on, cropping it to the run's size, and a small preview. The
 * photo stays on the device: nothing here sends it anywhere.
 */

import { GessoError } from '../../../shared/errors';
import { formatBytes } from '../../../shared/format';
import {
  canvasToBlob,
  context2d,
  makeCanvas,
  type AnyCanvas,
  type RgbaImage,
} from '../../../shared/rgba';

export interface StartImageChoice {
  /** Upright, at most DECODE_MAX a side. Owned by the choice: close it when the choice goes. */
  bitmap: ImageBitmap;
  /** Object URL of a small copy for the preview: revoke it when the choice goes. */
  previewUrl: string;
  /** The file's name, as chosen. */
  name: string;
  /** How much the model may change the photo: 0 keeps it, 1 ignores it. */
  strength: number;
}

export const DEFAULT_STRENGTH = 0.5;

/** Longest side kept after decoding: more than any pack's output, far less memory than a phone photo. */
export const DECODE_MAX = 1024;
export const MAX_FILE_BYTES = 40 * 1000 * 1000;
export const MAX_PIXELS = 50 * 1000 * 1000;
/** Longest side of the preview image (a 96 CSS px preview on a 3x screen, roughly). */
const PREVIEW_MAX = 256;

const UNREADABLE = 'That file is not an image Gesso can read. Choose a photo (JPEG, PNG or WebP).';

interface Size {
  width: number;
  height: number;
}

/** The size scaled down (never up) so its longest side is at most `max`. */
function within(width: number, height: number, max: number): Size {
  const scale = Math.min(1, max / Math.max(width, height));
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

function megapixels(pixels: number): string {
  const whole = Math.round(pixels / 1e6);
  // Near the limit a whole number could read "50", which is not over it.
  return whole > MAX_PIXELS / 1e6 ? String(whole) : String(Math.ceil(pixels / 1e5) / 10);
}

/** Draws `bitmap` onto a new canvas of `size`, over white so every pixel is opaque. */
function drawOnCanvas(
  bitmap: ImageBitmap,
  size: Size,
  source: { sx: number; sy: number; sw: number; sh: number } = {
    sx: 0,
    sy: 0,
    sw: bitmap.width,
    sh: bitmap.height,
  },
): AnyCanvas {
  const canvas = makeCanvas(size.width, size.height);
  const context = context2d(canvas);
  context.fillStyle = '#fff';
  context.fillRect(0, 0, size.width, size.height);
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = 'high';
  context.drawImage(
    bitmap,
    source.sx,
    source.sy,
    source.sw,
    source.sh,
    0,
    0,
    size.width,
    size.height,
  );
  return canvas;
}

async function shrink(bitmap: ImageBitmap, size: Size): Promise<ImageBitmap> {
  try {
    const small = await createImageBitmap(bitmap, {
      resizeWidth: size.width,
      resizeHeight: size.height,
      resizeQuality: 'high',
    });
    if (small.width === size.width && small.height === size.height) return small;
    small.close();
  } catch {
    // Some browsers reject or ignore the resize options: scale on a canvas instead.
  }
  return createImageBitmap(drawOnCanvas(bitmap, size));
}

/**
 * The chosen file as an upright bitmap (EXIF orientation applied) at most
 * DECODE_MAX a side, or a GessoError('invalid-image') saying what to choose instead.
 */
export async function decodePhoto(file: File): Promise<ImageBitmap> {
  if (file.size === 0) throw new GessoError('invalid-image', 'That file is empty. Choose a photo.');
  if (file.size > MAX_FILE_BYTES)
    throw new GessoError(
      'invalid-image',
      `That file is ${formatBytes(file.size)}; choose a photo under ${MAX_FILE_BYTES / 1e6} MB.`,
    );
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch (cause) {
    throw new GessoError('invalid-image', UNREADABLE, { cause });
  }
  const pixels = bitmap.width * bitmap.height;
  if (pixels === 0) {
    bitmap.close();
    throw new GessoError('invalid-image', UNREADABLE);
  }
  if (pixels > MAX_PIXELS) {
    bitmap.close();
    throw new GessoError(
      'invalid-image',
      `That photo is ${megapixels(pixels)} megapixels; choose one under ${MAX_PIXELS / 1e6} megapixels.`,
    );
  }
  const size = within(bitmap.width, bitmap.height, DECODE_MAX);
  if (size.width === bitmap.width && size.height === bitmap.height) return bitmap;
  try {
    return await shrink(bitmap, size);
  } finally {
    bitmap.close();
  }
}

/**
 * The centred source rectangle with the destination's aspect ratio (CSS
 * object-fit: cover): whole pixels, inside the source.
 */
export function coverCrop(
  srcWidth: number,
  srcHeight: number,
  dstWidth: number,
  dstHeight: number,
): { sx: number; sy: number; sw: number; sh: number } {
  if (!(srcWidth > 0 && srcHeight > 0 && dstWidth > 0 && dstHeight > 0))
    throw new RangeError(
      `coverCrop needs positive sizes, not ${srcWidth}x${srcHeight} into ${dstWidth}x${dstHeight}.`,
    );
  const scale = Math.min(srcWidth / dstWidth, srcHeight / dstHeight);
  const sw = Math.min(srcWidth, Math.max(1, Math.round(dstWidth * scale)));
  const sh = Math.min(srcHeight, Math.max(1, Math.round(dstHeight * scale)));
  return {
    sx: Math.floor((srcWidth - sw) / 2),
    sy: Math.floor((srcHeight - sh) / 2),
    sw,
    sh,
  };
}

/** The photo centre-cropped to the size's aspect ratio and scaled to it: the run's start image. */
export function fitPhoto(bitmap: ImageBitmap, size: { width: number; height: number }): RgbaImage {
  // A closed bitmap (the photo was replaced or removed meanwhile) measures 0x0.
  if (bitmap.width === 0 || bitmap.height === 0)
    throw new GessoError('invalid-image', 'The start image is no longer there. Choose it again.');
  const source = coverCrop(bitmap.width, bitmap.height, size.width, size.height);
  const canvas = drawOnCanvas(bitmap, size, source);
  const { data } = context2d(canvas).getImageData(0, 0, size.width, size.height);
  return { width: size.width, height: size.height, data };
}

/** An object URL of a small copy of the photo (PNG when it is small already, else JPEG). Revoke it when done. */
export async function previewUrlOf(bitmap: ImageBitmap): Promise<string> {
  const size = within(bitmap.width, bitmap.height, PREVIEW_MAX);
  const same = size.width === bitmap.width && size.height === bitmap.height;
  const blob = await canvasToBlob(
    drawOnCanvas(bitmap, size),
    same ? 'image/png' : 'image/jpeg',
    0.85,
  );
  return URL.createObjectURL(blob);
}

/** Reads a chosen file into a choice (decoded bitmap and preview), or throws decodePhoto's GessoError. */
export async function readChoice(file: File, strength: number): Promise<StartImageChoice> {
  const bitmap = await decodePhoto(file);
  try {
    return { bitmap, previewUrl: await previewUrlOf(bitmap), name: file.name, strength };
  } catch (error) {
    bitmap.close();
    throw error;
  }
}

/** Lets go of what a choice holds (its preview URL and bitmap). */
export function releaseChoice(choice: StartImageChoice): void {
  URL.revokeObjectURL(choice.previewUrl);
  choice.bitmap.close();
}
