"""``peacesim viz``: checks before launching, a real launch of the server, its Host/Origin guard,
and that a signal stops it (no server left behind)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import http.client
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from sim.cli import main
from sim.viz.server import (
    HostOriginGuard,
    HostPolicy,
    ServeError,
    check_allowed_host,
    exposure_warning,
    host_policy,
)

REPO = Path(__file__).resolve().parents[1]
STARTUP_S = 120  # first launch on a busy machine: imports and the numba cache
STOP_S = 10  # the server waits SHUTDOWN_GRACE_S for open pages, then exits


def test_viz_rejects_an_invalid_scenario(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("model = 'peacekeeping'\n[world]\nwidth = 2\n")
    assert main(["viz", str(bad), "--no-open"]) == 2
    assert "world.width = 2" in capsys.readouterr().err


def test_viz_rejects_an_epstein_scenario(scenarios_dir: Path,
                                         capsys: pytest.CaptureFixture) -> None:
    assert main(["viz", str(scenarios_dir / "epstein_model1.toml")]) == 2
    assert "steers the peacekeeping model" in capsys.readouterr().err


def test_viz_without_the_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "solara_assets" else real(name, *a))
    assert main(["viz"]) == 2
    err = capsys.readouterr().err
    assert "solara_assets not installed" in err and "pip install -e '.[viz]'" in err


def test_viz_reports_a_port_in_use(capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("solara", reason="needs the viz extra")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["viz", "--host", "127.0.0.1", "--port", str(port), "--no-open"]) == 2
    err = capsys.readouterr().err
    assert f"error: --port {port}: already in use on 127.0.0.1" in err
    assert "--port 0 picks a free one" in err and "Traceback" not in err


def test_viz_reports_an_address_not_of_this_machine(capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("solara", reason="needs the viz extra")
    assert main(["viz", "--host", "192.0.2.1", "--port", "0", "--no-open"]) == 2  # TEST-NET-1
    err = capsys.readouterr().err
    assert "error: --host 192.0.2.1: cannot serve there" in err and "Traceback" not in err


def test_viz_rejects_an_allow_host_with_a_scheme(capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("solara", reason="needs the viz extra")
    assert main(["viz", "--allow-host", "http://trainer-pc:8765", "--no-open"]) == 2
    assert "error: --allow-host 'http://trainer-pc:8765': give a host name" in \
        capsys.readouterr().err


# ------------------------------------------------------------------ a real server


class Viz:
    """``peacesim viz --port 0 --no-open`` in a subprocess; its stderr read by a thread."""

    def __init__(self, cwd: Path, *args: str) -> None:
        cmd = [sys.executable, "-c", "import sys; from sim.cli import main; sys.exit(main())",
               "viz", "--host", "127.0.0.1", "--port", "0", "--no-open", *args]
        self.proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.port = self._port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self._wait_serving()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def _fail(self, what: str) -> None:
        self.stop()
        pytest.fail(f"peacesim viz {what} (exit {self.proc.poll()}):\n" + "\n".join(self.lines))

    def _port(self) -> int:
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline and self.proc.poll() is None:
            for line in list(self.lines):
                found = re.match(r"PeaceSim trainer app on http://127.0.0.1:(\d+)/", line)
                if found:
                    return int(found.group(1))
            time.sleep(0.1)
        self._fail("did not say where it serves")
        raise AssertionError  # (not reached)

    def _wait_serving(self) -> None:
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if get(self.port)[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self._fail("did not serve")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def get(port: int, path: str = "/", host: str | None = None,
        origin: str | None = None) -> tuple[int, str]:
    """A GET to 127.0.0.1:port with the given Host and Origin headers: status and body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest("GET", path, skip_host=host is not None)
        if host is not None:
            conn.putheader("Host", host)
        if origin is not None:
            conn.putheader("Origin", origin)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        conn.close()


def websocket(port: int, origin: str | None):
    """A websocket to the app's kernel endpoint, as the page opens it (a context manager)."""
    from websockets.sync.client import connect

    url = (f"ws://127.0.0.1:{port}/jupyter/api/kernels/{uuid.uuid4()}/channels"
           f"?session_id={uuid.uuid4()}")
    return connect(url, origin=origin, proxy=None, open_timeout=30)


