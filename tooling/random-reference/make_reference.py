#!/usr/bin/env python3
"""Reference outputs for @dale/random, transliterated from Blackman and Vigna's xoshiro128starstar.c
(https://prng.di.unimi.it/xoshiro128starstar.c) and murmur3's fmix32, in plain Python integers.
Usage: /usr/bin/python3 tooling/random-reference/make_reference.py  (prints JSON that packages/random's test holds)."""
import json

M = 0xFFFFFFFF


def rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M


def xoshiro128ss(s):
    s = [v & M for v in s]
    if s == [0, 0, 0, 0]:
        s[0] = 1

    def nxt():
        result = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 9) & M
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 11)
        return result

    return nxt


def fmix32(h):
    h &= M
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M
    h ^= h >> 16
    return h


def keyed(seed, stream):
    lo = lambda v: v & M
    hi = lambda v: (v >> 32) & M  # Python's >> on negatives is arithmetic: two's complement, as BigInt.asUintN
    return [fmix32(lo(seed) ^ 0x243F6A88), fmix32(hi(seed) ^ 0x85A308D3), fmix32(lo(stream) ^ 0x13198A2E), fmix32(hi(stream) ^ 0x03707344)]


def outputs(state, skip, n):
    g = xoshiro128ss(state)
    for _ in range(skip):
        g()
    return [g() for _ in range(n)]


ref = {
    "raw_1234_first8": outputs([1, 2, 3, 4], 0, 8),
    "fromState_1234": outputs([1, 2, 3, 4], 8, 8),
    "keyed": {f"{seed},{stream}": outputs(keyed(seed, stream), 8, 4) for seed, stream in [(0, 0), (42, 0), (42, 1), (-1, 7), (2**40 + 3, 2**33), (0x6261, 0x666C6970)]},
    "fmix32": {str(v): fmix32(v) for v in [0, 1, 0xDEADBEEF, 0xFFFFFFFF]},
}
print(json.dumps(ref))
