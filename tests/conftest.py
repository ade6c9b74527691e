"""Shared test fixtures: where the repository's files are, and a tiny world for fast runs.

Also a session-end check that the run left no trainer-app server behind (``peacesim viz`` or
``solara``): a server that outlives its test keeps a port and a model running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"
# CLI arguments that make any scenario run in well under a second
SMALL_ARGS = ["--set", "world.width=12", "--set", "world.height=12", "--ticks", "5"]
#: marks every process this test session starts (inherited through the environment)
SESSION_ENV = "PEACESIM_TEST_SESSION"
#: seconds a server stopped by its test may take to exit before it counts as left behind
LEFTOVER_GRACE_S = 5.0


@pytest.fixture
def repo_root() -> Path:
    """The repository root (for subprocesses that must import the source tree)."""
    return REPO


@pytest.fixture
def scenarios_dir() -> Path:
    """The shipped scenario files."""
    return SCENARIOS


def _is_controller(config: pytest.Config) -> bool:
    """True in the process that runs the session (not in a pytest-xdist worker)."""
    return not hasattr(config, "workerinput")


#: compiles every engine kernel into numba's cache (a few seconds when it is already there)
WARM_UP = """
from sim import load_scenario, run
for name in ("epstein_model1", "epstein_model2", "baseline"):
    sc = load_scenario(f"scenarios/{name}.toml", {"world.width": 12, "world.height": 12})
    run(sc, seed=0, ticks=2)
"""


def pytest_configure(config: pytest.Config) -> None:
    # a fresh mark per session (workers inherit the controller's; a pytest run started by a
    # test gets its own), so only this session's processes are looked at, not those of another
    # test run on the same machine
    if _is_controller(config):
        os.environ[SESSION_ENV] = f"{os.getpid()}-{uuid.uuid4().hex}"
        warm_numba_cache()


def warm_numba_cache() -> None:
    """Compile the kernels once, before the workers start: on a fresh machine every test
    process (and every sweep worker a test starts) would otherwise compile them at the same
    time, and tests that wait for a subprocess's first result would wait for compilation."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", WARM_UP], cwd=REPO, env=env, check=False,
                   stdout=subprocess.DEVNULL, timeout=1800)


def _is_viz_server(argv: list[str]) -> bool:
    """``peacesim viz ...``, ``python -m sim.cli viz``, ``python -m solara run ...``."""
    return "viz" in argv or any(a == "solara" or a.endswith("/solara") for a in argv)


def leftover_viz_servers(session_mark: str) -> dict[int, str]:
    """Live processes carrying ``session_mark`` that serve the trainer app: pid -> command."""
    proc = Path("/proc")
    mark = f"{SESSION_ENV}={session_mark}".encode()
    found = {}
    for entry in proc.iterdir() if proc.is_dir() else ():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if mark not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            argv = [a.decode(errors="replace")
                    for a in (entry / "cmdline").read_bytes().split(b"\0") if a]
        except OSError:  # gone, or not ours to read
            continue
        if argv and _is_viz_server(argv):  # (a zombie has no command line)
            found[int(entry.name)] = " ".join(argv)
    return found


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a trainer-app server it started is still running (and stop it)."""
    mark = os.environ.get(SESSION_ENV)
    if not _is_controller(session.config) or not mark:
        return
    deadline = time.monotonic() + LEFTOVER_GRACE_S
    left = leftover_viz_servers(mark)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = leftover_viz_servers(mark)
    if not left:
        return
    for pid in left:
        with contextlib.suppress(OSError):  # it may have exited meanwhile
            os.kill(pid, signal.SIGKILL)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"the test run left {len(left)} trainer-app server(s) running (now killed):",
             *(f"  pid {pid}: {cmd}" for pid, cmd in left.items())]
    if reporter is not None:
        reporter.write_line("\n".join(lines), red=True, bold=True)
    else:
        print("\n".join(lines))
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
