"""The grid: who stands where, the fields agents feed, and the slots of the agent table.

Occupancy (one agent per cell), the incremental vision fields of the core (ODD 7.1: cops and
actives in vision of every cell, updated when someone enters, leaves or changes state), the
free-slot stack, and the few ways of picking a cell: a uniformly random empty cell of the grid
or of a neighbourhood, a uniformly random cell of a neighbourhood whose occupant qualifies,
the best of a few sampled cells. Rules say *what* qualifies and *what* is better; this module
only walks cells and draws.

Module-level helpers serve the set-up and the peacekeeping layer's phases, which move few
agents; the core tick (:mod:`sim.engine.tick`) keeps its own inlined moves, and updates the
fields with the same :func:`window_add`.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

from sim.engine.layout import (
    ACTIVE,
    F_HARDSHIP,
    F_RISK,
    I_AGE,
    I_ALIVE,
    I_DEATH_AGE,
    I_FACTION,
    I_GROUP,
    I_HOME,
    I_INFORMANT,
    I_JAIL,
    I_KIND,
    I_STATE,
    I_UID,
    I_VCLASS,
    I_X,
    I_Y,
    LAYER_FLOAT_COLUMNS,
    LAYER_INT_COLUMNS,
    META_FREE_TOP,
    META_HIGH,
    META_NEXT_UID,
    PEACEKEEPER,
    POLICE,
    QUIESCENT,
    RESIDENT,
)
from sim.engine.memory import LANES, MARK_LANES, add_lanes, add_span, mask_lanes
from sim.engine.rng import randint, shuffle

TRY_MOVE = 16  # rejection-sampling attempts before an exhaustive scan (uniform either way)
TRY_PLACE = 64


# ----------------------------------------------------------------------------- cells


@njit(inline="always", cache=True)
def wrap(i, n, torus):
    """Coordinate ``i`` on an axis of length ``n``: wrapped on a torus, -1 off a bounded grid.

    Compare and shift rather than ``%`` (a division), which only a tiny torus needs."""
    if i < 0:
        if not torus:
            return -1
        i += n
        if i < 0:
            i %= n
    elif i >= n:
        if not torus:
            return -1
        i -= n
        if i >= n:
            i %= n
    return i


@njit(inline="always", cache=True)
def cell_at(x, y, dx, dy, width, height, torus):
    """Target cell of an offset as a flat index, or -1 when it falls off a bounded grid."""
    cx = wrap(x + dx, width, torus)
    cy = wrap(y + dy, height, torus)
    if cx < 0 or cy < 0:
        return -1
    return cx * height + cy


@njit(inline="always", cache=True)
def inside(x, y, r, width, height):
    """True when every offset within ``r`` of ``(x, y)`` stays on the grid without wrapping,
    so a target cell is just ``x * height + y + flat offset``."""
    return r <= x and x < width - r and r <= y and y < height - r


@njit(inline="always", cache=True)
def target(inner, here, step, x, y, dx, dy, width, height, torus):
    """Flat cell at offset ``(dx, dy)`` (flat ``step``) from ``here`` = ``(x, y)``, or -1;
    ``inner`` is :func:`inside` for the neighbourhood's reach."""
    if inner:
        return here + step
    return cell_at(x, y, dx, dy, width, height, torus)


@njit(inline="always", cache=True)
def distance(c1, c2, height, width, torus):
    """Chebyshev distance between two flat cells (shortest way round on a torus)."""
    x1 = c1 // height
    y1 = c1 % height
    x2 = c2 // height
    y2 = c2 % height
    dx = abs(x1 - x2)
    dy = abs(y1 - y2)
    if torus:
        dx = min(dx, width - dx)
        dy = min(dy, height - dy)
    return max(dx, dy)


# ----------------------------------------------------------------------------- picking cells


@njit(inline="always", cache=True)
def is_empty(b, kind, state, group, informant, my_group, my_faction, prm):
    """Rank for :func:`random_cell_where`: an empty cell qualifies."""
    return 1 if b < 0 else 0


