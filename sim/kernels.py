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
(
    EV_ARRESTS,
    EV_KILLINGS,
    EV_BIRTHS,
    EV_DEATHS,
    EV_RELEASES,
    EV_ACTIVATIONS,
    EV_ABUSES,
    EV_CASUALTIES,
    EV_ATTACKS,
    EV_CLASHES,
    EV_BATTLE_DEATHS,
    EV_TIPS,
    EV_RECRUITS,
    EV_DISARMED,
    EV_RELAPSES,
    EV_INTERDICTIONS,
    EV_HARMED,
    EV_COMBATANT_ARRESTS,
    EV_PK_KILLED,
    EV_POLICE_KILLED,
) = range(20)
N_EVENTS = 20
# meta: [top of the free-slot stack, next unique id]
META_FREE_TOP, META_NEXT_UID = 0, 1

_TRY_MOVE = 16  # rejection-sampling attempts before an exhaustive scan
_TRY_PLACE = 64


# Per-agent state is two tables with one row per slot (structure of two arrays, not of
# thirty): numba passes a namedtuple of arrays by reference-counting every member on each
# call, so few members keep calls cheap in the per-agent loop.
(
    I_KIND,
    I_ALIVE,
    I_X,
    I_Y,
    I_STATE,
    I_JAIL,
    I_GROUP,
    I_AGE,
    I_DEATH_AGE,
    I_UID,
    I_VCLASS,
    I_FACTION,
    I_EMPLOYED,
    I_EX_COMBATANT,
    I_DISPLACED,
    I_LEADER,
    I_INFORMANT,
    I_ROLE,
    I_HOME,
    I_COMMUNITY,
) = range(20)
N_INT = 20
(
    F_HARDSHIP,
    F_RISK,
    F_AGGRESSION,
    F_TRUST_PK,
    F_TRUST_POLICE,
    F_TRUST_PK0,
    F_TRUST_POLICE0,
    F_DIALOGUE,
    F_PROFESSIONALISM,
) = range(9)
N_FLOAT = 9

INT_COLUMNS = {
    "kind": I_KIND,  # RESIDENT / POLICE / PEACEKEEPER / COMBATANT
    "alive": I_ALIVE,  # slot in use
    "x": I_X,  # column, -1 when off the grid (jailed, paper mode)
    "y": I_Y,  # row
    "state": I_STATE,  # QUIESCENT / ACTIVE / JAILED (residents)
    "jail": I_JAIL,  # remaining jail term
    "group": I_GROUP,  # communal group (Model II)
    "age": I_AGE,
    "death_age": I_DEATH_AGE,
    "uid": I_UID,  # unique id (slots are reused, uids are not)
    "vclass": I_VCLASS,  # vision class (index into Geometry.offsets)
    "faction": I_FACTION,  # combatants' faction
    "employed": I_EMPLOYED,
    "ex_combatant": I_EX_COMBATANT,
    "displaced": I_DISPLACED,
    "leader": I_LEADER,  # community leader
    "informant": I_INFORMANT,  # ticks during which armed groups know of the resident's tip
    "role": I_ROLE,  # peacekeeper role
    "home": I_HOME,  # flat cell of a unit's post / site, or its partner's slot
    "community": I_COMMUNITY,  # community-policing officer
}
FLOAT_COLUMNS = {
    "hardship": F_HARDSHIP,  # h ~ U(0, 1)
    "risk": F_RISK,  # risk aversion R ~ U(0, 1)
    "aggression": F_AGGRESSION,  # combatants' per-tick attack propensity
    "trust_pk": F_TRUST_PK,
    "trust_police": F_TRUST_POLICE,
    "trust_pk0": F_TRUST_PK0,  # the level trust in peacekeepers relaxes to
    "trust_police0": F_TRUST_POLICE0,
    "dialogue": F_DIALOGUE,  # grievance reduction from dialogue, decays
    "professionalism": F_PROFESSIONALISM,  # police conduct
}
BOOL_COLUMNS = frozenset({"alive", "employed", "ex_combatant", "displaced", "leader", "community"})


