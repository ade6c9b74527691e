"""Vision neighbourhoods as lists of cell offsets.

A neighbourhood is the set of offsets ``(dx, dy)`` an agent at ``(x, y)`` sees, never
including its own cell. Kernels walk these lists; on a small torus, offsets that wrap onto
the same cell are merged so that every cell is seen once (as Mesa's cell neighbourhoods do).
"""

from __future__ import annotations

import numpy as np

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