def websocket_refused(port: int, origin: str | None) -> int:
    """The HTTP status with which the websocket handshake is refused."""
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as exc, websocket(port, origin):
        pass
    return exc.value.response.status_code


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def children(pid: int) -> list[str]:
    """Command lines of the live child processes of ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmd = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(cmd)
    return found


@pytest.fixture(scope="module")
def viz():
    """One ``peacesim viz`` on a free port of 127.0.0.1 for the tests that only send requests."""
    pytest.importorskip("solara", reason="needs the viz extra")
    server = Viz(REPO)
    try:
        yield server
    finally:
        server.stop()


def test_viz_serves_the_app_from_this_machine(viz: Viz) -> None:
    status, page = get(viz.port)
    assert status == 200
    # the front end comes from this machine (solara-assets), not from a CDN
    assets = re.findall(r'(?:src|href)="(/_solara/cdn/[^"]+)"', page)
    assert assets, page[:2000]
    for path in assets:
        assert get(viz.port, path)[0] == 200, path
    assert viz.lines[0] == f"PeaceSim trainer app on http://127.0.0.1:{viz.port}/ " \
        "(Ctrl+C stops it)"
    assert not any("warning: serving on" in line for line in viz.lines)  # loopback: no warning


def test_viz_answers_its_loopback_names_and_own_origin(viz: Viz) -> None:
    for name in ("localhost", "127.0.0.1", "[::1]", "LOCALHOST"):
        assert get(viz.port, host=f"{name}:{viz.port}")[0] == 200, name
    assert get(viz.port, origin=viz.origin)[0] == 200
    with websocket(viz.port, viz.origin) as ws:
        assert ws.response.status_code == 101


def test_viz_refuses_a_foreign_host(viz: Viz) -> None:
    # DNS rebinding: a site's name that resolves to 127.0.0.1 arrives with its own Host
    status, body = get(viz.port, host=f"rebind.attacker.example:{viz.port}")
    assert status == 403 and "is not a name of this app" in body
    assert get(viz.port, host="localhost:1")[0] == 403  # the right name, another port
    assert get(viz.port, host="localhost")[0] == 403
    assert get(viz.port, host=f"localhost:{viz.port}", origin=viz.origin)[0] == 403  # pair
    assert any("refused GET /: Host 'rebind.attacker.example" in line for line in viz.lines)


def test_viz_refuses_a_foreign_origin(viz: Viz) -> None:
    for origin in ("http://attacker.example", f"http://localhost:{viz.port + 1}", "null",
                   f"https://evil.example:{viz.port}"):
        status, body = get(viz.port, origin=origin)
        assert status == 403 and "is not this app's own" in body, origin
    assert websocket_refused(viz.port, "http://attacker.example") == 403
    assert websocket_refused(viz.port, f"http://localhost:{viz.port + 1}") == 403
    assert websocket_refused(viz.port, None) == 403  # browsers always send one


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, -signal.SIGTERM),
                                             (signal.SIGINT, 130),
                                             (signal.SIGHUP, -signal.SIGTERM)])
def test_viz_stops_its_server_on_a_signal(repo_root: Path, sig: int, status: int) -> None:
    pytest.importorskip("solara", reason="needs the viz extra")
    viz = Viz(repo_root)
    try:
        assert children(viz.proc.pid) == []  # the server is this process, not a child
        with websocket(viz.port, viz.origin):  # a trainer's page is open
            start = time.monotonic()
            viz.proc.send_signal(sig)
            try:
                code = viz.proc.wait(timeout=STOP_S)
            except subprocess.TimeoutExpired:
                pytest.fail(f"still running {STOP_S} s after signal {sig}:\n"
                            + "\n".join(viz.lines))
            stopped = time.monotonic() - start
        assert code == status, viz.lines
        assert not port_open(viz.port)
        assert stopped < STOP_S
    finally:
        viz.stop()


# ------------------------------------------------------------------ the policy, bind by bind


def call(policy: HostPolicy, kind: str, host: str | None,
         origin: str | None = None) -> tuple[str, int | None]:
    """Run a request through the guard in front of an app that answers 200 / accepts."""
    async def app(scope, receive, send) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        else:
            await send({"type": "websocket.accept"})

    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "websocket.connect"} if kind == "websocket" else {"type": "http.request"}

    async def send(message: dict) -> None:
        sent.append(message)

    headers = [(b"host", host.encode())] if host is not None else []
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    guard = HostOriginGuard(app, policy)({"type": kind, "path": "/", "headers": headers},
                                         receive, send)
    # in a thread of its own: Playwright's sync API may keep a loop running in this one
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, guard).result()
    return sent[0]["type"], sent[0].get("status", sent[0].get("code"))


def test_loopback_policy_takes_loopback_names_with_the_port() -> None:
    policy = host_policy("localhost", 8765)
    assert policy.hosts == {"localhost:8765", "127.0.0.1:8765", "[::1]:8765"}
    assert host_policy("::1", 8765).hosts == policy.hosts
    assert "127.0.0.2:8765" in host_policy("127.0.0.2", 8765).hosts  # (all of 127/8)
    assert {"localhost", "localhost:80"} <= host_policy("localhost", 80).hosts  # default port
    assert call(policy, "http", "localhost:8765") == ("http.response.start", 200)
    assert call(policy, "http", "example.com:8765") == ("http.response.start", 403)
    assert call(policy, "http", None) == ("http.response.start", 403)
    assert call(policy, "websocket", "localhost:8765", "http://localhost:8765") == \
        ("websocket.accept", None)
    assert call(policy, "websocket", "localhost:8765", "http://example.com") == \
        ("websocket.close", 1008)


def test_network_policy_checks_the_origin_but_takes_any_host_unless_named() -> None:
    """0.0.0.0 or a LAN address: the trainer asked for the room's network (documented)."""
    room = host_policy("0.0.0.0", 8765)
    assert room.hosts is None
    assert call(room, "http", "192.168.1.20:8765") == ("http.response.start", 200)
    assert call(room, "http", "trainer-pc.local:8765") == ("http.response.start", 200)
    assert call(room, "websocket", "192.168.1.20:8765", "http://192.168.1.20:8765") == \
        ("websocket.accept", None)
    # another site's page still cannot drive the model through the visitor's browser
    assert call(room, "websocket", "192.168.1.20:8765", "http://attacker.example") == \
        ("websocket.close", 1008)
    assert call(room, "http", "192.168.1.20:8765", "http://attacker.example") == \
        ("http.response.start", 403)
    # with --allow-host: those names, the loopback names and the bound address
    named = host_policy("192.168.1.20", 8765, ["Trainer-PC.local"])
    assert named.hosts == {"trainer-pc.local:8765", "192.168.1.20:8765", "localhost:8765",
                           "127.0.0.1:8765", "[::1]:8765"}
    assert call(named, "http", "trainer-pc.local:8765") == ("http.response.start", 200)
    assert call(named, "http", "rebind.attacker.example:8765") == ("http.response.start", 403)
    assert "0.0.0.0:8765" not in host_policy("0.0.0.0", 8765, ["a.b"]).hosts


