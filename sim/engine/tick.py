"""The core tick: random-sequential activation over every agent (ODD 3, step 5).

As in Epstein (2002) and Mesa's example, each agent in a fresh random order looks, decides,
acts and moves, and later agents see what earlier ones did in the same tick. What an agent
"sees" is read from incremental cell fields (how many cops / actives are in vision of every
cell, ODD 7.1), which are updated when a cop moves or a resident changes state, so a decision
costs O(1) and not a neighbourhood scan. A neighbourhood is scanned only where a specific
agent must be picked (a cop choosing whom to arrest, an active choosing a victim), and only
when the field says there is one.

This module decides order, activation and memory traffic; what each agent does is a rule of
:mod:`sim.rules.civil_violence` (ODD 7.2-7.5).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.grid import (
    TRY_MOVE,
    cell_at,
    inside,
    is_cop,
    random_cell_where,
    random_empty_scan,
    random_marked_cell,
    remove_agent,
    window_add,
)
from sim.engine.layout import (
    ACTIVE,
    EV_ACTIVATIONS,
    EV_DEATHS,
    EV_KILLINGS,
    EV_RELEASES,
    EV_RESIDENTS_SLOWED,
    F_DIALOGUE,
    F_HARDSHIP,
    F_RISK,
    F_TRUST_POLICE,
    I_AGE,
    I_ALIVE,
    I_DEATH_AGE,
    I_DISPLACED,
    I_EMPLOYED,
    I_HOME,
    I_JAIL,
    I_KIND,
    I_STATE,
    I_UID,
    I_VCLASS,
    I_X,
    I_Y,
    JAILED,
    META_HIGH,
    META_NEXT_UID,
    N_FLOAT,
    N_INT,
    QUIESCENT,
    RESIDENT,
)
from sim.engine.memory import PF_CELL, PF_ROW, prefetch, stack_array
from sim.engine.rng import randint_chained, shuffle, uniform
from sim.rules.checkpoints import checkpoints_on, held_probability, passage_control
from sim.rules.civil_violence import (
    INTERGROUP,
    MEMO_SIZE,
    PEACEKEEPING,
    ageing,
    arrest,
    birth_probability,
    clone,
    dies_of_age,
    grievance,
    jail_countdown,
    kill_target,
    moves_in_core,
    release,
    turns_active,
)
from sim.rules.displacement import sites_on


@njit(cache=True, _nrt=False)
def tick(ag, grid, geo, prm, rng, legitimacy, perm, free_stack, meta, events):
    """One tick of random-sequential activation over every agent alive at its start.

    The per-agent steps that touch the fields (move, decide, look for someone to arrest or
    kill) are inner functions of this kernel: numba inlines them with the arrays already
    unpacked, so the per-agent loop does no reference counting (an array *argument* of an
    inlined function costs a count per call: the move, as a module-level function of six
    arrays, made this kernel a fifth slower). The rules they apply are ``inline="always"``
    functions of :mod:`sim.rules.civil_violence` taking scalars, inlined the same way. Each
    inner function is called from one place, to keep the compiled kernel small.
    """
    ai = ag.i
    af = ag.f
    width = geo.width
    height = geo.height
    torus = geo.torus
    n_cells = width * height
    occ = grid.occ.reshape(n_cells)
    fields = grid.fields.reshape(grid.fields.shape[0], n_cells)  # cops, then actives by class
    economy = grid.economy.reshape(n_cells)
    active = grid.active.reshape(n_cells)  # active residents: whom a cop may arrest
    offs = geo.offsets
    flat = geo.flat
    n_off = geo.n_off
    reach = geo.reach
    runs = geo.runs
    n_runs = geo.n_runs
    track = geo.track
    n_class = geo.n_vision
    pk_cops = prm.peacekeepers_act_as_cops
    move_first = prm.unrest_move_first
    extended = prm.model == PEACEKEEPING
    intergroup = prm.unrest_mode == INTERGROUP
    # --- zones: checkpoints hold residents' moves; the displaced at sites stay (7.22, 7.23)
    control = grid.control.reshape(n_cells)
    aid = grid.aid.reshape(n_cells)
    checkpoints = extended and checkpoints_on(prm)
    shelter = extended and sites_on(prm)

    fields_flat = grid.fields.reshape(grid.fields.size)
    # arrest probabilities computed this tick, by counts in vision (turns_active)
    memo = stack_array(MEMO_SIZE)
    memo[:] = -1.0

    def fields_add(first, last, x, y, delta):
        # ``delta`` on rows first..last-1 of ``fields`` (row 0: cops in residents' vision;
        # row 1 + k: actives in vision class k) on every cell that sees (x, y)
        for row in range(first, last):
            k = row - 1 if row > 0 else 0
            if row > 0 and not track[k]:
                continue
            window_add(fields_flat, row * n_cells, x, y, runs, k, n_runs[k], reach[k], width,
                       height, torus, delta)

    def empty_in_vision(x, y, k):
        # sim.engine.grid.random_empty_in_vision on the arrays this kernel holds: rejection
        # sampling, then (nearly full) the exhaustive draw, which is the shared helper. One
        # loop for a window on the grid's interior (a flat step, no wrapping), one for a
        # window across an edge, and the general one for a torus smaller than the window;
        # the offset's index is unsigned, and the draw computed in integers
        # (rng.randint_chained), so that no negative-index fix and no float conversion sits
        # on the chain from the draw to the occupancy test (the tick's longest: most of a move)
        n = n_off[k]
        here = x * height + y
        if inside(x, y, reach[k], width, height):
            for _ in range(TRY_MOVE):
                c = here + flat[k, np.uint64(randint_chained(rng, n))]
                if c >= 0 and occ[c] < 0:
                    return c
        elif reach[k] <= width and reach[k] <= height:
            # near an edge: one shift wraps (torus) or the cell is off the grid (bounded),
            # chosen without a branch (whether a random offset crosses an edge cannot be
            # predicted)
            for _ in range(TRY_MOVE):
                j = np.uint64(randint_chained(rng, n))
                cx = x + offs[k, j, 0]
                cy = y + offs[k, j, 1]
                if torus:
                    cx += width if cx < 0 else 0
                    cx -= width if cx >= width else 0
                    cy += height if cy < 0 else 0
                    cy -= height if cy >= height else 0
                    c = cx * height + cy
                    if occ[np.uint64(c)] < 0:
                        return c
                else:
                    on = (cx >= 0) & (cx < width) & (cy >= 0) & (cy < height)
                    c = cx * height + cy
                    if on & (occ[np.uint64(c if on else 0)] < 0):
                        return c
        else:
            for _ in range(TRY_MOVE):
                j = np.uint64(randint_chained(rng, n))
                c = cell_at(x, y, offs[k, j, 0], offs[k, j, 1], width, height, torus)
                if c >= 0 and occ[c] < 0:
                    return c
        return random_empty_scan(occ, offs, flat, n_off, reach, width, height, torus, rng, x, y,
                                 k)

    def move(a):
        # ODD 7.4: to a uniformly random empty cell within vision (if any), taking along
        # what the agent adds to the fields (an active resident to the active fields, a cop
        # to the cop field)
        kind = ai[a, I_KIND]
        if shelter and kind == RESIDENT and ai[a, I_DISPLACED] and ai[a, I_HOME] >= 0:
            return  # --- zones: the displaced move as displacement says (ODD 7.23)
        x = ai[a, I_X]
        y = ai[a, I_Y]
        c = empty_in_vision(x, y, ai[a, I_VCLASS])
        if c < 0:
            return
        if checkpoints and kind == RESIDENT:  # --- zones: checkpoints slow residents (7.22)
            k = passage_control(control[x * height + y], control[c])
            if k > 0.0 and uniform(rng) < held_probability(k, prm.checkpoints_slow_rate):
                events[EV_RESIDENTS_SLOWED] += 1
                return
        if kind == RESIDENT:
            first, last = (1, 1 + n_class) if ai[a, I_STATE] == ACTIVE else (0, 0)
        else:
            first, last = (0, 1) if is_cop(kind, pk_cops) else (0, 0)
        nx = c // height
        ny = c - nx * height
        here = x * height + y
        occ[here] = -1
        occ[c] = a
        active[c] = active[here]  # the mark moves along (0 but for an active resident)
        active[here] = 0
        ai[a, I_X] = nx
        ai[a, I_Y] = ny
        for side in range(2 if first < last else 0):  # withdraw from the old cell, add here
            old = side == 0
            fields_add(first, last, x if old else nx, y if old else ny, -1 if old else 1)

    def kill_other_group(a):
        # ODD 7.5: a random resident of the other group in vision (if any) is killed
        c = random_cell_where(occ, ai, offs, flat, n_off, reach, width, height, torus, rng,
                              ai[a, I_X], ai[a, I_Y], ai[a, I_VCLASS], kill_target, a, prm)[0]
        if c >= 0:
            remove_agent(ag, grid, geo, prm, occ[c], free_stack, meta)
            events[EV_KILLINGS] += 1

    def decide(a):
        # ODD 7.2 rule A from what the resident sees on its cell's fields
        x = ai[a, I_X]
        here = x * height + ai[a, I_Y]
        if extended:
            g = grievance(
                af[a, F_HARDSHIP],
                x >= 0,
                economy[here] if x >= 0 else 0.0,
                ai[a, I_EMPLOYED],
                af[a, F_TRUST_POLICE],
                af[a, F_DIALOGUE],
                legitimacy,
                prm,
                aid[here] if shelter and x >= 0 and ai[a, I_DISPLACED] else 0.0,
            )
        else:  # Epstein: nothing but hardship is read (no memory traffic for the layer)
            g = grievance(af[a, F_HARDSHIP], False, 0.0, 0, 0.0, 0.0, legitimacy, prm)
        cops = fields[0, here]
        actives = fields[1 + ai[a, I_VCLASS], here] + 1  # oneself
        rebel = turns_active(g, af[a, F_RISK], cops, actives, prm, memo)
        old = ai[a, I_STATE]
        new = ACTIVE if rebel else QUIESCENT
        if rebel and old != ACTIVE:
            events[EV_ACTIVATIONS] += 1
        if old != new:
            if x >= 0 and (old == ACTIVE or new == ACTIVE):
                fields_add(1, 1 + n_class, x, ai[a, I_Y], 1 if new == ACTIVE else -1)
                active[here] = 1 if new == ACTIVE else 0
            ai[a, I_STATE] = new
        if rebel and intergroup:
            kill_other_group(a)

    def arrest_one(a):
        # ODD 7.3 rule C, if the field says there is an active in the cop's vision
        k = ai[a, I_VCLASS]
        x = ai[a, I_X]
        y = ai[a, I_Y]
        actives = fields[1 + k, x * height + y]
        if actives <= 0:
            return
        # whom rule C may arrest (civil_violence.arrestable: an active resident) is marked on
        # the active plane, and the field counts them in vision: the scan reads the marks and
        # stops at the last of them (the draws of random_cell_where with arrestable)
        c = random_marked_cell(active, offs, flat, n_off, reach, runs, n_runs, width, height,
                               torus, rng, x, y, k, actives)
        if c >= 0:
            arrest(ag, grid, geo, prm, rng, a, occ[c], events)

    n = 0
    for a in range(meta[META_HIGH]):
        if ai[a, I_ALIVE]:
            perm[n] = a
            n += 1
    shuffle(perm, n, rng)
    # who was alive at the start: a slot a birth reuses in this tick holds a newer uid, and
    # the newborn waits for the next tick
    first_new_uid = meta[META_NEXT_UID]
    ai_flat = ai.reshape(ai.size)
    af_flat = af.reshape(af.size)
    for i in range(n):
        # the next agents' rows and cells are fetched while this one acts (large grids)
        if i + PF_ROW < n:
            b = perm[i + PF_ROW]
            prefetch(ai_flat, b * N_INT)
            prefetch(af_flat, b * N_FLOAT)
            prefetch(af_flat, b * N_FLOAT + F_DIALOGUE)  # the row may straddle two lines
        if i + PF_CELL < n:
            b = perm[i + PF_CELL]
            bx = ai[b, I_X]
            if bx >= 0:
                c = bx * height + ai[b, I_Y]
                prefetch(occ, c)
                prefetch(fields_flat, c)
                prefetch(fields_flat, (1 + ai[b, I_VCLASS]) * n_cells + c)
                if extended:
                    prefetch(economy, c)
        a = perm[i]
        if not ai[a, I_ALIVE] or ai[a, I_UID] >= first_new_uid:  # died (or reborn) this tick
            continue
        kind = ai[a, I_KIND]
        cop = is_cop(kind, pk_cops)
        if kind == RESIDENT:
            if ageing(prm):
                ai[a, I_AGE] += 1
                if dies_of_age(ai[a, I_AGE], ai[a, I_DEATH_AGE]):
                    remove_agent(ag, grid, geo, prm, a, free_stack, meta)
                    events[EV_DEATHS] += 1
                    continue
            term, serving = jail_countdown(ai[a, I_JAIL])
            if serving:
                ai[a, I_JAIL] = term
                continue
            if ai[a, I_STATE] == JAILED:
                if not release(ag, grid, geo, prm, rng, a):
                    continue
                events[EV_RELEASES] += 1
        moves = moves_in_core(kind, cop, prm)
        if not (moves or cop or kind == RESIDENT):
            continue  # combatants, and units of the layer that do not police, act elsewhere
        for step in range(3):  # move first or last, as configured; act in between
            if step == 1:
                if kind == RESIDENT:
                    decide(a)
                elif cop:
                    arrest_one(a)
            elif moves and (step == 0) == move_first:
                move(a)
        if kind == RESIDENT:
            p = birth_probability(ai[a, I_X] >= 0, prm)
            if p > 0.0 and uniform(rng) < p:
                clone(ag, grid, geo, prm, rng, a, free_stack, meta, events)
    return n
