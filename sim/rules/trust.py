"""Residents' trust and flight (ODD 7.11).

Trust in peacekeepers and in police relaxes toward a base level (memory ``mu``) and responds
to what a resident sees this tick: engagement (+, via leaders too), an attack interrupted (+),
unprotected attacks (-), harm by security forces (-), police abuse (- for police), joint
patrols (trust transfers to police), and a force seen to protect the other group more than
one's own (-, impartiality). The base level itself moves slowly toward trust (long memory),
so trust can be built and lost durably. Transparency amplifies gains and damps losses.
Reporting is :mod:`sim.rules.information` (ODD 7.16); residents flee violence.
The passes over residents are :func:`sim.engine.layer_tick.trust_phase`; the rules applied
to every resident take the values at its cell and return the new ones.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.engine.grid import best_sampled_cell, relocate
from sim.engine.layout import (
    I_DISPLACED,
    I_VCLASS,
    I_X,
    I_Y,
    L_VIOLENCE_BATTLE,
    L_VIOLENCE_CIV,
)

#: 1 - exp(-n) for the counts n = 0..63, with the C library's exp (the one the kernels'
#: np.exp calls): the event fields are box sums of counts, whole numbers
_SEEN_COUNTS = np.array([1.0 - math.exp(-float(n)) for n in range(64)])


@njit(inline="always", cache=True)
def seen(events):
    """ODD 7.11: saturating response to the number n of events seen, 1 - exp(-n) (exactly 0
    for none, without calling exp: most cells saw nothing this tick; a count below 64 is
    looked up, computed once with the same exp)."""
    if events == 0.0:
        return 0.0
    if 0.0 < events < 64.0:
        n = int(events)
        if n == events:
            return _SEEN_COUNTS[n]
    return 1.0 - np.exp(-events)


@njit(inline="always", cache=True)
def relax(informant, dialogue, t_pk, t_pk0, t_pol, t_pol0, prm):
    """ODD 7.11: each tick trust relaxes toward the resident's base level, t <- mu t +
    (1 - mu) t0 (mu = ``trust.memory``), for peacekeepers and police; dialogue fades
    (x ``dialogue_memory``); armed groups forget an informant ``informant_memory`` ticks after
    the tip. Returns the new (informant ticks left, dialogue, trust_pk, trust_police)."""
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
def settle_base(t, t0, prm):
    """ODD 7.11, long memory: the base level trust relaxes to moves toward trust, t0 +=
    ``trust.base_rate`` (t - t0): months of protection (or of harm) leave a lasting level."""
    return t0 + prm.trust_base_rate * (t - t0)


@njit(inline="always", cache=True)
def perceive(memory, seen_events, prm):
    """ODD 7.11, impartiality: a resident's memory of protection given to a group,
    m <- ``perception_memory`` m + (1 - perception_memory) seen(n)."""
    k = prm.trust_perception_memory
    return k * memory + (1.0 - k) * seen(seen_events)


@njit(inline="always", cache=True)
def respond(t, tp, dialogue, leader, engage, leader_engaged, protect, victim, harm, leader_n,
            leader_trust, mentor, abuse, partiality, prm):
    """ODD 7.11: trust responds to what a resident saw this tick (the event and presence
    fields at its cell). With amp = 1 + transparency, damp = 1 - ``transparency_loss_share``
    transparency: trust_pk += amp (g_eng + ``protection_gain`` seen(attacks interrupted))
    (1 - t) - damp (``victimization_loss`` seen(unprotected attacks) + ``harm_loss``
    seen(harm) + ``partiality_loss`` partiality) t, g_eng = ``engagement_gain`` competence
    within reach of an engagement unit or an engaged leader (competence
    above ``dialogue_competence`` also opens dialogue: ``de_escalation`` (2 competence - 1));
    partiality = max(0, protection of the other group remembered - of one's own); nearby
    leaders pull trust toward their mean (``leader_influence``; not a leader's own).
    trust_police -= damp ``abuse_loss`` seen(abuse) trust_police; near a mentor it moves
    toward trust_pk by amp ``mentoring_transfer`` when lower. Both stay in [0, 1]. Returns the
    new (trust_pk, trust_police, dialogue)."""
    amp = 1.0 + prm.strategy_transparency
    damp = 1.0 - prm.strategy_transparency_loss_share * prm.strategy_transparency
    competence = prm.strategy_cultural_competence
    gain = 0.0
    if engage > 0 or leader_engaged > 0:
        gain += prm.trust_engagement_gain * competence
        if competence > prm.trust_dialogue_competence:  # competent dialogue de-escalates
            dialogue = max(dialogue, prm.trust_de_escalation * (2.0 * competence - 1.0))
    gain += prm.trust_protection_gain * seen(protect)
    loss = prm.trust_victimization_loss * seen(victim) + prm.trust_harm_loss * seen(harm)
    loss += prm.trust_partiality_loss * partiality
    t += amp * gain * (1.0 - t) - damp * loss * t
    if leader_n > 0 and not leader:
        t += prm.trust_leader_influence * (leader_trust / leader_n - t)
    t = min(1.0, max(0.0, t))
    tp -= damp * prm.trust_abuse_loss * seen(abuse) * tp
    if mentor > 0 and t > tp:
        tp += amp * prm.trust_mentoring_transfer * (t - tp)
    return t, min(1.0, max(0.0, tp)), dialogue


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
def violence_now(lay, x, y):
    """ODD 7.11, flight: the violence on a cell as residents feel it this tick, against
    civilians plus battle (V of ODD 7.13 with this tick's events)."""
    return lay.f[L_VIOLENCE_CIV, x, y] + lay.f[L_VIOLENCE_BATTLE, x, y]


@njit(inline="always", cache=True)
def calm_score(lay, prm, rng, x, y):
    """ODD 7.11, flight: the calmer a cell, the better (minus its violence)."""
    return -violence_now(lay, x, y)


@njit(inline="always", cache=True)
def flee(ag, grid, geo, prm, lay, rng, a):
    """ODD 7.11, flight: the resident moves to the calmest of ``violence.flee_samples``
    sampled empty cells in vision, if calmer than its own, and is displaced."""
    ai = ag.i
    x = ai[a, I_X]
    y = ai[a, I_Y]
    best = best_sampled_cell(grid.occ.reshape(-1), geo, rng, x, y, ai[a, I_VCLASS],
                             prm.violence_flee_samples, calm_score, -violence_now(lay, x, y),
                             lay, prm)
    if best >= 0:
        relocate(ag, grid, geo, prm, a, best)
        ai[a, I_DISPLACED] = 1
