"""Cell layers of the peacekeeping model (ODD 7.13): violence, economy, infrastructure.

Plain vectorised functions on ``(width, height)`` float arrays, updated in place once per
tick; the model exposes the same arrays to Mesa as property layers.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

_CROSS = np.array([[0.0, 0.25, 0.0], [0.25, 0.0, 0.25], [0.0, 0.25, 0.0]])


def neighbour_mean(field: np.ndarray, torus: bool) -> np.ndarray:
    """Mean of the four orthogonal neighbours of every cell (edges reflect on a bounded grid)."""
    return ndimage.convolve(field, _CROSS, mode="wrap" if torus else "nearest")


def diffuse(field: np.ndarray, rate: float, torus: bool) -> None:
    """Move a share ``rate`` of every cell's value toward its neighbours' mean (in place).

    Conserves the total on a torus; ``rate`` in [0, 1].
    """
    if rate > 0.0:
        field += rate * (neighbour_mean(field, torus) - field)


def update_violence(violence: np.ndarray, decay: float, spread: float, torus: bool) -> None:
    """Recent violence fades by ``decay`` per tick and spreads a little to neighbours."""
    violence *= 1.0 - decay
    diffuse(violence, spread, torus)


def market_access(violence: np.ndarray, market: np.ndarray, radius: int, torus: bool,
                  calm_scale: float) -> np.ndarray:
    """Share of the markets within ``radius`` (square) that are calm, exp(-V / calm_scale)
    weighted; 0 where no market is within reach."""
    calm = np.where(market > 0.0, market * np.exp(-violence / calm_scale), 0.0)
    near = box_sum(market, radius, torus)
    calm_near = box_sum(calm, radius, torus)
    return np.where(near > 0.0, calm_near / np.where(near > 0.0, near, 1.0), 0.0)


def box_sum(field: np.ndarray, radius: int, torus: bool) -> np.ndarray:
    """Sum over the (2 radius + 1)^2 square around every cell (zero beyond a bounded edge)."""
    w, h = field.shape
    out = np.zeros_like(field)
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            if torus:
                out += np.roll(field, (-dx, -dy), axis=(0, 1))
                continue
            shifted = np.zeros_like(field)
            xs = slice(max(0, -dx), min(w, w - dx))
            ys = slice(max(0, -dy), min(h, h - dy))
            xt = slice(max(0, dx), min(w, w + dx))
            yt = slice(max(0, dy), min(h, h + dy))
            shifted[xs, ys] = field[xt, yt]
            out += shifted
    return out


def economy_target(
    infrastructure: np.ndarray,
    access: np.ndarray,
    violence: np.ndarray,
    market: np.ndarray,
    base: float,
    w_infrastructure: float,
    w_access: float,
    w_violence: float,
    market_bonus: float,
) -> np.ndarray:
    """Where the local economy is heading: up with infrastructure, market access and markets,
    down with recent violence nearby; clipped to [0, 1]. Where troops stand is not a term."""
    target = (
        base
        + w_infrastructure * infrastructure
        + w_access * access
        + market_bonus * market
        - w_violence * violence
    )
    return np.clip(target, 0.0, 1.0)


def update_economy(
    economy: np.ndarray, target: np.ndarray, rate: float, diffusion: float, torus: bool
) -> None:
    """Relax toward ``target`` at ``rate`` per tick, then let markets spread activity."""
    economy += rate * (target - economy)
    diffuse(economy, diffusion, torus)
    np.clip(economy, 0.0, 1.0, out=economy)


def update_infrastructure(
    infrastructure: np.ndarray,
    programme: np.ndarray,
    violence: np.ndarray,
    build_rate: float,
    damage_rate: float,
    violence_scale: float,
) -> None:
    """Programmes build where violence is low; violence damages what is there.

    growth = build_rate * programme * (1 - I) * exp(-V / violence_scale);
    damage = damage_rate * min(V, 1) * I.
    """
    calm = np.exp(-violence / violence_scale)
    infrastructure += build_rate * programme * (1.0 - infrastructure) * calm
    infrastructure -= damage_rate * np.minimum(violence, 1.0) * infrastructure
    np.clip(infrastructure, 0.0, 1.0, out=infrastructure)
