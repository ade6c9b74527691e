"""Run an experiment: one task per run on any ``concurrent.futures.Executor``.

The unit of work is :func:`execute`, a module-level function that takes plain data (scenario
dict, dotted overrides, seed, ticks, what to keep) and returns plain data (summary dict and
the kept per-tick table), so it pickles cheaply and runs the same in this process, in a
``ProcessPoolExecutor`` (the default) or on a Dask cluster. Results are bit-identical
whatever the executor: the engine depends only on the scenario and the seed.

The coordinator (:func:`run_sweep`) keeps a bounded number of tasks in flight and writes each
result to the sweep store as it arrives (:mod:`sim.experiments.store`), so its memory does not grow
with the number of runs. A run that raises is recorded in ``failures.jsonl`` with its
traceback and retried up to ``retries`` times; invalid parameters (a
:class:`~sim.config.scenario.ScenarioError`, deterministic) are not retried.

Test hook: the environment variable ``PEACESIM_SWEEP_FAIL``, read by the coordinator and
passed along with each task, makes chosen runs fail inside the worker. It holds
comma-separated entries ``RUN_ID[@ATTEMPT][:crash]``: the run with that ``run_id`` raises (on
every attempt, or only on attempt ``ATTEMPT``); with ``:crash`` a pool worker process exits
abruptly instead, as after a segfault or an out-of-memory kill.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import shutil
import socket
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config.experiment import (
    Experiment,
    ExperimentError,
    design_points,
    expand,
    keep_spec,
    load_experiment,
    scenario_inputs,
)
from sim.config.outcomes import DEFAULT_METRICS
from sim.config.scenario import ScenarioError, build_scenario
from sim.experiments.lifeline import PARENT_ENV, die_with_parent, identity, watch
from sim.experiments.store import (
    FAILURES,
    LOCK,
    SUMMARIES,
    StoreError,
    append_failure,
    check_resumable,
    init_store,
    is_empty,
    lock,
    model_version,
    run_key,
    scan_finished,
    write_result,
    write_status,
)
from sim.io.store import check_writable
from sim.sensitivity.testfunctions import call_function

FAIL_ENV = "PEACESIM_SWEEP_FAIL"
_HAS_FORKSERVER = "forkserver" in mp.get_all_start_methods()


class SweepError(ValueError):
    """A sweep that cannot start (bad executor options, unreachable scheduler); exit 2."""


class SweepAborted(RuntimeError):
    """Worker processes keep dying before finishing any run: stop instead of burning every
    run's retries (finished runs stay stored; fix the cause and ``--resume``)."""


#: process pools that may break in a row, with no run finishing in between, before aborting
MAX_BROKEN_POOLS = 3


# --------------------------------------------------------------------------- worker side


def _injected_failure(spec: str, run_id: int, attempt: int) -> None:
    """The documented test hook (module docstring); ``spec`` is the variable's value in the
    coordinator (pool workers may have started before it was set)."""
    for entry in filter(None, (e.strip() for e in spec.split(","))):
        target, _, mode = entry.partition(":")
        rid, _, att = target.partition("@")
        if int(rid) == run_id and (not att or int(att) == attempt):
            if mode == "crash" and mp.parent_process() is not None:
                os._exit(70)  # a worker process dying, not an exception
            raise RuntimeError(f"injected failure ({FAIL_ENV}={spec!r}) for run {run_id}, "
                               f"attempt {attempt}")


def shape_result(summary: dict[str, Any], ts: pd.DataFrame, keep: dict[str, Any]
                 ) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """Keep what the experiment asked for: the chosen summary keys plus ``avg_<metric>``
    (the metric's mean over the ticks after ``burn_in``) for each kept metric, and the kept
    metrics from ``burn_in`` on, every ``every``-th tick."""
    metrics = keep["metrics"]
    if metrics == "default":
        metrics = [m for m in DEFAULT_METRICS if m in ts.columns]
    elif metrics == "all":
        metrics = [c for c in ts.columns if c != "tick"]
    burn_in, every = int(keep["burn_in"]), int(keep["every"])
    keys = keep["summary_keys"]
    out = dict(summary) if keys is None else {k: summary.get(k) for k in keys}
    after = ts[ts["tick"] > burn_in]
    for m in metrics:
        out[f"avg_{m}"] = float(after[m].mean()) if len(after) else None
    if not metrics:
        return out, None
    rows = ts[(ts["tick"] >= burn_in) & ((ts["tick"] - burn_in) % every == 0)]
    return out, rows[["tick", *metrics]].reset_index(drop=True)


