"""What the model observes each tick (ODD 7.14): the census and the peacekeeping layer's
counts and means, in one pass over the agents.

Means are summed exactly as numpy sums a contiguous float64 array, so a mean here equals
``ndarray.mean`` to the last bit (the metrics tables were computed with numpy before).
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

from sim.engine.layout import (
    ACTIVE,
    C_ACTIVE,
    C_COMBATANTS,
    C_DETAINED,
    C_GROUP0,
    C_GROUP1,
    C_PEACEKEEPERS,
    C_POLICE,
    C_QUIESCENT,
    D_ATTACKS,
    D_CLASHES,
    D_UNITS,
    DETAINED,
    F_ACCEPTANCE,
    F_DIALOGUE,
    F_FEAR,
    F_HARDSHIP,
    F_PROFESSIONALISM,
    F_RECORD0,
    F_TRUST_PK,
    F_TRUST_POLICE,
    I_ALIVE,
    I_DISPLACED,
    I_EMPLOYED,
    I_EX_COMBATANT,
    I_FACTION,
    I_GROUP,
    I_HOME,
    I_KIND,
    I_ROLE,
    I_STATE,
    I_UID,
    I_X,
    I_Y,
    L_ACCESS,
    L_CLASH_AT,
    L_INFRASTRUCTURE,
    L_PARTNER_SITE,
    L_ROAD,
    L_SITE_ATTACK,
    L_VIOLENCE,
    L_VIOLENCE_BATTLE,
    L_VIOLENCE_CIV,
    MAX_FACTIONS,
    MENTORING,
    META_ABROAD,
    META_HIGH,
    PEACEKEEPER,
    POLICE,
    QUIESCENT,
    RESIDENT,
    ROLE_CODES,
    S_CACHED,
    S_PARTNER_TOTAL,
    S_STOCK0,
    S_STORED,
)
from sim.rules.civil_violence import grievance

# layer_metrics output: counts, then means
(
    M_DISPLACED,
    M_EMPLOYED,
    M_EX_COMBATANTS,
    M_TRUST_PK,
    M_TRUST_POLICE,
    M_PROFESSIONALISM,
    M_GRIEVANCE,
    M_ECONOMY,
    M_INFRASTRUCTURE,
    M_VIOLENCE,
    M_VIOLENCE_CIV,
    M_VIOLENCE_BATTLE,
    M_FEAR,
    M_LEGITIMACY,
    M_TRUST_PK_G0,
    M_TRUST_PK_G1,
    M_ABROAD,
    M_ROLES,  # peacekeepers per role code from here on
) = range(18)
N_METRICS = M_ROLES + len(ROLE_CODES)
# --- communities: trust in police by communal group ---
M_TRUST_POLICE_G0 = N_METRICS
M_TRUST_POLICE_G1 = N_METRICS + 1
N_METRICS += 2
# --- accept: reintegration and acceptance, weapons, local partners (ODD 7.19-7.21) ---
M_ACCEPTANCE = N_METRICS  # mean acceptance of ex-combatants, residents not ex-combatants
M_ACCEPT_F0 = M_ACCEPTANCE + 1  # ... of faction f's: acceptance x (1 - record), + f
M_EX_F0 = M_ACCEPT_F0 + MAX_FACTIONS  # ex-combatants (residents) of faction f, + f
M_PARTNER_CAPACITY = M_EX_F0 + MAX_FACTIONS  # mean capacity of the partners
M_STORED = M_PARTNER_CAPACITY + 1  # weapons in DDR stores
M_CACHED = M_STORED + 1  # weapons in caches
M_STOCK = M_CACHED + 1  # weapons in the factions' stocks
N_METRICS = M_STOCK + 1
# --- zones: checkpoints, protection sites, roads (ODD 7.22-7.24) ---
M_DISPLACED_AT_SITES = N_METRICS  # displaced residents at a protection site
M_ACCESS = N_METRICS + 1  # mean market access
M_ROAD_QUALITY = N_METRICS + 2  # mean quality of the road cells
M_ECONOMY_NEAR_CHECKPOINTS = N_METRICS + 3  # mean economy where checkpoints control
N_METRICS += 4


@njit(cache=True)
def census(ag, meta, out):
    """Count residents by state and group, police, peacekeepers, and combatants free and
    detained, in one pass (counted in local variables, which the compiler keeps in
    registers, and added to ``out`` once: a resident's state and group index it as
    ``QUIESCENT``/``ACTIVE``/``JAILED`` = ``C_QUIESCENT``/``C_ACTIVE``/``C_JAILED`` and
    ``C_GROUP0 + group``)."""
    ai = ag.i
    out.fill(0)
    quiescent = 0
    active = 0
    group0 = 0
    group1 = 0
    police = 0
    units = 0
    detained = 0
    combatants = 0
    for a in range(meta[META_HIGH]):
        if not ai[a, I_ALIVE]:
            continue
        k = ai[a, I_KIND]
        if k == RESIDENT:
            state = ai[a, I_STATE]
            if state == QUIESCENT:
                quiescent += 1
            elif state == ACTIVE:
                active += 1
            else:
                out[state] += 1
            group = ai[a, I_GROUP]
            if group == 0:
                group0 += 1
            elif group == 1:
                group1 += 1
            else:
                out[C_GROUP0 + group] += 1
        elif k == POLICE:
            police += 1
        elif k == PEACEKEEPER:
            units += 1
        elif ai[a, I_STATE] == DETAINED:
            detained += 1
        else:
            combatants += 1
    out[C_QUIESCENT] += quiescent
    out[C_ACTIVE] += active
    out[C_GROUP0] += group0
    out[C_GROUP1] += group1
    out[C_POLICE] += police
    out[C_PEACEKEEPERS] += units
    out[C_DETAINED] += detained
    out[C_COMBATANTS] += combatants


@njit(cache=True)
def unit_roles(ag, meta, out):
    """Live peacekeepers by role code (``out[role]``), in one pass: what the timeline's
    replacement of losses compares with the roles' shares (ODD 7.14)."""
    ai = ag.i
    out.fill(0)
    for a in range(meta[META_HIGH]):
        if ai[a, I_ALIVE] and ai[a, I_KIND] == PEACEKEEPER:
            out[ai[a, I_ROLE]] += 1


