"""Presence fields of the peacekeeping layer: who is within reach of every cell.

Each field is a square-neighbourhood sum (a box of radius r, the cell included) computed once
per tick from summed-area tables, so its cost is O(cells) whatever the radius, and no agent
scans its neighbourhood to learn, e.g., whether a peacekeeper or a combatant is near.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(inline="always", cache=True)
def _wrap(i, n, torus):
    """Index ``i`` on an axis of length ``n``: wrapped on a torus, -1 outside otherwise."""
    if torus:
        while i < 0:
            i += n
        while i >= n:
            i -= n
        return i
    return i if 0 <= i < n else -1


@njit(cache=True)
def box_sum_into(field, r, torus, out):
    """``out`` = sum of ``field`` over the (2r+1) x (2r+1) box around every cell (the cell
    included); clipped at the edges of a bounded grid. Two sliding-window passes: O(cells)
    whatever ``r``."""
    w, h = field.shape
    if r <= 0:
        out[:, :] = field
        return
    tmp = np.empty((w, h), np.float64)
    for x in range(w):  # along y
        s = 0.0
        for d in range(-r, r + 1):
            j = _wrap(d, h, torus)
            if j >= 0:
                s += field[x, j]
        for y in range(h):
            tmp[x, y] = s
            j = _wrap(y + r + 1, h, torus)
            if j >= 0:
                s += field[x, j]
            j = _wrap(y - r, h, torus)
            if j >= 0:
                s -= field[x, j]
    col = np.zeros(h, np.float64)
    for d in range(-r, r + 1):  # along x, one row of y values at a time
        i = _wrap(d, w, torus)
        if i >= 0:
            col += tmp[i]
    for x in range(w):
        out[x, :] = col
        i = _wrap(x + r + 1, w, torus)
        if i >= 0:
            col += tmp[i]
        i = _wrap(x - r, w, torus)
        if i >= 0:
            col -= tmp[i]


def box_sum(field: np.ndarray, r: int, torus: bool) -> np.ndarray:
    """Box sums of ``field`` as a new float64 array (see :func:`box_sum_into`)."""
    out = np.empty(field.shape, np.float64)
    box_sum_into(np.ascontiguousarray(field, dtype=np.float64), int(r), bool(torus), out)
    return out
