"""Rival factions and two communities (ODD 7.25).

*Rival factions.* Every two factions are rivals: a fighter with a fighter of another faction in
vision may engage it (``armed_groups.rivalry``, damped by the risk it perceives from security
forces, as an attack is). A rival clash is battle violence: battle deaths on both sides, never
an attack on civilians, except that bystanders near it may be hit in the crossfire (violence
against civilians, a civilian casualty when killed, an unprotected victimisation for those who
see it).

*Two communities.* In a peacekeeping context with two communal groups (``residents.groups =
2``), each group may live mostly in its own part of the map (``communities.segregation``),
carry its own grievances and its own history of trust (offsets of the ``[communities]``
table), and factions recruit from their own community (faction f belongs to group f mod 2, the
group it does not prey on, ODD 7.9).

*Partiality* (``strategy.partiality``) is a choice of what units do, not a term of trust:
patrols and rapid response answer violence and reports in the favoured community's areas
before the other's, units near an attack on a resident of the other community bring less of
their capacity to interrupting it, and posted units are posted at the favoured community's
settlements. What residents of the other community then see (protection of the other group,
their own victimisation unprotected, fewer meetings) is what moves their trust (ODD 7.11).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.fields import site_event
from sim.engine.grid import cell_at, remove_agent
from sim.engine.layout import (
    COMBATANT,
    EV_BATTLE_DEATHS,
    EV_CASUALTIES,
    EV_CASUALTIES_G0,
    EV_CROSSFIRE,
    EV_DISPLACED_DEATHS,
    EV_RIVAL_CLASHES,
    I_DISPLACED,
    I_FACTION,
    I_GROUP,
    I_KIND,
    I_STATE,
    I_VCLASS,
    I_X,
    I_Y,
    JAILED,
    L_SITE_CROSSFIRE,
    L_SITE_CROSSFIRE_KILLED,
    L_VICTIM_EV,
    L_VICTIM_EV1,
    L_VIOLENCE_BATTLE,
    L_VIOLENCE_CIV,
    RESIDENT,
)
from sim.engine.rng import randint, uniform

# ----------------------------------------------------------------------------- rival factions


@njit(inline="always", cache=True)
def rivals_in_vision(comb_own, faction, x, y, prm):
    """ODD 7.25: fighters of the other factions within a fighter's vision (the per-faction
    presence fields of ODD 7.7): every two factions are rivals."""
    n = 0.0
    for f in range(prm.armed_groups_factions):
        if f != faction:
            n += comb_own[f, x, y]
    return n


@njit(inline="always", cache=True)
def engage_probability(rivals, perceived_risk, prm):
    """ODD 7.25: a fighter with rivals in vision engages one with probability
    ``armed_groups.rivalry`` (1 - P_c), P_c the risk it perceives from security forces (the
    attack's, ODD 7.9). -1 when it cannot (no rival, rivalry 0, or
    ``mechanisms.rival_clashes`` off: nothing is drawn)."""
    if rivals <= 0.0 or not prm.mechanisms_rival_clashes or not prm.armed_groups_rivalry > 0.0:
        return -1.0
    return prm.armed_groups_rivalry * (1.0 - perceived_risk)


@njit(inline="always", cache=True)
def pick_rival(ai, occ, geo, rng, c):
    """ODD 7.25: whom a fighter engages, a uniformly random fighter of another faction in its
    vision (flat occupant slot; -1 when none is left there: the presence fields were computed
    before others moved)."""
    k = ai[c, I_VCLASS]
    x = ai[c, I_X]
    y = ai[c, I_Y]
    own = ai[c, I_FACTION]
    found = 0
    pick = -1
    for j in range(geo.n_off[k]):
        cell = cell_at(x, y, geo.offsets[k, j, 0], geo.offsets[k, j, 1], geo.width, geo.height,
                       geo.torus)
        if cell < 0:
            continue
        b = occ[cell]
        if b >= 0 and ai[b, I_KIND] == COMBATANT and ai[b, I_FACTION] != own:
            found += 1
            if randint(rng, found) == 0:
                pick = b
    return pick


@njit(inline="always", cache=True)
def crossfire_victim(ai, occ, geo, rng, x, y, prm):
    """ODD 7.25, crossfire: a uniformly random non-jailed resident within
    ``armed_groups.crossfire_radius`` cells (square) of (x, y), the slot, or -1."""
    r = prm.armed_groups_crossfire_radius
    found = 0
    pick = -1
    for dx in range(-r, r + 1):
        for dy in range(-r, r + 1):
            cell = cell_at(x, y, dx, dy, geo.width, geo.height, geo.torus)
            if cell < 0:
                continue
            b = occ[cell]
            if b >= 0 and ai[b, I_KIND] == RESIDENT and ai[b, I_STATE] != JAILED:
                found += 1
                if randint(rng, found) == 0:
                    pick = b
    return pick


@njit(inline="always", cache=True)
def casualty(ai, v, events):
    """ODD 7.25: a civilian killed is counted, in all and by its communal group (the
    per-group casualties), and among the displaced (ODD 7.23)."""
    events[EV_CASUALTIES] += 1
    events[EV_CASUALTIES_G0 + ai[v, I_GROUP]] += 1
    if ai[v, I_DISPLACED]:  # --- zones: deaths among the displaced (ODD 7.23)
        events[EV_DISPLACED_DEATHS] += 1


@njit(inline="always", cache=True)
def rival_clash(ag, grid, geo, prm, lay, rng, c, r, free_stack, meta, events):
    """ODD 7.25, rival clash between fighter ``c`` and fighter ``r`` of another faction:
    battle violence += ``violence.per_clash`` at c's cell; with probability
    ``armed_groups.p_crossfire`` a bystander (:func:`crossfire_victim`) is hit: violence
    against civilians += ``per_attack`` at its cell, an unprotected victimisation of its group
    for those who see it, and it dies with ``p_lethal``; then r, and then c, each die with
    ``p_battle_death`` (battle deaths). Returns True if c died."""
    ai = ag.i
    occ = grid.occ.reshape(-1)
    x = ai[c, I_X]
    y = ai[c, I_Y]
    events[EV_RIVAL_CLASHES] += 1
    lay.f[L_VIOLENCE_BATTLE, x, y] += prm.violence_per_clash
    if uniform(rng) < prm.armed_groups_p_crossfire:
        v = crossfire_victim(ai, occ, geo, rng, x, y, prm)
        if v >= 0:
            vx = ai[v, I_X]
            vy = ai[v, I_Y]
            events[EV_CROSSFIRE] += 1
            lay.f[L_VIOLENCE_CIV, vx, vy] += prm.violence_per_attack
            lay.f[L_VICTIM_EV1 if ai[v, I_GROUP] == 1 else L_VICTIM_EV, vx, vy] += 1.0
            site_event(lay, L_SITE_CROSSFIRE, vx, vy)  # events: where (the trainer's feed)
            if uniform(rng) < prm.armed_groups_p_lethal:
                casualty(ai, v, events)
                site_event(lay, L_SITE_CROSSFIRE_KILLED, vx, vy)
                remove_agent(ag, grid, geo, prm, v, free_stack, meta)
    p_death = prm.armed_groups_p_battle_death
    if uniform(rng) < p_death:
        events[EV_BATTLE_DEATHS] += 1
        remove_agent(ag, grid, geo, prm, r, free_stack, meta)
    if uniform(rng) < p_death:
        events[EV_BATTLE_DEATHS] += 1
        remove_agent(ag, grid, geo, prm, c, free_stack, meta)
        return True
    return False


# ----------------------------------------------------------------------------- communities


@njit(inline="always", cache=True)
def protected_capacity(capacity, victim_group, prm):
    """ODD 7.25, partiality: the interdiction capacity units bring to interrupting an attack
    on a resident of ``victim_group``: all of it for the favoured community, x (1 -
    ``strategy.partiality``) for the other (two-group contexts; all of it with one group)."""
    if prm.residents_groups == 2 and victim_group != prm.strategy_favoured_group:
        return capacity * (1.0 - prm.strategy_partiality)
    return capacity


@njit(inline="always", cache=True)
def attention(community, prm):
    """ODD 7.25, partiality: how much of the heat of a cell (violence against civilians and
    fresh tips, ODD 7.8) draws patrols and rapid response: all of it in the favoured
    community's areas (:func:`community_map`), x (1 - ``strategy.partiality``) in the other's
    (two-group contexts; all of it with one group)."""
    if prm.residents_groups == 2 and community != prm.strategy_favoured_group:
        return 1.0 - prm.strategy_partiality
    return 1.0


@njit(inline="always", cache=True)
def can_join(group, prm):
    """ODD 7.25, recruitment: whether a resident of ``group`` has a faction to join. With
    ``communities.recruit_own_group`` in a two-group context a faction recruits only from its
    own community (faction f belongs to group f mod 2), so group g needs a faction f < number
    of factions with f mod 2 = g; otherwise any resident can join."""
    if prm.residents_groups != 2 or not prm.communities_recruit_own_group:
        return True
    return group < prm.armed_groups_factions


@njit(inline="always", cache=True)
def recruit_faction(group, rng, prm):
    """ODD 7.25, recruitment: the faction a recruit (or a relapsing ex-fighter) of ``group``
    joins, uniformly random among those that recruit from its community (:func:`can_join`),
    or among all factions."""
    n = prm.armed_groups_factions
    if prm.residents_groups != 2 or not prm.communities_recruit_own_group:
        return randint(rng, n)
    return group + 2 * randint(rng, (n - group + 1) // 2)


@njit(inline="always", cache=True)
def group_hardship(u, group, prm):
    """ODD 7.25: the base hardship of a resident of ``group`` drawn as u ~ U(0, 1), plus the
    community's offset (``communities.hardship_group0``/``1``), clipped to [0, 1]; u itself
    with one group."""
    if prm.residents_groups != 2:
        return u
    off = prm.communities_hardship_group1 if group == 1 else prm.communities_hardship_group0
    return min(1.0, max(0.0, u + off))


@njit(inline="always", cache=True)
def group_trust(group, prm):
    """ODD 7.25: the mean initial trust in peacekeepers and in police of a resident of
    ``group``, ``trust.initial_pk`` and ``trust.initial_police`` plus the community's offsets,
    clipped to [0, 1]. Returns (trust_pk, trust_police)."""
    t = prm.trust_initial_pk
    tp = prm.trust_initial_police
    if prm.residents_groups != 2:
        return t, tp
    if group == 1:
        t += prm.communities_trust_pk_group1
        tp += prm.communities_trust_police_group1
    else:
        t += prm.communities_trust_pk_group0
        tp += prm.communities_trust_police_group0
    return min(1.0, max(0.0, t)), min(1.0, max(0.0, tp))


# ----------------------------------------------------------------------------- set-up (Python)


def home_groups(x: np.ndarray, width: int, group_share: float) -> np.ndarray:
    """ODD 7.25, segregation: the community whose part of the map a column x lies in, group 0
    west of x = ``residents.group_share`` x width, group 1 east of it."""
    return (x >= group_share * width).astype(np.int8)


def settle_communities(groups: np.ndarray, x: np.ndarray, width: int, group_share: float,
                       segregation: float, u: np.ndarray) -> np.ndarray:
    """ODD 7.25, segregation: a resident at column x lives in its community's part of the map
    with probability ``communities.segregation`` (u < segregation: its group becomes the group
    of its part, :func:`home_groups`); the others keep the group drawn with
    ``residents.group_share``. Residents stay where they are: their groups change."""
    return np.where(u < segregation, home_groups(x, width, group_share), groups).astype(np.int8)


def community_map(group0: np.ndarray, group1: np.ndarray) -> np.ndarray:
    """ODD 7.25: the community a cell (and a settlement on it) belongs to, the group with more
    residents within ``economy.access_radius`` of it at set-up (``group0``, ``group1``: those
    counts at every cell; a tie goes to group 0). It does not change afterwards: it is where
    a community lives, as the mission knows it."""
    return (group1 > group0).astype(np.float64)


def post_market(markets: np.ndarray, groups: np.ndarray, favoured: int, partiality: float,
                gen: np.random.Generator) -> int:
    """ODD 7.25, partiality: the settlement a posted unit (static, engagement, DDR) is posted
    at, among ``markets`` (their communities ``groups``): with probability
    ``strategy.partiality`` a uniformly random one of the favoured community (if it has one),
    otherwise a uniformly random one. An impartial force (partiality 0) draws exactly as
    before: one choice among all."""
    if partiality > 0.0:
        mine = markets[groups == favoured]
        if gen.random() < partiality and mine.size:
            return int(gen.choice(mine))
    return int(gen.choice(markets))
