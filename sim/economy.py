"""Livelihoods (MODEL.md 4.6): employment programmes and job loss; police professionalism.

Employment lowers hardship (``economy.employment_relief``) and blocks recruitment; when
reintegration support is on, ex-combatants are first in line for programme jobs.
"""

from __future__ import annotations

from numba import njit

from sim import kernels as K
from sim.rng import uniform


@njit(cache=True)
def employment_phase(ag, grid, lp, rng):
    for a in range(ag.i.shape[0]):
        if not ag.i[a, K.I_ALIVE] or ag.i[a, K.I_KIND] != K.RESIDENT or ag.i[a, K.I_X] < 0:
            continue
        e = grid.economy[ag.i[a, K.I_X], ag.i[a, K.I_Y]]
        if ag.i[a, K.I_EMPLOYED]:
            if uniform(rng) < lp.job_loss * (1.0 - e):
                ag.i[a, K.I_EMPLOYED] = 0
        elif lp.programme_rate > 0.0:
            p = lp.programme_rate
            if ag.i[a, K.I_EX_COMBATANT]:
                p *= 1.0 + 2.0 * lp.reintegration  # ex-combatants first
            if uniform(rng) < min(1.0, p):
                ag.i[a, K.I_EMPLOYED] = 1


@njit(cache=True)
def professionalism_phase(ag, lp, mentor):
    """Mentoring raises professionalism; without it, it slowly decays."""
    for a in range(ag.i.shape[0]):
        if not ag.i[a, K.I_ALIVE] or ag.i[a, K.I_KIND] != K.POLICE or ag.i[a, K.I_X] < 0:
            continue
        p = ag.f[a, K.F_PROFESSIONALISM]
        if mentor[ag.i[a, K.I_X], ag.i[a, K.I_Y]] > 0:
            p += lp.mentoring_gain * (1.0 - p)
        else:
            p -= lp.professionalism_decay * p
        ag.f[a, K.F_PROFESSIONALISM] = p
