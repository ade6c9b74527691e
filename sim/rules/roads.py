"""Roads: infrastructure as access (ODD 7.24).

A road network links each settlement to its nearest ones (:func:`build_roads`, at set-up).
Each road cell has a quality in [0, 1] (the ``road`` layer). Roads change mobility and trade:
a rapid-response unit standing on a road reaches farther (:func:`rr_reach`), and the economy
is carried along roads from cell to cell (:func:`diffuse_along_roads`), so markets spread
their activity along them. Violence damages roads and programmes rebuild them
(:func:`road_quality_step`). With ``mechanisms.roads`` off the roads are there but do
nothing.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.rules.environment import clip01


@njit(inline="always", cache=True)
def rr_reach(quality, prm):
    """ODD 7.24: cells a rapid-response unit moves this tick, ``strategy.rr_speed`` +
    round(``roads.rr_bonus`` x quality) when it stands on a road (quality > 0) and
    ``mechanisms.roads`` is on, else ``rr_speed``."""
    if quality > 0.0 and prm.mechanisms_roads:
        return prm.strategy_rr_speed + int(round(prm.roads_rr_bonus * quality))
    return prm.strategy_rr_speed


@njit(inline="always", cache=True)
def road_quality_step(quality, violence, programme, prm):
    """ODD 7.24: a road cell's quality q += ``rebuild_rate`` programme (1 - q)
    exp(-V / ``economy.calm_scale``) (programmes rebuild where it is calm), then
    q -= ``damage_rate`` min(V, 1) q (violence damages), clipped to [0, 1]."""
    quality += prm.roads_rebuild_rate * programme * (1.0 - quality) * np.exp(
        -violence / prm.economy_calm_scale)
    quality -= prm.roads_damage_rate * min(violence, 1.0) * quality
    return clip01(quality)


@njit(cache=True, _nrt=False)
def diffuse_along_roads(economy, quality, roads, road_nbr, tmp, prm):
    """ODD 7.24: the economy is carried along roads: every road cell's E moves by
    ``roads.diffusion`` x its quality toward the mean E of its road neighbours (the road
    cells among its four neighbours), all from the same snapshot (``economy``, ``quality``:
    flat views of the cells; ``tmp``: one value per road cell)."""
    rate = prm.roads_diffusion
    for i in range(roads.size):
        r = roads[i]
        total = 0.0
        n = 0
        for k in range(4):
            j = road_nbr[i, k]
            if j >= 0:
                total += economy[roads[j]]
                n += 1
        e = economy[r]
        tmp[i] = e + rate * quality[r] * (total / n - e) if n > 0 else e
    for i in range(roads.size):
        economy[roads[i]] = tmp[i]


def _line(a: int, b: int, n: int, torus: bool) -> list[int]:
    """Coordinates from a to b inclusive, one step at a time (the short way round on a
    torus)."""
    d = b - a
    if torus and abs(d) > n // 2:
        d = d - n if d > 0 else d + n
    step = 1 if d >= 0 else -1
    return [(a + step * i) % n for i in range(abs(d) + 1)]


def build_roads(markets: np.ndarray, width: int, height: int, torus: bool, links: int,
                max_length: int) -> tuple[np.ndarray, np.ndarray]:
    """ODD 7.24, set-up: each settlement (flat cells ``markets``) is linked to its ``links``
    nearest settlements (Chebyshev distance, ties by cell order) no farther than
    ``max_length``, by an L-shaped road: along x from the first, then along y to the second.
    Returns the road cells (flat, ascending) and, for each, the rows of its road neighbours
    among its four neighbours (-1 where there is none). No links: no roads."""
    cells: set[int] = set()
    xs, ys = markets // height, markets % height
    for i in range(markets.size if links > 0 else 0):
        dx = np.abs(xs - xs[i])
        dy = np.abs(ys - ys[i])
        if torus:
            dx = np.minimum(dx, width - dx)
            dy = np.minimum(dy, height - dy)
        d = np.maximum(dx, dy)
        d[i] = max_length + 1
        for j in np.argsort(d, kind="stable")[:links].tolist():
            if d[j] > max_length:
                break
            x0, y0, x1, y1 = int(xs[i]), int(ys[i]), int(xs[j]), int(ys[j])
            cells.update(x * height + y0 for x in _line(x0, x1, width, torus))
            cells.update(x1 * height + y for y in _line(y0, y1, height, torus))
    roads = np.array(sorted(cells), np.int64)
    row = {c: k for k, c in enumerate(roads.tolist())}
    nbr = np.full((roads.size, 4), -1, np.int64)
    for k, c in enumerate(roads.tolist()):
        x, y = divmod(c, height)
        for q, (nx, ny) in enumerate(((x - 1, y), (x, y - 1), (x, y + 1), (x + 1, y))):
            if torus:
                nx, ny = nx % width, ny % height
            elif not (0 <= nx < width and 0 <= ny < height):
                continue
            nbr[k, q] = row.get(nx * height + ny, -1)
    return roads, nbr
