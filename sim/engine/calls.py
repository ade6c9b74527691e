"""Calling kernels from Python without numba's per-call typing of every argument.

A numba dispatcher types each argument on each call to pick the compiled version; for the
parameter tuple (about 150 fields, :mod:`sim.engine.params`) that costs some 12 microseconds,
a tenth of a 40x40 tick. :func:`compiled` finds the compiled version once, keyed on the
arguments' Python types (dtype and layout for arrays; a tuple's members one by one). A
model binds the kernels it calls every tick once; :func:`call` serves occasional calls.
Kernels that take arrays only are cheap to dispatch and are called directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

_entry: dict[tuple[Any, ...], Any] = {}
# kinds of tuples of scalars only (the parameter tuple), by identity: such a tuple's kind
# cannot change, and working it out member by member costs ~50 microseconds a call. Each
# entry holds its tuple, so an id is never reused while it is remembered.
_scalar_tuples: dict[int, tuple[tuple[Any, ...], Any]] = {}
_SCALAR_TUPLES = 64


def _kind(a: Any) -> Any:
    """What numba's type of ``a`` depends on: dtype, rank and layout of an array; the class
    and, field by field, the kinds of a tuple's members (a tuple of arrays with another dtype
    or layout must not find a version compiled for the first: that reads memory wrongly)."""
    if isinstance(a, np.ndarray):
        flags = a.flags
        return a.dtype, a.ndim, flags.c_contiguous, flags.writeable
    if isinstance(a, tuple):
        known = _scalar_tuples.get(id(a))
        if known is not None and known[0] is a:
            return known[1]
        members = tuple(map(_kind, a))
        kind = type(a), members
        if not any(isinstance(x, (np.ndarray, tuple)) for x in a):
            if len(_scalar_tuples) >= _SCALAR_TUPLES:
                del _scalar_tuples[next(iter(_scalar_tuples))]
            _scalar_tuples[id(a)] = (a, kind)
        return kind
    return type(a)


def compiled(kernel: Any, *args: Any) -> Callable[..., Any]:
    """``kernel``'s compiled function for the types of ``args`` (compiled, or loaded from the
    cache, the first time). Call it only with arguments of those same types."""
    key = (kernel, *map(_kind, args))
    fn = _entry.get(key)
    if fn is None:
        fn = _entry[key] = kernel.compile(tuple(kernel.typeof_pyval(a) for a in args))
    return fn


def call(kernel: Any, *args: Any) -> Any:
    """``kernel(*args)`` through :func:`compiled`."""
    return compiled(kernel, *args)(*args)
