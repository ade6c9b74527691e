"""Reintegration and community acceptance (ODD 7.19): what a faction does to civilians, what
residents remember of it, and how they receive its former fighters.

A faction's abusiveness is a behaviour: its members prey on residents in vision (looting,
extortion, assault). Residents see its members' attacks and predation within their vision
and keep a record of each faction (a leaky memory). Each resident also holds an acceptance of
ex-combatants that relaxes toward an initial level and rises with reintegration programmes,
dialogue and local partners. The acceptance an ex-combatant of faction f meets is the mean,
over the residents within ``reintegration.radius``, of acceptance x (1 - record of f)
(:func:`sim.engine.layer_tick.acceptance_phase`): where
people saw his faction abuse them, he is received worse. Rejected ex-combatants relapse more
and are hired less (:mod:`sim.rules.transitions`, :mod:`sim.rules.livelihoods`). Nothing here
reads a faction's abusiveness except the predation its members commit.
"""

from __future__ import annotations

from numba import njit

from sim.engine.fields import site_event
from sim.engine.grid import neighbour_where
from sim.engine.layout import (
    EV_PREDATIONS,
    I_FACTION,
    I_VCLASS,
    I_X,
    I_Y,
    JAILED,
    L_ACCEPT0,
    L_FACTION_EV0,
    L_SITE_PREDATION,
    L_VIOLENCE_CIV,
    RESIDENT,
    S_ABUSIVENESS0,
)
from sim.engine.rng import uniform
from sim.rules.trust import seen

# ----------------------------------------------------------------------------- predation


@njit(inline="always", cache=True)
def predation_chance(abusiveness, risk):
    """ODD 7.19, predation: a combatant preys on a resident in vision with probability
    abusiveness x (1 - P_c), P_c the risk it perceives (the attack's risk, ODD 7.9)."""
    return abusiveness * (1.0 - risk)


@njit(inline="always", cache=True)
def prey_target(b, kind, state, group, informant, my_group, my_faction, prm):
    """ODD 7.19, predation: whom a combatant may prey on, a non-jailed resident in vision, of
    the other group in two-group worlds (as an attack's victim, ODD 7.9; rank of the occupant
    ``b`` for ``random_cell_where``)."""
    ok = (kind == RESIDENT and state != JAILED
          and not (prm.residents_groups == 2 and group == my_faction % 2))
    return 1 if ok else 0


@njit(inline="always", cache=True)
def witnessed(lay, faction, x, y):
    """ODD 7.19: an act of a member of ``faction`` against a resident at (x, y) (an attack or
    predation), seen by residents within vision this tick (summed in step 9)."""
    lay.f[L_FACTION_EV0 + faction, x, y] += 1.0


@njit(inline="always", cache=True)
def prey(ag, grid, geo, prm, lay, rng, c, risk, events):
    """ODD 7.19, predation: with :func:`predation_chance` (its faction's abusiveness, no draw
    when it is 0) the combatant preys on a uniformly random resident in vision
    (:func:`prey_target`): violence against civilians +=
    ``violence.per_predation`` at the victim's cell, and residents who see it remember it
    against the faction (:func:`witnessed`). Returns True if it preyed on someone."""
    ai = ag.i
    f = ai[c, I_FACTION]
    p = predation_chance(lay.scalars[S_ABUSIVENESS0 + f], risk)
    if not p > 0.0 or not uniform(rng) < p:
        return False
    v = neighbour_where(ai, grid, geo, prm, rng, ai[c, I_X], ai[c, I_Y], ai[c, I_VCLASS],
                        prey_target, c)[0]
    if v < 0:
        return False
    vx = v // geo.height
    vy = v - vx * geo.height
    events[EV_PREDATIONS] += 1
    lay.f[L_VIOLENCE_CIV, vx, vy] += prm.violence_per_predation
    site_event(lay, L_SITE_PREDATION, vx, vy)  # events: where (the trainer's feed)
    witnessed(lay, f, vx, vy)
    return True


# ----------------------------------------------------------------------------- residents


@njit(inline="always", cache=True)
def record_step(record, acts_seen, prm):
    """ODD 7.19: a resident's record of a faction, record <- ``record_memory`` record +
    ``record_gain`` seen(n) (1 - record), n the faction's acts (attacks, predation) within its
    vision this tick."""
    record *= prm.reintegration_record_memory
    if acts_seen > 0.0:
        record += prm.reintegration_record_gain * seen(acts_seen) * (1.0 - record)
    return record


@njit(inline="always", cache=True)
def acceptance_step(acceptance, dialogue, partners, prm):
    """ODD 7.19: a resident's acceptance of ex-combatants relaxes toward
    ``reintegration.initial`` (``relax``) and rises with reintegration programmes
    (``programme_gain`` x ``ddr.reintegration_support``), dialogue (``dialogue_gain`` x the
    resident's dialogue) and local partners (``partner_gain`` x their capacity within reach,
    at most 1), each x (1 - acceptance); it stays in [0, 1]."""
    a = acceptance + prm.reintegration_relax * (prm.reintegration_initial - acceptance)
    gain = (prm.reintegration_programme_gain * prm.ddr_reintegration_support
            + prm.reintegration_dialogue_gain * dialogue
            + prm.reintegration_partner_gain * min(1.0, partners))
    a += gain * (1.0 - a)
    return min(1.0, max(0.0, a))


@njit(inline="always", cache=True)
def accepts(acceptance, record):
    """ODD 7.19: how far a resident accepts an ex-combatant of a faction it remembers with
    ``record``: acceptance x (1 - record)."""
    return acceptance * (1.0 - record)


@njit(inline="always", cache=True)
def acceptance_met(lay, faction, x, y):
    """ODD 7.19: the acceptance an ex-combatant of ``faction`` at (x, y) meets (this tick's
    :func:`acceptance_field`)."""
    return lay.f[L_ACCEPT0 + faction, x, y]


# ----------------------------------------------------------------------------- ex-combatants


@njit(inline="always", cache=True)
def rejection_factor(acceptance, prm):
    """ODD 7.19: relapse of an ex-combatant who meets ``acceptance`` is x (1 -
    ``relapse_weight`` acceptance); with ``mechanisms.acceptance`` off, x 1."""
    if not prm.mechanisms_acceptance:
        return 1.0
    return 1.0 - prm.reintegration_relapse_weight * acceptance


@njit(inline="always", cache=True)
def hiring_factor(acceptance, prm):
    """ODD 7.19: an ex-combatant's chance of a programme job is x (1 - ``hiring_weight`` +
    ``hiring_weight`` acceptance); with ``mechanisms.acceptance`` off, x 1."""
    if not prm.mechanisms_acceptance:
        return 1.0
    w = prm.reintegration_hiring_weight
    return 1.0 - w + w * acceptance
