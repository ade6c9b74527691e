"""``peacesim calibrate``: ABC-SMC (pyabc) on the sweep executors, validation, resume,
determinism and parameter recovery from data simulated by the model itself."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sweep_util import SC, subprocess_env

from sim.cli import main

pytest.importorskip("pyabc")

ROOT = Path(__file__).resolve().parents[1]
BASELINE = SC / "baseline.toml"
ACLED = ROOT / "data" / "examples" / "synthetic_acled.csv"


def write_cal(folder: Path, *, size: int = 12, ticks: int = 20, population: int = 20,
              generations: int = 2, replicates: int = 1, seed: int = 3,
              parameters: str | None = None, targets: str | None = None, extra: str = "",
              abc_extra: str = "", name: str = "cal.toml") -> Path:
    """A small calibration file (absolute paths) that runs in seconds."""
    parameters = parameters or '"armed_groups.aggression" = { uniform = [0.01, 0.4] }\n'
    targets = targets or ('[[targets]]\nstatistic = "attacks_total"\nobserved = 10\n'
                          '[[targets]]\nstatistic = "combatants_mean"\nobserved = 5\n'
                          'holdout = true\n')
    path = folder / name
    path.write_text(
        f'scenario = "{BASELINE}"\nticks = {ticks}\nreplicates = {replicates}\nseed = {seed}\n'
        f'{extra}\n[set]\n"world.width" = {size}\n"world.height" = {size}\n'
        f"[abc]\npopulation = {population}\ngenerations = {generations}\nppc_draws = 6\n"
        f"{abc_extra}\n[parameters]\n{parameters}\n{targets}")
    return path


# --------------------------------------------------------------------------- validation


BAD = {
    "unknown top-level key": ("extra", "colour = 'red'", "colour: unknown key"),
    "unknown parameter key": (
        "parameters", '"armed_groups.agression" = { uniform = [0.1, 0.2] }',
        "not a scenario parameter; did you mean armed_groups.aggression"),
    "prior outside the schema": (
        "parameters", '"armed_groups.aggression" = { uniform = [0.1, 1.5] }',
        "outside armed_groups.aggression's allowed range [0, 1]"),
    "normal prior on a bounded parameter": (
        "parameters", '"armed_groups.aggression" = { normal = [0.1, 0.05] }',
        "use truncnormal"),
    "two priors": (
        "parameters", '"armed_groups.aggression" = { uniform = [0.1, 0.2], normal = [0, 1] }',
        "give exactly one prior"),
    "low above high": (
        "parameters", '"armed_groups.aggression" = { uniform = [0.3, 0.2] }',
        "low must be below high"),
    "unknown prior key": (
        "parameters", '"armed_groups.aggression" = { beta = [1, 2] }', "beta: unknown key"),
    "non-numeric parameter": (
        "parameters", '"world.vision_shape" = { uniform = [0, 1] }', "not numeric"),
    "unknown run statistic": (
        "targets", '[[targets]]\nstatistic = "casualtys_total"\nobserved = 3\n',
        "not a statistic of a run of baseline.toml; did you mean casualties_total"),
    "missing data file": (
        "targets", '[[targets]]\nstatistic = "civilian_fatalities_per_month"\n'
        'data = "nowhere.csv"\nformat = "acled"\n', "targets[0].data = 'nowhere.csv': file not "
        "found"),
    "data without format": (
        "targets", f'[[targets]]\nstatistic = "civilian_fatalities_per_month"\n'
        f'data = "{ACLED}"\n', "targets[0].format: required with `data`"),
    "unmapped data statistic": (
        "targets", f'[[targets]]\nstatistic = "events_per_month"\ndata = "{ACLED}"\n'
        'format = "acled"\n', "name one with `model_statistic`"),
    "empty selection": (
        "targets", f'[[targets]]\nstatistic = "civilian_fatalities_per_month"\n'
        f'data = "{ACLED}"\nformat = "acled"\nregion = "admin2=Atlantis"\n',
        "no events in the selection"),
    "no targets": ("extra", "targets = []", "targets = []"),
    "all targets held out": (
        "targets", '[[targets]]\nstatistic = "attacks_total"\nobserved = 3\nholdout = true\n',
        "at least one must be fitted"),
    "observed and data": (
        "targets", f'[[targets]]\nstatistic = "civilian_fatalities_per_month"\nobserved = 1\n'
        f'data = "{ACLED}"\nformat = "acled"\n', "not both"),
    "no stop rule": ("abc", "generations = 0", "generations"),
    "abc without a stop": ("abc", "", "abc: give `generations`, `min_epsilon` and/or "
                           "`max_simulations`: when to stop"),
    "seed in [set]": ("set", '"run.seed" = 4',
                      "set.run.seed = 4: the calibration file's top-level `seed` sets this"),
    "fitted run length": ("parameters", '"run.ticks" = { uniform = [10, 20] }',
                          "the calibration file's top-level `ticks` sets this"),
    "string for a number": (
        "parameters", '"armed_groups.aggression" = { uniform = ["0.1", 0.2] }',
        "parameters.armed_groups.aggression.uniform[0] = '0.1': Input should be a valid "
        "number"),
    "path-unsafe name": ("extra", 'name = "../up"', "name = '../up': use 1-100 letters"),
    "target named twice": (
        "targets", '[[targets]]\nstatistic = "attacks_total"\nobserved = 3\n'
        '[[targets]]\nstatistic = "attacks_total"\nobserved = 4\n',
        "targets[1]: the name 'attacks_total' is used twice"),
    "stray data key": (
        "targets", '[[targets]]\nstatistic = "attacks_total"\nobserved = 3\n'
        'region = "admin2=Tesso"\n', "targets[0].region = 'admin2=Tesso': only for a target "
        "computed from event data"),
    "bad month": (
        "targets", f'[[targets]]\nstatistic = "civilian_fatalities_per_month"\n'
        f'data = "{ACLED}"\nformat = "acled"\nstart = "2016-13"\n',
        "targets[0].start = '2016-13': expected YYYY-MM-DD or YYYY-MM"),
    "missing scenario": ("extra", 'strategy = "nowhere.toml"',
                         "strategy = 'nowhere.toml': file not found"),
    "prior with no valid scenario": (
        "parameters", '"peacekeepers.density" = { uniform = [0.5, 0.9] }',
        "parameters.peacekeepers.density.uniform = [0.5, 0.9]: no value of the prior tried "
        "makes a valid scenario"),
    "parameter also in [set]": (
        "set", '"armed_groups.aggression" = 0.2', "also fixed in [set]"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_calibration_files_exit_2(case: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture) -> None:
    where, text, expected = BAD[case]
    if where == "parameters":
        path = write_cal(tmp_path, parameters=text)
    elif where == "targets":
        path = write_cal(tmp_path, targets=text)
    elif where == "abc":
        path = write_cal(tmp_path, abc_extra=text)
        path.write_text(path.read_text().replace("generations = 2\n", ""))
    elif where == "set":
        path = write_cal(tmp_path)
        path.write_text(path.read_text().replace('[set]\n', f'[set]\n{text}\n'))
    elif case == "no targets":
        path = write_cal(tmp_path, extra=text, targets="# none\n")
    else:
        path = write_cal(tmp_path, extra=text)
    out = tmp_path / "out"
    assert main(["calibrate", str(path), "--out", str(out), "--workers", "0", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: "), err
    assert str(path) in err and expected in err, err
    assert "Traceback" not in err
    assert not (out / "abc.db").exists()


def test_resume_needs_a_calibration_folder(tmp_path: Path,
                                           capsys: pytest.CaptureFixture) -> None:
    path = write_cal(tmp_path)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.txt").write_text("x")
    assert main(["calibrate", str(path), "--out", str(tmp_path / "other"), "--quiet"]) == 2
    assert "folder is not empty" in capsys.readouterr().err
    assert main(["calibrate", str(path), "--out", str(tmp_path / "other"), "--resume",
                 "--quiet"]) == 2
    assert "not a calibration folder" in capsys.readouterr().err


def test_folder_claim_refuses_a_second_process(tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    """The folder is claimed and locked like a sweep's: a second calibration into it stops
    at once, naming the process that holds it; the lock dies with its holder."""
    from sim.calibration.abc import claim_folder

    path = write_cal(tmp_path)
    out = tmp_path / "out"
    code = ("import sys, time\nfrom pathlib import Path\n"
            "from sim.calibration.abc import claim_folder\n"
            "with claim_folder(Path(sys.argv[1]), False, 'x', ['peacesim', 'holder']):\n"
            "    print('locked', flush=True)\n    time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(out)], env=subprocess_env(),
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        for extra in ([], ["--resume"]):
            assert main(["calibrate", str(path), "--out", str(out), "--workers", "0",
                         "--quiet", *extra]) == 2
            err = capsys.readouterr().err
            assert "in use by another peacesim process" in err and "peacesim holder" in err, err
            assert "Traceback" not in err
    finally:
        proc.kill()
        proc.wait()
    with claim_folder(out, False, "x") as folder:  # released when the holder died
        assert folder == out


def test_output_folder_problems_exit_2_and_leave_nothing(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    """An unusable --out is refused before anything runs (exit 2, one line); a folder made for
    a calibration that fails at set-up (a statistic the run lacks) is removed again."""
    path = write_cal(tmp_path)
    (tmp_path / "file").write_text("x")
    assert main(["calibrate", str(path), "--out", str(tmp_path / "file" / "out"),
                 "--workers", "0", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and len(err.strip().splitlines()) == 1, err
    assert main(["calibrate", str(path), "--out", str(tmp_path / "file"), "--workers", "0",
                 "--quiet"]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    bad = write_cal(tmp_path, name="bad.toml", targets=(
        '[[targets]]\nstatistic = "no_such_statistic"\nobserved = 3\n'))
    out = tmp_path / "new" / "out"
    assert main(["calibrate", str(bad), "--out", str(out), "--workers", "0", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "targets[0].statistic = 'no_such_statistic': not a statistic of a run" in err, err
    assert not out.exists()


# --------------------------------------------------------------------------- file kinds


def test_validate_and_the_other_commands_recognise_calibration_files(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    shipped = ROOT / "experiments" / "calibrate_baseline.toml"
    assert main(["validate", str(shipped), str(BASELINE)]) == 0
    assert capsys.readouterr().out.splitlines() == [f"OK {shipped} (calibration)",
                                                    f"OK {BASELINE} (scenario)"]
    for command in (["sweep"], ["sensitivity"], ["run"]):
        assert main([*command, str(shipped), "--out", str(tmp_path / command[0])]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {shipped}: a calibration file") and \
            f"run it with: peacesim calibrate {shipped}" in err, err
    for other, runs_with in (("quick.toml", "peacesim sweep"),
                             ("morris_screening.toml", "peacesim sensitivity")):
        assert main(["calibrate", str(ROOT / "experiments" / other), "--quiet"]) == 2
        assert f"not a calibration file; run it with: {runs_with}" in capsys.readouterr().err
    assert main(["calibrate", str(BASELINE), "--quiet"]) == 2
    assert "a scenario file (it sets `model`), not a calibration file" in \
        capsys.readouterr().err
    bad = write_cal(tmp_path, extra="colour = 'red'")
    assert main(["validate", str(bad)]) == 2
    assert "colour: unknown key" in capsys.readouterr().err


def test_validating_a_calibration_file_imports_no_engine(tmp_path: Path) -> None:
    """``peacesim validate`` stays light: no numba or Mesa; no pandas unless a target reads
    event data."""
    plain = write_cal(tmp_path)
    data = ROOT / "experiments" / "calibrate_baseline.toml"
    for path, heavy in ((plain, ("numba", "mesa", "pandas", "pyabc")),
                        (data, ("numba", "mesa", "pyabc"))):
        code = ("import sys; from sim.cli import main; "
                f"rc = main(['validate', {str(path)!r}]); "
                f"print(rc, sorted(m for m in {heavy!r} if m in sys.modules))")
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=120, cwd=tmp_path, env=subprocess_env())
        assert proc.stdout.strip().splitlines()[-1] == "0 []", proc.stdout + proc.stderr


# --------------------------------------------------------------------------- statistics


def test_data_targets_and_derived_run_statistics(tmp_path: Path) -> None:
    from sim.calibration.statistics import DATA_TO_MODEL, months, run_statistic
    from sim.config.calibration import load_calibration

    path = write_cal(tmp_path, targets=(
        f'[[targets]]\nname = "civ"\nstatistic = "civilian_fatalities_per_month"\n'
        f'data = "{ACLED}"\nformat = "acled"\nregion = "admin2=Tesso"\nstart = "2016-01"\n'
        f'end = "2016-12"\n'
        f'[[targets]]\nname = "civ100k"\nstatistic = "civilian_fatalities_per_100k_month"\n'
        f'data = "{ACLED}"\nformat = "acled"\nregion = "admin2=Tesso"\nstart = "2016-01"\n'
        f'end = "2016-12"\npopulation = 50000\nholdout = true\n'
        f'[[targets]]\nname = "explicit"\nstatistic = "events_per_month"\n'
        f'data = "{ACLED}"\nformat = "acled"\nmodel_statistic = "attacks_per_month"\n'))
    cal = load_calibration(path)
    raw = pd.read_csv(ACLED)
    sel = raw[(raw["admin2"] == "Tesso") & (raw["event_type"] == "Violence against civilians")
              & raw["event_date"].between("2016-01-01", "2016-12-31")]
    civ, civ100k, explicit = cal.targets
    assert civ.model_statistic == DATA_TO_MODEL["civilian_fatalities_per_month"]
    assert civ.observed == pytest.approx(sel["fatalities"].sum() / 12)
    assert civ100k.observed == pytest.approx(sel["fatalities"].sum() / 12 / 50000 * 1e5)
    assert civ100k.holdout and not civ.holdout
    assert explicit.model_statistic == "attacks_per_month"
    assert explicit.observed == pytest.approx(len(raw) / 48)  # every event, 2016-2019
    summary = {"casualties_total": 13, "battle_deaths_total": 4, "attacks_total": 9,
               "clashes_total": 2, "residents_initial": 1000}
    assert months(52) == pytest.approx(52 * 7 / (365.25 / 12))
    assert run_statistic(summary, "civilian_deaths_per_month", 52) == pytest.approx(
        13 / months(52))
    assert run_statistic(summary, "civilian_deaths_per_100k_month", 52) == pytest.approx(
        13 / months(52) / 1000 * 1e5)
    # the model's own key wins over the derivation
    assert run_statistic({**summary, "civilian_deaths_per_month": 7.5},
                         "civilian_deaths_per_month", 52) == 7.5


def test_run_statistics_of_model_2_scale_deaths_to_the_population() -> None:
    """Model 2.0 reports deaths per month scaled to ``world.population`` and civilian deaths
    per 100k; the derived all-deaths and battle per-100k rates must use the same scale (not
    the agent counts), and per-100k rates must not depend on it."""
    from sim import load_scenario, run
    from sim.calibration.statistics import available, months, run_statistic

    rates = {}
    for population in (0, 30_000):  # 0: one person per resident agent
        sc = load_scenario(BASELINE, overrides={"world.width": 14, "world.height": 14,
                                                "world.population": population,
                                                "armed_groups.aggression": 0.3})
        s = run(sc, seed=5, ticks=40).summary
        assert s["casualties_total"] > 0 and s["battle_deaths_total"] > 0
        scale = s["people_per_resident"]
        assert scale == pytest.approx(population / s["residents_initial"] if population
                                      else 1.0)
        total = (s["casualties_total"] + s["battle_deaths_total"]) * scale / months(40)
        assert run_statistic(s, "deaths_per_month", 40) == pytest.approx(total)
        assert run_statistic(s, "battle_deaths_per_100k_month", 40) == pytest.approx(
            s["battle_deaths_total"] / s["residents_initial"] / months(40) * 1e5)
        assert run_statistic(s, "attacks_per_month", 40) == pytest.approx(
            s["attacks_total"] / months(40))  # events are not scaled
        assert {"civilian_deaths_per_100k_month", "deaths_per_100k_month",
                "battle_deaths_per_month"} <= set(available(s))
        rates[population] = {k: run_statistic(s, k, 40) for k in (
            "civilian_deaths_per_100k_month", "battle_deaths_per_100k_month",
            "deaths_per_100k_month")}
    for k, v in rates[0].items():
        assert rates[30_000][k] == pytest.approx(v), k


def test_shipped_calibration_files_validate() -> None:
    from sim.config.calibration import load_calibration

    files = sorted((ROOT / "experiments").glob("calibrate_*.toml"))
    assert files
    for path in files:
        cal = load_calibration(path)
        assert cal.fitted and cal.holdout
        assert all(np.isfinite(t.observed) for t in cal.targets)


def test_prior_is_restricted_to_valid_scenarios(tmp_path: Path) -> None:
    from sim.calibration.abc import make_prior
    from sim.config.calibration import load_calibration

    # residents 0.6 + police 0.025 + armed groups 0.02 + peacekeepers: > 0.355 is impossible
    path = write_cal(tmp_path, parameters='"peacekeepers.density" = { uniform = [0.0, 0.6] }')
    cal = load_calibration(path)
    prior = make_prior(cal)
    np.random.seed(0)
    draws = [prior.rvs()["peacekeepers.density"] for _ in range(200)]
    assert max(draws) <= 0.355 + 1e-9 and min(draws) < 0.2
    assert prior.pdf({"peacekeepers.density": 0.5}) == 0.0
    assert prior.pdf({"peacekeepers.density": 0.1}) > 0.0
    # a run of 260 ticks must outlast the baseline's drawdown (52 ticks) and the exit window
    # after it (52 ticks): a drawdown starting after tick 156 would cut that window
    path = write_cal(tmp_path, ticks=260, name="drawdown.toml",
                     parameters='"mission.drawdown_start" = { uniform = [100, 200] }')
    prior = make_prior(load_calibration(path))
    assert prior.pdf({"mission.drawdown_start": 150}) > 0.0
    assert prior.pdf({"mission.drawdown_start": 170}) == 0.0


# --------------------------------------------------------------------------- running


def _run(path: Path, out: Path, workers: int, *extra: str) -> None:
    where = list(extra) or ["--workers", str(workers)]
    assert main(["calibrate", str(path), "--out", str(out), *where, "--quiet"]) == 0


@pytest.mark.slow
def test_outputs_and_same_posterior_on_every_executor(tmp_path: Path) -> None:
    """Same file and seed: the same posterior, serial, on a process pool or on Dask."""
    path = write_cal(tmp_path, population=20, generations=2)
    _run(path, tmp_path / "serial", 0)
    _run(path, tmp_path / "pool", 2)
    a = pd.read_parquet(tmp_path / "serial" / "posterior.parquet")
    b = pd.read_parquet(tmp_path / "pool" / "posterior.parquet")
    assert list(a.columns) == ["armed_groups.aggression", "weight"]
    assert len(a) == 20 and a["weight"].sum() == pytest.approx(1)
    assert a["armed_groups.aggression"].nunique() > 10  # real particles, not one value
    pd.testing.assert_frame_equal(a, b)
    try:
        import distributed  # noqa: F401
    except ImportError:
        pass
    else:
        _run(path, tmp_path / "dask", 0, "--dask-local", "2")
        pd.testing.assert_frame_equal(a, pd.read_parquet(tmp_path / "dask" /
                                                         "posterior.parquet"))
    out = tmp_path / "pool"
    for name in ("pairs.png", "marginals.png", "ppc.png", "ppc.csv", "report.md",
                 "generations.csv", "manifest.json", "calibration.toml", "abc.db"):
        assert (out / name).is_file(), name
    gens = pd.read_csv(out / "generations.csv")
    assert list(gens["generation"]) == [0, 1]
    assert (gens["particles"] == 20).all()
    assert (gens["simulations"] >= 20).all() and gens["acceptance_rate"].between(0, 1).all()
    ppc = pd.read_csv(out / "ppc.csv")
    assert list(ppc["target"]) == ["attacks_total", "combatants_mean"]
    assert list(ppc["holdout"]) == [False, True]
    report = (out / "report.md").read_text()
    assert report.startswith("# Calibration: cal\n\n**1 parameter(s) of `baseline.toml` fitted "
                             "to 1 target(s)")
    assert "armed_groups.aggression" in report and "1/tick" in report
    assert "combatants_mean (hold-out)" in report and "## What ABC is" in report
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "peacesim-calibration" and manifest["seed"] == 3
    assert manifest["packages"]["pyabc"]


def _stored_generations(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2) as con:
            return con.execute("SELECT count(*) FROM populations WHERE t >= 0").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_resume_after_sigkill_ends_where_an_uninterrupted_run_ends(tmp_path: Path) -> None:
    path = write_cal(tmp_path, population=25, generations=4, size=14, ticks=25)
    out = tmp_path / "killed"
    args = ["calibrate", str(path), "--out", str(out), "--workers", "2", "--quiet"]
    with open(tmp_path / "log.txt", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "sim.cli", *args], env=subprocess_env(),
                                stdout=log, stderr=log, start_new_session=True)
        try:
            deadline = time.monotonic() + 240
            while _stored_generations(out / "abc.db") < 2:
                assert proc.poll() is None, (tmp_path / "log.txt").read_text()
                assert time.monotonic() < deadline, "no generation was stored"
                time.sleep(0.05)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # coordinator and its workers
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "posterior.parquet").exists()
    assert 2 <= _stored_generations(out / "abc.db") < 4
    assert main([*args, "--resume"]) == 0
    assert _stored_generations(out / "abc.db") == 4
    resumed = pd.read_parquet(out / "posterior.parquet")
    _run(path, tmp_path / "whole", 2)
    pd.testing.assert_frame_equal(resumed, pd.read_parquet(tmp_path / "whole" /
                                                           "posterior.parquet"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["resume"] for s in manifest["sessions"]] == [False, True]


@pytest.mark.slow
def test_recovers_known_parameters_from_simulated_data(tmp_path: Path) -> None:
    """Data simulated by the model at known values: the 90% posterior interval covers each
    true value and is much narrower than the prior's."""
    from sim import load_scenario, run
    from sim.calibration.report import weighted_quantile

    truth = {"armed_groups.aggression": 0.15, "armed_groups.recruit_rate": 0.04}
    size, ticks = 24, 60
    stats = ["attacks_total", "recruits_total", "casualties_total"]
    sc = load_scenario(BASELINE, overrides={"world.width": size, "world.height": size,
                                            **truth})
    sims = [run(sc, seed=10_000 + s, ticks=ticks).summary for s in range(2)]
    observed = {k: float(np.mean([s[k] for s in sims])) for k in stats}
    targets = "".join(f'[[targets]]\nstatistic = "{k}"\nobserved = {v}\n'
                      for k, v in observed.items())
    priors = {"armed_groups.aggression": (0.01, 0.4), "armed_groups.recruit_rate": (0.0, 0.12)}
    params = "".join(f'"{k}" = {{ uniform = [{lo}, {hi}] }}\n' for k, (lo, hi) in priors.items())
    path = write_cal(tmp_path, size=size, ticks=ticks, population=80, generations=5,
                     replicates=2, seed=11, parameters=params, targets=targets)
    _run(path, tmp_path / "out", 2)
    post = pd.read_parquet(tmp_path / "out" / "posterior.parquet")
    for key, (lo, hi) in priors.items():
        q05, q95 = weighted_quantile(post[key].to_numpy(), post["weight"].to_numpy(),
                                     [0.05, 0.95])
        assert q05 <= truth[key] <= q95, (key, q05, q95)
        assert (q95 - q05) < 0.4 * (hi - lo), (key, q05, q95)
