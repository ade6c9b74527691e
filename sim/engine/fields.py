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
    L_CLASH_AT,
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
    L_SITE_ATTACK,
    MENTORING,
    META_HIGH,
    META_OFFICERS,
    META_UNITS,
    N_SITE_FLAGS,
    PEACEKEEPER,
    POLICE,
    RESIDENT,
    S_PARTNER_TOTAL,
    S_SITE0,
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

#: a row of a plane goes by its nonzero values (the sliding sum changes only where one
#: enters or leaves the window) when at most one value in this many is nonzero
_SPARSE = 4
#: values that are whole multiples of 2**-20 of size at most 2**20 (counts of agents,
#: weights such as 0.25 or 1.5) have exact sums, whatever their order, while no sum holds
#: more than 4096 of them: every partial sum is then a multiple of 2**-20 below 2**52
_GRAIN = 1048576.0  # 2**20
_MOST = 1048576.0  # 2**20
_MAX_R = 2047  # a window of 2r+1 <= 4095 values, and the running sum's one more


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


@njit(cache=True, _nrt=False)
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


@njit(inline="always", cache=True)
def _slide_row(frow, r, h, torus, trow):
    """One row of the first pass of :func:`_box_sum_dense`, alone: the running sum of the
    window along y over ``frow``, into ``trow``."""
    s = 0.0
    for d in range(-r, r + 1):
        j = wrap(d, h, torus)
        if j >= 0:
            s += frow[j]
    for y in range(h):
        trow[y] = s
        jp = wrap(y + r + 1, h, torus)
        jm = wrap(y - r, h, torus)
        if jp >= 0:
            s += frow[jp]
        if jm >= 0:
            s -= frow[jm]


@njit(inline="always", cache=True)
def _slide_row_at(frow, r, h, pos, a, b, trow):
    """:func:`_slide_row` on a bounded grid for a row whose nonzero values can only be at
    the ascending columns ``pos[a:b]``: the same additions and subtractions in the same
    order, without those of zeros (adding or subtracting a zero leaves the running sum as
    it is: it starts at +0.0 and only an exact cancellation brings it back to zero, to
    +0.0), so the sum changes only at the steps where one of those values enters the window
    (step p - r - 1 for column p) or leaves it (step p + r); between them it is written
    unchanged."""
    s = 0.0
    k = a
    while k < b and pos[k] <= r:  # the first window: columns 0..r, in order
        s += frow[pos[k]]
        k += 1
    ia = k  # the next column to enter
    il = a  # the next column to leave
    last = h - 1  # a change at the last step or later is never written
    y0 = 0
    while True:
        t_in = pos[ia] - r - 1 if ia < b else last
        t_out = pos[il] + r if il < b else last
        t = min(t_in, t_out)
        if t >= last:
            break
        for y in range(y0, t + 1):
            trow[y] = s
        y0 = t + 1
        if t_in == t:  # at a step, as in the sliding pass: the entering value first
            s += frow[pos[ia]]
            ia += 1
        if t_out == t:
            s -= frow[pos[il]]
            il += 1
    for y in range(y0, h):
        trow[y] = s


@njit(inline="always", cache=True)
def _exact(v):
    """True if ``v`` is a multiple of 2**-20 of size at most 2**20 (see ``_GRAIN``)."""
    u = v * _GRAIN
    return u == np.floor(u) and abs(v) <= _MOST


@njit(inline="always", cache=True)
def _row_at(frow, r, h, pos, a, b, trow):
    """One row of the first pass of :func:`_box_sum_dense` on a bounded grid, for a row
    whose nonzero values can only be at the ascending columns ``pos[a:b]``. If they are
    all exact (:func:`_exact`), every sum of them is exact in any order, so each is added
    to the 2r+1 cells whose window holds it; else :func:`_slide_row_at`. Either way the row
    holds the bits of the sliding pass."""
    exact = r <= _MAX_R
    for k in range(a, b):
        if not _exact(frow[pos[k]]):
            exact = False
            break
    if not exact:
        _slide_row_at(frow, r, h, pos, a, b, trow)
        return
    trow[:] = 0.0
    for k in range(a, b):
        p = pos[k]
        v = frow[p]
        for j in range(max(p - r, 0), min(p + r + 1, h)):
            trow[j] += v


