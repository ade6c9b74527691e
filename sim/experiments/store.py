"""The sweep store: one folder per sweep, written so that a crash never costs more than the
runs in flight and never leaves a file that looks finished but is not.

Layout of a sweep folder::

    manifest.json        experiment file, its sha256, code and model version, packages
    experiment.toml      copy of the experiment file as run
    design.parquet       one row per run: run_id, key, context, strategy, point, replicate,
                         seed, ticks and the factor values
    summaries/<context>/<strategy>/<key>.parquet    one row: the run's summary
    timeseries/<context>/<strategy>/<key>.parquet   the kept per-tick metrics
    failures.jsonl       one line per failed attempt, with its traceback
    status.json          counts at the end of the last session
    .peacesim.lock       while a session runs: its pid, host and command (see :func:`lock`)

Every result file is named by the run's *content key*, a hash of its resolved parameters,
seed, ticks, what is kept and the model version (:func:`run_key`); a run is finished when
its summary file exists, reads back whole (page checksums are on) and names its key. The
time series is written before the summary, each through a temporary file and a rename, so
the summary doubles as the run's completion mark. ``--resume`` keeps finished runs, moves
unreadable files to ``corrupt/`` and redoes those runs.

One session at a time: a session holds an exclusive lock on the folder (``flock`` on
``.peacesim.lock``), so two ``--resume`` processes never both redo the missing runs; the
second stops at once and names the first.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from sim.config.experiment import META_COLUMNS  # noqa: F401 (re-exported)
from sim.io.manifest import PACKAGES, canonical_json, git_state, package_versions
from sim.io.store import atomic_path, atomic_write_text, to_jsonable, write_json

FORMAT = 1
MANIFEST, DESIGN, EXPERIMENT_COPY = "manifest.json", "design.parquet", "experiment.toml"
SUMMARIES, TIMESERIES, CORRUPT = "summaries", "timeseries", "corrupt"
FAILURES, STATUS, LOCK = "failures.jsonl", "status.json", ".peacesim.lock"
#: source files and folders of the package (relative paths) that describe, run or store
#: experiments rather than the model: editing them does not change results, so they are left
#: out of the model version; every other ``*.py`` file under ``sim/`` is in it
NON_MODEL_SOURCES = ("__init__.py", "cli.py", "engine/cache.py", "config/experiment.py",
                     "config/study.py", "io/manifest.py", "io/store.py", "experiments/",
                     "sensitivity/study.py", "sensitivity/report.py", "viz/", "bench/")


class StoreError(ValueError):
    """A folder that cannot be used as (or read as) a sweep store; CLI exit 2."""


class StoreLocked(StoreError):
    """Another process holds the folder's lock (a sweep or study session runs in it)."""


# --------------------------------------------------------------------------- identity


def model_sources(package: Path) -> list[Path]:
    """The package's source files that decide a run's results (sorted)."""
    files = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        if not any(rel == n or (n.endswith("/") and rel.startswith(n))
                   for n in NON_MODEL_SOURCES):
            files.append(path)
    return files


def source_version(package: Path, version: str) -> str:
    """``<version>+<sha256 of the model's source files under package>`` (first 16 hex)."""
    h = hashlib.sha256()
    for path in model_sources(package):
        rel = path.relative_to(package).as_posix()
        h.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{version}+{h.hexdigest()[:16]}"


@functools.cache
def model_version() -> str:
    """``<package version>+<sha256 of the model's source files>``: any edit to the engine,
    the rules, the model or the recorder gives new content keys, so a resumed sweep never
    mixes results of two engines."""
    import sim

    return source_version(Path(sim.__file__).resolve().parent, sim.__version__)


def run_key(parameters: Any, seed: int, ticks: int, keep: dict[str, Any], version: str) -> str:
    """Content key of a run: sha256 of what determines its stored result (first 32 hex)."""
    text = canonical_json({"parameters": parameters, "seed": int(seed), "ticks": int(ticks),
                           "keep": keep, "model_version": version})
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def result_paths(out: Path, context: str, strategy: str, key: str) -> tuple[Path, Path]:
    """(summary file, time-series file) of one run."""
    rel = Path(context) / strategy / f"{key}.parquet"
    return out / SUMMARIES / rel, out / TIMESERIES / rel


# --------------------------------------------------------------------------- set-up


def _packages() -> dict[str, str | None]:
    return package_versions((*PACKAGES, "dask", "distributed", "tqdm", "SALib"))


def is_store(out: Path) -> bool:
    return (out / MANIFEST).is_file() and (out / DESIGN).is_file()


