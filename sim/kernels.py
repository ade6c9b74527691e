"""Numba kernels for Epstein's civil-violence rules (MODEL.md 4.1 and 4.2).

One tick is random-sequential activation over every agent, as in Epstein (2002) and Mesa's
example: each agent in a fresh random order looks, decides, acts and moves, and later agents
see what earlier ones did in the same tick. What an agent "sees" is read from incremental
cell fields (how many cops / actives are in vision of every cell), which are updated when a
cop moves or a resident changes state, so a decision costs O(1) and not a neighbourhood scan.
Scans of a neighbourhood happen only where a specific agent must be picked (a cop choosing
whom to arrest, an active choosing a victim), and only when the field says there is one.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from sim.rng import randint, uniform

# agent kinds
RESIDENT, POLICE, PEACEKEEPER, COMBATANT = 0, 1, 2, 3
# resident states
QUIESCENT, ACTIVE, JAILED = 0, 1, 2
# arrest-ratio rules
RATIO_FLOOR, RATIO_ROUND, RATIO_EXACT = 0, 1, 2
# event counters (indices into the per-tick ``events`` array)
(EV_ARRESTS, EV_KILLINGS, EV_BIRTHS, EV_DEATHS, EV_RELEASES, EV_ACTIVATIONS, EV_ABUSES,
 EV_CASUALTIES, EV_ATTACKS, EV_CLASHES, EV_BATTLE_DEATHS, EV_TIPS, EV_RECRUITS, EV_DISARMED,
 EV_RELAPSES, EV_INTERDICTIONS, EV_HARMED, EV_COMBATANT_ARRESTS, EV_PK_KILLED,
 EV_POLICE_KILLED) = range(20)
N_EVENTS = 20
# meta: [top of the free-slot stack, next unique id]
META_FREE_TOP, META_NEXT_UID = 0, 1

_TRY_MOVE = 16  # rejection-sampling attempts before an exhaustive scan
_TRY_PLACE = 64


class Agents(NamedTuple):
    """Per-agent state (structure of arrays, one slot per agent, capacity >= population)."""

    kind: np.ndarray  # int8: RESIDENT / POLICE / PEACEKEEPER
    alive: np.ndarray  # bool: slot in use
    x: np.ndarray  # int32: column, -1 when off the grid (jailed, paper mode)
    y: np.ndarray  # int32: row
    state: np.ndarray  # int8: QUIESCENT / ACTIVE / JAILED (residents)
    jail: np.ndarray  # int32: remaining jail term
    hardship: np.ndarray  # float64: h ~ U(0, 1)
    risk: np.ndarray  # float64: risk aversion R ~ U(0, 1)
    group: np.ndarray  # int8: communal group (Model II)
    age: np.ndarray  # int32
    death_age: np.ndarray  # int32
    uid: np.ndarray  # int64: unique id (slots are reused, uids are not)
    vclass: np.ndarray  # int8: vision class (index into Geometry.offsets)
    # peacekeeping layer (unused, and left at zero, in the Epstein scenarios)
    faction: np.ndarray  # int8: combatants' faction
    aggression: np.ndarray  # float64: combatants' per-tick attack propensity
    trust_pk: np.ndarray  # float64: residents' trust in peacekeepers
    trust_police: np.ndarray  # float64: residents' trust in police
    trust_pk0: np.ndarray  # float64: the level trust in peacekeepers relaxes to
    trust_police0: np.ndarray  # float64: the level trust in police relaxes to
    employed: np.ndarray  # bool
    ex_combatant: np.ndarray  # bool
    displaced: np.ndarray  # bool
    leader: np.ndarray  # bool: community leader
    informant: np.ndarray  # int32: ticks left during which armed groups know of the tip
    dialogue: np.ndarray  # float64: grievance reduction from dialogue, decays
    role: np.ndarray  # int8: peacekeeper role
    home: np.ndarray  # int64: flat cell of a unit's post / site / partner slot
    professionalism: np.ndarray  # float64: police conduct
    community: np.ndarray  # bool: community-policing officer


class Grid(NamedTuple):
    """Cell fields, indexed ``[x, y]`` like Mesa's grids."""

    occ: np.ndarray  # int32: agent slot on the cell, -1 if empty
    cop_field: np.ndarray  # int32: cops in residents' vision of the cell (cell itself excluded)
    active_field: np.ndarray  # int32 [class, x, y]: actives in vision of the cell, per vision class
    economy: np.ndarray  # float64: E in [0, 1] (peacekeeping layer)
    abuse_ev: np.ndarray  # float64: police abuses seen this tick, by cell


