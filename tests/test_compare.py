"""``peacesim compare``: statistics, the report and its figures, paired vs independent seeds."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sweep_util import tiny_experiment

from sim.cli import main
from sim.experiments.compare import (
    difference_table,
    mean_ci,
    pareto_mask,
    welch_half,
)
from sim.experiments.store import read_summaries
from sim.experiments.sweep import run_sweep, warm_worker

QUIET = {"progress": False, "workers": 0}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def drawdown_sweep(tmp_path_factory):
    """Three strategies x two contexts x 5 replications, with an early exit (relapse table)
    and a two-level factor (arms per design point)."""
    warm_worker()
    folder = tmp_path_factory.mktemp("cmp")
    exp = tiny_experiment(
        folder, reps=5, ticks=40, size=20,
        strategies=("protection_first", "community_engagement", "minimal_presence"),
        extra="[[factors]]\nkey = 'police.professionalism'\nlevels = [0.3, 0.6]\n"
              "[report]\nreference = 'community_engagement'\n"
              "envelope_by = 'police.professionalism'\n",
    )
    text = exp.read_text().replace(
        '"world.height" = 20', '"world.height" = 20\n"mission.drawdown_start" = 10\n'
        '"mission.drawdown_ticks" = 4\n"mission.exit_window" = 10')
    exp.write_text(text)
    out = folder / "sweep"
    run_sweep(exp, out, **QUIET)
    return out


def test_statistics_match_scipy():
    rng = np.random.default_rng(1)
    x, y = rng.normal(3, 2, 12), rng.normal(4, 1, 9)
    n, m, h = mean_ci(x)
    lo, hi = stats.t.interval(0.95, n - 1, loc=x.mean(), scale=stats.sem(x))
    assert n == 12 and m == pytest.approx(x.mean()) and h == pytest.approx((hi - lo) / 2)
    ci = stats.ttest_ind(x, y, equal_var=False).confidence_interval(0.95)
    assert welch_half(x, y) == pytest.approx((ci.high - ci.low) / 2)
    assert mean_ci([np.nan, 2.0]) == (1, 2.0, math.nan) or math.isnan(mean_ci([2.0])[2])
    # minimise all three: (1,1,1) dominates (2,2,2); (0,5,5) and (5,0,5) are incomparable
    pts = np.array([[1, 1, 1], [2, 2, 2], [0, 5, 5], [5, 0, 5], [np.nan, 0, 0]])
    assert pareto_mask(pts).tolist() == [True, False, True, True, False]


def test_report_and_figures(drawdown_sweep, capsys):
    out = drawdown_sweep
    assert main(["compare", str(out)]) == 0
    report = out / "report.md"
    assert capsys.readouterr().out.strip() == str(report)
    text = report.read_text()
    for heading in ("## 1. Outcomes", "## 2. Differences from `community_engagement`",
                    "## 3. Ranking", "## 4. Trade-offs", "## 5. Over time",
                    "## 6. After the exit: relapse"):
        assert heading in text, heading
    # arms are strategy x design point in a full factorial
    assert "| protection_first (professionalism=0.3) |" in text
    assert "60 of 60 finished" in text
    figures = {p.name for p in (out / "figures").iterdir()}
    assert {"pareto.png", "differences.png", "envelope_violence_mean.png"} <= figures
    for name in figures:
        assert (out / "figures" / name).read_bytes()[:8] == PNG
        assert f"figures/{name}" in text
    # the table matches a direct computation from the stored summaries
    table = pd.read_csv(out / "tables" / "outcomes.csv")
    runs = read_summaries(out)
    sel = runs[(runs.context == "liberia") & (runs.strategy == "minimal_presence")
               & (runs["police.professionalism"] == 0.6)]["casualties_total"]
    row = table[(table.context == "liberia") & (table.outcome == "casualties_total")
                & (table.arm == "minimal_presence (professionalism=0.6)")].iloc[0]
    n, m, h = mean_ci(sel)
    assert (row["n"], row["mean"]) == (5, pytest.approx(m))
    assert row["hi"] - row["lo"] == pytest.approx(2 * h)
    relapse = pd.read_csv(out / "tables" / "relapse.csv")
    assert len(relapse) == 2 * 3 * 2 and (relapse["exited"] == 5).all()
    ranking = pd.read_csv(out / "tables" / "ranking.csv")
    assert sorted(ranking.groupby("context")["position"].max()) == [6, 6]
    # another reference works; an unknown one is a usage error
    assert main(["compare", str(out), "--reference", "minimal_presence"]) == 0
    assert "Differences from `minimal_presence`" in report.read_text()
    assert main(["compare", str(out), "--reference", "nobody"]) == 2
    assert "not a strategy of this sweep" in capsys.readouterr().err


def test_compare_bad_folder_exit_2(tmp_path, capsys):
    assert main(["compare", str(tmp_path)]) == 2
    assert "not a sweep folder" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "nowhere")]) == 2


def test_pairing_on_common_seeds_narrows_the_interval(tmp_path):
    """Measured: the CI of a strategy difference from paired runs on common seeds is
    narrower than the CI the same number of runs gives with independent seeds."""
    warm_worker()
    common, independent = tmp_path / "common", tmp_path / "independent"
    kw = {"reps": 16, "ticks": 60, "size": 20, "contexts": ("baseline",)}
    run_sweep(tiny_experiment(tmp_path, name="c.toml", **kw), common, **QUIET)
    run_sweep(tiny_experiment(tmp_path, name="i.toml", **kw,
                              extra='seed_policy = "independent"'), independent, **QUIET)
    outcomes = ["arrests_total", "casualties_total", "mean_share_active", "final_economy"]

    def arms(out):
        runs = read_summaries(out)
        return runs.assign(arm=runs["strategy"])

    paired = difference_table(arms(common), outcomes, "protection_first", paired=True)
    unpaired = difference_table(arms(independent), outcomes, "protection_first",
                                paired=False)
    widths = pd.DataFrame({
        "common_paired": paired.set_index("outcome")["half_paired"],
        "common_unpaired": paired.set_index("outcome")["half_unpaired"],
        "independent": unpaired.set_index("outcome")["half_unpaired"],
    })
    print("\nhalf-widths of the 95% CI of community_engagement - protection_first:\n",
          widths.to_string())
    # arrests depend strongly on the shared initial world (correlation across strategies
    # ~0.7), so pairing pays off; outcomes that decorrelate gain little (see the printout)
    arrests = widths.loc["arrests_total"]
    assert arrests["common_paired"] < 0.8 * arrests["independent"]
    assert arrests["common_paired"] < 0.8 * arrests["common_unpaired"]
