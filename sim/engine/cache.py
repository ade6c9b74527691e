"""Where numba keeps the compiled kernels: one folder per version of this package's sources.

Numba's default cache sits beside the sources and is keyed by each file alone; a kernel that
inlines functions of other modules (the rules) or bakes in constants of the schema (the codes
of word-valued parameters) would be loaded stale after those change. So the kernels of the
``sim`` package are cached in a folder named by a digest of every source file that holds
numba code and of the schema's structure: a changed engine never meets an old cache.

Nothing here runs at ``import sim``. :func:`install` (called when :mod:`sim.engine` is first
imported, before any kernel is defined) registers a numba cache *locator* for files of this
package; it changes no environment variable, and defers to the user's own
``NUMBA_CACHE_DIR`` (or ``NUMBA_CACHE_LOCATOR_CLASSES``). Each process holds a shared lock on
its folder's lock file for as long as it runs; old folders are pruned only when their lock can
be taken exclusively (no process uses them) and they were last used more than
:data:`MAX_AGE_DAYS` days ago.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

try:  # POSIX; elsewhere folders are never pruned
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

PACKAGE = Path(__file__).resolve().parent.parent  # .../sim
MAX_AGE_DAYS = 14.0  # a folder unused (and unlocked) this long is removed
LOCK_NAME = ".in-use.lock"
_held: dict[str, Any] = {}  # the folder this process uses and its lock's file descriptor


def _schema_signature() -> str:
    """Names and types of the scenario's parameters: what the kernels' parameter tuple and
    the codes of word-valued parameters are generated from."""
    from pydantic import BaseModel

    from sim.config.scenario import Scenario

    def walk(model: type[BaseModel], prefix: str) -> list[str]:
        out = []
        for name, field in model.model_fields.items():
            ann = field.annotation
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                out += walk(ann, f"{prefix}{name}.")
            else:
                out.append(f"{prefix}{name}: {ann!r}")
        return out

    # the repr of an annotation can carry a memory address (a validator function's): drop it,
    # or each process would compute its own digest and never find the cache
    return re.sub(r" at 0x[0-9a-f]+", "", "\n".join(walk(Scenario, "")))


def source_digest() -> str:
    """Digest of the modules that hold numba code and of the schema's structure: what the
    compiled kernels depend on."""
    h = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_bytes()
        if b"numba" in text:
            h.update(path.relative_to(PACKAGE).as_posix().encode())
            h.update(text)
    h.update(_schema_signature().encode())
    return h.hexdigest()[:16]


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/peacesim/numba`` (``~/.cache/peacesim/numba`` by default)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "peacesim" / "numba"


def _lock_shared(folder: Path) -> int | None:
    """Open the folder's lock file and hold a shared lock on it for this process's lifetime.

    A pruner that removed the folder meanwhile leaves us a lock on a deleted file: then the
    folder is made again and locked anew."""
    if fcntl is None:  # pragma: no cover - Windows
        return None
    path = folder / LOCK_NAME
    for _ in range(5):
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits while a pruner removes this folder
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)
    return None  # pragma: no cover - a pruner racing us five times in a row


def prune(root: Path, keep: Path | None, max_age_days: float = MAX_AGE_DAYS,
          now: float | None = None) -> list[Path]:
    """Remove cache folders under ``root`` (not ``keep``) last used more than
    ``max_age_days`` ago and locked by no process; returns those removed."""
    if fcntl is None or not root.is_dir():  # pragma: no cover - Windows
        return []
    now = time.time() if now is None else now
    removed = []
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or folder == keep:
            continue
        lock = folder / LOCK_NAME
        try:
            used = (lock if lock.exists() else folder).stat().st_mtime
        except OSError:
            continue
        if now - used < max_age_days * 86400.0:
            continue
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a process is using it
            os.close(fd)
            continue
        try:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            os.close(fd)
    return removed


def cache_folder() -> Path | None:
    """This source version's folder: created, locked (shared) and marked as used now; old
    folders are pruned. None when it cannot be written (numba then uses its own default)."""
    if "folder" in _held:
        return _held["folder"]
    root = cache_root()
    folder = root / source_digest()
    try:
        fd = _lock_shared(folder)
        os.utime(folder / LOCK_NAME if fd is not None else folder)
        prune(root, keep=folder)
    except OSError:
        folder, fd = None, None
    _held["folder"], _held["fd"] = folder, fd
    return folder


def _locator_class() -> type:
    from numba.core import caching, config

    class PeacesimCacheLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
        """Numba cache locator for the ``sim`` package: ``<cache folder>/<package path>``."""

        def __init__(self, py_func: Any, py_file: str, folder: Path) -> None:
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            rel = Path(py_file).resolve().parent.relative_to(PACKAGE)
            self._cache_path = str(folder / rel)

        def get_cache_path(self) -> str:
            return self._cache_path

        @classmethod
        def from_function(cls, py_func: Any, py_file: str) -> Any:
            if config.CACHE_DIR:  # the user chose a folder: numba's own locator uses it
                return None
            try:
                Path(py_file).resolve().relative_to(PACKAGE)
            except ValueError:
                return None
            folder = cache_folder()
            if folder is None:
                return None
            self = cls(py_func, py_file, folder)
            try:
                self.ensure_cache_path()
            except OSError:
                return None
            return self

    return PeacesimCacheLocator


def install() -> None:
    """Register the ``sim`` package's cache locator with numba (once per process)."""
    if "locator" in _held:
        return
    from numba.core import caching

    impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl  # renamed in numba 0.60
    locator = _locator_class()
    impl._locator_classes.insert(0, locator)
    _held["locator"] = locator