@njit(cache=True, _nrt=False)
def _rows_work(field, r, torus, rows, busy, pos, tmp):
    """The first pass of :func:`box_sum_work` over the rows that hold anything
    (``rows[x]`` nonzero values, ``busy`` such rows): on a bounded grid a sparse row by its
    nonzero columns (found here; :func:`_row_at`), any other row slid
    (:func:`_slide_row`). A sparse row of values that are not exact is slid by its steps
    only while few rows are busy: with most rows busy the blocked dense passes are as
    cheap; then it returns False (nothing usable written) and they run instead."""
    w, h = field.shape
    most = 3 * busy >= 2 * w
    for x in range(w):
        n = rows[x]
        if n == 0:
            continue
        frow = field[x]
        trow = tmp[x]
        if torus or n * _SPARSE > h:
            if most:
                return False
            _slide_row(frow, r, h, torus, trow)
            continue
        k = 0
        for y in range(h):  # its nonzero columns (NaN among them), in order
            if frow[y] != 0.0:
                pos[k] = y
                k += 1
                if k == n:
                    break
        if most:
            for i in range(n):
                if not _exact(frow[pos[i]]):
                    return False
        _row_at(frow, r, h, pos, 0, n, trow)
    return True


@njit(cache=True, _nrt=False)
def _rows_at(field, r, starts, ys, tmp, rows):
    """The first pass of :func:`box_sum_at` (bounded grid): each row that holds anything at
    the listed cells, by them (:func:`_row_at`); ``rows[x]`` = how many of those values are
    nonzero (a row with none adds nothing: skipped). Returns how many in all."""
    w, h = field.shape
    total = 0
    for x in range(w):
        a = starts[x]
        b = starts[x + 1]
        n = 0
        if b > a:
            frow = field[x]
            for k in range(a, b):
                n += frow[ys[k]] != 0.0
            if n > 0:
                _row_at(frow, r, h, ys, a, b, tmp[x])
        rows[x] = n
        total += n
    return total


@njit(cache=True, _nrt=False)
def _slide_columns(tmp, rows, r, torus, out, col):
    """The second pass of :func:`_box_sum_dense` (the window along x over the rows of
    ``tmp``), skipping the rows with ``rows[i] == 0`` (all zero: they add nothing); each
    value of ``out`` is written, then the entering row added and the leaving one
    subtracted, in one sweep per row."""
    w, h = out.shape
    col.fill(0.0)
    for d in range(-r, r + 1):
        i = wrap(d, w, torus)
        if i >= 0 and rows[i] != 0:
            for y in range(h):
                col[y] += tmp[i, y]
    for x in range(w):
        ip = wrap(x + r + 1, w, torus)
        im = wrap(x - r, w, torus)
        enters = ip >= 0 and rows[ip] != 0
        leaves = im >= 0 and rows[im] != 0
        if enters and leaves:
            for y in range(h):
                v = col[y]
                out[x, y] = v
                v += tmp[ip, y]
                v -= tmp[im, y]
                col[y] = v
        elif enters:
            for y in range(h):
                v = col[y]
                out[x, y] = v
                col[y] = v + tmp[ip, y]
        elif leaves:
            for y in range(h):
                v = col[y]
                out[x, y] = v
                col[y] = v - tmp[im, y]
        else:
            for y in range(h):
                out[x, y] = col[y]