@njit(inline="always", cache=True)
def random_cell_where(occ, ai, offs, flat, n_off, reach, width, height, torus, rng, x, y, k,
                      rank, a, prm, stop=0):
    """A uniformly random cell of neighbourhood class ``k`` of ``(x, y)`` whose occupant
    qualifies for agent ``a`` (-1: nobody), ``rank(...) >= 1``; and, drawn alongside, a
    uniformly random one among those ranked 2 (preferred). Returns ``(cell, preferred cell)``
    as flat indices, -1 where none qualifies.

    ``rank(b, kind, state, group, informant, my_group, my_faction, prm)`` sees the occupant
    ``b`` (-1 for an empty cell, with kind -1) and the looker's group and faction: scalars,
    so judging a cell costs no reference count. One pass in offset order with reservoir
    sampling: one draw per qualifying cell, and a second per preferred cell, so the draws
    depend only on who stands where. The geometry comes unpacked (``Geometry.offsets``,
    ``flat``, ``n_off``, ``reach``): a namedtuple argument of an inlined function costs a
    reference count per array per call.

    ``stop`` > 0 says how many cells qualify (a caller that keeps count, as the active fields
    do): the scan ends at the last of them, which changes nothing (no draw is made after it).
    """
    my_group = ai[a, I_GROUP] if a >= 0 else -1
    my_faction = ai[a, I_FACTION] if a >= 0 else -1
    inner = inside(x, y, reach[k], width, height)
    here = x * height + y
    found = 0
    pick = -1
    found2 = 0
    pick2 = -1
    for j in range(n_off[k]):
        c = target(inner, here, flat[k, j], x, y, offs[k, j, 0], offs[k, j, 1], width, height,
                   torus)
        if c < 0:
            continue
        b = occ[c]
        if b >= 0:
            r = rank(b, ai[b, I_KIND], ai[b, I_STATE], ai[b, I_GROUP], ai[b, I_INFORMANT],
                     my_group, my_faction, prm)
        else:
            r = rank(b, -1, -1, -1, 0, my_group, my_faction, prm)
        if r > 0:
            found += 1
            if randint(rng, found) == 0:
                pick = c
            if r > 1:
                found2 += 1
                if randint(rng, found2) == 0:
                    pick2 = c
            if found == stop:
                break
    return pick, pick2


@njit(inline="always", cache=True)
def random_marked_cell(mark, offs, flat, n_off, reach, runs, n_runs, width, height, torus, rng,
                       x, y, k, stop=0):
    """``random_cell_where(...)[0]`` for a rank that is 1 exactly on the cells flagged in
    ``mark`` (a flat int8 plane kept in step with the agents, as ``Grid.active`` marks whom
    a cop may arrest): the same cell and the same draws (one per flagged cell, in offset
    order, up to the ``stop``-th), without reading the occupants' rows.

    Why: a cop's arrest scan read the row of every occupant in its vision (a cache line at a
    random place each, most of the scan's time). Here a window on the grid's interior goes by
    its runs (``Geometry.runs``: consecutive stretches of a column, in offset order), each
    tested :data:`MARK_LANES` cells at a time with one vector compare
    (:func:`sim.engine.memory.mask_lanes`), visiting only the flagged cells, in order."""
    found = 0
    pick = -1
    if inside(x, y, reach[k], width, height):
        here = x * height + y
        size = mark.size
        for q in range(n_runs[k]):
            start = here + runs[k, q, 0] * height + runs[k, q, 1]
            length = runs[k, q, 2]
            i = 0
            while i < length:
                m = min(length - i, MARK_LANES)
                if start + i + MARK_LANES <= size:
                    bits = mask_lanes(mark, start + i, m)
                else:  # the array's last cells: one at a time
                    bits = 0
                    for t in range(m):
                        if mark[start + i + t] != 0:
                            bits |= 1 << t
                while bits != 0:
                    found += 1
                    if randint(rng, found) == 0:
                        pick = start + i + trailing_zeros(bits)
                    if found == stop:
                        return pick
                    bits &= bits - 1
                i += MARK_LANES
        return pick
    for j in range(n_off[k]):
        c = cell_at(x, y, offs[k, j, 0], offs[k, j, 1], width, height, torus)
        if c >= 0 and mark[c] != 0:
            found += 1
            if randint(rng, found) == 0:
                pick = c
            if found == stop:
                break
    return pick


