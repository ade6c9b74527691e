"""Sensitivity studies: the plumbing recovers known Sobol' indices, the noise references
behave as the theory says, resume gives the same indices, bad files exit 2."""

from __future__ import annotations

import math
import os
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sweep_util import kill_after, summary_files

from sim.cli import main
from sim.experiments.store import read_failures, read_summaries
from sim.experiments.sweep import FAIL_ENV, warm_worker
from sim.sensitivity.study import (
    SEED_FACTOR,
    IncompleteStudy,
    SensitivityError,
    load_study,
    plan,
    run_study,
    sample,
)
from sim.sensitivity.testfunctions import ishigami_indices

REPO = Path(__file__).resolve().parents[1]
QUIET = {"progress": False}  # the library prints nothing unless given a log
PI = math.pi


@pytest.fixture(scope="module", autouse=True)
def warm() -> None:
    """Compile (or load) the kernels here first, so worker processes find them cached."""
    warm_worker()


def ishigami_study(folder: Path, *, n: int = 512, function: str = "ishigami",
                   policy: str = "common", extra: str = "", name: str = "ishigami") -> Path:
    path = folder / f"{name}.toml"
    factors = "".join(f'[[factors]]\nkey = "x{i}"\nbounds = [{-PI!r}, {PI!r}]\n'
                      for i in (1, 2, 3))
    path.write_text(f'name = "{name}"\nmethod = "sobol"\nfunction = "{function}"\nN = {n}\n'
                    f'outputs = ["Y"]\nseed = 11\nseed_policy = "{policy}"\n'
                    f'bootstrap = 200\n{extra}\n{factors}')
    return path


def model_study(folder: Path, *, n: int = 16, policy: str = "common", method: str = "sobol",
                extra: str = "") -> Path:
    path = folder / "model.toml"
    path.write_text(f"""
name = "model_small"
method = "{method}"
N = {n}
seed = 3
seed_policy = "{policy}"
context = "{REPO / 'scenarios' / 'baseline.toml'}"
ticks = 60
outputs = ["casualties_total", "final_trust_pk"]
bootstrap = 300
{extra}
[set]
"world.width" = 24
"world.height" = 24
[[factors]]
key = "armed_groups.aggression"
bounds = [0.02, 0.10]
[[factors]]
key = "peacekeepers.density"
bounds = [0.01, 0.05]
[[factors]]
key = "strategy.restraint"
bounds = [0.3, 1.0]
""")
    return path


def _sobol(res, output: str = "Y", n: int | None = None) -> pd.DataFrame:
    df = res.analysis.indices
    n = n or int(df["n"].max())
    df = df[(df["method"] == "sobol") & (df["output"] == output) & (df["n"] == n)]
    return df.set_index(["factor", "index"])


def test_ishigami_indices_recovered_through_the_process_pool_and_store(tmp_path):
    res = run_study(ishigami_study(tmp_path), tmp_path / "out", workers=2, **QUIET)
    assert not res.stats.failed and res.stats.done > 0
    assert "process pool" in res.stats.executor
    truth = ishigami_indices()
    idx = _sobol(res)
    for i, f in enumerate(("x1", "x2", "x3")):
        for name in ("S1", "ST"):
            got = idx.loc[(f, name), "value"]
            assert abs(got - truth[name][i]) < 0.06, (f, name, got, truth[name][i])
    # the deterministic function ignores both references
    for ref in ("dummy", SEED_FACTOR):
        assert abs(idx.loc[(ref, "ST"), "value"]) < 1e-12
    # the outputs went back in sample order: Y recomputed from the sample matches
    x = res.x
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    np.testing.assert_allclose(res.y[:, 0], y, rtol=1e-12)
    # files a user reads
    for f in ("indices.csv", "indices.parquet", "convergence.csv", "sample.parquet",
              "report.md", "plots/sobol_Y.png", "plots/convergence_Y.png"):
        assert (res.out / f).is_file(), f
    report = (res.out / "report.md").read_text()
    assert "| 1 | x1 |" in report and "Convergence N = 256 -> 512" in report
    conv = pd.read_csv(res.out / "convergence.csv")
    assert set(conv["index"]) == {"S1", "ST"} and (conv["change"] >= 0).all()


