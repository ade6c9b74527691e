"""Epstein's (2002) published results, shown statistically over fixed seeds.

Each check compares means over several seeds with a margin of several standard errors, so
it is deterministic (fixed seeds) and not a knife-edge threshold.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim import load_scenario, run
from sim.io.recorder import outbursts

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
pytestmark = pytest.mark.slow


def _se(x) -> float:
    x = np.asarray(x, dtype=float)
    return float(x.std(ddof=1) / np.sqrt(len(x)))


def test_run2_punctuated_equilibrium_under_floor():
    sc = load_scenario(SCENARIOS / "epstein_model1.toml")
    n_bursts, busy_share, quiet_median = [], [], []
    for seed in range(1, 9):
        res = run(sc, seed=seed, ticks=500)
        active = res.timeseries["active"].to_numpy()[50:]  # after the initial transient
        thr = res.summary["outburst_threshold"]
        bursts = outbursts(active, thr)
        n_bursts.append(len(bursts))
        busy_share.append(float(np.mean(active > thr)))
        quiet_median.append(float(np.median(active)))
    # repeated outbursts ...
    assert np.mean(n_bursts) - 3 * _se(n_bursts) > 3, n_bursts
    # ... separated by long quiet spells: most ticks are below the outburst level
    assert np.mean(busy_share) + 3 * _se(busy_share) < 0.5, busy_share
    assert np.mean(quiet_median) < 0.5 * sc.run.outburst_share * 1120, quiet_median


def test_sudden_legitimacy_drop_gives_larger_outburst_than_gradual_decline():
    jump = load_scenario(SCENARIOS / "epstein_legitimacy_jump.toml")
    gradual = load_scenario(SCENARIOS / "epstein_legitimacy_gradual.toml")
    diffs = []
    for seed in range(1, 9):  # common seeds: paired comparison
        pj = run(jump, seed=seed).summary["peak_active"]
        pg = run(gradual, seed=seed).summary["peak_active"]
        diffs.append(pj - pg)
    assert np.mean(diffs) - 3 * _se(diffs) > 0, diffs


def _extinction_ticks(path: Path, ticks: int, seeds, **overrides) -> list[int]:
    """Tick at which a group is wiped out; censored at ``ticks`` if none is."""
    sc = load_scenario(path, overrides=overrides or None)
    out = []
    for seed in seeds:
        s = run(sc, seed=seed, ticks=ticks).summary
        out.append(s["extinction_tick"] if s["extinction_tick"] is not None else ticks)
    return out


def test_model2_run7_one_group_is_wiped_out_in_the_replication_range():
    """Table 2's Run 7 read as vision 1.7 = the 8 Moore neighbours, move then act: one group
    is wiped out in every run, after tens to a couple of hundred ticks (a 20-seed replication
    of Run 7 reports 30-190; docs/validation.md). The NetLogo-style radius-7 vision of the
    earlier file did it in 4-19 ticks."""
    sc = load_scenario(SCENARIOS / "epstein_model2.toml")
    ticks = []
    for seed in range(1, 13):
        s = run(sc, seed=seed, ticks=300).summary
        assert s["extinct_group"] in (0, 1), s
        assert s["killings_total"] > 0
        ticks.append(s["extinction_tick"])
    assert np.mean(ticks) - 3 * _se(ticks) > 30, ticks
    assert np.mean(ticks) + 3 * _se(ticks) < 190, ticks


def test_model2_waiting_time_rises_with_peacekeeper_density_in_mean_and_spread():
    """Figs. 15-17: the time to genocide rises with the initial cop (peacekeeper) density, and
    so does its spread. Under the Run 7 reading the rise is modest (mean ~90 ticks without
    peacekeepers, ~155 at density 0.1; ODD section 8)."""
    path = SCENARIOS / "epstein_model2_peacekeepers.toml"
    seeds = range(1, 25)  # common seeds: the mean difference is paired
    none = _extinction_ticks(path, 800, seeds, **{"peacekeepers.density": 0.0})
    many = _extinction_ticks(path, 800, seeds, **{"peacekeepers.density": 0.1})
    assert max(many) < 800, many  # no run censored
    d = np.subtract(many, none)
    assert np.mean(d) - 3 * _se(d) > 0, (none, many)
    # spread: a point comparison with a margin (measured: s.d. 37 vs 60 ticks). A test of
    # spread with CIs has little power here; `peacesim patterns` reports it with its CI
    # over six densities (epstein2002_genocide_waits).
    assert np.std(many, ddof=1) > 1.25 * np.std(none, ddof=1), (none, many)
