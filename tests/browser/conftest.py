"""Fixtures for the browser tests: Debian's chromium for Playwright, a solara server on a
free port (behind the app's Host/Origin guard), another site on another port, and the scenario
folder the app's pickers list.

Playwright cannot download its own browsers here, so the tests drive the system chromium;
without it (or without the viz/test packages) they skip with the reason.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("playwright", reason="browser tests need playwright (the dev extra)")
pytest.importorskip("solara", reason="browser tests need the viz extra")

#: names that chromium resolves to 127.0.0.1 without DNS: a rebinding attacker's name and another
#: site's name (tests/browser/test_app_browser.py::test_foreign_pages_cannot_reach_the_app)
REBIND_NAME, FOREIGN_NAME = "rebind.test", "foreign.test"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    f"--host-resolver-rules=MAP {REBIND_NAME} 127.0.0.1, MAP {FOREIGN_NAME} 127.0.0.1",
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
    per xdist worker, which collides when two test runs share the machine), behind the Host/
    Origin guard as ``peacesim viz`` serves it: the page and its websocket must get through."""
    import solara.server.starlette
    from solara.server.starlette import ServerStarlette
    from solara.server.threaded import get_free_port

    from sim.viz.server import HostOriginGuard, host_policy

    port = get_free_port()
    guarded = HostOriginGuard(solara.server.starlette.app, host_policy("127.0.0.1", port))
    server = ServerStarlette(port, "127.0.0.1", starlette_app=guarded)
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


@pytest.fixture(scope="session")
def rebind_name() -> str:
    """A name of an attacker's that chromium resolves to 127.0.0.1 (DNS rebinding)."""
    return REBIND_NAME


@pytest.fixture(scope="session")
def foreign_site():
    """Another web site on this machine (``http://foreign.test:PORT/``): a blank page whose
    scripts may try to reach the app."""
    import http.server
    import threading

    class Blank(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the handler's API)
            body = b"<!doctype html><title>another site</title><p>another site</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Blank)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        yield f"http://{FOREIGN_NAME}:{site.server_address[1]}/"
    finally:
        site.shutdown()
        site.server_close()
