"""Gesso's seeded noise (src/shared/random.ts) re-implemented in Python from
its published description, not from the TypeScript: xoshiro128** (Blackman &
Vigna 2018, the reference C code xoshiro128starstar.c) with its four 32-bit
state words filled by SplitMix32 from a 32-bit seed; uniforms are the 32-bit
outputs / 2^32; Gaussians by Box-Muller, both outputs, z0 = r cos(2 pi u2)
then z1 = r sin(2 pi u2), r = sqrt(-2 ln(1 - u1)), in float64, stored as float32.
"""
import math

import numpy as np

M32 = 0xFFFFFFFF


def _rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


class Random:
    def __init__(self, seed):
        state = seed & M32
        words = []
        for _ in range(4):
            state = (state + 0x9E3779B9) & M32
            z = state
            z = ((z ^ (z >> 16)) * 0x85EBCA6B) & M32
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M32
            words.append((z ^ (z >> 16)) & M32)
        self.s = words
        self.spare = None

    @classmethod
    def from_state(cls, state):
        r = cls(0)
        r.s = [w & M32 for w in state]
        return r

    def next_uint32(self):
        s = self.s
        result = (_rotl((s[1] * 5) & M32, 7) * 9) & M32
        t = (s[1] << 9) & M32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 11)
        return result

    def gaussian(self):
        if self.spare is not None:
            v, self.spare = self.spare, None
            return v
        u1 = self.next_uint32() / 4294967296.0
        u2 = self.next_uint32() / 4294967296.0
        r = math.sqrt(-2.0 * math.log(1.0 - u1))
        self.spare = r * math.sin(2.0 * math.pi * u2)
        return r * math.cos(2.0 * math.pi * u2)

    def gaussians(self, n):
        return np.array([self.gaussian() for _ in range(n)], dtype=np.float32)


if __name__ == "__main__":
    # The published xoshiro128** output for state (1, 2, 3, 4), and the values tests/unit/engine/random.test.ts pins.
    r = Random.from_state([1, 2, 3, 4])
    assert [r.next_uint32() for _ in range(5)] == [11520, 0, 5927040, 70819200, 2031721883]
    assert [Random(42).next_uint32() for _ in range(1)] == [2837322924]
    g = Random(42)
    assert abs(g.gaussian() - 1.0271775679456403) < 1e-12 and abs(g.gaussian() - 1.0517370146991034) < 1e-12
    print("ok")