@njit(cache=True)
def unpaired_mentors(ag, meta, mentors, police):
    """The live mentoring units whose partner (``home``) is no live officer, into
    ``mentors``, and the live officers, into ``police``, each in slot order, in one pass;
    returns how many of each (ODD 7.14, mentor pairing)."""
    ai = ag.i
    n_mentors = 0
    n_police = 0
    for a in range(meta[META_HIGH]):
        if not ai[a, I_ALIVE]:
            continue
        kind = ai[a, I_KIND]
        if kind == POLICE:
            police[n_police] = a
            n_police += 1
        elif kind == PEACEKEEPER and ai[a, I_ROLE] == MENTORING:
            partner = ai[a, I_HOME]
            if partner < 0 or not ai[partner, I_ALIVE] or ai[partner, I_KIND] != POLICE:
                mentors[n_mentors] = a
                n_mentors += 1
    return n_mentors, n_police


@njit(cache=True)
def view_changes(ag, meta, view_uid, out):
    """Slots whose live agent differs from the Mesa view held for it (uid, or -1 for none):
    writes a row (slot, uid or -1, kind) for each to ``out`` in ascending slot order, brings
    ``view_uid`` up to date, returns how many (:func:`view_change`, slot by slot)."""
    ai = ag.i
    n = 0
    for a in range(meta[META_HIGH]):
        n = view_change(ai, a, view_uid, out, n)
    return n


@njit(inline="always", cache=True)
def view_change(ai, a, view_uid, out, n):
    """Slot ``a`` of :func:`view_changes`: its row goes to ``out[n]`` if its agent (uid, or -1
    for none) is not the one ``view_uid`` holds; returns the rows written so far."""
    uid = ai[a, I_UID] if ai[a, I_ALIVE] else -1
    if uid != view_uid[a]:
        out[n, 0] = a
        out[n, 1] = uid
        out[n, 2] = ai[a, I_KIND]
        view_uid[a] = uid
        return n + 1
    return n


