"""Police conduct, capacity and dialogue (ODD 7.12, 7.26): professionalism grows on joint
patrols with mentors and decays without them; an equipment budget raises arrest capacity and
how fast mentoring trains; officers who meet community leaders give residents a way to pass
what they see to the police.

Professionalism sets how often a police arrest is abusive (:mod:`sim.rules.civil_violence`,
:mod:`sim.rules.armed_groups`) and weighs officers in the security they provide (ODD 7.7).
Every officer on the grid is updated once a tick
(:func:`sim.engine.layer_tick.officers_train`). Dialogue changes where a tip can go, never a
resident's trust (Blair et al. 2019, 2021: reporting rose, trust did not): any change of trust
in the police comes from what residents then see the police do (ODD 7.11).
"""

from __future__ import annotations

from numba import njit

from sim.engine.layout import MISSION, POLICE_FORCE


@njit(inline="always", cache=True)
def professionalism_step(p, mentored, prm):
    """ODD 7.12: professionalism p grows by g (1 - p) near a mentor (within
    ``strategy.mentor_radius``), g the :func:`training_gain`, and decays by
    ``professionalism_decay`` p otherwise."""
    if mentored:
        return p + training_gain(prm) * (1.0 - p)
    return p - prm.police_professionalism_decay * p


# --- communities: police capacity and dialogue (ODD 7.26) ---


@njit(inline="always", cache=True)
def training_gain(prm):
    """ODD 7.26, equipment: professionalism gained per tick of joint patrol, as a share of
    what is left to learn, ``police.mentoring_gain`` (1 + ``equipment_training_gain`` x
    ``equipment``): equipped, trained officers learn faster."""
    return prm.police_mentoring_gain * (1.0 + prm.police_equipment_training_gain
                                        * prm.police_equipment)


@njit(inline="always", cache=True)
def arrest_weight(prof, prm):
    """ODD 7.26, equipment: an officer's weight in the arrest hazard of a combatant in its
    vision (ODD 7.9a), (``arrest_base`` + professionalism) (1 + ``equipment_arrest_gain`` x
    ``equipment``): vehicles, radios and stations let the same officers make more arrests."""
    return (prm.police_arrest_base + prof) * (1.0 + prm.police_equipment_arrest_gain
                                              * prm.police_equipment)


@njit(inline="always", cache=True)
def forum_on(prm):
    """ODD 7.26: whether police-community forums run, ``police.leader_dialogue`` > 0 and
    ``mechanisms.police_dialogue`` on."""
    return prm.mechanisms_police_dialogue and prm.police_leader_dialogue > 0.0


@njit(inline="always", cache=True)
def takes_part(dialogue_officers_near, prm):
    """ODD 7.26: a community leader takes part in a forum this tick when an officer who
    meets leaders is within ``police.dialogue_radius`` cells of it."""
    return forum_on(prm) and dialogue_officers_near > 0.0


@njit(inline="always", cache=True)
def route(t_pk, t_pol, unit_near, officer_near, prm):
    """ODD 7.26, delivery with a forum leader within ``trust.leader_radius``: the police are
    within reach through the leader, whom a resident tells what it saw without having to
    trust the police. The tip goes to the mission if the resident trusts it above
    ``tip_threshold``, reaches a unit and trusts the mission at least as much as the police;
    otherwise to the police: directly if it trusts them above the threshold and an officer
    is within reach, else through the leader. Returns (force, relayed)."""
    thr = prm.trust_tip_threshold
    if unit_near and t_pk > thr and t_pk >= t_pol:
        return MISSION, False
    return POLICE_FORCE, not (officer_near and t_pol > thr)
