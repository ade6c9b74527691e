"""Writing run outputs to disk, atomically, so a crash never leaves a half-written file.

Every file is written to a temporary name in its final folder, flushed to disk and then
renamed over the target (``os.replace`` is atomic on POSIX and Windows within one volume).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.config.scenario import Scenario
from sim.io.atomic import atomic_path, atomic_write_bytes, atomic_write_text  # noqa: F401
from sim.io.manifest import build_manifest
from sim.io.runner import RunResult

TIMESERIES_PARQUET = "timeseries.parquet"
TIMESERIES_CSV = "timeseries.csv"
SUMMARY_JSON = "summary.json"
MANIFEST_JSON = "manifest.json"
PLOTS_DIR = "plots"


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


def write_run(
    result: RunResult,
    out_dir: str | Path,
    scenario_path: str | None = None,
    *,
    plots: bool = True,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write one run's table, summary, manifest and figures into ``out_dir``; returns it.

    ``extra`` is merged into the manifest (e.g. the command line and overrides used).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_timeseries(result.timeseries, out_dir)
    summary = dict(result.summary)
    summary.setdefault("scenario", result.scenario.name)
    summary.setdefault("seed", result.seed)
    write_json(out_dir / SUMMARY_JSON, summary)
    info: dict[str, Any] = {
        "scenario_file": None if scenario_path is None else str(scenario_path),
        "scenario_file_sha256": None if scenario_path is None else _file_sha256(scenario_path),
    }
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
) -> Path:
    """Create and return a fresh ``<root>/<name>-seed<seed>-<YYYYmmdd-HHMMSS>`` folder.

    The folder is created here (``mkdir`` without ``exist_ok``), so two runs started in the
    same second, even in parallel processes, get different folders (``-2``, ``-3``, ...).
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = f"{_slug(scenario.name)}-seed{int(seed)}-{stamp}"
    n = 1
    while True:
        candidate = root / (base if n == 1 else f"{base}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            n += 1
            continue
        return candidate
