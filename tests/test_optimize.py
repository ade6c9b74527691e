"""``peacesim optimize``: the lever encoding, the file's checks, the front and its strategy
files, and a search that is killed and resumed."""

from __future__ import annotations

import json
import signal
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sweep_util import ROOT, SC, ST, kill_after

import sim
from sim.cli import main
from sim.config.optimize import (
    ObjectiveSpec,
    OptimizeError,
    decode_shares,
    load_optimization,
)
from sim.config.scenario import build_scenario, load_strategy
from sim.experiments.optimize import (
    Generation,
    knee_index,
    nondominated,
    objective_values,
    optimize,
)
from sim.experiments.optimize_report import toml_text

pytest.importorskip("pymoo", reason="optimisation needs the analysis extra")

SHIPPED = ROOT / "experiments" / "optimize_baseline.toml"


def tiny_file(folder: Path, *, population: int = 6, generations: int = 2, futures: str = "",
              objectives: tuple[str, ...] = ("casualties_total", "relapse_ratio",
                                             "final_trust_pk", "troop_weeks"),
              algorithm: str = "nsga2", extra_levers: str = "", name: str = "tiny.toml",
              size: int = 16, ticks: int = 40) -> Path:
    """A small optimisation of the baseline context: 16x16 map, 40 weeks, an abrupt exit
    between weeks 10 and 20 compared over 5-week windows."""
    objs = "\n".join(f'[[objectives]]\noutcome = "{o}"' for o in objectives)
    path = folder / name
    path.write_text(f'''
context = "{SC / "baseline.toml"}"
strategy = "{ST / "integrated.toml"}"
ticks = {ticks}
seed = 3
[set]
"world.width" = {size}
"world.height" = {size}
"mission.drawdown_ticks" = 0
"mission.exit_window" = 5
[levers]
roles = ["patrol", "engagement", "ddr"]
"strategy.restraint" = [0.6, 1.0]
"peacekeepers.density" = [0.01, 0.05]
"mission.drawdown_start" = [10, 20]
{extra_levers}
{objs}
{futures}
[algorithm]
name = "{algorithm}"
population = {population}
generations = {generations}
''')
    return path


# --------------------------------------------------------------------------- encoding


def test_decoded_shares_sum_to_one_and_the_strategy_file_validates(tmp_path: Path) -> None:
    opt = load_optimization(SHIPPED)
    assert len(opt.roles) == 6 and opt.n_var == 6 + len(opt.levers)
    rng = np.random.default_rng(0)
    points = [rng.uniform(size=opt.n_var) for _ in range(300)]
    points += [np.zeros(opt.n_var), np.ones(opt.n_var),
               np.r_[np.eye(6)[2], np.full(opt.n_var - 6, 0.3)]]
    for i, x in enumerate(points):
        d = opt.decode(x)
        shares = [d[f"strategy.roles.{r}"] for r in ("patrol", "static", "rapid_response",
                                                     "engagement", "ddr", "police_mentoring")]
        assert abs(sum(shares) - 1.0) < 1e-9 and all(0 <= s <= 1 for s in shares)
        for lv in opt.levers:
            assert lv.low <= d[lv.key] <= lv.high
            assert isinstance(d[lv.key], int) == lv.integer
        if i % 30 == 0 or i >= 300:
            path = tmp_path / f"s{i}.toml"
            path.write_text(toml_text(opt.strategy_data(d, f"s{i}"), ["test"]))
            data = load_strategy(path)  # the strategy schema, 1e-6 tolerance on the roles
            assert data["strategy"]["name"] == f"s{i}"
            assert sum(data["strategy"]["roles"].values()) == pytest.approx(1, abs=1e-9)
            build_scenario(opt.base_data, "test", opt.overrides(d, 0))
    # all-zero role variables: equal shares; one role variable alone: that role takes all
    assert decode_shares(np.zeros(3)) == pytest.approx([1 / 3] * 3, abs=1e-4)
    assert decode_shares(np.array([0.0, 0.7, 0.0])) == [0.0, 1.0, 0.0]


def test_aggregates_front_and_knee_by_hand() -> None:
    o = ObjectiveSpec(outcome="casualties_total", aggregate="p90")
    assert o.reduce(np.array([1.0, 2.0, 3.0, 4.0, 5.0])) == pytest.approx(4.6)
    assert ObjectiveSpec(outcome="casualties_total", aggregate="median").reduce(
        np.array([3.0, 1.0, 10.0])) == 3
    assert np.isnan(o.reduce(np.array([1.0, np.nan])))
    assert o.column == "casualties_total_p90"
    f = np.array([[1, 5], [2, 2], [5, 1], [3, 3], [2, 2.5]])
    assert nondominated(f).tolist() == [True, True, True, False, False]
    assert knee_index(f[:3]) == 1  # (2, 2) scaled to (0.25, 0.25): nearest the ideal


