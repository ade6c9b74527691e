"""Robustness across futures: regret, satisficing and percentiles, checked by hand on a
synthetic sweep store, the thresholds' schema, and the shipped uncertainty experiment."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sweep_util import ROOT

import sim
from sim.cli import main
from sim.config.experiment import ExperimentError, load_experiment
from sim.experiments import robustness as rb
from sim.experiments.compare import compare
from sim.experiments.store import StoreError, init_store, run_key, write_result

STRATEGIES = ["a", "b", "c"]
#: casualties_total per (context, point, strategy) and replicate (two replicates each);
#: lower is better. Chosen so that regret and satisficing are easy to work out by hand.
CASUALTIES = {
    ("x", 0): {"a": [10, 12], "b": [20, 20], "c": [30, 32]},  # means 11, 20, 31
    ("x", 1): {"a": [50, 50], "b": [20, 24], "c": [30, 30]},  # means 50, 22, 30
    ("x", 2): {"a": [12, 14], "b": [15, 15], "c": [13, 13]},  # means 13, 15, 13
    ("y", 0): {"a": [40, 40], "b": [10, 10], "c": [20, 20]},  # means 40, 10, 20
}
#: final_trust_pk (higher is better), the same in both replicates
TRUST = {("x", 0): {"a": 0.5, "b": 0.3, "c": 0.45}, ("x", 1): {"a": 0.2, "b": 0.6, "c": 0.4},
         ("x", 2): {"a": 0.38, "b": 0.41, "c": 0.1}, ("y", 0): {"a": 0.3, "b": 0.5,
                                                                "c": 0.5}}


def synthetic_store(out: Path, thresholds: str = "", drop: tuple = ()) -> Path:
    """A sweep folder holding the runs above (contexts x and y, design points as futures);
    ``drop``: (context, point, strategy, replicate) runs left out, as if they failed."""
    exp = out.parent / f"{out.name}.toml"
    exp.write_text('name = "synthetic"\n' + thresholds)
    rows = []
    for (ctx, point), by_strategy in CASUALTIES.items():
        for strat, values in by_strategy.items():
            for rep, v in enumerate(values):
                rows.append({"context": ctx, "strategy": strat, "point": point,
                             "replicate": rep, "seed": 100 + rep, "ticks": 10,
                             "u": 0.1 * point, "cas": v, "trust": TRUST[(ctx, point)][strat]})
    df = pd.DataFrame(rows)
    df.insert(0, "run_id", np.arange(len(df)))
    df.insert(1, "key", [run_key({"i": i}, 0, 10, {}, "v") for i in range(len(df))])
    design = df.drop(columns=["cas", "trust"])
    init_store(out, exp, "0" * 64, design,
               {"experiment_name": "synthetic", "model_version": "v", "runs": len(df),
                "replications": 2, "seed": 1, "seed_policy": "common",
                "design": "latin_hypercube", "factors": ["u"], "keep": {}}, False)
    for _, r in df.iterrows():
        if (r["context"], r["point"], r["strategy"], r["replicate"]) in drop:
            continue
        meta = {k: r[k] for k in ("run_id", "key", "context", "strategy", "point",
                                  "replicate", "seed", "ticks", "u")}
        write_result(out, {**meta, "attempt": 1, "elapsed_s": 0.0, "worker": "w"},
                     {"casualties_total": float(r["cas"]), "final_trust_pk": r["trust"],
                      "troop_weeks": 100.0, "final_economy": 0.5,
                      "relapse_ratio": None}, None)
    return out


def _row(t: pd.DataFrame, **match) -> pd.Series:
    sel = np.ones(len(t), dtype=bool)
    for k, v in match.items():
        sel &= (t[k] == v).to_numpy()
    assert sel.sum() == 1, (match, t)
    return t[sel].iloc[0]


def test_regret_by_hand(tmp_path: Path) -> None:
    res = compare(synthetic_store(tmp_path / "s"))
    reg = res.tables["regret"]
    # casualties regrets per future (x0, x1, x2, y0): a 0, 28, 0, 30; b 9, 0, 2, 0;
    # c 20, 8, 0, 10
    a = _row(reg, scope="x", strategy="a", outcome="casualties_total")
    assert a["futures"] == 3
    assert a["mean_regret"] == pytest.approx(28 / 3)
    assert a["p90_regret"] == pytest.approx(0 + 0.8 * 28)  # linear: 2 x 0.9 = 1.8 -> 0.8
    assert a["max_regret"] == 28 and a["best_share"] == pytest.approx(2 / 3)
    b_all = _row(reg, scope=rb.ALL, strategy="b", outcome="casualties_total")
    assert b_all["futures"] == 4 and b_all["mean_regret"] == pytest.approx(11 / 4)
    assert b_all["p90_regret"] == pytest.approx(np.percentile([9, 0, 2, 0], 90))
    assert b_all["best_share"] == pytest.approx(0.5)
    c_y = _row(reg, scope="y", strategy="c", outcome="casualties_total")
    assert (c_y["futures"], c_y["mean_regret"], c_y["best_share"]) == (1, 10, 0)
    # trust is better higher: regret = best - own; x2: best b 0.41
    c_trust = _row(reg, scope="x", strategy="c", outcome="final_trust_pk")
    assert c_trust["mean_regret"] == pytest.approx((0.05 + 0.2 + 0.31) / 3)
    # ties: in y0, b and c both have the best trust 0.5
    assert _row(reg, scope="y", strategy="c", outcome="final_trust_pk")["best_share"] == 1
    # an outcome without a better direction, or absent, has no regret
    assert set(reg["outcome"]) <= {"casualties_total", "final_trust_pk", "troop_weeks",
                                   "final_economy"}
    assert (reg.loc[reg["outcome"] == "troop_weeks", "max_regret"] == 0).all()


def test_satisficing_and_percentiles_by_hand(tmp_path: Path) -> None:
    thresholds = ('[robustness]\nthresholds = { casualties_total = { below = 21 }, '
                  'final_trust_pk = { above = 0.4 } }\n')
    res = compare(synthetic_store(tmp_path / "s", thresholds))
    sat = res.tables["satisficing"]
    # casualties below 21: a x0 x2 (11, 13), b x0 x2 y0 (20, 15, 10), c x2 y0 (13, 20);
    # trust above 0.4:      a x0,            b x1 x2 y0,            c x0 y0 (x1: 0.4 is not
    # above 0.4)
    a = _row(sat, scope="x", strategy="a")
    assert (a["casualties_total"], a["final_trust_pk"], a["all"]) == pytest.approx(
        (2 / 3, 1 / 3, 1 / 3))
    b = _row(sat, scope=rb.ALL, strategy="b")
    assert (b["casualties_total"], b["final_trust_pk"], b["all"]) == pytest.approx(
        (3 / 4, 3 / 4, 2 / 4))  # both met in x2 and y0
    c = _row(sat, scope=rb.ALL, strategy="c")
    assert (c["casualties_total"], c["final_trust_pk"], c["all"]) == pytest.approx(
        (2 / 4, 2 / 4, 1 / 4))  # both met in y0 only
    pct = res.tables["outcome_percentiles"]
    b_x = _row(pct, scope="x", strategy="b", outcome="casualties_total")
    assert (b_x["p10"], b_x["p50"], b_x["p90"], b_x["mean"]) == pytest.approx(
        tuple(np.percentile([20, 22, 15], [10, 50, 90])) + (19,))
    # the report says it in both files, with the explanation in plain words
    for path in (res.report_md, res.report_html):
        text = path.read_text(encoding="utf-8")
        assert "Robustness across futures" in text and "worst tenth of futures" in text
        assert "Satisficing" in text and "every threshold" in text
    md = res.report_md.read_text(encoding="utf-8")
    assert "Most robust on civilian casualties: **b**" in md
    assert "Good enough (Civilian casualties below 21 civilians killed and Trust in " \
           "peacekeepers above 0.4) most often: **b**, in 50% of the futures" in md
    assert (res.folder / "tables" / "future_means.csv").is_file()
    assert "figures/robustness_satisficing.png" in md


def test_common_replicates_only(tmp_path: Path) -> None:
    """A run that failed removes its replicate from that future for every strategy, so the
    comparison stays paired."""
    res = compare(synthetic_store(tmp_path / "s", drop=(("x", 1, "b", 1),)))
    fm = res.tables["future_means"]
    x1 = fm[(fm["context"] == "x") & (fm["point"] == 1)].set_index("strategy")
    assert (x1["replicates"] == 1).all()
    assert x1.loc["b", "casualties_total"] == 20 and x1.loc["a", "casualties_total"] == 50


def test_missing_outcome_and_thresholds_on_absent_outcomes(tmp_path: Path) -> None:
    runs = pd.DataFrame({"context": "x", "point": [0, 0, 1, 1], "replicate": 0,
                         "strategy": ["a", "b", "a", "b"],
                         "relapse_ratio": [1.5, np.nan, 0.5, 1.0]})
    r = rb.robustness(runs, ["a", "b"], ["relapse_ratio"],
                      {"relapse_ratio": {"below": 1.2}, "time_to_stability": {"below": 9}})
    # future 0 has no value for b: regret is taken over future 1 only
    reg = r.regret.set_index("strategy")
    assert (reg["futures"] == 1).all() and reg.loc["b", "mean_regret"] == pytest.approx(0.5)
    sat = r.satisficing.set_index("strategy")
    assert sat.loc["b", "relapse_ratio"] == 0.5  # a missing value does not meet it
    assert sat.loc["a", "all"] == 0.5
    assert [x.outcome for x in r.absent] == ["time_to_stability"]


def test_thresholds_from_python_and_their_errors(tmp_path: Path) -> None:
    out = synthetic_store(tmp_path / "s")
    res = sim.compare(out, thresholds={"final_trust_pk": {"above": 0.45}})
    sat = res.tables["satisficing"]
    assert _row(sat, scope=rb.ALL, strategy="c")["all"] == pytest.approx(1 / 4)
    with pytest.raises(StoreError, match="did you mean casualties_total"):
        compare(out, thresholds={"casualties": {"below": 3}})
    with pytest.raises(StoreError, match="exactly one of `above` or `below`"):
        compare(out, thresholds={"casualties_total": {"below": 3, "above": 1}})


@pytest.mark.parametrize(("table", "message"), [
    ("thresholds = { casualty = { below = 40 } }", "not an outcome of the model"),
    ("thresholds = { casualties_total = { below = 40, above = 1 } }", "exactly one of"),
    ("thresholds = { casualties_total = {} }", "exactly one of"),
    ("thresholds = { casualties_total = { under = 40 } }", "unknown key"),
    ("thresholds = { casualties_total = { below = \"40\" } }", "number"),
    ("threshold = {}", "unknown key"),
])
def test_bad_robustness_tables_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture,
                                      table: str, message: str) -> None:
    text = (ROOT / "experiments" / "quick.toml").read_text().replace(
        '"../', f'"{ROOT}/') + f"\n[robustness]\n{table}\n"
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ExperimentError, match=message):
        load_experiment(path)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "robustness.threshold" in err and message.split()[0] in err
    assert "Traceback" not in err


def quick_uncertainty(tmp_path: Path, n: int = 4) -> Path:
    """The shipped uncertainty experiment at a test's size: fewer futures and one replicate
    on a small map (every other setting as shipped)."""
    raw = tomllib.loads((ROOT / "experiments" / "uncertainty.toml").read_text())
    assert raw["design"]["n"] >= 100 and len(raw["strategies"]) >= 2  # as shipped
    text = (ROOT / "experiments" / "uncertainty.toml").read_text()
    text = text.replace("n = 120", f"n = {n}").replace("replications = 2", "replications = 1")
    text = text.replace('"../', f'"{ROOT}/').replace(
        "[design]", '[set]\n"world.width" = 16\n"world.height" = 16\n\n[design]')
    path = tmp_path / "uncertainty.toml"
    path.write_text(text)
    return path


def test_shipped_uncertainty_experiment(tmp_path: Path) -> None:
    exp = load_experiment(ROOT / "experiments" / "uncertainty.toml")
    assert exp.spec.robustness.thresholds
    path = quick_uncertainty(tmp_path)
    assert main(["sweep", str(path), "--out", str(tmp_path / "u"), "--workers", "0",
                 "--quiet"]) == 0
    res = compare(tmp_path / "u")
    reg, sat = res.tables["regret"], res.tables["satisficing"]
    n_strat = len(exp.strategies)
    head = reg[reg["outcome"] == "casualties_total"]
    assert len(head) == n_strat and (head["futures"] == 4).all()
    assert (head["best_share"] > 0).any() and (reg["mean_regret"] >= 0).all()
    assert len(sat) == n_strat and sat["all"].between(0, 1).all()
    html = res.report_html.read_text(encoding="utf-8")
    assert 'id="robustness"' in html and "robustness_regret.png" in res.figures