def execute(task: dict[str, Any]) -> dict[str, Any]:
    """Run one task (plain data in, plain data out); errors come back as data, with the
    traceback formatted where it happened."""
    t0 = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        if task.get("inject"):
            _injected_failure(task["inject"], int(task["run_id"]), int(task["attempt"]))
        if "function" in task:  # a test function (sim.sensitivity.testfunctions), same plumbing
            summary, ts = call_function(task["function"], task["overrides"], task["seed"]), None
        else:
            from sim.io.runner import run

            scenario = build_scenario(task["data"], task["source"], task["overrides"])
            res = run(scenario, seed=task["seed"], ticks=task["ticks"])
            summary, ts = shape_result(res.summary, res.timeseries, task["keep"])
        return {"ok": True, "summary": summary, "timeseries": ts, "worker": worker,
                "model_version": model_version(), "elapsed_s": time.perf_counter() - t0}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(), "worker": worker,
                "retryable": not isinstance(exc, ScenarioError),
                "elapsed_s": time.perf_counter() - t0}


def warm_worker() -> None:
    """Load the compiled kernels once per worker, so run times exclude it (pool initialiser,
    Dask ``client.run``)."""
    from sim.io.runner import run

    for model in ("peacekeeping", "epstein"):
        sc = build_scenario({"model": model, "world": {"width": 8, "height": 8}})
        run(sc, seed=0, ticks=2)


# --------------------------------------------------------------------------- executors


class SerialExecutor(Executor):
    """Runs each task at submission, in this process (``--workers 0``: debugging, tests)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # the coordinator records it like any other failure
            fut.set_exception(exc)
        return fut


@dataclass
class Pool:
    """An executor with what the coordinator needs to know about it."""

    executor: Executor
    description: str
    slots: int
    renew: Callable[[], Executor] | None = None  # a new pool after a worker process died


def _package_root() -> Path:
    """The folder holding the ``sim`` package this process imported."""
    import sim

    return Path(sim.__file__).resolve().parent.parent


def _is_site_dir(folder: str) -> bool:
    import site

    sites = [*site.getsitepackages(), site.getusersitepackages()]
    return any(os.path.realpath(folder) == os.path.realpath(s) for s in sites)


def worker_sys_path() -> list[str]:
    """Import path of pool workers: this process's, without the current folder (``""`` or
    its absolute path), so a ``sim/`` folder or a ``concurrent.py`` in the folder a sweep is
    started from is never imported; the root of the ``sim`` package in use comes first (it
    may be the current folder, when that is the source checkout being run)."""
    cwd = os.path.realpath(os.getcwd())
    root = str(_package_root())
    if _is_site_dir(root):  # an installed package: found where the libraries are
        return [p for p in sys.path if p and os.path.realpath(p) != cwd]
    return [root, *(p for p in sys.path
                    if p and os.path.realpath(p) not in (cwd, os.path.realpath(root)))]


@contextlib.contextmanager
def _child_env(**changes: str) -> Iterator[None]:
    """Set environment variables for processes started inside the block."""
    saved = {k: os.environ.get(k) for k in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _safe_env(extra: dict[str, str] | None = None) -> contextlib.AbstractContextManager:
    """Environment for starting Python pool processes: ``PYTHONSAFEPATH`` keeps the current
    folder off their import path (``python -c`` would put it first), ``PYTHONPATH`` leads
    with the root of the ``sim`` package in use so they import the same one."""
    root = str(_package_root())
    env = {"PYTHONSAFEPATH": "1", **(extra or {})}
    if not _is_site_dir(root):
        old = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        env["PYTHONPATH"] = os.pathsep.join([root, *(p for p in old if p != root)])
    return _child_env(**env)


def _start_forkserver() -> int:
    """Start (once per coordinator) the forkserver that forks pool workers, with a safe import
    path and its life tied to this process (:mod:`sim.experiments.lifeline`); its pid."""
    from multiprocessing import forkserver

    mp.get_context("forkserver").set_forkserver_preload(
        ["sim.experiments.forkserver_preload", "sim.io.runner", "sim.experiments.sweep"])
    with _safe_env({PARENT_ENV: str(os.getpid())}):
        forkserver.ensure_running()
    return int(forkserver._forkserver._forkserver_pid)  # type: ignore[attr-defined]


def pool_worker_init(parent: int, coordinator: int, coordinator_id: str | None,
                     sys_path: list[str]) -> None:
    """Initialiser of pool workers: the safe import path, die with the coordinator (parent
    -death signal and a watchdog, :mod:`sim.experiments.lifeline`), load the kernels."""
    sys.path[:] = sys_path
    if die_with_parent() and os.getppid() != parent:
        os._exit(75)  # the parent died before the signal was armed
    watch(coordinator, coordinator_id, parent)
    warm_worker()


def _process_pool(workers: int) -> Executor:
    """Worker processes forked by a forkserver (imports done once), or spawned where there is
    none (:func:`open_pool` then sets a safe environment for them); safe import path, and
    they end when this process ends, however it ends."""
    from concurrent.futures import ProcessPoolExecutor

    if _HAS_FORKSERVER:
        ctx, parent = mp.get_context("forkserver"), _start_forkserver()
    else:
        ctx, parent = mp.get_context("spawn"), os.getpid()
    me = os.getpid()
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                               initializer=pool_worker_init,
                               initargs=(parent, me, identity(me), worker_sys_path()))


def cpu_count() -> int:
    """CPUs this process may use (the default number of pool workers)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass(frozen=True)