def test_any_executor_gives_the_same_indices(tmp_path):
    study = ishigami_study(tmp_path, n=32, function="ishigami_noisy", policy="independent")
    serial = run_study(study, tmp_path / "serial", workers=0, **QUIET)
    pool = run_study(study, tmp_path / "pool", workers=2, **QUIET)
    np.testing.assert_array_equal(serial.y, pool.y)
    pd.testing.assert_frame_equal(serial.analysis.indices, pool.analysis.indices)


def test_noise_references_measure_the_noise_share(tmp_path):
    """ishigami_noisy = Ishigami + N(0, 1): noise share 1 / (V + 1), V = Var(Ishigami)."""
    a, b = 7.0, 0.1
    var = a**2 / 8 + b * PI**4 / 5 + b**2 * PI**8 / 18 + 0.5
    share = 1 / (var + 1)
    common = run_study(ishigami_study(tmp_path, n=512, function="ishigami_noisy",
                                      name="common"), tmp_path / "c", workers=2, **QUIET)
    idx = _sobol(common)
    # common random numbers: the dummy's rows are its base rows, exactly zero
    assert idx.loc[("dummy", "ST"), "value"] == 0.0
    assert idx.loc[("dummy", "ST"), "conf"] == 0.0
    # the seed factor carries the noise, and only it
    seed_st = idx.loc[(SEED_FACTOR, "ST")]
    assert seed_st["low"] <= share <= seed_st["high"], (seed_st.to_dict(), share)
    assert seed_st["low"] > 0
    # the factors are estimated free of noise: Ishigami's indices scaled by V / (V + 1)
    truth = ishigami_indices()
    for i, f in enumerate(("x1", "x2", "x3")):
        assert abs(idx.loc[(f, "ST"), "value"] - truth["ST"][i] * var / (var + 1)) < 0.06
    independent = run_study(ishigami_study(tmp_path, n=512, function="ishigami_noisy",
                                           policy="independent", name="indep"),
                            tmp_path / "i", workers=2, **QUIET)
    idx = _sobol(independent)
    # independent seeds: the dummy's total index is the noise share
    dummy = idx.loc[("dummy", "ST")]
    assert dummy["low"] <= share <= dummy["high"], (dummy.to_dict(), share)
    assert dummy["low"] > 0


def test_replicates_are_averaged_and_give_the_noise_share(tmp_path):
    """Four replicates per row of Ishigami + N(0, 1): the row mean's noise variance is 1/4."""
    var = 7.0**2 / 8 + 0.1 * PI**4 / 5 + 0.1**2 * PI**8 / 18 + 0.5
    res = run_study(ishigami_study(tmp_path, n=64, function="ishigami_noisy",
                                   policy="independent", extra="replicates = 4"),
                    tmp_path / "out", workers=2, **QUIET)
    assert res.stats.runs == 64 * 7 * 4
    summaries = read_summaries(res.out).sort_values(["point", "replicate"])
    means = summaries.groupby("point")["Y"].mean().to_numpy()
    np.testing.assert_allclose(res.y[:, 0], means, rtol=1e-12)
    share = res.analysis.noise_share["Y"]
    expected = 0.25 / (var + 0.25)
    assert abs(share - expected) < 0.2 * expected, (share, expected)
    assert "Noise share of the variance of the row means" in (res.out / "report.md").read_text()


def test_model_with_common_random_numbers_dummy_total_index_ci_includes_zero(tmp_path):
    res = run_study(model_study(tmp_path), tmp_path / "out", workers=2, **QUIET)
    assert not res.stats.failed
    # the dummy's runs are its base rows (same content key): they ran once
    assert res.stats.distinct == res.stats.runs - 16
    for output in ("casualties_total", "final_trust_pk"):
        idx = _sobol(res, output)
        dummy = idx.loc[("dummy", "ST")]
        assert dummy["low"] <= 0.0 <= dummy["high"], (output, dummy)
        # while a change of random numbers alone moves the model: noise is real
        assert idx.loc[(SEED_FACTOR, "ST"), "value"] > 0.0
        flags = idx.xs("ST", level="index")["above_noise"]
        assert flags.loc["dummy"] is None and flags.loc[SEED_FACTOR] is None
        assert set(flags.drop(["dummy", SEED_FACTOR])) <= {True, False}
    assert (res.out / "plots" / "sobol_casualties_total.png").is_file()


