"""The Python side of a tick made cheaper gives what the plain code gave (issue 12).

Each shortcut is checked against the plain computation it replaces: Mesa's agent views made
when read, from the notes a tick takes, against views made every tick (computed here from
the arrays, and by the model itself when someone watches its signals), folded notes
included; the DataCollector's rows and the metrics dict made when read against reading the
metrics every tick; one census per mission timeline against a census per question; the
metrics kernel's census and view notes against :func:`~sim.engine.metrics.census` and
:func:`~sim.engine.metrics.view_changes`; the layer's metric row against the plain dict
comprehensions; and kernel lookups keyed on numba's fingerprint of a tuple of arrays.
"""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pytest
from mesa.experimental.mesa_signals import ModelSignals
from test_rules_model2 import world

import sim.model.model as model_module
from sim.config.scenario import load_scenario
from sim.engine import layout as K
from sim.engine.calls import _kind, call
from sim.engine.grid import new_agent, remove_agent
from sim.engine.metrics import census, view_changes
from sim.model import columns as C
from sim.model.agents import VIEW_CLASSES
from sim.model.model import MetricsSource, PeaceSimModel

ROOT = Path(__file__).resolve().parents[1]


def _scenario(name: str = "baseline", size: int = 24, **overrides: Any):
    """A small context with births, deaths, recruitment and reinforcements every tick."""
    over = {"world.width": size, "world.height": size, **overrides}
    return load_scenario(ROOT / "scenarios" / f"{name}.toml", overrides=over)


def _signature(model: PeaceSimModel) -> list[tuple[int, type, int, int]]:
    """Every Mesa agent, in Mesa's order: unique id, class, slot, engine uid."""
    return [(a.unique_id, type(a), a.slot, a.uid) for a in model.agents]


class _Reference:
    """Views made at every note as the plain code made them, from the arrays alone: the
    slots whose live agent (uid, or none) changed since the last note, in slot order, each
    losing its view and, if alive, getting a new one with the next unique id."""

    def __init__(self, model: PeaceSimModel, first_id: int = 1) -> None:
        self.model = model
        self.seen = np.full(model.capacity, -1, np.int64)
        self.views: dict[int, tuple[int, type, int, int]] = {}
        self.next_id = first_id
        self.note()

    def note(self) -> None:
        meta = self.model.meta  # no birth or death since the last note: no note (as ever)
        mark = (int(meta[K.META_NEXT_UID]), int(meta[K.META_FREE_TOP]))
        if mark == getattr(self, "mark", None):
            return
        self.mark = mark
        ai = self.model.arrays.i
        now = np.where(ai[:, K.I_ALIVE] != 0, ai[:, K.I_UID], -1).astype(np.int64)
        for slot in np.flatnonzero(now != self.seen).tolist():
            self.views.pop(slot, None)
            if now[slot] >= 0:
                cls = VIEW_CLASSES[int(ai[slot, K.I_KIND])]
                self.views[slot] = (self.next_id, cls, slot, int(now[slot]))
                self.next_id += 1
        self.seen = now

    def signature(self) -> list[tuple[int, type, int, int]]:
        return list(self.views.values())


def _run(model: PeaceSimModel, ticks: int, ref: _Reference | None = None) -> None:
    for _ in range(ticks):
        model.step()
        if ref is not None:
            ref.note()


@pytest.mark.parametrize("name", ["baseline", "two_communities", "epstein_model2"])
def test_views_read_after_many_ticks_are_those_made_every_tick(name):
    m = PeaceSimModel(_scenario(name), seed=4)
    ref = _Reference(m)
    born = int(m.meta[K.META_NEXT_UID])
    _run(m, 25, ref)
    assert int(m.meta[K.META_NEXT_UID]) > born  # agents were born (the views changed)
    assert m._views_pending  # nobody looked: no view made since the set-up
    assert _signature(m) == ref.signature()
    assert not m._views_pending
    _run(m, 10, ref)  # read in the middle, then on
    assert _signature(m) == ref.signature()
    assert m.agent_id_counter == ref.next_id