class TLSFiles:
    """PEM files for a TLS-secured Dask cluster (Dask's ``Security``): the CA that signed
    every endpoint's certificate, and this client's certificate and key (the key may be
    appended to the certificate file instead)."""

    ca_file: str
    cert: str
    key: str | None = None


def _loopback(address: str) -> bool:
    host = address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    return host in ("localhost", "::1") or host.startswith("127.")


def _dask_security(scheduler: str, tls: TLSFiles | None) -> Any:
    """Dask ``Security`` for ``--scheduler`` with ``--tls-*`` files (checked here, before
    connecting), or None: Dask's own configuration (``distributed.comm.tls``) then applies."""
    if tls is None:
        return None
    from distributed.security import Security

    for option, value in (("--tls-ca-file", tls.ca_file), ("--tls-cert", tls.cert),
                          ("--tls-key", tls.key)):
        if value is not None and not os.access(value, os.R_OK):
            raise SweepError(f"{option} {value}: no such file, or not readable")
    if not scheduler.startswith("tls://"):
        raise SweepError(f"--scheduler {scheduler}: TLS files were given, so the address must "
                         f"start with tls:// (e.g. tls://{scheduler.split('://')[-1]})")
    return Security(tls_ca_file=tls.ca_file, tls_client_cert=tls.cert,
                    tls_client_key=tls.key, require_encryption=True)


def _temporary_security() -> Any:
    """Mutual TLS with throw-away credentials held in memory (``Security.temporary``), so no
    other user of this machine can submit work to a local cluster; None without the
    ``cryptography`` package (the cluster then relies on listening on 127.0.0.1 only)."""
    from distributed.security import Security

    try:
        return Security.temporary()
    except ImportError:
        return None


