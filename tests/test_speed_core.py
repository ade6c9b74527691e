"""The core tick's speed devices give the very results of the plain code (issue 12).

Vector span additions against element-by-element loops; the vision-window updates of the
fields (runs of cells, vector spans, the interior shortcut) against a recount from the cell
sets of :func:`sim.engine.space.cells_in_vision`, on bounded grids, tori and a torus smaller
than the window; the reservoir scan that stops at the last qualifying cell against the full
scan (same picks, same draws).
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from sim.config.scenario import build_scenario
from sim.engine import layout as K
from sim.engine.grid import (
    active_add,
    cop_add,
    is_empty,
    random_cell_where,
    random_empty_scan,
)
from sim.engine.memory import LANES, add_span
from sim.engine.space import build_geometry, cells_in_vision
from sim.model.model import PeaceSimModel
from sim.rules.civil_violence import arrestable


@njit(cache=True)
def _spans(arr, starts, counts, deltas):
    for q in range(starts.size):
        add_span(arr, starts[q], counts[q], deltas[q])


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_span_additions_equal_element_by_element_loops(dtype):
    """Spans of every length up to a few vectors, anywhere (the last cells of the array
    too, where a whole vector would not fit), on a flat array and on a row of a table: the
    cells outside each span, the rows around the table's row included, keep their values."""
    rng = np.random.default_rng(5)
    for size in (1, 15, LANES, LANES + 1, 100, 1000):
        arr = rng.integers(-50, 50, size).astype(dtype)
        want = arr.copy()
        starts = np.concatenate([np.arange(size), rng.integers(0, size, 400)])  # every start
        counts = np.minimum(rng.integers(0, 3 * LANES + 2, starts.size), size - starts)
        deltas = rng.integers(-3, 4, starts.size)
        for s, n, d in zip(starts, counts, deltas, strict=True):
            want[s:s + n] += d
        _spans(arr, starts, counts, deltas)
        assert np.array_equal(arr, want), size
    table = rng.integers(-9, 9, (3, 37)).astype(dtype)
    want = table.copy()
    row = table[1]
    starts = np.arange(37)
    counts = 37 - starts
    deltas = np.ones(37, np.int64)
    _spans(row, starts, counts, deltas)
    for s in range(37):
        want[1, s:] += 1
    assert np.array_equal(table, want)


def _world(width: int, height: int, torus: bool, shape: str, res_vision: int,
           cop_vision: int) -> PeaceSimModel:
    data = {
        "world": {"width": width, "height": height, "torus": torus, "vision_shape": shape},
        "residents": {"density": 0.0, "vision": res_vision},
        "police": {"density": 0.0, "vision": cop_vision},
        "unrest": {"movement": False, "legitimacy": 0.0},
    }
    return PeaceSimModel(build_scenario(data), seed=0)


WORLDS = [
    (20, 17, False, "moore", 6, 3),
    (20, 17, True, "moore", 6, 3),
    (30, 30, True, "von_neumann", 7, 7),
    (30, 30, False, "von_neumann", 7, 2),
    (25, 19, False, "radius", 5, 4),
    (25, 19, True, "lateral", 4, 6),
    (7, 5, True, "moore", 4, 6),  # a torus smaller than the window: merged offsets
    (6, 9, True, "von_neumann", 5, 2),
    (4, 4, False, "radius", 6, 1),
]


@pytest.mark.parametrize(("width", "height", "torus", "shape", "res_vision", "cop_vision"),
                         WORLDS)
def test_window_updates_equal_a_recount_of_the_cells_in_vision(width, height, torus, shape,
                                                               res_vision, cop_vision):
    """cop_add and active_add (the fields' window updates the arrests, releases, births and
    set-up use, on the runs the core tick uses) add at every cell that sees the agent and
    nowhere else, whatever the grid's edges, for every position of the grid."""
    m = _world(width, height, torus, shape, res_vision, cop_vision)
    grid, geo = m.cells, m.geometry
    radii = build_geometry(m.scenario_config)[1]
    assert geo.n_vision == len(radii) and {res_vision, cop_vision} <= set(radii)
    rng = np.random.default_rng(width * height)
    want = np.zeros_like(grid.fields)
    for x in range(width):
        for y in range(height):
            for _ in range(2):
                row = int(rng.integers(0, 1 + geo.n_vision))
                delta = int(rng.integers(-2, 3))
                if row == 0:
                    cop_add(grid, geo, x, y, delta)
                    seen = {0: cells_in_vision(x, y, shape, res_vision, width, height, torus)}
                else:
                    active_add(grid, geo, x, y, delta)
                    seen = {k: cells_in_vision(x, y, shape, r, width, height, torus)
                            for k, r in enumerate(radii) if geo.track[k]}
                    seen = {1 + k: cells for k, cells in seen.items()}
                for plane, cells in seen.items():
                    for cx, cy in cells:
                        want[plane, cx, cy] += delta
                assert np.array_equal(grid.fields, want), (x, y, row)
    assert want.any()