@njit(cache=True)
def box_sum_work(field, r, torus, out, tmp, col):
    """``out`` = sum of ``field`` over the (2r+1) x (2r+1) box around every cell (the cell
    included); clipped at the edges of a bounded grid. Two sliding-window passes: O(cells)
    whatever ``r``. ``tmp`` (w x h) and ``col`` (h) are scratch; ``out`` may be ``field``.

    Every result is bit-identical to the two dense passes of :func:`_box_sum_dense`, but
    most planes summed in a tick are sparse (a few hundred units, a handful of events): an
    all-zero row adds exactly nothing to a running sum, so it is skipped, and on a bounded
    grid a sparse row goes by its nonzero values only (:func:`_row_at`: counts and other
    exact values scattered, others slid by the steps where one enters or leaves the
    window). A plane with most rows busy goes to the dense passes unless those rows are
    sparse and exact (:func:`_rows_work`).

    Returns True when ``field`` held nothing (no value other than zero): ``out`` is then all
    +0.0, which lets the tick skip clearing an event plane summed in place."""
    w, h = field.shape
    if r <= 0:
        for x in range(w):
            for y in range(h):
                out[x, y] = field[x, y]
        return False
    rows = np.empty(w, np.int64)
    if _count_rows(field, rows) == 0:  # nothing anywhere: every window sum is 0.0
        out.fill(0.0)
        return True
    busy = 0
    for x in range(w):
        busy += rows[x] != 0
    if not _rows_work(field, r, torus, rows, busy, np.empty(h, np.int64), tmp):
        _box_sum_dense(field, r, torus, out, tmp, col)
        return False
    _slide_columns(tmp, rows, r, torus, out, col)
    return False


@njit(cache=True)
def box_sum_at(field, r, torus, out, tmp, col, starts, ys):
    """:func:`box_sum_work` of a plane whose nonzero values can only be at the cells listed
    by row (row x: the ascending columns ``ys[starts[x]:starts[x + 1]]``, see
    :func:`_by_row`), as the presence fields' occupancy planes: the rows are slid by those
    cells (:func:`_slide_row_at`) without looking at the others. Bit-identical to the dense
    passes; on a torus it is :func:`box_sum_work`."""
    w, h = field.shape
    if torus or r <= 0:
        box_sum_work(field, r, torus, out, tmp, col)
        return
    rows = np.empty(w, np.int64)
    total = _rows_at(field, r, starts, ys, tmp, rows)
    if total == 0:
        out.fill(0.0)
        return
    _slide_columns(tmp, rows, r, torus, out, col)


@njit(cache=True, _nrt=False)
def _by_row(ai, slots, n, starts, ys):
    """The cells of the agents ``slots[:n]`` (on the map, one to a cell) by row, for
    :func:`box_sum_at`: row x holds the columns ``ys[starts[x]:starts[x + 1]]``, in
    ascending order (a counting sort by row, then an insertion sort within each)."""
    w = starts.size - 1
    starts.fill(0)
    for i in range(n):
        starts[ai[slots[i], I_X] + 1] += 1
    for x in range(w):
        starts[x + 1] += starts[x]
    for i in range(n):  # starts[x] moves on to the end of row x ...
        x = ai[slots[i], I_X]
        ys[starts[x]] = ai[slots[i], I_Y]
        starts[x] += 1
    for x in range(w, 0, -1):  # ... and back to its start
        starts[x] = starts[x - 1]
    starts[0] = 0
    for x in range(w):
        for k in range(starts[x] + 1, starts[x + 1]):
            v = ys[k]
            j = k - 1
            while j >= starts[x] and ys[j] > v:
                ys[j + 1] = ys[j]
                j -= 1
            ys[j + 1] = v


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


@njit(inline="always", cache=True)
def site_event(lay, plane, x, y):
    """An event counted at its cell in an event-site plane (``plane``, one of
    ``SITE_LAYERS``: outputs only), and the plane flagged as written (``S_SITE0``), so that
    :func:`clear_sites` clears it when the next tick starts and leaves the others alone."""
    lay.f[plane, x, y] += 1.0
    lay.scalars[S_SITE0 + plane - L_SITE_ATTACK] = 1.0


@njit(cache=True, _nrt=False)
def clear_sites(lay):
    """When a tick starts: the event-site planes written since they were last cleared
    (flagged by :func:`site_event`) are cleared, and their flags (the others are all zero
    already; ``site_abuse`` is never flagged: the tick overwrites all of it,
    :func:`sim.engine.layer_tick.layer_tick`), and the cells of the last tick's clashes
    (districts, read by the metrics; cleared every tick). Returns how many site planes were
    cleared."""
    s = lay.scalars
    n = 0
    for k in range(N_SITE_FLAGS):
        if s[S_SITE0 + k] != 0.0:
            lay.f[L_SITE_ATTACK + k].fill(0.0)
            s[S_SITE0 + k] = 0.0
            n += 1
    lay.f[L_CLASH_AT].fill(0.0)  # --- districts
    return n


