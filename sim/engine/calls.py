"""Calling kernels from Python without numba's per-call typing of every argument.

A numba dispatcher types each argument on each call to pick the compiled version; for the
parameter tuple (about 150 fields, :mod:`sim.engine.params`) that costs some 12 microseconds,
a tenth of a 40x40 tick. :func:`compiled` finds the compiled version once, keyed on the
arguments' kinds (what numba's type of each depends on); a model binds the kernels it calls
every tick once, and :func:`call` serves occasional calls (placing, removing agents), where
working out the kinds is most of the cost: arrays and tuples of arrays take numba's own type
fingerprint (computed in C, a fraction of a microsecond for the agent table or the grid);
the kinds of tuples of scalars only (the parameter tuple) are remembered by identity.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

try:  # numba's fingerprint of a value's type (what its dispatcher keys its own cache on)
    from numba.core.dispatcher import _dispatcher

    _fingerprint: Callable[[Any], bytes] | None = _dispatcher.compute_fingerprint
except (ImportError, AttributeError):  # pragma: no cover - another numba: member by member
    _fingerprint = None

_entry: dict[tuple[Any, ...], Any] = {}
# kinds of tuples of scalars only (the parameter tuple), by identity: such a tuple's kind
# cannot change, and working it out member by member costs ~50 microseconds a call. Each
# entry holds its tuple, so an id is never reused while it is remembered.
_scalar_tuples: dict[int, tuple[tuple[Any, ...], Any]] = {}
_SCALAR_TUPLES = 64


def _array_kind(a: np.ndarray) -> Any:
    """dtype, rank, layout and writeability of an array: numba's fingerprint of it when it
    has one, else those four read one by one."""
    if _fingerprint is not None:
        try:
            return _fingerprint(a)
        except NotImplementedError:  # pragma: no cover - dtypes numba cannot fingerprint
            pass
    flags = a.flags
    return a.dtype, a.ndim, flags.c_contiguous, flags.writeable


def _flat_fingerprint(a: tuple[Any, ...]) -> bytes | None:
    """numba's fingerprint of a tuple that holds no tuple, else None. The fingerprint spells
    a (named) tuple as its class's name, ``(``, its fields' names and types, ``)``: any
    further ``(`` may be a tuple inside, whose class numba's type depends on but the
    fingerprint names only (a byte of an array's type spelled ``(`` merely sends that tuple
    the slow way, member by member)."""
    if _fingerprint is None:  # pragma: no cover
        return None
    try:
        fp = _fingerprint(a)
    except NotImplementedError:
        return None
    return fp if fp.count(b"(") == 1 else None


def _kind(a: Any) -> Any:
    """What numba's type of ``a`` depends on: dtype, rank, layout and writeability of an
    array; the class and, field by field, the kinds of a tuple's members (a tuple of arrays
    with another dtype or layout must not find a version compiled for the first: that reads
    memory wrongly). A tuple of arrays with no tuple inside takes numba's fingerprint of it
    (its members' types, computed in C) beside its class."""
    if isinstance(a, np.ndarray):
        return _array_kind(a)
    if isinstance(a, tuple):
        known = _scalar_tuples.get(id(a))
        if known is not None and known[0] is a:
            return known[1]
        if not any(isinstance(x, (np.ndarray, tuple)) for x in a):
            kind = type(a), tuple(map(_kind, a))
            if len(_scalar_tuples) >= _SCALAR_TUPLES:
                del _scalar_tuples[next(iter(_scalar_tuples))]
            _scalar_tuples[id(a)] = (a, kind)
            return kind
        fp = _flat_fingerprint(a)
        if fp is not None:
            return type(a), fp
        return type(a), tuple(map(_kind, a))
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
