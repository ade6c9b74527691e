"""Run a scenario: build the model, step it, return tidy results (no I/O here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.config.scenario import Scenario, check_run_length
from sim.io.recorder import summarise, timeseries
from sim.model.model import PeaceSimModel


@dataclass
class RunResult:
    """What one run produced: the per-tick table, the summary and what made them."""

    scenario: Scenario
    seed: int
    ticks: int
    timeseries: pd.DataFrame
    summary: dict[str, Any]
    model: PeaceSimModel | None = field(default=None, repr=False)
    #: one record per event applied (ODD 7.28): tick, kind, text, event, outcome
    events: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def __repr__(self) -> str:
        """One short line: which run, and the size of its table (not the table itself)."""
        rows, cols = self.timeseries.shape
        return (f"RunResult(scenario={self.scenario.name!r}, seed={self.seed}, "
                f"ticks={self.ticks}, timeseries={rows}x{cols})")


def run(
    scenario: Scenario,
    seed: int | None = None,
    ticks: int | None = None,
    keep_model: bool = False,
    check_length: bool = True,
) -> RunResult:
    """Simulate ``scenario`` for ``ticks`` ticks (default ``run.ticks``) from ``seed``
    (default ``run.seed``). Same scenario and seed give bit-identical results. A run that
    reaches the drawdown but ends before the window after the exit, or has events after its
    end, raises :class:`~sim.config.scenario.ScenarioError` (see ``check_run_length``;
    ``check_length=False`` skips that, for a replayed exercise that stopped anywhere)."""
    seed = scenario.run.seed if seed is None else int(seed)
    ticks = scenario.run.ticks if ticks is None else int(ticks)
    if check_length:
        check_run_length(scenario, ticks, scenario.name)  # a cut post-exit window is an error
    model = PeaceSimModel(scenario, seed=seed)
    for _ in range(ticks):
        model.step()
    ts = timeseries(model)
    return RunResult(
        scenario=scenario,
        seed=seed,
        ticks=ticks,
        timeseries=ts,
        # with set events, the outcomes are those of the scenario in force at the end (e.g.
        # a drawdown an event moved)
        summary=summarise(ts, model.scenario_config, seed),
        model=model if keep_model else None,
        events=list(model.event_log),
    )
