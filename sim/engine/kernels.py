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
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from sim.engine.rng import randint, uniform

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
# meta: [top of the free-slot stack, next unique id, 1 + highest slot ever used]
# (loops over slots stop at META_HIGH: slots above it were never alive)
META_FREE_TOP, META_NEXT_UID, META_HIGH = 0, 1, 2

_TRY_MOVE = 16  # rejection-sampling attempts before an exhaustive scan
_TRY_PLACE = 64
PF_ROW, PF_CELL = 8, 4  # how many agents ahead to prefetch a row, a cell


# Per-agent state is two tables with one row per slot (structure of two arrays, not of
# thirty): few arrays keep numba calls cheap, and a row keeps one agent's state together.
# The columns the civil-violence loop reads for every agent come first, and the int table is
# int32, so an agent's hot state sits in one cache line even at 400x400.
(
    I_KIND,
    I_ALIVE,
    I_X,
    I_Y,
    I_STATE,
    I_JAIL,
    I_UID,
    I_VCLASS,
    I_EMPLOYED,
    I_AGE,
    I_DEATH_AGE,
    I_GROUP,
    I_FACTION,
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
    F_TRUST_POLICE,
    F_DIALOGUE,
    F_TRUST_PK,
    F_AGGRESSION,
    F_TRUST_PK0,
    F_TRUST_POLICE0,
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
    "programme",
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
    L_PROGRAMME,
) = range(N_LAYERS)


class Layers(NamedTuple):
    """Cell layers and per-tick presence/event fields, as the kernels see them."""

    f: np.ndarray  # float64 [N_LAYERS, width, height]
    comb_own: np.ndarray  # float64 [faction, width, height]: combatants in combatants' vision
    work: np.ndarray  # float64 [plane, width, height]: scratch planes (sim.engine.fields.W_*)
    col: np.ndarray  # float64 [height]: scratch row of the box sums


class Agents(NamedTuple):
    """Per-agent state as the kernels see it: ``i[slot, I_*]`` and ``f[slot, F_*]``."""

    i: np.ndarray  # int32 [capacity, N_INT]
    f: np.ndarray  # float64 [capacity, N_FLOAT]


class Grid(NamedTuple):
    """Cell fields, indexed ``[x, y]`` like Mesa's grids."""

    occ: np.ndarray  # int32: agent slot on the cell, -1 if empty
    fields: np.ndarray  # int32 [1 + class, x, y]: the cop field, then the active fields
    cop_field: np.ndarray  # fields[0]: cops in residents' vision of the cell (cell excluded)
    active_field: np.ndarray  # fields[1:]: actives in vision of the cell, per vision class
    economy: np.ndarray  # float64: E in [0, 1] (peacekeeping layer)
    abuse_ev: np.ndarray  # float64: police abuses seen this tick, by cell


class Geometry(NamedTuple):
    offsets: np.ndarray  # int32 [class, i, 2]: vision offsets per vision class
    n_off: np.ndarray  # int32 [class]: number of offsets per class
    neigh: np.ndarray  # int32 [8, 2]: Moore radius-1 offsets (where children are born)
    track: np.ndarray  # bool [class]: keep an active field for this class (someone reads it)
    flat: np.ndarray  # int64 [class, i]: the offsets as flat-index steps, dx * height + dy
    reach: np.ndarray  # int64 [class]: max(|dx|, |dy|) over the class's offsets
    runs: np.ndarray  # int64 [class, run, 3]: the offsets as runs (dx, first dy, length)
    n_runs: np.ndarray  # int64 [class]: runs per class
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


@intrinsic
def prefetch(typingctx, arr, idx):
    """Ask the CPU to start loading the cache line of ``arr[idx]`` (``llvm.prefetch``).

    A hint only (no effect on any value): on large grids the random-order loop would
    otherwise wait on memory for the next agent's row and cell fields."""
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]], wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