# cell layers of the peacekeeping layer: planes of Layers.f
LAYER_NAMES = (
    "violence",
    "infrastructure",
    "market",
    "tips",
    "tip_reach",
    "sec_pk",
    "sec_police",
    "n_police",
    "comb_seen",
    "pk_seen",
    "engage",
    "leader_engaged",
    "leader_n",
    "leader_trust",
    "ddr_reach",
    "mentor",
    "community",
    "protect_ev",
    "victim_ev",
    "harm_ev",
    "security",
)
N_LAYERS = len(LAYER_NAMES)
(
    L_VIOLENCE,
    L_INFRASTRUCTURE,
    L_MARKET,
    L_TIPS,
    L_TIP_REACH,
    L_SEC_PK,
    L_SEC_POLICE,
    L_N_POLICE,
    L_COMB_SEEN,
    L_PK_SEEN,
    L_ENGAGE,
    L_LEADER_ENGAGED,
    L_LEADER_N,
    L_LEADER_TRUST,
    L_DDR_REACH,
    L_MENTOR,
    L_COMMUNITY,
    L_PROTECT_EV,
    L_VICTIM_EV,
    L_HARM_EV,
    L_SECURITY,
) = range(N_LAYERS)


class Layers(NamedTuple):
    """Cell layers and per-tick presence/event fields, as the kernels see them."""

    f: np.ndarray  # float64 [N_LAYERS, width, height]
    comb_own: np.ndarray  # float64 [faction, width, height]: combatants in combatants' vision


class Agents(NamedTuple):
    """Per-agent state as the kernels see it: ``i[slot, I_*]`` and ``f[slot, F_*]``."""

    i: np.ndarray  # int64 [capacity, N_INT]
    f: np.ndarray  # float64 [capacity, N_FLOAT]


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
    track: np.ndarray  # bool [class]: keep an active field for this class (someone reads it)
    track: np.ndarray  # bool [class]: keep an active field for this class (someone reads it)
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


@njit(inline="always", cache=True)
def _active_add(grid, geo, x, y, delta):
    for k in range(geo.n_off.shape[0]):
        if geo.track[k]:
            field_add(
                grid.active_field[k],
                x,
                y,
                geo.offsets[k],
                geo.n_off[k],
                geo.width,
                geo.height,
                geo.torus,
                delta,
            )


@njit(inline="always", cache=True)
def _is_cop(ag, prm, a):
    k = ag.i[a, I_KIND]
    return k == POLICE or (k == PEACEKEEPER and prm.pk_are_cops)


@njit(inline="always", cache=True)
def _cop_add(grid, geo, x, y, delta):
    field_add(
        grid.cop_field, x, y, geo.offsets[0], geo.n_off[0], geo.width, geo.height, geo.torus, delta
    )


# ----------------------------------------------------------------------------- occupancy


@njit(inline="always", cache=True)
def _leave(ag, grid, geo, prm, a):
    """Take agent ``a`` off its cell, withdrawing what it contributes to the fields."""
    x = ag.i[a, I_X]
    y = ag.i[a, I_Y]
    if x < 0:
        return
    grid.occ[x, y] = -1
    if ag.i[a, I_KIND] == RESIDENT:
        if ag.i[a, I_STATE] == ACTIVE:
            _active_add(grid, geo, x, y, -1)
    elif _is_cop(ag, prm, a):
        _cop_add(grid, geo, x, y, -1)
    ag.i[a, I_X] = -1
    ag.i[a, I_Y] = -1


