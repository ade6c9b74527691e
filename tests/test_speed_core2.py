"""The core tick's second round of speed devices give the very results of the plain code.

randint_chained (integer arithmetic) against randint (the float formula), on random draws
and on draws made to lie next to an integer boundary, where the float product rounds up;
the 128-bit multiply and the vector mask; the arrest scan over the active plane against
the reservoir scan over the occupants' rows (same cells, same draws) on bounded grids, tori
and a torus smaller than the window; the active plane against a recount from the agent
table while models run (arrests, releases on and off the grid, moves, births, deaths, the
peacekeeping layer's phases); the arrest probabilities a tick remembers against those it
computes.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from test_speed_core import WORLDS as CORE_WORLDS  # the hand-built worlds of the first core tests
from test_speed_core import _world

from sim.bench.bench import FULL_DENSITIES, FULL_SCENARIO
from sim.config.scenario import build_scenario, load_scenario
from sim.engine import layout as K
from sim.engine.grid import random_cell_where, random_marked_cell, rebuild_fields
from sim.engine.memory import MARK_LANES, mask_lanes, stack_array
from sim.engine.rng import mul_high, next_u64, randint, randint_chained, shuffle
from sim.engine.space import build_geometry, cells_in_vision
from sim.model.model import PeaceSimModel
from sim.rules.civil_violence import (
    MEMO_ACTIVES,
    MEMO_COPS,
    MEMO_SIZE,
    arrest_probability,
    arrestable,
    remembered_arrest_probability,
)

M64 = (1 << 64) - 1


def _state_giving(x: int, rng: np.random.Generator) -> np.ndarray:
    """A generator state whose next output is ``x``: xoshiro256**'s output depends on s[1]
    only (rotl(5 s1, 7) * 9, every step invertible)."""
    inv9 = pow(9, -1, 1 << 64)
    inv5 = pow(5, -1, 1 << 64)
    r = (x * inv9) & M64
    r = ((r >> 7) | (r << 57)) & M64  # rotate right by 7
    s1 = (r * inv5) & M64
    s = rng.integers(1, 2**63, 4, dtype=np.uint64)
    s[1] = np.uint64(s1)
    return s


@njit(cache=True)
def _draws(states, ns):
    """randint_chained and randint on copies of each state: values and states after."""
    out = np.empty((ns.size, 2), np.int64)
    after = np.empty((ns.size, 2, 4), np.uint64)
    for i in range(ns.size):
        s = states[i].copy()
        out[i, 0] = randint_chained(s, ns[i])
        after[i, 0] = s
        t = states[i].copy()
        out[i, 1] = randint(t, ns[i])
        after[i, 1] = t
    return out, after


def test_next_output_can_be_chosen():
    """The test's state maker: the state's next output is the chosen one."""
    rng = np.random.default_rng(1)
    for x in (0, 1, 2**53, M64, 0x123456789ABCDEF0):
        s = _state_giving(x, rng)
        assert int(next_u64.py_func(s.copy())) == x


def test_randint_chained_equals_randint():
    """randint_chained(s, n) == randint(s, n) == int(uniform(s) * n), one draw each: for
    random draws and n from 1 to beyond 2**32 (where the float formula is used), and for
    draws whose 53 bits m put m n / 2**53 right next to an integer, many of them where the
    rounded float product reaches the integer (the exact quotient does not): the integer
    path must hand those to the float formula."""
    rng = np.random.default_rng(3)
    n_random = 40_000
    xs = [int(v) for v in rng.integers(0, 2**63, n_random, dtype=np.uint64) * 2
          + rng.integers(0, 2, n_random, dtype=np.uint64)]
    ns = list(np.concatenate([rng.integers(1, 60, n_random // 4),
                              rng.integers(1, 30_000, n_random // 4),
                              rng.integers(1, 2**32, n_random // 4),
                              rng.integers(2**32, 2**40, n_random // 4)]).tolist())
    rounded_up = 0
    for n in list(range(1, 600)) + rng.integers(600, 2**32, 600).tolist():
        for k in rng.integers(1, n + 1, 4).tolist() if n > 1 else [1]:
            m0 = (k << 53) // n
            for m in range(m0 - 2, m0 + 3):
                if 0 <= m < 2**53:
                    x = (m << 11) | int(rng.integers(0, 2048))
                    xs.append(x)
                    ns.append(n)
                    exact = (m * n) >> 53
                    rounded_up += int(float(m) * 2.0**-53 * n) != exact
    assert rounded_up > 100  # the float formula's round-ups are among the cases
    states = np.stack([_state_giving(x, rng) for x in xs])
    got, after = _draws(states, np.array(ns, np.int64))
    assert np.array_equal(got[:, 0], got[:, 1])
    assert np.array_equal(after[:, 0], after[:, 1])
    want = [int(float(x >> 11) * 2.0**-53 * n) for x, n in zip(xs[:2000], ns[:2000],
                                                                 strict=True)]
    assert got[:2000, 0].tolist() == want  # and that is Python's float formula


@njit(cache=True)
def _mul_high(a, b):
    out = np.empty(a.size, np.uint64)
    for i in range(a.size):
        out[i] = mul_high(a[i], b[i])
    return out


def test_mul_high_is_the_high_word_of_the_product():
    rng = np.random.default_rng(4)
    a = rng.integers(0, 2**63, 5000, dtype=np.uint64) * 2 + 1
    b = np.concatenate([rng.integers(0, 2**63, 4996, dtype=np.uint64),
                        np.array([0, 1, 2**63, 2**64 - 1], np.uint64)])
    got = _mul_high(a, b)
    want = [(int(x) * int(y)) >> 64 for x, y in zip(a, b, strict=True)]
    assert [int(v) for v in got] == want


@njit(cache=True)
def _masks(arr, starts, ms):
    out = np.empty(starts.size, np.int64)
    for i in range(starts.size):
        out[i] = mask_lanes(arr, starts[i], ms[i])
    return out


def test_mask_lanes_flags_the_nonzero_cells_of_a_span():
    rng = np.random.default_rng(5)
    arr = (rng.random(300) < 0.3).astype(np.int8) * rng.integers(1, 127, 300).astype(np.int8)
    arr[rng.random(300) < 0.05] = -1
    starts = rng.integers(0, 300 - MARK_LANES + 1, 2000)
    ms = rng.integers(0, MARK_LANES + 1, 2000)
    got = _masks(arr, starts, ms)
    for g, s, m in zip(got.tolist(), starts.tolist(), ms.tolist(), strict=True):
        assert g == sum(1 << i for i in range(m) if arr[s + i] != 0)


@njit(cache=True)
def _shuffled(perm, n, state):
    shuffle(perm, n, state)


@njit(cache=True)
def _shuffled_by_randint(perm, n, state):
    for i in range(n - 1, 0, -1):
        j = randint(state, i + 1)
        perm[i], perm[j] = perm[j], perm[i]


def test_shuffle_makes_randints_draws():
    """The activation order is Fisher-Yates with randint, draw for draw."""
    for n in (0, 1, 2, 17, 5000):
        a = np.arange(n + 3, dtype=np.int32)
        b = a.copy()
        sa = np.array([9, 8, 7, 6], np.uint64)
        sb = sa.copy()
        _shuffled(a, n, sa)
        _shuffled_by_randint(b, n, sb)
        assert np.array_equal(a, b) and np.array_equal(sa, sb)


WORLDS = [*CORE_WORLDS, (40, 40, False, "moore", 9, 8)]  # + runs longer than one vector


@njit(cache=True)
def _both_scans(occ, active, ai, geo, prm, state, x, y, k, stop):
    s1 = state.copy()
    want = random_cell_where(occ, ai, geo.offsets, geo.flat, geo.n_off, geo.reach, geo.width,
                             geo.height, geo.torus, s1, x, y, k, arrestable, 0, prm, stop)[0]
    s2 = state.copy()
    got = random_marked_cell(active, geo.offsets, geo.flat, geo.n_off, geo.reach, geo.runs,
                             geo.n_runs, geo.width, geo.height, geo.torus, s2, x, y, k, stop)
    return want, got, s1, s2


@pytest.mark.parametrize(("width", "height", "torus", "shape", "res_vision", "cop_vision"),
                         WORLDS)
def test_arrest_scan_over_the_active_plane_equals_the_scan_over_the_rows(
        width, height, torus, shape, res_vision, cop_vision):
    """From every cell, for every vision class, with and without the count of actives to stop
    at: the same cell and the same generator state as random_cell_where with arrestable,
    in worlds where few, some and most cells hold an active resident (and police, jailed
    and quiescent residents that must not be picked)."""
    m = _world(width, height, torus, shape, res_vision, cop_vision)
    ai, geo, prm = m.ag.i, m.geometry, m.params
    radii = build_geometry(m.scenario_config)[1]
    n = width * height
    occ = m.cells.occ.reshape(-1)
    active = m.cells.active.reshape(-1)
    rng = np.random.default_rng(n)
    state = np.array([3, 1, 4, 1], np.uint64)
    picked = 0
    for share in (0.02, 0.3, 0.9):
        occ[:] = -1
        cells = rng.permutation(n)[: int(0.8 * n)]
        for slot, c in enumerate(cells.tolist()):
            ai[slot, K.I_KIND] = K.POLICE if rng.random() < 0.1 else K.RESIDENT
            ai[slot, K.I_STATE] = (K.ACTIVE if rng.random() < share
                                   else rng.choice([K.QUIESCENT, K.JAILED]))
            occ[c] = slot
        active[:] = [0 if b < 0 else arrestable(b, ai[b, K.I_KIND], ai[b, K.I_STATE], 0, 0, 0, 0,
                                                prm) for b in occ.tolist()]
        for x in range(width):
            for y in range(height):
                for k in range(geo.n_vision):
                    seen = cells_in_vision(x, y, shape, radii[k], width, height, torus)
                    count = sum(int(active[cx * height + cy]) for cx, cy in seen)
                    for stop in (0, count):
                        want, got, s1, s2 = _both_scans(occ, active, ai, geo, prm, state, x, y,
                                                        k, stop)
                        assert got == want and np.array_equal(s1, s2), (share, x, y, k, stop)
                        assert (want >= 0) == (count > 0)
                    picked += want >= 0
                    state = s1
    assert picked > 0


def _marks_from_scratch(m: PeaceSimModel) -> np.ndarray:
    ai = m.ag.i
    want = np.zeros((m.width, m.height), np.int8)
    for a in range(int(m.meta[K.META_HIGH])):
        if ai[a, K.I_ALIVE] and ai[a, K.I_X] >= 0:
            want[ai[a, K.I_X], ai[a, K.I_Y]] = (ai[a, K.I_KIND] == K.RESIDENT
                                                and ai[a, K.I_STATE] == K.ACTIVE)
    return want


@pytest.mark.parametrize("case", ["epstein_on_cell", "epstein_off_grid_births",
                                  "peacekeeping"])
def test_active_plane_stays_in_step_while_models_run(case):
    """After every tick the plane marks exactly the cells of active residents: through the
    core's moves, decisions, arrests and releases (jailed on the cell or off the grid),
    births and deaths (Model II), and the peacekeeping layer's phases; and rebuild_fields
    (set-up and check_invariants) makes the same plane."""
    if case == "peacekeeping":
        sc = load_scenario(FULL_SCENARIO, {"world.width": 30, "world.height": 30,
                                           **FULL_DENSITIES})
    else:
        jail = "on_cell" if case == "epstein_on_cell" else "off_grid"
        data = {
            "world": {"width": 25, "height": 21, "torus": case != "epstein_on_cell"},
            "residents": {"density": 0.7, "vision": 4,
                          **({"max_age": 40, "p_clone": 0.05} if "births" in case else {})},
            "police": {"density": 0.05, "vision": 3},
            "unrest": {"legitimacy": 0.6, "jail": jail, "max_jail_term": 5},
        }
        sc = build_scenario(data)
    m = PeaceSimModel(sc, seed=2)
    seen_active = 0
    arrests = 0
    for _ in range(25):
        m.step()
        assert np.array_equal(m.cells.active, _marks_from_scratch(m))
        seen_active += int(m.cells.active.sum())
        arrests += int(m.events[K.EV_ARRESTS])
    before = m.cells.active.copy()
    rebuild_fields(m.ag, m.cells, m.geometry, m.params)
    assert np.array_equal(m.cells.active, before)
    m.check_invariants()
    assert seen_active > 0 and arrests > 0


@njit(cache=True)
def _remembered(cops, actives, prm):
    memo = stack_array(MEMO_SIZE)
    memo[:] = -1.0
    out = np.empty((cops.size, 3))
    for i in range(cops.size):
        out[i, 0] = remembered_arrest_probability(cops[i], actives[i], prm, memo)
        out[i, 1] = remembered_arrest_probability(cops[i], actives[i], prm, memo)  # memo
        out[i, 2] = arrest_probability(cops[i], actives[i], prm.unrest_arrest_constant,
                                       prm.unrest_arrest_ratio)
    return out, memo.size


@pytest.mark.parametrize("rule", ["floor", "round", "exact"])
def test_remembered_arrest_probability_is_the_computed_one(rule):
    """Computed, then read back from the tick's memo, then computed again: the same bits,
    for every pair of counts inside the memo and pairs beyond it."""
    sc = build_scenario({"unrest": {"arrest_ratio": rule, "arrest_constant": 2.3}})
    prm = PeaceSimModel(sc, seed=0).params
    c, a = np.meshgrid(np.arange(MEMO_COPS + 3), np.arange(1, MEMO_ACTIVES + 3), indexing="ij")
    cops = c.ravel().astype(np.int32)
    actives = a.ravel().astype(np.int64)
    out, size = _remembered(cops, actives, prm)
    assert size == MEMO_SIZE
    assert np.array_equal(out[:, 0], out[:, 2]) and np.array_equal(out[:, 1], out[:, 2])
    assert len(set(out[:, 2].tolist())) > 10