@njit(inline="always", cache=True)
def random_empty_scan(occ, offs, flat, n_off, reach, width, height, torus, rng, x, y, k):
    """``random_cell_where(..., is_empty, ...)[0]``: the same cell and the same draws (one per
    empty cell, in offset order), in three passes instead of one: count the empty cells, make
    the draws (the pick is the last empty cell whose draw is 0), then walk to it.

    Why: in a nearly full neighbourhood (where rejection sampling gave up) whether the next
    cell is empty cannot be predicted, and the one-pass scan paid a mispredicted branch per
    empty cell. Here the counts are branch-free and the draws touch no memory."""
    inner = inside(x, y, reach[k], width, height)
    here = x * height + y
    n = n_off[k]
    empty = 0
    for j in range(n):
        c = target(inner, here, flat[k, j], x, y, offs[k, j, 0], offs[k, j, 1], width, height,
                   torus)
        empty += (c >= 0) & (occ[max(c, 0)] < 0)
    pick = 0
    for i in range(1, empty + 1):
        if randint(rng, i) == 0:
            pick = i
    if pick == 0:
        return -1
    seen = 0
    for j in range(n):
        c = target(inner, here, flat[k, j], x, y, offs[k, j, 0], offs[k, j, 1], width, height,
                   torus)
        seen += (c >= 0) & (occ[max(c, 0)] < 0)
        if seen == pick:
            return c
    return -1  # not reached: the pick-th empty cell exists


@njit(inline="always", cache=True)
def neighbour_where(ai, grid, geo, prm, rng, x, y, k, rank, a):
    """:func:`random_cell_where` on the model's grid and geometry (for the layer's phases,
    which pick rarely)."""
    return random_cell_where(grid.occ.reshape(-1), ai, geo.offsets, geo.flat, geo.n_off,
                             geo.reach, geo.width, geo.height, geo.torus, rng, x, y, k, rank, a,
                             prm)


@njit(inline="always", cache=True)
def _empty_in_vision(ai, occ, geo, rng, x, y, k):
    """:func:`random_empty_in_vision`, inlined where it is called."""
    offs = geo.offsets
    flat = geo.flat
    n = geo.n_off[k]
    w = geo.width
    h = geo.height
    inner = inside(x, y, geo.reach[k], w, h)
    here = x * h + y
    for _ in range(TRY_MOVE):
        j = randint(rng, n)
        c = target(inner, here, flat[k, j], x, y, offs[k, j, 0], offs[k, j, 1], w, h, geo.torus)
        if c >= 0 and occ[c] < 0:
            return c
    return random_empty_scan(occ, offs, flat, geo.n_off, geo.reach, w, h, geo.torus, rng, x, y,
                             k)


@njit(cache=True, _nrt=False)
def random_empty_in_vision(ai, occ, geo, rng, x, y, k):
    """A uniformly random empty cell in neighbourhood class ``k`` of ``(x, y)`` (flat), or -1.

    Rejection sampling over the offsets (uniform among empty cells), then an exhaustive
    scan when the neighbourhood is nearly full (still uniform). The core tick runs these same
    steps as a closure over the arrays it holds (``empty_in_vision`` in
    :func:`sim.engine.tick.tick`): there a call with six array arguments, made for every
    agent, would cost a fifth of the tick."""
    return _empty_in_vision(ai, occ, geo, rng, x, y, k)


@njit(inline="always", cache=True)
def best_sampled_cell(occ, geo, rng, x, y, k, samples, score, best_score, lay, prm):
    """The best of ``samples`` uniformly drawn offsets of class ``k`` from ``(x, y)``: the
    empty cell with the highest ``score(lay, prm, rng, cx, cy)``, if it beats ``best_score``
    (flat index), else -1. Off-grid and occupied draws are skipped (and not scored)."""
    w = geo.width
    h = geo.height
    n = geo.n_off[k]
    best = -1
    for _ in range(samples):
        j = randint(rng, n)
        c = cell_at(x, y, geo.offsets[k, j, 0], geo.offsets[k, j, 1], w, h, geo.torus)
        if c >= 0 and occ[c] < 0:
            cx = c // h
            s = score(lay, prm, rng, cx, c - cx * h)
            if s > best_score:
                best = c
                best_score = s
    return best


