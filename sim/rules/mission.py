"""The mission (ODD 7.14-7.15): how the force is split by role, how it draws down, and the
adaptive review that re-posts units.

Plain Python (the timeline runs in Python once a tick, drawing from the set-up generator):
:class:`sim.model.layer.PeacekeepingLayer` calls these at deployment, during the drawdown and
at each review.
"""

from __future__ import annotations

import numpy as np


def role_counts(n: int, shares: dict[str, float]) -> dict[str, int]:
    """ODD 7.14, deployment: ``n`` units split over roles by ``strategy.roles`` shares, by
    largest remainder (counts sum to ``n``; ties in role order)."""
    raw = {r: s * n for r, s in shares.items()}
    counts = {r: int(np.floor(v)) for r, v in raw.items()}
    left = n - sum(counts.values())
    for r in sorted(raw, key=lambda r: raw[r] - counts[r], reverse=True)[:left]:
        counts[r] += 1
    return counts


def drawdown_count(n0: int, tick: int, start: int | None, ticks: int,
                   schedule: list[tuple[int, float]] | None = None) -> int:
    """ODD 7.14, drawdown: units the mission keeps at ``tick``: all before ``start``; then,
    with an explicit ``schedule`` of (ticks after start, share kept) steps, the share of the
    latest step reached; otherwise none after the drawdown, which is abrupt (``ticks`` = 0)
    or removes units linearly over ``ticks`` ticks."""
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
    """ODD 7.15: how much each district calls for more units at an adaptive review: its rise
    in violence plus its fall in trust since the last review, each in units of its spread
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
    """ODD 7.15: which posted units an adaptive review moves, and to which district: up to
    ``share`` of them, taken from the districts of least need, sent to the districts where
    violence rose and trust fell (need > 0), the neediest first. Returns (unit index, target
    district)."""
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
