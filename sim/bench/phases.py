"""``peacesim bench --phases``: where the full model's tick time goes, phase by phase.

Why: the layer's tick is one kernel call (:func:`sim.engine.layer_tick.layer_tick`), so a
profiler sees one opaque function. Here the same phases are called one by one from Python, in
the same order and on the same state (each bound once with :func:`sim.engine.calls.compiled`,
so the dispatch costs about a microsecond a call), and each is timed with
``time.perf_counter``; so are the parts of a tick that run in Python (the mission timeline,
the notes of the Mesa views' changes, the metrics kernel, which also finds the views'
changes, and the DataCollector; the metrics dict is made when it is read). The instrumented
tick changes nothing: ``tests/test_bench.py`` checks that a model stepped through it ends
bit-identical to one stepped normally, which also fails if a phase is added to
``layer_tick`` and not here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from sim.engine import layout as K
from sim.engine.calls import compiled
from sim.engine.fields import (
    G_COMBATANTS,
    G_POLICE,
    G_UNITS,
    N_GROUPS,
    clear_sites,
    presence_of,
    roster,
)
from sim.engine.layer_tick import (
    acts_seen,
    checkpoint_phase,
    clear_events,
    combatant_turns,
    environment_phase,
    events_seen,
    information_phase,
    livelihoods_phase,
    move_units,
    officers_train,
    partners_phase,
    population_phase,
    release_detainees,
    stores_seen,
    transitions_phase,
    trust_phase,
    weapons_phase,
)
from sim.engine.tick import tick

#: the kernel phases, in the order of ``layer_tick`` (ODD 3 steps 3-12), then the Python parts
PHASES = (
    "clear event sites", "information", "weapons", "roster", "units", "presence", "checkpoints",
    "core tick", "stores", "combatants", "detention", "transitions", "events_seen", "acts_seen",
    "trust", "population", "livelihoods", "police", "partners", "environment",
    "clear events",
)
PYTHON_PARTS = ("timeline", "views", "metrics", "datacollector")


class PhaseTimer:
    """Seconds spent in each phase, summed over the ticks stepped through :meth:`step`."""

    def __init__(self, model: Any, clock: Callable[[], float] = time.perf_counter) -> None:
        if model.layer is None:
            raise ValueError("phase timings need the peacekeeping model (model = 'peacekeeping')")
        self.model = model
        self.clock = clock
        self.seconds = dict.fromkeys(PHASES + PYTHON_PARTS + ("tick (total)",), 0.0)
        self.ticks = 0
        self._bound: dict[str, Callable[..., Any]] = {}
        layer = model.layer
        self._wrap(layer, "timeline")
        self._wrap(model, "_noted_views", "views")  # the slots the metrics kernel found
        self._wrap(layer, "observe", "metrics")
        self._wrap(model.datacollector, "collect", "datacollector")
        layer._layer_tick = self._layer_tick  # the instance's bound kernel, instrumented

    def _wrap(self, obj: Any, attr: str, name: str | None = None) -> None:
        inner = getattr(obj, attr)
        key = name or attr
        seconds = self.seconds
        clock = self.clock

        def timed(*args: Any) -> Any:
            t0 = clock()
            out = inner(*args)
            seconds[key] += clock() - t0
            return out

        setattr(obj, attr, timed)

    def _run(self, name: str, kernel: Any, *args: Any) -> Any:
        fn = self._bound.get(name)
        if fn is None:
            fn = self._bound[name] = compiled(kernel, *args)
        t0 = self.clock()
        out = fn(*args)
        self.seconds[name] += self.clock() - t0
        return out

    def _layer_tick(self, ag: Any, grid: Any, geo: Any, prm: Any, lay: Any, rng: Any,
                    legitimacy: float, mission_legitimacy: float, perm: Any, layer_perm: Any,
                    free_stack: Any, meta: Any, events: Any) -> None:
        """:func:`sim.engine.layer_tick.layer_tick`, one phase at a time."""
        run = self._run
        run("clear event sites", clear_sites, lay)
        n_warned = run("information", information_phase, ag, prm, lay)
        run("weapons", weapons_phase, prm, lay, rng, events)
        high = int(meta[K.META_HIGH])
        slots = np.empty((N_GROUPS, max(high, 1)), np.int64)
        counts = np.zeros(N_GROUPS, np.int64)
        run("roster", roster, ag.i, high, prm, slots, counts)
        run("units", move_units, ag, grid, geo, prm, lay, rng, layer_perm, slots[G_UNITS],
            counts[G_UNITS], n_warned)
        run("presence", presence_of, ag, meta, lay, prm, slots, counts)
        run("checkpoints", checkpoint_phase, grid, prm, lay)
        run("core tick", tick, ag, grid, geo, prm, rng, legitimacy, perm, free_stack, meta,
            events)
        run("stores", stores_seen, prm, lay)
        run("combatants", combatant_turns, ag, grid, geo, prm, lay, rng, layer_perm,
            slots[G_COMBATANTS], counts[G_COMBATANTS], free_stack, meta, events)
        run("detention", release_detainees, ag, grid, geo, prm, lay, rng, slots[G_COMBATANTS],
            counts[G_COMBATANTS], meta, events)
        run("transitions", transitions_phase, ag, grid, geo, prm, lay, rng, legitimacy,
            mission_legitimacy, meta, events)
        t0 = self.clock()
        lay.f[K.L_SITE_ABUSE] = grid.abuse_ev  # as layer_tick: where, before it spreads
        self.seconds["clear event sites"] += self.clock() - t0
        quiet = run("events_seen", events_seen, grid, prm, lay)
        quiet |= run("acts_seen", acts_seen, prm, lay, events)
        run("trust", trust_phase, ag, grid, geo, prm, lay, rng, meta, events,
            mission_legitimacy)
        run("population", population_phase, ag, grid, geo, prm, lay, rng, free_stack, meta,
            events)
        run("livelihoods", livelihoods_phase, ag, grid, prm, rng, meta, lay)
        run("police", officers_train, ag, prm, lay.f[K.L_MENTOR], slots[G_POLICE],
            counts[G_POLICE])
        run("partners", partners_phase, prm, lay, meta)
        run("environment", environment_phase, grid, prm, lay)
        run("clear events", clear_events, grid, prm, lay, quiet)

    def step(self, ticks: int) -> None:
        """Step the model ``ticks`` times (every tick timed, the whole tick too)."""
        for _ in range(ticks):
            t0 = self.clock()
            self.model.step()
            self.seconds["tick (total)"] += self.clock() - t0
            self.ticks += 1

    def ms_per_tick(self) -> dict[str, float]:
        """Milliseconds per tick of each phase and part, and of the whole tick."""
        return {k: v * 1e3 / max(self.ticks, 1) for k, v in self.seconds.items()}


def phase_table(size: int, ticks: int, seed: int, reps: int, skip: int, scenario: Any,
                clock: Callable[[], float] = time.perf_counter) -> dict[str, list[float]]:
    """ms per tick of each phase at ``size`` x ``size``, one value per repetition (a fresh
    model with seed ``seed + r``, ``skip`` untimed ticks first)."""
    from sim.model.model import PeaceSimModel

    table: dict[str, list[float]] = {}
    for r in range(reps):
        model = PeaceSimModel(scenario, seed=seed + r)
        timer = PhaseTimer(model, clock)
        for _ in range(skip):
            model.step()
        for k in timer.seconds:
            timer.seconds[k] = 0.0
        timer.step(ticks)
        for k, v in timer.ms_per_tick().items():
            table.setdefault(k, []).append(v)
    return table


def print_phase_table(out: Callable[[str], None], size: int, ticks: int, reps: int,
                      seed: int, skip: int, scenario: Any) -> dict[str, dict[str, float]]:
    """The table of :func:`phase_table` by CPU time (``time.process_time``: steadier than
    wall time on a shared machine): median ms per tick of each phase, its share of the
    tick, and the range over repetitions. Returns the medians and ranges."""
    import statistics

    table = phase_table(size, ticks, seed, reps, skip, scenario, time.process_time)
    total = statistics.median(table["tick (total)"])
    out(f"Where the full model's tick goes, {size}x{size}, {reps} x {ticks} ticks after "
        f"{skip} untimed (CPU ms per tick, median over repetitions):")
    out(f"{'phase':>15} {'ms':>8} {'share':>6} {'min':>8} {'max':>8}")
    rows = {}
    for name, values in table.items():
        med = statistics.median(values)
        rows[name] = {"ms": med, "min": min(values), "max": max(values)}
        out(f"{name:>15} {med:8.3f} {100 * med / total:5.1f}% {min(values):8.3f} "
            f"{max(values):8.3f}")
    return rows
