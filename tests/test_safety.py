"""Operating sweeps safely: pool workers import only the installed package (never modules
planted in the folder a sweep starts from), end within seconds when their coordinator is
killed, and two sessions never work in one sweep folder at once."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sweep_util import kill_after, subprocess_env, summary_files, tiny_experiment

from sim.experiments.lifeline import identity
from sim.experiments.store import LOCK, read_summaries
from sim.experiments.sweep import warm_worker, worker_sys_path

psutil = pytest.importorskip("psutil")

PLANTED = """import os, pathlib
pathlib.Path(os.environ["PLANT_MARKS"], f"{__name__}-{os.getpid()}").touch()
raise ImportError("a planted module was imported")
"""
#: how the ``peacesim`` console script starts: its own folder first on the path, not the
#: current folder (``python -m`` would put the current folder first in the coordinator too)
LAUNCHER = """import sys
from sim.cli import main
if __name__ == "__main__":
    sys.exit(main())
"""


@pytest.fixture(scope="module", autouse=True)
def warm() -> None:
    """Compile (or load) the kernels here first, so worker processes find them cached."""
    warm_worker()


def _launcher(folder: Path) -> Path:
    path = folder / "bin" / "peacesim"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(LAUNCHER)
    return path


def test_workers_never_import_modules_planted_in_the_working_folder(tmp_path):
    work, marks = tmp_path / "work", tmp_path / "marks"
    (work / "sim").mkdir(parents=True)
    marks.mkdir()
    (work / "sim" / "__init__.py").write_text(PLANTED)
    (work / "concurrent.py").write_text(PLANTED)  # imported by concurrent.futures users
    exp = tiny_experiment(tmp_path, reps=1)  # 4 runs
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(_launcher(tmp_path)), "sweep", str(exp), "--workers", "2",
         "--out", str(out), "--quiet"],
        cwd=work, env={**subprocess_env(), "PLANT_MARKS": str(marks)},
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in marks.iterdir()) == []  # nothing planted was imported
    assert len(read_summaries(out)) == 4  # the sweep itself ran as usual


def test_worker_import_path_leaves_out_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", ["", str(tmp_path), *sys.path])
    path = worker_sys_path()
    assert "" not in path and str(tmp_path) not in path
    import sim

    assert path[0] == str(Path(sim.__file__).resolve().parent.parent)  # this source tree


def test_worker_import_path_of_an_installed_package_keeps_site_packages(tmp_path,
                                                                      monkeypatch):
    import site

    from sim.experiments import sweep

    sites = site.getsitepackages()
    monkeypatch.setattr(sweep, "_package_root", lambda: Path(sites[0]))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", ["", str(tmp_path), *sys.path])
    path = worker_sys_path()
    assert sites[0] in path and "" not in path and str(tmp_path) not in path
    assert path.index(sites[0]) > 0  # not moved before the standard library


def _alive(procs: list) -> list:
    """Processes still running (a zombie has exited: only its exit status is left)."""
    left = []
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                left.append(p)
    return left


def test_pool_processes_end_within_seconds_of_a_sigkilled_coordinator(tmp_path):
    # 80 runs: still running (Sierra Leone, not Liberia, whose 756-week mission does not
    # end within 300 ticks)
    exp = tiny_experiment(tmp_path, reps=20, ticks=300, size=24,
                          contexts=("baseline", "sierra_leone"))
    out = tmp_path / "out"
    with open(tmp_path / "sweep.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim.cli", "sweep", str(exp), "--workers", "2", "--out",
             str(out), "--quiet"], env=subprocess_env(), stdout=log, stderr=log,
            start_new_session=True)
    children: list = []
    try:
        deadline = time.monotonic() + 300
        while len(summary_files(out)) < 2:
            assert proc.poll() is None, (tmp_path / "sweep.log").read_text()
            assert time.monotonic() < deadline, "the sweep did not start"
            time.sleep(0.05)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 3  # forkserver and two workers (and a resource tracker)
        os.kill(proc.pid, signal.SIGKILL)  # the coordinator alone, as the OOM killer does
        proc.wait()
        t0 = time.monotonic()
        while _alive(children) and time.monotonic() - t0 < 5:
            time.sleep(0.02)
        left = _alive(children)
        assert not left, f"still running 5 s after the coordinator died: {left}"
    finally:
        for p in _alive(children):  # leave nothing behind, whatever happened
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_watchdog_ends_a_worker_whose_coordinator_is_gone_even_unreaped():
    """The watchdog alone (as on systems without a parent-death signal): the coordinator
    dies and stays a zombie (not reaped), and the watched process still ends."""
    coordinator = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    code = (f"import os, sys, time\nfrom sim.experiments.lifeline import watch\n"
            f"watch({coordinator.pid}, {identity(coordinator.pid)!r}, os.getppid(), 0.05)\n"
            "print('watching', flush=True)\ntime.sleep(120)\n")
    worker = subprocess.Popen([sys.executable, "-c", code], env=subprocess_env(),
                              stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().strip() == "watching"
        time.sleep(0.5)
        assert worker.poll() is None  # the coordinator lives: the worker carries on
        coordinator.kill()
        time.sleep(0.2)
        assert psutil.Process(coordinator.pid).status() == psutil.STATUS_ZOMBIE
        assert worker.wait(timeout=5) == 75
    finally:
        for p in (worker, coordinator):
            p.kill()
            p.wait()
        worker.stdout.close()


def test_identity_tells_a_live_process_from_a_gone_one():
    assert identity(os.getpid()) is not None
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert identity(child.pid) is None


def _lock_holder(out: Path) -> dict | None:
    try:
        return json.loads((out / LOCK).read_text())
    except (OSError, ValueError):
        return None


def test_two_resumes_of_one_folder_the_second_exits_2_naming_the_first(tmp_path):
    # 160 runs of ~0.5 s: the first session must outlast two start-ups of the CLI on a
    # loaded machine (Sierra Leone: Liberia's 756-week mission does not end in 400 ticks)
    exp = tiny_experiment(tmp_path, reps=40, ticks=400, size=24,
                          contexts=("baseline", "sierra_leone"))
    out = tmp_path / "out"
    args = ["sweep", str(exp), "--workers", "1", "--out", str(out), "--quiet"]
    assert kill_after(args, out, 1, tmp_path / "first.log") == -signal.SIGKILL
    # the killed session's lock died with it: a resume takes the folder over
    with open(tmp_path / "resume1.log", "w") as log:
        first = subprocess.Popen([sys.executable, "-m", "sim.cli", *args, "--resume"],
                                 env=subprocess_env(), stdout=log, stderr=log,
                                 start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while (_lock_holder(out) or {}).get("pid") != first.pid:
            assert first.poll() is None, (tmp_path / "resume1.log").read_text()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        done_before = len(summary_files(out))
        for extra in (["--resume"], []):  # a second resume, and a new sweep into the folder
            t0 = time.monotonic()
            second = subprocess.run([sys.executable, "-m", "sim.cli", *args, *extra],
                                    env=subprocess_env(), capture_output=True, text=True,
                                    timeout=120)
            assert second.returncode == 2, second.stderr
            assert "in use by another peacesim process" in second.stderr
            assert f"pid {first.pid} on " in second.stderr and "--resume" in second.stderr
            assert len(second.stderr.strip().splitlines()) == 1
            assert time.monotonic() - t0 < 30  # at once: nothing compiled, nothing run
        assert first.poll() is None  # the first carries on undisturbed
        assert len(summary_files(out)) >= done_before
        assert json.loads((out / "manifest.json").read_text())["sessions"][-1]["resume"]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(first.pid, signal.SIGKILL)
        first.wait()


def test_identity_without_proc_falls_back_to_the_pid(monkeypatch):
    """Systems without /proc (macOS): a live coordinator must not look gone."""
    from sim.experiments import lifeline

    monkeypatch.setattr(lifeline, "_HAS_PROC", False)
    assert lifeline.identity(os.getpid()) == ""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert lifeline.identity(child.pid) is None


def test_a_session_that_loses_the_race_for_a_new_folder_leaves_it_alone(tmp_path,
                                                                        monkeypatch):
    """Two new sweeps into the same new --out at the same moment: both make the folder, one
    gets the lock; the other stops and must not delete the folder it thought it made."""
    from sim.experiments import store, sweep

    out = tmp_path / "new"
    rival = contextlib.ExitStack()

    def rival_locks_first(folder, command=None):
        rival.enter_context(store.lock(folder, ["peacesim", "sweep", "rival"]))
        (folder / "manifest.json").write_text("{}")  # the rival has started writing
        return store.lock(folder, command)

    monkeypatch.setattr(sweep, "lock", rival_locks_first)
    with rival, pytest.raises(store.StoreLocked, match="peacesim sweep rival"), \
            sweep.claim_out(out, resume=False, what="sweep", name="x", root=str(tmp_path),
                            store_id="x"):
        pass
    assert (out / "manifest.json").exists()
