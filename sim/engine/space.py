"""Neighbourhoods as lists of cell offsets (ODD 2 and 7.1: what an agent sees).

A neighbourhood is the set of offsets ``(dx, dy)`` an agent at ``(x, y)`` sees, never
including its own cell. Kernels walk these lists; on a small torus, offsets that wrap onto
the same cell are merged so that every cell is seen once (as Mesa's cell neighbourhoods do).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.engine.layout import Geometry

if TYPE_CHECKING:
    from sim.config.scenario import Scenario

VISION_SHAPES = ("von_neumann", "moore", "lateral", "radius")


def vision_offsets(
    shape: str, radius: int, width: int, height: int, torus: bool
) -> np.ndarray:
    """Offsets ``(dx, dy)`` of the cells within ``radius`` under ``shape`` (int32, n x 2).

    von_neumann: |dx| + |dy| <= r; moore: max(|dx|, |dy|) <= r; lateral: the r cells
    north, south, east and west (Epstein 2002); radius: dx^2 + dy^2 <= r^2 (NetLogo).
    """
    if shape not in VISION_SHAPES:
        raise ValueError(f"unknown vision shape {shape!r}; allowed: {', '.join(VISION_SHAPES)}")
    r = int(radius)
    d = np.arange(-r, r + 1)
    dx, dy = (a.ravel() for a in np.meshgrid(d, d, indexing="ij"))
    if shape == "von_neumann":
        keep = np.abs(dx) + np.abs(dy) <= r
    elif shape == "moore":
        keep = np.maximum(np.abs(dx), np.abs(dy)) <= r
    elif shape == "lateral":
        keep = (dx == 0) | (dy == 0)
    else:
        keep = dx * dx + dy * dy <= r * r
    keep &= (dx != 0) | (dy != 0)
    off = np.stack([dx[keep], dy[keep]], axis=1).astype(np.int32)
    if torus:
        # merge offsets that land on the same cell of a small torus, drop those on oneself
        seen: dict[tuple[int, int], tuple[int, int]] = {}
        for ox, oy in off.tolist():
            key = (ox % width, oy % height)
            if key != (0, 0) and key not in seen:
                seen[key] = (ox, oy)
        off = np.array(list(seen.values()), dtype=np.int32).reshape(-1, 2)
    return off


def cells_in_vision(
    x: int, y: int, shape: str, radius: int, width: int, height: int, torus: bool
) -> set[tuple[int, int]]:
    """The set of cells seen from ``(x, y)``: a readable reference for tests and tools."""
    cells = set()
    for ox, oy in vision_offsets(shape, radius, width, height, torus).tolist():
        cx, cy = x + ox, y + oy
        if torus:
            cells.add((cx % width, cy % height))
        elif 0 <= cx < width and 0 <= cy < height:
            cells.add((cx, cy))
    return cells


def _runs(offsets: np.ndarray) -> list[tuple[int, int, int]]:
    """The offsets as runs ``(dx, first dy, length)`` of consecutive dy at the same dx."""
    runs: list[list[int]] = []
    for dx, dy in offsets.tolist():
        if runs and runs[-1][0] == dx and runs[-1][1] + runs[-1][2] == dy:
            runs[-1][2] += 1
        else:
            runs.append([dx, dy, 1])
    return [(r[0], r[1], r[2]) for r in runs]


def build_geometry(sc: Scenario) -> tuple[Geometry, list[int], dict[str, int]]:
    """The neighbourhoods of a scenario: one vision class per distinct vision radius (the
    residents' first), then the scan-only classes (births: Moore radius 1; an interdiction's
    harm box: Moore radius ``strategy.harm_radius``).

    Returns the geometry, the vision radii by class, and the class of each kind of agent and
    scan (``cops_class``, ``pk_class``, ``comb_class``, ``birth_class``, ``harm_class``).
    """
    w = sc.world
    peacekeeping = sc.model == "peacekeeping"
    radii = [sc.residents.vision]
    extra = (sc.armed_groups.vision,) if peacekeeping else ()
    for r in (sc.police.vision, sc.peacekeepers.vision, *extra):
        if r not in radii:
            radii.append(r)
    offs = [vision_offsets(w.vision_shape, r, w.width, w.height, w.torus) for r in radii]
    n_vision = len(offs)
    offs.append(vision_offsets("moore", 1, w.width, w.height, w.torus))
    offs.append(vision_offsets("moore", sc.strategy.harm_radius, w.width, w.height, w.torus))
    classes = {
        "cops_class": radii.index(sc.police.vision),
        "pk_class": radii.index(sc.peacekeepers.vision),
        "comb_class": radii.index(sc.armed_groups.vision) if peacekeeping else 0,
        "birth_class": n_vision,
        "harm_class": n_vision + 1,
    }
    n_max = max(len(o) for o in offs)
    table = np.zeros((len(offs), max(n_max, 1), 2), dtype=np.int32)
    for k, o in enumerate(offs):
        table[k, : len(o)] = o
    flat = table[:, :, 0].astype(np.int64) * w.height + table[:, :, 1]
    reach = np.array([np.abs(o).max() if len(o) else 0 for o in offs], dtype=np.int64)
    run_lists = [_runs(o) for o in offs]
    runs = np.zeros((len(offs), max(1, *map(len, run_lists)), 3), dtype=np.int64)
    for k, r in enumerate(run_lists):
        runs[k, : len(r)] = r
    # vision classes whose active field someone reads: residents, police, and peacekeepers
    # when they act as cops
    track = np.zeros(len(offs), np.bool_)
    track[0] = True
    track[classes["cops_class"]] = True
    if sc.peacekeepers.act_as_cops:
        track[classes["pk_class"]] = True
    geo = Geometry(
        offsets=table,
        n_off=np.array([len(o) for o in offs], dtype=np.int32),
        track=track,
        flat=flat,
        reach=reach,
        runs=runs,
        n_runs=np.array([len(r) for r in run_lists], dtype=np.int64),
        n_vision=n_vision,
        width=w.width,
        height=w.height,
        torus=w.torus,
    )
    return geo, radii, classes