#: the groups of a tick's roster (:func:`roster`): units, officers, combatants, and the
#: residents presence counts (leaders; the displaced, with protection sites)
G_UNITS, G_POLICE, G_COMBATANTS, G_RESIDENTS = 0, 1, 2, 3
N_GROUPS = 4


@njit(cache=True, _nrt=False)
def roster(ai, high, prm, slots, counts):
    """Who is who, in one pass over the slots: the living units, officers and combatants
    (on the map or not) and the residents presence counts (leaders; with protection sites,
    the displaced), each group in slot order (``slots[g, :counts[g]]``, ``G_*``). The phases
    over one kind visit its list instead of every slot, and check each agent as a pass over
    the slots would (alive, its kind, on the map): a list made when the tick starts holds
    every agent of the kind as long as none is created or converted to it before its use
    (recruits join in step 8, after the last phase that reads the lists of combatants)."""
    counts.fill(0)
    displaced = prm.mechanisms_protection_sites and prm.sites_count > 0  # --- zones
    for a in range(high):
        if not ai[a, I_ALIVE]:
            continue
        kind = ai[a, I_KIND]
        if kind == PEACEKEEPER:
            g = G_UNITS
        elif kind == POLICE:
            g = G_POLICE
        elif kind == COMBATANT:
            g = G_COMBATANTS
        elif ai[a, I_LEADER] or (displaced and ai[a, I_DISPLACED]):
            g = G_RESIDENTS
        else:
            continue
        slots[g, counts[g]] = a
        counts[g] += 1


@njit(cache=True, _nrt=False)
def _occupancy(ai, af, lay, prm, slots, counts, on, n_on):
    """Occupancy planes (1, or a weight, on an agent's cell), over the agents of the roster
    (:func:`roster`) who are on the map: units (count, deterrence and interdiction weights
    by role, ODD 7.9a), police (count, professionalism, arrest weight), engagement, DDR and
    mentoring units, community officers and officers who meet leaders, combatants (all, and
    per faction), leaders (and their trust); checkpoints, and (with protection sites)
    displaced residents. Returns the number of units and of officers on the map.

    The planes are all zero when it starts (:func:`_clear_occupancy` leaves them so, but
    for the checkpoints and the officers who meet leaders, cleared here), and one agent
    stands on a cell: each value is written once. Who was written is listed by group
    (``on[g, :n_on[g]]``, slot order) for the box sums and the clearing."""
    work = lay.work
    units = 0
    officers = 0
    n_on.fill(0)
    work[W_CHECKPOINT].fill(0.0)  # read after presence (checkpoint_phase): cleared here
    dialogue = forum_on(prm)  # communities: officers who meet leaders (ODD 7.26)
    if dialogue:
        work[W_DIALOGUE].fill(0.0)  # summed in place by presence: cleared here
    displaced = prm.mechanisms_protection_sites and prm.sites_count > 0  # --- zones
    for g in range(N_GROUPS):
        for i in range(counts[g]):
            a = slots[g, i]
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
                k = G_UNITS
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
                k = G_POLICE
            elif kind == COMBATANT:
                work[W_FACTION + ai[a, I_FACTION], x, y] += 1.0
                work[W_COMBATANTS, x, y] += 1.0
                k = G_COMBATANTS
            else:
                k = -1
                if ai[a, I_LEADER]:
                    work[W_LEADERS, x, y] += 1.0
                    work[W_LEADER_TRUST, x, y] += af[a, F_TRUST_PK]
                    k = G_RESIDENTS
                if displaced and ai[a, I_DISPLACED]:  # --- zones: the displaced (ODD 7.23)
                    work[W_DISPLACED, x, y] += 1.0
                    k = G_RESIDENTS
                if k < 0:
                    continue
            on[k, n_on[k]] = a
            n_on[k] += 1
    return units, officers