@njit(cache=True)
def random_empty_cell(occ, rng):
    """A uniformly random empty cell of the whole grid (flat index), or -1 if it is full.

    ``occ`` is the flat occupancy array."""
    n = occ.shape[0]
    for _ in range(TRY_PLACE):
        c = randint(rng, n)
        if occ[c] < 0:
            return c
    found = 0
    pick = -1
    for c in range(n):
        if occ[c] < 0:
            found += 1
            if randint(rng, found) == 0:
                pick = c
    return pick


# ----------------------------------------------------------------------------- fields


@njit(inline="always", cache=True)
def window_add(flat, base, x, y, runs, k, n, r, width, height, torus, delta):
    """Add ``delta`` to every cell from which ``(x, y)`` is visible in neighbourhood class
    ``k``, in the plane that starts at ``flat[base]`` (a grid plane as a flat array, cell
    ``cx * height + cy``). The ``n`` offsets go as runs of consecutive dy (``Geometry.runs``),
    each a contiguous stretch of a column of the grid, added :data:`LANES` cells at a time
    (:func:`sim.engine.memory.add_span`): the fields are integers, so any order of the
    additions gives the same counts. ``r`` is the class's reach: a window that stays on the
    grid (most) needs no wrapping or clipping."""
    if inside(x, y, r, width, height):
        here = base + x * height + y
        if 2 * r < LANES and here + r * height + r + LANES <= flat.size:
            # every run fits one vector, which stays inside the array
            for q in range(n):
                add_lanes(flat, here + runs[k, q, 0] * height + runs[k, q, 1], runs[k, q, 2],
                          delta)
            return
        for q in range(n):
            add_span(flat, here + runs[k, q, 0] * height + runs[k, q, 1], runs[k, q, 2], delta)
        return
    if r <= width and r <= height:
        # across an edge: one shift wraps a coordinate (torus), or an off-grid stretch is
        # clipped to nothing (bounded), chosen without branches
        for q in range(n):
            cx = x + runs[k, q, 0]
            y0 = y + runs[k, q, 1]
            length = runs[k, q, 2]
            if torus:
                cx += width if cx < 0 else 0
                cx -= width if cx >= width else 0
                y0 += height if y0 < 0 else 0
                y0 -= height if y0 >= height else 0
                col = base + cx * height
                first = min(length, height - y0)  # a stretch across the edge goes on at 0
                add_span(flat, col + y0, first, delta)
                add_span(flat, col, length - first, delta)
            else:
                lo = max(y0, 0)
                count = min(y0 + length, height) - lo
                on = (cx >= 0) & (cx < width)
                add_span(flat, base + cx * height + lo, count if on else 0, delta)
        return
    for q in range(n):  # a torus smaller than the window
        cx = wrap(x + runs[k, q, 0], width, torus)
        if cx < 0:
            continue
        col = base + cx * height
        y0 = y + runs[k, q, 1]
        y1 = y0 + runs[k, q, 2]
        if torus:
            cy = wrap(y0, height, torus)
            left = y1 - y0
            while left > 0:  # a stretch that crosses the edge continues at 0
                stretch = min(left, height - cy)
                add_span(flat, col + cy, stretch, delta)
                left -= stretch
                cy = 0
        else:
            lo = max(y0, 0)
            add_span(flat, col + lo, min(y1, height) - lo, delta)


@njit(cache=True, _nrt=False)
def add_window(flat, base, x, y, runs, k, n, r, width, height, torus, delta):
    """:func:`window_add` as a function of its own, called by :func:`leave`, :func:`enter`
    and :func:`set_state` (a few arrays and scalars: a cheap call). Inlined, its vector
    loops made every kernel that moves agents through those functions larger, and the
    units' and combatants' phases a quarter slower, though they rarely run it."""
    window_add(flat, base, x, y, runs, k, n, r, width, height, torus, delta)


