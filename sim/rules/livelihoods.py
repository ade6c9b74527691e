"""Livelihoods (MODEL.md 4.6): employment programmes and job loss; police professionalism;
and the environment layers' update (MODEL.md 4.7) as run inside the tick.

Employment lowers hardship (``economy.employment_relief``) and blocks recruitment; when
reintegration support is on, ex-combatants are first in line for programme jobs.

``update_environment`` is the numba twin of :mod:`sim.environment` (the readable reference,
tested on its own): the same arithmetic in the same order, so the layers are bit-identical,
without a dozen numpy calls and temporaries a tick.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine import kernels as K
from sim.engine.fields import W_NEAR, W_TARGET, W_TMP, box_sum_work
from sim.engine.rng import uniform


@njit(cache=True)
def employment_phase(ag, grid, lp, rng, meta):
    ai = ag.i
    economy = grid.economy
    high = meta[K.META_HIGH]
    econ_flat = economy.reshape(economy.size)
    for a in range(high):
        b = a + 4  # fetch the cell of an agent a few slots ahead while this one acts
        if b < high and ai[b, K.I_X] >= 0:
            K.prefetch(econ_flat, ai[b, K.I_X] * economy.shape[1] + ai[b, K.I_Y])
        if not ai[a, K.I_ALIVE] or ai[a, K.I_KIND] != K.RESIDENT or ai[a, K.I_X] < 0:
            continue
        e = economy[ai[a, K.I_X], ai[a, K.I_Y]]
        if ai[a, K.I_EMPLOYED]:
            if uniform(rng) < lp.job_loss * (1.0 - e):
                ai[a, K.I_EMPLOYED] = 0
        elif lp.programme_rate > 0.0:
            p = lp.programme_rate
            if ai[a, K.I_EX_COMBATANT]:
                p *= 1.0 + 2.0 * lp.reintegration  # ex-combatants first
            if uniform(rng) < min(1.0, p):
                ai[a, K.I_EMPLOYED] = 1


@njit(cache=True)
def professionalism_phase(ag, lp, mentor, meta):
    """Mentoring raises professionalism; without it, it slowly decays."""
    ai = ag.i
    af = ag.f
    for a in range(meta[K.META_HIGH]):
        if not ai[a, K.I_ALIVE] or ai[a, K.I_KIND] != K.POLICE or ai[a, K.I_X] < 0:
            continue
        p = af[a, K.F_PROFESSIONALISM]
        if mentor[ai[a, K.I_X], ai[a, K.I_Y]] > 0:
            p += lp.mentoring_gain * (1.0 - p)
        else:
            p -= lp.professionalism_decay * p
        af[a, K.F_PROFESSIONALISM] = p


@njit(inline="always", cache=True)
def _clip01(v):
    """``np.clip(v, 0, 1)`` for a finite float, as numpy computes it (max, then min)."""
    v = v if v > 0.0 else 0.0
    return v if v < 1.0 else 1.0


@njit(cache=True)
def _diffuse(field, rate, torus, tmp):
    """``environment.diffuse``: ``field += rate * (mean of the 4 neighbours - field)``, with the
    neighbour mean summed in scipy's order (up, left, right, down) from 0.0; edges wrap on a
    torus and repeat the edge cell (``mode="nearest"``) otherwise."""
    if not rate > 0.0:
        return
    w, h = field.shape
    for x in range(w):
        if torus:
            xm = x - 1 if x > 0 else w - 1
            xp = x + 1 if x < w - 1 else 0
        else:
            xm = max(x - 1, 0)
            xp = min(x + 1, w - 1)
        for y in range(h):
            if torus:
                ym = y - 1 if y > 0 else h - 1
                yp = y + 1 if y < h - 1 else 0
            else:
                ym = max(y - 1, 0)
                yp = min(y + 1, h - 1)
            tmp[x, y] = (
                0.0
                + field[xm, y] * 0.25
                + field[x, ym] * 0.25
                + field[x, yp] * 0.25
                + field[xp, y] * 0.25
            )
    for x in range(w):
        for y in range(h):
            field[x, y] += rate * (tmp[x, y] - field[x, y])


@njit(cache=True)
def update_environment(grid, lp, lay):
    """Violence fades and spreads; the economy relaxes toward its target (infrastructure,
    security, markets up; violence within 3 cells down) and diffuses; infrastructure is
    built where calm and damaged by violence (``sim.environment``, same order)."""
    f = lay.f
    violence = f[K.L_VIOLENCE]
    infra = f[K.L_INFRASTRUCTURE]
    economy = grid.economy
    tmp = lay.work[W_TARGET]
    w, h = violence.shape
    keep = 1.0 - lp.violence_decay
    for x in range(w):
        for y in range(h):
            violence[x, y] *= keep
    _diffuse(violence, lp.violence_spread, lp.torus, tmp)
    # markets feel insecurity around them, not only on their own cell
    near = lay.work[W_NEAR]
    box_sum_work(violence, 3, lp.torus, near, lay.work[W_TMP], lay.col)
    for x in range(w):
        for y in range(h):
            target = _clip01(
                lp.economy_base
                + lp.w_infrastructure * infra[x, y]
                + lp.w_security * f[K.L_SECURITY, x, y]
                + lp.market_bonus * f[K.L_MARKET, x, y]
                - lp.w_violence * near[x, y]
            )
            economy[x, y] += lp.economy_rate * (target - economy[x, y])
    _diffuse(economy, lp.economy_diffusion, lp.torus, tmp)
    for x in range(w):
        for y in range(h):
            economy[x, y] = _clip01(economy[x, y])
    for x in range(w):
        for y in range(h):
            v = violence[x, y]
            i = infra[x, y]
            calm = np.exp(-v / 0.5)
            i += lp.build_rate * f[K.L_PROGRAMME, x, y] * (1.0 - i) * calm
            i -= lp.damage_rate * min(v, 1.0) * i
            infra[x, y] = _clip01(i)
