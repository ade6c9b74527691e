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
# whether a tuple of arrays holds a tuple, by identity likewise (a tuple cannot change which
# objects it holds, nor can they change class; their dtypes and flags can, so the kind of
# such a tuple is worked out on every call)
_array_tuples: dict[int, tuple[tuple[Any, ...], bool]] = {}


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


def _remember(cache: dict[int, Any], a: tuple[Any, ...], value: Any) -> None:
    if len(cache) >= _SCALAR_TUPLES:
        del cache[next(iter(cache))]
    cache[id(a)] = (a, value)


def _kind(a: Any) -> Any:
    """What numba's type of ``a`` depends on: dtype, rank, layout and writeability of an
    array; the class and, field by field, the kinds of a tuple's members (a tuple of arrays
    with another dtype or layout must not find a version compiled for the first: that reads
    memory wrongly). A tuple of arrays without tuples inside takes numba's fingerprint of it
    (its members' types, computed in C) beside its class."""
    if isinstance(a, np.ndarray):
        return _array_kind(a)
    if isinstance(a, tuple):
        known = _scalar_tuples.get(id(a))
        if known is not None and known[0] is a:
            return known[1]
        nested = _array_tuples.get(id(a))
        if nested is None or nested[0] is not a:
            if not any(isinstance(x, (np.ndarray, tuple)) for x in a):
                kind = type(a), tuple(map(_kind, a))
                _remember(_scalar_tuples, a, kind)
                return kind
            nested = (a, any(isinstance(x, tuple) for x in a))
            _remember(_array_tuples, a, nested[1])
        if not nested[1] and _fingerprint is not None:
            try:
                return type(a), _fingerprint(a)
            except NotImplementedError:  # pragma: no cover - members numba cannot fingerprint
                pass
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