@contextlib.contextmanager
def open_pool(workers: int | None = None, scheduler: str | None = None,
              dask_local: int | None = None, tls: TLSFiles | None = None,
              log: Callable[[str], None] | None = None) -> Iterator[Pool]:
    """The executor for a sweep, shut down on exit: serial (``workers=0``), a process pool
    (default: one worker per CPU), a Dask cluster at ``scheduler`` (TLS with ``tls``), or a
    local Dask cluster of ``dask_local`` single-threaded worker processes (on 127.0.0.1 only,
    no dashboard, mutual TLS with temporary credentials when ``cryptography`` is installed).

    Anyone who can reach a Dask scheduler can run code on its workers (tasks are pickles):
    a cluster outside this machine should use TLS (``tls://`` and ``tls``)."""
    log = log or _silent
    if tls is not None and scheduler is None:
        raise SweepError("--tls-ca-file, --tls-cert and --tls-key go with --scheduler")
    if scheduler is None and dask_local is None:
        if workers == 0:
            yield Pool(SerialExecutor(), "serial (in the coordinator process)", 1)
            return
        n = workers or cpu_count()
        # spawned workers start at the first submissions: keep their environment safe meanwhile
        with contextlib.nullcontext() if _HAS_FORKSERVER else _safe_env():
            pool = Pool(_process_pool(n), f"process pool, {n} worker(s)", n,
                        renew=lambda: _process_pool(n))
            try:
                yield pool
            finally:
                pool.executor.shutdown(wait=True, cancel_futures=True)
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SweepError("Dask execution needs dask[distributed]: pip install "
                         "'peacesim[dask]'") from None
    cluster = None
    if scheduler is not None:
        security = _dask_security(scheduler, tls)
        try:
            client = Client(scheduler, timeout="15s", security=security)
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            hint = ("; a tls:// scheduler needs --tls-ca-file, --tls-cert and --tls-key (or "
                    "Dask's distributed.comm.tls configuration)"
                    if scheduler.startswith("tls://") and tls is None else "")
            raise SweepError(f"--scheduler {scheduler}: cannot connect to a Dask scheduler "
                             f"({type(exc).__name__}: {exc}){hint}") from None
        what = f"Dask cluster at {scheduler}"
        if not scheduler.startswith("tls://") and not _loopback(scheduler):
            log(f"warning: {scheduler} is neither encrypted nor authenticated: anyone who can "
                "reach it can run any code on its workers; use tls:// with --tls-ca-file, "
                "--tls-cert and --tls-key (docs/cluster.md)")
    else:
        security = _temporary_security()
        # no dashboard; the scheduler's remaining HTTP routes (health, metrics) on loopback
        cluster = LocalCluster(n_workers=dask_local, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None,
                               scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                               security=security or None)
        client = Client(cluster)
        what = (f"local Dask cluster, {dask_local} worker(s) on 127.0.0.1, "
                + ("TLS" if security is not None else "no TLS (install cryptography)"))
    try:
        client.run(warm_worker)
        slots = max(sum(client.nthreads().values()), 1)
        yield Pool(client.get_executor(pure=False), f"{what} ({slots} thread(s))", slots)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------- coordinator


@dataclass
class SweepStats:
    """What a sweep did; times in seconds."""

    out: Path
    runs: int = 0  # rows of the design
    distinct: int = 0  # distinct content keys (identical design rows share a result)
    skipped: int = 0  # already finished (resume)
    done: int = 0
    failed: list[int] = field(default_factory=list)  # run_ids that failed for good
    corrupt: list[str] = field(default_factory=list)  # problems found on resume
    attempts_failed: int = 0
    setup_s: float = 0.0  # loading, checking, warm-up, store set-up
    pool_s: float = 0.0  # from starting the executor to the last result
    first_result_s: float = 0.0  # from starting the executor to the first result
    run_time_s: float = 0.0  # sum of run times measured in the workers
    coordinator_cpu_s: float = 0.0  # CPU time of this process while runs were in flight
    executor: str = ""


def probe(exp: Experiment, keep: dict[str, Any]) -> None:
    """Run every context one tick (this also compiles the kernels before workers start, so
    they load them from the disk cache) and check the kept metrics and summary keys exist."""
    from sim.io.runner import run

    for ctx in exp.contexts:
        strat = exp.strategies[0].name
        sc = build_scenario(*scenario_inputs(exp, ctx.name, strat))
        res = run(sc, seed=0, ticks=1)
        cols = [c for c in res.timeseries.columns if c != "tick"]
        if isinstance(keep["metrics"], list):
            for m in keep["metrics"]:
                if m not in cols:
                    raise ExperimentError(
                        f"{exp.path}: output.metrics: {m!r} is not recorded for context "
                        f"{ctx.name!r}; available: {', '.join(cols)}")
        for k in keep["summary_keys"] or []:
            if k not in res.summary:
                raise ExperimentError(
                    f"{exp.path}: output.summary_keys: {k!r} is not a summary key of "
                    f"context {ctx.name!r}; available: {', '.join(res.summary)}")


