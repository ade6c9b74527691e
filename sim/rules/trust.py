"""Residents' trust, information and flight (MODEL.md 4.6).

Trust in peacekeepers and in police relaxes toward its initial level (memory ``mu``) and
responds to what a resident sees this tick: engagement (+, via leaders too), protection (+),
unprotected attacks (-), harm by peacekeepers (-), police abuse (- for police), joint
patrols (trust transfers to police). Transparency amplifies gains and damps losses. Residents
who see combatants and trust a security force report them (tips); residents flee violence.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine import kernels as K
from sim.engine.rng import randint, uniform

INFORMANT_MEMORY = 10  # ticks during which armed groups know who reported them
_AHEAD = 4  # agents ahead whose memory is prefetched


@njit(inline="always", cache=True)
def _seen(events):
    """Saturating response to the number of events seen: 1 - exp(-n) (exactly 0 for none,
    without calling exp: most cells saw nothing this tick)."""
    if events == 0.0:
        return 0.0
    return 1.0 - np.exp(-events)


@njit(cache=True)
def trust_phase(ag, grid, geo, prm, lp, lay, rng, meta, events):
    """Every resident once: trust relaxes and responds to what the resident saw; then tips
    and flight.

    Two passes with the same result as one pass in slot order: the deterministic update
    reads a dozen layers at the resident's cell, so it goes in cell order (the layers
    stream from memory; a resident's update reads nothing another one changes). Tips and
    flight draw random numbers and move people, so they follow in slot order, as the draws
    always have."""
    ai = ag.i
    af = ag.f
    lf = lay.f
    abuse = grid.abuse_ev
    occ = grid.occ
    w, h = occ.shape
    amp = 1.0 + lp.transparency
    damp = 1.0 - 0.5 * lp.transparency
    high = meta[K.META_HIGH]
    ai_flat = ai.reshape(ai.size)
    af_flat = af.reshape(af.size)
    lf_flat = lf.reshape(lf.size)
    n_cells = w * h

    def relax(a):
        # informants are forgotten, dialogue fades, trust relaxes toward its initial level
        if ai[a, K.I_INFORMANT] > 0:
            ai[a, K.I_INFORMANT] -= 1
        af[a, K.F_DIALOGUE] *= 0.9
        af[a, K.F_TRUST_PK] = (
            lp.memory * af[a, K.F_TRUST_PK] + (1.0 - lp.memory) * af[a, K.F_TRUST_PK0]
        )
        af[a, K.F_TRUST_POLICE] = (
            lp.memory * af[a, K.F_TRUST_POLICE] + (1.0 - lp.memory) * af[a, K.F_TRUST_POLICE0]
        )

    # residents on the grid, in cell order: what they saw this tick
    for x in range(w):
        for y in range(h):
            if y + _AHEAD < h:  # the row of a resident a few cells on, fetched meanwhile
                b = occ[x, y + _AHEAD]
                if b >= 0:
                    K.prefetch(ai_flat, b * K.N_INT)
                    K.prefetch(ai_flat, b * K.N_INT + K.I_INFORMANT)
                    K.prefetch(af_flat, b * K.N_FLOAT + K.F_TRUST_POLICE)
                    K.prefetch(af_flat, b * K.N_FLOAT + K.F_TRUST_POLICE0)
            a = occ[x, y]
            if a < 0 or ai[a, K.I_KIND] != K.RESIDENT:
                continue
            relax(a)
            t = af[a, K.F_TRUST_PK]
            gain = 0.0
            if lf[K.L_ENGAGE, x, y] > 0 or lf[K.L_LEADER_ENGAGED, x, y] > 0:
                gain += lp.engagement_gain * lp.cultural_competence * (1.0 + lp.local_partners)
                if lp.cultural_competence > 0.5:  # competent dialogue de-escalates
                    af[a, K.F_DIALOGUE] = max(
                        af[a, K.F_DIALOGUE],
                        lp.de_escalation * (2.0 * lp.cultural_competence - 1.0),
                    )
            gain += lp.protection_gain * _seen(lf[K.L_PROTECT_EV, x, y])
            loss = lp.victimization_loss * _seen(lf[K.L_VICTIM_EV, x, y]) + lp.harm_loss * _seen(
                lf[K.L_HARM_EV, x, y]
            )
            t += amp * gain * (1.0 - t) - damp * loss * t
            if lf[K.L_LEADER_N, x, y] > 0 and not ai[a, K.I_LEADER]:
                t += lp.leader_influence * (lf[K.L_LEADER_TRUST, x, y] / lf[K.L_LEADER_N, x, y] - t)
            af[a, K.F_TRUST_PK] = min(1.0, max(0.0, t))
            tp = af[a, K.F_TRUST_POLICE]
            tp -= damp * lp.abuse_loss * _seen(abuse[x, y]) * tp
            if lf[K.L_MENTOR, x, y] > 0 and af[a, K.F_TRUST_PK] > tp:
                tp += amp * lp.mentoring_transfer * (af[a, K.F_TRUST_PK] - tp)
            af[a, K.F_TRUST_POLICE] = min(1.0, max(0.0, tp))

    # every resident, in slot order: those in jail only relax; the others may report and flee
    for a in range(high):
        b = a + _AHEAD  # the cell of an agent a few slots on, fetched meanwhile
        if b < high and ai[b, K.I_X] >= 0:
            c = ai[b, K.I_X] * h + ai[b, K.I_Y]
            for layer in (K.L_COMB_SEEN, K.L_COMMUNITY, K.L_VIOLENCE):
                K.prefetch(lf_flat, layer * n_cells + c)
        if not ai[a, K.I_ALIVE] or ai[a, K.I_KIND] != K.RESIDENT:
            continue
        x = ai[a, K.I_X]
        y = ai[a, K.I_Y]
        if x < 0:
            relax(a)  # in jail: sees nothing
            continue
        # tips: report combatants one sees to a trusted force; the more trust above the
        # threshold, the more likely the report
        if lf[K.L_COMB_SEEN, x, y] > 0:
            best = max(af[a, K.F_TRUST_PK], af[a, K.F_TRUST_POLICE])
            if best > lp.tip_threshold:
                p = lp.p_tip * (1.0 + lp.early_warning)
                p *= (best - lp.tip_threshold) / (1.0 - lp.tip_threshold)
                if lf[K.L_COMMUNITY, x, y] > 0:
                    p *= 1.5  # community policing raises reporting (Blair et al. 2019)
                if uniform(rng) < min(1.0, p):
                    events[K.EV_TIPS] += 1
                    lf[K.L_TIPS, x, y] += 1.0
                    ai[a, K.I_INFORMANT] = INFORMANT_MEMORY
        # displacement: move away from violence
        if lf[K.L_VIOLENCE, x, y] > lp.flee_threshold:
            _flee(ag, grid, geo, prm, lay, rng, a)
        elif ai[a, K.I_DISPLACED] and lf[K.L_VIOLENCE, x, y] < 0.5 * lp.flee_threshold:
            ai[a, K.I_DISPLACED] = 0


@njit(cache=True)
def _flee(ag, grid, geo, prm, lay, rng, a):
    """Move to the least violent of a few sampled empty cells in vision, if calmer."""
    k = ag.i[a, K.I_VCLASS]
    offs = geo.offsets[k]
    occ = grid.occ.reshape(-1)
    x = ag.i[a, K.I_X]
    y = ag.i[a, K.I_Y]
    best = -1
    best_v = lay.f[K.L_VIOLENCE, x, y]
    for _ in range(8):
        i = randint(rng, geo.n_off[k])
        c = K._cell(x, y, offs[i, 0], offs[i, 1], geo.width, geo.height, geo.torus)
        if c < 0 or occ[c] >= 0:
            continue
        v = lay.f[K.L_VIOLENCE, c // geo.height, c % geo.height]
        if v < best_v:
            best = c
            best_v = v
    if best >= 0:
        K._relocate(ag, grid, geo, prm, a, best)
        ag.i[a, K.I_DISPLACED] = 1
