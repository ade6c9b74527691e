"""Presence fields of the peacekeeping layer: who is within reach of every cell.

Each field is a square-neighbourhood sum (a box of radius r, the cell included) computed once
per tick from summed-area tables, so its cost is O(cells) whatever the radius, and no agent
scans its neighbourhood to learn, e.g., whether a peacekeeper or a combatant is near.

``presence`` computes every presence field of a tick in one kernel: occupancy planes from the
agent table in one pass, then the box sums, into preallocated planes (``Layers.work``), so a
tick allocates nothing and crosses from Python to numba once.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine import kernels as K

# scratch planes of Layers.work: occupancy by who stands where, and the box sums' buffers
(
    W_TMP,
    W_PK,
    W_POLICE,
    W_POLICE_PROF,
    W_ENGAGE,
    W_DDR,
    W_MENTOR,
    W_COMMUNITY,
    W_LEADERS,
    W_LEADER_TRUST,
    W_ENGAGED,
    W_COMBATANTS,
    W_NEAR,
    W_TARGET,
    W_FACTION,  # one plane per faction from here on
) = range(15)


def n_work_planes(factions: int) -> int:
    return W_FACTION + factions


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
def box_sum_work(field, r, torus, out, tmp, col):
    """``out`` = sum of ``field`` over the (2r+1) x (2r+1) box around every cell (the cell
    included); clipped at the edges of a bounded grid. Two sliding-window passes: O(cells)
    whatever ``r``. ``tmp`` (w x h) and ``col`` (h) are scratch; ``out`` may be ``field``."""
    w, h = field.shape
    if r <= 0:
        for x in range(w):
            for y in range(h):
                out[x, y] = field[x, y]
        return
    # along y: a running sum per row. Rows go in blocks of 8 whose sums advance together
    # (each row's sequence of additions is unchanged; the block only overlaps their latency)
    s = np.empty(8, np.float64)
    for x0 in range(0, w, 8):
        nb = min(8, w - x0)
        for k in range(nb):
            s[k] = 0.0
        for d in range(-r, r + 1):
            j = _wrap(d, h, torus)
            if j >= 0:
                for k in range(nb):
                    s[k] += field[x0 + k, j]
        for y in range(h):
            jp = _wrap(y + r + 1, h, torus)
            jm = _wrap(y - r, h, torus)
            for k in range(nb):
                v = s[k]
                tmp[x0 + k, y] = v
                if jp >= 0:
                    v += field[x0 + k, jp]
                if jm >= 0:
                    v -= field[x0 + k, jm]
                s[k] = v
    col.fill(0.0)
    for d in range(-r, r + 1):  # along x, one row of y values at a time
        i = _wrap(d, w, torus)
        if i >= 0:
            for y in range(h):
                col[y] += tmp[i, y]
    for x in range(w):
        for y in range(h):
            out[x, y] = col[y]
        i = _wrap(x + r + 1, w, torus)
        if i >= 0:
            for y in range(h):
                col[y] += tmp[i, y]
        i = _wrap(x - r, w, torus)
        if i >= 0:
            for y in range(h):
                col[y] -= tmp[i, y]


@njit(cache=True)
def box_sum_into(field, r, torus, out):
    """:func:`box_sum_work` with its own scratch buffers."""
    w, h = field.shape
    box_sum_work(field, r, torus, out, np.empty((w, h), np.float64), np.zeros(h, np.float64))


def box_sum(field: np.ndarray, r: int, torus: bool) -> np.ndarray:
    """Box sums of ``field`` as a new float64 array (see :func:`box_sum_work`)."""
    out = np.empty(field.shape, np.float64)
    box_sum_into(np.ascontiguousarray(field, dtype=np.float64), int(r), bool(torus), out)
    return out


@njit(cache=True)
def box(lay, plane, r, torus, out):
    """Box sum of ``lay.work[plane]`` into ``out``, with the layer's scratch buffers."""
    box_sum_work(lay.work[plane], r, torus, out, lay.work[W_TMP], lay.col)