class Geometry(NamedTuple):
    offsets: np.ndarray  # int32 [class, i, 2]: vision offsets per vision class
    n_off: np.ndarray  # int32 [class]: number of offsets per class
    neigh: np.ndarray  # int32 [8, 2]: Moore radius-1 offsets (where children are born)
    width: int
    height: int
    torus: bool


class Params(NamedTuple):
    intergroup: bool  # Model II: actives kill instead of protesting
    threshold: float
    arrest_constant: float
    ratio_rule: int
    max_jail_term: int
    jail_on_cell: bool
    movement: bool
    move_first: bool
    p_clone: float
    max_age: int  # 0: no ageing
    cops_class: int  # vision class of police
    pk_class: int  # vision class of peacekeepers
    pk_are_cops: bool
    extended: bool  # peacekeeping layer on: grievance from economy and trust, police abuse
    hardship_weight: float  # w in H = (1 - w) h + w (1 - E)
    trust_weight: float  # u in L_i = (1 - u) L + u trust_police
    employment_relief: float


# ----------------------------------------------------------------------------- geometry


@njit(inline="always", cache=True)
def _cell(x, y, dx, dy, width, height, torus):
    """Target cell of an offset as a flat index, or -1 when it falls off a bounded grid."""
    cx = x + dx
    cy = y + dy
    if torus:
        cx %= width
        cy %= height
    elif cx < 0 or cy < 0 or cx >= width or cy >= height:
        return -1
    return cx * height + cy


@njit(cache=True)
def field_add(field, x, y, offsets, n, width, height, torus, delta):
    """Add ``delta`` to ``field`` on every cell from which ``(x, y)`` is visible."""
    flat = field.reshape(-1)
    for i in range(n):
        c = _cell(x, y, offsets[i, 0], offsets[i, 1], width, height, torus)
        if c >= 0:
            flat[c] += delta


@njit(cache=True)
def _active_add(grid, geo, x, y, delta):
    for k in range(geo.n_off.shape[0]):
        field_add(grid.active_field[k], x, y, geo.offsets[k], geo.n_off[k],
                  geo.width, geo.height, geo.torus, delta)


@njit(cache=True)
def _is_cop(ag, prm, a):
    k = ag.kind[a]
    return k == POLICE or (k == PEACEKEEPER and prm.pk_are_cops)


@njit(cache=True)
def _cop_add(grid, geo, x, y, delta):
    field_add(grid.cop_field, x, y, geo.offsets[0], geo.n_off[0],
              geo.width, geo.height, geo.torus, delta)


# ----------------------------------------------------------------------------- occupancy


@njit(cache=True)
def _leave(ag, grid, geo, prm, a):
    """Take agent ``a`` off its cell, withdrawing what it contributes to the fields."""
    x = ag.x[a]
    y = ag.y[a]
    if x < 0:
        return
    grid.occ[x, y] = -1
    if ag.kind[a] == RESIDENT:
        if ag.state[a] == ACTIVE:
            _active_add(grid, geo, x, y, -1)
    elif _is_cop(ag, prm, a):
        _cop_add(grid, geo, x, y, -1)
    ag.x[a] = -1
    ag.y[a] = -1


@njit(cache=True)
def _enter(ag, grid, geo, prm, a, x, y):
    """Put agent ``a`` on the empty cell ``(x, y)``, adding what it contributes."""
    grid.occ[x, y] = a
    ag.x[a] = x
    ag.y[a] = y
    if ag.kind[a] == RESIDENT:
        if ag.state[a] == ACTIVE:
            _active_add(grid, geo, x, y, 1)
    elif _is_cop(ag, prm, a):
        _cop_add(grid, geo, x, y, 1)


