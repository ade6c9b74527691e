"""People and scale (ODD 7.17): births, natural deaths, emigration of the displaced and the
return of refugees, so that a population lasts over decades.

Rates are per person per week: the defaults are a crude birth rate of ~35 and a death rate of
~10 per 1,000 a year, orders of magnitude of post-conflict countries. Refugees abroad are a
count (``META_ABROAD``): they leave the map, and come back onto calm empty cells when the
region as a whole is calmer. ``world.population`` says how many people the residents stand
for (outputs per 100,000 people and per month: :mod:`sim.io.recorder`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.grid import (
    is_empty,
    neighbour_where,
    new_agent,
    random_empty_cell,
    remove_agent,
)
from sim.engine.layout import (
    EV_BIRTHS,
    EV_DEATHS,
    EV_EMIGRATED,
    EV_RETURNED,
    F_ACCEPTANCE,
    F_HARDSHIP,
    F_RISK,
    F_TRUST_PK,
    F_TRUST_PK0,
    F_TRUST_POLICE,
    F_TRUST_POLICE0,
    I_GROUP,
    I_X,
    I_Y,
    L_VIOLENCE,
    META_ABROAD,
    META_FREE_TOP,
    RESIDENT,
)
from sim.engine.rng import uniform
from sim.rules.factions import group_hardship, group_trust


@njit(inline="always", cache=True)
def born(ag, grid, geo, prm, rng, a, free_stack, meta, events):
    """ODD 7.17, birth: a child of resident ``a`` on a uniformly random empty Moore neighbour
    (none: no birth). It belongs to the parent's group and starts from the parent's base
    trust (families share their experience); hardship and risk aversion are its own,
    U(0, 1) (hardship with its community's offset, ODD 7.25); its acceptance of
    ex-combatants is the initial level, with no record of any faction (ODD 7.19)."""
    ai = ag.i
    af = ag.f
    pick = neighbour_where(ai, grid, geo, prm, rng, ai[a, I_X], ai[a, I_Y], prm.birth_class,
                           is_empty, a)[0]
    if pick < 0 or meta[META_FREE_TOP] == 0:
        return
    b = new_agent(ag, grid, geo, prm, RESIDENT, 0, pick, free_stack, meta)
    ai[b, I_GROUP] = ai[a, I_GROUP]
    af[b, F_HARDSHIP] = group_hardship(uniform(rng), ai[b, I_GROUP], prm)  # communities
    af[b, F_RISK] = uniform(rng)
    af[b, F_TRUST_PK] = af[a, F_TRUST_PK0]
    af[b, F_TRUST_PK0] = af[a, F_TRUST_PK0]
    af[b, F_TRUST_POLICE] = af[a, F_TRUST_POLICE0]
    af[b, F_TRUST_POLICE0] = af[a, F_TRUST_POLICE0]
    af[b, F_ACCEPTANCE] = prm.reintegration_initial  # --- accept: ODD 7.19
    events[EV_BIRTHS] += 1


@njit(inline="always", cache=True)
def dies(ag, grid, geo, prm, a, free_stack, meta, events):
    """ODD 7.17, natural death (residents and combatants, ``population.death_rate``)."""
    remove_agent(ag, grid, geo, prm, a, free_stack, meta)
    events[EV_DEATHS] += 1


@njit(inline="always", cache=True)
def emigrates(ag, grid, geo, prm, a, free_stack, meta, events):
    """ODD 7.17, emigration: a displaced resident leaves the region
    (``population.emigration_rate``): a refugee abroad (counted, off the map)."""
    remove_agent(ag, grid, geo, prm, a, free_stack, meta)
    meta[META_ABROAD] += 1
    events[EV_EMIGRATED] += 1


@njit(inline="always", cache=True)
def return_chance(violence_mean, prm):
    """ODD 7.17, return: each refugee abroad comes back with probability
    ``population.return_rate`` exp(-mean violence / ``violence.flee_threshold``): they return
    as the region calms down."""
    thr = prm.violence_flee_threshold
    calm = np.exp(-violence_mean / thr) if thr > 0.0 else 0.0
    return prm.population_return_rate * calm


@njit(inline="always", cache=True)
def settle_returnee(ag, grid, geo, prm, lay, rng, free_stack, meta, events):
    """ODD 7.17, return: a refugee comes back onto the first calm empty cell among
    ``population.return_tries`` random empty cells (violence at most ``return_share`` x
    ``flee_threshold``); a returnee is a new resident of group 0 or 1 (``group_share``) with
    hardship and risk aversion U(0, 1), the initial trust of the context (with its
    community's offsets, ODD 7.25) and the initial acceptance of ex-combatants (ODD 7.19).
    Returns False if
    no calm cell was found (the refugee stays abroad this tick)."""
    occ = grid.occ.reshape(-1)
    v = lay.f[L_VIOLENCE].reshape(-1)
    calm = prm.violence_return_share * prm.violence_flee_threshold
    for _ in range(prm.population_return_tries):
        c = random_empty_cell(occ, rng)
        if c < 0 or meta[META_FREE_TOP] == 0:
            return False
        if v[c] <= calm:
            b = new_agent(ag, grid, geo, prm, RESIDENT, 0, c, free_stack, meta)
            ai = ag.i
            af = ag.f
            if prm.residents_groups == 2 and uniform(rng) >= prm.residents_group_share:
                ai[b, I_GROUP] = 1
            # communities: the returnee's community's own hardship and initial trust (7.25)
            af[b, F_HARDSHIP] = group_hardship(uniform(rng), ai[b, I_GROUP], prm)
            af[b, F_RISK] = uniform(rng)
            t_pk, t_pol = group_trust(ai[b, I_GROUP], prm)
            af[b, F_TRUST_PK] = t_pk
            af[b, F_TRUST_PK0] = t_pk
            af[b, F_TRUST_POLICE] = t_pol
            af[b, F_TRUST_POLICE0] = t_pol
            af[b, F_ACCEPTANCE] = prm.reintegration_initial  # --- accept: ODD 7.19
            meta[META_ABROAD] -= 1
            events[EV_RETURNED] += 1
            return True
    return False