@njit(inline="always", cache=True)
def _active_add(grid, geo, x, y, delta):
    """:func:`active_add`, inlined where it is called (in :func:`set_state`, :func:`leave`
    and :func:`enter`, run for every arrest and release: a call taking the tables counts a
    reference to each of their arrays)."""
    flat = grid.fields.reshape(grid.fields.size)
    n_cells = geo.width * geo.height
    for k in range(geo.n_vision):
        if geo.track[k]:
            add_window(flat, (1 + k) * n_cells, x, y, geo.runs, k, geo.n_runs[k], geo.reach[k],
                       geo.width, geo.height, geo.torus, delta)


@njit(cache=True)
def active_add(grid, geo, x, y, delta):
    """An active resident at ``(x, y)`` appears (+1) or disappears (-1) in the active fields."""
    _active_add(grid, geo, x, y, delta)


@njit(inline="always", cache=True)
def _cop_add(grid, geo, x, y, delta):
    """:func:`cop_add`, inlined where it is called."""
    add_window(grid.fields.reshape(grid.fields.size), 0, x, y, geo.runs, 0, geo.n_runs[0],
               geo.reach[0], geo.width, geo.height, geo.torus, delta)


@njit(cache=True)
def cop_add(grid, geo, x, y, delta):
    """A cop at ``(x, y)`` appears (+1) or disappears (-1) in the cop field (residents'
    vision)."""
    _cop_add(grid, geo, x, y, delta)


@njit(inline="always", cache=True)
def is_cop(kind, pk_are_cops):
    """Who feeds the cop field (ODD 7.1): police, and peacekeepers acting as cops."""
    return kind == POLICE or (kind == PEACEKEEPER and pk_are_cops)


# ----------------------------------------------------------------------------- occupancy


@njit(cache=True, _nrt=False)
def leave(ag, grid, geo, prm, a):
    """Take agent ``a`` off its cell, withdrawing what it contributes to the fields."""
    ai = ag.i
    x = ai[a, I_X]
    y = ai[a, I_Y]
    if x < 0:
        return
    grid.occ[x, y] = -1
    grid.active[x, y] = 0
    kind = ai[a, I_KIND]
    if kind == RESIDENT:
        if ai[a, I_STATE] == ACTIVE:
            _active_add(grid, geo, x, y, -1)
    elif is_cop(kind, prm.peacekeepers_act_as_cops):
        _cop_add(grid, geo, x, y, -1)
    ai[a, I_X] = -1
    ai[a, I_Y] = -1


@njit(cache=True, _nrt=False)
def enter(ag, grid, geo, prm, a, x, y):
    """Put agent ``a`` on the empty cell ``(x, y)``, adding what it contributes."""
    ai = ag.i
    grid.occ[x, y] = a
    ai[a, I_X] = x
    ai[a, I_Y] = y
    kind = ai[a, I_KIND]
    grid.active[x, y] = marked(kind, ai[a, I_STATE])
    if kind == RESIDENT:
        if ai[a, I_STATE] == ACTIVE:
            _active_add(grid, geo, x, y, 1)
    elif is_cop(kind, prm.peacekeepers_act_as_cops):
        _cop_add(grid, geo, x, y, 1)


@njit(inline="always", cache=True)
def feeds_fields(kind, state, pk_are_cops):
    """Whether an agent counts in the core's vision fields where it stands (ODD 7.1): an
    active resident, or a cop."""
    if kind == RESIDENT:
        return state == ACTIVE
    return is_cop(kind, pk_are_cops)


@njit(inline="always", cache=True)
def marked(kind, state):
    """What ``Grid.active`` holds for an agent where it stands: 1 for an active resident
    (whom a cop may arrest, ODD 7.3: ``civil_violence.arrestable``), else 0."""
    return 1 if kind == RESIDENT and state == ACTIVE else 0