def plan(exp: Experiment) -> tuple[pd.DataFrame, dict[tuple[str, str, int], dict[str, Any]]]:
    """The design with content keys, and each design cell's task data (scenario data, source
    label, dotted overrides)."""
    design = expand(exp)
    keep = keep_spec(exp)
    version = model_version()
    points = design_points(exp)
    cells: dict[tuple[str, str, int], tuple] = {}
    params: dict[tuple[str, str, int], Any] = {}
    for ctx in exp.contexts:
        for strat in exp.strategies:
            for p, values in enumerate(points):
                data, source, overrides = scenario_inputs(exp, ctx.name, strat.name, values)
                cells[(ctx.name, strat.name, p)] = {"data": data, "source": source,
                                                    "overrides": overrides}
                try:
                    params[(ctx.name, strat.name, p)] = build_scenario(
                        data, source, overrides).model_dump(mode="json")
                except ScenarioError:  # recorded as a failure when the run is attempted
                    params[(ctx.name, strat.name, p)] = {"invalid": [data, overrides]}
    keys = [run_key(params[(c, s, int(p))], int(seed), int(t), keep, version)
            for c, s, p, seed, t in design[["context", "strategy", "point", "seed", "ticks"]]
            .itertuples(index=False)]
    design.insert(1, "key", keys)
    return design, cells