def test_morris_on_the_model(tmp_path):
    res = run_study(model_study(tmp_path, n=6, method="morris", extra='also = ["pawn"]'),
                    tmp_path / "out", workers=0, **QUIET)
    df = res.analysis.indices
    mstar = df[(df["method"] == "morris") & (df["index"] == "mu_star") & (df["n"] == 6)]
    assert set(mstar["factor"]) == {"armed_groups.aggression", "peacekeepers.density",
                                    "strategy.restraint", "dummy", SEED_FACTOR}
    assert (mstar.set_index(["output", "factor"]).xs("dummy", level="factor")["value"]
            == 0).all()
    assert (df["method"] == "pawn").any()
    assert (res.out / "plots" / "morris_casualties_total.png").is_file()
    assert "mu_star" in (res.out / "report.md").read_text()


def test_resume_after_an_interruption_gives_the_same_indices(tmp_path, monkeypatch):
    study = ishigami_study(tmp_path, n=64, function="ishigami_noisy")
    whole = run_study(study, tmp_path / "whole", workers=0, **QUIET)
    # the interrupted study: some runs fail for good (retries = 0), so no indices yet
    monkeypatch.setenv(FAIL_ENV, "3,40,41,200")
    with pytest.raises(IncompleteStudy, match="--resume"):
        run_study(study, tmp_path / "cut", workers=0, retries=0, **QUIET)
    assert not (tmp_path / "cut" / "indices.csv").exists()
    # and a finished run's file lost in the crash
    done = sorted((tmp_path / "cut" / "summaries").rglob("*.parquet"))
    done[0].unlink()
    monkeypatch.delenv(FAIL_ENV)
    failed = {f["run_id"] for f in read_failures(tmp_path / "cut")}
    assert len(failed) >= 3
    resumed = run_study(study, tmp_path / "cut", workers=2, resume=True, **QUIET)
    redo = len(failed) + 1
    assert resumed.stats.done == redo and resumed.stats.skipped == resumed.stats.distinct - redo
    pd.testing.assert_frame_equal(whole.analysis.indices, resumed.analysis.indices)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "whole" / "indices.csv"),
                                  pd.read_csv(tmp_path / "cut" / "indices.csv"))
    # every run once: the store holds as many results as distinct runs
    assert len(read_summaries(tmp_path / "cut")) == len(read_summaries(tmp_path / "whole"))


def test_resume_after_sigkill_gives_the_same_indices(tmp_path):
    """The coordinator and its workers killed mid-study: --resume keeps what was stored,
    runs the rest once, and analyses to the very indices of an uninterrupted study."""
    study = model_study(tmp_path, n=8)  # 8 x 7 rows, 48 distinct runs of 60 ticks
    out = tmp_path / "killed"
    status = kill_after(["sensitivity", str(study), "--out", str(out), "--workers", "1",
                         "--quiet"], out, 5, tmp_path / "study.log")
    assert status == -signal.SIGKILL
    killed_with = len(summary_files(out))
    assert 5 <= killed_with < 48 and not (out / "indices.csv").exists()
    resumed = run_study(study, out, workers=0, resume=True, **QUIET)
    assert resumed.stats.skipped == killed_with
    assert resumed.stats.done == resumed.stats.distinct - killed_with == 48 - killed_with
    whole = run_study(study, tmp_path / "whole", workers=0, **QUIET)
    np.testing.assert_array_equal(resumed.y, whole.y)
    pd.testing.assert_frame_equal(resumed.analysis.indices, whole.analysis.indices)


