"""Relapse outcomes on hand-made time series: windows, the denominator floor, no exit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.config.scenario import build_scenario
from sim.io.recorder import relapse_floor, relapse_summary

START, DD, W = 40, 10, 20  # drawdown start, drawdown length, exit window


def scenario():
    return build_scenario({"model": "peacekeeping", "world": {"width": 10, "height": 10},
                           "run": {"ticks": 100}, "peacekeepers": {"density": 0.1},
                           "mission": {"drawdown_start": START, "drawdown_ticks": DD,
                                       "exit_window": W}}, "<test>")


def series(civ_before: float, civ_after: float) -> pd.DataFrame:
    t = np.arange(101)
    civ = np.where(t < START, civ_before, civ_after)
    return pd.DataFrame({"tick": t, "peacekeepers": np.where(t < START + DD, 5, 0),
                         "violence_mean": civ, "violence_civilian_mean": civ,
                         "violence_battle_mean": np.full(101, 0.5)})


def test_ratio_is_after_over_before_above_the_floor():
    s = relapse_summary(series(0.2, 0.5), scenario())
    assert s["exit_tick"] == START + DD
    assert s["relapse_ratio_civilian"] == pytest.approx(2.5)
    assert s["relapse_ratio"] == s["relapse_ratio_civilian"]
    assert s["relapse_ratio_battle"] == pytest.approx(1.0)
    assert s["exit_window_truncated"] is False


def test_a_calm_window_before_divides_by_the_floor_not_by_zero():
    sc = scenario()
    floor = relapse_floor(sc, "_civilian")
    # one attack (per_attack 1) fading at decay 0.2 over a 20-tick window on 100 cells
    assert floor == pytest.approx(1.0 / (0.2 * 100 * W))
    s = relapse_summary(series(0.0, 0.01), sc)
    assert s["violence_civilian_before_exit"] == 0.0
    assert s["relapse_ratio_civilian"] == pytest.approx(0.01 / floor)
    assert relapse_floor(sc, "_battle") == pytest.approx(2.0 / (0.2 * 100 * W))


def test_no_mission_no_exit_no_ratio():
    ts = series(0.2, 0.5)
    ts["peacekeepers"] = 0
    sc = build_scenario({"model": "peacekeeping", "world": {"width": 10, "height": 10},
                         "run": {"ticks": 100}}, "<test>")
    s = relapse_summary(ts, sc)
    assert s["exit_tick"] is None and s["relapse_ratio"] is None
    assert s["relapse_ratio_battle"] is None and s["exit_window_truncated"] is None
