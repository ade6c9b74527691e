"""The engine's shortcuts for speed give the very results of the plain code (issue 12).

Each shortcut is checked against the code it replaces, bit for bit: the sparse box sums
against the dense sliding-window passes, the fast moves against leaving one cell and entering
another, the remembered kinds of parameter tuples against working them out; and the bench's
per-phase timer against stepping the model normally.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

from sim.bench.bench import (
    FULL_DENSITIES,
    FULL_SCENARIO,
    _scenario,
    full_versus_mesa,
    time_beside_mesa,
)
from sim.bench.phases import PHASES, PhaseTimer
from sim.engine import layout as K
from sim.engine.calls import _kind, _scalar_tuples, call
from sim.engine.fields import _box_sum_dense, box_sum_work
from sim.engine.grid import (
    enter,
    leave,
    move_in_vision,
    random_empty_in_vision,
    relocate,
    set_state,
)
from sim.model.model import PeaceSimModel


def _planes(w: int, h: int, rng: np.random.Generator):
    """Planes of every kind a tick sums: empty, a few events, sparse and dense counts,
    weights, floats, a half-filled plane, and the awkward values (NaN, inf, -0.0, huge)."""
    z = np.zeros((w, h))
    yield "zero", z.copy()
    for dens in (0.0005, 0.003, 0.03, 0.3, 1.0):
        mask = rng.random((w, h)) < dens
        p = z.copy()
        p[mask] = 1.0
        yield f"ones {dens}", p
        p = z.copy()
        p[mask] = rng.integers(-5, 6, mask.sum())
        yield f"integers {dens}", p
        p = z.copy()
        p[mask] = rng.random(mask.sum())
        yield f"floats {dens}", p
        p = z.copy()
        p[mask] = np.where(rng.random(mask.sum()) < 0.9, 1.0, 0.3)
        yield f"mostly integers {dens}", p
    p = z.copy()
    p[w // 2:, :] = rng.random((w - w // 2, h))
    yield "lower half", p
    p = z.copy()
    p[3 % w, 4 % h] = np.nan
    p[1 % w, 1 % h] = 1.0
    yield "nan", p
    p = z.copy()
    p[2 % w, 2 % h] = np.inf
    yield "inf", p
    p = z.copy()
    p[1 % w, 1 % h] = -0.0
    p[5 % w, 5 % h] = 1.0
    yield "negative zero", p
    p = z.copy()
    p[0, 0] = 2.0**40
    p[1 % w, 1 % h] = 1.0
    yield "large integer", p
    p = z.copy()
    p[rng.random((w, h)) < 0.01] = 2.0**19
    yield "integers near the limit", p


@pytest.mark.parametrize(("w", "h"), [(60, 60), (30, 30), (7, 13), (13, 7), (1, 5), (40, 3)])
def test_box_sums_are_bit_identical_to_the_dense_passes(w, h):
    rng = np.random.default_rng(w * 100 + h)
    for torus in (False, True):
        for r in (1, 2, 4, 6, 10, 20):
            for name, f in _planes(w, h, rng):
                want = np.empty((w, h))
                _box_sum_dense(f, r, torus, want, np.empty((w, h)), np.zeros(h))
                got = np.empty((w, h))
                box_sum_work(f, r, torus, got, np.empty((w, h)), np.zeros(h))
                same = f.copy()  # in place, as the event planes are summed
                box_sum_work(same, r, torus, same, np.empty((w, h)), np.zeros(h))
                assert got.tobytes() == want.tobytes(), (name, torus, r)
                assert same.tobytes() == want.tobytes(), (name, torus, r)


def test_the_sparse_box_sum_differs_from_a_naive_one_where_the_dense_passes_do():
    """The check above can fail: floats summed in another order differ in the last bits,
    and box_sum_work must reproduce the sliding passes' bits, not the true sums."""
    rng = np.random.default_rng(5)
    f = np.where(rng.random((40, 40)) < 0.05, rng.random((40, 40)), 0.0)
    want = np.empty_like(f)
    _box_sum_dense(f, 4, False, want, np.empty_like(f), np.zeros(40))
    naive = np.array([[f[max(x - 4, 0):x + 5, max(y - 4, 0):y + 5].sum() for y in range(40)]
                      for x in range(40)])
    assert not np.array_equal(naive, want)  # rounding differs: the order matters
    got = np.empty_like(f)
    box_sum_work(f, 4, False, got, np.empty_like(f), np.zeros(40))
    assert got.tobytes() == want.tobytes()


def _model(size: int = 30, **extra) -> PeaceSimModel:
    model = PeaceSimModel(_scenario(size, FULL_SCENARIO, {**FULL_DENSITIES, **extra}), seed=3)
    for _ in range(3):
        model.step()
    return model


def _state(model: PeaceSimModel) -> list[np.ndarray]:
    return [model.ag.i.copy(), model.ag.f.copy(), model.cells.occ.copy(),
            model.cells.fields.copy(), model.rng_state.copy()]


def _restore(model: PeaceSimModel, state: list[np.ndarray]) -> None:
    for dst, src in zip([model.ag.i, model.ag.f, model.cells.occ, model.cells.fields,
                         model.rng_state], state, strict=True):
        dst[...] = src