def test_sample_and_seeds_follow_the_design(tmp_path):
    st = load_study(model_study(tmp_path, n=8))
    x = sample(st)
    assert x.shape == (8 * (3 + 2 + 2), 5)
    design, cells = plan(st, x)
    assert len(design) == st.runs and len(cells) == st.rows
    block = design["point"] // st.block
    seed_col = st.seed_column
    for _, grp in design.groupby(block):
        # common random numbers: a block's rows share seeds unless the seed factor changed
        same = np.isclose(x[grp["point"], seed_col], x[grp["point"].iloc[0], seed_col])
        assert (grp["seed"][same] == grp["seed"].iloc[0]).all()
        assert (grp["seed"][~same] != grp["seed"].iloc[0]).all()
    # the dummy and the seed factor never reach the model
    for cell in cells.values():
        assert set(cell["overrides"]) == {"world.width", "world.height",
                                          "armed_groups.aggression", "peacekeepers.density",
                                          "strategy.restraint"}


ENGAGEMENT = """
[[factors]]
key = "strategy.roles.engagement"
name = "engagement_share"
bounds = [0.0, 0.4]
rescale = true
"""


def test_a_rescaled_role_share_keeps_the_force_size_and_the_other_roles_proportions(
        tmp_path):
    path = model_study(tmp_path, n=4)
    path.write_text(path.read_text() + ENGAGEMENT)
    st = load_study(path)
    base = st.roles
    assert abs(sum(base.values()) - 1) < 1e-9 and base["engagement"] > 0
    x = sample(st)
    _, cells = plan(st, x)
    col = st.keys.index("strategy.roles.engagement")
    seen = set()
    for (_, _, p), cell in cells.items():
        ov = cell["overrides"]
        share = ov["strategy.roles.engagement"]
        assert share == pytest.approx(x[p, col])
        roles = {k.rsplit(".", 1)[1]: v for k, v in ov.items() if k.startswith("strategy.roles")}
        assert sum(roles.values()) == pytest.approx(1.0)
        # the other roles keep the context's proportions
        for r, v in roles.items():
            if r != "engagement":
                assert v == pytest.approx(base[r] * (1 - share) / (1 - base["engagement"]))
        seen.add(round(share, 6))
    assert len(seen) > 2  # the share really varies


@pytest.mark.parametrize(("extra", "message"), [
    (ENGAGEMENT.replace("strategy.roles.engagement", "strategy.restraint")
     .replace("engagement_share", "r2").replace("[0.0, 0.4]", "[0.5, 0.9]"),
     "rescale = true: 'strategy.restraint' is not a role share"),
    (ENGAGEMENT + ENGAGEMENT.replace("engagement", "ddr"),
     "at most one role share can be rescaled"),
    (ENGAGEMENT + '[[factors]]\nkey = "strategy.roles.patrol"\nbounds = [0.1, 0.2]\n',
     "strategy.roles.patrol cannot also be set or varied"),
])
def test_bad_rescaled_factors_are_refused(tmp_path, extra, message):
    path = model_study(tmp_path, n=4)
    path.write_text(path.read_text() + extra)
    with pytest.raises(SensitivityError, match=message.replace("(", r"\(").replace(
            "[", r"\[").replace(".", r"\.")):
        load_study(path)