def test_a_tick_without_births_or_deaths_notes_nothing_as_ever():
    """A hand edit that kills an agent without freeing its slot moves neither the uid
    counter nor the free-slot stack: a tick that brings no birth or death does not note it
    (its view stays until one does), as when views were made every tick."""
    m = world()
    for x in range(3):
        m.add_agent("resident", x, 1)
    ref = _Reference(m)
    m.arrays.set("alive", int(np.flatnonzero(m.arrays.alive)[0]), 0)
    _run(m, 2, ref)
    assert len(ref.signature()) == 3 and _signature(m) == ref.signature()


def test_views_made_from_folded_notes_are_those_made_every_tick(monkeypatch):
    monkeypatch.setattr(model_module, "VIEW_BUFFER_ROWS", 8)
    m = PeaceSimModel(_scenario(), seed=6)
    assert m._view_room == 8 and len(m._view_buf) == m.capacity + 8
    m._view_log_limit = 20  # fold the notes together every few ticks
    folds = []
    fold = m._compact_views
    m._compact_views = lambda: (folds.append(1), fold())[1]
    ref = _Reference(m)
    _run(m, 40, ref)
    assert m._view_compact is not None and len(folds) > 1  # folded into folded ones
    assert _signature(m) == ref.signature()
    assert m.agent_id_counter == ref.next_id
    folds.clear()
    _run(m, 40, ref)  # folded again from a clean start
    assert folds
    assert _signature(m) == ref.signature()


def test_folded_notes_keep_the_ids_of_views_made_and_gone_before_the_fold():
    m = PeaceSimModel(_scenario(), seed=1)
    ref = _Reference(m)
    assert _signature(m) == ref.signature()  # the set-up's views made
    m._view_room = 0  # every note moves out ...
    m._view_log_limit = 0  # ... and is folded at once
    empty = np.flatnonzero(m.cells.occ.reshape(-1) < 0).tolist()

    def born(cell: int) -> int:
        return int(call(new_agent, m.ag, m.cells, m.geometry, m.params, K.COMBATANT,
                        m.params.comb_class, cell, m.free_stack, m.meta))

    def note() -> None:
        m._sync_views()
        ref.note()

    born(empty[0])
    gone = born(empty[1])
    note()
    call(remove_agent, m.ag, m.cells, m.geometry, m.params, gone, m.free_stack, m.meta)
    note()  # the fold holds one view to make, the second of two ids given
    assert m._view_compact is not None and m._view_compact[1] == 2
    m._view_room = 4096
    born(empty[2])
    note()  # a note after the fold: its view takes the id after both
    assert m._view_rows == 1
    assert _signature(m) == ref.signature()
    assert m.agent_id_counter == ref.next_id


def test_views_are_made_every_tick_while_someone_watches_the_model():
    watched = PeaceSimModel(_scenario(), seed=2)
    ref = _Reference(watched)
    added: list[Any] = []

    def on_added(signal: Any) -> None:
        added.append(signal)

    watched.observe("agents", ModelSignals.AGENT_ADDED, on_added)
    for _ in range(8):
        watched.step()
        ref.note()
        assert not watched._views_pending  # made in the tick: each signal sent then
        assert len(added) == ref.next_id - 1
    assert _signature(watched) == ref.signature()


def test_an_agent_of_ones_own_gets_the_id_it_got_when_views_were_made_every_tick():
    m = PeaceSimModel(_scenario(), seed=3)
    ref = _Reference(m)
    _run(m, 12, ref)
    mine = mesa.Agent(m)  # registering it makes the pending views first
    assert mine.unique_id == ref.next_id
    ref.next_id += 1  # the id the own agent took
    assert list(m.agents)[-1] is mine
    assert _signature_of_views(m) == ref.signature()
    _run(m, 6, ref)
    assert _signature_of_views(m) == ref.signature()


def _signature_of_views(model: PeaceSimModel) -> list[tuple[int, type, int, int]]:
    return [(a.unique_id, type(a), a.slot, a.uid) for a in model.agents if hasattr(a, "slot")]


