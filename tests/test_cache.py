"""Compiled kernels are cached per version of the sources, quietly and safely.

``import sim`` touches nothing; the cache locator is registered when the engine is imported;
a user's ``NUMBA_CACHE_DIR`` wins; a second process loads the kernels instead of compiling
them (the generated parameter tuple pickles by reference); old folders are pruned only when no
process holds them and they are old.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sim.engine import cache

ROOT = Path(__file__).resolve().parents[1]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def _python(code: str, env: dict[str, str], **kw) -> str:
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True, **kw).stdout


# a kernel of the engine, and a rule taking the generated parameter tuple
COMPILE = """
import json, os
import numpy as np
from sim.config.scenario import Scenario
from sim.engine.params import build_params
from sim.engine.rng import seed_state, uniform_array
from sim.engine.space import build_geometry
from sim.rules.civil_violence import grievance
sc = Scenario(model="peacekeeping")
prm = build_params(sc, build_geometry(sc)[2])
uniform_array(seed_state(np.random.SeedSequence(1)), 3)
grievance(0.5, True, 0.4, 0, 0.3, 0.0, 0.8, prm)
print(json.dumps({
    "env": os.environ.get("NUMBA_CACHE_DIR"),
    "paths": [uniform_array.stats.cache_path, grievance.stats.cache_path],
    "hits": sum(uniform_array.stats.cache_hits.values())
            + sum(grievance.stats.cache_hits.values()),
    "misses": sum(uniform_array.stats.cache_misses.values())
              + sum(grievance.stats.cache_misses.values()),
}))
"""


def test_import_sim_changes_nothing(tmp_path):
    code = ("import os, sys, sim; from sim import Scenario, ScenarioError, load_scenario; "
            "print(sorted(m for m in ('numba', 'mesa', 'pandas') if m in sys.modules), "
            "'NUMBA_CACHE_DIR' in os.environ)")
    out = _python(code, _env(tmp_path)).strip()
    assert out == "[] False"
    assert not (tmp_path / "xdg").exists()  # no cache folder made, nothing pruned


def test_kernels_are_cached_by_source_version_and_loaded_by_the_next_process(tmp_path):
    env = _env(tmp_path)
    first = json.loads(_python(COMPILE, env))
    second = json.loads(_python(COMPILE, env))
    folder = tmp_path / "xdg" / "peacesim" / "numba" / cache.source_digest()
    assert first["env"] is None and second["env"] is None  # no process-wide setting
    assert first["paths"] == [str(folder / "engine"), str(folder / "rules")]
    assert first["misses"] == 2 and first["hits"] == 0
    assert second["misses"] == 0 and second["hits"] == 2  # loaded, not compiled again
    assert list((folder / "rules").glob("civil_violence.grievance-*.nbi"))


def test_a_chosen_cache_folder_is_respected(tmp_path):
    mine = tmp_path / "mine"
    out = json.loads(_python(COMPILE, _env(tmp_path, NUMBA_CACHE_DIR=str(mine))))
    assert out["env"] == str(mine)
    assert all(p.startswith(str(mine)) for p in out["paths"])
    assert list(mine.rglob("*.nbi"))
    assert not (tmp_path / "xdg" / "peacesim").exists()


def _folder(root: Path, name: str, age_days: float) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    lock = folder / cache.LOCK_NAME
    lock.touch()
    then = time.time() - age_days * 86400
    os.utime(lock, (then, then))
    return folder


def test_pruning_spares_folders_in_use_and_recent_ones(tmp_path):
    root = tmp_path / "numba"
    old_free = _folder(root, "old_free", 30)
    old_used = _folder(root, "old_used", 30)
    recent = _folder(root, "recent", 1)
    mine = _folder(root, "mine", 30)
    fd = os.open(old_used / cache.LOCK_NAME, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_SH)  # as a running process holds its folder
    try:
        assert cache.prune(root, keep=mine) == [old_free]
        assert old_used.exists() and recent.exists() and mine.exists()
    finally:
        os.close(fd)
    assert cache.prune(root, keep=mine) == [old_used]  # no longer in use
    assert sorted(p.name for p in root.iterdir()) == ["mine", "recent"]


def test_a_running_process_keeps_its_folder(tmp_path):
    env = _env(tmp_path)
    code = ("import sys, sim.engine.cache as c; print(c.cache_folder(), flush=True); "
            "sys.stdin.read()")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        folder = Path(proc.stdout.readline().strip())
        assert folder.is_dir()
        root = folder.parent
        assert cache.prune(root, keep=None, max_age_days=0.0) == []  # in use: kept
    finally:
        proc.communicate("")
    assert cache.prune(root, keep=None, max_age_days=0.0) == [folder]


def test_the_digest_covers_every_kernel_source_and_the_schema(tmp_path, monkeypatch):
    pkg = tmp_path / "sim"
    (pkg / "rules").mkdir(parents=True)
    kernel = pkg / "rules" / "deep.py"
    kernel.write_text("from numba import njit\n")
    plain = pkg / "plain.py"
    plain.write_text("x = 1\n")
    monkeypatch.setattr(cache, "PACKAGE", pkg)
    before = cache.source_digest()
    plain.write_text("x = 2\n")
    assert cache.source_digest() == before  # no numba code: not a kernel source
    kernel.write_text("from numba import njit  # changed\n")
    changed = cache.source_digest()
    assert changed != before
    monkeypatch.setattr(cache, "_schema_signature", lambda: "another schema")
    assert cache.source_digest() != changed


def test_call_reuses_the_compiled_version_for_the_same_argument_types():
    import numpy as np

    from sim.engine import calls
    from sim.engine.rng import seed_state, uniform_array

    s1 = seed_state(np.random.SeedSequence(3))
    s2 = s1.copy()
    assert np.array_equal(calls.call(uniform_array, s1, 4), uniform_array(s2, 4))
    assert np.array_equal(s1, s2)  # the same stream advanced the same way
    entries = dict(calls._entry)
    calls.call(uniform_array, s1, 2)
    assert calls._entry == entries  # same types: the version found the first time
    calls.call(uniform_array, s1, np.int32(2))
    assert len(calls._entry) == len(entries) + 1  # another type: its own version


def test_the_digest_is_the_same_in_every_process():
    """Two processes on the same sources must find the same folder (a digest that took in a
    memory address made every process compile the kernels anew)."""
    code = "from sim.engine.cache import source_digest; print(source_digest())"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    digests = {subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, check=True).stdout.strip() for _ in range(2)}
    assert len(digests) == 1 and len(next(iter(digests))) == 16