@njit(inline="always", cache=True)
def _enter(ag, grid, geo, prm, a, x, y):
    """Put agent ``a`` on the empty cell ``(x, y)``, adding what it contributes."""
    grid.occ[x, y] = a
    ag.i[a, I_X] = x
    ag.i[a, I_Y] = y
    if ag.i[a, I_KIND] == RESIDENT:
        if ag.i[a, I_STATE] == ACTIVE:
            _active_add(grid, geo, x, y, 1)
    elif _is_cop(ag, prm, a):
        _cop_add(grid, geo, x, y, 1)


@njit(inline="always", cache=True)
def _set_state(ag, grid, geo, a, new_state):
    """Change a resident's state, keeping the active fields in step."""
    old = ag.i[a, I_STATE]
    if old == new_state:
        return
    if ag.i[a, I_X] >= 0:
        if old == ACTIVE:
            _active_add(grid, geo, ag.i[a, I_X], ag.i[a, I_Y], -1)
        elif new_state == ACTIVE:
            _active_add(grid, geo, ag.i[a, I_X], ag.i[a, I_Y], 1)
    ag.i[a, I_STATE] = new_state


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


@njit(inline="always", cache=True)
def _move(ag, grid, geo, prm, rng, a):
    """Move to a random empty cell within vision (if any)."""
    x = ag.i[a, I_X]
    y = ag.i[a, I_Y]
    c = random_empty_in_vision(grid, geo, rng, x, y, ag.i[a, I_VCLASS])
    if c >= 0:
        _leave(ag, grid, geo, prm, a)
        _enter(ag, grid, geo, prm, a, c // geo.height, c % geo.height)


# ----------------------------------------------------------------------------- life and death


@njit(cache=True)
def _free(ag, a, free_stack, meta):
    ag.i[a, I_ALIVE] = 0
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
    ag.i[a, I_KIND] = kind
    ag.i[a, I_ALIVE] = 1
    ag.i[a, I_STATE] = QUIESCENT
    ag.i[a, I_JAIL] = 0
    ag.f[a, F_HARDSHIP] = 0.0
    ag.f[a, F_RISK] = 0.0
    ag.i[a, I_GROUP] = 0
    ag.i[a, I_AGE] = 0
    ag.i[a, I_DEATH_AGE] = 0
    ag.i[a, I_UID] = meta[META_NEXT_UID]
    meta[META_NEXT_UID] += 1
    ag.i[a, I_VCLASS] = vclass
    reset_layer_state(ag, a)
    ag.i[a, I_X] = -1
    ag.i[a, I_Y] = -1
    _enter(ag, grid, geo, prm, a, cell // geo.height, cell % geo.height)
    return a


@njit(cache=True)
def reset_layer_state(ag, a):
    """Zero the peacekeeping-layer attributes of a slot that is being (re)used."""
    for c in (
        I_FACTION,
        I_EMPLOYED,
        I_EX_COMBATANT,
        I_DISPLACED,
        I_LEADER,
        I_INFORMANT,
        I_ROLE,
        I_COMMUNITY,
    ):
        ag.i[a, c] = 0
    ag.i[a, I_HOME] = -1
    for c in (
        F_AGGRESSION,
        F_TRUST_PK,
        F_TRUST_POLICE,
        F_TRUST_PK0,
        F_TRUST_POLICE0,
        F_DIALOGUE,
        F_PROFESSIONALISM,
    ):
        ag.f[a, c] = 0.0


@njit(cache=True)
def _clone(ag, grid, geo, prm, rng, a, free_stack, meta, events):
    """Reproduce onto a random empty neighbouring cell: the child inherits group and hardship."""
    found = 0
    pick = -1
    for i in range(geo.neigh.shape[0]):
        c = _cell(
            ag.i[a, I_X],
            ag.i[a, I_Y],
            geo.neigh[i, 0],
            geo.neigh[i, 1],
            geo.width,
            geo.height,
            geo.torus,
        )
        if c >= 0 and grid.occ.reshape(-1)[c] < 0:
            found += 1
            if randint(rng, found) == 0:
                pick = c
    if pick < 0 or meta[META_FREE_TOP] == 0:
        return
    b = new_agent(ag, grid, geo, prm, rng, RESIDENT, ag.i[a, I_VCLASS], pick, free_stack, meta)
    ag.i[b, I_GROUP] = ag.i[a, I_GROUP]
    ag.f[b, F_HARDSHIP] = ag.f[a, F_HARDSHIP]
    ag.f[b, F_RISK] = uniform(rng)
    ag.i[b, I_DEATH_AGE] = randint(rng, prm.max_age + 1)
    if prm.extended:
        ag.f[b, F_TRUST_PK] = ag.f[a, F_TRUST_PK]
        ag.f[b, F_TRUST_POLICE] = ag.f[a, F_TRUST_POLICE]
        ag.f[b, F_TRUST_PK0] = ag.f[a, F_TRUST_PK0]
        ag.f[b, F_TRUST_POLICE0] = ag.f[a, F_TRUST_POLICE0]
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


@njit(inline="always", cache=True)
def arrest_probability(cops, actives, k, rule):
    """Estimated arrest probability P = 1 - exp(-k r(C/A)), with A counting oneself."""
    return 1.0 - np.exp(-k * arrest_ratio(cops, actives, rule))


@njit(inline="always", cache=True)
def extended_grievance(ag, grid, prm, a, legitimacy):
    """G = H (1 - L_i) (1 - dialogue) with H from the local economy and employment, and
    legitimacy through the resident's trust in police (MODEL.md 4.1, peacekeeping layer)."""
    w = prm.hardship_weight
    hard = (1.0 - w) * ag.f[a, F_HARDSHIP]
    if ag.i[a, I_X] >= 0:
        hard += w * (1.0 - grid.economy[ag.i[a, I_X], ag.i[a, I_Y]])
    if ag.i[a, I_EMPLOYED]:
        hard *= 1.0 - prm.employment_relief
    u = prm.trust_weight
    leg = (1.0 - u) * legitimacy + u * ag.f[a, F_TRUST_POLICE]
    return hard * (1.0 - leg) * (1.0 - ag.f[a, F_DIALOGUE])


@njit(inline="always", cache=True)
def _resident_decide(ag, grid, geo, prm, rng, a, legitimacy, free_stack, meta, events):
    x = ag.i[a, I_X]
    y = ag.i[a, I_Y]
    if prm.extended:
        grievance = extended_grievance(ag, grid, prm, a, legitimacy)
    else:
        grievance = ag.f[a, F_HARDSHIP] * (1.0 - legitimacy)
    cops = grid.cop_field[x, y]
    actives = grid.active_field[ag.i[a, I_VCLASS], x, y] + 1  # oneself
    p = arrest_probability(cops, actives, prm.arrest_constant, prm.ratio_rule)
    net_risk = ag.f[a, F_RISK] * p
    if (grievance - net_risk) > prm.threshold:
        if ag.i[a, I_STATE] != ACTIVE:
            events[EV_ACTIVATIONS] += 1
        _set_state(ag, grid, geo, a, ACTIVE)
        if prm.intergroup:
            _kill_other_group(ag, grid, geo, prm, rng, a, free_stack, meta, events)
    else:
        _set_state(ag, grid, geo, a, QUIESCENT)


@njit(cache=True)
def _kill_other_group(ag, grid, geo, prm, rng, a, free_stack, meta, events):
    """Model II: an active kills a random resident of the other group in vision (if any)."""
    k = ag.i[a, I_VCLASS]
    offs = geo.offsets[k]
    occ = grid.occ.reshape(-1)
    found = 0
    victim = -1
    for i in range(geo.n_off[k]):
        c = _cell(
            ag.i[a, I_X], ag.i[a, I_Y], offs[i, 0], offs[i, 1], geo.width, geo.height, geo.torus
        )
        if c < 0:
            continue
        b = occ[c]
        if (
            b >= 0
            and ag.i[b, I_KIND] == RESIDENT
            and ag.i[b, I_GROUP] != ag.i[a, I_GROUP]
            and ag.i[b, I_STATE] != JAILED
        ):
            found += 1
            if randint(rng, found) == 0:
                victim = b
    if victim >= 0:
        remove_agent(ag, grid, geo, prm, victim, free_stack, meta)
        events[EV_KILLINGS] += 1


@njit(inline="always", cache=True)
def _resident_step(ag, grid, geo, prm, rng, a, legitimacy, free_stack, meta, events):
    if prm.max_age > 0:
        ag.i[a, I_AGE] += 1
        if ag.i[a, I_AGE] > ag.i[a, I_DEATH_AGE]:
            remove_agent(ag, grid, geo, prm, a, free_stack, meta)
            events[EV_DEATHS] += 1
            return
    if ag.i[a, I_JAIL] > 0:
        ag.i[a, I_JAIL] -= 1
        return
    if ag.i[a, I_STATE] == JAILED:
        if ag.i[a, I_X] < 0:  # paper mode: back to a random empty cell
            c = random_empty_cell(grid, rng)
            if c < 0:
                return
            ag.i[a, I_STATE] = QUIESCENT
            _enter(ag, grid, geo, prm, a, c // geo.height, c % geo.height)
        events[EV_RELEASES] += 1
    if prm.movement and prm.move_first:
        _move(ag, grid, geo, prm, rng, a)
    _resident_decide(ag, grid, geo, prm, rng, a, legitimacy, free_stack, meta, events)
    if prm.movement and not prm.move_first:
        _move(ag, grid, geo, prm, rng, a)
    if prm.p_clone > 0.0 and ag.i[a, I_X] >= 0 and uniform(rng) < prm.p_clone:
        _clone(ag, grid, geo, prm, rng, a, free_stack, meta, events)


@njit(inline="always", cache=True)
def _arrest_one(ag, grid, geo, prm, rng, a, events):
    """A cop arrests one random active in its vision (if the field says there is one)."""
    k = ag.i[a, I_VCLASS]
    x = ag.i[a, I_X]
    y = ag.i[a, I_Y]
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
        if b >= 0 and ag.i[b, I_KIND] == RESIDENT and ag.i[b, I_STATE] == ACTIVE:
            found += 1
            if randint(rng, found) == 0:
                pick = b
    if pick < 0:
        return
    _set_state(ag, grid, geo, pick, JAILED)
    ag.i[pick, I_JAIL] = randint(rng, prm.max_jail_term + 1)
    if not prm.jail_on_cell:
        _leave(ag, grid, geo, prm, pick)
    events[EV_ARRESTS] += 1
    if (
        prm.extended
        and ag.i[a, I_KIND] == POLICE
        and uniform(rng) < 1.0 - ag.f[a, F_PROFESSIONALISM]
    ):
        events[EV_ABUSES] += 1  # an abusive arrest, seen by those around
        grid.abuse_ev[x, y] += 1.0


@njit(inline="always", cache=True)
def _cop_step(ag, grid, geo, prm, rng, a, events):
    # in the peacekeeping layer units move by role (sim.mission), not at random
    moves = prm.movement and not (prm.extended and ag.i[a, I_KIND] == PEACEKEEPER)
    if moves and prm.move_first:
        _move(ag, grid, geo, prm, rng, a)
    _arrest_one(ag, grid, geo, prm, rng, a, events)
    if moves and not prm.move_first:
        _move(ag, grid, geo, prm, rng, a)


@njit(cache=True)
def tick(ag, grid, geo, prm, rng, legitimacy, perm, perm_uid, free_stack, meta, events):
    """One tick of random-sequential activation over every agent alive at its start."""
    n = 0
    for a in range(ag.i.shape[0]):
        if ag.i[a, I_ALIVE]:
            perm[n] = a
            n += 1
    for i in range(n - 1, 0, -1):  # Fisher-Yates
        j = randint(rng, i + 1)
        t = perm[i]
        perm[i] = perm[j]
        perm[j] = t
    for i in range(n):  # remember who was alive, so a slot reused by a birth waits a tick
        perm_uid[i] = ag.i[perm[i], I_UID]
    for i in range(n):
        a = perm[i]
        if not ag.i[a, I_ALIVE] or ag.i[a, I_UID] != perm_uid[i]:  # died (or reborn) in this tick
            continue
        kind = ag.i[a, I_KIND]
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
    pool = np.empty(ag.i.shape[0], dtype=np.int64)
    n = 0
    for a in range(ag.i.shape[0]):
        if ag.i[a, I_ALIVE] and ag.i[a, I_KIND] == kind:
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
    for a in range(ag.i.shape[0]):
        if not ag.i[a, I_ALIVE] or ag.i[a, I_X] < 0:
            continue
        x = ag.i[a, I_X]
        y = ag.i[a, I_Y]
        grid.occ[x, y] = a
        if ag.i[a, I_KIND] == RESIDENT:
            if ag.i[a, I_STATE] == ACTIVE:
                _active_add(grid, geo, x, y, 1)
        elif _is_cop(ag, prm, a):
            _cop_add(grid, geo, x, y, 1)


# census indices
(C_QUIESCENT, C_ACTIVE, C_JAILED, C_POLICE, C_PEACEKEEPERS, C_GROUP0, C_GROUP1, C_COMBATANTS) = (
    range(8)
)
N_CENSUS = 8


@njit(cache=True)
def census(ag, out):
    """Count residents by state and group, and police and peacekeepers, in one pass."""
    out[:] = 0
    for a in range(ag.i.shape[0]):
        if not ag.i[a, I_ALIVE]:
            continue
        k = ag.i[a, I_KIND]
        if k == RESIDENT:
            out[ag.i[a, I_STATE]] += 1  # QUIESCENT/ACTIVE/JAILED are 0/1/2
            out[C_GROUP0 + ag.i[a, I_GROUP]] += 1
        elif k == POLICE:
            out[C_POLICE] += 1
        elif k == PEACEKEEPER:
            out[C_PEACEKEEPERS] += 1
        else:
            out[C_COMBATANTS] += 1


# peacekeeper roles
PATROL, STATIC, RAPID_RESPONSE, ENGAGEMENT, DDR_UNIT, MENTORING = range(6)
ROLE_CODES = {
    "patrol": PATROL,
    "static": STATIC,
    "rapid_response": RAPID_RESPONSE,
    "engagement": ENGAGEMENT,
    "ddr": DDR_UNIT,
    "police_mentoring": MENTORING,
}


class LayerParams(NamedTuple):
    """Parameters of the peacekeeping layer, as plain scalars for the kernels."""

    groups: int
    factions: int
    comb_class: int  # vision class of combatants
    cohesion: float
    risk_constant: float
    p_lethal: float
    p_clash: float
    p_battle_death: float
    p_retaliate: float
    recruit_rate: float
    trust_damping: float
    ddr_rate: float
    relapse_rate: float
    reintegration: float
    restraint: float
    cultural_competence: float
    transparency: float
    early_warning: float
    local_partners: float
    p_interdict: float
    tip_boost: float
    rr_speed: int
    p_arrest_combatant: float
    memory: float
    engagement_gain: float
    protection_gain: float
    victimization_loss: float
    harm_loss: float
    abuse_loss: float
    mentoring_transfer: float
    tip_threshold: float
    p_tip: float
    leader_influence: float
    de_escalation: float
    per_attack: float
    per_clash: float
    flee_threshold: float
    programme_rate: float
    job_loss: float
    mentoring_gain: float
    professionalism_decay: float
