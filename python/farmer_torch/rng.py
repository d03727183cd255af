"""Port of the engine's seeded generator (src/lib/util/random.ts: sfc32 seeded via splitmix32).

Used where the twin must reproduce the engine's draws exactly (Colored MNIST's colours), not for
training noise.
"""
from __future__ import annotations

import math

import numpy as np

M32 = 0xFFFFFFFF


def _imul(a: int, b: int) -> int:
    return (a * b) & M32


class Rng:
    def __init__(self, seed: int):
        s = seed & M32

        def nxt() -> int:
            nonlocal s
            s = (s + 0x9E3779B9) & M32
            z = s
            z = _imul(z ^ (z >> 16), 0x85EBCA6B)
            z = _imul(z ^ (z >> 13), 0xC2B2AE35)
            return (z ^ (z >> 16)) & M32

        self.a, self.b, self.c, self.d = nxt(), nxt(), nxt(), nxt()
        self.spare = None
        for _ in range(12):
            self.next_u32()

    def next_u32(self) -> int:
        t = (((self.a + self.b) & M32) + self.d) & M32
        self.d = (self.d + 1) & M32
        self.a = self.b ^ (self.b >> 9)
        self.b = (self.c + (self.c << 3)) & M32
        self.c = ((self.c << 21) | (self.c >> 11)) & M32
        self.c = (self.c + t) & M32
        return t

    def uniform(self) -> float:
        hi = self.next_u32() >> 5
        lo = self.next_u32() >> 6
        return (hi * 67108864 + lo) / 9007199254740992

    def normal(self) -> float:
        if self.spare is not None:
            v, self.spare = self.spare, None
            return v
        u = 0.0
        while u == 0:
            u = self.uniform()
        v = self.uniform()
        r = math.sqrt(-2 * math.log(u))
        self.spare = r * math.sin(2 * math.pi * v)
        return r * math.cos(2 * math.pi * v)


class RngBatch:
    """Many independent Rng streams at once (numpy, one per seed), drawing what Rng draws."""

    def __init__(self, seeds: np.ndarray):
        s = np.asarray(seeds, np.uint64) & M32

        def nxt():
            nonlocal s
            s = (s + 0x9E3779B9) & M32
            z = ((s ^ (s >> 16)) * 0x85EBCA6B) & M32
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M32
            return z ^ (z >> 16)

        self.a, self.b, self.c, self.d = nxt(), nxt(), nxt(), nxt()
        for _ in range(12):
            self.next_u32()

    def next_u32(self) -> np.ndarray:
        t = (self.a + self.b + self.d) & M32
        self.d = (self.d + 1) & M32
        self.a = self.b ^ (self.b >> 9)
        self.b = (self.c + (self.c << 3)) & M32
        self.c = ((self.c << 21) | (self.c >> 11)) & M32
        self.c = (self.c + t) & M32
        return t

    def uniform(self) -> np.ndarray:
        hi = (self.next_u32() >> 5).astype(np.float64)
        lo = (self.next_u32() >> 6).astype(np.float64)
        return (hi * 67108864 + lo) / 9007199254740992