@njit(inline="always", cache=True)
def _wrap(i, n, torus):
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
def _cell(x, y, dx, dy, width, height, torus):
    """Target cell of an offset as a flat index, or -1 when it falls off a bounded grid."""
    cx = _wrap(x + dx, width, torus)
    cy = _wrap(y + dy, height, torus)
    if cx < 0 or cy < 0:
        return -1
    return cx * height + cy


@njit(inline="always", cache=True)
def _inside(x, y, r, width, height):
    """True when every offset within ``r`` of ``(x, y)`` stays on the grid without wrapping,
    so a target cell is just ``x * height + y + flat offset``."""
    return r <= x and x < width - r and r <= y and y < height - r


@njit(inline="always", cache=True)
def _target(inside, here, step, x, y, dx, dy, width, height, torus):
    """Flat cell at offset ``(dx, dy)`` (flat ``step``) from ``here`` = ``(x, y)``, or -1."""
    if inside:
        return here + step
    return _cell(x, y, dx, dy, width, height, torus)


@njit(cache=True)
def field_add(field, x, y, offsets, n, width, height, torus, delta):
    """Add ``delta`` to ``field`` on every cell from which ``(x, y)`` is visible."""
    for i in range(n):
        cx = _wrap(x + offsets[i, 0], width, torus)
        cy = _wrap(y + offsets[i, 1], height, torus)
        if cx >= 0 and cy >= 0:
            field[cx, cy] += delta


@njit(cache=True)
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
def _is_cop(kind, pk_are_cops):
    return kind == POLICE or (kind == PEACEKEEPER and pk_are_cops)


@njit(cache=True)
def _cop_add(grid, geo, x, y, delta):
    field_add(
        grid.cop_field, x, y, geo.offsets[0], geo.n_off[0], geo.width, geo.height, geo.torus, delta
    )


# ----------------------------------------------------------------------------- occupancy
#
# These module-level helpers serve the set-up and the peacekeeping layer's phases, which
# move few agents. ``tick`` has its own inlined copies of leave / enter / move (see there).


@njit(cache=True)
def _leave(ag, grid, geo, prm, a):
    """Take agent ``a`` off its cell, withdrawing what it contributes to the fields."""
    ai = ag.i
    x = ai[a, I_X]
    y = ai[a, I_Y]
    if x < 0:
        return
    grid.occ[x, y] = -1
    kind = ai[a, I_KIND]
    if kind == RESIDENT:
        if ai[a, I_STATE] == ACTIVE:
            _active_add(grid, geo, x, y, -1)
    elif _is_cop(kind, prm.pk_are_cops):
        _cop_add(grid, geo, x, y, -1)
    ai[a, I_X] = -1
    ai[a, I_Y] = -1


@njit(cache=True)
def _enter(ag, grid, geo, prm, a, x, y):
    """Put agent ``a`` on the empty cell ``(x, y)``, adding what it contributes."""
    ai = ag.i
    grid.occ[x, y] = a
    ai[a, I_X] = x
    ai[a, I_Y] = y
    kind = ai[a, I_KIND]
    if kind == RESIDENT:
        if ai[a, I_STATE] == ACTIVE:
            _active_add(grid, geo, x, y, 1)
    elif _is_cop(kind, prm.pk_are_cops):
        _cop_add(grid, geo, x, y, 1)


@njit(cache=True)
def _relocate(ag, grid, geo, prm, a, c):
    """Move agent ``a`` to the empty flat cell ``c``."""
    _leave(ag, grid, geo, prm, a)
    x = c // geo.height
    _enter(ag, grid, geo, prm, a, x, c - x * geo.height)


