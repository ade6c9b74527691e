"""``peacesim viz``: checks before launching, and a real launch of the solara server."""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sim.cli import main


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_viz_serves_the_app(scenarios_dir: Path, repo_root: Path) -> None:
    pytest.importorskip("solara", reason="needs the viz extra")
    port = _free_port()
    cmd = [sys.executable, "-c", "import sys; from sim.cli import main; sys.exit(main())",
           "viz", str(scenarios_dir / "liberia.toml"), "--host", "127.0.0.1",
           "--port", str(port), "--no-open"]
    proc = subprocess.Popen(cmd, cwd=repo_root, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    page = r.read().decode()
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    pytest.fail(f"peacesim viz did not serve (exit {proc.poll()}):\n{out}")
                time.sleep(0.5)
        # the front end comes from this machine (solara-assets), not from a CDN
        assets = re.findall(r'(?:src|href)="(/_solara/cdn/[^"]+)"', page)
        assert assets, page[:2000]
        for path in assets:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
                assert r.status == 200, path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
