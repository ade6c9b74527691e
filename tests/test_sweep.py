"""Sweeps: same results on any executor, failures recorded, resume after SIGKILL, corrupt
files redone, bad options exit 2."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pandas as pd
import pytest
from sweep_util import (
    kill_after,
    model_results,
    summary_files,
    tiny_experiment,
)

from sim.cli import main
from sim.experiments.store import (
    CORRUPT,
    FAILURES,
    TIMESERIES,
    open_store,
    read_failures,
    read_summaries,
    read_timeseries,
)
from sim.experiments.sweep import FAIL_ENV, SweepAborted, execute, run_sweep, warm_worker

QUIET = {"progress": False}  # the library prints nothing unless given a log


@pytest.fixture(scope="module", autouse=True)
def warm() -> None:
    """Compile (or load) the kernels here first, so worker processes find them cached."""
    warm_worker()


def _series(out) -> pd.DataFrame:
    _, design = open_store(out)
    ts = read_timeseries(out, design)
    return ts.sort_values(["run_id", "tick"]).reset_index(drop=True)


def test_serial_and_process_pool_give_identical_results(tmp_path):
    exp = tiny_experiment(tmp_path, reps=3)
    serial = run_sweep(exp, tmp_path / "serial", workers=0, **QUIET)
    pool = run_sweep(exp, tmp_path / "pool", workers=2, **QUIET)
    assert serial.done == pool.done == 12 and not serial.failed and not pool.failed
    a, b = model_results(tmp_path / "serial"), model_results(tmp_path / "pool")
    assert len(a) == 12
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_frame_equal(_series(tmp_path / "serial"), _series(tmp_path / "pool"),
                                  check_exact=True)
    # the time-series files are byte-identical too (same content, same writer)
    for f in (tmp_path / "serial" / TIMESERIES).rglob("*.parquet"):
        twin = tmp_path / "pool" / f.relative_to(tmp_path / "serial")
        assert f.read_bytes() == twin.read_bytes()
    workers = set(read_summaries(tmp_path / "pool")["worker"])
    assert all(int(w.rsplit(":", 1)[1]) != os.getpid() for w in workers)
    # the store says what it holds
    manifest, design = open_store(tmp_path / "pool")
    assert manifest["experiment_sha256"] and manifest["model_version"].startswith("0.")
    assert manifest["packages"]["distributed"] and manifest["runs"] == 12
    assert list(design.columns[:8]) == ["run_id", "key", "context", "strategy", "point",
                                        "replicate", "seed", "ticks"]
    assert design["key"].nunique() == 12


def test_failing_runs_recorded_and_the_others_complete(tmp_path, monkeypatch, capsys):
    # the hook makes run 0 fail once (then succeed on retry) and run 1 fail every time
    exp = tiny_experiment(tmp_path, extra="[[factors]]\nkey = 'armed_groups.density'\n"
                                          "levels = [0.02, 0.04]\n")
    out = tmp_path / "out"
    monkeypatch.setenv(FAIL_ENV, "0@1,1")
    code = main(["sweep", str(exp), "--out", str(out), "--workers", "0", "--retries", "1",
                 "--quiet"])
    assert code == 1  # finished, but not every run succeeded
    assert capsys.readouterr().out.strip() == str(out)
    _, design = open_store(out)
    assert len(design) == 16
    results = model_results(out)
    assert set(results["run_id"]) == set(design["run_id"]) - {1}
    attempts = read_summaries(out).set_index("run_id")["attempt"]
    assert attempts[0] == 2 and (attempts.drop(0) == 1).all()
    records = read_failures(out)
    by_run: dict[int, list] = {}
    for r in records:
        by_run.setdefault(r["run_id"], []).append(r)
    assert [r["will_retry"] for r in by_run[0]] == [True]
    assert [r["attempt"] for r in by_run[1]] == [1, 2]
    assert [r["will_retry"] for r in by_run[1]] == [True, False]
    assert "RuntimeError: injected failure" in by_run[1][0]["traceback"]
    assert set(by_run) == {0, 1}
    status = json.loads((out / "status.json").read_text())
    assert status["failed"] == 1

    # --resume retries what failed: run 1 now succeeds
    monkeypatch.delenv(FAIL_ENV)
    stats = run_sweep(exp, out, resume=True, workers=0, **QUIET)
    assert stats.skipped == 15 and stats.done == 1 and not stats.failed


def test_invalid_design_points_are_refused_at_load_not_run(tmp_path, capsys):
    # too many fighters on the map: caught when the experiment loads, nothing runs
    exp = tiny_experiment(tmp_path, extra="[[factors]]\nkey = 'armed_groups.density'\n"
                                          "levels = [0.02, 0.5]\n")
    code = main(["sweep", str(exp), "--out", str(tmp_path / "out"), "--workers", "0",
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "armed_groups.density = 0.5" in err and "exceeds 1" in err
    assert "--resume" not in err and not (tmp_path / "out").exists()


def test_a_scenario_error_in_a_worker_is_not_retried():
    # deterministic: a task whose scenario is invalid (e.g. a design too large to check
    # every point at load) fails the same way every time
    res = execute({"run_id": 0, "attempt": 1, "data": {"model": "peacekeeping"},
                   "source": "x", "overrides": {"armed_groups.density": 0.9}, "seed": 1,
                   "ticks": 2, "keep": {}})
    assert not res["ok"] and not res["retryable"] and "exceeds 1" in res["error"]


def test_worker_crash_renews_the_pool(tmp_path, monkeypatch):
    exp = tiny_experiment(tmp_path, reps=2)
    monkeypatch.setenv(FAIL_ENV, "2@1:crash")  # run 2's worker process dies on attempt 1
    stats = run_sweep(exp, tmp_path / "crash", workers=2, retries=2, **QUIET)
    assert stats.done == 8 and not stats.failed
    errors = [r["error"] for r in read_failures(tmp_path / "crash")]
    assert errors and all("BrokenProcessPool" in e for e in errors)
    monkeypatch.delenv(FAIL_ENV)
    run_sweep(exp, tmp_path / "ref", workers=0, **QUIET)
    pd.testing.assert_frame_equal(model_results(tmp_path / "crash"),
                                  model_results(tmp_path / "ref"))


def test_pool_that_keeps_dying_aborts_the_sweep(tmp_path, monkeypatch):
    exp = tiny_experiment(tmp_path, reps=1, contexts=("baseline",))
    monkeypatch.setenv(FAIL_ENV, "0:crash,1:crash")  # every run kills its worker
    with pytest.raises(SweepAborted, match="died 4 times in a row"):
        run_sweep(exp, tmp_path / "dying", workers=1, retries=10, **QUIET)
    records = read_failures(tmp_path / "dying")
    assert len(records) >= 3 and all("BrokenProcessPool" in r["error"] for r in records)


def test_resume_after_sigkill(tmp_path):
    exp = tiny_experiment(tmp_path, reps=6, ticks=60, size=30)  # 24 runs of ~0.15 s
    out = tmp_path / "killed"
    status = kill_after(["sweep", str(exp), "--out", str(out), "--workers", "1", "--quiet"],
                        out, 5, tmp_path / "sweep.log")
    assert status == -signal.SIGKILL
    killed_with = len(summary_files(out))
    assert 5 <= killed_with < 24

    stats = run_sweep(exp, out, resume=True, workers=0, **QUIET)
    assert stats.skipped == killed_with and stats.done == 24 - killed_with
    assert not stats.failed
    run_sweep(exp, tmp_path / "uninterrupted", workers=0, **QUIET)
    resumed = model_results(out)
    assert len(summary_files(out)) == 24 and resumed["run_id"].is_unique
    assert not list(out.rglob("*.tmp"))
    pd.testing.assert_frame_equal(resumed, model_results(tmp_path / "uninterrupted"))
    pd.testing.assert_frame_equal(_series(out), _series(tmp_path / "uninterrupted"))
    manifest, _ = open_store(out)
    assert [s["resume"] for s in manifest["sessions"]] == [False, True]


def test_corrupt_and_truncated_files_are_redone(tmp_path):
    exp = tiny_experiment(tmp_path, reps=2)
    out = tmp_path / "store"
    run_sweep(exp, out, workers=0, **QUIET)
    before = model_results(out)
    files = summary_files(out)
    assert len(files) == 8
    # 1: truncated summary; 2: garbage summary; 3: time series with a damaged page
    files[0].write_bytes(files[0].read_bytes()[: files[0].stat().st_size // 2])
    files[1].write_bytes(b"not a parquet file")
    ts = out / TIMESERIES / files[2].relative_to(out / "summaries")
    raw = bytearray(ts.read_bytes())
    mid = len(raw) // 3
    raw[mid:mid + 16] = bytes(16)
    ts.write_bytes(bytes(raw))
    (files[3].parent / ".leftover.parquet.123.abc.tmp").write_bytes(b"half")

    stats = run_sweep(exp, out, resume=True, workers=0, **QUIET)
    assert len(stats.corrupt) == 3, stats.corrupt
    assert stats.skipped == 5 and stats.done == 3 and not stats.failed
    assert len(list((out / CORRUPT).iterdir())) == 6  # each run: summary and series
    assert not list(out.rglob("*.tmp"))
    pd.testing.assert_frame_equal(model_results(out), before)
    # a second resume finds nothing to do
    again = run_sweep(exp, out, resume=True, workers=0, **QUIET)
    assert again.skipped == 8 and again.done == 0 and not again.corrupt


def test_bad_options_exit_2(tmp_path, capsys):
    exp = tiny_experiment(tmp_path)
    out = tmp_path / "s"
    assert main(["sweep", str(exp), "--resume", "--quiet"]) == 2
    assert "--resume needs --out" in capsys.readouterr().err
    assert main(["sweep", str(exp), "--resume", "--out", str(tmp_path), "--quiet"]) == 2
    assert "not a sweep folder" in capsys.readouterr().err
    assert main(["sweep", str(exp), "--out", str(out), "--workers", "0", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["sweep", str(exp), "--out", str(out), "--quiet"]) == 2
    assert "not empty" in capsys.readouterr().err
    exp.write_text(exp.read_text().replace("replications = 2", "replications = 3"))
    assert main(["sweep", str(exp), "--out", str(out), "--resume", "--quiet"]) == 2
    assert "different experiment file" in capsys.readouterr().err
    bad = tiny_experiment(tmp_path, name="bad.toml",
                          extra="[output]\nmetrics = ['violence_mean', 'happiness']\n")
    assert main(["sweep", str(bad), "--out", str(tmp_path / "b"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "output.metrics" in err and "'happiness'" in err and "violence_mean" in err
    assert main(["sweep", str(exp), "--workers", "-1"]) == 2
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())
    assert (out / FAILURES).exists() is False


def test_corrupt_manifest_is_one_clear_line(tmp_path, capsys):
    exp = tiny_experiment(tmp_path, reps=1, ticks=3)
    out = tmp_path / "s"
    run_sweep(exp, out, workers=0, **QUIET)
    manifest = out / "manifest.json"
    manifest.write_text(manifest.read_text()[:150])  # cut short, as by a full disk
    for args in (["sweep", str(exp), "--out", str(out), "--resume", "--quiet"],
                 ["compare", str(out)]):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert str(manifest) in err and "corrupt or truncated" in err, err
        assert "restore it from a backup" in err and "JSONDecodeError" not in err
        assert len(err.strip().splitlines()) == 1


def test_resume_that_is_refused_creates_nothing(tmp_path, capsys):
    exp = tiny_experiment(tmp_path, reps=1, ticks=3)
    missing = tmp_path / "nowhere" / "s"
    assert main(["sweep", str(exp), "--out", str(missing), "--resume", "--quiet"]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("x")
    assert main(["sweep", str(exp), "--out", str(other), "--resume", "--quiet"]) == 2
    assert "not a sweep folder" in capsys.readouterr().err
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]  # no lock, no manifest


def test_new_sweep_folder_removed_when_the_set_up_fails(tmp_path, capsys, monkeypatch):
    bad = tiny_experiment(tmp_path, name="bad.toml",
                          extra="[output]\nmetrics = ['happiness']\n")
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", str(bad), "--workers", "0", "--quiet"]) == 2
    assert "'happiness'" in capsys.readouterr().err
    assert not list((tmp_path / "results" / "sweeps").iterdir())  # no empty sweep folder


def test_read_only_sweep_folder_refused_before_anything_runs(tmp_path):
    from sweep_util import in_tmpfs

    exp = tiny_experiment(tmp_path, reps=1, ticks=3)
    disk = tmp_path / "disk"
    disk.mkdir()
    proc = in_tmpfs(disk, "ro,size=1m", ["sweep", str(exp), "--workers", "0", "--out",
                                         str(disk / "s")])
    if proc is None:
        pytest.skip("no private mount namespaces here (unshare -Urm)")
    assert proc.returncode == 2, proc.stderr
    assert "read-only file system" in proc.stderr and "checking" not in proc.stderr


def test_the_library_prints_nothing_unless_asked(tmp_path, capsys):
    exp = tiny_experiment(tmp_path, reps=1, ticks=3)
    run_sweep(exp, tmp_path / "quiet", workers=0)  # defaults: no log, no progress bar
    assert capsys.readouterr() == ("", "")
    lines: list[str] = []
    run_sweep(exp, tmp_path / "told", workers=0, log=lines.append)
    assert capsys.readouterr() == ("", "") and any("checking" in m for m in lines)


def _prints_outside_main(path) -> list[int]:
    """Lines of ``print(...)`` calls and ``sys.stdout/stderr.write`` in a module, except
    under ``if __name__ == "__main__":`` and in the ``main()`` that such a guard calls (the
    module's own command line, ``python -m sim.x``)."""
    import ast

    tree = ast.parse(path.read_text())
    allowed: set[int] = set()
    guarded = False
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and any(
                isinstance(c, ast.Compare) and isinstance(c.left, ast.Name)
                and c.left.id == "__name__" for c in ast.walk(node.test)):
            allowed |= {n.lineno for n in ast.walk(node) if hasattr(n, "lineno")}
            guarded = True
    if guarded:
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == "main":
                allowed |= {n.lineno for n in ast.walk(node) if hasattr(n, "lineno")}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or node.lineno in allowed:
            continue
        f = node.func
        printing = isinstance(f, ast.Name) and f.id == "print"
        writing = (isinstance(f, ast.Attribute) and f.attr == "write"
                   and isinstance(f.value, ast.Attribute)
                   and f.value.attr in ("stdout", "stderr"))
        if printing or writing:
            found.append(node.lineno)
    return found


def test_no_stray_prints_in_the_library():
    """Only the command line prints (sim/cli.py, and the benchmark tools it dispatches to)."""
    import sim

    package = Path(sim.__file__).resolve().parent
    stray = {}
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        if rel == "cli.py" or rel.startswith("bench/"):
            continue
        if lines := _prints_outside_main(path):
            stray[rel] = lines
    assert not stray, f"print() in library modules: {stray}"
