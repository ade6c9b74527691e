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
    COMBATANT,
    DDR_UNIT,
    ENGAGEMENT,
    F_PROFESSIONALISM,
    F_TRUST_PK,
    I_ALIVE,
    I_COMMUNITY,
    I_DIALOGUE,
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
    W_COMBATANTS,
    W_COMMUNITY,
    W_DDR,
    W_DETER,
    W_DIALOGUE,
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


@njit(cache=True)
def _occupancy(ai, af, high, lay, prm):
    """Occupancy planes (1, or a weight, on an agent's cell) in one pass over the agents:
    units (count, deterrence and interdiction weights by role, ODD 7.9a), police (count,
    professionalism, arrest weight), engagement, DDR and mentoring units, community officers
    and officers who meet leaders, combatants (all, and per faction), leaders (and their
    trust). Returns the number of units and of officers on the map."""
    work = lay.work
    units = 0
    officers = 0
    for p in range(W_PK, W_FACTION + prm.armed_groups_factions):
        if p != W_TMP:
            work[p].fill(0.0)
    dialogue = forum_on(prm)  # communities: officers who meet leaders (ODD 7.26)
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
        elif ai[a, I_LEADER]:
            work[W_LEADERS, x, y] += 1.0
            work[W_LEADER_TRUST, x, y] += af[a, F_TRUST_PK]
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
    ``partners.radius`` (ODD 7.21). Counts the units and officers on the map (``meta``)."""
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