def test_every_reader_makes_the_pending_views_first():
    def stepped() -> PeaceSimModel:
        m = PeaceSimModel(_scenario(), seed=8)
        _run(m, 6)
        assert m._views_pending
        return m

    readers = {
        "agents": lambda m: len(m.agents),
        "agents_by_type": lambda m: m.agents_by_type,
        "agent_types": lambda m: m.agent_types,
        "agent_id_counter": lambda m: m.agent_id_counter,
        "grid": lambda m: m.grid,
        "residents": lambda m: len(m.residents),
        "view": lambda m: m.view(0),
    }
    for name, read in readers.items():
        m = stepped()
        read(m)
        assert not m._views_pending, name
    m = stepped()
    m.remove_all_agents()
    assert len(m.agents) == 0


def test_the_grid_places_the_views_read_after_ticks_where_the_arrays_put_them():
    m = PeaceSimModel(_scenario(), seed=9)
    _run(m, 15)
    ag = m.arrays
    assert len(m.agents) == int(np.count_nonzero(ag.alive))
    for agent in m.agents:
        x = int(ag.x[agent.slot])
        if x >= 0:
            assert agent.cell.coordinate == (x, int(ag.y[agent.slot]))
            assert agent in agent.cell.agents
        else:
            assert agent.cell is None


def test_the_metrics_kernel_notes_the_views_changes_as_view_changes_does():
    m = PeaceSimModel(_scenario(), seed=1)
    _run(m, 5)
    uid0 = m._view_uid.copy()
    call(new_agent, m.ag, m.cells, m.geometry, m.params, K.COMBATANT, m.params.comb_class,
         int(np.flatnonzero(m.cells.occ.reshape(-1) < 0)[0]), m.free_stack, m.meta)
    m.arrays.set("alive", int(np.flatnonzero(m.arrays.alive)[3]), 0)  # and one gone
    want_uid, want = uid0.copy(), np.zeros((m.capacity, 3), np.int64)
    n_want = call(view_changes, m.ag, m.meta, want_uid, want)
    got_uid, got = uid0.copy(), np.zeros((m.capacity, 3), np.int64)
    *_, n_got = m.layer.observe(m.census_counts, got_uid, got)
    assert n_want == n_got >= 2
    assert np.array_equal(got[:n_got], want[:n_want]) and np.array_equal(got_uid, want_uid)
    *_, n_again = m.layer.observe(m.census_counts, got_uid, got)
    assert n_again == 0  # noted once


def test_the_metrics_kernel_counts_the_census_as_census_does():
    for name in ("baseline", "two_communities"):
        m = PeaceSimModel(_scenario(name), seed=2)
        _run(m, 6)
        ai = m.arrays.i
        res = np.flatnonzero((ai[:, K.I_ALIVE] != 0) & (ai[:, K.I_KIND] == K.RESIDENT))
        ai[res[:3], K.I_STATE] = [K.ACTIVE, K.JAILED, K.QUIESCENT]
        want = _census_by_numpy(m)
        got = np.full(K.N_CENSUS, -7, np.int64)
        m.layer.observe(got)
        assert np.array_equal(got, want)
        assert want[K.C_ACTIVE] > 0 and want[K.C_JAILED] > 0 and want[K.C_COMBATANTS] > 0


def _census_by_numpy(m: PeaceSimModel) -> np.ndarray:
    """The census as the plain code counted it: a resident's state and group index it."""
    ai = m.arrays.i[: m.meta[K.META_HIGH]]
    out = np.zeros(K.N_CENSUS, np.int64)
    alive = ai[ai[:, K.I_ALIVE] != 0]
    res = alive[alive[:, K.I_KIND] == K.RESIDENT]
    np.add.at(out, res[:, K.I_STATE], 1)
    np.add.at(out, K.C_GROUP0 + res[:, K.I_GROUP], 1)
    out[K.C_POLICE] += np.count_nonzero(alive[:, K.I_KIND] == K.POLICE)
    out[K.C_PEACEKEEPERS] += np.count_nonzero(alive[:, K.I_KIND] == K.PEACEKEEPER)
    comb = alive[alive[:, K.I_KIND] == K.COMBATANT]
    out[K.C_DETAINED] += np.count_nonzero(comb[:, K.I_STATE] == K.DETAINED)
    out[K.C_COMBATANTS] += np.count_nonzero(comb[:, K.I_STATE] != K.DETAINED)
    return out


