"""Presence fields of the peacekeeping layer (ODD 7.7): who is within reach of every cell.

Each field is a square-neighbourhood sum (a box of radius r, the cell included) computed once
per tick from summed-area tables, so its cost is O(cells) whatever the radius, and no agent
scans its neighbourhood to learn, e.g., whether a peacekeeper or a combatant is near.

``presence`` computes every presence field of a tick in one kernel: occupancy planes from the
agent table in one pass, then the box sums, into preallocated planes (``Layers.work``), so a
tick allocates nothing and crosses from Python to numba once. The reach of each field is a
scenario parameter; how a field is turned into, e.g., security is a rule
(:mod:`sim.rules.environment`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.grid import wrap
from sim.engine.layout import (
    CHECKPOINT,
    COMBATANT,
    DDR_UNIT,
    ENGAGEMENT,
    F_PROFESSIONALISM,
    F_TRUST_PK,
    I_ALIVE,
    I_COMMUNITY,
    I_DIALOGUE,
    I_DISPLACED,
    I_FACTION,
    I_KIND,
    I_LEADER,
    I_ROLE,
    I_X,
    I_Y,
    L_COMB_SEEN,
    L_COMMUNITY_REACH,
    L_DDR_REACH,
    L_DETER,
    L_DISPLACED_NEAR,
    L_ENGAGE,
    L_INTERDICT,
    L_INTERRUPT,
    L_LEADER_ENGAGED,
    L_LEADER_N,
    L_LEADER_TRUST,
    L_MENTOR,
    L_N_POLICE,
    L_PARTNER,
    L_PARTNER_REACH,
    L_PK_REACH,
    L_POLICE_ARREST,
    L_POLICE_REACH,
    L_RELAY,
    L_SEC_POLICE,
    MENTORING,
    META_HIGH,
    META_OFFICERS,
    META_UNITS,
    PEACEKEEPER,
    POLICE,
    RESIDENT,
    S_PARTNER_TOTAL,
    W_CHECKPOINT,
    W_COMBATANTS,
    W_COMMUNITY,
    W_DDR,
    W_DETER,
    W_DIALOGUE,
    W_DISPLACED,
    W_ENGAGE,
    W_ENGAGED,
    W_FACTION,
    W_FORUM,
    W_INTERDICT,
    W_LEADER_TRUST,
    W_LEADERS,
    W_MENTOR,
    W_PK,
    W_POLICE,
    W_POLICE_ARREST,
    W_POLICE_PROF,
    W_TMP,
)
from sim.rules.police import arrest_weight, forum_on, takes_part
from sim.rules.protection import deterrence, interdiction

#: an integer-valued plane (counts of agents or events) goes by scatter when no value exceeds
#: this in size: then every partial sum is an exact integer, whatever the order of the sums
_INT_LIMIT = 1048576.0  # 2**20
_EXACT = 9007199254740992.0  # 2**53


@njit(cache=True)
def _box_sum_dense(field, r, torus, out, tmp, col):
    """:func:`box_sum_work` by two sliding-window passes over every row (the reference
    order of additions)."""
    w, h = field.shape
    # along y: a running sum per row. Rows go in blocks of 8 whose sums advance together
    # (each row's sequence of additions is unchanged; the block only overlaps their latency)
    s = np.empty(8, np.float64)
    for x0 in range(0, w, 8):
        nb = min(8, w - x0)
        for k in range(nb):
            s[k] = 0.0
        for d in range(-r, r + 1):
            j = wrap(d, h, torus)
            if j >= 0:
                for k in range(nb):
                    s[k] += field[x0 + k, j]
        for y in range(h):
            jp = wrap(y + r + 1, h, torus)
            jm = wrap(y - r, h, torus)
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
        i = wrap(d, w, torus)
        if i >= 0:
            for y in range(h):
                col[y] += tmp[i, y]
    for x in range(w):
        for y in range(h):
            out[x, y] = col[y]
        i = wrap(x + r + 1, w, torus)
        if i >= 0:
            for y in range(h):
                col[y] += tmp[i, y]
        i = wrap(x - r, w, torus)
        if i >= 0:
            for y in range(h):
                col[y] -= tmp[i, y]


@njit(cache=True)
def _count_rows(field, rows):
    """``rows[x]`` = how many values of row x are nonzero (NaN counts); returns the total.
    An integer reduction, vectorised: the cheap first look at a plane."""
    w, h = field.shape
    total = 0
    for x in range(w):
        n = 0
        for y in range(h):
            n += field[x, y] != 0.0
        rows[x] = n
        total += n
    return total


@njit(cache=True)
def box_sum_work(field, r, torus, out, tmp, col):
    """``out`` = sum of ``field`` over the (2r+1) x (2r+1) box around every cell (the cell
    included); clipped at the edges of a bounded grid. Two sliding-window passes: O(cells)
    whatever ``r``. ``tmp`` (w x h) and ``col`` (h) are scratch; ``out`` may be ``field``.

    Every result is bit-identical to the two dense passes of :func:`_box_sum_dense`, but
    most planes summed in a tick are sparse (a few hundred units, a handful of events): an
    all-zero row adds exactly nothing to a running sum, so it is skipped; and small integers
    (counts) have exact sums in any order, so a sparse row of them is summed by scattering
    each value over its window, and, when few rows hold anything, so are the columns. A
    plane with non-integer values in most rows goes to the dense passes. (The rows are
    walked here, not in helper functions: a call per row would count references to the
    arrays it takes.)"""
    w, h = field.shape
    if r <= 0:
        for x in range(w):
            for y in range(h):
                out[x, y] = field[x, y]
        return
    rows = np.empty(w, np.int64)
    if _count_rows(field, rows) == 0:  # nothing anywhere: every window sum is 0.0
        out.fill(0.0)
        return
    busy = 0
    for x in range(w):
        busy += rows[x] != 0
    span = 2 * r + 1
    # scattered sums are exact while every partial sum stays below 2**53
    exact = float(w) * h * _INT_LIMIT * (2.0 * r + 2.0) ** 2 < _EXACT
    scattered = exact  # every busy row scattered (all of them integers)
    for x in range(w):  # along y, the rows that hold anything
        n = rows[x]
        if n == 0:
            continue
        if exact and n * span <= h:
            # a sparse row: each value added to the 2r+1 cells whose window holds it, if
            # every value is an integer of size at most _INT_LIMIT (else slid below)
            for y in range(h):
                tmp[x, y] = 0.0
            integers = True
            for y in range(h):
                v = field[x, y]
                if v != 0.0:
                    if not (v == np.floor(v) and abs(v) <= _INT_LIMIT):
                        integers = False
                        break
                    if not torus and r <= y and y + r < h:
                        for j in range(y - r, y + r + 1):
                            tmp[x, j] += v
                    else:
                        for d in range(-r, r + 1):
                            j = wrap(y + d, h, torus)
                            if j >= 0:
                                tmp[x, j] += v
            if integers:
                continue
        if 3 * busy >= 2 * w:  # rows to slide, most rows busy: the blocked dense passes
            _box_sum_dense(field, r, torus, out, tmp, col)
            return
        scattered = False
        # the row slid as in the dense passes: the same additions in the same order
        s = 0.0
        for d in range(-r, r + 1):
            j = wrap(d, h, torus)
            if j >= 0:
                s += field[x, j]
        for y in range(h):
            tmp[x, y] = s
            jp = wrap(y + r + 1, h, torus)
            jm = wrap(y - r, h, torus)
            if jp >= 0:
                s += field[x, jp]
            if jm >= 0:
                s -= field[x, jm]
    if scattered and busy * span <= w:  # few rows: each added to the 2r+1 rows that see it
        out.fill(0.0)
        for i in range(w):
            if rows[i] == 0:
                continue
            for d in range(-r, r + 1):
                x = wrap(i + d, w, torus)
                if x >= 0:
                    for y in range(h):
                        out[x, y] += tmp[i, y]
        return
    col.fill(0.0)  # along x as in the dense passes, without the rows of zeros
    for d in range(-r, r + 1):
        i = wrap(d, w, torus)
        if i >= 0 and rows[i] != 0:
            for y in range(h):
                col[y] += tmp[i, y]
    for x in range(w):
        for y in range(h):
            out[x, y] = col[y]
        i = wrap(x + r + 1, w, torus)
        if i >= 0 and rows[i] != 0:
            for y in range(h):
                col[y] += tmp[i, y]
        i = wrap(x - r, w, torus)
        if i >= 0 and rows[i] != 0:
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


@njit(cache=True, _nrt=False)
def diffuse(field, rate, torus, tmp):
    """``field += rate * (mean of the 4 neighbours - field)``, with the neighbour mean summed
    in scipy's order (up, left, right, down) from 0.0 (``tests/reference_environment.py``);
    edges wrap on a torus and repeat the edge cell (``mode="nearest"``) otherwise."""
    if not rate > 0.0:
        return
    w, h = field.shape
    for x in range(w):
        if torus:
            xm = x - 1 if x > 0 else w - 1
            xp = x + 1 if x < w - 1 else 0
        else:
            xm = max(x - 1, 0)
            xp = min(x + 1, w - 1)
        for y in range(h):
            if torus:
                ym = y - 1 if y > 0 else h - 1
                yp = y + 1 if y < h - 1 else 0
            else:
                ym = max(y - 1, 0)
                yp = min(y + 1, h - 1)
            tmp[x, y] = (
                0.0
                + field[xm, y] * 0.25
                + field[x, ym] * 0.25
                + field[x, yp] * 0.25
                + field[xp, y] * 0.25
            )
    for x in range(w):
        for y in range(h):
            field[x, y] += rate * (tmp[x, y] - field[x, y])


@njit(cache=True, _nrt=False)
def _occupancy(ai, af, high, lay, prm):
    """Occupancy planes (1, or a weight, on an agent's cell) in one pass over the agents:
    units (count, deterrence and interdiction weights by role, ODD 7.9a), police (count,
    professionalism, arrest weight), engagement, DDR and mentoring units, community officers
    and officers who meet leaders, combatants (all, and per faction), leaders (and their
    trust); checkpoints, and (with protection sites) displaced residents. Returns the number
    of units and of officers on the map."""
    work = lay.work
    units = 0
    officers = 0
    for p in range(W_PK, W_FACTION + prm.armed_groups_factions):
        if p != W_TMP:
            work[p].fill(0.0)
    dialogue = forum_on(prm)  # communities: officers who meet leaders (ODD 7.26)
    displaced = prm.mechanisms_protection_sites and prm.sites_count > 0  # --- zones
    for a in range(high):
        if not ai[a, I_ALIVE] or ai[a, I_X] < 0:
            continue
        x = ai[a, I_X]
        y = ai[a, I_Y]
        kind = ai[a, I_KIND]
        if kind == PEACEKEEPER:
            role = ai[a, I_ROLE]
            units += 1
            work[W_PK, x, y] += 1.0
            work[W_DETER, x, y] += deterrence(role, prm)
            work[W_INTERDICT, x, y] += interdiction(role, prm)
            if role == ENGAGEMENT:
                work[W_ENGAGE, x, y] += 1.0
            elif role == DDR_UNIT:
                work[W_DDR, x, y] += 1.0
            elif role == MENTORING:
                work[W_MENTOR, x, y] += 1.0
            elif role == CHECKPOINT:  # --- zones: checkpoints (ODD 7.22)
                work[W_CHECKPOINT, x, y] += 1.0
        elif kind == POLICE:
            prof = af[a, F_PROFESSIONALISM]
            officers += 1
            work[W_POLICE, x, y] += 1.0
            work[W_POLICE_PROF, x, y] += prof
            work[W_POLICE_ARREST, x, y] += arrest_weight(prof, prm)
            if ai[a, I_COMMUNITY]:
                work[W_COMMUNITY, x, y] += 1.0
            if dialogue and ai[a, I_DIALOGUE]:
                work[W_DIALOGUE, x, y] += 1.0
        elif kind == COMBATANT:
            work[W_FACTION + ai[a, I_FACTION], x, y] += 1.0
            work[W_COMBATANTS, x, y] += 1.0
        else:
            if ai[a, I_LEADER]:
                work[W_LEADERS, x, y] += 1.0
                work[W_LEADER_TRUST, x, y] += af[a, F_TRUST_PK]
            if displaced and ai[a, I_DISPLACED]:  # --- zones: the displaced (ODD 7.23)
                work[W_DISPLACED, x, y] += 1.0
    return units, officers


@njit(cache=True)
def presence(ag, meta, lay, prm):
    """ODD 7.7: who is within reach of every cell, from where agents stand now (the presence
    layers of ``Layers.f``, and ``comb_own``: combatants of each faction within reach).

    In combatants' vision: units' deterrence and interdiction, police (count,
    professionalism, arrest weight), own faction; interdiction capacity within
    ``protection.interrupt_radius``; in residents' vision: combatants; units within the
    mission's tip reach, officers within ``information.report_reach`` and community
    officers within ``information.community_reach`` (who can receive a tip); engagement,
    DDR, mentoring and leaders within their reach; leaders in a police-community forum
    within ``trust.leader_radius`` (ODD 7.26); local partners' capacity within
    ``partners.radius`` (ODD 7.21); with protection sites, the displaced residents within
    ``sites.radius`` (ODD 7.23). Counts the units and officers on the map (``meta``). The
    checkpoints' control is :func:`sim.engine.layer_tick.checkpoint_phase`."""
    ai = ag.i
    high = meta[META_HIGH]
    torus = prm.world_torus
    f = lay.f
    work = lay.work
    units, officers = _occupancy(ai, ag.f, high, lay, prm)
    # --- accept: who is on the map, and local partners' reach (ODD 7.21) ---
    meta[META_UNITS] = units
    meta[META_OFFICERS] = officers
    if prm.mechanisms_partners and lay.scalars[S_PARTNER_TOTAL] > 0.0:
        box_sum_work(f[L_PARTNER], prm.partners_radius, torus, f[L_PARTNER_REACH],
                     work[W_TMP], lay.col)
    rc = prm.armed_groups_vision
    box(lay, W_DETER, rc, torus, f[L_DETER])
    box(lay, W_INTERDICT, rc, torus, f[L_INTERDICT])
    box(lay, W_POLICE_PROF, rc, torus, f[L_SEC_POLICE])
    box(lay, W_POLICE, rc, torus, f[L_N_POLICE])
    box(lay, W_POLICE_ARREST, rc, torus, f[L_POLICE_ARREST])
    for fac in range(prm.armed_groups_factions):
        box(lay, W_FACTION + fac, rc, torus, lay.comb_own[fac])
    box(lay, W_INTERDICT, prm.protection_interrupt_radius, torus, f[L_INTERRUPT])
    box(lay, W_COMBATANTS, prm.residents_vision, torus, f[L_COMB_SEEN])
    box(lay, W_PK, prm.tip_reach, torus, f[L_PK_REACH])
    box(lay, W_POLICE, prm.information_report_reach, torus, f[L_POLICE_REACH])
    box(lay, W_COMMUNITY, prm.information_community_reach, torus, f[L_COMMUNITY_REACH])
    box(lay, W_ENGAGE, prm.strategy_engagement_radius, torus, f[L_ENGAGE])
    box(lay, W_DDR, prm.ddr_radius, torus, f[L_DDR_REACH])
    box(lay, W_MENTOR, prm.strategy_mentor_radius, torus, f[L_MENTOR])
    lr = prm.trust_leader_radius
    box(lay, W_LEADERS, lr, torus, f[L_LEADER_N])
    box(lay, W_LEADER_TRUST, lr, torus, f[L_LEADER_TRUST])
    # leaders reached by an engagement unit (needs the engagement field just computed)
    engaged = work[W_ENGAGED]
    engaged.fill(0.0)
    for a in range(high):
        x = ai[a, I_X]
        if (
            ai[a, I_ALIVE]
            and x >= 0
            and ai[a, I_KIND] == RESIDENT
            and ai[a, I_LEADER]
            and f[L_ENGAGE, x, ai[a, I_Y]] > 0
        ):
            engaged[x, ai[a, I_Y]] += 1.0
    box(lay, W_ENGAGED, lr, torus, f[L_LEADER_ENGAGED])
    # --- communities: leaders in police-community forums, and who can reach one (ODD 7.26) ---
    if forum_on(prm):
        near = work[W_DIALOGUE]  # officers who meet leaders within police.dialogue_radius
        box_sum_work(near, prm.police_dialogue_radius, torus, near, work[W_TMP], lay.col)
        forum = work[W_FORUM]
        forum.fill(0.0)
        for a in range(high):
            x = ai[a, I_X]
            if (
                ai[a, I_ALIVE]
                and x >= 0
                and ai[a, I_KIND] == RESIDENT
                and ai[a, I_LEADER]
                and takes_part(near[x, ai[a, I_Y]], prm)
            ):
                forum[x, ai[a, I_Y]] += 1.0
        box(lay, W_FORUM, lr, torus, f[L_RELAY])
    else:
        f[L_RELAY].fill(0.0)
    # --- zones: the displaced near every cell, which patrols prioritise (ODD 7.23) ---
    if prm.mechanisms_protection_sites and prm.sites_count > 0:
        box(lay, W_DISPLACED, prm.sites_radius, torus, f[L_DISPLACED_NEAR])