@njit(cache=True)
def _set_state(ag, grid, geo, a, new_state):
    """Change a resident's state, keeping the active fields in step."""
    old = ag.state[a]
    if old == new_state:
        return
    if ag.x[a] >= 0:
        if old == ACTIVE:
            _active_add(grid, geo, ag.x[a], ag.y[a], -1)
        elif new_state == ACTIVE:
            _active_add(grid, geo, ag.x[a], ag.y[a], 1)
    ag.state[a] = new_state


@njit(cache=True)
def random_empty_in_vision(grid, geo, rng, x, y, k):
    """A uniformly random empty cell in vision class ``k`` of ``(x, y)``, or -1 if none.

    Rejection sampling over the offsets (uniform among empty cells), then an exhaustive
    scan when the neighbourhood is nearly full (still uniform).
    """
    n = geo.n_off[k]
    offs = geo.offsets[k]
    occ = grid.occ.reshape(-1)
    for _ in range(_TRY_MOVE):
        i = randint(rng, n)
        c = _cell(x, y, offs[i, 0], offs[i, 1], geo.width, geo.height, geo.torus)
        if c >= 0 and occ[c] < 0:
            return c
    found = 0
    pick = -1
    for i in range(n):
        c = _cell(x, y, offs[i, 0], offs[i, 1], geo.width, geo.height, geo.torus)
        if c >= 0 and occ[c] < 0:
            found += 1
            if randint(rng, found) == 0:  # reservoir sampling: uniform over empties
                pick = c
    return pick


@njit(cache=True)
def random_empty_cell(grid, rng):
    """A uniformly random empty cell of the whole grid (flat index), or -1 if it is full."""
    occ = grid.occ.reshape(-1)
    n = occ.shape[0]
    for _ in range(_TRY_PLACE):
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