@njit(cache=True, _nrt=False)
def _clear_occupancy(ai, lay, prm, slots, counts):
    """Zero what :func:`_occupancy` (and the leader planes of :func:`presence`) wrote, at
    the cells of the agents it listed (nobody has moved since): the planes are all zero
    again for the next call, without filling some twenty planes a tick."""
    work = lay.work
    nf = prm.armed_groups_factions
    for g in range(N_GROUPS):
        for i in range(counts[g]):
            a = slots[g, i]
            x = ai[a, I_X]
            y = ai[a, I_Y]
            if g == G_UNITS:
                work[W_PK, x, y] = 0.0
                work[W_DETER, x, y] = 0.0
                work[W_INTERDICT, x, y] = 0.0
                work[W_ENGAGE, x, y] = 0.0
                work[W_DDR, x, y] = 0.0
                work[W_MENTOR, x, y] = 0.0
            elif g == G_POLICE:
                work[W_POLICE, x, y] = 0.0
                work[W_POLICE_PROF, x, y] = 0.0
                work[W_POLICE_ARREST, x, y] = 0.0
                work[W_COMMUNITY, x, y] = 0.0
            elif g == G_COMBATANTS:
                for k in range(nf):
                    work[W_FACTION + k, x, y] = 0.0
                work[W_COMBATANTS, x, y] = 0.0
            else:
                work[W_LEADERS, x, y] = 0.0
                work[W_LEADER_TRUST, x, y] = 0.0
                work[W_DISPLACED, x, y] = 0.0
                work[W_ENGAGED, x, y] = 0.0
                work[W_FORUM, x, y] = 0.0


@njit(cache=True)
def box(lay, plane, r, torus, out, starts, ys, g):
    """Box sum of the occupancy plane ``lay.work[plane]`` into ``out``, by the cells of
    group ``g`` (:func:`box_sum_at`), with the layer's scratch buffers."""
    box_sum_at(lay.work[plane], r, torus, out, lay.work[W_TMP], lay.col, starts[g], ys[g])


@njit(cache=True)
def presence(ag, meta, lay, prm):
    """ODD 7.7: :func:`presence_of`, who is within reach of every cell, with the roster made
    here (:func:`roster`; the tick makes its own when it starts)."""
    high = meta[META_HIGH]
    slots = np.empty((N_GROUPS, max(high, 1)), np.int64)
    counts = np.zeros(N_GROUPS, np.int64)
    roster(ag.i, high, prm, slots, counts)
    presence_of(ag, meta, lay, prm, slots, counts)