@njit(inline="always", cache=True)
def _block_sum(a, lo, n):
    """numpy's sum of at most 128 float64: 8 running partial sums, combined pairwise.

    The block is a slice walked with unsigned indices: a signed index makes every load test
    for a negative index (numpy's wrap-around), which cost about 40% of the time; the
    additions and their order are numpy's."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    b = a[lo:lo + n]
    r0 = b[0]
    r1 = b[1]
    r2 = b[2]
    r3 = b[3]
    r4 = b[4]
    r5 = b[5]
    r6 = b[6]
    r7 = b[7]
    m = n - (n % 8)
    for i in range(uint64(8), uint64(m), uint64(8)):
        r0 += b[i]
        r1 += b[i + uint64(1)]
        r2 += b[i + uint64(2)]
        r3 += b[i + uint64(3)]
        r4 += b[i + uint64(4)]
        r5 += b[i + uint64(5)]
        r6 += b[i + uint64(6)]
        r7 += b[i + uint64(7)]
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(m, n):
        res += b[i]
    return res


@njit(cache=True)
def pairwise_sum(a, n):
    """Sum of ``a[:n]`` exactly as numpy sums a contiguous float64 array (blocks of at most
    128, halves combined pairwise), so a mean here equals ``ndarray.mean`` to the last bit.

    numpy recurses; numba's cached recursion is unreliable, so the halves are walked with an
    explicit stack (depth < 64 for any array that fits in memory)."""
    if n <= 128:
        return _block_sum(a, 0, n)
    f_lo = np.empty(64, np.int64)
    f_n = np.empty(64, np.int64)
    f_state = np.empty(64, np.int64)  # 0: left half next, 1: right half next, 2: add them
    vals = np.empty(64, np.float64)
    f_lo[0] = 0
    f_n[0] = n
    f_state[0] = 0
    top = 1
    nv = 0
    while top > 0:
        k = top - 1
        lo = f_lo[k]
        m = f_n[k]
        if m <= 128:
            vals[nv] = _block_sum(a, lo, m)
            nv += 1
            top -= 1
            continue
        half = m // 2
        half -= half % 8
        if f_state[k] == 2:
            nv -= 1
            vals[nv - 1] = vals[nv - 1] + vals[nv]
            top -= 1
            continue
        if f_state[k] == 0:
            f_lo[top] = lo
            f_n[top] = half
        else:
            f_lo[top] = lo + half
            f_n[top] = m - half
        f_state[k] += 1
        f_state[top] = 0
        top += 1
    return vals[0]


@njit(inline="always", cache=True)
def _mean(buf, n):
    return pairwise_sum(buf, n) / n if n > 0 else 0.0


@njit(cache=True)
def layer_metrics(ag, grid, prm, lay, meta, legitimacy, census_out, out, buf, district,
                  by_district, view_uid, view_out):
    """The census (as :func:`census`) and the counts and means of the peacekeeping layer for
    the metrics table, in one kernel and one pass over the agents (``buf``: 5 rows of
    per-agent values, gathered in slot order as numpy's masked means would see them). The
    mission's legitimacy M is the share of residents whose trust in peacekeepers exceeds
    ``trust.legitimacy_threshold`` (ODD 7.11). With ``by_district`` of one column per
    district (``run.district_series``; none: not asked for), also this tick's attacks,
    clashes and units by district (:func:`district_counts`; ``district``: each cell's).

    Given a ``view_uid`` of one entry per slot (empty: not asked for), the same pass notes the
    slots whose Mesa view must change (:func:`view_change` into ``view_out``, ``view_uid``
    brought up to date, as :func:`view_changes` would) and returns how many: a second pass
    over the agent table would cost as much again.

    Counts and sums are kept in local variables (the compiler holds them in registers) and
    stored once; every float sum adds the same values in the same (slot) order as before."""
    by_district.fill(0)
    per_district = by_district.shape[1] > 0  # --- districts
    ai = ag.i
    af = ag.f
    h = grid.economy.shape[1]
    sites = prm.mechanisms_protection_sites and prm.sites_count > 0  # --- zones (ODD 7.23)
    threshold = prm.trust_legitimacy_threshold
    out.fill(0.0)
    census_out.fill(0)
    n_changed = 0
    n_res = 0
    n_quiescent = 0
    n_active = 0
    n_pol = 0
    n_pk = 0
    n_detained = 0
    n_combatants = 0
    trusting = 0
    displaced = 0
    employed = 0
    ex_combatants = 0
    at_sites = 0
    g0_sum = 0.0  # trust in peacekeepers, and in police, by communal group
    g1_sum = 0.0
    g0_n = 0
    g1_n = 0
    gp0_sum = 0.0
    gp1_sum = 0.0
    n_accept = 0
    accept_sum = 0.0
    f0 = 0.0  # acceptance of each faction's ex-fighters (MAX_FACTIONS = 4)
    f1 = 0.0
    f2 = 0.0
    f3 = 0.0
    nf = prm.armed_groups_factions
    views = view_uid.shape[0] > 0  # (empty: not asked for)
    for a in range(meta[META_HIGH]):
        if views:
            n_changed = view_change(ai, a, view_uid, view_out, n_changed)
        if not ai[a, I_ALIVE]:
            continue
        kind = ai[a, I_KIND]
        if kind == RESIDENT:
            state = ai[a, I_STATE]
            if state == QUIESCENT:
                n_quiescent += 1
            elif state == ACTIVE:
                n_active += 1
            else:
                census_out[state] += 1  # JAILED, as census counts it
            displaced += ai[a, I_DISPLACED] != 0
            employed += ai[a, I_EMPLOYED] != 0
            if ai[a, I_EX_COMBATANT]:  # --- accept: ex-combatants by faction (ODD 7.19)
                ex_combatants += 1
                out[M_EX_F0 + ai[a, I_FACTION]] += 1
            else:
                acc = af[a, F_ACCEPTANCE]
                accept_sum += acc
                if nf > 0:  # each faction's sum in a register (MAX_FACTIONS = 4)
                    f0 += accepted(af, a, acc, 0)
                    if nf > 1:
                        f1 += accepted(af, a, acc, 1)
                        if nf > 2:
                            f2 += accepted(af, a, acc, 2)
                            if nf > 3:
                                f3 += accepted(af, a, acc, 3)
                n_accept += 1
            x = ai[a, I_X]
            t_pk = af[a, F_TRUST_PK]
            t_police = af[a, F_TRUST_POLICE]
            buf[0, n_res] = t_pk
            buf[1, n_res] = t_police
            buf[4, n_res] = af[a, F_FEAR]
            trusting += t_pk > threshold
            group = ai[a, I_GROUP]  # 0 or 1 (two communities at most)
            if group == 0:
                g0_sum += t_pk
                g0_n += 1
                gp0_sum += t_police
            else:
                g1_sum += t_pk
                g1_n += 1
                gp1_sum += t_police
            buf[2, n_res] = grievance(
                af[a, F_HARDSHIP],
                x >= 0,
                grid.economy[x, ai[a, I_Y]] if x >= 0 else 1.0,
                ai[a, I_EMPLOYED],
                t_police,
                af[a, F_DIALOGUE],
                legitimacy,
                prm,
                grid.aid[x, ai[a, I_Y]] if sites and x >= 0 and ai[a, I_DISPLACED] else 0.0,
            )
            if sites and x >= 0 and ai[a, I_DISPLACED] and lay.site_of[x * h + ai[a, I_Y]] >= 0:
                at_sites += 1  # --- zones (ODD 7.23)
            n_res += 1
        elif kind == POLICE:
            buf[3, n_pol] = af[a, F_PROFESSIONALISM]
            n_pol += 1
        elif kind == PEACEKEEPER:
            n_pk += 1
            out[M_ROLES + ai[a, I_ROLE]] += 1
            if per_district:  # --- districts: units where they stand at the end of the tick
                by_district[D_UNITS, district[ai[a, I_X], ai[a, I_Y]]] += 1
        elif ai[a, I_STATE] == DETAINED:
            n_detained += 1
        else:
            n_combatants += 1
    # added, not assigned: a resident's state indexes the census as in census()
    census_out[C_QUIESCENT] += n_quiescent
    census_out[C_ACTIVE] += n_active
    census_out[C_POLICE] += n_pol
    census_out[C_PEACEKEEPERS] += n_pk
    census_out[C_GROUP0] += g0_n
    census_out[C_GROUP1] += g1_n
    census_out[C_COMBATANTS] += n_combatants
    census_out[C_DETAINED] += n_detained
    out[M_DISPLACED] = displaced
    out[M_EMPLOYED] = employed
    out[M_EX_COMBATANTS] = ex_combatants
    out[M_DISPLACED_AT_SITES] = at_sites
    out[M_ACCEPTANCE] = accept_sum
    if nf > 0:
        out[M_ACCEPT_F0] = f0
    if nf > 1:
        out[M_ACCEPT_F0 + 1] = f1
    if nf > 2:
        out[M_ACCEPT_F0 + 2] = f2
    if nf > 3:
        out[M_ACCEPT_F0 + 3] = f3
    out[M_TRUST_PK] = _mean(buf[0], n_res)
    out[M_TRUST_POLICE] = _mean(buf[1], n_res)
    out[M_GRIEVANCE] = _mean(buf[2], n_res)
    out[M_PROFESSIONALISM] = _mean(buf[3], n_pol)
    cells = grid.economy.size
    out[M_ECONOMY] = _mean(grid.economy.reshape(cells), cells)
    out[M_INFRASTRUCTURE] = _mean(lay.f[L_INFRASTRUCTURE].reshape(cells), cells)
    out[M_VIOLENCE] = _mean(lay.f[L_VIOLENCE].reshape(cells), cells)
    out[M_VIOLENCE_CIV] = _mean(lay.f[L_VIOLENCE_CIV].reshape(cells), cells)
    out[M_VIOLENCE_BATTLE] = _mean(lay.f[L_VIOLENCE_BATTLE].reshape(cells), cells)
    out[M_FEAR] = _mean(buf[4], n_res)
    out[M_LEGITIMACY] = trusting / n_res if n_res > 0 else 0.0
    out[M_TRUST_PK_G0] = g0_sum / g0_n if g0_n > 0 else 0.0
    out[M_TRUST_PK_G1] = g1_sum / g1_n if g1_n > 0 else 0.0
    out[M_ABROAD] = meta[META_ABROAD]
    out[M_TRUST_POLICE_G0] = gp0_sum / g0_n if g0_n > 0 else 0.0
    out[M_TRUST_POLICE_G1] = gp1_sum / g1_n if g1_n > 0 else 0.0
    accept_metrics(prm, lay, n_accept, out)
    # --- zones: market access (after checkpoints, ODD 7.22) and road quality (ODD 7.24) ---
    out[M_ACCESS] = _mean(lay.f[L_ACCESS].reshape(cells), cells)
    roads = lay.roads
    if roads.size:
        quality = lay.f[L_ROAD].reshape(cells)
        for i in range(roads.size):
            buf[0, i] = quality[roads[i]]
        out[M_ROAD_QUALITY] = _mean(buf[0], roads.size)
    if prm.strategy_roles_checkpoint > 0.0:  # the economy where checkpoints control (7.22)
        control = grid.control.reshape(cells)
        economy = grid.economy.reshape(cells)
        n = 0
        for c in range(cells):
            if control[c] > 0.0:
                buf[0, n] = economy[c]
                n += 1
        out[M_ECONOMY_NEAR_CHECKPOINTS] = _mean(buf[0], n)
    if per_district:
        district_counts(lay, district, by_district)
    return n_changed


# --- districts: per-district series (outputs only, ODD 7.14) ---
@njit(inline="always", cache=True)
def district_counts(lay, district, by_district):
    """ODD 7.14, per-district outputs: this tick's attacks on civilians (at the victim's cell)
    and clashes with security forces (at the combatant's cell), summed over the cells of each
    district (``district``: each cell's district, ``economy.districts`` blocks per side), from
    the planes the rules write as the events happen (``site_attack``, ``clash_at``)."""
    attacks = lay.f[L_SITE_ATTACK]
    clashes = lay.f[L_CLASH_AT]
    w, h = district.shape
    for x in range(w):
        for y in range(h):
            a = attacks[x, y]
            c = clashes[x, y]
            if a != 0.0 or c != 0.0:
                d = district[x, y]
                by_district[D_ATTACKS, d] += np.int64(a)
                by_district[D_CLASHES, d] += np.int64(c)


@njit(inline="always", cache=True)
def accepted(af, a, acc, k):
    """ODD 7.19: resident ``a``'s acceptance of faction ``k``'s ex-fighters, its acceptance
    ``acc`` x (1 - its record of the faction)."""
    return acc * (1.0 - af[a, F_RECORD0 + k])


@njit(inline="always", cache=True)
def accept_metrics(prm, lay, n, out):
    """ODD 7.14, 7.19-7.21: residents' mean acceptance of ex-combatants, and of each faction's
    (acceptance x (1 - record), :func:`accepted`), over the ``n`` residents who are not
    ex-combatants (sums in ``out``, from :func:`layer_metrics`); ex-combatants by the faction
    they fought for; partners' mean capacity; weapons in stores, caches and the factions'
    stocks."""
    nf = prm.armed_groups_factions
    if n > 0:
        out[M_ACCEPTANCE] /= n
        for k in range(nf):
            out[M_ACCEPT_F0 + k] /= n
    sites = 0
    for m in lay.markets:
        if lay.f[L_PARTNER_SITE].reshape(-1)[m] > 0.0:
            sites += 1
    s = lay.scalars
    out[M_PARTNER_CAPACITY] = s[S_PARTNER_TOTAL] / sites if sites > 0 else 0.0
    out[M_STORED] = s[S_STORED]
    out[M_CACHED] = s[S_CACHED]
    for k in range(nf):
        out[M_STOCK] += s[S_STOCK0 + k]