def test_the_census_counts_as_the_plain_code_did_even_odd_states_and_groups():
    m = PeaceSimModel(_scenario("two_communities"), seed=2)
    _run(m, 4)
    ai = m.arrays.i
    res = np.flatnonzero((ai[:, K.I_ALIVE] != 0) & (ai[:, K.I_KIND] == K.RESIDENT))
    ai[res[:4], K.I_STATE] = [K.ACTIVE, K.JAILED, K.DETAINED, K.QUIESCENT]
    ai[res[4], K.I_GROUP] = 2  # no model makes these: the old indexing still holds
    got = np.full(K.N_CENSUS, -7, np.int64)
    call(census, m.ag, m.meta, got)
    assert np.array_equal(got, _census_by_numpy(m))


def _old_layer_row(events: list[int], values: list[float], replaced: int = 0) -> dict:
    """layer_row as it was: one dict comprehension per block."""
    row: dict[str, float] = {name: events[i] for name, i in C.LAYER_EVENTS.items()}
    row["units_replaced"] = replaced
    row.update({name: int(values[i]) for name, i in C.LAYER_COUNTS.items()})
    row.update({name: values[i] for name, i in C.LAYER_MEANS.items()})
    return row


def test_the_layer_row_is_the_plain_comprehensions():
    rng = np.random.default_rng(0)
    events = rng.integers(0, 50, K.N_EVENTS).tolist()
    values = (rng.random(60) * 40).tolist()
    got, want = C.layer_row(events, values, 3), _old_layer_row(events, values, 3)
    assert list(got.items()) == list(want.items())
    assert [type(v) for v in got.values()] == [type(v) for v in want.values()]


def _metrics_every_tick(model: PeaceSimModel, ticks: int) -> dict[str, list[Any]]:
    """The columns as the plain code collected them: model.metrics read each tick."""
    out: dict[str, list[Any]] = {c: [model.metrics[c]] for c in model.columns}
    for _ in range(ticks):
        model.step()
        for c in model.columns:
            out[c].append(model.metrics[c])
    return out


@pytest.mark.parametrize("name, extra", [("baseline", {}), ("two_communities", {}),
                                         ("epstein_model1", {}),
                                         ("baseline", {"run.district_series": True})])
def test_collected_columns_are_the_metrics_of_every_tick(name, extra):
    lazy = PeaceSimModel(_scenario(name, **extra), seed=5)
    for _ in range(20):
        lazy.step()
    assert any(type(p) is MetricsSource for p in lazy.datacollector._pending)
    want = _metrics_every_tick(PeaceSimModel(_scenario(name, **extra), seed=5), 20)
    got = lazy.datacollector.model_vars
    assert list(got) == list(want)
    for c in want:
        assert got[c] == want[c] and [type(v) for v in got[c]] == [type(v) for v in want[c]]
    assert lazy.metrics == {**lazy._metrics_row(lazy._metrics_source)}
    df = lazy.datacollector.get_model_vars_dataframe()
    assert list(df.columns) == lazy.columns and len(df) == 21


def test_collected_columns_keep_what_was_collected_whatever_is_done_later():
    m = PeaceSimModel(_scenario(), seed=7)
    m.step()
    seen = m.metrics  # made now, before it is collected again
    m.step()
    kept = m.metrics["attacks"]
    m.metrics["attacks"] = -1  # a user's change after the tick: not in the collected row
    m.step()
    _ = m.datacollector.model_vars  # spread mid-run, then on
    m.step()
    assert m.datacollector.model_vars["attacks"][2] == kept
    assert seen is not m.metrics
    m.metrics = {**m.metrics, "attacks": 99}  # a dict put in its place is what is collected
    m.datacollector.collect(m)
    assert m.datacollector.model_vars["attacks"][-1] == 99
    m.datacollector._new_model_reporter("steps", lambda model: model.steps)  # Mesa's way now
    m.step()
    mv = m.datacollector.model_vars
    assert mv["steps"] == [m.steps] and len(mv["attacks"]) == len(mv["legitimacy"]) == 7


