/**
 * Seeded random numbers for noise, identical on every run and platform.
 *
 * Algorithm: xoshiro128** (Blackman & Vigna, 2018; 32-bit state words, period
 * 2^128 - 1) whose four state words are filled by SplitMix32 (the 32-bit
 * variant of Steele et al.'s SplitMix, as used to seed xoshiro) from a 32-bit
 * seed. Uniforms are 32-bit integers / 2^32. Gaussians use the Box-Muller
 * transform, both outputs: z0 = r cos(2 pi u2), z1 = r sin(2 pi u2) with
 * r = sqrt(-2 ln(1 - u1)), computed in float64.
 *
 * All maths is 32-bit integer (Math.imul, >>> 0) or IEEE float64, so the
 * sequence does not depend on the JS engine.
 */

export const MAX_SEED = 0xffffffff;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  /** Seeds from a 32-bit integer (other numbers are taken modulo 2^32). */
  constructor(seed: number) {
    let state = seed >>> 0;
    const splitmix32 = () => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = splitmix32();
    this.s1 = splitmix32();
    this.s2 = splitmix32();
    this.s3 = splitmix32();
  }

  /** A generator with an explicit xoshiro128** state (not all zero), for checking against reference vectors. */
  static fromState(state: readonly [number, number, number, number]): Random {
    const random = new Random(0);
    [random.s0, random.s1, random.s2, random.s3] = state.map((word) => word >>> 0) as [
      number,
      number,
      number,
      number,
    ];
    return random;
  }

  /** Next 32-bit unsigned integer (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Standard normal N(0, 1) by Box-Muller (pairs are generated together). */
  gaussian(): number {
    if (this.spare !== null) {
      const value = this.spare;
      this.spare = null;
      return value;
    }
    const u1 = this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(1 - u1));
    const angle = 2 * Math.PI * u2;
    this.spare = r * Math.sin(angle);
    return r * Math.cos(angle);
  }

  /** A new Float32Array of `length` standard normal samples. */
  gaussians(length: number): Float32Array {
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) out[i] = this.gaussian();
    return out;
  }
}

/** A fresh random seed for "new seed per run" (not reproducible by design). */
export function randomSeed(): number {
  const buffer = new Uint32Array(1);
  globalThis.crypto.getRandomValues(buffer);
  return buffer[0]!;
}
