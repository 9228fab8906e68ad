/**
 * What a load decides from its UNet's size: whether it ends with a throwaway
 * image, and whether its steps are heavy (ort-runtime.ts gives those every core).
 */

import type { Backend } from '../shared/pack-manifest';

/** A UNet this small runs a step on WebAssembly in a blink (the demo pack's: about 10 ms). */
const LIGHT_UNET_MAX_BYTES = 16 * 1024 * 1024;

/** Whether a UNet of this size makes steps that take seconds on a processor (a real-size pack's). */
export function heavySteps(unetBytes: number): boolean {
  return unetBytes > LIGHT_UNET_MAX_BYTES;
}

/**
 * Whether a load ends with a throwaway image (Pipeline.warmUp), so that the
 * first real press costs what later ones do: always on WebGPU (the first
 * run compiles every shader), on WebAssembly only where one step is cheap;
 * a real-size step there takes tens of seconds, which would hold up a press
 * made meanwhile.
 */
export function warmsUp(backend: Backend, unetBytes: number): boolean {
  return backend === 'webgpu' || !heavySteps(unetBytes);
}
