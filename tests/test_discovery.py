"""``peacesim discover``: PRIM and CART (EMA Workbench) over a sweep's uncertain factors."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from sweep_util import tiny_experiment
from test_compare import assert_self_contained

import sim
from sim.cli import main
from sim.experiments.discovery import DiscoveryError, analyse
from sim.experiments.store import read_summaries
from sim.experiments.sweep import run_sweep, warm_worker

pytest.importorskip("ema_workbench", reason="scenario discovery needs the analysis extra")

QUIET = {"progress": False, "workers": 0}


def synthetic(seed: int = 1, n: int = 1000, noise: float = 0.05
              ) -> tuple[pd.DataFrame, np.ndarray]:
    """Three uniform factors; of interest when x1 > 0.7 and x3 < 0.3, with a share
    ``noise`` of the labels flipped at random."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.uniform(size=(n, 3)), columns=["x1", "x2", "x3"])
    y = ((x["x1"] > 0.7) & (x["x3"] < 0.3)).to_numpy()
    return x, y ^ (rng.uniform(size=n) < noise)


@pytest.mark.parametrize("seed", [1, 2])
def test_prim_recovers_the_driving_factors(seed):
    x, y = synthetic(seed)
    a = analyse(x, y)
    lim = a.limits.set_index("factor")
    assert set(lim.index) == {"x1", "x3"}  # x2 does not matter and is not restricted
    assert lim.at["x1", "lower"] == pytest.approx(0.7, abs=0.1)
    assert math.isnan(lim.at["x1", "upper"]) and math.isnan(lim.at["x3", "lower"])
    assert lim.at["x3", "upper"] == pytest.approx(0.3, abs=0.1)
    assert (lim[["qp_lower", "qp_upper"]].fillna(0) < 0.05).all().all()
    st = a.stats
    assert st["density"] > 0.8 and st["coverage"] > 0.5
    assert a.trajectory["chosen"].sum() == 1 and a.trajectory.loc[a.chosen, "chosen"]
    # the box's own members give its coverage and density
    inside = a.in_box()
    assert inside.sum() == st["n"] and a.y[inside].sum() == st["k"]
    assert st["coverage"] == pytest.approx(a.y[inside].sum() / a.y.sum())
    # CART's densest big leaf lies inside the same region, give or take 0.1 (a tree may split
    # the region further, e.g. on noise: x1 > 0.82 is still inside x1 > 0.7)
    leaf = a.leaves[a.leaves["mass"] > 0.05].iloc[0]["rule"]
    x1 = float(re.search(r"x1 > ([\d.]+)", leaf).group(1))
    x3 = float(re.search(r"x3 <= ([\d.]+)", leaf).group(1))
    assert 0.6 <= x1 < 0.9 and 0.1 < x3 <= 0.4


def test_box_option_and_errors():
    x, y = synthetic(3, n=400)
    a = analyse(x, y, box=5)
    assert a.chosen == 5 and a.candidate is None
    lims = a.prim_box.box_lims[5]
    for _, r in a.limits.iterrows():
        if not math.isnan(r["lower"]):
            assert r["lower"] == lims.at[0, r["factor"]]
        if not math.isnan(r["upper"]):
            assert r["upper"] == lims.at[1, r["factor"]]
    with pytest.raises(DiscoveryError, match="peeling trajectory has boxes 0 to"):
        analyse(x, y, box=10_000)
    with pytest.raises(DiscoveryError, match="nothing to discover"):
        analyse(x, np.zeros(len(x), dtype=bool))
    with pytest.raises(DiscoveryError, match="min-density"):
        analyse(x, y, min_density=2)
    # a density the trajectory never reaches: no box, said plainly
    weak = analyse(x, np.random.default_rng(0).uniform(size=len(x)) < 0.5, min_density=0.99)
    assert weak.limits.empty and weak.notes


@pytest.fixture(scope="module")
def lhs_sweep(tmp_path_factory):
    """One context, two strategies, 24 latin-hypercube points over three factors."""
    warm_worker()
    folder = tmp_path_factory.mktemp("disc")
    exp = tiny_experiment(
        folder, reps=1, ticks=40, size=20, contexts=("baseline",),
        extra="[design]\nkind = 'latin_hypercube'\nn = 24\n"
              "[[factors]]\nkey = 'armed_groups.aggression'\nrange = [0.02, 0.12]\n"
              "[[factors]]\nkey = 'peacekeepers.density'\nrange = [0.01, 0.05]\n"
              "[[factors]]\nkey = 'police.professionalism'\nrange = [0.2, 0.8]\n")
    out = folder / "sweep"
    run_sweep(exp, out, **QUIET)
    return out