def default_sweep_dir(name: str, root: str | Path = "results/sweeps") -> Path:
    """A fresh ``<root>/<name>-<YYYYmmdd-HHMMSS>`` folder (``-2``, ... if taken)."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{root}: cannot create it ({exc.strerror or exc})") from None
    base = f"{name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    for n in range(1, 10_000):
        candidate = root / (base if n == 1 else f"{base}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise SweepError(f"{root}: cannot create a fresh sweep folder")


def _silent(msg: str) -> None:
    """The default ``log`` of the library: it prints nothing (the CLI passes its own)."""


def run_sweep(
    experiment: str | Path,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    tls: TLSFiles | None = None,
    resume: bool = False,
    retries: int = 1,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
    command: list[str] | None = None,
) -> SweepStats:
    """Run (or, with ``resume``, finish) the experiment's sweep into ``out``.

    The folder is checked (writable; new or empty, or with ``resume`` a sweep of this very
    experiment) and locked before anything runs. ``log`` receives progress messages and
    ``progress`` shows a progress bar on stderr; by default the library prints nothing.

    Like any code that starts worker processes, a script calling this with a process pool
    must do so under ``if __name__ == "__main__":``.
    """
    t_setup = time.perf_counter()
    log = log or _silent
    exp = load_experiment(experiment)
    keep = keep_spec(exp)
    with claim_out(out, resume=resume, what="sweep", name=exp.name, root="results/sweeps",
                   store_id=exp.sha256, command=command) as out:
        log(f"checking {exp.name} (the first run after an install compiles the model: ~1 min)")
        probe(exp, keep)
        design, cells = plan(exp)
        executor_text = ("serial" if workers == 0 and not (scheduler or dask_local) else
                         scheduler or (f"dask-local {dask_local}" if dask_local else
                                       f"process pool {workers or 'auto'}"))
        init_store(out, exp.path, exp.sha256, design,
                   {"experiment_name": exp.name, "description": exp.spec.description,
                    "model_version": model_version(), "runs": len(design),
                    "replications": exp.spec.replications, "seed": exp.spec.seed,
                    "seed_policy": exp.spec.seed_policy, "design": exp.spec.design.kind,
                    "factors": exp.factor_keys, "keep": keep,
                    "command": command, "executor": executor_text}, resume)
        stats = execute_design(design, cells, keep, out, exp.factor_keys, workers=workers,
                               scheduler=scheduler, dask_local=dask_local, tls=tls,
                               resume=resume, retries=retries, progress=progress, log=log)
        stats.setup_s += time.perf_counter() - t_setup
        write_session_status(stats)
    return stats


@contextlib.contextmanager
def claim_out(out: str | Path | None, *, resume: bool, what: str, name: str, root: str,
              store_id: str, command: list[str] | None = None) -> Iterator[Path]:
    """The folder of a sweep or study, checked and locked before anything runs; the lock is
    held for the block (:func:`sim.experiments.store.lock`).

    ``resume``: ``out`` must be a store of the same experiment (``store_id``) and writable;
    nothing is created when it is refused. Otherwise ``out`` (default: a fresh
    ``<root>/<name>-<time>``) must be new or empty and writable; a folder created here is
    removed again if the block fails before any run was stored (or recorded as failed).
    """
    if resume:
        if out is None:
            raise SweepError(f"--resume needs --out DIR: the folder of the {what} to continue")
        out = Path(out)
        if (out / LOCK).exists():
            with lock(out, command):  # names the holder if a session runs there now
                pass
        check_resumable(out, store_id, what)
        check_writable(out)
        with lock(out, command):
            check_resumable(out, store_id, what)  # as it is now that no one else writes it
            yield out
        return
    if out is None:
        check_writable(root)
        out, created = default_sweep_dir(name, root), True
    else:
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise StoreError(f"--out {out}: exists and is not a folder")
        if out.is_dir() and not is_empty(out):
            if (out / LOCK).exists():
                with lock(out, command):  # names the holder if a session runs there now
                    pass
            raise StoreError(f"--out {out}: folder is not empty; choose a new folder, or add "
                             f"--resume to continue the {what} in it")
        check_writable(out)
        created = not out.exists()
        out.mkdir(parents=True, exist_ok=True)
    with lock(out, command):  # only the holder may clean up: another may have made it too
        if not is_empty(out):  # another process got here first and has finished since
            raise StoreError(f"--out {out}: folder is not empty; choose a new folder, or add "
                             f"--resume to continue the {what} in it")
        try:
            yield out
        except BaseException:
            # set-up failed (bad option, unreachable cluster, Ctrl+C) before any run was
            # stored or failed: a folder made here holds nothing worth keeping
            if created and not (out / SUMMARIES).exists() and not (out / FAILURES).exists():
                shutil.rmtree(out, ignore_errors=True)
            raise


def write_session_status(stats: SweepStats) -> None:
    """``status.json``: what the last session of a store did."""
    write_status(stats.out, {
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": stats.runs, "distinct": stats.distinct, "done_now": stats.done,
        "skipped": stats.skipped, "failed": len(stats.failed),
        "failed_run_ids": stats.failed, "corrupt_found": stats.corrupt,
        "executor": stats.executor, "pool_s": round(stats.pool_s, 3),
        "run_time_s": round(stats.run_time_s, 3)})


def execute_design(design: pd.DataFrame, cells: dict[tuple[str, str, int], dict[str, Any]],
                   keep: dict[str, Any], out: Path, factor_keys: list[str], *,
                   workers: int | None = None, scheduler: str | None = None,
                   dask_local: int | None = None, tls: TLSFiles | None = None,
                   resume: bool = False, retries: int = 1, progress: bool = False,
                   log: Callable[[str], None] | None = None, desc: str = "sweep",
                   pool: Pool | None = None) -> SweepStats:
    """Run every run of ``design`` not yet in the store at ``out`` (an initialised store).

    ``cells`` maps a design cell ``(context, strategy, point)`` to the plain data its task
    needs (``data``, ``source`` and ``overrides`` of a scenario, or ``function`` and
    ``overrides`` of a test function); runs with the same content key run once. Used by
    sweeps, sensitivity studies and, one generation at a time on one ``pool`` it keeps
    open (the executor options are then ignored), optimisations.
    """
    t_setup = time.perf_counter()
    log = log or _silent
    stats = SweepStats(out=out, runs=len(design))
    done_keys: set[str] = set()
    if resume:
        done_keys, stats.corrupt = scan_finished(out, design)
        for line in stats.corrupt:
            log(f"warning: {line}")
    order = design.sort_values(["replicate", "context", "strategy", "point"], kind="stable")
    distinct = order.drop_duplicates(["context", "strategy", "key"])
    stats.distinct = len(distinct)
    todo_rows = distinct[~distinct["key"].isin(done_keys)]
    stats.skipped = stats.distinct - len(todo_rows)
    # the queue holds design positions only; a task's data is looked up when it is submitted
    queue: deque[tuple[int, int]] = deque((int(i), 1) for i in todo_rows.index)
    del todo_rows, order, distinct
    stats.setup_s = time.perf_counter() - t_setup
    if resume:
        log(f"resuming {out}: {stats.skipped} of {stats.distinct} runs already done")
    if queue:
        if workers != 0:  # no more processes than runs
            workers = min(workers or cpu_count(), len(queue))
        with (contextlib.nullcontext(pool) if pool is not None else
              open_pool(workers, scheduler, dask_local, tls=tls, log=log)) as pool:
            stats.executor = pool.description
            log(f"{len(queue)} run(s) on {pool.description} -> {out}")
            try:
                _drive(pool, queue, _meta_lookup(design, factor_keys), cells, keep, out, retries,
                       stats, progress, desc)
            except KeyboardInterrupt:
                log(f"interrupted after {stats.done} run(s); finished runs are stored: "
                    f"continue with --out {out} --resume")
                raise
    return stats


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _meta_lookup(design: pd.DataFrame, factors: list[str]) -> Callable[[int], dict[str, Any]]:
    """Design row -> the plain dict of its design columns (built only when needed)."""
    names = ["run_id", "key", "context", "strategy", "point", "replicate", "seed", "ticks",
             *factors]
    cols = {n: design[n].to_numpy() for n in names}
    return lambda i: {n: _plain(a[i]) for n, a in cols.items()}


def _drive(pool: Pool, queue: deque, meta_of: Callable[[int], dict[str, Any]], cells: dict,
           keep: dict[str, Any], out: Path, retries: int, stats: SweepStats,
           progress: bool, desc: str = "sweep") -> None:
    """Keep ``2 x slots + 2`` tasks in flight; store each result as it arrives."""
    from tqdm import tqdm

    limit = 2 * pool.slots + 2
    version = model_version()
    inject = os.environ.get(FAIL_ENV, "")
    pending: dict[Future, tuple[int, dict[str, Any], int, int]] = {}
    generation = 0
    broken_in_a_row = 0
    executor = pool.executor
    t0, cpu0 = time.perf_counter(), time.process_time()
    bar = tqdm(total=len(queue), unit="run", desc=desc, file=sys.stderr,
               disable=not progress, dynamic_ncols=True, mininterval=0.5)
    try:
        while queue or pending:
            while queue and len(pending) < limit:
                row, attempt = queue.popleft()
                meta = meta_of(row)
                task = {**cells[(meta["context"], meta["strategy"], meta["point"])],
                        "run_id": meta["run_id"], "attempt": attempt, "seed": meta["seed"],
                        "ticks": meta["ticks"], "keep": keep}
                if inject:
                    task["inject"] = inject
                pending[executor.submit(execute, task)] = (row, meta, attempt, generation)
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                row, meta, attempt, gen = pending.pop(fut)
                try:
                    res = fut.result()
                except BrokenProcessPool as exc:
                    res = _infrastructure_error(exc)
                    if gen == generation and pool.renew is not None:
                        broken_in_a_row += 1
                        if broken_in_a_row > MAX_BROKEN_POOLS:
                            raise SweepAborted(
                                f"the worker processes died {broken_in_a_row} times in a row "
                                f"without finishing a run (last: {exc!r}); see "
                                f"{out / 'failures.jsonl'}. A script that calls run_sweep "
                                "needs the `if __name__ == \"__main__\":` guard.") from None
                        executor.shutdown(wait=False, cancel_futures=True)
                        executor = pool.executor = pool.renew()
                        generation += 1
                except Exception as exc:  # lost worker, scheduler gone, unpicklable result
                    res = _infrastructure_error(exc)
                if not stats.done and not stats.attempts_failed:
                    stats.first_result_s = time.perf_counter() - t0
                if res["ok"] and res["model_version"] != version:  # a mismatched cluster
                    res = {"ok": False, "retryable": False, "worker": res["worker"],
                           "traceback": "", "error": f"worker {res['worker']} runs model "
                           f"version {res['model_version']}, this sweep {version}: install "
                           "the same PeaceSim source on every worker"}
                if res["ok"]:
                    write_result(out, {**meta, "attempt": attempt,
                                       "elapsed_s": res["elapsed_s"], "worker": res["worker"]},
                                 res["summary"], res["timeseries"])
                    stats.done += 1
                    broken_in_a_row = 0
                    stats.run_time_s += res["elapsed_s"]
                    bar.update(1)
                    continue
                stats.attempts_failed += 1
                retry = bool(res.get("retryable", True)) and attempt <= retries
                append_failure(out, {
                    "time": datetime.now(UTC).isoformat(timespec="seconds"),
                    **meta, "attempt": attempt, "will_retry": retry,
                    "error": res["error"], "worker": res.get("worker"),
                    "traceback": res["traceback"]})
                if retry:
                    queue.appendleft((row, attempt + 1))
                else:
                    stats.failed.append(int(meta["run_id"]))
                    bar.update(1)
                    bar.set_postfix(failed=len(stats.failed))
    except BaseException:
        for fut in pending:
            fut.cancel()
        raise
    finally:
        bar.close()
        stats.pool_s = time.perf_counter() - t0
        stats.coordinator_cpu_s = time.process_time() - cpu0


def _infrastructure_error(exc: BaseException) -> dict[str, Any]:
    return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "retryable": True,
            "traceback": "".join(traceback.format_exception(exc)), "worker": None}