def read_manifest(out: Path) -> dict[str, Any]:
    """The folder's ``manifest.json``; :class:`StoreError` (one line: which file, what is
    wrong, what to do) if it cannot be read or is not whole."""
    path = Path(out) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StoreError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        where = (f" at line {exc.lineno}, column {exc.colno}"
                 if isinstance(exc, json.JSONDecodeError) else "")
        raise StoreError(
            f"{path}: corrupt or truncated (not valid JSON{where}); it records how the "
            f"folder was made: restore it from a backup, or run again into a new folder "
            f"(finished runs under {SUMMARIES}/ are not affected)") from None
    if not isinstance(data, dict):
        raise StoreError(f"{path}: not a peacesim manifest (a JSON object expected); restore "
                         "it from a backup, or run again into a new folder")
    return data


def _holder(fd: int) -> str:
    """Who holds a lock file, from what it wrote into it."""
    try:
        info = json.loads(os.pread(fd, 65536, 0).decode("utf-8"))
        command = " ".join(info.get("command") or []) or "?"
        return (f"pid {info['pid']} on {info['host']}, since {info['started']}: "
                f"{command}")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return "a process that is starting"


@contextlib.contextmanager
def lock(out: Path, command: list[str] | None = None) -> Iterator[Path]:
    """Hold the folder's exclusive lock for the block: ``flock`` on ``.peacesim.lock`` in
    ``out`` (an existing folder), which holds this process's pid, host, command and start
    time. :class:`StoreLocked` at once, naming the holder, if another process has it.

    The kernel drops the lock when its process dies, however it dies, so a killed session
    never leaves a stale lock. The file is removed on release. On systems without ``fcntl``
    (Windows) no lock is taken.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - POSIX only
        yield out
        return
    path = Path(out) / LOCK
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"{path}: cannot open the folder's lock file "
                             f"({exc.strerror or exc})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise StoreLocked(f"{out}: in use by another peacesim process ({holder}); wait "
                              "for it to finish or stop it, then try again") from None
        except OSError:
            os.close(fd)
            raise
        # the holder may have released and removed the file between our open and flock: then
        # we locked an orphaned inode, and must lock the file now at that path instead
        try:
            st, now = os.fstat(fd), os.stat(path)
            if (st.st_dev, st.st_ino) == (now.st_dev, now.st_ino):
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": datetime.now(UTC).isoformat(timespec="seconds"),
                "command": command}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        yield out
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # still ours: nobody else can lock it while we hold it
        os.close(fd)


def is_empty(out: Path) -> bool:
    """No entries but (maybe) this folder's lock file."""
    return all(p.name == LOCK for p in Path(out).iterdir())


def check_resumable(out: Path, store_id: str, what: str = "sweep") -> dict[str, Any]:
    """The manifest of the store at ``out`` if ``--resume`` may continue it: a whole store of
    the same experiment (``store_id``: the sha256 recorded at its start); else
    :class:`StoreError`. Creates nothing."""
    if not out.is_dir():
        raise StoreError(f"--resume {out}: no such folder; start a new {what} there without "
                         "--resume")
    if not is_store(out):
        raise StoreError(f"--resume {out}: not a {what} folder (no {MANIFEST} and "
                         f"{DESIGN}); start a new {what} in a new folder, without --resume")
    manifest = read_manifest(out)
    if manifest.get("experiment_sha256") != store_id:
        other = ("experiment file" if what == "sweep" else
                 "study (its sample, seeds, model or factors differ)")
        raise StoreError(
            f"--resume {out}: the folder holds a {what} of a different {other} (sha256 "
            f"{str(manifest.get('experiment_sha256'))[:12]}..., now {store_id[:12]}...); "
            f"start a new {what} folder")
    return manifest


def init_store(out: Path, experiment_path: Path, experiment_sha256: str,
               design: pd.DataFrame, info: dict[str, Any], resume: bool) -> dict[str, Any]:
    """Create (or, with ``resume``, reopen) a sweep folder and record this session.

    A new sweep needs a new or empty folder; a resumed one must hold a sweep of the very
    same experiment file (same sha256), or results of two experiments would mix.
    """
    if not resume:
        out.mkdir(parents=True, exist_ok=True)
    session = {"started": datetime.now(UTC).isoformat(timespec="seconds"),
               "resume": resume, **{k: info[k] for k in ("command", "executor") if k in info}}
    if resume:
        manifest = check_resumable(out, experiment_sha256,
                                   "study" if info.get("kind") == "sensitivity" else "sweep")
        if manifest.get("model_version") != info["model_version"]:
            session["note"] = (f"model version changed from {manifest.get('model_version')}: "
                               "earlier results have other keys and are not reused")
        manifest.setdefault("sessions", []).append(session)
        manifest["model_version"] = info["model_version"]
        manifest["git"] = git_state()
        manifest["packages"] = _packages()
    else:
        if not is_empty(out):
            raise StoreError(f"--out {out}: folder is not empty; choose a new folder, or "
                             "add --resume to continue the sweep in it")
        import platform

        import sim

        manifest = {
            "kind": "peacesim-sweep",
            "format": FORMAT,
            "created": session["started"],
            "experiment_file": str(experiment_path),
            "experiment_sha256": experiment_sha256,
            "peacesim_version": sim.__version__,
            "python_version": platform.python_version(),
            "platform": platform.platform(),
            "executable": sys.executable,
            "packages": _packages(),
            "git": git_state(),
            "sessions": [session],
            **info,
        }
        shutil.copyfile(experiment_path, out / EXPERIMENT_COPY)
    write_json(out / MANIFEST, manifest)
    with atomic_path(out / DESIGN) as tmp:
        pq.write_table(pa.Table.from_pandas(design, preserve_index=False), tmp)
    return manifest


