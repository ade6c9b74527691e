"""Peacekeepers by role (MODEL.md 4.4) and the mission timeline (4.8).

Units move each tick according to their role; where they stand then decides what they
deter, interdict, protect, engage, disarm or mentor (read through ``sim.engine.fields``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine import kernels as K
from sim.engine.rng import randint, uniform

_CANDIDATES = 6  # cells sampled when a unit looks for where to go


@njit(inline="always", cache=True)
def _dist(c1, c2, height, width, torus):
    x1 = c1 // height
    y1 = c1 % height
    x2 = c2 // height
    y2 = c2 % height
    dx = abs(x1 - x2)
    dy = abs(y1 - y2)
    if torus:
        dx = min(dx, width - dx)
        dy = min(dy, height - dy)
    return max(dx, dy)


@njit(cache=True)
def _step_toward(ag, grid, geo, prm, rng, a, target, reach):
    """Move to the sampled empty cell within ``reach`` that is closest to ``target``."""
    x = ag.i[a, K.I_X]
    y = ag.i[a, K.I_Y]
    here = x * geo.height + y
    best = here
    best_d = _dist(here, target, geo.height, geo.width, geo.torus)
    if best_d == 0:
        return
    occ = grid.occ.reshape(-1)
    for _ in range(_CANDIDATES * 2):
        dx = randint(rng, 2 * reach + 1) - reach
        dy = randint(rng, 2 * reach + 1) - reach
        c = K._cell(x, y, dx, dy, geo.width, geo.height, geo.torus)
        if c < 0 or occ[c] >= 0:
            continue
        d = _dist(c, target, geo.height, geo.width, geo.torus)
        if d < best_d:
            best = c
            best_d = d
    if best != here:
        K._relocate(ag, grid, geo, prm, a, best)


@njit(cache=True)
def _patrol(ag, grid, geo, prm, lp, lay, rng, a):
    """Move within vision, drawn toward recent violence and reported combatants."""
    k = ag.i[a, K.I_VCLASS]
    offs = geo.offsets[k]
    occ = grid.occ.reshape(-1)
    x = ag.i[a, K.I_X]
    y = ag.i[a, K.I_Y]
    best = -1
    best_score = -1.0
    for _ in range(_CANDIDATES):
        i = randint(rng, geo.n_off[k])
        c = K._cell(x, y, offs[i, 0], offs[i, 1], geo.width, geo.height, geo.torus)
        if c < 0 or occ[c] >= 0:
            continue
        cx = c // geo.height
        cy = c % geo.height
        score = lay.f[K.L_VIOLENCE, cx, cy] + lay.f[K.L_TIP_REACH, cx, cy] + 1e-3 * uniform(rng)
        if score > best_score:
            best = c
            best_score = score
    if best >= 0:
        K._relocate(ag, grid, geo, prm, a, best)


@njit(cache=True)
def position_units(ag, grid, geo, prm, lp, lay, rng, perm, meta, hot_cell):
    """Every peacekeeping unit, in random order, moves as its role says."""
    ai = ag.i
    n = K.shuffled_slots(ai, meta[K.META_HIGH], K.PEACEKEEPER, perm, rng)
    for i in range(n):
        a = perm[i]
        role = ai[a, K.I_ROLE]
        if role == K.PATROL:
            _patrol(ag, grid, geo, prm, lp, lay, rng, a)
        elif role == K.RAPID_RESPONSE:
            if hot_cell >= 0:
                _step_toward(ag, grid, geo, prm, rng, a, hot_cell, lp.rr_speed)
            else:
                _patrol(ag, grid, geo, prm, lp, lay, rng, a)
        elif role == K.MENTORING:
            partner = ai[a, K.I_HOME]
            if (
                partner >= 0
                and ai[partner, K.I_ALIVE]
                and ai[partner, K.I_KIND] == K.POLICE
                and ai[partner, K.I_X] >= 0
            ):
                target = ai[partner, K.I_X] * geo.height + ai[partner, K.I_Y]
                _step_toward(ag, grid, geo, prm, rng, a, target, 3)
        elif ai[a, K.I_HOME] >= 0:  # static post, engagement settlement, DDR site
            _step_toward(ag, grid, geo, prm, rng, a, ai[a, K.I_HOME], 3)


def role_counts(n: int, shares: dict[str, float]) -> dict[str, int]:
    """Split ``n`` units over roles by largest remainder (counts sum to ``n``)."""
    raw = {r: s * n for r, s in shares.items()}
    counts = {r: int(np.floor(v)) for r, v in raw.items()}
    left = n - sum(counts.values())
    for r in sorted(raw, key=lambda r: raw[r] - counts[r], reverse=True)[:left]:
        counts[r] += 1
    return counts


def drawdown_count(n0: int, tick: int, start: int | None, ticks: int,
                   schedule: list[tuple[int, float]] | None = None) -> int:
    """Units the mission keeps at ``tick``: all before ``start``; then, with an explicit
    ``schedule`` of (ticks after start, share kept) steps, the share of the latest step
    reached; otherwise none after the drawdown, which is abrupt (``ticks`` = 0) or removes
    units linearly over ``ticks`` ticks."""
    if start is None or tick < start:
        return n0
    if schedule is not None:
        kept = 1.0
        for offset, share in schedule:
            if tick - start >= offset:
                kept = share
        return int(round(n0 * kept))
    if ticks == 0:
        return 0
    frac = min(1.0, (tick - start + 1) / ticks)
    return int(round(n0 * (1.0 - frac)))


def district_need(violence_now: np.ndarray, violence_then: np.ndarray, trust_now: np.ndarray,
                  trust_then: np.ndarray) -> np.ndarray:
    """How much each district calls for more units at an adaptive review: its rise in
    violence plus its fall in trust since the last review, each in units of its spread
    across districts (so neither signal swamps the other). Higher is worse."""
    rise = violence_now - violence_then
    fall = trust_then - trust_now
    need = np.zeros_like(rise)
    for signal in (rise, fall):
        spread = signal.std()
        if spread > 0:
            need += signal / spread
    return need


def adaptive_moves(home_district: np.ndarray, need: np.ndarray, share: float
                   ) -> list[tuple[int, int]]:
    """Which posted units an adaptive review moves, and to which district: up to ``share`` of
    them, taken from the districts of least need, sent to the districts where violence rose
    and trust fell (need > 0), the neediest first. Returns (unit index, target district)."""
    targets = [int(d) for d in np.argsort(-need, kind="stable") if need[d] > 0]
    if not targets or home_district.size == 0:
        return []
    k = int(round(share * home_district.size))
    order = np.argsort(need[home_district], kind="stable")  # least needed first
    moves = []
    for i in order[:k].tolist():
        d = targets[len(moves) % len(targets)]
        if need[home_district[i]] < need[d]:  # never toward a district in less need
            moves.append((i, d))
    return moves