@njit(cache=True)
def _scan(occ, ai, geo, rng, x, y, k, arrest, a, prm, stop):
    if arrest:
        return random_cell_where(occ, ai, geo.offsets, geo.flat, geo.n_off, geo.reach,
                                 geo.width, geo.height, geo.torus, rng, x, y, k, arrestable, a,
                                 prm, stop)
    return random_cell_where(occ, ai, geo.offsets, geo.flat, geo.n_off, geo.reach, geo.width,
                             geo.height, geo.torus, rng, x, y, k, is_empty, a, prm, stop)


@njit(cache=True)
def _empty_scan(occ, geo, rng, x, y, k):
    return random_empty_scan(occ, geo.offsets, geo.flat, geo.n_off, geo.reach, geo.width,
                             geo.height, geo.torus, rng, x, y, k)


@pytest.mark.parametrize(("width", "height", "torus", "shape", "res_vision", "cop_vision"),
                         WORLDS)
def test_three_pass_empty_scan_equals_the_reservoir_scan(width, height, torus, shape,
                                                         res_vision, cop_vision):
    """random_empty_scan (count, draw, walk) picks the cell the one-pass reservoir scan picks
    and leaves the generator where it leaves it, from every cell of worlds from empty to full
    (the fallback of every move in a crowded neighbourhood)."""
    m = _world(width, height, torus, shape, res_vision, cop_vision)
    ai, geo, prm = m.ag.i, m.geometry, m.params
    occ = m.cells.occ.reshape(-1)
    rng = np.random.default_rng(7)
    state = np.array([5, 6, 7, 8], np.uint64)
    picked = 0
    for fill in (0.0, 0.5, 0.9, 0.98, 1.0):
        occ[:] = np.where(rng.random(occ.size) < fill, 0, -1)
        ai[0, K.I_KIND] = K.RESIDENT
        for x in range(width):
            for y in range(height):
                for k in range(geo.n_vision):
                    want_rng = state.copy()
                    want = _scan(occ, ai, geo, want_rng, x, y, k, False, -1, prm, 0)[0]
                    got_rng = state.copy()
                    got = _empty_scan(occ, geo, got_rng, x, y, k)
                    assert got == want and np.array_equal(got_rng, want_rng), (fill, x, y, k)
                    picked += want >= 0
                    state = want_rng
    assert picked > 0


@pytest.mark.parametrize("torus", [False, True])
def test_scan_that_stops_at_the_last_qualifying_cell_equals_the_full_scan(torus):
    """Told how many cells qualify (the active field's count, for an arrest), the reservoir
    scan stops at the last of them: the same cell is picked and the same draws are made, for
    every cell of a world with actives scattered about (few and many)."""
    m = _world(15, 12, torus, "moore", 3, 3)
    ai, geo, prm = m.ag.i, m.geometry, m.params
    rng = np.random.default_rng(2)
    occ = m.cells.occ.reshape(-1)
    cells = rng.permutation(15 * 12)[:120]
    for slot, c in enumerate(cells.tolist()):
        ai[slot, K.I_ALIVE] = 1
        ai[slot, K.I_KIND] = K.RESIDENT if slot % 5 else K.POLICE
        ai[slot, K.I_STATE] = K.ACTIVE if rng.random() < 0.3 else K.QUIESCENT
        occ[c] = slot
    state = np.array([11, 22, 33, 44], np.uint64)
    checked = 0
    for x in range(15):
        for y in range(12):
            seen = cells_in_vision(x, y, "moore", 3, 15, 12, torus)
            actives = sum(1 for cx, cy in seen if occ[cx * 12 + cy] >= 0
                          and ai[occ[cx * 12 + cy], K.I_STATE] == K.ACTIVE
                          and ai[occ[cx * 12 + cy], K.I_KIND] == K.RESIDENT)
            empties = sum(1 for cx, cy in seen if occ[cx * 12 + cy] < 0)
            for arrest, count in ((True, actives), (False, empties)):
                full_rng = state.copy()
                want = _scan(occ, ai, geo, full_rng, x, y, 0, arrest, 0, prm, 0)
                stop_rng = state.copy()
                got = _scan(occ, ai, geo, stop_rng, x, y, 0, arrest, 0, prm, count)
                assert got == want and np.array_equal(stop_rng, full_rng), (x, y, arrest)
                if count == 0:
                    assert want[0] == -1
                else:
                    checked += 1
                    assert not np.array_equal(full_rng, state)  # draws were made
                state = full_rng
    assert checked > 100
