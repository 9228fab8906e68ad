/**
 * LCM's guidance-scale embedding, fed to the UNet as `timestep_cond`
 * (diffusers' get_guidance_scale_embedding): w = (guidance - 1) * scale,
 * f_i = exp(-i ln(10000) / (dim/2 - 1)) for i < dim/2,
 * embedding = [sin(w f_0..), cos(w f_0..)], zero-padded when dim is odd.
 * Intermediates are rounded to float32 (Math.fround) as PyTorch computes
 * them, so the large angles (w f up to 7500 rad) match the training code.
 */

export function guidanceEmbedding(guidance: number, dim: number, scale = 1000): Float32Array {
  const f = Math.fround;
  const w = f(f(guidance - 1) * scale);
  const half = Math.floor(dim / 2);
  const out = new Float32Array(dim);
  const step = half > 1 ? f(f(Math.log(10000)) / (half - 1)) : 0;
  for (let i = 0; i < half; i++) {
    const angle = f(w * f(Math.exp(f(i * -step))));
    out[i] = Math.sin(angle);
    out[half + i] = Math.cos(angle);
  }
  return out;
}

/** Classifier-free guidance, uncond + g (cond - uncond), written into `cond` (returned). */
export function classifierFreeGuidance(
  cond: Float32Array,
  uncond: Float32Array,
  guidance: number,
): Float32Array {
  for (let i = 0; i < cond.length; i++) cond[i] = uncond[i]! + guidance * (cond[i]! - uncond[i]!);
  return cond;
}
