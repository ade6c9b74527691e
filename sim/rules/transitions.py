"""Recruitment, relapse and disarmament (ODD 7.10): residents join armed groups, former
fighters re-arm, fighters near a DDR site disarm.

Every resident and combatant on the grid is checked once a tick, in slot order
(:func:`sim.engine.layer_tick.transitions_phase`).
"""

from __future__ import annotations

from numba import njit

from sim.engine.grid import convert
from sim.engine.layout import (
    COMBATANT,
    EV_DISARMED,
    EV_RECRUITS,
    EV_RELAPSES,
    F_AGGRESSION,
    I_EMPLOYED,
    I_EX_COMBATANT,
    I_FACTION,
    RESIDENT,
)
from sim.engine.rng import uniform
from sim.rules.armed_groups import new_aggression
from sim.rules.civil_violence import grievance
from sim.rules.factions import recruit_faction
from sim.rules.reintegration import rejection_factor


@njit(inline="always", cache=True)
def relapse_probability(g, e, acceptance, prm):
    """ODD 7.10: an unemployed ex-combatant re-arms with probability ``relapse_rate`` G
    (1 - E)(1 - ``reintegration_support``), x the rejection factor of the acceptance he meets
    (:func:`sim.rules.reintegration.rejection_factor`, ODD 7.19)."""
    return (prm.ddr_relapse_rate * g * (1.0 - e) * (1.0 - prm.ddr_reintegration_support)
            * rejection_factor(acceptance, prm))


@njit(inline="always", cache=True)
def recruit_probability(g, e, trust_pk, mission_legitimacy, prm):
    """ODD 7.10: an unemployed resident with a combatant in sight joins with probability
    r0 G (1 - E)(1 - rho trust_pk)(1 - a_C M), r0 = ``recruit_rate``, rho =
    ``trust_damping``, a_C = ``legitimacy_damping``, M the mission's legitimacy (the share
    of residents who trust it). With ``mechanisms.trust_recruitment`` off, neither trust nor
    legitimacy damps recruitment."""
    p = prm.armed_groups_recruit_rate * g * (1.0 - e)
    if prm.mechanisms_trust_recruitment:
        p *= (1.0 - prm.armed_groups_trust_damping * trust_pk) * (
            1.0 - prm.armed_groups_legitimacy_damping * mission_legitimacy)
    return p


@njit(inline="always", cache=True)
def ddr_probability(e, prm):
    """ODD 7.10: a combatant within reach of a DDR site disarms with probability ``ddr.rate``
    (1 - cohesion)(1 - w_E + w_E E), w_E = ``ddr.economy_weight``."""
    w = prm.ddr_economy_weight
    return prm.ddr_rate * (1.0 - prm.armed_groups_cohesion) * ((1.0 - w) + w * e)


@njit(inline="always", cache=True)
def transition_chance(kind, jailed, employed, ex_combatant, sees_combatant, near_ddr, hardship,
                      e, trust_police, dialogue, trust_pk, legitimacy, mission_legitimacy,
                      acceptance, prm):
    """ODD 7.10, an agent on the grid: an unemployed, non-jailed resident may relapse (an
    ex-combatant who meets ``acceptance``, :func:`relapse_probability`) or be recruited (if
    it sees a combatant, :func:`recruit_probability`), with its grievance G at economy E (L
    the regime's legitimacy, M the mission's); a combatant within reach
    of a DDR site may disarm (:func:`ddr_probability`). Returns (probability, event counter),
    probability -1 when nothing can happen (nothing is drawn)."""
    if kind == RESIDENT and not jailed and not employed:
        g = grievance(hardship, True, e, employed, trust_police, dialogue, legitimacy, prm)
        if ex_combatant:
            return relapse_probability(g, e, acceptance, prm), EV_RELAPSES
        if sees_combatant:
            return recruit_probability(g, e, trust_pk, mission_legitimacy, prm), EV_RECRUITS
    elif kind == COMBATANT and near_ddr:
        return ddr_probability(e, prm), EV_DISARMED
    return -1.0, -1


@njit(inline="always", cache=True)
def join_faction(former, relapse, group, rng, prm):
    """ODD 7.10: the faction a resident joins: a recruit joins a uniformly random faction
    (in two-group contexts, one of its own community:
    :func:`sim.rules.factions.recruit_faction`);
    an ex-combatant who relapses re-arms with the faction he fought for (``former``, ODD
    7.19; as a recruit with ``mechanisms.acceptance`` off)."""
    if relapse and prm.mechanisms_acceptance:
        return former
    return recruit_faction(group, rng, prm)


@njit(inline="always", cache=True)
def join(ag, grid, geo, prm, rng, a, faction, meta):
    """ODD 7.10, recruitment or relapse: the resident becomes a combatant of ``faction``
    (:func:`join_faction`) with a new aggression
    (:func:`sim.rules.armed_groups.new_aggression`)."""
    convert(ag, grid, geo, prm, a, COMBATANT, prm.comb_class, meta)
    ag.i[a, I_FACTION] = faction
    ag.f[a, F_AGGRESSION] = new_aggression(prm.armed_groups_aggression,
                                           prm.armed_groups_aggression_min, uniform(rng))


@njit(inline="always", cache=True)
def disarm(ag, grid, geo, prm, a, meta):
    """ODD 7.10, disarmament: the combatant becomes a resident, an unemployed ex-combatant
    who remembers his faction (what happens to his weapon is
    :func:`sim.rules.weapons.hand_in`, ODD 7.20)."""
    convert(ag, grid, geo, prm, a, RESIDENT, 0, meta)
    ag.i[a, I_EX_COMBATANT] = 1
    ag.i[a, I_EMPLOYED] = 0
