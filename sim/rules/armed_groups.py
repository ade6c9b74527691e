"""Armed groups (ODD 7.9): interdiction, arrest, clashes and attacks, one combatant at a time;
detention and release; and reinforcements from outside the region.

Each combatant, in random order (:func:`sim.engine.layer_tick.combatant_turns`), reads the
presence fields computed at the start of the phase; a neighbourhood is scanned only to pick a
specific victim or opponent, after the fields said there is one. What each unit contributes
(deterrence, interdiction, interruption) is :mod:`sim.rules.protection` (ODD 7.9a).
Recruitment, relapse and disarmament are in :mod:`sim.rules.transitions`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit

from sim.engine.calls import call
from sim.engine.fields import site_event
from sim.engine.generator import generator_state
from sim.engine.generator import integers as draw_integer
from sim.engine.generator import random as draw_random
from sim.engine.grid import (
    convert,
    enter,
    leave,
    neighbour_where,
    new_agent,
    random_empty_cell,
    random_empty_in_vision,
    relocate,
    remove_agent,
)
from sim.engine.layout import (
    COMBATANT,
    DETAINED,
    EV_ABUSES,
    EV_ATTACKS,
    EV_ATTACKS_NEAR_CHECKPOINTS,
    EV_BATTLE_DEATHS,
    EV_CLASHES,
    EV_COMBATANT_ARRESTS,
    EV_COMBATANT_MOVES,
    EV_HARMED,
    EV_INTERDICTIONS,
    EV_INTERRUPTED,
    EV_PK_KILLED,
    EV_POLICE_KILLED,
    EV_REJOINED,
    EV_RELEASED,
    EV_RETALIATIONS,
    F_AGGRESSION,
    F_HARDSHIP,
    F_INTEL,
    F_INTEL_POLICE,
    F_RISK,
    I_ALIVE,
    I_EMPLOYED,
    I_EX_COMBATANT,
    I_FACTION,
    I_GROUP,
    I_INFORMANT,
    I_KIND,
    I_STATE,
    I_VCLASS,
    I_X,
    I_Y,
    JAILED,
    L_CLASH_AT,
    L_DETER,
    L_HARM_EV,
    L_INTERDICT,
    L_INTERRUPT,
    L_N_POLICE,
    L_POLICE_ARREST,
    L_PROTECT_EV,
    L_PROTECT_EV1,
    L_RETALIATION_EV,
    L_SEC_POLICE,
    L_SITE_ARREST,
    L_SITE_ATTACK,
    L_SITE_HARM,
    L_SITE_HARM_KILLED,
    L_SITE_INTERDICT,
    L_SITE_KILLED,
    L_SITE_PROTECTED,
    L_SITE_TIPPED,
    L_STORE,
    L_STORE_NEAR,
    L_VICTIM_EV,
    L_VICTIM_EV1,
    L_VIOLENCE_BATTLE,
    L_VIOLENCE_CIV,
    META_HIGH,
    PEACEKEEPER,
    POLICE,
    QUIESCENT,
    RESIDENT,
    S_STORED,
)
from sim.engine.rng import uniform
from sim.rules.checkpoints import (  # --- zones: checkpoints (ODD 7.22)
    HELD,
    STOPPED,
    checkpoints_on,
    pass_checkpoint,
    passage_control,
)
from sim.rules.factions import (  # communities: rival factions, partiality, per-group counts
    casualty,
    engage_probability,
    pick_rival,
    protected_capacity,
    rival_clash,
    rivals_in_vision,
)
from sim.rules.protection import (
    interdiction_probability,
    interruption_probability,
    perceived_security,
    police_arrest_probability,
)
from sim.rules.reintegration import prey, witnessed
from sim.rules.weapons import arm, nearest_with, raid, raid_chance

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
def attack_risk(s_v, b_v, prm):
    """ODD 7.9, attack: perceived risk P_c = 1 - exp(-k_c S_v / B_v), S_v the security in
    vision (units and professionalism-weighted police), B_v own-faction combatants in vision
    (at least 1)."""
    return 1.0 - np.exp(-prm.armed_groups_risk_constant * s_v / b_v)


# ----------------------------------------------------------------------------- effects


@njit(inline="always", cache=True)
def detain(ag, grid, geo, prm, c):
    """ODD 7.9, detention: an interdicted or arrested combatant leaves the grid, held
    (state DETAINED) until released (:func:`release`); it is not removed from the
    population."""
    leave(ag, grid, geo, prm, c)
    ag.i[c, I_STATE] = DETAINED
    ag.f[c, F_INTEL] = 0.0
    ag.f[c, F_INTEL_POLICE] = 0.0


@njit(inline="always", cache=True)
def interdict(ag, grid, geo, prm, lay, rng, c, free_stack, meta, events):
    """ODD 7.9, interdiction: the combatant is detained; with probability 1 - ``restraint``
    force harms a uniformly random bystander within ``strategy.harm_radius``
    (:func:`bystander`; never with ``mechanisms.collateral_harm`` off), who dies with
    ``p_lethal`` (a harm event, seen by residents, and violence against civilians, only
    when a bystander was hit)."""
    ai = ag.i
    x = ai[c, I_X]
    y = ai[c, I_Y]
    events[EV_INTERDICTIONS] += 1
    site_event(lay, L_SITE_INTERDICT, x, y)
    if ag.f[c, F_INTEL] > 0.0:
        site_event(lay, L_SITE_TIPPED, x, y)
    if prm.mechanisms_collateral_harm and uniform(rng) < 1.0 - prm.strategy_restraint:
        v = neighbour_where(ai, grid, geo, prm, rng, x, y, prm.harm_class, bystander, c)[0]
        if v >= 0:  # a harm event only where someone was hurt
            events[EV_HARMED] += 1
            lay.f[L_VIOLENCE_CIV, x, y] += prm.violence_per_attack
            lay.f[L_HARM_EV, x, y] += 1.0
            site_event(lay, L_SITE_HARM, x, y)
            if uniform(rng) < prm.armed_groups_p_lethal:  # injured, or killed
                v = grid.occ.reshape(-1)[v]
                casualty(ai, v, events)  # communities: counted by the victim's group too
                site_event(lay, L_SITE_HARM_KILLED, x, y)
                remove_agent(ag, grid, geo, prm, v, free_stack, meta)
    detain(ag, grid, geo, prm, c)


@njit(inline="always", cache=True)
def police_arrest(ag, grid, geo, prm, rng, c, prof, events):
    """ODD 7.9, police arrest: the combatant is detained; the arrest is abusive with
    probability 1 - q, q the mean professionalism of the officers in vision (an abuse event
    at the combatant's cell)."""
    x = ag.i[c, I_X]
    y = ag.i[c, I_Y]
    events[EV_COMBATANT_ARRESTS] += 1
    if uniform(rng) < 1.0 - prof:
        events[EV_ABUSES] += 1
        grid.abuse_ev[x, y] += 1.0
    detain(ag, grid, geo, prm, c)


@njit(inline="always", cache=True)
def clash(ag, grid, geo, prm, lay, rng, c, free_stack, meta, events):
    """ODD 7.9, clash: battle violence += ``per_clash``; a uniformly random unit or officer
    in vision (:func:`security_unit`) dies with ``p_battle_death`` x ``unit_death_share``
    (a peacekeeper or police death); the combatant dies with ``p_battle_death``. Returns True
    if the combatant died."""
    ai = ag.i
    events[EV_CLASHES] += 1
    lay.f[L_VIOLENCE_BATTLE, ai[c, I_X], ai[c, I_Y]] += prm.violence_per_clash
    lay.f[L_CLASH_AT, ai[c, I_X], ai[c, I_Y]] += 1.0  # --- districts: where (outputs only)
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
    """ODD 7.9, attack on resident ``v``: violence against civilians += ``per_attack`` at its
    cell; an attack on a known informant is retaliation (seen and heard, ODD 7.16). Units
    near the victim may interrupt it (:func:`sim.rules.protection.interruption_probability`):
    the victim survives and those who see it see protection of the victim's group;
    otherwise they see an unprotected attack on that group, and the victim dies with
    ``p_lethal`` (a civilian casualty)."""
    ai = ag.i
    events[EV_ATTACKS] += 1
    vx = ai[v, I_X]
    vy = ai[v, I_Y]
    lay.f[L_VIOLENCE_CIV, vx, vy] += prm.violence_per_attack
    if grid.control[vx, vy] > 0.0:  # --- zones: an attack near a checkpoint (ODD 7.22)
        events[EV_ATTACKS_NEAR_CHECKPOINTS] += 1
    site_event(lay, L_SITE_ATTACK, vx, vy)  # where (outputs only: the feed, district series)
    if ai[v, I_INFORMANT] > 0:
        events[EV_RETALIATIONS] += 1
        lay.f[L_RETALIATION_EV, vx, vy] += 1.0
    group1 = ai[v, I_GROUP] == 1
    # communities: a partial force brings less to an attack on the other community (7.25)
    capacity = protected_capacity(lay.f[L_INTERRUPT, vx, vy], ai[v, I_GROUP], prm)
    if uniform(rng) < interruption_probability(capacity, prm):
        events[EV_INTERRUPTED] += 1
        lay.f[L_PROTECT_EV1 if group1 else L_PROTECT_EV, vx, vy] += 1.0
        site_event(lay, L_SITE_PROTECTED, vx, vy)
        return
    lay.f[L_VICTIM_EV1 if group1 else L_VICTIM_EV, vx, vy] += 1.0
    if uniform(rng) < prm.armed_groups_p_lethal:
        casualty(ai, v, events)  # communities: counted by the victim's group too
        site_event(lay, L_SITE_KILLED, vx, vy)
        remove_agent(ag, grid, geo, prm, v, free_stack, meta)


@njit(inline="always", cache=True)
def combatant_turn(ag, grid, geo, prm, lay, rng, c, free_stack, meta, events):
    """ODD 7.9: one combatant's turn, in this order. Units in vision may interdict it
    (:func:`sim.rules.protection.interdiction_probability`, with the mission's tips on it),
    else police in vision may arrest it (:func:`~sim.rules.protection.police_arrest_probability`,
    with the police's tips); else, with security forces in vision, it clashes with
    probability ``p_clash``; a survivor may engage a rival faction's fighter in vision
    (:func:`sim.rules.factions.engage_probability`, :func:`~sim.rules.factions.rival_clash`);
    a survivor attacks with probability aggression (1 - P_c) (:func:`attack_risk`,
    :func:`pick_victim`); then it moves to a uniformly random empty cell in vision, unless
    checkpoints controlling the move stop or hold it
    (:func:`sim.rules.checkpoints.pass_checkpoint`, ODD 7.22)."""
    ai = ag.i
    af = ag.f
    x = ai[c, I_X]
    y = ai[c, I_Y]
    capacity = lay.f[L_INTERDICT, x, y]
    if capacity > 0 and uniform(rng) < interdiction_probability(capacity, af[c, F_INTEL], prm):
        interdict(ag, grid, geo, prm, lay, rng, c, free_stack, meta, events)
        return
    npol = lay.f[L_N_POLICE, x, y]
    if npol > 0:
        p = police_arrest_probability(lay.f[L_POLICE_ARREST, x, y], af[c, F_INTEL_POLICE], prm)
        if uniform(rng) < p:
            site_event(lay, L_SITE_ARREST, x, y)
            police_arrest(ag, grid, geo, prm, rng, c, lay.f[L_SEC_POLICE, x, y] / npol, events)
            return
    deter = lay.f[L_DETER, x, y]
    if (
        (capacity > 0 or npol > 0)
        and uniform(rng) < prm.armed_groups_p_clash
        and clash(ag, grid, geo, prm, lay, rng, c, free_stack, meta, events)
    ):
        return  # the combatant died in the clash
    s_v = perceived_security(deter, lay.f[L_SEC_POLICE, x, y], prm)
    b_v = max(1, lay.comb_own[ai[c, I_FACTION], x, y])
    risk = attack_risk(s_v, b_v, prm)
    # --- communities: a fighter may engage a rival faction's fighter in vision (ODD 7.25) ---
    p = engage_probability(rivals_in_vision(lay.comb_own, ai[c, I_FACTION], x, y, prm), risk,
                           prm)
    if p >= 0.0 and uniform(rng) < p:
        r = pick_rival(ai, grid.occ.reshape(-1), geo, rng, c)
        if r >= 0 and rival_clash(ag, grid, geo, prm, lay, rng, c, r, free_stack, meta,
                                  events):
            return  # the fighter died in the clash
    if uniform(rng) < af[c, F_AGGRESSION] * (1.0 - risk):
        v = pick_victim(ag, grid, geo, prm, rng, c)
        if v >= 0:
            witnessed(lay, ai[c, I_FACTION], ai[v, I_X], ai[v, I_Y])  # --- accept (7.19)
            attack(ag, grid, geo, prm, lay, rng, v, free_stack, meta, events)
    # --- accept: predation (ODD 7.19) and raids on weapon stores (ODD 7.20) ---
    prey(ag, grid, geo, prm, lay, rng, c, risk, events)
    if prm.mechanisms_weapons and lay.scalars[S_STORED] >= 1.0 \
            and lay.f[L_STORE_NEAR, x, y] > 0.0:
        try_raid(ag, prm, lay, rng, c, b_v, events)
    # --- zones: the move, through the checkpoints that control it (ODD 7.22) ---
    x = ai[c, I_X]
    y = ai[c, I_Y]
    there = random_empty_in_vision(ai, grid.occ.reshape(-1), geo, rng, x, y, ai[c, I_VCLASS])
    if there < 0:
        return
    if checkpoints_on(prm):
        here = x * geo.height + y
        control = passage_control(grid.control[x, y], grid.control.reshape(-1)[there])
        if control > 0.0:
            passage = pass_checkpoint(ag, prm, lay, rng, c, control, here, there, geo.height,
                                      meta, events)
            if passage == HELD:
                detain(ag, grid, geo, prm, c)
                return
            if passage == STOPPED:
                return
    relocate(ag, grid, geo, prm, c, there)
    events[EV_COMBATANT_MOVES] += 1


@njit(inline="always", cache=True)
def try_raid(ag, prm, lay, rng, c, b_v, events):
    """ODD 7.20, raid: the nearest weapon store in the combatant's vision
    (:func:`sim.rules.weapons.nearest_with`) is raided with
    :func:`sim.rules.weapons.raid_chance`, the risk being the attack's risk (:func:`attack_risk`,
    B_v its own faction in vision) with the security in vision of the store."""
    x = ag.i[c, I_X]
    y = ag.i[c, I_Y]
    store = nearest_with(lay.f[L_STORE], x, y, prm.armed_groups_vision, prm.world_torus)
    if store < 0:
        return
    h = lay.f.shape[2]
    sx = store // h
    sy = store - sx * h
    s_v = perceived_security(lay.f[L_DETER, sx, sy], lay.f[L_SEC_POLICE, sx, sy], prm)
    if uniform(rng) < raid_chance(attack_risk(s_v, b_v, prm), prm):
        raid(lay, prm, store, ag.i[c, I_FACTION], events)


@njit(inline="always", cache=True)
def release(ag, grid, geo, prm, lay, rng, c, meta, events):
    """ODD 7.9, release: a detainee returns to a uniformly random empty cell; with
    probability ``detention.rejoin_share`` it rejoins its faction, if it finds a weapon
    there (:func:`sim.rules.weapons.arm`, ODD 7.20); otherwise it comes back as an
    unemployed ex-combatant of its faction. Returns False (and stays held) if the map is
    full."""
    cell = random_empty_cell(grid.occ.reshape(-1), rng)
    if cell < 0:
        return False
    x = cell // geo.height
    ag.i[c, I_STATE] = QUIESCENT
    enter(ag, grid, geo, prm, c, x, cell - x * geo.height)
    events[EV_RELEASED] += 1
    if uniform(rng) < prm.detention_rejoin_share \
            and arm(lay, prm, x, cell - x * geo.height, ag.i[c, I_FACTION], events):
        events[EV_REJOINED] += 1
    else:
        convert(ag, grid, geo, prm, c, RESIDENT, 0, meta)
        ag.i[c, I_EX_COMBATANT] = 1
        ag.i[c, I_EMPLOYED] = 0
    return True


@njit(cache=True, _nrt=False)
def detention_phase(ag, grid, geo, prm, lay, rng, meta, events):
    """ODD 7.9, detention: every detainee, in slot order, is released with probability
    ``detention.release_rate`` (:func:`release`)."""
    ai = ag.i
    for c in range(meta[META_HIGH]):
        if ai[c, I_ALIVE] and ai[c, I_KIND] == COMBATANT and ai[c, I_STATE] == DETAINED \
                and uniform(rng) < prm.detention_release_rate:
            release(ag, grid, geo, prm, lay, rng, c, meta, events)


# ----------------------------------------------------------------------------- reinforcement


@njit(inline="always", cache=True)
def new_aggression(mean, low, u):
    """ODD 7.9: a new combatant's aggression, ``aggression`` x (``aggression_min`` + u) with
    u ~ U(0, 1), capped at 1: initial fighters, arrivals and recruits alike."""
    return min(1.0, mean * (low + u))


@njit(cache=True)
def _arrive(ag, grid, geo, prm, free_stack, meta, gen, f, sx, sy, arrivals):
    """:func:`reinforce` for ``arrivals`` fighters of faction ``f`` and its stronghold
    ``(sx, sy)``, drawing from the set-up generator through ``gen``
    (:func:`sim.engine.generator.generator_state`: the same draws as its methods, in the
    same order); returns how many arrived."""
    w, h = geo.width, geo.height
    r = prm.armed_groups_stronghold_radius
    arrived = 0
    for _ in range(arrivals):
        for _try in range(prm.armed_groups_stronghold_tries):
            x = sx + draw_integer(gen, -r, r + 1)
            y = sy + draw_integer(gen, -r, r + 1)
            if prm.world_torus:
                x, y = x % w, y % h
            if 0 <= x < w and 0 <= y < h and grid.occ[x, y] < 0:
                slot = new_agent(ag, grid, geo, prm, COMBATANT, prm.comb_class, x * h + y,
                                 free_stack, meta)
                ag.i[slot, I_FACTION] = f
                if prm.residents_groups == 2:  # communities: of its faction's group
                    ag.i[slot, I_GROUP] = f % 2
                ag.f[slot, F_AGGRESSION] = new_aggression(
                    prm.armed_groups_aggression, prm.armed_groups_aggression_min,
                    draw_random(gen))
                ag.f[slot, F_HARDSHIP] = draw_random(gen)
                ag.f[slot, F_RISK] = draw_random(gen)
                arrived += 1
                break
    return arrived


def reinforce(ag, grid, geo, prm, free_stack, meta, gen: np.random.Generator,
              strongholds: np.ndarray, arrive: Callable[..., int] | None = None) -> int:
    """ODD 7.9, reinforcement: Poisson(``reinforcement`` / factions) fighters of each faction
    arrive per tick on a random empty cell within ``stronghold_radius`` of its stronghold
    (``stronghold_tries`` cells tried, uniform in the square; wrapped on a torus). Draws
    from the set-up generator ``gen``; returns how many arrived. (The tries run compiled,
    :func:`_arrive`, drawing from ``gen``'s stream as its methods would; ``arrive``: its
    compiled version for these arguments' types, bound by the caller once, else found per
    call by :func:`sim.engine.calls.call`.)"""
    arrived = 0
    state = None
    for f in range(prm.armed_groups_factions):
        arrivals = int(gen.poisson(prm.armed_groups_reinforcement / prm.armed_groups_factions))
        if arrivals:
            sx, sy = strongholds[f]
            state = generator_state(gen) if state is None else state
            args = (ag, grid, geo, prm, free_stack, meta, state, f, int(sx), int(sy), arrivals)
            arrived += arrive(*args) if arrive is not None else call(_arrive, *args)
    return arrived
