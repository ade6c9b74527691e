"""Community feedback (ODD 7.27): what leaders and residents tell the mission, the only view of
violence and trust its adaptive review has (ODD 7.15).

Each tick, with ``strategy.adaptive`` (and ``mechanisms.community_feedback``) on, a resident
who saw violence against civilians passes some of it on to the mission: as much as it is
willing to report to the mission (its trust above ``trust.tip_threshold``, its fear, a unit
within reach), and more of what happened to its own community than to the other
(``trust.report_other_group``). A leader reached by engagement speaks at the meeting for the
people around it (``trust.leader_voice``) and tells the mission what the community thinks of
it (its own trust). A district's reported violence is what its residents and leaders passed
on: violence where nobody trusts the mission, or where nobody meets its leaders, goes unheard.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.rules.trust import seen


@njit(inline="always", cache=True)
def feedback_on(prm):
    """ODD 7.27: residents and leaders tell the mission what they saw only for an adaptive
    review (``strategy.adaptive``) that reads them (``mechanisms.community_feedback``)."""
    return prm.strategy_adaptive and prm.mechanisms_community_feedback


@njit(inline="always", cache=True)
def willingness(t_pk, fear, unit_near, leader, engaged, prm):
    """ODD 7.27: how much of what it saw a resident tells the mission. A leader reached by
    engagement (an engagement unit within ``strategy.engagement_radius``) speaks for the
    people around it: ``trust.leader_voice``, whatever its own trust. Anyone else with a unit
    within the mission's tip reach tells (t - thr) / (1 - thr) (1 - fear) of it when its trust
    t in peacekeepers exceeds ``trust.tip_threshold`` thr, as for a tip (ODD 7.16), and
    nothing otherwise."""
    if leader and engaged:
        return prm.trust_leader_voice
    thr = prm.trust_tip_threshold
    if not unit_near or not t_pk > thr:
        return 0.0
    return (t_pk - thr) / (1.0 - thr) * (1.0 - fear)


@njit(inline="always", cache=True)
def violence_told(own, other, harm, prm):
    """ODD 7.27: the violence against civilians a resident saw this tick as it tells it:
    seen(unprotected attacks on its own community) + ``trust.report_other_group``
    seen(those on the other) + seen(harm by security forces), seen(n) = 1 - exp(-n)."""
    return seen(own) + prm.trust_report_other_group * seen(other) + seen(harm)


def district_feedback(district: np.ndarray, reported: np.ndarray, voice_trust: np.ndarray,
                      voice_n: np.ndarray, districts: int, last_trust: np.ndarray | None,
                      prior: float) -> tuple[np.ndarray, np.ndarray]:
    """ODD 7.27: the mission's reading of each district at a review, from what it was told
    since the last one: the violence its residents and leaders reported (summed over the
    district's cells, where the reporters stood), and the mean trust in peacekeepers of the
    leaders it met there (the district's last reading where it met none; ``prior``, the
    context's initial trust, before any). ``district``: the district of every cell."""
    flat = district.ravel().astype(np.int64)
    violence = np.bincount(flat, weights=reported.ravel(), minlength=districts)
    n = np.bincount(flat, weights=voice_n.ravel(), minlength=districts)
    total = np.bincount(flat, weights=voice_trust.ravel(), minlength=districts)
    before = last_trust if last_trust is not None else np.full(districts, prior)
    trust = np.where(n > 0, total / np.maximum(n, 1.0), before)
    return violence, trust
