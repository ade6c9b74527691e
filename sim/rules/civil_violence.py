"""The civil-violence core (ODD 7.2-7.5): Epstein's rule A for residents, rule C for cops,
movement, and Model II's killing, births and deaths.

Each rule is a small function the core tick (:mod:`sim.engine.tick`) calls for one agent at
its turn; the tick decides who acts when, keeps the vision fields in step and walks the
memory. Rules applied to every agent every tick take scalars (what the agent sees and is);
the effects of rarer events (an arrest, a release, a birth) take the tables. The grievance
formula lives here once: the tick, the recruitment rule, the metrics and
``Resident.grievance`` all call :func:`grievance`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.grid import (
    enter,
    is_empty,
    leave,
    neighbour_where,
    new_agent,
    random_empty_cell,
    set_state,
)
from sim.engine.layout import (
    ACTIVE,
    EV_ABUSES,
    EV_ARRESTS,
    EV_BIRTHS,
    F_HARDSHIP,
    F_PROFESSIONALISM,
    F_RISK,
    F_TRUST_PK,
    F_TRUST_PK0,
    F_TRUST_POLICE,
    F_TRUST_POLICE0,
    I_DEATH_AGE,
    I_GROUP,
    I_JAIL,
    I_KIND,
    I_STATE,
    I_VCLASS,
    I_X,
    I_Y,
    JAILED,
    META_FREE_TOP,
    PEACEKEEPER,
    POLICE,
    QUIESCENT,
    RESIDENT,
)
from sim.engine.params import code
from sim.engine.rng import randint, uniform

RATIO_FLOOR = code("unrest_arrest_ratio", "floor")
RATIO_ROUND = code("unrest_arrest_ratio", "round")
RATIO_EXACT = code("unrest_arrest_ratio", "exact")
INTERGROUP = code("unrest_mode", "intergroup")
ON_CELL = code("unrest_jail", "on_cell")
PEACEKEEPING = code("model", "peacekeeping")


# ----------------------------------------------------------------------------- 7.2 rule A


@njit(inline="always", cache=True)
def grievance(hardship, on_grid, economy, employed, trust_police, dialogue, legitimacy, prm,
              aid=0.0):
    """ODD 7.2 rule A, grievance: Epstein's G = h (1 - L). With the peacekeeping layer,
    H = ((1 - w) h + w (1 - E_cell)) (1 - relief if employed) (1 - aid), L_i = (1 - u) L + u
    trust_police, G = H (1 - L_i)(1 - dialogue), w = ``economy.hardship_weight``,
    u = ``unrest.legitimacy_trust_weight``, relief = ``economy.employment_relief``, aid the
    humanitarian aid reaching a displaced resident at a protection site (ODD 7.23; 0 for
    everyone else).

    Scalars only (``economy`` is the value on the resident's cell, read if ``on_grid``)."""
    if prm.model != PEACEKEEPING:
        return hardship * (1.0 - legitimacy)
    w = prm.economy_hardship_weight
    hard = (1.0 - w) * hardship
    if on_grid:
        hard += w * (1.0 - economy)
    if employed:
        hard *= 1.0 - prm.economy_employment_relief
    if aid > 0.0:  # --- zones: humanitarian aid at protection sites (ODD 7.23)
        hard *= 1.0 - aid
    u = prm.unrest_legitimacy_trust_weight
    leg = (1.0 - u) * legitimacy + u * trust_police
    return hard * (1.0 - leg) * (1.0 - dialogue)


@njit(inline="always", cache=True)
def arrest_ratio(cops, actives, rule):
    """ODD 7.2 rule A, r(C/A) under ``unrest.arrest_ratio``: floor, round (half-to-even like
    Python's round()) or exact."""
    q = cops / actives
    if rule == RATIO_FLOOR:
        return np.floor(q)
    if rule == RATIO_ROUND:
        return np.rint(q)
    return q


@njit(inline="always", cache=True)
def arrest_probability(cops, actives, k, rule):
    """ODD 7.2 rule A, estimated arrest probability P = 1 - exp(-k r(C/A)), with A counting
    oneself."""
    return 1.0 - np.exp(-k * arrest_ratio(cops, actives, rule))


# the counts of cops (below MEMO_COPS) and actives (below MEMO_ACTIVES) whose arrest
# probability a tick remembers (remembered_arrest_probability)
MEMO_COPS, MEMO_ACTIVES = 24, 64
MEMO_SIZE = MEMO_COPS * MEMO_ACTIVES


@njit(inline="always", cache=True)
def remembered_arrest_probability(cops, actives, prm, memo):
    """ODD 7.2 rule A: :func:`arrest_probability` for ``cops`` and ``actives`` in vision,
    remembered in ``memo`` (``MEMO_SIZE`` values, -1 where not yet computed; the core tick's,
    for one tick): the same function of the same counts gives the same number, so each
    pair's exp is computed once a tick instead of once for every resident who weighs it (few
    distinct pairs, thousands of residents)."""
    k = prm.unrest_arrest_constant
    rule = prm.unrest_arrest_ratio
    if cops >= 0 and cops < MEMO_COPS and actives >= 0 and actives < MEMO_ACTIVES:
        j = cops * MEMO_ACTIVES + actives
        p = memo[j]
        if p < 0.0:
            p = arrest_probability(cops, actives, k, rule)
            memo[j] = p
        return p
    return arrest_probability(cops, actives, k, rule)


@njit(inline="always", cache=True)
def turns_active(grievance, risk_aversion, cops, actives, prm, memo):
    """ODD 7.2 rule A: active iff G - N > T, net risk N = R P with C cops and A actives
    (oneself included) in vision.

    With R >= 0 and k >= 0, 0 <= P <= 1, so G - R P lies between G - R and G (rounding is
    monotonic): G <= T is never active and G - R > T always is, whatever P. Those residents
    (most, where grievance is low) are decided without computing exp; for the rest P comes
    from ``memo`` (:func:`remembered_arrest_probability`)."""
    threshold = prm.unrest_threshold
    k = prm.unrest_arrest_constant
    if risk_aversion >= 0.0 and k >= 0.0:
        if grievance <= threshold:
            return False
        if grievance - risk_aversion > threshold:
            return True
    p = remembered_arrest_probability(cops, actives, prm, memo)
    return (grievance - risk_aversion * p) > threshold


# ----------------------------------------------------------------------------- 7.3 rule C


@njit(inline="always", cache=True)
def arrestable(b, kind, state, group, informant, my_group, my_faction, prm):
    """ODD 7.3 rule C: a cop arrests a uniformly random *active resident* in its vision (rank
    of the occupant ``b`` for ``random_cell_where``)."""
    return 1 if kind == RESIDENT and state == ACTIVE else 0


@njit(inline="always", cache=True)
def arrest(ag, grid, geo, prm, rng, cop, b, events):
    """ODD 7.3 rule C, the arrest: jail term ~ U{0..J_max}; off the grid unless
    ``unrest.jail`` is ``on_cell``. With the peacekeeping layer a police arrest is abusive
    with probability 1 - professionalism (an abuse event at the officer's cell)."""
    set_state(ag, grid, geo, b, JAILED)
    ag.i[b, I_JAIL] = randint(rng, prm.unrest_max_jail_term + 1)
    if prm.unrest_jail != ON_CELL:
        leave(ag, grid, geo, prm, b)
    events[EV_ARRESTS] += 1
    if (
        prm.model == PEACEKEEPING
        and ag.i[cop, I_KIND] == POLICE
        and uniform(rng) < 1.0 - ag.f[cop, F_PROFESSIONALISM]
    ):
        events[EV_ABUSES] += 1
        grid.abuse_ev[ag.i[cop, I_X], ag.i[cop, I_Y]] += 1.0


@njit(inline="always", cache=True)
def jail_countdown(term):
    """ODD 7.3: a jailed resident counts its term down one per turn (and does nothing else);
    it decides again on the first turn with a zero term. Returns (term after this turn,
    still serving)."""
    if term > 0:
        return term - 1, True
    return term, False


@njit(inline="always", cache=True)
def release(ag, grid, geo, prm, rng, a):
    """ODD 7.3: a resident whose term is served is quiescent again; jailed off the grid, it
    returns to a uniformly random empty cell. False if there is none (it waits)."""
    ai = ag.i
    if ai[a, I_X] < 0:
        c = random_empty_cell(grid.occ.reshape(-1), rng)
        if c < 0:
            return False
        ai[a, I_STATE] = QUIESCENT
        x = c // geo.height
        enter(ag, grid, geo, prm, a, x, c - x * geo.height)
    return True


# ----------------------------------------------------------------------------- 7.4 movement


@njit(inline="always", cache=True)
def moves_in_core(kind, cop, prm):
    """ODD 7.4: with ``unrest.movement`` every agent of the core moves to a uniformly random
    empty cell within its vision: residents and cops; peacekeepers of the peacekeeping layer
    move by role instead (7.8), and combatants in their own phase (7.9)."""
    if not prm.unrest_movement:
        return False
    if kind == RESIDENT or (cop and kind != PEACEKEEPER):
        return True
    return kind == PEACEKEEPER and prm.model != PEACEKEEPING


# ----------------------------------------------------------------------------- 7.5 Model II


@njit(inline="always", cache=True)
def kill_target(b, kind, state, group, informant, my_group, my_faction, prm):
    """ODD 7.5: an active kills a uniformly random non-jailed resident *of the other group*
    in its vision (rank of the occupant ``b`` for ``random_cell_where``)."""
    return 1 if kind == RESIDENT and group != my_group and state != JAILED else 0


@njit(inline="always", cache=True)
def ageing(prm):
    """ODD 7.5: residents age (one tick per turn) only with ``residents.max_age`` > 0."""
    return prm.residents_max_age > 0


@njit(inline="always", cache=True)
def dies_of_age(age, death_age):
    """ODD 7.5: a resident dies once older than its age of death (drawn U{0..max_age})."""
    return age > death_age


@njit(inline="always", cache=True)
def birth_probability(on_grid, prm):
    """ODD 7.5: a resident on the grid reproduces with probability ``residents.p_clone`` a
    turn (0 off the grid)."""
    return prm.residents_p_clone if on_grid else 0.0


@njit(inline="always", cache=True)
def clone(ag, grid, geo, prm, rng, a, free_stack, meta, events):
    """ODD 7.5, birth: onto a uniformly random empty Moore neighbour (if any); the child
    inherits group and hardship (and, with the peacekeeping layer, trust); its risk aversion
    is U(0, 1) and its age of death U{0..max_age}."""
    ai = ag.i
    af = ag.f
    pick = neighbour_where(ai, grid, geo, prm, rng, ai[a, I_X], ai[a, I_Y], prm.birth_class,
                           is_empty, a)[0]
    if pick < 0 or meta[META_FREE_TOP] == 0:
        return
    b = new_agent(ag, grid, geo, prm, RESIDENT, ai[a, I_VCLASS], pick, free_stack, meta)
    ai[b, I_GROUP] = ai[a, I_GROUP]
    af[b, F_HARDSHIP] = af[a, F_HARDSHIP]
    af[b, F_RISK] = uniform(rng)
    ai[b, I_DEATH_AGE] = randint(rng, prm.residents_max_age + 1)
    if prm.model == PEACEKEEPING:
        af[b, F_TRUST_PK] = af[a, F_TRUST_PK]
        af[b, F_TRUST_POLICE] = af[a, F_TRUST_POLICE]
        af[b, F_TRUST_PK0] = af[a, F_TRUST_PK0]
        af[b, F_TRUST_POLICE0] = af[a, F_TRUST_POLICE0]
    events[EV_BIRTHS] += 1

