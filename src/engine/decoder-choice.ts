/**
 * Which decoder makes the final image when the person has not said: the
 * pack's fast TAESD-style decoder on WebAssembly where the full VAE decode is
 * slow on this device, the full VAE everywhere else. A real SD VAE decoder
 * takes tens of seconds for a 512x512 image on a phone's or laptop's
 * processor (94 s for SD-Turbo's on this project's 2-core machine); TAESD
 * takes a small fraction of that at a small cost in fine detail. On a GPU the
 * full decode is cheap enough to keep.
 */

import type { Backend } from '../shared/pack-manifest';
import type { DecoderChoice } from '../shared/recipe';

/** A full decode measured slower than this on this device makes Fast the default. */
export const FAST_DECODE_OVER_MS = 2000;
/**
 * Until a full decode is measured: a VAE decoder file this large (a real
 * SD VAE decoder is 50 MB in int8, 99 MB in fp16) counts as slow on WebAssembly.
 */
export const SLOW_DECODER_BYTES = 16 * 1024 * 1024;

export interface DecoderFacts {
  backend: Backend;
  /** The pack has a separate fast decoder (Pipeline.hasFastDecoder). */
  hasFast: boolean;
  /** Bytes of the full VAE decoder's files. */
  fullDecoderBytes: number;
  /** A full decode of this pack measured on this device, in ms, if one ran. */
  measuredFullMs?: number;
}

export function defaultDecoder(facts: DecoderFacts): DecoderChoice {
  if (!facts.hasFast || facts.backend === 'webgpu') return 'full';
  if (facts.measuredFullMs !== undefined)
    return facts.measuredFullMs > FAST_DECODE_OVER_MS ? 'fast' : 'full';
  return facts.fullDecoderBytes > SLOW_DECODER_BYTES ? 'fast' : 'full';
}
