"""The ``peacesim`` command line: outputs of ``run``, reproducibility, and friendly errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main

SMALL = ["--set", "world.width=12", "--set", "world.height=12", "--ticks", "5"]
EXPECTED_FILES = {
    "timeseries.parquet",
    "timeseries.csv",
    "summary.json",
    "manifest.json",
    "plots/timeseries.png",
    "plots/snapshot_final.png",
}


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _run_ok(capsys, scenario: Path, out: Path, *extra: str) -> Path:
    code, stdout, stderr = _run(capsys, "run", str(scenario), *SMALL, "--out", str(out), *extra)
    assert code == 0, stderr
    assert stdout.strip().splitlines()[-1] == str(out)
    return out


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_run_writes_all_outputs(capsys, tmp_path, scenarios_dir):
    out = tmp_path / "run"
    code, stdout, stderr = _run(
        capsys, "run", str(scenarios_dir / "epstein_model2.toml"), *SMALL, "--seed", "3",
        "--out", str(out),
    )
    assert code == 0, stderr
    lines = stdout.strip().splitlines()
    assert lines[-1] == str(out)  # the folder alone on the last line
    assert any("peak active" in line for line in lines[:-1])
    assert _files(out) == EXPECTED_FILES

    pq = pd.read_parquet(out / "timeseries.parquet")
    csv = pd.read_csv(out / "timeseries.csv")
    pd.testing.assert_frame_equal(pq, csv)
    assert len(pq) == 6 and list(pq["tick"]) == list(range(6))
    assert {"group_0", "group_1", "killings"} <= set(pq.columns)

    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 3 and summary["scenario"] == "epstein_model2"
    assert summary["ticks"] == 5

    manifest = json.loads((out / "manifest.json").read_text())
    for key in ("created", "peacesim_version", "python_version", "platform", "packages",
                "git", "parameters", "scenario_hash", "seed", "seed_entropy", "ticks"):
        assert key in manifest, key
    assert manifest["seed"] == 3 and manifest["ticks"] == 5
    assert manifest["scenario"] == "epstein_model2"
    assert manifest["parameters"]["world"]["width"] == 12
    assert set(manifest["packages"]) >= {"mesa", "numpy", "numba", "pandas", "pyarrow"}
    assert manifest["packages"]["numpy"]
    assert set(manifest["git"]) == {"commit", "dirty"}
    assert manifest["scenario_file"] == str(scenarios_dir / "epstein_model2.toml")
    assert len(manifest["scenario_hash"]) == 64


def test_subprocess_default_folder_and_quiet(tmp_path, scenarios_dir, repo_root):
    env = {**os.environ, "PYTHONPATH": str(repo_root)}
    proc = subprocess.run(
        [sys.executable, "-m", "sim.cli", "run", str(scenarios_dir / "epstein_model1.toml"),
         *SMALL, "--quiet", "--no-plots"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1  # --quiet: only the folder
    folder = tmp_path / lines[0]
    assert folder.parent == tmp_path / "results"
    assert folder.name.startswith("epstein_model1-seed1-")
    assert _files(folder) == EXPECTED_FILES - {p for p in EXPECTED_FILES if "plots" in p}


def test_subprocess_error_has_no_traceback(tmp_path, repo_root):
    bad = tmp_path / "bad.toml"
    bad.write_text("[world]\nwidht = 3\n")
    env = {**os.environ, "PYTHONPATH": str(repo_root)}
    proc = subprocess.run(
        [sys.executable, "-m", "sim.cli", "run", str(bad)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "world.widht" in proc.stderr and str(bad) in proc.stderr


def test_same_seed_identical_different_seed_differs(capsys, tmp_path, scenarios_dir):
    sc = scenarios_dir / "epstein_model1.toml"
    a = _run_ok(capsys, sc, tmp_path / "a", "--seed", "7", "--no-plots")
    b = _run_ok(capsys, sc, tmp_path / "b", "--seed", "7", "--no-plots")
    c = _run_ok(capsys, sc, tmp_path / "c", "--seed", "8", "--no-plots")
    for name in ("timeseries.csv", "timeseries.parquet"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "timeseries.csv").read_bytes() != (c / "timeseries.csv").read_bytes()
    summary = lambda d: json.loads((d / "summary.json").read_text())  # noqa: E731
    assert summary(a) == summary(b)


def test_set_override_recorded_in_manifest(capsys, tmp_path, scenarios_dir):
    out = _run_ok(
        capsys, scenarios_dir / "epstein_model1.toml", tmp_path / "o",
        "--set", "unrest.legitimacy=0.7", "--set", "name=renamed", "--no-plots",
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["unrest"]["legitimacy"] == 0.7
    assert manifest["parameters"]["name"] == "renamed"
    assert manifest["overrides"]["unrest.legitimacy"] == 0.7
    base = json.loads(
        (_run_ok(capsys, scenarios_dir / "epstein_model1.toml", tmp_path / "p", "--no-plots")
         / "manifest.json").read_text()
    )
    assert base["scenario_hash"] != manifest["scenario_hash"]


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "scenario.toml"
    p.write_text(text)
    return p


# a file that says something (an empty one is refused: it would run with every default)
MINIMAL = 'model = "epstein"\n'
# each case: (file contents or None for a missing file, extra CLI args, expected fragments)
BAD_INPUTS = {
    "unknown key": (
        "[world]\nwidht = 3\n", [], ["{file}", "world.widht", "3", "unknown key", "width"]
    ),
    "wrong type": (
        '[world]\nwidth = "big"\n', [], ["{file}", "world.width", "'big'", "integer"]
    ),
    "out of range": (
        "[residents]\ndensity = 1.5\n", [],
        ["{file}", "residents.density", "1.5", "less than or equal to 1"],
    ),
    "missing file": (None, [], ["{file}", "not found"]),
    "malformed toml": ("[world\nwidth = 3\n", [], ["{file}", "malformed TOML", "line 1"]),
    "unknown --set key": (
        MINIMAL, ["--set", "world.widht=3"], ["{file}", "world.widht", "3", "unknown key", "width"]
    ),
    "wrong --set type": (MINIMAL, ["--set", "world.width=big"], ["{file}", "world.width", "'big'"]),
    "out of range --set": (
        MINIMAL, ["--set", "unrest.legitimacy=2"], ["{file}", "unrest.legitimacy", "2", "less than"]
    ),
    "bad --set syntax": (MINIMAL, ["--set", "world.width"], ["--set", "KEY=VALUE", "world.width"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_exit_2_with_clear_message(capsys, tmp_path, case):
    text, extra, fragments = BAD_INPUTS[case]
    path = tmp_path / "missing.toml" if text is None else _write(tmp_path, text)
    code, out, err = _run(capsys, "run", str(path), *extra, "--out", str(tmp_path / "o"))
    assert code == 2
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment.format(file=path) in err, (fragment, err)
    assert not (tmp_path / "o").exists()


def test_out_folder_not_empty_is_refused(capsys, tmp_path, scenarios_dir):
    out = tmp_path / "full"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    code, _, err = _run(capsys, "run", str(scenarios_dir / "epstein_model1.toml"), *SMALL,
                        "--out", str(out))
    assert code == 2 and "not empty" in err and str(out) in err
    assert _files(out) == {"keep.txt"}


def test_out_folder_empty_is_used(capsys, tmp_path, scenarios_dir):
    out = tmp_path / "empty"
    out.mkdir()
    _run_ok(capsys, scenarios_dir / "epstein_model1.toml", out, "--no-plots")
    assert "manifest.json" in _files(out)


def test_negative_seed_is_usage_error(capsys, tmp_path, scenarios_dir):
    code, _, err = _run(capsys, "run", str(scenarios_dir / "epstein_model1.toml"),
                        "--seed", "-1")
    assert code == 2 and "--seed" in err


def test_validate_all_shipped_scenarios(capsys, scenarios_dir):
    files = sorted(str(p) for p in scenarios_dir.glob("*.toml"))
    assert files
    code, out, err = _run(capsys, "validate", *files)
    assert code == 0, err
    assert out.splitlines() == [f"OK {f} (scenario)" for f in files]


def test_validate_reports_each_file(capsys, tmp_path, scenarios_dir):
    good = scenarios_dir / "epstein_model1.toml"
    bad = _write(tmp_path, "[residents]\ndensity = 1.5\n")
    code, out, err = _run(capsys, "validate", str(good), str(bad))
    assert code == 2
    assert f"OK {good}" in out
    assert str(bad) in err and "residents.density" in err


def test_unexpected_error_is_one_line_unless_debug(capsys, monkeypatch, tmp_path,
                                                   scenarios_dir):
    def boom(*args, **kwargs):
        raise RuntimeError("kernel exploded")

    monkeypatch.setattr("sim.io.runner.run", boom)
    args = ["run", str(scenarios_dir / "epstein_model1.toml"), "--out", str(tmp_path / "x")]
    monkeypatch.delenv("PEACESIM_DEBUG", raising=False)
    code, _, err = _run(capsys, *args)
    assert code == 1
    assert "RuntimeError: kernel exploded" in err and "PEACESIM_DEBUG=1" in err
    assert "Traceback" not in err
    monkeypatch.setenv("PEACESIM_DEBUG", "1")
    with pytest.raises(RuntimeError, match="kernel exploded"):
        main(args)


def test_bench_is_dispatched_with_remaining_args(monkeypatch):
    seen: list[list[str] | None] = []
    fake = types.ModuleType("sim.bench.bench")
    fake.main = lambda argv: seen.append(argv) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sim.bench.bench", fake)
    import sim.bench
    monkeypatch.setattr(sim.bench, "bench", fake, raising=False)
    assert main(["bench", "--quick", "--sizes", "40"]) == 0
    assert seen == [["--quick", "--sizes", "40"]]


def test_help_and_unknown_command(capsys):
    assert main(["--help"]) == 0
    assert "run" in capsys.readouterr().out
    assert main(["frobnicate"]) == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err
    assert main(["sensitivity"]) == 2  # the study file is required
    assert "required: EXPERIMENT" in capsys.readouterr().err


# --------------------------------------------------------------------------- first hour


def test_readme_quickstart_runs_twice_with_overwrite(capsys, tmp_path, scenarios_dir):
    sc = scenarios_dir / "epstein_model1.toml"
    out = tmp_path / "demo"
    _run_ok(capsys, sc, out, "--seed", "3", "--no-plots")
    code, _, err = _run(capsys, "run", str(sc), *SMALL, "--out", str(out))
    assert code == 2 and "holds a previous run" in err and "--overwrite" in err
    (out / "note.txt").write_text("mine")  # a folder of a run, with more in it, is replaced
    _run_ok(capsys, sc, out, "--seed", "4", "--no-plots", "--overwrite")
    assert json.loads((out / "summary.json").read_text())["seed"] == 4
    assert not (out / "note.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]  # no temporary folders
    assert json.loads((out / "manifest.json").read_text())["kind"] == "peacesim-run"


def test_overwrite_never_replaces_anything_but_a_run(capsys, tmp_path, scenarios_dir):
    from sweep_util import tiny_experiment

    sc = scenarios_dir / "epstein_model1.toml"
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    code, _, err = _run(capsys, "run", str(sc), *SMALL, "--out", str(mine), "--overwrite")
    assert code == 2 and "not a peacesim run folder" in err
    assert _files(mine) == {"thesis.tex"}
    sweep = tmp_path / "sweep"
    assert main(["sweep", str(tiny_experiment(tmp_path, reps=1, ticks=3)), "--workers", "0",
                 "--out", str(sweep), "--quiet"]) == 0
    capsys.readouterr()
    before = _files(sweep)
    code, _, err = _run(capsys, "run", str(sc), *SMALL, "--out", str(sweep), "--overwrite")
    assert code == 2 and "not a peacesim run folder" in err and _files(sweep) == before
    code, _, err = _run(capsys, "run", str(sc), *SMALL, "--overwrite")
    assert code == 2 and "--overwrite goes with --out" in err


def test_default_folder_names_scenario_strategy_and_seed(capsys, tmp_path, scenarios_dir,
                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, "run", str(scenarios_dir / "liberia.toml"), "--strategy",
                          str(scenarios_dir / "strategies" / "integrated.toml"), *SMALL,
                          "--seed", "3", "--no-plots", "--quiet")
    assert code == 0, err
    folder = Path(out.strip())
    assert folder.parent == Path("results")
    assert folder.name.startswith("liberia-integrated-seed3-"), folder.name
    code, out, err = _run(capsys, "run", str(scenarios_dir / "liberia.toml"), *SMALL,
                          "--seed", "3", "--no-plots", "--quiet")
    assert code == 0 and Path(out.strip()).name.startswith("liberia-seed3-")


@pytest.mark.parametrize(("extra", "expected"), [
    ([], "mission stays to the end"),
    (["--set", "peacekeepers.density=0"], "no mission"),
    (["--set", "mission.drawdown_start=2", "--set", "mission.drawdown_ticks=1",
      "--set", "mission.exit_window=2"],
     "exit at tick "),
])
def test_summary_says_how_the_mission_ended(capsys, tmp_path, scenarios_dir, extra,
                                            expected):
    code, out, err = _run(capsys, "run", str(scenarios_dir / "baseline.toml"), *SMALL,
                          "--ticks", "12", *extra, "--no-plots", "--out", str(tmp_path / "o"))
    assert code == 0, err
    mission = next(line for line in out.splitlines() if line.startswith("mission"))
    assert expected in mission and "?" not in mission, mission


def test_output_folder_is_checked_before_the_run(capsys, tmp_path, scenarios_dir,
                                                 monkeypatch):
    from sim.io import runner

    def no_run(*args, **kwargs):
        raise AssertionError("simulated although the output folder cannot be written")

    monkeypatch.setattr(runner, "run", no_run)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = _run(capsys, "run", str(scenarios_dir / "epstein_model1.toml"), *SMALL,
                        "--out", str(blocker / "sub"))
    assert code == 2 and "is a file, not a folder" in err and "running" not in err
    monkeypatch.chdir(blocker.parent)
    (tmp_path / "results").write_text("not a folder")  # where runs go without --out
    code, _, err = _run(capsys, "run", str(scenarios_dir / "epstein_model1.toml"), *SMALL)
    assert code == 2 and "is a file, not a folder" in err


@pytest.mark.parametrize(("options", "fill", "reason"), [
    ("ro,size=1m", False, "read-only file system"),
    ("size=256k", True, "no space left on the device"),
])
def test_read_only_or_full_folder_refused_before_simulating(tmp_path, scenarios_dir,
                                                            options, fill, reason):
    from sweep_util import in_tmpfs

    disk = tmp_path / "disk"
    disk.mkdir()
    proc = in_tmpfs(disk, options, ["run", str(scenarios_dir / "baseline.toml"),
                                    "--ticks", "2000", "--out", str(disk / "run")], fill=fill)
    if proc is None:
        pytest.skip("no private mount namespaces here (unshare -Urm)")
    assert proc.returncode == 2, proc.stderr
    assert reason in proc.stderr and str(disk / "run") in proc.stderr
    assert "running" not in proc.stderr  # refused before the 2,000-tick run
    assert len(proc.stderr.strip().splitlines()) == 1


def test_bench_puts_the_full_model_beside_mesa_on_the_same_grid():
    """The full model's speed-up over Mesa's example on the same grid comes from timings
    taken in turns in the same run, against the 150x target at 100x100 (issue 12)."""
    from sim.bench.bench import full_versus_mesa

    lines: list[str] = []
    for full_ms, ok in ((1.5, True), (3.0, False)):
        samples = [{"mesa_cpu_ms": 300.0, "full_cpu_ms": full_ms, "mesa_wall_ms": 300.0,
                    "full_wall_ms": full_ms}] * 3
        row = full_versus_mesa(100, samples, lines.append)
        assert (row["size"], row["pass"]) == (100, ok)
        assert row["speed_up"] == pytest.approx(300.0 / full_ms)
    assert any("200.0x" in line for line in lines) and any("PASS" in line for line in lines)
    assert any("100.0x" in line for line in lines) and any("FAIL" in line for line in lines)
    assert full_versus_mesa(40, samples, lines.append)["target"] is None  # no target there