@pytest.mark.parametrize(("edit", "message"), [
    (("bounds = [0.02, 0.10]", "bounds = [0.10, 0.02]"),
     "factors[0].bounds = [0.1, 0.02]: low (0.1) must be below high (0.02)"),
    (('key = "strategy.restraint"', 'key = "strategy.restrain"'),
     "factors[2].key = 'strategy.restrain': not a scenario parameter; did you mean "
     "strategy.restraint"),
    (("N = 16", "N = 24"), "N = 24: Sobol' sampling needs a power of two (e.g. 16 or 32)"),
    (("ticks = 60", "ticks = 60\nsamples = 3"), "samples: unknown key (value 3)"),
    (("bounds = [0.3, 1.0]", "bounds = [0.3, 1.5]"),
     "factors[2].bounds = [0.3, 1.5]: strategy.restraint = 1.5 is not allowed"),
    (('outputs = ["casualties_total", "final_trust_pk"]', 'outputs = ["casualties"]'),
     "outputs: 'casualties' is not an output of baseline"),
    (('method = "sobol"', 'method = "fast"'), "method = 'fast'"),
])
def test_bad_study_files_exit_2_with_a_clear_message(tmp_path, capsys, edit, message):
    path = model_study(tmp_path)
    text = path.read_text()
    assert edit[0] in text
    path.write_text(text.replace(edit[0], edit[1], 1))
    assert main(["sensitivity", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and message in err, err
    assert "Traceback" not in err
    with pytest.raises(SensitivityError):
        load_study(path) if "not an output" not in message else run_study(
            path, tmp_path / "o2", workers=0, **QUIET)


def test_cli_runs_a_study_and_prints_the_report(tmp_path, capsys):
    study = ishigami_study(tmp_path, n=16)
    assert main(["sensitivity", str(study), "--workers", "0", "--out", str(tmp_path / "o"),
                 "--quiet"]) == 0
    out = capsys.readouterr().out.strip()
    assert out == str(tmp_path / "o" / "report.md")
    # resuming a finished study re-analyses without running anything
    assert main(["sensitivity", str(study), "--workers", "0", "--out", str(tmp_path / "o"),
                 "--resume", "--quiet"]) == 0
    # a non-empty folder without --resume is refused
    assert main(["sensitivity", str(study), "--out", str(tmp_path / "o"), "--quiet"]) == 2


def test_shipped_study_files_are_valid():
    for name in ("sobol_baseline", "morris_screening"):
        st = load_study(REPO / "experiments" / f"{name}.toml")
        assert st.context == "baseline"
    sobol = load_study(REPO / "experiments" / "sobol_baseline.toml")
    assert sobol.model_factors == 14 and sobol.spec.N == 256
    assert os.path.basename(sobol.source.split(" ")[0]) == "baseline.toml"


@pytest.mark.slow
def test_shipped_morris_screening_produces_its_report(tmp_path, capsys):
    """The issue's acceptance command, as shipped (320 runs of the 50x50 baseline)."""
    out = tmp_path / "morris"
    assert main(["sensitivity", str(REPO / "experiments" / "morris_screening.toml"),
                 "--workers", "1", "--out", str(out), "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == str(out / "report.md")
    report = (out / "report.md").read_text()
    for output in ("casualties_total", "final_trust_pk", "violence_after_exit"):
        assert f"## {output}" in report
        assert (out / "plots" / f"morris_{output}.png").is_file()
    assert "Above the noise floor (mu_star)" in report and "Convergence N = 10 -> 20" in report
    indices = pd.read_parquet(out / "indices.parquet")
    assert set(indices["method"]) == {"morris", "pawn"}
    assert indices["value"].notna().all()


def test_sweep_and_study_files_are_told_apart(tmp_path, capsys):
    study = REPO / "experiments" / "morris_screening.toml"
    assert main(["sweep", str(study), "--out", str(tmp_path / "a"), "--quiet"]) == 2
    assert "run it with: peacesim sensitivity" in capsys.readouterr().err
    sweep = REPO / "experiments" / "quick.toml"
    assert main(["sensitivity", str(sweep), "--out", str(tmp_path / "b"), "--quiet"]) == 2
    assert "run it with: peacesim sweep" in capsys.readouterr().err


def test_existing_sample_analysed_again_with_other_methods_and_outputs(tmp_path):
    """Editing only the analysis settings and resuming re-analyses without running; editing
    the sample is refused."""
    study = model_study(tmp_path, n=8)
    first = run_study(study, tmp_path / "out", workers=0, **QUIET)
    assert first.stats.done > 0
    text = study.read_text()
    study.write_text(text.replace('outputs = ["casualties_total", "final_trust_pk"]',
                                  'outputs = ["tips_total"]\nalso = ["pawn", "delta"]'))
    again = run_study(study, tmp_path / "out", workers=0, resume=True, **QUIET)
    assert again.stats.done == 0 and again.stats.skipped == first.stats.distinct
    assert set(again.analysis.indices["method"]) == {"sobol", "pawn", "delta"}
    assert set(again.analysis.indices["output"]) == {"tips_total"}
    assert (tmp_path / "out" / "study.toml").read_text() == study.read_text()
    study.write_text(text.replace("N = 8", "N = 16"))
    assert main(["sensitivity", str(study), "--out", str(tmp_path / "out"), "--resume",
                 "--quiet"]) == 2


def test_second_order_indices_of_ishigami(tmp_path):
    """Only x1 and x3 interact: S2(x1, x3) = V13 / V, the other pairs 0."""
    res = run_study(ishigami_study(tmp_path, n=256, extra="second_order = true"),
                    tmp_path / "out", workers=2, **QUIET)
    s2 = res.analysis.second_order
    s2 = s2[s2["n"] == 256].set_index(["factor_a", "factor_b"])
    v13 = ishigami_indices()["ST"][2]  # x3 acts only through its interaction with x1
    for pair, truth in ((("x1", "x3"), v13), (("x1", "x2"), 0.0), (("x2", "x3"), 0.0)):
        row = s2.loc[pair]
        assert abs(row["value"] - truth) <= max(1.5 * row["conf"], 0.05), (pair, row, truth)
    assert (res.out / "second_order.csv").is_file()


@pytest.fixture
def constant_function(monkeypatch):
    """``constant_outputs`` registered as a test function for the test's duration (studies
    name only registered functions; ``--workers 0`` runs them in this process)."""
    from sweep_util import constant_outputs

    from sim.sensitivity import testfunctions

    monkeypatch.setitem(testfunctions.FUNCTIONS, "constant_outputs", constant_outputs)
    monkeypatch.setitem(testfunctions.FUNCTION_FACTORS, "constant_outputs", ("x1", "x2"))


def _constant_study(folder: Path, outputs: list[str]) -> Path:
    path = folder / "constant.toml"
    path.write_text(f'method = "sobol"\nfunction = "constant_outputs"\nN = 8\n'
                    f'outputs = {outputs!r}\nbootstrap = 50\n'
                    '[[factors]]\nkey = "x1"\nbounds = [0, 1]\n'
                    '[[factors]]\nkey = "x2"\nbounds = [0, 1]\n'.replace("'", '"'))
    return path


def test_constant_outputs_are_named_and_the_others_analysed(tmp_path, capsys,
                                                          constant_function):
    out = tmp_path / "some"
    assert main(["sensitivity", str(_constant_study(tmp_path, ["A", "Y"])), "--workers", "0",
                 "--out", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "warning: output 'A' is constant (1) over the whole sample" in err
    assert "indices are undefined" in err and "'Y'" not in err
    indices = pd.read_csv(out / "indices.csv")
    assert set(indices["output"]) == {"Y"}
    report = (out / "report.md").read_text()
    assert "**Not analysed:** `A` is constant (1)" in report and "Analysed: `Y`." in report


def test_all_outputs_constant_is_a_clear_message_not_a_crash(tmp_path, capsys,
                                                           constant_function):
    out = tmp_path / "none"
    assert main(["sensitivity", str(_constant_study(tmp_path, ["A", "B"])), "--workers", "0",
                 "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "TypeError" not in captured.err
    assert "output 'A' is constant (1)" in captured.err
    assert "output 'B' is constant (2)" in captured.err
    assert "no output of the study could be analysed" in captured.err
    assert captured.out.strip() == str(out / "report.md")
    assert "No output could be analysed" in (out / "report.md").read_text()
    assert pd.read_csv(out / "convergence.csv").empty


def test_corrupt_study_manifest_and_full_disk(tmp_path, capsys):
    from sweep_util import in_tmpfs

    study = ishigami_study(tmp_path, n=8)
    out = tmp_path / "o"
    run_study(study, out, workers=0, **QUIET)
    (out / "manifest.json").write_bytes(b"\x00\x00\x00")  # zeroed by a crash
    assert main(["sensitivity", str(study), "--out", str(out), "--resume", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{out / 'manifest.json'}: corrupt or truncated" in err
    disk = tmp_path / "disk"
    disk.mkdir()
    proc = in_tmpfs(disk, "size=256k", ["sensitivity", str(study), "--workers", "0",
                                        "--out", str(disk / "s")], fill=True)
    if proc is None:
        pytest.skip("no private mount namespaces here (unshare -Urm)")
    assert proc.returncode == 2, proc.stderr
    assert "no space left on the device" in proc.stderr and "checking" not in proc.stderr