@njit(cache=True)
def random_empty_in_vision(grid, geo, rng, x, y, k):
    """A uniformly random empty cell in vision class ``k`` of ``(x, y)`` (flat), or -1.

    Rejection sampling over the offsets (uniform among empty cells), then an exhaustive
    scan when the neighbourhood is nearly full (still uniform).
    """
    occ = grid.occ.reshape(-1)
    offs = geo.offsets[k]
    flat = geo.flat[k]
    n = geo.n_off[k]
    w, h, torus = geo.width, geo.height, geo.torus
    inside = _inside(x, y, geo.reach[k], w, h)
    here = x * h + y
    for _ in range(_TRY_MOVE):
        i = randint(rng, n)
        c = _target(inside, here, flat[i], x, y, offs[i, 0], offs[i, 1], w, h, torus)
        if c >= 0 and occ[c] < 0:
            return c
    found = 0
    pick = -1
    for i in range(n):
        c = _target(inside, here, flat[i], x, y, offs[i, 0], offs[i, 1], w, h, torus)
        if c >= 0 and occ[c] < 0:
            found += 1
            if randint(rng, found) == 0:  # reservoir sampling: uniform over empties
                pick = c
    return pick


@njit(cache=True)
def random_empty_cell(occ, rng):
    """A uniformly random empty cell of the whole grid (flat index), or -1 if it is full.

    ``occ`` is the flat occupancy array."""
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
    c = random_empty_in_vision(grid, geo, rng, ag.i[a, I_X], ag.i[a, I_Y], ag.i[a, I_VCLASS])
    if c >= 0:
        _relocate(ag, grid, geo, prm, a, c)


# ----------------------------------------------------------------------------- life and death


@njit(inline="always", cache=True)
def _free(ai, a, free_stack, meta):
    ai[a, I_ALIVE] = 0
    free_stack[meta[META_FREE_TOP]] = a
    meta[META_FREE_TOP] += 1


@njit(cache=True)
def remove_agent(ag, grid, geo, prm, a, free_stack, meta):
    """Remove agent ``a`` from the world (death, drawdown)."""
    _leave(ag, grid, geo, prm, a)
    _free(ag.i, a, free_stack, meta)


@njit(inline="always", cache=True)
def _reset_layer_state(ai, af, a):
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
        ai[a, c] = 0
    ai[a, I_HOME] = -1
    for c in (
        F_AGGRESSION,
        F_TRUST_PK,
        F_TRUST_POLICE,
        F_TRUST_PK0,
        F_TRUST_POLICE0,
        F_DIALOGUE,
        F_PROFESSIONALISM,
    ):
        af[a, c] = 0.0


@njit(inline="always", cache=True)
def _take_slot(ai, af, kind, vclass, free_stack, meta):
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
    _reset_layer_state(ai, af, a)
    ai[a, I_X] = -1
    ai[a, I_Y] = -1
    return a


@njit(cache=True)
def new_agent(ag, grid, geo, prm, rng, kind, vclass, cell, free_stack, meta):
    """Create an agent of ``kind`` on the empty flat ``cell``; returns its slot."""
    a = _take_slot(ag.i, ag.f, kind, vclass, free_stack, meta)
    x = cell // geo.height
    _enter(ag, grid, geo, prm, a, x, cell - x * geo.height)
    return a


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
def extended_grievance(
    hardship, on_grid, economy, employed, trust_police, dialogue, legitimacy, prm
):
    """G = H (1 - L_i) (1 - dialogue) with H from the local economy and employment, and
    legitimacy through the resident's trust in police (MODEL.md 4.1, peacekeeping layer).

    Scalars only (``economy`` is the value on the resident's cell, read if ``on_grid``)."""
    w = prm.hardship_weight
    hard = (1.0 - w) * hardship
    if on_grid:
        hard += w * (1.0 - economy)
    if employed:
        hard *= 1.0 - prm.employment_relief
    u = prm.trust_weight
    leg = (1.0 - u) * legitimacy + u * trust_police
    return hard * (1.0 - leg) * (1.0 - dialogue)


@njit(cache=True)
def _set_state(ag, grid, geo, a, new_state):
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
    ai[a, I_STATE] = new_state


