"""Residents' trust, information and flight (ODD 7.11).

Trust in peacekeepers and in police relaxes toward its initial level (memory ``mu``) and
responds to what a resident sees this tick: engagement (+, via leaders too), protection (+),
unprotected attacks (-), harm by peacekeepers (-), police abuse (- for police), joint
patrols (trust transfers to police). Transparency amplifies gains and damps losses. Residents
who see combatants and trust a security force report them (tips); residents flee violence.
The passes over residents are :func:`sim.engine.layer_tick.trust_phase`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.grid import best_sampled_cell, relocate
from sim.engine.layout import (
    EV_TIPS,
    F_DIALOGUE,
    F_TRUST_PK,
    F_TRUST_PK0,
    F_TRUST_POLICE,
    F_TRUST_POLICE0,
    I_DISPLACED,
    I_INFORMANT,
    I_LEADER,
    I_VCLASS,
    I_X,
    I_Y,
    L_COMB_SEEN,
    L_COMMUNITY,
    L_ENGAGE,
    L_HARM_EV,
    L_LEADER_ENGAGED,
    L_LEADER_N,
    L_LEADER_TRUST,
    L_MENTOR,
    L_PROTECT_EV,
    L_TIPS,
    L_VICTIM_EV,
    L_VIOLENCE,
)
from sim.engine.rng import uniform


@njit(inline="always", cache=True)
def seen(events):
    """ODD 7.11: saturating response to the number n of events seen, 1 - exp(-n) (exactly 0
    for none, without calling exp: most cells saw nothing this tick)."""
    if events == 0.0:
        return 0.0
    return 1.0 - np.exp(-events)


@njit(inline="always", cache=True)
def relax(ai, af, a, prm):
    """ODD 7.11: each tick trust relaxes, t <- mu t + (1 - mu) t0 (mu = ``trust.memory``),
    for peacekeepers and police; dialogue fades (x ``dialogue_memory``); armed groups forget
    an informant ``informant_memory`` ticks after the tip."""
    if ai[a, I_INFORMANT] > 0:
        ai[a, I_INFORMANT] -= 1
    af[a, F_DIALOGUE] *= prm.trust_dialogue_memory
    mu = prm.trust_memory
    af[a, F_TRUST_PK] = mu * af[a, F_TRUST_PK] + (1.0 - mu) * af[a, F_TRUST_PK0]
    af[a, F_TRUST_POLICE] = mu * af[a, F_TRUST_POLICE] + (1.0 - mu) * af[a, F_TRUST_POLICE0]


@njit(inline="always", cache=True)
def respond(ai, af, a, lf, abuse, x, y, prm):
    """ODD 7.11: trust responds to what resident ``a`` at ``(x, y)`` saw this tick. With
    amp = 1 + transparency, damp = 1 - ``transparency_loss_share`` transparency:
    trust_pk += amp (g_eng + ``protection_gain`` seen(protection)) (1 - t) - damp
    (``victimization_loss`` seen(unprotected attacks) + ``harm_loss`` seen(harm)) t, g_eng =
    ``engagement_gain`` competence (1 + local_partners) within reach of an engagement unit or
    an engaged leader (competence above ``dialogue_competence`` also opens dialogue:
    ``de_escalation`` (2 competence - 1)); nearby leaders pull it toward their mean
    (``leader_influence``). trust_police -= damp ``abuse_loss`` seen(abuse) trust_police;
    near a mentor it moves toward trust_pk by amp ``mentoring_transfer`` when lower. Both
    stay in [0, 1]."""
    amp = 1.0 + prm.strategy_transparency
    damp = 1.0 - prm.strategy_transparency_loss_share * prm.strategy_transparency
    competence = prm.strategy_cultural_competence
    t = af[a, F_TRUST_PK]
    gain = 0.0
    if lf[L_ENGAGE, x, y] > 0 or lf[L_LEADER_ENGAGED, x, y] > 0:
        gain += prm.trust_engagement_gain * competence * (1.0 + prm.strategy_local_partners)
        if competence > prm.trust_dialogue_competence:  # competent dialogue de-escalates
            af[a, F_DIALOGUE] = max(
                af[a, F_DIALOGUE], prm.trust_de_escalation * (2.0 * competence - 1.0)
            )
    gain += prm.trust_protection_gain * seen(lf[L_PROTECT_EV, x, y])
    loss = prm.trust_victimization_loss * seen(lf[L_VICTIM_EV, x, y]) + (
        prm.trust_harm_loss * seen(lf[L_HARM_EV, x, y])
    )
    t += amp * gain * (1.0 - t) - damp * loss * t
    if lf[L_LEADER_N, x, y] > 0 and not ai[a, I_LEADER]:
        t += prm.trust_leader_influence * (lf[L_LEADER_TRUST, x, y] / lf[L_LEADER_N, x, y] - t)
    af[a, F_TRUST_PK] = min(1.0, max(0.0, t))
    tp = af[a, F_TRUST_POLICE]
    tp -= damp * prm.trust_abuse_loss * seen(abuse[x, y]) * tp
    if lf[L_MENTOR, x, y] > 0 and af[a, F_TRUST_PK] > tp:
        tp += amp * prm.trust_mentoring_transfer * (af[a, F_TRUST_PK] - tp)
    af[a, F_TRUST_POLICE] = min(1.0, max(0.0, tp))


@njit(inline="always", cache=True)
def tip_probability(best, community, prm):
    """ODD 7.11, tips: a resident who sees a combatant and whose best trust b exceeds
    ``tip_threshold`` reports with probability ``p_tip`` (1 + early_warning)(b - threshold) /
    (1 - threshold), x ``community_tip_factor`` near community police (0 below the
    threshold)."""
    thr = prm.trust_tip_threshold
    if not best > thr:
        return 0.0
    p = prm.trust_p_tip * (1.0 + prm.strategy_early_warning)
    p *= (best - thr) / (1.0 - thr)
    if community:
        p *= prm.police_community_tip_factor  # Blair et al. 2019
    return p


@njit(inline="always", cache=True)
def report(ai, af, a, lf, x, y, prm, rng, events):
    """ODD 7.11, tips: a resident at ``(x, y)`` who sees a combatant may report it
    (:func:`tip_probability`, capped at 1): a tip at the cell, and the reporter is a known
    informant for ``trust.informant_memory`` ticks."""
    if lf[L_COMB_SEEN, x, y] > 0:
        best = max(af[a, F_TRUST_PK], af[a, F_TRUST_POLICE])
        if best > prm.trust_tip_threshold:
            p = tip_probability(best, lf[L_COMMUNITY, x, y] > 0, prm)
            if uniform(rng) < min(1.0, p):
                events[EV_TIPS] += 1
                lf[L_TIPS, x, y] += 1.0
                ai[a, I_INFORMANT] = prm.trust_informant_memory


@njit(inline="always", cache=True)
def calm_score(lay, prm, rng, x, y):
    """ODD 7.11, flight: the calmer a cell, the better (minus its violence)."""
    return -lay.f[L_VIOLENCE, x, y]


@njit(inline="always", cache=True)
def flight(ag, grid, geo, prm, lay, rng, a):
    """ODD 7.11, flight: where V > ``flee_threshold`` a resident moves to the calmest of
    ``violence.flee_samples`` sampled empty cells in vision, if calmer than its own
    (displaced); a displaced resident is no longer displaced once V < ``return_share`` x
    ``flee_threshold``."""
    ai = ag.i
    x = ai[a, I_X]
    y = ai[a, I_Y]
    v = lay.f[L_VIOLENCE, x, y]
    if v > prm.violence_flee_threshold:
        best = best_sampled_cell(grid.occ.reshape(-1), geo, rng, x, y, ai[a, I_VCLASS],
                                 prm.violence_flee_samples, calm_score, -v, lay, prm)
        if best >= 0:
            relocate(ag, grid, geo, prm, a, best)
            ai[a, I_DISPLACED] = 1
    elif ai[a, I_DISPLACED] and v < prm.violence_return_share * prm.violence_flee_threshold:
        ai[a, I_DISPLACED] = 0
