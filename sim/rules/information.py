"""Information (ODD 7.16): tips about combatants, who receives them, how they age, and the
fear that silences informants.

A tip is about one combatant: it carries the cell where the reporter saw it (give or take
``information.tip_noise`` cells), an age and the force that holds it. It reaches a force only
if a unit (or an officer) is within reach of the reporter; early warning (mobile reporting)
makes tips to the mission travel farther and faster. Each tick tips age and fade; the
freshness of the tips a force holds on a combatant raises that force's interdiction or arrest
hazard (ODD 7.9a), and the freshness of the mission's tips, at the cells they point to, draws
patrols and rapid response and warns settlements nearby (ODD 7.8). Armed groups may learn who
reported them and retaliate (ODD 7.9); residents who see or hear of retaliation report less
for a while (fear).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.grid import wrap
from sim.engine.layout import (
    COMBATANT,
    F_INTEL,
    F_INTEL_POLICE,
    I_ALIVE,
    I_KIND,
    I_UID,
    I_X,
    L_INTEL,
    MISSION,
    N_TIP,
    POLICE_FORCE,
    T_AGE,
    T_ALIVE,
    T_FORCE,
    T_TARGET,
    T_UID,
    T_X,
    T_Y,
)
from sim.engine.rng import randint
from sim.rules.trust import seen


@njit(inline="always", cache=True)
def tip_chance(sees_combatant, t_pk, t_pol, fear, legitimacy, prm):
    """ODD 7.16, reporting: a resident who sees a combatant and whose best trust b exceeds
    ``trust.tip_threshold`` reports with probability ``p_tip`` (b - threshold) /
    (1 - threshold) x (1 - fear) x (1 - a_R + a_R M), M the mission's legitimacy and a_R =
    ``trust.legitimacy_reporting``. Returns -1 when the resident cannot report (nothing is
    drawn)."""
    if not sees_combatant:
        return -1.0
    best = max(t_pk, t_pol)
    thr = prm.trust_tip_threshold
    if not best > thr or prm.trust_p_tip <= 0.0:
        return -1.0
    a_r = prm.trust_legitimacy_reporting
    p = prm.trust_p_tip * (best - thr) / (1.0 - thr)
    return min(1.0, p * (1.0 - fear) * ((1.0 - a_r) + a_r * legitimacy))


@njit(inline="always", cache=True)
def recipient(t_pk, t_pol, unit_near, officer_near, prm):
    """ODD 7.16, delivery: the force the resident tells, the one it trusts more among those it
    trusts above the threshold and can reach (a unit within the mission's tip reach, an
    officer within ``report_reach`` or a community officer within ``community_reach``):
    MISSION, POLICE_FORCE, or -1 when no one receives the tip (it is lost)."""
    thr = prm.trust_tip_threshold
    to_mission = unit_near and t_pk > thr
    to_police = officer_near and t_pol > thr
    if to_mission and (not to_police or t_pk >= t_pol):
        return MISSION
    if to_police:
        return POLICE_FORCE
    return -1


@njit(inline="always", cache=True)
def seen_combatant(b, kind, state, group, informant, my_group, my_faction, prm):
    """ODD 7.16: whom a tip can be about, a combatant in the reporter's vision (rank for
    ``random_cell_where``)."""
    return 1 if b >= 0 and kind == COMBATANT else 0


@njit(inline="always", cache=True)
def noisy_cell(x, y, rng, width, height, torus, prm):
    """ODD 7.16: where a tip points, the combatant's cell give or take
    ``information.tip_noise`` cells in each direction (uniform; wrapped on a torus, kept on
    a bounded grid)."""
    r = prm.information_tip_noise
    tx = x + randint(rng, 2 * r + 1) - r
    ty = y + randint(rng, 2 * r + 1) - r
    if torus:
        return wrap(tx, width, True), wrap(ty, height, True)
    return min(max(tx, 0), width - 1), min(max(ty, 0), height - 1)


@njit(inline="always", cache=True)
def file_tip(tips, meta_row, target, uid, tx, ty, force, prm):
    """ODD 7.16: the force now holds a tip about combatant ``target`` pointing at (tx, ty);
    it becomes actionable after ``round(report_delay (1 - early_warning))`` ticks (its age
    starts below zero). The table is a ring: when full, the oldest tip is dropped."""
    k = meta_row % tips.shape[0]
    tips[k, T_ALIVE] = 1
    tips[k, T_TARGET] = target
    tips[k, T_UID] = uid
    tips[k, T_X] = tx
    tips[k, T_Y] = ty
    tips[k, T_AGE] = -prm.tip_delay
    tips[k, T_FORCE] = force
    return meta_row + 1


@njit(inline="always", cache=True)
def freshness(age, prm):
    """ODD 7.16: an actionable tip of age a ticks has freshness exp(-a / ``tip_lifetime``)."""
    return np.exp(-age / prm.information_tip_lifetime)


@njit(cache=True, _nrt=False)
def age_tips(ag, lay, prm):
    """ODD 7.16, each tick: every tip ages by one tick; a tip about a combatant who is gone
    (dead, detained, disarmed) or whose freshness fell below ``min_freshness`` is forgotten.
    Each combatant's intel (the summed freshness of the actionable tips the mission holds on
    it, and those the police hold) is recomputed, and the mission's intel map gets each tip's
    freshness at the cell it points to. Returns how many tips are held."""
    ai = ag.i
    af = ag.f
    tips = lay.tips
    intel_map = lay.f[L_INTEL]
    intel_map.fill(0.0)
    n = tips.shape[0]
    for k in range(n):
        if tips[k, T_ALIVE]:
            t = tips[k, T_TARGET]
            af[t, F_INTEL] = 0.0
            af[t, F_INTEL_POLICE] = 0.0
    held = 0
    for k in range(n):
        if not tips[k, T_ALIVE]:
            continue
        age = tips[k, T_AGE] + 1
        tips[k, T_AGE] = age
        t = tips[k, T_TARGET]
        if not (ai[t, I_ALIVE] and ai[t, I_UID] == tips[k, T_UID]
                and ai[t, I_KIND] == COMBATANT and ai[t, I_X] >= 0):
            tips[k, T_ALIVE] = 0
            continue
        held += 1
        if age < 0:
            continue  # still on its way
        fr = freshness(age, prm)
        if fr < prm.information_min_freshness:
            tips[k, T_ALIVE] = 0
            held -= 1
            continue
        if tips[k, T_FORCE] == MISSION:
            af[t, F_INTEL] += fr
            intel_map[tips[k, T_X], tips[k, T_Y]] += fr
        else:
            af[t, F_INTEL_POLICE] += fr
    return held


@njit(inline="always", cache=True)
def warned_settlements(markets, warning, out, prm):
    """ODD 7.16, early warning: the settlements (markets) with at least
    ``warning_threshold`` of fresh mission tips within ``warning_radius`` (``warning`` is
    that box sum) are warned; their flat cells go to ``out``. Returns how many."""
    flat = warning.reshape(-1)
    n = 0
    for m in markets:
        if flat[m] >= prm.information_warning_threshold and flat[m] > 0.0:
            out[n] = m
            n += 1
    return n


@njit(inline="always", cache=True)
def fear_step(fear, seen_retaliation, heard_retaliation, prm):
    """ODD 7.16, fear: it fades by ``fear_decay`` a tick; seeing retaliation against an
    informant (within vision) adds ``fear_gain`` seen(n) (1 - fear), hearing of it (within
    ``hear_radius``, not seen) ``fear_hear_gain`` seen(n) (1 - fear); seen(n) = 1 - exp(-n)."""
    fear *= 1.0 - prm.information_fear_decay
    if seen_retaliation > 0.0:
        fear += prm.information_fear_gain * seen(seen_retaliation) * (1.0 - fear)
    heard = heard_retaliation - seen_retaliation
    if heard > 0.0:
        fear += prm.information_fear_hear_gain * seen(heard) * (1.0 - fear)
    return min(1.0, max(0.0, fear))


#: columns of the tip table, for Python code and tests
TIP_COLUMNS = {"alive": T_ALIVE, "target": T_TARGET, "uid": T_UID, "x": T_X, "y": T_Y,
               "age": T_AGE, "force": T_FORCE}
assert len(TIP_COLUMNS) == N_TIP
FORCES = {"mission": MISSION, "police": POLICE_FORCE}