@njit(cache=True)
def _release(ag, grid, geo, prm, rng, a):
    """A resident whose term is served: back on the grid if jailed off it (paper mode: on a
    random empty cell). Returns False if there is no room, and it waits."""
    ai = ag.i
    if ai[a, I_X] < 0:
        c = random_empty_cell(grid.occ.reshape(-1), rng)
        if c < 0:
            return False
        ai[a, I_STATE] = QUIESCENT
        x = c // geo.height
        _enter(ag, grid, geo, prm, a, x, c - x * geo.height)
    return True


@njit(cache=True)
def _jail(ag, grid, geo, prm, rng, cop, b, events):
    """Cop ``cop`` arrests active ``b``: a random term, off the grid unless jailed on the cell;
    an arrest by police may be abusive (seen by those around)."""
    _set_state(ag, grid, geo, b, JAILED)
    ag.i[b, I_JAIL] = randint(rng, prm.max_jail_term + 1)
    if not prm.jail_on_cell:
        _leave(ag, grid, geo, prm, b)
    events[EV_ARRESTS] += 1
    if (
        prm.extended
        and ag.i[cop, I_KIND] == POLICE
        and uniform(rng) < 1.0 - ag.f[cop, F_PROFESSIONALISM]
    ):
        events[EV_ABUSES] += 1
        grid.abuse_ev[ag.i[cop, I_X], ag.i[cop, I_Y]] += 1.0


@njit(cache=True)
def _clone(ag, grid, geo, prm, rng, a, free_stack, meta, events):
    """Reproduce onto a random empty neighbouring cell: the child inherits group and hardship."""
    ai = ag.i
    af = ag.f
    occ = grid.occ.reshape(-1)
    found = 0
    pick = -1
    for j in range(geo.neigh.shape[0]):
        c = _cell(
            ai[a, I_X],
            ai[a, I_Y],
            geo.neigh[j, 0],
            geo.neigh[j, 1],
            geo.width,
            geo.height,
            geo.torus,
        )
        if c >= 0 and occ[c] < 0:
            found += 1
            if randint(rng, found) == 0:
                pick = c
    if pick < 0 or meta[META_FREE_TOP] == 0:
        return
    b = new_agent(ag, grid, geo, prm, rng, RESIDENT, ai[a, I_VCLASS], pick, free_stack, meta)
    ai[b, I_GROUP] = ai[a, I_GROUP]
    af[b, F_HARDSHIP] = af[a, F_HARDSHIP]
    af[b, F_RISK] = uniform(rng)
    ai[b, I_DEATH_AGE] = randint(rng, prm.max_age + 1)
    if prm.extended:
        af[b, F_TRUST_PK] = af[a, F_TRUST_PK]
        af[b, F_TRUST_POLICE] = af[a, F_TRUST_POLICE]
        af[b, F_TRUST_PK0] = af[a, F_TRUST_PK0]
        af[b, F_TRUST_POLICE0] = af[a, F_TRUST_POLICE0]
    events[EV_BIRTHS] += 1


