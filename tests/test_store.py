"""Output storage: atomic writes, strict JSON, run folders that never collide."""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from sim import load_scenario, run
from sim.config.scenario import Scenario
from sim.io.manifest import build_manifest, git_state
from sim.io.runner import RunResult
from sim.io.store import (
    OutputFolderError,
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
    check_run_out,
    check_writable,
    default_out_dir,
    is_run_dir,
    replace_run,
    write_json,
    write_run,
)

NOW = datetime(2024, 5, 6, 7, 8, 9)


def test_atomic_write_replaces_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "f.txt"
    atomic_write_text(target, "first")
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_failed_write_keeps_old_content_and_no_temp_files(tmp_path):
    target = tmp_path / "f.txt"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_atomic_write_creates_parent_folders(tmp_path):
    target = tmp_path / "a" / "b" / "f.bin"
    atomic_write_bytes(target, b"x")
    assert target.read_bytes() == b"x"


def test_write_json_is_strict(tmp_path):
    path = write_json(
        tmp_path / "x.json",
        {"nan": math.nan, "inf": np.inf, "i": np.int64(3), "f": np.float32(0.5),
         "arr": np.arange(3), "nested": [{"n": float("nan")}]},
    )
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {
        "nan": None, "inf": None, "i": 3, "f": 0.5, "arr": [0, 1, 2], "nested": [{"n": None}],
    }


def test_default_out_dir_never_collides(tmp_path):
    sc = Scenario(name="demo")
    made = [default_out_dir(sc, 4, root=tmp_path, now=NOW) for _ in range(4)]
    base = "demo-seed4-20240506-070809"
    assert [p.name for p in made] == [base, f"{base}-2", f"{base}-3", f"{base}-4"]
    assert all(p.is_dir() and p.parent == tmp_path for p in made)


def test_default_out_dir_parallel_and_unsafe_names(tmp_path):
    # the schema refuses such names; the store still makes any name safe (defence in depth)
    sc = Scenario().model_copy(update={"name": "a/b c"})
    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda _: default_out_dir(sc, 1, tmp_path, NOW), range(16)))
    assert len(set(made)) == 16
    assert all(p.parent == tmp_path and "/" not in p.name and " " not in p.name for p in made)


def test_write_run_nan_summary_and_plot_choice(tmp_path, scenarios_dir):
    sc = load_scenario(scenarios_dir / "epstein_model1.toml",
                       {"world.width": 12, "world.height": 12})
    res = run(sc, seed=2, ticks=3)  # no model kept: no snapshot figure
    res = RunResult(res.scenario, res.seed, res.ticks, res.timeseries,
                    {**res.summary, "odd": math.nan}, None)
    out = write_run(res, tmp_path / "r", plots=True)
    assert json.loads((out / "summary.json").read_text())["odd"] is None
    assert sorted(p.name for p in (out / "plots").iterdir()) == ["timeseries.png"]
    out2 = write_run(res, tmp_path / "r2", plots=False)
    assert not (out2 / "plots").exists()
    manifest = json.loads((out2 / "manifest.json").read_text())
    assert manifest["scenario_file"] is None and manifest["seed"] == 2


def test_manifest_without_git_is_none(tmp_path):
    assert git_state(tmp_path) == {"commit": None, "dirty": None}
    m = build_manifest(Scenario(), seed=1, ticks=2, extra={"note": "x"})
    json.dumps(m, allow_nan=False)  # JSON-serialisable as is
    assert m["note"] == "x" and m["seed_entropy"] == "numpy.random.SeedSequence(seed)"
    assert build_manifest(Scenario(), 1, 2)["scenario_hash"] == m["scenario_hash"]


def test_residents_initial_is_the_true_count_even_when_zero(scenarios_dir):
    for name in ("epstein_model1", "baseline"):
        sc = load_scenario(scenarios_dir / f"{name}.toml", {"residents.density": 0.0,
                                                           "world.width": 10,
                                                           "world.height": 10})
        s = run(sc, seed=1, ticks=3).summary
        assert s["residents_initial"] == 0, name
        assert s["mean_share_active"] == 0.0 and s["outbursts"] == 0  # divisions guarded
    sc = load_scenario(scenarios_dir / "epstein_model1.toml",
                       {"world.width": 12, "world.height": 12})
    res = run(sc, seed=1, ticks=2)
    assert res.summary["residents_initial"] == int(res.timeseries["residents"].iloc[0]) > 1


def test_check_writable_creates_nothing_and_names_the_problem(tmp_path):
    check_writable(tmp_path / "new" / "deeper")  # probed in tmp_path
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputFolderError, match="is a file, not a folder"):
        check_writable(tmp_path / "f" / "out")


def test_replace_run_keeps_the_old_run_when_the_new_one_fails(tmp_path, scenarios_dir,
                                                              monkeypatch):
    sc = load_scenario(scenarios_dir / "epstein_model1.toml",
                       {"world.width": 12, "world.height": 12})
    out = write_run(run(sc, seed=1, ticks=2), tmp_path / "r", plots=False)
    assert is_run_dir(out)
    old = (out / "summary.json").read_bytes()
    import sim.io.store as store

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "write_timeseries", broken)
    with pytest.raises(OSError):
        replace_run(run(sc, seed=2, ticks=2), out, plots=False)
    assert (out / "summary.json").read_bytes() == old  # the previous run, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]  # no temporary folders
    monkeypatch.undo()
    replace_run(run(sc, seed=2, ticks=2), out, plots=False)
    assert json.loads((out / "summary.json").read_text())["seed"] == 2
    with pytest.raises(OutputFolderError, match="holds a previous run"):
        check_run_out(out)
    check_run_out(out, overwrite=True)


def test_model_version_covers_the_model_sources_not_the_tooling(tmp_path):
    import shutil

    import sim
    from sim.experiments.store import model_sources, source_version

    package = Path(sim.__file__).resolve().parent
    rel = {p.relative_to(package).as_posix() for p in model_sources(package)}
    assert {"engine/tick.py", "model/model.py", "model/layer.py", "rules/trust.py",
            "config/scenario.py", "io/recorder.py", "io/runner.py"} <= rel
    assert not rel & {"cli.py", "experiments/sweep.py", "viz/plots.py", "io/store.py"}
    copy = tmp_path / "sim"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    base = source_version(copy, "0")
    (copy / "cli.py").write_text((copy / "cli.py").read_text() + "\n# a comment\n")
    assert source_version(copy, "0") == base  # tooling: same content keys
    kernels = copy / "engine" / "tick.py"
    kernels.write_text(kernels.read_text() + "\n# a comment\n")
    assert source_version(copy, "0") != base  # the engine changed: new content keys
