"""numpy mirror of glsl/include/rng.glsl (PCG hash), for tests and references."""

from __future__ import annotations

import numpy as np

_M = np.uint64(0xFFFFFFFF)


def _u32(x) -> np.ndarray:
    return (np.asarray(x, dtype=np.uint64) & _M)


def pcg_hash(v) -> np.ndarray:
    v = _u32(v)
    state = _u32(v * np.uint64(747796405) + np.uint64(2891336453))
    word = _u32(((state >> ((state >> np.uint64(28)) + np.uint64(4))) ^ state) * np.uint64(277803737))
    return _u32((word >> np.uint64(22)) ^ word)


def pair_key(seed: int, iteration: int, pair: int) -> np.ndarray:
    inner = pcg_hash(pcg_hash(seed) ^ _u32(iteration))
    return pcg_hash(_u32(inner + _u32(np.uint64(pair) * np.uint64(0x9E3779B9))))


def param_signs(count: int, key) -> np.ndarray:
    """s_i in {-1, +1} for i in [0, count) under a pair key."""
    h = pcg_hash(np.arange(count, dtype=np.uint64) ^ _u32(key))
    return np.where(h & np.uint64(0x80000000), -1.0, 1.0).astype(np.float32)


def _pcg_int(v: int) -> int:
    state = (v * 747796405 + 2891336453) & 0xFFFFFFFF
    word = (((state >> ((state >> 28) + 4)) ^ state) * 277803737) & 0xFFFFFFFF
    return (word >> 22) ^ word


def pair_keys_bytes(seed: int, iteration: int, pairs: int) -> bytes:
    """pair_key(seed, iteration, p) for p < pairs as uint32 bytes (plain ints: cheaper
    than numpy for the few pairs of an iteration)."""
    inner = _pcg_int(_pcg_int(seed & 0xFFFFFFFF) ^ (iteration & 0xFFFFFFFF))
    keys = [_pcg_int((inner + p * 0x9E3779B9) & 0xFFFFFFFF) for p in range(pairs)]
    return np.asarray(keys, dtype=np.uint32).tobytes()