@njit(inline="always", cache=True)
def _move(ag, grid, geo, prm, a, c):
    """:func:`relocate`, inlined where it is called. An agent on the grid that feeds no
    vision field (a unit or a combatant of the layer, a quiescent resident: most moves of
    the layer) only changes cells, without the calls of :func:`leave` and :func:`enter`:
    a call that takes the tables counts a reference to each of their arrays (an atomic
    operation each, some thirty a call), which cost those moves twice what they do."""
    ai = ag.i
    x = ai[a, I_X]
    if x >= 0 and not feeds_fields(ai[a, I_KIND], ai[a, I_STATE], prm.peacekeepers_act_as_cops):
        occ = grid.occ
        occ[x, ai[a, I_Y]] = -1
        nx = c // geo.height
        ny = c - nx * geo.height
        occ[nx, ny] = a
        ai[a, I_X] = nx
        ai[a, I_Y] = ny
    else:
        leave(ag, grid, geo, prm, a)
        nx = c // geo.height
        enter(ag, grid, geo, prm, a, nx, c - nx * geo.height)


@njit(cache=True, _nrt=False)
def relocate(ag, grid, geo, prm, a, c):
    """Move agent ``a`` to the empty flat cell ``c``."""
    _move(ag, grid, geo, prm, a, c)


@njit(cache=True, _nrt=False)
def move_in_vision(ag, grid, geo, prm, rng, a):
    """Move to a uniformly random empty cell within vision (if any)."""
    ai = ag.i
    c = _empty_in_vision(ai, grid.occ.reshape(-1), geo, rng, ai[a, I_X], ai[a, I_Y],
                         ai[a, I_VCLASS])
    if c >= 0:
        _move(ag, grid, geo, prm, a, c)


@njit(cache=True, _nrt=False)
def set_state(ag, grid, geo, a, new_state):
    """Change a resident's state, keeping the active fields in step."""
    ai = ag.i
    old = ai[a, I_STATE]
    if old == new_state:
        return
    x = ai[a, I_X]
    if x >= 0:
        if old == ACTIVE:
            _active_add(grid, geo, x, ai[a, I_Y], -1)
        elif new_state == ACTIVE:
            _active_add(grid, geo, x, ai[a, I_Y], 1)
        grid.active[x, ai[a, I_Y]] = marked(ai[a, I_KIND], new_state)
    ai[a, I_STATE] = new_state


# ----------------------------------------------------------------------------- slots


@njit(inline="always", cache=True)
def free(ai, a, free_stack, meta):
    """Return slot ``a`` to the free-slot stack."""
    ai[a, I_ALIVE] = 0
    free_stack[meta[META_FREE_TOP]] = a
    meta[META_FREE_TOP] += 1


@njit(cache=True, _nrt=False)
def remove_agent(ag, grid, geo, prm, a, free_stack, meta):
    """Remove agent ``a`` from the world (death, drawdown)."""
    leave(ag, grid, geo, prm, a)
    free(ag.i, a, free_stack, meta)


@njit(inline="always", cache=True)
def reset_layer_state(ai, af, a):
    """Zero the peacekeeping-layer attributes of a slot that is being (re)used."""
    for c in LAYER_INT_COLUMNS:
        ai[a, c] = 0
    ai[a, I_HOME] = -1
    for c in LAYER_FLOAT_COLUMNS:
        af[a, c] = 0.0


@njit(inline="always", cache=True)
def take_slot(ai, af, kind, vclass, free_stack, meta):
    """Pop a free slot and give it a fresh agent of ``kind``, off the grid; returns the slot."""
    meta[META_FREE_TOP] -= 1
    a = free_stack[meta[META_FREE_TOP]]
    if a >= meta[META_HIGH]:
        meta[META_HIGH] = a + 1
    ai[a, I_KIND] = kind
    ai[a, I_ALIVE] = 1
    ai[a, I_STATE] = QUIESCENT
    ai[a, I_JAIL] = 0
    af[a, F_HARDSHIP] = 0.0
    af[a, F_RISK] = 0.0
    ai[a, I_GROUP] = 0
    ai[a, I_AGE] = 0
    ai[a, I_DEATH_AGE] = 0
    ai[a, I_UID] = meta[META_NEXT_UID]
    meta[META_NEXT_UID] += 1
    ai[a, I_VCLASS] = vclass
    reset_layer_state(ai, af, a)
    ai[a, I_X] = -1
    ai[a, I_Y] = -1
    return a


