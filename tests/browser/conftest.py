"""Fixtures for the browser tests: Debian's chromium for Playwright, a solara server on a
free port, and the scenario folder the app's pickers list.

Playwright cannot download its own browsers here, so the tests drive the system chromium;
without it (or without the viz/test packages) they skip with the reason.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("playwright", reason="browser tests need playwright (the dev extra)")
pytest.importorskip("solara", reason="browser tests need the viz extra")

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright's launch arguments, pointed at the system chromium."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium not found on PATH (apt-get install chromium; .ci/run does it)")
    return {**browser_type_launch_args, "executable_path": chromium,
            "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS]}


@pytest.fixture(scope="session")
def solara_server():
    """The solara test server on a free port of 127.0.0.1 (the plugin's default port is fixed
    per xdist worker, which collides when two test runs share the machine)."""
    from solara.server.starlette import ServerStarlette

    server = ServerStarlette(0, "127.0.0.1")
    try:
        server.serve_threaded()
        server.wait_until_serving()
        yield server
    finally:
        server.stop_serving()


@pytest.fixture(scope="session")
def ui_results() -> Path:
    """Where the browser tests leave their screenshots (git-ignored)."""
    folder = Path(__file__).resolve().parents[2] / "results" / "ui"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