# --------------------------------------------------------------------------- results


def _column(values: list[Any]) -> pa.Array:
    """Strings stay strings; every other summary value becomes float64 (None -> null), so
    files of one sweep share a schema even when a key is None in some runs."""
    if all(v is None or isinstance(v, str) for v in values) and any(
            isinstance(v, str) for v in values):
        return pa.array(values, type=pa.string())
    return pa.array([None if v is None else float(v) for v in values], type=pa.float64())


def _write_parquet(table: pa.Table, path: Path) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, write_page_checksum=True)


def write_result(out: Path, meta: dict[str, Any], summary: dict[str, Any],
                 timeseries: pd.DataFrame | None) -> None:
    """Store one finished run: the time series first, then the summary (its completion mark).

    ``meta`` carries the design columns (run_id, key, context, strategy, point, replicate,
    seed, ticks, factor values) and bookkeeping (attempt, elapsed_s, worker).
    """
    s_path, t_path = result_paths(out, meta["context"], meta["strategy"], meta["key"])
    rows = 0 if timeseries is None else len(timeseries)
    if rows:
        assert timeseries is not None
        ts = pa.Table.from_pandas(timeseries, preserve_index=False)
        n = ts.num_rows
        ts = ts.add_column(0, "run_id", pa.array([meta["run_id"]] * n, pa.int64()))
        for i, col in enumerate(("key", "context", "strategy")):
            ts = ts.add_column(1 + i, col, pa.array([meta[col]] * n, pa.string())
                               .dictionary_encode())
        _write_parquet(ts, t_path)
    row = {**meta, "ts_rows": rows}
    cols: dict[str, pa.Array] = {}
    for k, v in row.items():
        if k in ("run_id", "point", "replicate", "seed", "ticks", "attempt", "ts_rows"):
            cols[k] = pa.array([int(v)], pa.int64())
        elif k in ("key", "context", "strategy", "worker"):
            cols[k] = pa.array([str(v)], pa.string())
        else:
            cols[k] = _column([v])
    for k, v in summary.items():
        if k not in cols:
            cols[k] = _column([v])
    _write_parquet(pa.table(cols), s_path)


def _readable(path: Path) -> pa.Table:
    return pq.read_table(path, page_checksum_verification=True)


def _check_run(s_path: Path, t_path: Path, key: str) -> str | None:
    """None if the run's files read back whole and match, else what is wrong."""
    try:
        s = _readable(s_path)
    except Exception as exc:  # any read failure means "redo"
        return f"{s_path.name}: unreadable ({type(exc).__name__}: {exc})"
    if s.num_rows != 1 or "key" not in s.column_names or s["key"][0].as_py() != key:
        return f"{s_path.name}: does not hold run {key}"
    rows = s["ts_rows"][0].as_py() if "ts_rows" in s.column_names else 0
    if rows:
        try:
            t = _readable(t_path)
        except Exception as exc:
            return f"{t_path.name}: unreadable ({type(exc).__name__}: {exc})"
        if t.num_rows != rows:
            return f"{t_path.name}: {t.num_rows} rows, expected {rows}"
    return None


def _quarantine(out: Path, path: Path) -> None:
    if not path.exists():
        return
    rel = path.relative_to(out)
    dest = out / CORRUPT / f"{'__'.join(rel.parts)}.{int(time.time() * 1000)}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, dest)


def scan_finished(out: Path, design: pd.DataFrame) -> tuple[set[str], list[str]]:
    """Keys of the design's runs whose results are complete, and one line per problem found.

    Leftover temporary files are removed; a run whose files are unreadable, truncated or
    inconsistent has them moved to ``corrupt/`` (so it is redone); a time series without a
    summary (the process died between the two writes) is removed.
    """
    for folder in (out / SUMMARIES, out / TIMESERIES):
        if folder.is_dir():
            for tmp in folder.rglob(".*.tmp"):
                tmp.unlink(missing_ok=True)
    done: set[str] = set()
    problems: list[str] = []
    for ctx, strat, key in design[["context", "strategy", "key"]].itertuples(index=False):
        s_path, t_path = result_paths(out, ctx, strat, key)
        if not s_path.exists():
            t_path.unlink(missing_ok=True)
            continue
        problem = _check_run(s_path, t_path, key)
        if problem is None:
            done.add(key)
        else:
            problems.append(f"{ctx}/{strat}/{problem}; moved to {CORRUPT}/, the run is redone")
            _quarantine(out, s_path)
            _quarantine(out, t_path)
    return done, problems