@njit(cache=True)
def _occupancy(ai, af, high, lay, factions):
    """Occupancy planes (1, or a weight, on an agent's cell) in one pass over the agents."""
    work = lay.work
    for p in range(W_PK, W_FACTION + factions):
        if p != W_TMP:
            work[p].fill(0.0)
    for a in range(high):
        if not ai[a, K.I_ALIVE] or ai[a, K.I_X] < 0:
            continue
        x = ai[a, K.I_X]
        y = ai[a, K.I_Y]
        kind = ai[a, K.I_KIND]
        if kind == K.PEACEKEEPER:
            work[W_PK, x, y] += 1.0
            role = ai[a, K.I_ROLE]
            if role == K.ENGAGEMENT:
                work[W_ENGAGE, x, y] += 1.0
            elif role == K.DDR_UNIT:
                work[W_DDR, x, y] += 1.0
            elif role == K.MENTORING:
                work[W_MENTOR, x, y] += 1.0
        elif kind == K.POLICE:
            work[W_POLICE, x, y] += 1.0
            work[W_POLICE_PROF, x, y] += af[a, K.F_PROFESSIONALISM]
            if ai[a, K.I_COMMUNITY]:
                work[W_COMMUNITY, x, y] += 1.0
        elif kind == K.COMBATANT:
            work[W_FACTION + ai[a, K.I_FACTION], x, y] += 1.0
            work[W_COMBATANTS, x, y] += 1.0
        elif ai[a, K.I_LEADER]:
            work[W_LEADERS, x, y] += 1.0
            work[W_LEADER_TRUST, x, y] += af[a, K.F_TRUST_PK]


@njit(cache=True)
def presence(ag, meta, lay, lp):
    """Who is within reach of every cell, from where agents stand now (the presence layers
    of ``Layers.f``, and ``comb_own``: combatants of each faction within reach)."""
    ai = ag.i
    high = meta[K.META_HIGH]
    torus = lp.torus
    f = lay.f
    work = lay.work
    _occupancy(ai, ag.f, high, lay, lp.factions)
    rc = lp.comb_vision
    box(lay, W_PK, rc, torus, f[K.L_SEC_PK])
    box(lay, W_POLICE_PROF, rc, torus, f[K.L_SEC_POLICE])
    box(lay, W_POLICE, rc, torus, f[K.L_N_POLICE])
    for fac in range(lp.factions):
        box(lay, W_FACTION + fac, rc, torus, lay.comb_own[fac])
    box(lay, W_COMBATANTS, lp.res_vision, torus, f[K.L_COMB_SEEN])
    box(lay, W_PK, lp.pk_vision, torus, f[K.L_PK_SEEN])
    box(lay, W_ENGAGE, lp.engagement_radius, torus, f[K.L_ENGAGE])
    box(lay, W_DDR, lp.ddr_radius, torus, f[K.L_DDR_REACH])
    box(lay, W_MENTOR, 2, torus, f[K.L_MENTOR])
    box(lay, W_COMMUNITY, lp.res_vision, torus, f[K.L_COMMUNITY])
    lr = lp.leader_radius
    box(lay, W_LEADERS, lr, torus, f[K.L_LEADER_N])
    box(lay, W_LEADER_TRUST, lr, torus, f[K.L_LEADER_TRUST])
    # leaders reached by an engagement unit (needs the engagement field just computed)
    engaged = work[W_ENGAGED]
    engaged.fill(0.0)
    for a in range(high):
        x = ai[a, K.I_X]
        if (
            ai[a, K.I_ALIVE]
            and x >= 0
            and ai[a, K.I_KIND] == K.RESIDENT
            and ai[a, K.I_LEADER]
            and f[K.L_ENGAGE, x, ai[a, K.I_Y]] > 0
        ):
            engaged[x, ai[a, K.I_Y]] += 1.0
    box(lay, W_ENGAGED, lr, torus, f[K.L_LEADER_ENGAGED])
    # security felt on a cell: peacekeepers and (professional) police within 3 cells
    w, h = engaged.shape
    near = work[W_NEAR]
    for x in range(w):
        for y in range(h):
            near[x, y] = work[W_PK, x, y] + work[W_POLICE_PROF, x, y]
    box(lay, W_NEAR, 3, torus, near)
    security = f[K.L_SECURITY]
    for x in range(w):
        for y in range(h):
            security[x, y] = 1.0 - np.exp(-near[x, y])
