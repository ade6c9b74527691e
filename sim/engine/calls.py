"""Calling kernels from Python without numba's per-call typing of every argument.

A numba dispatcher types each argument on each call to pick the compiled version; for the
parameter tuple (about 150 fields, :mod:`sim.engine.params`) that costs some 12 microseconds,
a tenth of a 40x40 tick. :func:`call` keys the compiled version on the arguments' Python
types instead (and dtype and dimensions for arrays): the engine's tuples are built with fixed
field types (:mod:`sim.engine.layout`, :mod:`sim.engine.params`), so their class says it all.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_entry: dict[tuple[Any, ...], Any] = {}


def _kind(a: Any) -> Any:
    if isinstance(a, np.ndarray):
        return a.dtype, a.ndim, a.flags.c_contiguous, a.flags.writeable
    return type(a)


def call(kernel: Any, *args: Any) -> Any:
    """``kernel(*args)``, through its compiled function for these argument types (compiled,
    or loaded from the cache, on the first call with them)."""
    key = (kernel, *map(_kind, args))
    fn = _entry.get(key)
    if fn is None:
        fn = _entry[key] = kernel.compile(tuple(kernel.typeof_pyval(a) for a in args))
    return fn(*args)
