"""Compiled kernels are cached per version of the sources, so a stale cache is never read."""

from __future__ import annotations

import os
import subprocess
import sys


def test_numba_cache_folder_follows_the_sources(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    code = ("import sim, os, numba.core.config as c; from sim.engine.cache import source_digest; "
            "print(os.environ['NUMBA_CACHE_DIR']); print(c.CACHE_DIR); print(source_digest())")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[0] == out[1] == str(tmp_path / "peacesim" / "numba" / out[2])


def test_a_chosen_cache_folder_is_respected(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "mine"))
    code = "import sim, os; print(os.environ['NUMBA_CACHE_DIR'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == str(tmp_path / "mine")


def test_old_cache_folders_are_pruned(tmp_path, monkeypatch):
    from sim.engine import cache as _cache

    root = tmp_path / "peacesim" / "numba"
    for i in range(5):
        (root / f"old{i}").mkdir(parents=True)
        os.utime(root / f"old{i}", (1000 + i, 1000 + i))
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = _cache.configure_numba_cache()
    kept = sorted(p.name for p in root.iterdir())
    assert folder.name in kept and len(kept) == _cache._KEEP
    assert "old4" in kept and "old3" in kept  # the most recent others
