"""Random numbers inside numba kernels: xoshiro256** with its state in a numpy array.

Each model owns its own 4-word state, seeded from ``numpy.random.SeedSequence``, so two
models in one process (the trainer's side-by-side view, a thread pool) never share a stream
and a run is bit-identical whatever executor runs it.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import int64, njit, uint64
from numba.extending import intrinsic

_MASK53 = 1.0 / 9007199254740992.0  # 2**-53
# randint_chained: the 53 bits of a draw, and the fraction (of 2**64) at or above which the
# float formula may round up to the next integer
_TOP53 = 0xFFFFFFFFFFFFF800
_NEAR_NEXT = 2**64 - 2**43
_N_INT = 2**32  # n below this takes the integer path


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


@intrinsic
def mul_high(typingctx, a, b):
    """The high 64 bits of the 128-bit product of two uint64 (one ``mul`` instruction)."""
    if a != uint64 or b != uint64:
        return None
    sig = uint64(uint64, uint64)

    def codegen(context, builder, signature, args):
        i128 = ir.IntType(128)
        p = builder.mul(builder.zext(args[0], i128), builder.zext(args[1], i128))
        return builder.trunc(builder.lshr(p, ir.Constant(i128, 64)), ir.IntType(64))

    return sig, codegen


@njit(inline="always", cache=True)
def randint(s, n):
    """Uniform integer in ``0 .. n-1`` (``n >= 1``); bias below 2**-53 * n."""
    return int(uniform(s) * n)


@njit(inline="always", cache=True)
def randint_chained(s, n):
    """:func:`randint`, the same value from the same draw, computed in integers where it can
    be: for loops whose next step waits on the draw (a move's tries: draw, cell, occupancy
    test), where a multiply is shorter than two conversions and two float multiplies.
    Where nothing waits on the draws (a shuffle, the layer's passes), the float formula's
    fewer instructions run faster (the shuffle 15% slower this way), so those keep randint.

    Why it is the same number: with m the draw's 53 bits, ``uniform * n`` is the product
    P = m n rounded to a double and scaled by 2**-53 (exact), so its integer part is
    floor(P / 2**53), the high word of ``(m << 11) * n``, unless rounding carries P up to the
    next multiple of 2**53. Rounding moves P by at most half a unit in its 53rd bit, under
    2**31 for n < 2**32; so when the fraction (the low word) is below 2**64 - 2**43 the
    integer part is the high word, and otherwise (about one draw in two million), or for a
    larger n, the float formula decides."""
    x = next_u64(s)
    if n >= 0 and n < _N_INT:
        y = x & uint64(_TOP53)
        nn = uint64(n)
        if y * nn < uint64(_NEAR_NEXT):
            return int64(mul_high(y, nn))
    return int(float(x >> uint64(11)) * _MASK53 * n)


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