@pytest.mark.parametrize("pk_cops", [False, True])
def test_moves_equal_leaving_one_cell_and_entering_another(pk_cops):
    """relocate and move_in_vision skip leave/enter for agents that feed no vision field;
    for every kind and state (active residents and cops do feed one) the tables and the
    fields must end as leave + enter leave them."""
    m = _model(**{"peacekeepers.act_as_cops": pk_cops})
    args = (m.ag, m.cells, m.geometry, m.params)
    ai = m.ag.i
    high = int(m.meta[K.META_HIGH])
    live = [a for a in range(high) if ai[a, K.I_ALIVE] and ai[a, K.I_X] >= 0]
    # some residents active, so that the active fields must move with them
    res = [a for a in live if ai[a, K.I_KIND] == K.RESIDENT][:20]
    for a in res[::2]:
        call(set_state, m.ag, m.cells, m.geometry, a, K.ACTIVE)
    start = _state(m)
    kinds = {ai[a, K.I_KIND] for a in live}
    assert {K.RESIDENT, K.POLICE, K.PEACEKEEPER, K.COMBATANT} <= kinds
    movers = []
    for kind in (K.RESIDENT, K.POLICE, K.PEACEKEEPER, K.COMBATANT):
        movers += [a for a in live if ai[a, K.I_KIND] == kind][:10]
    movers += res[:10]
    empty = np.flatnonzero(m.cells.occ.reshape(-1) < 0)
    assert empty.size > len(movers)
    for a, c in zip(movers, empty.tolist(), strict=False):
        _restore(m, start)
        call(relocate, *args, a, c)
        fast = _state(m)
        _restore(m, start)
        call(leave, *args, a)
        call(enter, *args, a, c // m.height, c % m.height)
        slow = _state(m)
        for got, want in zip(fast, slow, strict=True):
            assert np.array_equal(got, want), (a, int(ai[a, K.I_KIND]))
    # move_in_vision: the same draws, the same cell, the same fields
    for a in movers:
        _restore(m, start)
        call(move_in_vision, *args, m.rng_state, a)
        fast = _state(m)
        _restore(m, start)
        c = call(random_empty_in_vision, ai, m.cells.occ.reshape(-1), m.geometry, m.rng_state,
                 int(ai[a, K.I_X]), int(ai[a, K.I_Y]), int(ai[a, K.I_VCLASS]))
        if c >= 0:
            call(leave, *args, a)
            call(enter, *args, a, c // m.height, c % m.height)
        slow = _state(m)
        for got, want in zip(fast, slow, strict=True):
            assert np.array_equal(got, want), (a, int(ai[a, K.I_KIND]))


def test_kinds_of_scalar_tuples_are_remembered_and_of_array_tuples_recomputed():
    P = namedtuple("P", "a b c")
    p = P(1, 2.0, True)
    first = _kind(p)
    assert _scalar_tuples[id(p)][0] is p
    assert _kind(p) == first == (P, (int, float, bool))
    q = P(1, 2, True)  # another tuple, other member types: another kind
    assert _kind(q) != first
    arr = np.zeros(3)
    t = P(arr, 1, 2)
    before = _kind(t)
    assert id(t) not in _scalar_tuples  # holds an array: never remembered
    arr.flags.writeable = False
    assert _kind(t) != before  # a read-only array must find another compiled version


def test_the_phase_timer_steps_the_model_exactly_as_a_tick_does():
    """sim.bench.phases calls the layer's phases one by one; the model must end where the
    single kernel call leaves it (this also fails if a phase is added to layer_tick and
    not to the timer)."""
    plain = _model()
    timed = _model()
    timer = PhaseTimer(timed)
    for _ in range(12):
        plain.step()
    timer.step(12)
    for got, want in zip(_state(timed), _state(plain), strict=True):
        assert np.array_equal(got, want)
    assert np.array_equal(timed.layer.lay.f, plain.layer.lay.f)
    assert timed.metrics == plain.metrics
    ms = timer.ms_per_tick()
    assert all(ms[p] > 0 for p in PHASES) and ms["tick (total)"] >= sum(ms[p] for p in PHASES)


def test_full_model_beside_mesa_takes_the_median_of_paired_ratios():
    lines: list[str] = []
    samples = [{"mesa_cpu_ms": 300.0, "full_cpu_ms": ms, "mesa_wall_ms": 310.0,
                "full_wall_ms": ms} for ms in (1.0, 1.5, 2.0, 2.5, 30.0)]
    row = full_versus_mesa(100, samples, lines.append)
    assert row["speed_up"] == pytest.approx(150.0) and row["pass"]
    assert row["speed_up_spread"]["min"] == pytest.approx(10.0)
    assert row["speed_up_spread"]["max"] == pytest.approx(300.0)
    assert any("PASS" in line for line in lines)
    samples[2]["full_cpu_ms"] = 2.1  # the median pair now falls short of 150x
    row = full_versus_mesa(100, samples, lines.append)
    assert not row["pass"] and "FAIL" in lines[-1]


def test_full_model_and_mesa_are_timed_in_turns_after_the_same_ticks():
    samples = time_beside_mesa(20, blocks=3, per_block=2, reps=1, seed=1, skip=1)
    assert len(samples) == 3
    for s in samples:
        assert all(s[k] > 0 for k in ("mesa_cpu_ms", "full_cpu_ms", "mesa_wall_ms",
                                      "full_wall_ms"))
