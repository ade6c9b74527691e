"""Draws of a numpy ``Generator`` from compiled code: the same values, in the same order, as
its own methods, from the same stream.

Why: the mission timeline draws from the set-up generator (a ``numpy.random.Generator``),
and a loop of scalar draws from Python costs about a microsecond a draw plus the Python
around it; a kernel that draws through the generator's C interface (its bit generator's
``next_uint32`` and ``next_double``, the functions its methods call) runs the same loop in
compiled code. The addresses are passed at run time (nothing process-specific is compiled
in, so the kernels stay cacheable). The kernels bypass the generator's lock: use them only
while no other thread draws from it (the model's generators are used by one thread).

Exactness is checked against the methods in tests/test_speed_py2.py (values and the bit
generator's state afterwards, including its buffered half-words).
"""

from __future__ import annotations

import ctypes

import numpy as np
from llvmlite import ir
from numba import njit, types, uint32, uint64
from numba.extending import intrinsic

# slots of the array that stands for a generator in compiled code (generator_state)
G_STATE, G_NEXT_UINT32, G_NEXT_DOUBLE = range(3)

_states: dict[int, tuple[np.random.BitGenerator, np.ndarray]] = {}
_STATES = 64


def generator_state(gen: np.random.Generator) -> np.ndarray:
    """The addresses compiled code draws ``gen``'s numbers through (``G_*``), made once per
    bit generator (each entry holds its bit generator, so an id is never reused while it is
    remembered)."""
    bitgen = gen.bit_generator
    known = _states.get(id(bitgen))
    if known is not None and known[0] is bitgen:
        return known[1]
    c = bitgen.ctypes

    def address(fn: object) -> int:
        return int(ctypes.cast(fn, ctypes.c_void_p).value or 0)

    out = np.array([c.state_address, address(c.next_uint32), address(c.next_double)],
                   np.intp)
    if len(_states) >= _STATES:
        del _states[next(iter(_states))]
    _states[id(bitgen)] = (bitgen, out)
    return out


@intrinsic
def _bitgen_call(typingctx, fn, state, ret):
    """Call the bit generator's function at address ``fn`` on its state at ``state``,
    returning a value of type ``ret`` (uint32 or float64)."""
    rty = ret.instance_type
    sig = rty(types.intp, types.intp, ret)

    def codegen(context, builder, signature, args):
        fn_addr, state_addr, _ = args
        fnty = ir.FunctionType(context.get_value_type(rty), [ir.IntType(8).as_pointer()])
        f = builder.inttoptr(fn_addr, fnty.as_pointer())
        s = builder.inttoptr(state_addr, ir.IntType(8).as_pointer())
        return builder.call(f, [s])

    return sig, codegen


@njit(inline="always", cache=True)
def next_uint32(g):
    """The generator's next 32-bit word (half of a 64-bit one, the other half kept for the
    next call, as numpy does)."""
    return _bitgen_call(g[G_NEXT_UINT32], g[G_STATE], uint32)


@njit(inline="always", cache=True)
def random(g):
    """``gen.random()``: a double in [0, 1)."""
    return _bitgen_call(g[G_NEXT_DOUBLE], g[G_STATE], types.float64)


@njit(inline="always", cache=True)
def integers(g, low, high):
    """``gen.integers(low, high)`` (int64, ``high`` excluded) for ranges below 2**32 - 1:
    numpy's bounded draw (Lemire's multiply and reject on 32-bit words); nothing is drawn
    when ``high - low`` is 1."""
    rng = uint64(high - low - 1)
    if rng == 0:
        return low
    rng_excl = rng + uint64(1)
    m = uint64(next_uint32(g)) * rng_excl
    leftover = m & uint64(0xFFFFFFFF)
    if leftover < rng_excl:
        threshold = (uint64(0xFFFFFFFF) - rng) % rng_excl
        while leftover < threshold:
            m = uint64(next_uint32(g)) * rng_excl
            leftover = m & uint64(0xFFFFFFFF)
    return low + np.int64(m >> uint64(32))