def test_objective_values_mark_missing_outcomes_infeasible(tmp_path: Path) -> None:
    opt = load_optimization(tiny_file(tmp_path, futures='''
[futures]
n = 2
[[futures.factors]]
key = "armed_groups.aggression"
range = [0.03, 0.08]'''))
    runs = pd.DataFrame({"candidate": [0, 0, 1, 1], "point": [0, 1, 0, 1],
                         "casualties_total": [4.0, 6.0, 1.0, 2.0],
                         "relapse_ratio": [0.5, 1.5, np.nan, 1.0],
                         "final_trust_pk": 0.4, "troop_weeks": [10.0, 30.0, 5.0, 5.0]})
    gen = Generation(1, np.zeros((3, opt.n_var)), [{}] * 3, ["a", "b", "c"],
                     {2: "too dense"}, pd.DataFrame(), {})
    values, notes = objective_values(opt, gen, runs)
    assert values[0].tolist() == [5.0, 1.0, 0.4, 20.0]
    assert np.isnan(values[1, 1]) and "relapse_ratio" in notes[1] and "did not leave" in notes[1]
    assert np.isnan(values[2]).all() and "invalid scenario" in notes[2]


# --------------------------------------------------------------------------- bad files


BAD = {
    "unknown lever": ('"strategy.restrain" = [0.1, 0.2]', "did you mean strategy.restraint"),
    "lever outside the schema": ('"strategy.transparency" = [0.5, 1.5]',
                                 "outside what the scenario schema allows"),
    "context parameter as lever": ('"world.width" = [20, 30]', "not a lever"),
    "role lever one by one": ('"strategy.roles.patrol" = [0, 1]', "levers.roles"),
    "not a number": ('"strategy.adaptive" = [0, 1]', "not a number"),
    "whole-number lever": ('"strategy.rr_speed" = [1.5, 4]', "whole number"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_levers_exit_2(case: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    lever, message = BAD[case]
    path = tiny_file(tmp_path, extra_levers=lever)
    assert main(["optimize", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and "levers" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 3
    assert not (tmp_path / "o").exists()
    assert main(["validate", str(path)]) == 2


@pytest.mark.parametrize(("change", "message"), [
    (("population = 6", "population = 7"), "even population"),
    (("population = 6", "population = 2"), "greater than or equal to 4"),
    (('[[objectives]]\noutcome = "relapse_ratio"\n[[objectives]]\noutcome = '
      '"final_trust_pk"\n[[objectives]]\noutcome = "troop_weeks"', ""), "at least 2"),
    (('outcome = "troop_weeks"', 'outcome = "troop_weeks"\naggregate = "p100"'),
     "p1\" to \"p99\""),
    (('outcome = "troop_weeks"', 'outcome = "troopweeks"'), "did you mean troop_weeks"),
    (('outcome = "troop_weeks"', 'outcome = "clashes_total"'), "no better direction"),
    (('roles = ["patrol", "engagement", "ddr"]', 'roles = ["patrol", "gardening"]'),
     "not a role"),
    (('roles = ["patrol", "engagement", "ddr"]', 'roles = ["patrol"]'), "at least two"),
    (('"mission.drawdown_start" = [10, 20]', ""), "measured after the mission leaves"),
    (('"mission.drawdown_start" = [10, 20]', '"mission.drawdown_start" = [10, 39]'),
     "post-exit window"),
    (('name = "nsga2"', 'name = "nsga2"\npartitions = 2'), "only for name"),
    (('name = "nsga2"\npopulation = 6', 'name = "nsga3"\npopulation = 6\npartitions = 3'),
     "reference directions"),
    (('"peacekeepers.density" = [0.01, 0.05]', '"peacekeepers.density" = [0.01, 0.9]'),
     "high corner"),
    (("seed = 3", "seed = 3\nsurprise = 1"), "unknown key"),
])
def test_bad_files_exit_2(change: tuple[str, str], message: str, tmp_path: Path,
                          capsys: pytest.CaptureFixture) -> None:
    path = tiny_file(tmp_path)
    text = path.read_text()
    assert change[0] in text
    path.write_text(text.replace(change[0], change[1], 1))
    with pytest.raises(OptimizeError, match="invalid optimisation file"):
        load_optimization(path)
    assert main(["optimize", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err


def test_futures_must_not_be_levers(tmp_path: Path) -> None:
    path = tiny_file(tmp_path, futures='''
[futures]
n = 2
[[futures.factors]]
key = "strategy.restraint"
range = [0.6, 0.9]''')
    with pytest.raises(OptimizeError, match="also a lever"):
        load_optimization(path)


def test_shipped_optimisation_file() -> None:
    assert main(["validate", str(SHIPPED)]) == 0
    opt = load_optimization(SHIPPED)
    alg = opt.spec.algorithm
    runs = alg.population * alg.generations * len(opt.futures) * len(opt.seeds)
    assert 12 <= alg.population <= 16 and 4 <= alg.generations <= 6 and runs <= 500
    assert {o.outcome for o in opt.objectives} == {"casualties_total", "relapse_ratio",
                                                   "final_trust_pk", "troop_weeks"}


# --------------------------------------------------------------------------- searches


def test_front_files_validate_and_run_and_reproduce(tmp_path: Path) -> None:
    """One future, one replicate: a front member's file, run with the replicate seed, gives
    exactly the objective values of its row in front.csv."""
    path = tiny_file(tmp_path, population=6, generations=2)
    out = tmp_path / "o"
    res = sim.optimize(path, out, workers=0)
    front = pd.read_csv(out / "front.csv")
    ev = pd.read_parquet(out / "evaluations.parquet")
    assert len(ev) == 12 and set(ev["generation"]) == {1, 2}
    pd.testing.assert_frame_equal(front.reset_index(drop=True),
                                  res.front.reset_index(drop=True), check_dtype=False)
    # the front is the non-dominated set of the distinct feasible candidates
    cols = ["casualties_total", "relapse_ratio", "final_trust_pk", "troop_weeks"]
    ok = ev[ev["feasible"] & ~ev["label"].duplicated()]
    f = ok[cols].to_numpy(dtype=float) * np.array([1, 1, -1, 1])
    assert set(ok.loc[nondominated(f), "label"]) == set(front["label"])
    assert front["knee"].sum() == 1
    files = sorted((out / "strategies").glob("front_*.toml"))
    assert [p.stem for p in files] == list(front["front_id"])
    assert main(["validate", *map(str, files)]) == 0
    seed = json.loads((out / "manifest.json").read_text())["replicate_seeds"][0]
    row = front.iloc[0]
    run_out = tmp_path / "run"
    assert main(["run", str(SC / "baseline.toml"), "--strategy", str(files[0]), "--seed",
                 str(seed), "--ticks", "40", "--set", "world.width=16", "--set",
                 "world.height=16", "--out", str(run_out), "--no-plots", "--quiet"]) == 0
    summary = json.loads((run_out / "summary.json").read_text())
    for c in cols:
        assert summary[c] == pytest.approx(row[c], rel=1e-12), c
    text = res.report_md.read_text(encoding="utf-8")
    assert "Balanced choice (the knee)" in text and "parallel_coordinates.png" in text
    assert (out / "report.html").is_file() and (out / "figures" / "convergence.png").is_file()
    assert tomllib.loads(files[0].read_text())["strategy"]["name"] == files[0].stem


@pytest.mark.slow
def test_resume_after_sigkill_gives_the_same_front(tmp_path: Path) -> None:
    futures = '''
[futures]
n = 2
[[futures.factors]]
key = "armed_groups.aggression"
range = [0.03, 0.08]'''
    path = tiny_file(tmp_path, population=8, generations=4, futures=futures, size=20,
                     ticks=60)
    out = tmp_path / "killed"
    args = ["optimize", str(path), "--out", str(out), "--workers", "2", "--quiet"]
    status = kill_after(args, out, 40, tmp_path / "log.txt")  # inside generation 3
    assert status == -signal.SIGKILL
    assert not (out / "front.csv").exists()
    assert main([*args, "--resume"]) == 0
    whole = optimize(path, tmp_path / "whole", workers=0)
    resumed = pd.read_csv(out / "front.csv")
    pd.testing.assert_frame_equal(resumed, pd.read_csv(tmp_path / "whole" / "front.csv"))
    pd.testing.assert_frame_equal(pd.read_parquet(out / "evaluations.parquet"),
                                  whole.evaluations)
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["resume"] for s in manifest["sessions"]] == [False, True]
    gens = pd.read_csv(out / "generations.csv")
    assert gens["runs_stored_before"].sum() >= 40  # the killed session's runs were reused
    for a, b in zip(sorted((out / "strategies").glob("*.toml")),
                    sorted((tmp_path / "whole" / "strategies").glob("*.toml")), strict=True):
        strip = [line for line in a.read_text().splitlines() if "peacesim run" not in line]
        assert strip == [line for line in b.read_text().splitlines()
                         if "peacesim run" not in line]


def test_nsga3_and_folder_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tiny_file(tmp_path, population=4, generations=2, algorithm="nsga3",
                     objectives=("casualties_total", "troop_weeks"))
    res = optimize(path, tmp_path / "o", workers=0)
    assert len(res.front) >= 1 and res.front["knee"].sum() == 1
    # same folder again without --resume, or --resume with another file: exit 2
    assert main(["optimize", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "not empty" in capsys.readouterr().err
    other = tiny_file(tmp_path, population=4, generations=3, algorithm="nsga3",
                      objectives=("casualties_total", "troop_weeks"), name="other.toml")
    assert main(["optimize", str(other), "--out", str(tmp_path / "o"), "--resume"]) == 2
    assert "different file" in capsys.readouterr().err
    # resuming a finished search runs nothing and writes the same front
    before = (tmp_path / "o" / "front.csv").read_text()
    again = optimize(path, tmp_path / "o", workers=0, resume=True)
    assert again.timing["runs_now"] == 0 and (tmp_path / "o" / "front.csv").read_text() == \
        before


def test_python_entry_points_are_exported() -> None:
    from sim.experiments.sweep import run_sweep

    assert sim.run_sweep is run_sweep and sim.optimize is optimize
    assert {"optimize", "run_sweep"} <= set(sim.__all__)