def test_discover_on_a_sweep(lhs_sweep, capsys):
    runs = read_summaries(lhs_sweep)
    mine = runs[runs.strategy == "protection_first"]
    threshold = float(mine["casualties_total"].median())
    args = ["discover", str(lhs_sweep), "--outcome", "casualties_total", "--above",
            f"{threshold}", "--strategy", "protection_first"]
    assert main(args) == 0
    folder = lhs_sweep / "discovery"
    cap = capsys.readouterr()
    assert cap.out.strip() == str(folder / "report.md")
    assert "runs with Civilian casualties >" in cap.err
    boxes = pd.read_csv(folder / "boxes.csv")
    assert {"factor", "lower", "upper", "coverage", "density"} <= set(boxes.columns)
    assert set(boxes["factor"]) <= {"armed_groups.aggression", "peacekeepers.density",
                                    "police.professionalism"}
    assert boxes["coverage"].nunique() <= 1
    traj = pd.read_csv(folder / "trajectory.csv")
    assert traj["chosen"].sum() == 1 and (traj["coverage"] <= 1).all()
    assert (folder / "cart_leaves.csv").is_file()
    text = (folder / "report.md").read_text()
    for part in ("## Headline", "## The chosen box", "## Peeling trajectory", "## CART",
                 "Quasi-p-value", "coverage", "density"):
        assert part in text, part
    figures = sorted(p.name for p in (folder / "figures").iterdir())
    assert {"peeling_trajectory.png", "cart_tree.png"} <= set(figures)
    for name in figures:
        assert f"figures/{name}" in text
    assert_self_contained(folder / "report.html", len(figures))
    # the same from Python, into another folder, with the runs of interest counted right
    res = sim.discover(lhs_sweep, "casualties_total", above=threshold,
                       strategy="protection_first", out=lhs_sweep / "again")
    assert res.report_md.parent == lhs_sweep / "again" and res.boxes_csv.is_file()
    assert res.analysis.y.sum() == int((mine["casualties_total"] > threshold).sum())
    assert len(res.analysis.y) == len(mine)
    # an empty "values" cell (a numeric factor) reads back from CSV as NaN
    pd.testing.assert_frame_equal(res.boxes.reset_index(drop=True),
                                  pd.read_csv(res.boxes_csv).fillna({"values": ""}),
                                  check_dtype=False)


def test_discover_errors_exit_2(lhs_sweep, tmp_path, capsys):
    base = ["discover", str(lhs_sweep)]
    cases = [
        (["--outcome", "nope", "--above", "1"], "available: casualties_total"),
        (["--outcome", "casualties_total", "--above", "1e9"], "no run of the"),
        (["--outcome", "casualties_total", "--below", "1e9"], "every run of the"),
        (["--outcome", "casualties_total", "--above", "1", "--strategy", "nobody"],
         "not a strategy of this sweep"),
        (["--outcome", "casualties_total", "--above", "1", "--box", "100000"],
         "peeling trajectory has boxes"),
    ]
    for extra, message in cases:
        assert main(base + extra) == 2, extra
        assert message in capsys.readouterr().err, extra
    # argparse: exactly one of --above / --below
    assert main(base + ["--outcome", "casualties_total"]) == 2
    assert main(base + ["--outcome", "casualties_total", "--above", "1", "--below", "2"]) == 2
    capsys.readouterr()
    assert main(["discover", str(tmp_path), "--outcome", "x", "--above", "1"]) == 2
    assert "not a sweep folder" in capsys.readouterr().err


def test_discover_needs_uncertain_factors(tmp_path, capsys):
    warm_worker()
    out = tmp_path / "sweep"
    run_sweep(tiny_experiment(tmp_path, reps=2, ticks=10, contexts=("baseline",)), out,
              **QUIET)
    assert main(["discover", str(out), "--outcome", "casualties_total", "--above", "0"]) == 2
    assert "no uncertain factors" in capsys.readouterr().err