@njit(cache=True)
def presence_of(ag, meta, lay, prm, slots, counts):
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
    checkpoints' control is :func:`sim.engine.layer_tick.checkpoint_phase`.

    The agents are those of the tick's roster (:func:`roster`, ``slots``, ``counts``); the
    occupancy planes are written at their cells (:func:`_occupancy`), summed by those cells
    (:func:`box_sum_at`) and zeroed again there (:func:`_clear_occupancy`)."""
    ai = ag.i
    torus = prm.world_torus
    f = lay.f
    work = lay.work
    w = f.shape[1]
    most = 1
    for g in range(N_GROUPS):
        most = max(most, counts[g])
    on = np.empty((N_GROUPS, most), np.int64)
    n_on = np.zeros(N_GROUPS, np.int64)
    units, officers = _occupancy(ai, ag.f, lay, prm, slots, counts, on, n_on)
    starts = np.empty((N_GROUPS, w + 1), np.int64)
    ys = np.empty((N_GROUPS, most), np.int64)
    for g in range(N_GROUPS):
        _by_row(ai, on[g], n_on[g], starts[g], ys[g])
    # --- accept: who is on the map, and local partners' reach (ODD 7.21) ---
    meta[META_UNITS] = units
    meta[META_OFFICERS] = officers
    if prm.mechanisms_partners and lay.scalars[S_PARTNER_TOTAL] > 0.0:
        box_sum_work(f[L_PARTNER], prm.partners_radius, torus, f[L_PARTNER_REACH],
                     work[W_TMP], lay.col)
    rc = prm.armed_groups_vision
    box(lay, W_DETER, rc, torus, f[L_DETER], starts, ys, G_UNITS)
    box(lay, W_INTERDICT, rc, torus, f[L_INTERDICT], starts, ys, G_UNITS)
    box(lay, W_POLICE_PROF, rc, torus, f[L_SEC_POLICE], starts, ys, G_POLICE)
    box(lay, W_POLICE, rc, torus, f[L_N_POLICE], starts, ys, G_POLICE)
    box(lay, W_POLICE_ARREST, rc, torus, f[L_POLICE_ARREST], starts, ys, G_POLICE)
    for fac in range(prm.armed_groups_factions):
        box(lay, W_FACTION + fac, rc, torus, lay.comb_own[fac], starts, ys, G_COMBATANTS)
    box(lay, W_INTERDICT, prm.protection_interrupt_radius, torus, f[L_INTERRUPT], starts, ys,
        G_UNITS)
    box(lay, W_COMBATANTS, prm.residents_vision, torus, f[L_COMB_SEEN], starts, ys,
        G_COMBATANTS)
    box(lay, W_PK, prm.tip_reach, torus, f[L_PK_REACH], starts, ys, G_UNITS)
    box(lay, W_POLICE, prm.information_report_reach, torus, f[L_POLICE_REACH], starts, ys,
        G_POLICE)
    box(lay, W_COMMUNITY, prm.information_community_reach, torus, f[L_COMMUNITY_REACH],
        starts, ys, G_POLICE)
    box(lay, W_ENGAGE, prm.strategy_engagement_radius, torus, f[L_ENGAGE], starts, ys,
        G_UNITS)
    box(lay, W_DDR, prm.ddr_radius, torus, f[L_DDR_REACH], starts, ys, G_UNITS)
    box(lay, W_MENTOR, prm.strategy_mentor_radius, torus, f[L_MENTOR], starts, ys, G_UNITS)
    lr = prm.trust_leader_radius
    box(lay, W_LEADERS, lr, torus, f[L_LEADER_N], starts, ys, G_RESIDENTS)
    box(lay, W_LEADER_TRUST, lr, torus, f[L_LEADER_TRUST], starts, ys, G_RESIDENTS)
    # leaders reached by an engagement unit (needs the engagement field just computed)
    engaged = work[W_ENGAGED]
    leaders = on[G_RESIDENTS]
    for i in range(n_on[G_RESIDENTS]):
        a = leaders[i]
        x = ai[a, I_X]
        y = ai[a, I_Y]
        if ai[a, I_KIND] == RESIDENT and ai[a, I_LEADER] and f[L_ENGAGE, x, y] > 0:
            engaged[x, y] += 1.0
    box(lay, W_ENGAGED, lr, torus, f[L_LEADER_ENGAGED], starts, ys, G_RESIDENTS)
    # --- communities: leaders in police-community forums, and who can reach one (ODD 7.26) ---
    if forum_on(prm):
        near = work[W_DIALOGUE]  # officers who meet leaders within police.dialogue_radius
        box(lay, W_DIALOGUE, prm.police_dialogue_radius, torus, near, starts, ys, G_POLICE)
        forum = work[W_FORUM]
        for i in range(n_on[G_RESIDENTS]):
            a = leaders[i]
            x = ai[a, I_X]
            y = ai[a, I_Y]
            if ai[a, I_KIND] == RESIDENT and ai[a, I_LEADER] and takes_part(near[x, y], prm):
                forum[x, y] += 1.0
        box(lay, W_FORUM, lr, torus, f[L_RELAY], starts, ys, G_RESIDENTS)
    else:
        f[L_RELAY].fill(0.0)
    # --- zones: the displaced near every cell, which patrols prioritise (ODD 7.23) ---
    if prm.mechanisms_protection_sites and prm.sites_count > 0:
        box(lay, W_DISPLACED, prm.sites_radius, torus, f[L_DISPLACED_NEAR], starts, ys,
            G_RESIDENTS)
    _clear_occupancy(ai, lay, prm, on, n_on)
