"""Helpers shared by the sweep, Dask and comparison tests: tiny experiments and result views."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from sim.experiments.store import SUMMARIES, read_summaries

ROOT = Path(__file__).resolve().parents[1]
SC = ROOT / "scenarios"
ST = SC / "strategies"
#: bookkeeping columns that legitimately differ between executions of the same run
VOLATILE = ["elapsed_s", "worker", "attempt"]


def tiny_experiment(folder: Path, *, reps: int = 2, ticks: int = 15, size: int = 16,
                    contexts: tuple[str, ...] = ("baseline", "liberia"),
                    strategies: tuple[str, ...] = ("protection_first", "community_engagement"),
                    extra: str = "", name: str = "tiny.toml") -> Path:
    """A small experiment file (absolute scenario paths) that runs in well under a second
    per run."""
    ctx = ", ".join(f'"{SC / c}.toml"' for c in contexts)
    strat = ", ".join(f'"{ST / s}.toml"' for s in strategies)
    path = Path(folder) / name
    path.write_text(
        f"contexts = [{ctx}]\nstrategies = [{strat}]\nreplications = {reps}\nseed = 5\n"
        f"ticks = {ticks}\n{extra}\n[set]\n\"world.width\" = {size}\n"
        f"\"world.height\" = {size}\n"
    )
    return path


def model_results(out: Path) -> pd.DataFrame:
    """Per-run summaries without the bookkeeping that depends on who ran them."""
    return read_summaries(out).drop(columns=VOLATILE).reset_index(drop=True)


def summary_files(out: Path) -> list[Path]:
    return sorted((Path(out) / SUMMARIES).rglob("*.parquet"))


def subprocess_env() -> dict[str, str]:
    """Environment for child processes that must import this source tree."""
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else "")}


def kill_after(args: list[str], out: Path, runs: int, log_path: Path) -> int:
    """Run ``peacesim ARGS`` in a subprocess, SIGKILL it and its workers once ``runs`` results
    are stored in ``out``, and return its exit status (asserting it did not end first)."""
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "sim.cli", *args], env=subprocess_env(),
                                stdout=log, stderr=log, start_new_session=True)
        try:
            deadline = time.monotonic() + 300
            while len(summary_files(out)) < runs:
                assert proc.poll() is None, "the command ended before it could be killed"
                assert time.monotonic() < deadline, "the command did not start"
                time.sleep(0.02)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # coordinator and its worker processes
            proc.wait()
    return proc.returncode


def in_tmpfs(folder: Path, options: str, args: list[str], *, fill: bool = False,
             timeout: float = 300) -> subprocess.CompletedProcess | None:
    """Run ``peacesim ARGS`` with a fresh tmpfs mounted at ``folder`` (mount ``options``, e.g.
    ``ro`` or ``size=256k``; ``fill``: filled up first, as a full disk) in a private user and
    mount namespace (``unshare -Urm``), so nothing outside the command sees the mount; None
    where the system does not allow that."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return None
    check = subprocess.run(["unshare", "-Urm", "sh", "-c",
                            f"mount -t tmpfs -o size=64k tmpfs '{folder}'"],
                           capture_output=True, timeout=30)
    if check.returncode != 0:
        return None
    filler = ' && (head -c 16M /dev/zero > "$1/filler" 2>/dev/null; true)' if fill else ""
    script = f'mount -t tmpfs -o "$2" tmpfs "$1"{filler} && shift 2 && exec "$@"'
    return subprocess.run(
        ["unshare", "-Urm", "sh", "-c", script, "sh", str(folder), options,
         sys.executable, "-m", "sim.cli", *args],
        env=subprocess_env(), capture_output=True, text=True, timeout=timeout)


def constant_outputs(params: dict, seed: int) -> dict[str, float]:
    """A test function for sensitivity studies (registered by the tests as ``"constant_outputs"``):
    outputs ``A`` and ``B`` are constant, ``Y = x1 + 2 x2``."""
    return {"A": 1.0, "B": 2.0, "Y": float(params["x1"]) + 2.0 * float(params["x2"])}
