/** Small facts the regional path asks of weights and UNet shapes. */

/** A prompt takes part only where its weight is above zero somewhere. */
export function isUsed(weight: Float32Array): boolean {
  for (let i = 0; i < weight.length; i++) if (weight[i]! > 1e-6) return true;
  return false;
}

/** True when the model's first input dimension is symbolic, i.e. it accepts batch > 1. */
export function hasDynamicBatch(shape: readonly (number | string)[]): boolean {
  const first = shape[0];
  return typeof first === 'string' || (typeof first === 'number' && first < 0);
}
