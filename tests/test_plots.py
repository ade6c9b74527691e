"""Plots of both model layers render, with the panels and legends a reader needs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim import load_scenario, run
from sim.viz.plots import plot_layers, plot_peacekeeping_timeseries, save_plots, trust_map

ROOT = Path(__file__).resolve().parents[1]


def test_peacekeeping_plots(tmp_path):
    sc = load_scenario(ROOT / "scenarios" / "baseline.toml",
                       overrides={"world.width": 20, "world.height": 20,
                                  "mission.drawdown_start": 10, "mission.drawdown_ticks": 5,
                                  "mission.exit_window": 10})  # fits before and after
    res = run(sc, seed=1, ticks=30, keep_model=True)
    fig = plot_peacekeeping_timeseries(res.timeseries, sc)
    titles = [ax.get_title() for ax in fig.axes]
    assert any("Violence" in t for t in titles) and any("Trust" in t for t in titles)
    # the drawdown start and the exit are marked
    assert len(fig.axes[0].lines) >= 5
    layers = plot_layers(res.model)
    assert [ax.get_title() for ax in layers.axes[:3]][0] == "Recent violence"
    img = trust_map(res.model)
    assert img.shape == (20, 20)
    written = save_plots(res, tmp_path)
    assert {p.name for p in written} == {"timeseries.png", "snapshot_final.png"}
    assert all(p.stat().st_size > 10_000 for p in written)


def test_cell_layers_are_mesa_property_layers_sharing_the_arrays():
    sc = load_scenario(ROOT / "scenarios" / "baseline.toml",
                       overrides={"world.width": 12, "world.height": 12})
    res = run(sc, seed=1, ticks=3, keep_model=True)
    m = res.model
    grid = m.grid
    assert np.shares_memory(grid.economy.data, m.cells.economy)
    m.step()  # the layers follow the model without a copy
    cell = grid[(3, 4)]
    assert cell.economy == m.cells.economy[3, 4]
    assert cell.violence == m.layer.lay.violence[3, 4]
    assert cell.district == m.layer.lay.district[3, 4]