@njit(cache=True)
def _move(ag, grid, geo, prm, rng, a):
    """Move to a random empty cell within vision (if any)."""
    x = ag.x[a]
    y = ag.y[a]
    c = random_empty_in_vision(grid, geo, rng, x, y, ag.vclass[a])
    if c >= 0:
        _leave(ag, grid, geo, prm, a)
        _enter(ag, grid, geo, prm, a, c // geo.height, c % geo.height)


# ----------------------------------------------------------------------------- life and death


@njit(cache=True)
def _free(ag, a, free_stack, meta):
    ag.alive[a] = False
    free_stack[meta[META_FREE_TOP]] = a
    meta[META_FREE_TOP] += 1


@njit(cache=True)
def remove_agent(ag, grid, geo, prm, a, free_stack, meta):
    """Remove agent ``a`` from the world (death, drawdown)."""
    _leave(ag, grid, geo, prm, a)
    _free(ag, a, free_stack, meta)


@njit(cache=True)
def new_agent(ag, grid, geo, prm, rng, kind, vclass, cell, free_stack, meta):
    """Create an agent of ``kind`` on the empty flat ``cell``; returns its slot."""
    meta[META_FREE_TOP] -= 1
    a = free_stack[meta[META_FREE_TOP]]
    ag.kind[a] = kind
    ag.alive[a] = True
    ag.state[a] = QUIESCENT
    ag.jail[a] = 0
    ag.hardship[a] = 0.0
    ag.risk[a] = 0.0
    ag.group[a] = 0
    ag.age[a] = 0
    ag.death_age[a] = 0
    ag.uid[a] = meta[META_NEXT_UID]
    meta[META_NEXT_UID] += 1
    ag.vclass[a] = vclass
    reset_layer_state(ag, a)
    ag.x[a] = -1
    ag.y[a] = -1
    _enter(ag, grid, geo, prm, a, cell // geo.height, cell % geo.height)
    return a


@njit(cache=True)
def reset_layer_state(ag, a):
    """Zero the peacekeeping-layer attributes of a slot that is being (re)used."""
    ag.faction[a] = 0
    ag.aggression[a] = 0.0
    ag.trust_pk[a] = 0.0
    ag.trust_police[a] = 0.0
    ag.trust_pk0[a] = 0.0
    ag.trust_police0[a] = 0.0
    ag.employed[a] = False
    ag.ex_combatant[a] = False
    ag.displaced[a] = False
    ag.leader[a] = False
    ag.informant[a] = 0
    ag.dialogue[a] = 0.0
    ag.role[a] = 0
    ag.home[a] = -1
    ag.professionalism[a] = 0.0
    ag.community[a] = False


@njit(cache=True)
def _clone(ag, grid, geo, prm, rng, a, free_stack, meta, events):
    """Reproduce onto a random empty neighbouring cell: the child inherits group and hardship."""
    found = 0
    pick = -1
    for i in range(geo.neigh.shape[0]):
        c = _cell(ag.x[a], ag.y[a], geo.neigh[i, 0], geo.neigh[i, 1],
                  geo.width, geo.height, geo.torus)
        if c >= 0 and grid.occ.reshape(-1)[c] < 0:
            found += 1
            if randint(rng, found) == 0:
                pick = c
    if pick < 0 or meta[META_FREE_TOP] == 0:
        return
    b = new_agent(ag, grid, geo, prm, rng, RESIDENT, ag.vclass[a], pick, free_stack, meta)
    ag.group[b] = ag.group[a]
    ag.hardship[b] = ag.hardship[a]
    ag.risk[b] = uniform(rng)
    ag.death_age[b] = randint(rng, prm.max_age + 1)
    if prm.extended:
        ag.trust_pk[b] = ag.trust_pk[a]
        ag.trust_police[b] = ag.trust_police[a]
        ag.trust_pk0[b] = ag.trust_pk0[a]
        ag.trust_police0[b] = ag.trust_police0[a]
    events[EV_BIRTHS] += 1


# ----------------------------------------------------------------------------- the rules


@njit(inline="always", cache=True)
def arrest_ratio(cops, actives, rule):
    """r(C/A) under the configured rule; ``round`` is half-to-even like Python's round()."""
    q = cops / actives
    if rule == RATIO_FLOOR:
        return np.floor(q)
    if rule == RATIO_ROUND:
        return np.rint(q)
    return q


@njit(cache=True)
def arrest_probability(cops, actives, k, rule):
    """Estimated arrest probability P = 1 - exp(-k r(C/A)), with A counting oneself."""
    return 1.0 - np.exp(-k * arrest_ratio(cops, actives, rule))


@njit(cache=True)
def extended_grievance(ag, grid, prm, a, legitimacy):
    """G = H (1 - L_i) (1 - dialogue) with H from the local economy and employment, and
    legitimacy through the resident's trust in police (MODEL.md 4.1, peacekeeping layer)."""
    w = prm.hardship_weight
    hard = (1.0 - w) * ag.hardship[a]
    if ag.x[a] >= 0:
        hard += w * (1.0 - grid.economy[ag.x[a], ag.y[a]])
    if ag.employed[a]:
        hard *= 1.0 - prm.employment_relief
    u = prm.trust_weight
    leg = (1.0 - u) * legitimacy + u * ag.trust_police[a]
    return hard * (1.0 - leg) * (1.0 - ag.dialogue[a])


@njit(cache=True)
def _resident_decide(ag, grid, geo, prm, rng, a, legitimacy, free_stack, meta, events):
    x = ag.x[a]
    y = ag.y[a]
    if prm.extended:
        grievance = extended_grievance(ag, grid, prm, a, legitimacy)
    else:
        grievance = ag.hardship[a] * (1.0 - legitimacy)
    cops = grid.cop_field[x, y]
    actives = grid.active_field[ag.vclass[a], x, y] + 1  # oneself
    p = arrest_probability(cops, actives, prm.arrest_constant, prm.ratio_rule)
    net_risk = ag.risk[a] * p
    if (grievance - net_risk) > prm.threshold:
        if ag.state[a] != ACTIVE:
            events[EV_ACTIVATIONS] += 1
        _set_state(ag, grid, geo, a, ACTIVE)
        if prm.intergroup:
            _kill_other_group(ag, grid, geo, prm, rng, a, free_stack, meta, events)
    else:
        _set_state(ag, grid, geo, a, QUIESCENT)


@njit(cache=True)
def _kill_other_group(ag, grid, geo, prm, rng, a, free_stack, meta, events):
    """Model II: an active kills a random resident of the other group in vision (if any)."""
    k = ag.vclass[a]
    offs = geo.offsets[k]
    occ = grid.occ.reshape(-1)
    found = 0
    victim = -1
    for i in range(geo.n_off[k]):
        c = _cell(ag.x[a], ag.y[a], offs[i, 0], offs[i, 1], geo.width, geo.height, geo.torus)
        if c < 0:
            continue
        b = occ[c]
        if b >= 0 and ag.kind[b] == RESIDENT and ag.group[b] != ag.group[a] \
                and ag.state[b] != JAILED:
            found += 1
            if randint(rng, found) == 0:
                victim = b
    if victim >= 0:
        remove_agent(ag, grid, geo, prm, victim, free_stack, meta)
        events[EV_KILLINGS] += 1


@njit(cache=True)
def _resident_step(ag, grid, geo, prm, rng, a, legitimacy, free_stack, meta, events):
    if prm.max_age > 0:
        ag.age[a] += 1
        if ag.age[a] > ag.death_age[a]:
            remove_agent(ag, grid, geo, prm, a, free_stack, meta)
            events[EV_DEATHS] += 1
            return
    if ag.jail[a] > 0:
        ag.jail[a] -= 1
        return
    if ag.state[a] == JAILED:
        if ag.x[a] < 0:  # paper mode: back to a random empty cell
            c = random_empty_cell(grid, rng)
            if c < 0:
                return
            ag.state[a] = QUIESCENT
            _enter(ag, grid, geo, prm, a, c // geo.height, c % geo.height)
        events[EV_RELEASES] += 1
    if prm.movement and prm.move_first:
        _move(ag, grid, geo, prm, rng, a)
    _resident_decide(ag, grid, geo, prm, rng, a, legitimacy, free_stack, meta, events)
    if prm.movement and not prm.move_first:
        _move(ag, grid, geo, prm, rng, a)
    if prm.p_clone > 0.0 and ag.x[a] >= 0 and uniform(rng) < prm.p_clone:
        _clone(ag, grid, geo, prm, rng, a, free_stack, meta, events)


@njit(cache=True)
def _arrest_one(ag, grid, geo, prm, rng, a, events):
    """A cop arrests one random active in its vision (if the field says there is one)."""
    k = ag.vclass[a]
    x = ag.x[a]
    y = ag.y[a]
    if grid.active_field[k, x, y] <= 0:
        return
    offs = geo.offsets[k]
    occ = grid.occ.reshape(-1)
    found = 0
    pick = -1
    for i in range(geo.n_off[k]):
        c = _cell(x, y, offs[i, 0], offs[i, 1], geo.width, geo.height, geo.torus)
        if c < 0:
            continue
        b = occ[c]
        if b >= 0 and ag.kind[b] == RESIDENT and ag.state[b] == ACTIVE:
            found += 1
            if randint(rng, found) == 0:
                pick = b
    if pick < 0:
        return
    _set_state(ag, grid, geo, pick, JAILED)
    ag.jail[pick] = randint(rng, prm.max_jail_term + 1)
    if not prm.jail_on_cell:
        _leave(ag, grid, geo, prm, pick)
    events[EV_ARRESTS] += 1
    if prm.extended and ag.kind[a] == POLICE and uniform(rng) < 1.0 - ag.professionalism[a]:
        events[EV_ABUSES] += 1  # an abusive arrest, seen by those around
        grid.abuse_ev[x, y] += 1.0


@njit(cache=True)
def _cop_step(ag, grid, geo, prm, rng, a, events):
    # in the peacekeeping layer units move by role (sim.mission), not at random
    moves = prm.movement and not (prm.extended and ag.kind[a] == PEACEKEEPER)
    if moves and prm.move_first:
        _move(ag, grid, geo, prm, rng, a)
    _arrest_one(ag, grid, geo, prm, rng, a, events)
    if moves and not prm.move_first:
        _move(ag, grid, geo, prm, rng, a)


@njit(cache=True)
def tick(ag, grid, geo, prm, rng, legitimacy, perm, perm_uid, free_stack, meta, events):
    """One tick of random-sequential activation over every agent alive at its start."""
    n = 0
    for a in range(ag.alive.shape[0]):
        if ag.alive[a]:
            perm[n] = a
            n += 1
    for i in range(n - 1, 0, -1):  # Fisher-Yates
        j = randint(rng, i + 1)
        t = perm[i]
        perm[i] = perm[j]
        perm[j] = t
    for i in range(n):  # remember who was alive, so a slot reused by a birth waits a tick
        perm_uid[i] = ag.uid[perm[i]]
    for i in range(n):
        a = perm[i]
        if not ag.alive[a] or ag.uid[a] != perm_uid[i]:  # died (or reborn) in this tick
            continue
        kind = ag.kind[a]
        if kind == RESIDENT:
            _resident_step(ag, grid, geo, prm, rng, a, legitimacy, free_stack, meta, events)
        elif kind == POLICE or (kind == PEACEKEEPER and prm.pk_are_cops):
            _cop_step(ag, grid, geo, prm, rng, a, events)
        elif kind == PEACEKEEPER and prm.movement and not prm.extended:
            _move(ag, grid, geo, prm, rng, a)
        # combatants act in their own phase (sim.conflict)
    return n


# ----------------------------------------------------------------------------- set-up helpers


@njit(cache=True)
def place_new(ag, grid, geo, prm, rng, kind, vclass, count, free_stack, meta):
    """Create ``count`` agents of ``kind`` on random empty cells; returns how many fitted."""
    made = 0
    for _ in range(count):
        c = random_empty_cell(grid, rng)
        if c < 0 or meta[META_FREE_TOP] == 0:
            break
        new_agent(ag, grid, geo, prm, rng, kind, vclass, c, free_stack, meta)
        made += 1
    return made


@njit(cache=True)
def remove_random(ag, grid, geo, prm, rng, kind, count, free_stack, meta):
    """Remove ``count`` random agents of ``kind`` (e.g. a police or troop drawdown)."""
    pool = np.empty(ag.alive.shape[0], dtype=np.int64)
    n = 0
    for a in range(ag.alive.shape[0]):
        if ag.alive[a] and ag.kind[a] == kind:
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
    """Recompute occupancy and both fields from the agent arrays (set-up and checks)."""
    grid.occ[:] = -1
    grid.cop_field[:] = 0
    grid.active_field[:] = 0
    for a in range(ag.alive.shape[0]):
        if not ag.alive[a] or ag.x[a] < 0:
            continue
        x = ag.x[a]
        y = ag.y[a]
        grid.occ[x, y] = a
        if ag.kind[a] == RESIDENT:
            if ag.state[a] == ACTIVE:
                _active_add(grid, geo, x, y, 1)
        elif _is_cop(ag, prm, a):
            _cop_add(grid, geo, x, y, 1)


# census indices
(C_QUIESCENT, C_ACTIVE, C_JAILED, C_POLICE, C_PEACEKEEPERS, C_GROUP0, C_GROUP1,
 C_COMBATANTS) = range(8)
N_CENSUS = 8


@njit(cache=True)
def census(ag, out):
    """Count residents by state and group, and police and peacekeepers, in one pass."""
    out[:] = 0
    for a in range(ag.alive.shape[0]):
        if not ag.alive[a]:
            continue
        k = ag.kind[a]
        if k == RESIDENT:
            out[ag.state[a]] += 1  # QUIESCENT/ACTIVE/JAILED are 0/1/2
            out[C_GROUP0 + ag.group[a]] += 1
        elif k == POLICE:
            out[C_POLICE] += 1
        elif k == PEACEKEEPER:
            out[C_PEACEKEEPERS] += 1
        else:
            out[C_COMBATANTS] += 1