def append_failure(out: Path, record: dict[str, Any]) -> None:
    """One JSON line per failed attempt, flushed to disk at once (a reader skips a line cut
    short by a crash)."""
    line = json.dumps(to_jsonable(record), allow_nan=False) + "\n"
    with open(out / FAILURES, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def write_status(out: Path, status: dict[str, Any]) -> None:
    write_json(out / STATUS, status)


def write_text(out: Path, name: str, text: str) -> Path:
    return atomic_write_text(out / name, text)


# --------------------------------------------------------------------------- reading


def _read_manifest(out: Path) -> dict[str, Any]:
    """The manifest of a sweep folder being resumed; a corrupt one is a one-line
    :class:`StoreError` that says what to do."""
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise StoreError(f"--resume {out}: {MANIFEST} cannot be read ({type(exc).__name__}: "
                         f"{str(exc)[:120]}); the folder is damaged: restore {MANIFEST} or "
                         "start a new sweep folder") from None
    if not isinstance(manifest, dict):
        raise StoreError(f"--resume {out}: {MANIFEST} is not a sweep manifest (a JSON "
                         f"{type(manifest).__name__}); restore it or start a new sweep folder")
    return manifest


def open_store(out: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """(manifest, design) of a sweep folder; :class:`StoreError` if it is not one."""
    out = Path(out)
    if not out.is_dir():
        raise StoreError(f"{out}: no such folder")
    if not is_store(out):
        raise StoreError(f"{out}: not a sweep folder (no {MANIFEST} and {DESIGN}; "
                         "`peacesim sweep` writes them)")
    manifest = read_manifest(out)
    try:
        design = pq.read_table(out / DESIGN).to_pandas()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise StoreError(f"{out / DESIGN}: cannot read it ({exc}); restore it from a backup, "
                         "or run again into a new folder") from None
    return manifest, design


def read_failures(out: Path) -> list[dict[str, Any]]:
    """All recorded failed attempts (lines cut short by a crash are skipped)."""
    path = Path(out) / FAILURES
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def _files(out: Path, kind: str, design: pd.DataFrame) -> list[str]:
    files = []
    for ctx, strat, key in design[["context", "strategy", "key"]].itertuples(index=False):
        s_path, t_path = result_paths(out, ctx, strat, key)
        path = s_path if kind == SUMMARIES else t_path
        if path.exists():
            files.append(str(path))
    return list(dict.fromkeys(files))  # design rows that share a key share its file


def _dataset(files: list[str]) -> pads.Dataset:
    # one schema for all: the union over one file per context/strategy folder
    firsts: dict[str, str] = {}
    for f in files:
        firsts.setdefault(str(Path(f).parent), f)
    schema = pa.unify_schemas([pq.read_schema(f) for f in firsts.values()],
                              promote_options="permissive")
    return pads.dataset(files, schema=schema, format="parquet")


JOIN = ["context", "strategy", "key"]


def _with_design(results: pd.DataFrame, design: pd.DataFrame) -> pd.DataFrame:
    """Design columns from the design (a result may serve several identical design rows)."""
    own = [c for c in design.columns if c in results.columns and c not in JOIN]
    return design.merge(results.drop(columns=own), on=JOIN, how="inner")


def read_summaries(out: Path, design: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per finished run of the design, in run_id order (results of other designs,
    e.g. written by an older engine, are ignored)."""
    out = Path(out)
    if design is None:
        _, design = open_store(out)
    files = _files(out, SUMMARIES, design)
    if not files:
        return design.iloc[:0].copy()
    df = _with_design(_dataset(files).to_table().to_pandas(), design)
    return df.sort_values("run_id", kind="stable").reset_index(drop=True)


def read_timeseries(out: Path, design: pd.DataFrame, columns: list[str] | None = None
                    ) -> pd.DataFrame:
    """Kept per-tick metrics of the given design rows (pass a slice to bound memory), with
    the design columns; ``columns`` picks metrics (``tick`` is always there)."""
    files = _files(Path(out), TIMESERIES, design)
    if not files:
        return pd.DataFrame()
    ds = _dataset(files)
    if columns is not None:
        columns = list(dict.fromkeys([*JOIN, "tick", *(c for c in columns
                                                        if c in ds.schema.names)]))
    df = ds.to_table(columns=columns).to_pandas()
    for col in ("context", "strategy"):
        df[col] = df[col].astype(str)
    return _with_design(df, design)
