"""Local partner organisations (ODD 7.21): actors at settlements, with their own reach and a
capacity the mission builds up, who keep working after it leaves.

A partner works at a settlement (market). Its capacity c in [0, 1] grows while units are
deployed, by ``partners.build_rate`` x ``strategy.local_partners`` (the mission's investment)
x (1 - c) a tick, and every partner loses ``partners.decay`` c a tick. What a resident feels of
partners is P, the capacity of the partners within ``partners.radius`` cells (a presence field,
ODD 7.7). Partners carry three things: engagement (while units are deployed, trust in
peacekeepers grows with P; at any time they open dialogue, which lowers grievance),
reintegration (acceptance of ex-combatants grows with P, ODD 7.19) and early warning (a
resident who cannot reach a force may tell a partner, who passes the tip on with probability
min(1, P), ODD 7.16). After the exit the mission's investment stops, and partners work on at
the capacity they had, fading at ``decay``: the quality of the handover.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.layout import L_PARTNER, L_PARTNER_SITE, S_PARTNER_TOTAL


@njit(inline="always", cache=True)
def capacity_step(capacity, deployed, prm):
    """ODD 7.21: a partner's capacity, c += ``build_rate`` ``local_partners`` (1 - c) while
    units are deployed (``deployed``), then c -= ``decay`` c."""
    if deployed:
        capacity += prm.partners_build_rate * prm.strategy_local_partners * (1.0 - capacity)
    return capacity - prm.partners_decay * capacity


@njit(inline="always", cache=True)
def partner_engagement(t_pk, dialogue, reach, deployed, prm):
    """ODD 7.21, engagement by partners of capacity ``reach`` within reach of a resident
    (P, at most 1): while units are deployed trust in peacekeepers += ``partners.trust_gain``
    P (1 - trust); at any time dialogue = max(dialogue, ``partners.dialogue`` P). Returns the
    new (trust_pk, dialogue)."""
    p = min(1.0, reach)
    if deployed:
        t_pk += prm.partners_trust_gain * p * (1.0 - t_pk)
    return t_pk, max(dialogue, prm.partners_dialogue * p)


@njit(inline="always", cache=True)
def relays(t_pk, t_pol, unit_near, officer_near, reach, units, officers, u, prm):
    """ODD 7.21, early warning: a reporter who trusts a force above ``trust.tip_threshold``
    but has none of it within reach may tell a partner within reach (P > 0), who passes the
    tip on with probability min(1, P) (``u`` a uniform draw) to that force, if it still has
    units (officers) on the map. Returns the reachable (mission, police) after the relay."""
    thr = prm.trust_tip_threshold
    wants_mission = t_pk > thr and not unit_near and units > 0
    wants_police = t_pol > thr and not officer_near and officers > 0
    if (wants_mission or wants_police) and u < min(1.0, reach):
        return unit_near or wants_mission, officer_near or wants_police
    return unit_near, officer_near


def place_partners(lay, market_cells: np.ndarray, prm, gen: np.random.Generator) -> None:
    """ODD 7.21, set-up: partners work at round(``partners.share`` x settlements) settlements
    drawn uniformly at random, each with capacity ``initial_capacity``. Draws from the set-up
    generator ``gen``."""
    n = int(round(prm.partners_share * market_cells.size))
    if n == 0:
        return
    sites = np.sort(gen.choice(market_cells, size=n, replace=False))
    lay.f[L_PARTNER_SITE].reshape(-1)[sites] = 1.0
    lay.f[L_PARTNER].reshape(-1)[sites] = prm.partners_initial_capacity
    lay.scalars[S_PARTNER_TOTAL] = n * prm.partners_initial_capacity