@njit(cache=True, _nrt=False)
def new_agent(ag, grid, geo, prm, kind, vclass, cell, free_stack, meta):
    """Create an agent of ``kind`` on the empty flat ``cell``; returns its slot."""
    a = take_slot(ag.i, ag.f, kind, vclass, free_stack, meta)
    x = cell // geo.height
    enter(ag, grid, geo, prm, a, x, cell - x * geo.height)
    return a


@njit(cache=True, _nrt=False)
def convert(ag, grid, geo, prm, a, kind, vclass, meta):
    """Change an agent's kind in place (a new uid: the Mesa view follows)."""
    x = ag.i[a, I_X]
    y = ag.i[a, I_Y]
    leave(ag, grid, geo, prm, a)
    ag.i[a, I_STATE] = QUIESCENT
    ag.i[a, I_KIND] = kind
    ag.i[a, I_VCLASS] = vclass
    ag.i[a, I_UID] = meta[META_NEXT_UID]
    meta[META_NEXT_UID] += 1
    enter(ag, grid, geo, prm, a, x, y)


@njit(cache=True, _nrt=False)
def shuffled_slots(ai, high, kind, perm, rng):
    """Slots of the agents of ``kind`` on the grid, in a fresh random order (into ``perm``);
    returns how many."""
    n = 0
    for a in range(high):
        if ai[a, I_ALIVE] and ai[a, I_KIND] == kind and ai[a, I_X] >= 0:
            perm[n] = a
            n += 1
    shuffle(perm, n, rng)
    return n


@njit(cache=True)
def place_new_slots(ag, grid, geo, prm, rng, kind, vclass, count, free_stack, meta):
    """Create ``count`` agents of ``kind`` on random empty cells; returns the slots of those
    that fitted, in creation order."""
    occ = grid.occ.reshape(-1)
    slots = np.empty(count, np.int64)
    made = 0
    for _ in range(count):
        c = random_empty_cell(occ, rng)
        if c < 0 or meta[META_FREE_TOP] == 0:
            break
        slots[made] = new_agent(ag, grid, geo, prm, kind, vclass, c, free_stack, meta)
        made += 1
    return slots[:made]


@njit(cache=True)
def place_new(ag, grid, geo, prm, rng, kind, vclass, count, free_stack, meta):
    """:func:`place_new_slots`, returning only how many agents fitted."""
    return place_new_slots(ag, grid, geo, prm, rng, kind, vclass, count, free_stack, meta).size


@njit(cache=True)
def remove_random(ag, grid, geo, prm, rng, kind, count, free_stack, meta):
    """Remove ``count`` random agents of ``kind`` (e.g. a police or troop drawdown)."""
    ai = ag.i
    pool = np.empty(meta[META_HIGH], dtype=np.int64)
    n = 0
    for a in range(meta[META_HIGH]):
        if ai[a, I_ALIVE] and ai[a, I_KIND] == kind:
            pool[n] = a
            n += 1
    removed = 0
    while removed < count and n > 0:
        j = randint(rng, n)
        remove_agent(ag, grid, geo, prm, pool[j], free_stack, meta)
        pool[j] = pool[n - 1]
        n -= 1
        removed += 1
    return removed


@njit(cache=True)
def rebuild_fields(ag, grid, geo, prm):
    """Recompute occupancy, both fields and the active plane from the agent arrays (set-up
    and checks)."""
    ai = ag.i
    grid.occ.fill(-1)
    grid.fields.fill(0)
    grid.active.fill(0)
    for a in range(ai.shape[0]):
        if not ai[a, I_ALIVE] or ai[a, I_X] < 0:
            continue
        x = ai[a, I_X]
        y = ai[a, I_Y]
        grid.occ[x, y] = a
        kind = ai[a, I_KIND]
        grid.active[x, y] = marked(kind, ai[a, I_STATE])
        if kind == RESIDENT:
            if ai[a, I_STATE] == ACTIVE:
                active_add(grid, geo, x, y, 1)
        elif is_cop(kind, prm.peacekeepers_act_as_cops):
            cop_add(grid, geo, x, y, 1)
