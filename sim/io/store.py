"""Writing run outputs to disk, atomically, so a crash never leaves a half-written file.

Every file is written to a temporary name in its final folder, flushed to disk and then
renamed over the target (``os.replace`` is atomic on POSIX and Windows within one volume).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import os
import re
import shutil
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.config.scenario import Scenario
from sim.io.atomic import _fsync_dir, atomic_path, atomic_write_bytes, atomic_write_text  # noqa: F401
from sim.io.manifest import build_manifest
from sim.io.recorder import events_table
from sim.io.runner import RunResult

TIMESERIES_PARQUET = "timeseries.parquet"
TIMESERIES_CSV = "timeseries.csv"
EVENTS_CSV = "events.csv"  # the events applied (ODD 7.28), when the scenario has any
SUMMARY_JSON = "summary.json"
MANIFEST_JSON = "manifest.json"
PLOTS_DIR = "plots"
RUN_KIND = "peacesim-run"  # manifest "kind" of a run folder
#: size of the probe file written to check an output folder before a run (a full disk
#: refuses it)
PROBE_BYTES = 64 * 1024
_WRITE_ERRORS = {errno.EACCES: "permission denied", errno.EPERM: "permission denied",
                 errno.EROFS: "read-only file system", errno.ENOSPC: "no space left on the device",
                 errno.EDQUOT: "disk quota exceeded", errno.EFBIG: "file size limit reached"}


class OutputFolderError(ValueError):
    """An output folder that cannot be used (not a folder, not writable, full, holding
    something else); reported before anything runs, CLI exit 2."""


def _existing_ancestor(path: Path) -> Path:
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_writable(folder: str | Path) -> None:
    """Write, flush and delete a small probe file in ``folder`` (or, while it does not exist,
    in the nearest folder above it that does), so a read-only, full or misplaced output
    folder is reported before a long simulation rather than after it. Creates nothing."""
    folder = Path(folder)
    target = _existing_ancestor(folder)
    if not target.is_dir():
        raise OutputFolderError(f"{folder}: {target} is a file, not a folder; choose another "
                                "output folder")
    probe = target / f".peacesim-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
    try:
        try:
            with open(probe, "xb") as fh:
                fh.write(bytes(PROBE_BYTES))
                fh.flush()
                os.fsync(fh.fileno())
        finally:
            with contextlib.suppress(OSError):
                probe.unlink()
    except OSError as exc:
        reason = _WRITE_ERRORS.get(exc.errno or 0, exc.strerror or str(exc))
        where = "" if target == Path(os.path.abspath(folder)) else f" (in {target})"
        raise OutputFolderError(f"{folder}: cannot write there{where}: {reason}; nothing was "
                                "run: free space, fix the permissions or choose another "
                                "folder") from None


def is_run_dir(folder: str | Path) -> bool:
    """Whether ``folder`` holds a run written by :func:`write_run` (its ``manifest.json``
    names a run: ``kind``, or the keys of a run's manifest for folders written before)."""
    try:
        data = json.loads((Path(folder) / MANIFEST_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict):
        return False
    if "kind" in data:
        return data["kind"] == RUN_KIND
    return all(k in data for k in ("scenario", "seed", "parameters", "peacesim_version"))


def check_run_out(out: str | Path, overwrite: bool = False) -> None:
    """Can a run be written to ``out``? A new or empty folder, or with ``overwrite`` one that
    holds a previous run (nothing else is ever replaced); and writable. Raises
    :class:`OutputFolderError` before anything runs."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputFolderError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        previous = is_run_dir(out)
        if not overwrite:
            raise OutputFolderError(
                f"--out {out}: folder is not empty"
                + ("; it holds a previous run: add --overwrite to replace it, or choose a new "
                   "folder" if previous else "; choose a new or empty folder (or leave out "
                   "--out for a fresh folder under results/)"))
        if not previous:
            raise OutputFolderError(
                f"--out {out}: not a peacesim run folder (no {MANIFEST_JSON} of a run); "
                "--overwrite replaces only a previous run's folder, never anything else")
        check_writable(out.parent)  # the new run is written beside it, then swapped in
    check_writable(out)


def to_jsonable(obj: Any) -> Any:
    """Plain-JSON copy of ``obj``: numpy scalars to Python, NaN and infinities to ``None``."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented, strict JSON (NaN becomes null) atomically."""
    text = json.dumps(to_jsonable(obj), indent=2, sort_keys=False, allow_nan=False)
    return atomic_write_text(path, text + "\n")


def write_timeseries(ts: Any, out_dir: Path) -> list[Path]:
    """The per-tick table as parquet (typed, compact) and CSV (for spreadsheets)."""
    pq_path, csv_path = out_dir / TIMESERIES_PARQUET, out_dir / TIMESERIES_CSV
    with atomic_path(pq_path) as tmp:
        pq.write_table(pa.Table.from_pandas(ts, preserve_index=False), tmp)
    with atomic_path(csv_path) as tmp:
        ts.to_csv(tmp, index=False)
    return [pq_path, csv_path]


def _file_sha256(path: str | Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def replace_run(
    result: RunResult,
    out_dir: str | Path,
    scenario_path: str | None = None,
    *,
    plots: bool = True,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a run over the folder of a previous run: into a fresh folder beside it first,
    which is then renamed into place; the old folder is deleted only after that, so a failure
    at any point leaves one whole run at ``out_dir``."""
    out_dir = Path(out_dir)
    if not is_run_dir(out_dir):
        raise OutputFolderError(f"--out {out_dir}: not a peacesim run folder; refusing to "
                                "replace it")
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    new = out_dir.parent / f".{out_dir.name}.new-{tag}"
    old = out_dir.parent / f".{out_dir.name}.old-{tag}"
    try:
        write_run(result, new, scenario_path, plots=plots, extra=extra)
        os.rename(out_dir, old)
        try:
            os.rename(new, out_dir)
        except BaseException:
            os.rename(old, out_dir)
            raise
    finally:
        shutil.rmtree(new, ignore_errors=True)
    _fsync_dir(out_dir.parent)
    shutil.rmtree(old, ignore_errors=True)
    return out_dir


def write_run(
    result: RunResult,
    out_dir: str | Path,
    scenario_path: str | None = None,
    *,
    plots: bool = True,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write one run's table, summary, manifest and figures into ``out_dir``; returns it.
    A run with events also gets ``events.csv`` and their records in the manifest.

    ``extra`` is merged into the manifest (e.g. the command line and overrides used).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_timeseries(result.timeseries, out_dir)
    if result.events or result.scenario.events:
        with atomic_path(out_dir / EVENTS_CSV) as tmp:
            events_table(result.events).to_csv(tmp, index=False)
    summary = dict(result.summary)
    summary.setdefault("scenario", result.scenario.name)
    summary.setdefault("seed", result.seed)
    write_json(out_dir / SUMMARY_JSON, summary)
    info: dict[str, Any] = {
        "kind": RUN_KIND,
        "scenario_file": None if scenario_path is None else str(scenario_path),
        "scenario_file_sha256": None if scenario_path is None else _file_sha256(scenario_path),
    }
    if result.events or result.scenario.events:
        info["events"] = to_jsonable(result.events)
    info.update(extra or {})
    write_json(
        out_dir / MANIFEST_JSON,
        build_manifest(result.scenario, result.seed, result.ticks, extra=info),
    )
    if plots:
        from sim.viz.plots import save_plots  # matplotlib is slow to import: only when needed

        save_plots(result, out_dir / PLOTS_DIR)
    return out_dir


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "run"


def default_out_dir(
    scenario: Scenario,
    seed: int,
    root: str | Path = "results",
    now: datetime | None = None,
    strategy: str | None = None,
) -> Path:
    """Create and return a fresh ``<root>/<name>[-<strategy>]-seed<seed>-<YYYYmmdd-HHMMSS>``
    folder (``strategy``: the strategy file's name, when one was laid over the scenario).

    The folder is created here (``mkdir`` without ``exist_ok``), so two runs started in the
    same second, even in parallel processes, get different folders (``-2``, ``-3``, ...).
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    label = _slug(scenario.name) + (f"-{_slug(strategy)}" if strategy else "")
    base = f"{label}-seed{int(seed)}-{stamp}"
    n = 1
    while True:
        candidate = root / (base if n == 1 else f"{base}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            n += 1
            continue
        return candidate
