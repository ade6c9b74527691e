"""Armed groups (ODD 7.9): interdiction, arrest, clashes and attacks, one combatant at a time;
and reinforcements from outside the region.

Each combatant, in random order (:func:`sim.engine.layer_tick.combatants_phase`), reads the
presence fields computed at the start of the phase; a neighbourhood is scanned only to pick a
specific victim or opponent, after the fields said there is one. Recruitment, relapse and
disarmament are in :mod:`sim.rules.transitions`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.calls import call
from sim.engine.grid import (
    move_in_vision,
    neighbour_where,
    new_agent,
    remove_agent,
)
from sim.engine.layout import (
    COMBATANT,
    EV_ABUSES,
    EV_ATTACKS,
    EV_BATTLE_DEATHS,
    EV_CASUALTIES,
    EV_CLASHES,
    EV_COMBATANT_ARRESTS,
    EV_HARMED,
    EV_INTERDICTIONS,
    EV_PK_KILLED,
    EV_POLICE_KILLED,
    F_AGGRESSION,
    F_HARDSHIP,
    F_RISK,
    I_FACTION,
    I_KIND,
    I_VCLASS,
    I_X,
    I_Y,
    JAILED,
    L_HARM_EV,
    L_N_POLICE,
    L_PK_SEEN,
    L_PROTECT_EV,
    L_SEC_PK,
    L_SEC_POLICE,
    L_TIP_REACH,
    L_VICTIM_EV,
    L_VIOLENCE,
    PEACEKEEPER,
    POLICE,
    RESIDENT,
)
from sim.engine.rng import uniform

# ----------------------------------------------------------------------------- whom to pick


@njit(inline="always", cache=True)
def bystander(b, kind, state, group, informant, my_group, my_faction, prm):
    """ODD 7.9, interdiction: who may be harmed, any non-jailed resident within
    ``strategy.harm_radius`` (rank of the occupant ``b`` for ``random_cell_where``)."""
    return 1 if kind == RESIDENT and state != JAILED else 0


@njit(inline="always", cache=True)
def security_unit(b, kind, state, group, informant, my_group, my_faction, prm):
    """ODD 7.9, clash: whom a clash hits, a peacekeeper or police officer in the combatant's
    vision (rank of the occupant ``b`` for ``random_cell_where``)."""
    return 1 if kind in (PEACEKEEPER, POLICE) else 0


@njit(inline="always", cache=True)
def victim(b, kind, state, group, informant, my_group, my_faction, prm):
    """ODD 7.9, attack: who may be attacked, a non-jailed resident in vision, of the other
    group in two-group worlds (a faction preys on the group other than its own, faction mod
    2); a known informant is preferred (rank 2; rank of the occupant ``b`` for
    ``random_cell_where``)."""
    own_group = my_faction % 2
    ok = (
        kind == RESIDENT
        and state != JAILED
        and not (prm.residents_groups == 2 and group == own_group)
    )
    return (2 if informant > 0 else 1) if ok else 0


# ----------------------------------------------------------------------------- probabilities


@njit(inline="always", cache=True)
def interdiction_probability(n_pk, tips, prm):
    """ODD 7.9, interdiction: with n_pk units in vision, p = 1 - (1 - p1)^n_pk, p1 =
    ``p_interdict`` (1 + ``tip_boost`` min(tips in reach, 1)), capped at 1."""
    p1 = min(1.0, prm.strategy_p_interdict * (1.0 + prm.strategy_tip_boost * min(tips, 1.0)))
    return 1.0 - (1.0 - p1) ** n_pk


@njit(inline="always", cache=True)
def police_arrest_probability(n_pol, prof, prm):
    """ODD 7.9, police arrest: with n_pol officers in vision of mean professionalism q,
    p = 1 - (1 - ``p_arrest_combatant`` (``arrest_base`` + q))^n_pol."""
    p1 = min(1.0, prm.police_p_arrest_combatant * (prm.police_arrest_base + prof))
    return 1.0 - (1.0 - p1) ** n_pol


@njit(inline="always", cache=True)
def attack_risk(s_v, b_v, prm):
    """ODD 7.9, attack: perceived risk P_c = 1 - exp(-k_c S_v / B_v), S_v the security in
    vision (units and professionalism-weighted police), B_v own-faction combatants in vision
    (at least 1)."""
    return 1.0 - np.exp(-prm.armed_groups_risk_constant * s_v / b_v)


# ----------------------------------------------------------------------------- effects


@njit(inline="always", cache=True)
def interdict(ag, grid, geo, prm, lay, rng, c, free_stack, meta, events):
    """ODD 7.9, interdiction: the combatant is removed; with probability 1 - ``restraint``
    force harms a uniformly random bystander (:func:`bystander`), who dies with
    ``p_lethal`` (a harm event either way); otherwise the interdiction protects (a protection
    event)."""
    ai = ag.i
    x = ai[c, I_X]
    y = ai[c, I_Y]
    events[EV_INTERDICTIONS] += 1
    if uniform(rng) < 1.0 - prm.strategy_restraint:
        v = neighbour_where(ai, grid, geo, prm, rng, x, y, prm.harm_class, bystander, c)[0]
        if v >= 0:
            events[EV_HARMED] += 1
            if uniform(rng) < prm.armed_groups_p_lethal:  # injured, or killed
                remove_agent(ag, grid, geo, prm, grid.occ.reshape(-1)[v], free_stack, meta)
                events[EV_CASUALTIES] += 1
        lay.f[L_HARM_EV, x, y] += 1.0
    else:
        lay.f[L_PROTECT_EV, x, y] += 1.0
    remove_agent(ag, grid, geo, prm, c, free_stack, meta)


@njit(inline="always", cache=True)
def police_arrest(ag, grid, geo, prm, rng, c, prof, free_stack, meta, events):
    """ODD 7.9, police arrest: the combatant is removed; the arrest is abusive with
    probability 1 - q (an abuse event at the combatant's cell)."""
    x = ag.i[c, I_X]
    y = ag.i[c, I_Y]
    events[EV_COMBATANT_ARRESTS] += 1
    if uniform(rng) < 1.0 - prof:
        events[EV_ABUSES] += 1
        grid.abuse_ev[x, y] += 1.0
    remove_agent(ag, grid, geo, prm, c, free_stack, meta)


@njit(inline="always", cache=True)
def clash(ag, grid, geo, prm, lay, rng, c, free_stack, meta, events):
    """ODD 7.9, clash: V += ``per_clash``; a uniformly random unit or officer in vision
    (:func:`security_unit`) dies with ``p_battle_death`` x ``unit_death_share``; the
    combatant dies with ``p_battle_death``. Returns True if the combatant died."""
    ai = ag.i
    events[EV_CLASHES] += 1
    lay.f[L_VIOLENCE, ai[c, I_X], ai[c, I_Y]] += prm.violence_per_clash
    occ = grid.occ.reshape(-1)
    u = neighbour_where(ai, grid, geo, prm, rng, ai[c, I_X], ai[c, I_Y], ai[c, I_VCLASS],
                        security_unit, c)[0]
    p_death = prm.armed_groups_p_battle_death
    if u >= 0 and uniform(rng) < p_death * prm.armed_groups_unit_death_share:
        u = occ[u]
        events[EV_BATTLE_DEATHS] += 1
        if ai[u, I_KIND] == PEACEKEEPER:
            events[EV_PK_KILLED] += 1
        else:
            events[EV_POLICE_KILLED] += 1
        remove_agent(ag, grid, geo, prm, u, free_stack, meta)
    if uniform(rng) < p_death:
        events[EV_BATTLE_DEATHS] += 1
        remove_agent(ag, grid, geo, prm, c, free_stack, meta)
        return True
    return False


@njit(inline="always", cache=True)
def pick_victim(ag, grid, geo, prm, rng, c):
    """ODD 7.9, attack: the target, a known informant in vision with probability
    ``p_retaliate`` if there is one, else a uniformly random :func:`victim` (-1: none)."""
    ai = ag.i
    occ = grid.occ.reshape(-1)
    anyone, informant = neighbour_where(ai, grid, geo, prm, rng, ai[c, I_X], ai[c, I_Y],
                                        ai[c, I_VCLASS], victim, c)
    if informant >= 0 and uniform(rng) < prm.armed_groups_p_retaliate:
        return occ[informant]
    return occ[anyone] if anyone >= 0 else -1


@njit(inline="always", cache=True)
def attack(ag, grid, geo, prm, lay, rng, v, free_stack, meta, events):
    """ODD 7.9, attack on resident ``v``: V += ``per_attack`` at its cell. With peacekeepers
    within its sight the attack is protected (lethality x ``protected_lethality``, a
    protection event), otherwise an unprotected-victimisation event; the victim dies with
    that lethality (a civilian casualty)."""
    events[EV_ATTACKS] += 1
    vx = ag.i[v, I_X]
    vy = ag.i[v, I_Y]
    lay.f[L_VIOLENCE, vx, vy] += prm.violence_per_attack
    protected = lay.f[L_PK_SEEN, vx, vy] > 0
    lethal = prm.armed_groups_p_lethal * (prm.armed_groups_protected_lethality if protected
                                          else 1.0)
    if protected:
        lay.f[L_PROTECT_EV, vx, vy] += 1.0
    else:
        lay.f[L_VICTIM_EV, vx, vy] += 1.0
    if uniform(rng) < lethal:
        events[EV_CASUALTIES] += 1
        remove_agent(ag, grid, geo, prm, v, free_stack, meta)


@njit(inline="always", cache=True)
def combatant_turn(ag, grid, geo, prm, lay, rng, c, free_stack, meta, events):
    """ODD 7.9: one combatant's turn, in this order. Units in vision may interdict it
    (:func:`interdiction_probability`), else police in vision may arrest it
    (:func:`police_arrest_probability`); else, with security forces in vision, it clashes
    with probability ``p_clash``; a survivor attacks with probability aggression (1 - P_c)
    (:func:`attack_risk`, :func:`pick_victim`); then it moves to a uniformly random empty
    cell in vision."""
    ai = ag.i
    x = ai[c, I_X]
    y = ai[c, I_Y]
    npk = lay.f[L_SEC_PK, x, y]
    npol = lay.f[L_N_POLICE, x, y]
    if npk > 0 and uniform(rng) < interdiction_probability(npk, lay.f[L_TIP_REACH, x, y], prm):
        interdict(ag, grid, geo, prm, lay, rng, c, free_stack, meta, events)
        return
    if npol > 0:
        prof = lay.f[L_SEC_POLICE, x, y] / npol
        if uniform(rng) < police_arrest_probability(npol, prof, prm):
            police_arrest(ag, grid, geo, prm, rng, c, prof, free_stack, meta, events)
            return
    if (
        npk + npol > 0
        and uniform(rng) < prm.armed_groups_p_clash
        and clash(ag, grid, geo, prm, lay, rng, c, free_stack, meta, events)
    ):
        return  # the combatant died in the clash
    s_v = npk + lay.f[L_SEC_POLICE, x, y]
    b_v = max(1, lay.comb_own[ai[c, I_FACTION], x, y])
    if uniform(rng) < ag.f[c, F_AGGRESSION] * (1.0 - attack_risk(s_v, b_v, prm)):
        v = pick_victim(ag, grid, geo, prm, rng, c)
        if v >= 0:
            attack(ag, grid, geo, prm, lay, rng, v, free_stack, meta, events)
    move_in_vision(ag, grid, geo, prm, rng, c)


# ----------------------------------------------------------------------------- reinforcement


@njit(inline="always", cache=True)
def new_aggression(mean, low, u):
    """ODD 7.9: a new combatant's aggression, ``aggression`` x (``aggression_min`` + u) with
    u ~ U(0, 1), capped at 1: initial fighters, arrivals and recruits alike."""
    return min(1.0, mean * (low + u))


def reinforce(ag, grid, geo, prm, free_stack, meta, gen: np.random.Generator,
              strongholds: np.ndarray) -> int:
    """ODD 7.9, reinforcement: Poisson(``reinforcement`` / factions) fighters of each faction
    arrive per tick on a random empty cell within ``stronghold_radius`` of its stronghold
    (``stronghold_tries`` cells tried, uniform in the square; wrapped on a torus). Draws
    from the set-up generator ``gen``; returns how many arrived."""
    w, h = geo.width, geo.height
    r = prm.armed_groups_stronghold_radius
    arrived = 0
    for f in range(prm.armed_groups_factions):
        arrivals = int(gen.poisson(prm.armed_groups_reinforcement / prm.armed_groups_factions))
        sx, sy = strongholds[f]
        for _ in range(arrivals):
            for _try in range(prm.armed_groups_stronghold_tries):
                x = int(sx + gen.integers(-r, r + 1))
                y = int(sy + gen.integers(-r, r + 1))
                if prm.world_torus:
                    x, y = x % w, y % h
                if 0 <= x < w and 0 <= y < h and grid.occ[x, y] < 0:
                    slot = call(new_agent, ag, grid, geo, prm, COMBATANT, prm.comb_class,
                                x * h + y, free_stack, meta)
                    ag.i[slot, I_FACTION] = f
                    ag.f[slot, F_AGGRESSION] = call(
                        new_aggression, prm.armed_groups_aggression,
                        prm.armed_groups_aggression_min, gen.random()
                    )
                    ag.f[slot, F_HARDSHIP] = gen.random()
                    ag.f[slot, F_RISK] = gen.random()
                    arrived += 1
                    break
    return arrived
