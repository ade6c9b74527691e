"""Residents' trust, information and flight (ODD 7.11).

Trust in peacekeepers and in police relaxes toward its initial level (memory ``mu``) and
responds to what a resident sees this tick: engagement (+, via leaders too), protection (+),
unprotected attacks (-), harm by peacekeepers (-), police abuse (- for police), joint
patrols (trust transfers to police). Transparency amplifies gains and damps losses. Residents
who see combatants and trust a security force report them (tips); residents flee violence.
The passes over residents are :func:`sim.engine.layer_tick.trust_phase`; the rules applied
to every resident take the values at its cell and return the new ones.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.grid import best_sampled_cell, relocate
from sim.engine.layout import (
    EV_TIPS,
    I_DISPLACED,
    I_INFORMANT,
    I_VCLASS,
    I_X,
    I_Y,
    L_TIPS,
    L_VIOLENCE,
)


@njit(inline="always", cache=True)
def seen(events):
    """ODD 7.11: saturating response to the number n of events seen, 1 - exp(-n) (exactly 0
    for none, without calling exp: most cells saw nothing this tick)."""
    if events == 0.0:
        return 0.0
    return 1.0 - np.exp(-events)


@njit(inline="always", cache=True)
def relax(informant, dialogue, t_pk, t_pk0, t_pol, t_pol0, prm):
    """ODD 7.11: each tick trust relaxes, t <- mu t + (1 - mu) t0 (mu = ``trust.memory``),
    for peacekeepers and police; dialogue fades (x ``dialogue_memory``); armed groups forget
    an informant ``informant_memory`` ticks after the tip. Returns the new (informant ticks
    left, dialogue, trust_pk, trust_police)."""
    if informant > 0:
        informant -= 1
    mu = prm.trust_memory
    return (
        informant,
        dialogue * prm.trust_dialogue_memory,
        mu * t_pk + (1.0 - mu) * t_pk0,
        mu * t_pol + (1.0 - mu) * t_pol0,
    )


@njit(inline="always", cache=True)
def respond(t, tp, dialogue, leader, engage, leader_engaged, protect, victim, harm, leader_n,
            leader_trust, mentor, abuse, prm):
    """ODD 7.11: trust responds to what a resident saw this tick (the event and presence
    fields at its cell). With amp = 1 + transparency, damp = 1 - ``transparency_loss_share``
    transparency: trust_pk += amp (g_eng + ``protection_gain`` seen(protection)) (1 - t)
    - damp (``victimization_loss`` seen(unprotected attacks) + ``harm_loss`` seen(harm)) t,
    g_eng = ``engagement_gain`` competence (1 + local_partners) within reach of an engagement
    unit or an engaged leader (competence above ``dialogue_competence`` also opens dialogue:
    ``de_escalation`` (2 competence - 1)); nearby leaders pull it toward their mean
    (``leader_influence``; not a leader's own). trust_police -= damp ``abuse_loss``
    seen(abuse) trust_police; near a mentor it moves toward trust_pk by amp
    ``mentoring_transfer`` when lower. Both stay in [0, 1]. Returns the new (trust_pk,
    trust_police, dialogue)."""
    amp = 1.0 + prm.strategy_transparency
    damp = 1.0 - prm.strategy_transparency_loss_share * prm.strategy_transparency
    competence = prm.strategy_cultural_competence
    gain = 0.0
    if engage > 0 or leader_engaged > 0:
        gain += prm.trust_engagement_gain * competence * (1.0 + prm.strategy_local_partners)
        if competence > prm.trust_dialogue_competence:  # competent dialogue de-escalates
            dialogue = max(dialogue, prm.trust_de_escalation * (2.0 * competence - 1.0))
    gain += prm.trust_protection_gain * seen(protect)
    loss = prm.trust_victimization_loss * seen(victim) + prm.trust_harm_loss * seen(harm)
    t += amp * gain * (1.0 - t) - damp * loss * t
    if leader_n > 0 and not leader:
        t += prm.trust_leader_influence * (leader_trust / leader_n - t)
    t = min(1.0, max(0.0, t))
    tp -= damp * prm.trust_abuse_loss * seen(abuse) * tp
    if mentor > 0 and t > tp:
        tp += amp * prm.trust_mentoring_transfer * (t - tp)
    return t, min(1.0, max(0.0, tp)), dialogue


@njit(inline="always", cache=True)
def tip_chance(sees_combatant, t_pk, t_pol, community, prm):
    """ODD 7.11, tips: a resident who sees a combatant and whose best trust b exceeds
    ``tip_threshold`` reports with probability ``p_tip`` (1 + early_warning)(b - threshold) /
    (1 - threshold), x ``community_tip_factor`` near community police, capped at 1. Returns
    -1 when the resident cannot report (nothing is drawn)."""
    if not sees_combatant:
        return -1.0
    best = max(t_pk, t_pol)
    thr = prm.trust_tip_threshold
    if not best > thr:
        return -1.0
    p = prm.trust_p_tip * (1.0 + prm.strategy_early_warning)
    p *= (best - thr) / (1.0 - thr)
    if community:
        p *= prm.police_community_tip_factor  # Blair et al. 2019
    return min(1.0, p)


@njit(inline="always", cache=True)
def report(ai, lf, a, x, y, prm, events):
    """ODD 7.11, a tip: recorded at the reporter's cell (it reaches units next tick, 7.7),
    and the reporter is a known informant for ``trust.informant_memory`` ticks."""
    events[EV_TIPS] += 1
    lf[L_TIPS, x, y] += 1.0
    ai[a, I_INFORMANT] = prm.trust_informant_memory


@njit(inline="always", cache=True)
def flees(violence, prm):
    """ODD 7.11, flight: a resident flees where V > ``violence.flee_threshold``."""
    return violence > prm.violence_flee_threshold


@njit(inline="always", cache=True)
def settles(violence, prm):
    """ODD 7.11, flight: a displaced resident is no longer displaced once V <
    ``return_share`` x ``flee_threshold``."""
    return violence < prm.violence_return_share * prm.violence_flee_threshold


@njit(inline="always", cache=True)
def calm_score(lay, prm, rng, x, y):
    """ODD 7.11, flight: the calmer a cell, the better (minus its violence)."""
    return -lay.f[L_VIOLENCE, x, y]


@njit(inline="always", cache=True)
def flee(ag, grid, geo, prm, lay, rng, a):
    """ODD 7.11, flight: the resident moves to the calmest of ``violence.flee_samples``
    sampled empty cells in vision, if calmer than its own, and is displaced."""
    ai = ag.i
    x = ai[a, I_X]
    y = ai[a, I_Y]
    best = best_sampled_cell(grid.occ.reshape(-1), geo, rng, x, y, ai[a, I_VCLASS],
                             prm.violence_flee_samples, calm_score, -lay.f[L_VIOLENCE, x, y],
                             lay, prm)
    if best >= 0:
        relocate(ag, grid, geo, prm, a, best)
        ai[a, I_DISPLACED] = 1
