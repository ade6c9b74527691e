"""The environment (ODD 7.13): per-cell rules.

The kernels sweep the grid (:func:`sim.engine.layer_tick.environment_phase`) and apply these
to every cell, in the order of ``tests/reference_environment.py`` (the readable numpy
version, tested to give the same layers).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(inline="always", cache=True)
def clip01(v):
    """ODD 7.13: economy and infrastructure stay in [0, 1] (``np.clip(v, 0, 1)`` for a finite
    float, as numpy computes it: max, then min)."""
    v = v if v > 0.0 else 0.0
    return v if v < 1.0 else 1.0


@njit(inline="always", cache=True)
def violence_kept(v, prm):
    """ODD 7.13: violence against civilians and battle violence each fade, V <- (1 -
    ``violence.decay``) V (then a share ``violence.spread`` moves to the four neighbours'
    mean); V is their sum."""
    return v * (1.0 - prm.violence_decay)


@njit(inline="always", cache=True)
def market_calm(violence, prm):
    """ODD 7.13, market access: a market trades to the extent that it is calm,
    exp(-V / ``economy.calm_scale``)."""
    return np.exp(-violence / prm.economy_calm_scale)


@njit(inline="always", cache=True)
def access(calm_markets, markets):
    """ODD 7.13, market access: the share of the markets within ``economy.access_radius``
    that are calm (0 where there are none): trade needs markets one can safely reach."""
    return calm_markets / markets if markets > 0.0 else 0.0


@njit(inline="always", cache=True)
def economy_target(infrastructure, market_access, market, violence_near, prm):
    """ODD 7.13: where the local economy is heading, clip(base + w_I I + w_A access +
    market_bonus market - w_V V_r, 0, 1), V_r the violence within ``economy.violence_radius``.
    Security enters only through violence and access: where troops stand is not a term."""
    return clip01(
        prm.economy_base
        + prm.economy_w_infrastructure * infrastructure
        + prm.economy_w_access * market_access
        + prm.economy_market_bonus * market
        - prm.economy_w_violence * violence_near
    )


@njit(inline="always", cache=True)
def economy_step(e, target, prm):
    """ODD 7.13: E relaxes toward its target, E += ``economy.rate`` (target - E) (then it
    diffuses by ``economy.diffusion`` and is clipped to [0, 1])."""
    return e + prm.economy_rate * (target - e)


@njit(inline="always", cache=True)
def infrastructure_step(i, violence, programme, prm):
    """ODD 7.13: I += ``build_rate`` programme (1 - I) exp(-V / ``calm_scale``), then
    I -= ``damage_rate`` min(V, 1) I, clipped to [0, 1]."""
    calm = np.exp(-violence / prm.economy_calm_scale)
    i += prm.economy_build_rate * programme * (1.0 - i) * calm
    i -= prm.economy_damage_rate * min(violence, 1.0) * i
    return clip01(i)