@njit(cache=True)
def tick(ag, grid, geo, prm, rng, legitimacy, perm, free_stack, meta, events):
    """One tick of random-sequential activation over every agent alive at its start.

    What every agent does every tick (move, decide, look for an active to arrest) is written
    as inner functions of this kernel: numba inlines them with the arrays already unpacked,
    so the per-agent loop does no reference counting (a call to a module-level function with
    array or namedtuple arguments costs more than the rule itself). Each is called from one
    place, to keep the compiled kernel small. Rarer events (births, deaths, arrests, releases)
    call the module-level helpers above.
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
    offs = geo.offsets
    flat = geo.flat
    n_off = geo.n_off
    reach = geo.reach
    runs = geo.runs
    n_runs = geo.n_runs
    track = geo.track
    n_class = n_off.shape[0]
    pk_cops = prm.pk_are_cops
    movement = prm.movement
    move_first = prm.move_first
    extended = prm.extended

    def cell(inside, here, x, y, k, j):
        # flat cell of offset j of class k from (x, y) = ``here``, -1 off the grid
        return _target(
            inside, here, flat[k, j], x, y, offs[k, j, 0], offs[k, j, 1], width, height, torus
        )

    def fields_add(first, last, x, y, delta):
        # ``delta`` on rows first..last-1 of ``fields`` (row 0: cops in residents' vision;
        # row 1 + k: actives in vision class k) on every cell that sees (x, y): the offsets
        # go by runs of consecutive dy, each a contiguous stretch of a column of the grid
        for row in range(first, last):
            k = row - 1 if row > 0 else 0
            if row > 0 and not track[k]:
                continue
            for q in range(n_runs[k]):
                cx = _wrap(x + runs[k, q, 0], width, torus)
                if cx < 0:
                    continue
                base = cx * height
                y0 = y + runs[k, q, 1]
                y1 = y0 + runs[k, q, 2]
                if torus:
                    cy = _wrap(y0, height, torus)
                    left = y1 - y0
                    while left > 0:  # a stretch that crosses the edge continues at 0
                        stretch = min(left, height - cy)
                        for c in range(base + cy, base + cy + stretch):
                            fields[row, c] += delta
                        left -= stretch
                        cy = 0
                else:
                    for c in range(base + max(y0, 0), base + min(y1, height)):
                        fields[row, c] += delta

    def empty_in_vision(x, y, k):
        # a uniformly random empty cell in vision class k (flat index), or -1: rejection
        # sampling, then an exhaustive reservoir scan when nearly full (as random_empty_in_vision)
        n = n_off[k]
        inside = _inside(x, y, reach[k], width, height)
        here = x * height + y
        for _ in range(_TRY_MOVE):
            j = randint(rng, n)
            c = cell(inside, here, x, y, k, j)
            if c >= 0 and occ[c] < 0:
                return c
        found = 0
        pick = -1
        for j in range(n):
            c = cell(inside, here, x, y, k, j)
            if c >= 0 and occ[c] < 0:
                found += 1
                if randint(rng, found) == 0:
                    pick = c
        return pick

    def move(a):
        # to a random empty cell within vision (if any), taking along what the agent adds
        # to the fields (an active resident to the active fields, a cop to the cop field)
        x = ai[a, I_X]
        y = ai[a, I_Y]
        c = empty_in_vision(x, y, ai[a, I_VCLASS])
        if c < 0:
            return
        kind = ai[a, I_KIND]
        if kind == RESIDENT:
            first, last = (1, 1 + n_class) if ai[a, I_STATE] == ACTIVE else (0, 0)
        else:
            first, last = (0, 1) if _is_cop(kind, pk_cops) else (0, 0)
        nx = c // height
        ny = c - nx * height
        occ[x * height + y] = -1
        occ[c] = a
        ai[a, I_X] = nx
        ai[a, I_Y] = ny
        for side in range(2 if first < last else 0):  # withdraw from the old cell, add here
            old = side == 0
            fields_add(first, last, x if old else nx, y if old else ny, -1 if old else 1)

    def kill_other_group(a):
        # Model II: an active kills a random resident of the other group in vision (if any)
        k = ai[a, I_VCLASS]
        x = ai[a, I_X]
        y = ai[a, I_Y]
        inside = _inside(x, y, reach[k], width, height)
        here = x * height + y
        found = 0
        victim = -1
        for j in range(n_off[k]):
            c = cell(inside, here, x, y, k, j)
            if c < 0:
                continue
            b = occ[c]
            if (
                b >= 0
                and ai[b, I_KIND] == RESIDENT
                and ai[b, I_GROUP] != ai[a, I_GROUP]
                and ai[b, I_STATE] != JAILED
            ):
                found += 1
                if randint(rng, found) == 0:
                    victim = b
        if victim >= 0:
            remove_agent(ag, grid, geo, prm, victim, free_stack, meta)
            events[EV_KILLINGS] += 1

    def decide(a):
        # Epstein's rule: active if grievance - net risk exceeds the threshold
        x = ai[a, I_X]
        here = x * height + ai[a, I_Y]
        if extended:
            grievance = extended_grievance(
                af[a, F_HARDSHIP],
                x >= 0,
                economy[here] if x >= 0 else 0.0,
                ai[a, I_EMPLOYED],
                af[a, F_TRUST_POLICE],
                af[a, F_DIALOGUE],
                legitimacy,
                prm,
            )
        else:
            grievance = af[a, F_HARDSHIP] * (1.0 - legitimacy)
        cops = fields[0, here]
        actives = fields[1 + ai[a, I_VCLASS], here] + 1  # oneself
        p = arrest_probability(cops, actives, prm.arrest_constant, prm.ratio_rule)
        rebel = (grievance - af[a, F_RISK] * p) > prm.threshold
        old = ai[a, I_STATE]
        new = ACTIVE if rebel else QUIESCENT
        if rebel and old != ACTIVE:
            events[EV_ACTIVATIONS] += 1
        if old != new:
            if x >= 0 and (old == ACTIVE or new == ACTIVE):
                fields_add(1, 1 + n_class, x, ai[a, I_Y], 1 if new == ACTIVE else -1)
            ai[a, I_STATE] = new
        if rebel and prm.intergroup:
            kill_other_group(a)

    def arrest_one(a):
        # a cop arrests one random active in its vision (if the field says there is one)
        k = ai[a, I_VCLASS]
        x = ai[a, I_X]
        y = ai[a, I_Y]
        here = x * height + y
        if fields[1 + k, here] <= 0:
            return
        inside = _inside(x, y, reach[k], width, height)
        found = 0
        pick = -1
        for j in range(n_off[k]):
            c = cell(inside, here, x, y, k, j)
            if c < 0:
                continue
            b = occ[c]
            if b >= 0 and ai[b, I_KIND] == RESIDENT and ai[b, I_STATE] == ACTIVE:
                found += 1
                if randint(rng, found) == 0:
                    pick = b
        if pick >= 0:
            _jail(ag, grid, geo, prm, rng, a, pick, events)

    n = 0
    for a in range(meta[META_HIGH]):
        if ai[a, I_ALIVE]:
            perm[n] = a
            n += 1
    for i in range(n - 1, 0, -1):  # Fisher-Yates
        j = randint(rng, i + 1)
        t = perm[i]
        perm[i] = perm[j]
        perm[j] = t
    # who was alive at the start: a slot a birth reuses in this tick holds a newer uid, and
    # the newborn waits for the next tick
    first_new_uid = meta[META_NEXT_UID]
    ai_flat = ai.reshape(ai.size)
    af_flat = af.reshape(af.size)
    fields_flat = grid.fields.reshape(grid.fields.size)
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
        cop = _is_cop(kind, pk_cops)
        if kind == RESIDENT:
            if prm.max_age > 0:
                ai[a, I_AGE] += 1
                if ai[a, I_AGE] > ai[a, I_DEATH_AGE]:
                    remove_agent(ag, grid, geo, prm, a, free_stack, meta)
                    events[EV_DEATHS] += 1
                    continue
            if ai[a, I_JAIL] > 0:
                ai[a, I_JAIL] -= 1
                continue
            if ai[a, I_STATE] == JAILED:
                if not _release(ag, grid, geo, prm, rng, a):
                    continue
                events[EV_RELEASES] += 1
            moves = movement
        elif cop:
            # in the peacekeeping layer units move by role (sim.rules.peacekeepers), not at random
            moves = movement and not (extended and kind == PEACEKEEPER)
        elif kind == PEACEKEEPER and movement and not extended:
            moves = True  # Epstein-mode peacekeepers who do not police: they only move
        else:
            continue  # combatants act in their own phase (sim.rules.armed_groups)
        for step in range(3):  # move first or last, as configured; act in between
            if step == 1:
                if kind == RESIDENT:
                    decide(a)
                elif cop:
                    arrest_one(a)
            elif moves and (step == 0) == move_first:
                move(a)
        clones = kind == RESIDENT and prm.p_clone > 0.0 and ai[a, I_X] >= 0
        if clones and uniform(rng) < prm.p_clone:
            _clone(ag, grid, geo, prm, rng, a, free_stack, meta, events)
    return n


# ----------------------------------------------------------------------------- set-up helpers


@njit(cache=True)
def shuffled_slots(ai, high, kind, perm, rng):
    """Slots of the agents of ``kind`` on the grid, in a fresh random order (Fisher-Yates
    into ``perm``); returns how many."""
    n = 0
    for a in range(high):
        if ai[a, I_ALIVE] and ai[a, I_KIND] == kind and ai[a, I_X] >= 0:
            perm[n] = a
            n += 1
    for i in range(n - 1, 0, -1):
        j = randint(rng, i + 1)
        t = perm[i]
        perm[i] = perm[j]
        perm[j] = t
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
        slots[made] = new_agent(ag, grid, geo, prm, rng, kind, vclass, c, free_stack, meta)
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
    """Recompute occupancy and both fields from the agent arrays (set-up and checks)."""
    ai = ag.i
    grid.occ.fill(-1)
    grid.fields.fill(0)
    for a in range(ai.shape[0]):
        if not ai[a, I_ALIVE] or ai[a, I_X] < 0:
            continue
        x = ai[a, I_X]
        y = ai[a, I_Y]
        grid.occ[x, y] = a
        kind = ai[a, I_KIND]
        if kind == RESIDENT:
            if ai[a, I_STATE] == ACTIVE:
                _active_add(grid, geo, x, y, 1)
        elif _is_cop(kind, prm.pk_are_cops):
            _cop_add(grid, geo, x, y, 1)


# census indices
(C_QUIESCENT, C_ACTIVE, C_JAILED, C_POLICE, C_PEACEKEEPERS, C_GROUP0, C_GROUP1, C_COMBATANTS) = (
    range(8)
)
N_CENSUS = 8


@njit(cache=True)
def census(ag, meta, out):
    """Count residents by state and group, and police and peacekeepers, in one pass."""
    ai = ag.i
    out.fill(0)
    for a in range(meta[META_HIGH]):
        if not ai[a, I_ALIVE]:
            continue
        k = ai[a, I_KIND]
        if k == RESIDENT:
            out[ai[a, I_STATE]] += 1  # QUIESCENT/ACTIVE/JAILED are 0/1/2
            out[C_GROUP0 + ai[a, I_GROUP]] += 1
        elif k == POLICE:
            out[C_POLICE] += 1
        elif k == PEACEKEEPER:
            out[C_PEACEKEEPERS] += 1
        else:
            out[C_COMBATANTS] += 1


@njit(cache=True)
def view_changes(ag, meta, view_uid, out):
    """Slots whose live agent differs from the Mesa view held for it (uid, or -1 for none);
    writes them to ``out`` in ascending order, brings ``view_uid`` up to date, returns how
    many."""
    ai = ag.i
    n = 0
    for a in range(meta[META_HIGH]):
        uid = ai[a, I_UID] if ai[a, I_ALIVE] else -1
        if uid != view_uid[a]:
            out[n] = a
            n += 1
            view_uid[a] = uid
    return n


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
    # reach of presence and information (cells), and the grid's topology
    torus: bool
    comb_vision: int
    res_vision: int
    pk_vision: int
    engagement_radius: int
    ddr_radius: int
    leader_radius: int
    tip_radius: int
    mean_aggression: float  # a recruit's aggression is drawn around it
    # environment (MODEL.md 4.7)
    violence_decay: float
    violence_spread: float
    economy_base: float
    w_infrastructure: float
    w_security: float
    w_violence: float
    market_bonus: float
    economy_rate: float
    economy_diffusion: float
    build_rate: float
    damage_rate: float