class _RecordingLock:
    """A reentrant lock that records how often it is taken (the app's models hold one)."""

    def __init__(self) -> None:
        self.taken = 0
        self.depth = 0

    def __enter__(self) -> None:
        self.taken += 1
        self.depth += 1

    def __exit__(self, *exc: object) -> None:
        self.depth -= 1


def test_what_is_made_when_read_is_made_under_the_models_lock():
    m = PeaceSimModel(_scenario(), seed=3)
    m.lock = _RecordingLock()
    inside: list[int] = []
    make = m._apply_notes

    def apply() -> None:
        inside.append(m.lock.depth)
        make()

    m._apply_notes = apply
    _run(m, 3)
    assert m.lock.taken == 0  # the ticks made nothing
    _ = m.datacollector.model_vars
    assert m.lock.taken == 1
    _ = m.metrics
    assert m.lock.taken == 2
    _ = m.agents
    assert m.lock.taken == 3 and inside == [1]
    _ = m.agents, m.metrics, m.datacollector.model_vars  # nothing left to make
    assert m.lock.taken == 3


def test_the_timeline_counts_once_until_an_agent_is_added_or_removed():
    m = PeaceSimModel(_scenario(), seed=1)
    layer = m.layer
    calls_made = []
    census_fn = m._census

    def counting(*args: Any) -> None:
        calls_made.append(1)
        census_fn(*args)

    m._census = counting
    layer._in_timeline, layer._counted = True, None
    police = layer._count(K.C_POLICE)
    assert layer._count(K.C_PEACEKEEPERS) == m.count(K.C_PEACEKEEPERS) - 0
    calls_made.clear()
    assert layer._count(K.C_POLICE) == police and not calls_made  # no census: nothing moved
    layer._place(m.ag, m.cells, m.geometry, m.params, m.rng_state, K.POLICE,
                 m.params.cops_class, 2, m.free_stack, m.meta)
    assert layer._count(K.C_POLICE) == police + 2 and len(calls_made) == 1
    layer._in_timeline, layer._counted = False, None
    officer = int(np.flatnonzero(m.arrays.alive & (m.arrays.kind == K.POLICE))[0])
    m.arrays.i[officer, K.I_KIND] = K.RESIDENT  # a hand edit outside the timeline is seen
    calls_made.clear()
    assert layer._count(K.C_POLICE) == police + 1 and len(calls_made) == 1


def test_a_tick_counts_the_census_at_most_once_in_its_timeline():
    m = PeaceSimModel(_scenario(), seed=1)
    calls_made = []
    census_fn = m._census
    m._census = lambda *a: (calls_made.append(1), census_fn(*a))
    for _ in range(5):
        calls_made.clear()
        m.step()  # replace_losses and police recruitment both ask, nothing moves between
        assert len(calls_made) == 1


def test_kinds_of_tuples_of_arrays_follow_class_dtype_layout_and_nesting():
    P = namedtuple("P", "a b")
    Q = namedtuple("Q", "a b")
    a, b = np.zeros((3, 4)), np.zeros(5, np.int32)
    assert _kind(P(a, b)) == _kind(P(a.copy(), b.copy()))  # same types: same version
    assert _kind(P(a, b)) != _kind(Q(a, b))  # another class: numba types it apart
    assert _kind(P(np.asfortranarray(a), b)) != _kind(P(a, b))
    assert _kind(P(a[:, ::2], b)) != _kind(P(a, b))  # not contiguous
    assert _kind(P(a, b.astype(np.int64))) != _kind(P(a, b))
    ro = a.copy()
    ro.flags.writeable = False
    assert _kind(P(ro, b)) != _kind(P(a, b))
    inner1, inner2 = P(b, b), Q(b, b)  # a tuple inside: worked out member by member
    assert _kind(P(a, inner1)) != _kind(P(a, inner2))
    assert _kind(P(a, inner1)) == _kind(P(a.copy(), P(b.copy(), b)))
    twin = namedtuple("P", "a b")  # P's name and fields, another class: numba tells them apart
    assert _kind(twin(a, b)) != _kind(P(a, b))
    assert _kind(P(a, twin(b, b))) != _kind(P(a, inner1))
