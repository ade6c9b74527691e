"""Where numba keeps compiled kernels: one folder per version of this package's source.

Numba's own cache sits beside the sources and is keyed by file timestamps; after an upgrade
its index can refer to classes that no longer exist and fail to load. Keying the folder on a
digest of the sources means a changed engine never meets a stale cache. Old folders are pruned.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

_KEEP = 3  # cache folders of recent source versions kept (switching branches stays fast)


def source_digest() -> str:
    """Digest of the modules that hold numba code: what the compiled kernels depend on."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.parent.rglob("*.py")):
        text = path.read_bytes()
        if b"numba" in text:
            h.update(path.relative_to(Path(__file__).resolve().parent.parent).as_posix().encode())
            h.update(text)
    return h.hexdigest()[:16]


def configure_numba_cache() -> Path | None:
    """Point ``NUMBA_CACHE_DIR`` at this source version's folder, unless the user chose one."""
    if "NUMBA_CACHE_DIR" in os.environ:
        return None
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "peacesim" / "numba"
    folder = root / source_digest()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.utime(folder)
        others = sorted((p for p in root.iterdir() if p.is_dir() and p != folder),
                        key=lambda p: p.stat().st_mtime, reverse=True)
        for old in others[_KEEP - 1:]:
            shutil.rmtree(old, ignore_errors=True)
    except OSError:
        return None  # read-only home: numba falls back to its default next to the sources
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    return folder
