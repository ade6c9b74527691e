"""Random numbers inside numba kernels: xoshiro256** with its state in a numpy array.

Each model owns its own 4-word state, seeded from ``numpy.random.SeedSequence``, so two
models in one process (the trainer's side-by-side view, a thread pool) never share a stream
and a run is bit-identical whatever executor runs it.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

_MASK53 = 1.0 / 9007199254740992.0  # 2**-53


def seed_state(seed_seq: np.random.SeedSequence) -> np.ndarray:
    """A fresh xoshiro256** state (4 x uint64, never all zero) from a SeedSequence."""
    state = seed_seq.generate_state(4, dtype=np.uint64)
    if not state.any():  # pragma: no cover - probability 2**-256
        state[0] = np.uint64(0x9E3779B97F4A7C15)
    return state


@njit(inline="always", cache=True)
def _rotl(x, k):
    return (x << uint64(k)) | (x >> uint64(64 - k))


@njit(inline="always", cache=True)
def next_u64(s):
    """Next 64-bit output; advances ``s`` in place."""
    result = _rotl(s[1] * uint64(5), 7) * uint64(9)
    t = s[1] << uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@njit(inline="always", cache=True)
def uniform(s):
    """U[0, 1) with 53 random bits."""
    return float(next_u64(s) >> uint64(11)) * _MASK53


@njit(inline="always", cache=True)
def randint(s, n):
    """Uniform integer in ``0 .. n-1`` (``n >= 1``); bias below 2**-53 * n."""
    return int(uniform(s) * n)


@njit(inline="always", cache=True)
def shuffle(perm, n, rng):
    """Fisher-Yates on ``perm[:n]`` in place: every random order of agents comes from here."""
    for i in range(n - 1, 0, -1):
        j = randint(rng, i + 1)
        t = perm[i]
        perm[i] = perm[j]
        perm[j] = t


@njit(cache=True)
def uniform_array(s, n):
    """``n`` draws of :func:`uniform` (for tests and vectorised set-up)."""
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        out[i] = uniform(s)
    return out
