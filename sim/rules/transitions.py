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
    F_DIALOGUE,
    F_HARDSHIP,
    F_TRUST_PK,
    F_TRUST_POLICE,
    I_EMPLOYED,
    I_EX_COMBATANT,
    I_FACTION,
    I_KIND,
    I_STATE,
    I_X,
    I_Y,
    JAILED,
    L_COMB_SEEN,
    L_DDR_REACH,
    RESIDENT,
)
from sim.engine.rng import randint, uniform
from sim.rules.armed_groups import new_aggression
from sim.rules.civil_violence import grievance


@njit(inline="always", cache=True)
def relapse_probability(g, e, prm):
    """ODD 7.10: an unemployed ex-combatant re-arms with probability ``relapse_rate`` G
    (1 - E)(1 - ``reintegration_support``)."""
    return prm.ddr_relapse_rate * g * (1.0 - e) * (1.0 - prm.ddr_reintegration_support)


@njit(inline="always", cache=True)
def recruit_probability(g, e, trust_pk, prm):
    """ODD 7.10: an unemployed resident with a combatant in sight joins with probability
    r0 G (1 - E)(1 - rho trust_pk), r0 = ``recruit_rate``, rho = ``trust_damping``."""
    return (
        prm.armed_groups_recruit_rate * g * (1.0 - e)
        * (1.0 - prm.armed_groups_trust_damping * trust_pk)
    )


@njit(inline="always", cache=True)
def ddr_probability(e, prm):
    """ODD 7.10: a combatant within reach of a DDR site disarms with probability ``ddr.rate``
    (1 - cohesion)(1 - w_E + w_E E)(1 + local_partners), w_E = ``ddr.economy_weight``."""
    w = prm.ddr_economy_weight
    return (
        prm.ddr_rate * (1.0 - prm.armed_groups_cohesion) * ((1.0 - w) + w * e)
        * (1.0 + prm.strategy_local_partners)
    )


@njit(inline="always", cache=True)
def transition(ag, grid, geo, prm, lay, rng, legitimacy, a, meta, events):
    """ODD 7.10, agent ``a`` on the grid: an unemployed, non-jailed resident may relapse (if
    an ex-combatant) or be recruited (if it sees a combatant), and becomes a combatant of a
    uniformly random faction with a new aggression; a combatant within reach of a DDR site
    may disarm and becomes a resident (ex-combatant, unemployed): a weapon is collected."""
    ai = ag.i
    af = ag.f
    x = ai[a, I_X]
    y = ai[a, I_Y]
    kind = ai[a, I_KIND]
    if kind == RESIDENT and ai[a, I_STATE] != JAILED and not ai[a, I_EMPLOYED]:
        e = grid.economy[x, y]
        g = grievance(af[a, F_HARDSHIP], True, e, ai[a, I_EMPLOYED], af[a, F_TRUST_POLICE],
                      af[a, F_DIALOGUE], legitimacy, prm)
        if ai[a, I_EX_COMBATANT]:
            p = relapse_probability(g, e, prm)
            ev = EV_RELAPSES
        elif lay.f[L_COMB_SEEN, x, y] > 0:
            p = recruit_probability(g, e, af[a, F_TRUST_PK], prm)
            ev = EV_RECRUITS
        else:
            return
        if uniform(rng) < p:
            convert(ag, grid, geo, prm, a, COMBATANT, prm.comb_class, meta)
            ai[a, I_FACTION] = randint(rng, prm.armed_groups_factions)
            af[a, F_AGGRESSION] = new_aggression(prm.armed_groups_aggression,
                                                 prm.armed_groups_aggression_min, uniform(rng))
            events[ev] += 1
    elif kind == COMBATANT and lay.f[L_DDR_REACH, x, y] > 0:
        if uniform(rng) < ddr_probability(grid.economy[x, y], prm):
            convert(ag, grid, geo, prm, a, RESIDENT, 0, meta)
            ai[a, I_EX_COMBATANT] = 1
            ai[a, I_EMPLOYED] = 0
            events[EV_DISARMED] += 1