def test_allow_host_takes_names_and_addresses_only() -> None:
    assert check_allowed_host("Trainer-PC.local") == "trainer-pc.local"
    assert check_allowed_host("[fe80::1]") == "fe80::1"
    assert check_allowed_host("10.0.0.5") == "10.0.0.5"
    for bad in ("http://trainer-pc", "trainer-pc:8765", "trainer-pc/x", "", "a..b"):
        with pytest.raises(ServeError, match="give a host name or IP address"):
            check_allowed_host(bad)


def test_serving_beyond_loopback_says_what_it_exposes() -> None:
    assert exposure_warning("localhost", 8765, host_policy("localhost", 8765)) is None
    text = exposure_warning("0.0.0.0", 8765, host_policy("0.0.0.0", 8765))
    assert text is not None
    assert "anyone who can reach this machine on port 8765 can open the app and drive the " \
        "model; there is no password" in text
    assert "--host localhost" in text and "any name" in text


# ------------------------------------------------------------------ make viz, the leak check


def make_n(repo_root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """The ``peacesim viz`` command line ``make viz`` would run."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make not installed")
    out = subprocess.run([make, "-n", "viz", *args], cwd=repo_root, capture_output=True,
                         text=True, timeout=60, env={**os.environ, **(env or {})}).stdout
    lines = [line for line in out.splitlines() if "peacesim viz" in line]
    assert len(lines) == 1, out
    return lines[0]


def test_make_viz_passes_args_and_takes_host_only_from_the_command_line(
        repo_root: Path) -> None:
    assert make_n(repo_root, "ARGS=--no-open").endswith(
        "peacesim viz scenarios/baseline.toml --host localhost --port 8765 --no-open")
    # conda and some shells export HOST (e.g. a machine name): it must not move the server
    assert "--host localhost " in make_n(repo_root, env={"HOST": "0.0.0.0"})
    assert "--host 0.0.0.0 --port 8080" in make_n(repo_root, "HOST=0.0.0.0", "PORT=8080")


LEAKY_TEST = """
import subprocess, sys, time
from pathlib import Path

def test_leaves_a_server(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", "viz"])
    Path({pidfile!r}).write_text(str(proc.pid))

def test_cleans_up():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", "viz"])
    proc.terminate()
    proc.wait()
"""


def test_the_run_fails_if_a_test_leaves_a_viz_server(tmp_path: Path, repo_root: Path) -> None:
    """The session-end check of tests/conftest.py, in a pytest run of its own with 2 workers:
    it finds the server a worker's test left, kills it and fails the run, and leaves alone a
    server of another test session (here, this one's)."""
    pytest.importorskip("xdist")
    pidfile = tmp_path / "leaked.pid"
    inner = tmp_path / "inner"
    inner.mkdir()
    shutil.copy(repo_root / "tests" / "conftest.py", inner / "conftest.py")
    (inner / "test_leak.py").write_text(LEAKY_TEST.format(pidfile=str(pidfile)))
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", "viz"])
    try:
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "xdist", "-n", "2",
                              "-p", "no:cacheprovider", str(inner)], cwd=inner,
                             capture_output=True, text=True, timeout=300,
                             env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
        assert run.returncode == 1, run.stdout + run.stderr
        assert "2 passed" in run.stdout
        assert "the test run left 1 trainer-app server(s) running (now killed)" in run.stdout
        leaked = int(pidfile.read_text())
        assert f"pid {leaked}: " in run.stdout
        deadline = time.monotonic() + 10
        while Path(f"/proc/{leaked}/cmdline").exists() and \
                Path(f"/proc/{leaked}/cmdline").read_bytes() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not (Path(f"/proc/{leaked}/cmdline").exists()
                    and Path(f"/proc/{leaked}/cmdline").read_bytes())
        assert other.poll() is None  # not the inner session's: untouched
    finally:
        other.kill()
        other.wait()
