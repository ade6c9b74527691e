"""ABC-SMC calibration with pyabc, its simulations run on the sweep runner's executors.

What ABC does. Approximate Bayesian computation draws parameter values from the prior,
simulates the model with each, and keeps the values whose simulated statistics land close to
the observed ones; sequential Monte Carlo (SMC) repeats this over generations, proposing new
values around the last generation's survivors and tightening "close" each time, so the kept
particles (weighted) approximate the posterior distribution of the parameters.

The pieces, all pyabc's except where the model meets the executors:

* priors: a :class:`pyabc.Distribution` of :class:`pyabc.RV` per parameter (uniform,
  loguniform, normal, truncated normal), restricted to values that make a valid scenario
  (:class:`ScenarioPrior`: e.g. densities that together exceed one cell are impossible);
* distance: :class:`pyabc.AdaptivePNormDistance` -- each statistic is divided by its median
  absolute deviation (MAD) over the previous generation's particles, so statistics on
  different scales weigh alike and the scales follow the posterior as it narrows (Prangle
  2017); a statistic with no spread is ignored; NaN (a statistic the run does not have, e.g.
  a relapse ratio without an exit) never passes;
* epsilon: the median of the previous generation's distances (pyabc's default), transitions:
  :class:`pyabc.MultivariateNormalTransition`;
* sampler: :class:`ExecutorSampler`, a :class:`pyabc.sampler.Sampler` that runs each
  particle's ``replicates`` simulations as :func:`sim.experiments.sweep.execute` tasks on the
  executor of :func:`sim.experiments.sweep.open_pool` (process pool, Dask or serial) and
  averages their statistics.

Determinism. Proposals are drawn in the coordinator, in particle order, from numpy's global
random state seeded per generation from ``SeedSequence([seed, t + 1])``; particle ``j`` of
generation ``t`` runs its replicates with seeds from ``SeedSequence([seed, t + 1, j])``; a
generation consists of particles ``0..k`` where ``k`` is the ``population``-th accepted one,
whatever order they finished in. The same file and seed therefore give the same posterior on
any executor and any number of workers.

Resume. pyabc keeps its history in SQLite (``OUT/abc.db``); a generation is committed as a
whole once it is complete. Every generation is run by a fresh :class:`pyabc.ABCSMC` loaded
from that history (the distance's scales, epsilon and transitions fitted from the last stored
generation), so a calibration killed at any point and resumed goes on from the last complete
generation and ends exactly where an uninterrupted one would.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import queue
import shutil
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.report import DB_NAME
from sim.calibration.statistics import available, run_statistic
from sim.config.base import one_problem
from sim.config.calibration import WHAT, Calibration, CalibrationError, load_calibration
from sim.config.scenario import ScenarioError, build_scenario, check_run_length
from sim.experiments.store import model_version
from sim.experiments.sweep import Pool, default_sweep_dir, execute, open_pool

#: process pools that may break in a row before the calibration gives up
MAX_BROKEN_POOLS = 3


class CalibrationFailed(RuntimeError):
    """Simulations keep failing (CLI: exit 1); complete generations stay in ``abc.db``: fix
    the cause and ``--resume``."""


# --------------------------------------------------------------------------- checks


def probe_statistics(cal: Calibration) -> list[str]:
    """Run the scenario one tick and check that every target's run statistic exists (this
    also compiles the kernels before workers start); returns the available statistics."""
    from sim.io.runner import run

    sc = build_scenario(cal.data, cal.source, cal.overrides)
    res = run(sc, seed=0, ticks=1)
    names = available(res.summary)
    for i, t in enumerate(cal.targets):
        if t.model_statistic not in names:
            import difflib

            close = difflib.get_close_matches(t.model_statistic, names, n=3)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            key = "model_statistic" if t.statistic != t.model_statistic else "statistic"
            if key == "statistic" or cal.spec.targets[i].model_statistic is not None:
                where, value = f"targets[{i}].{key}", t.model_statistic
            else:  # mapped from the event-data statistic by DATA_TO_MODEL
                where, value = f"targets[{i}].statistic", t.statistic
                hint = (f"it maps to the run statistic {t.model_statistic!r}; name another "
                        f"with `model_statistic`; {hint}")
            raise CalibrationError(one_problem(
                str(cal.path), WHAT, where, value=value, show_value=True,
                message=f"not a statistic of a run of {cal.scenario_file.name}; {hint}"
                f"available: {', '.join(names)}"))
    return names


# --------------------------------------------------------------------------- runs


def execute_timed(task: dict[str, Any]) -> dict[str, Any]:
    """:func:`sim.experiments.sweep.execute` plus the CPU time the run took in the worker
    (``cpu_s``): on a shared machine wall time overstates what the simulations cost."""
    cpu0 = time.process_time()
    res = execute(task)
    res["cpu_s"] = time.process_time() - cpu0
    return res


def _seeds(entropy: list[int], n: int) -> list[int]:
    children = np.random.SeedSequence(entropy).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


def parameter_overrides(cal: Calibration, values: dict[str, float]) -> dict[str, Any]:
    """A particle's dotted-key values (whole-number parameters rounded) over the file's
    ``[set]``."""
    out = dict(cal.overrides)
    for p in cal.priors:
        v = float(values[p.key])
        out[p.key] = int(round(v)) if p.integer else v
    return out


@dataclass
class RunStats:
    """What the simulations cost (seconds); updated from several threads."""

    runs: int = 0  # simulations finished and used
    wasted: int = 0  # finished or cancelled after their generation was complete
    failed_attempts: int = 0
    worker_s: float = 0.0  # wall time inside the workers (model runs)
    worker_cpu_s: float = 0.0  # CPU time of the same
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class ParticleRunner:
    """Runs the ``replicates`` simulations of one particle on the pool and averages their
    statistics; safe to call from many threads at once."""

    def __init__(self, cal: Calibration, pool: Pool, retries: int = 1) -> None:
        self.cal = cal
        self.pool = pool
        self.retries = retries
        self.version = model_version()
        self.stats = RunStats()
        self._executor_lock = threading.Lock()
        self._pool_generation = 0
        self._broken = 0
        self.keep = {"summary_keys": None, "metrics": [], "every": 1, "burn_in": 0}

    def _submit(self, task: dict[str, Any]) -> tuple[Future, int]:
        with self._executor_lock:
            return self.pool.executor.submit(execute_timed, task), self._pool_generation

    def _renew(self, generation: int, exc: BaseException) -> None:
        with self._executor_lock:
            if generation != self._pool_generation or self.pool.renew is None:
                return
            self._broken += 1
            if self._broken > MAX_BROKEN_POOLS:
                raise CalibrationFailed(f"the worker processes died {self._broken} times "
                                        f"in a row (last: {exc!r})")
            self.pool.executor.shutdown(wait=False, cancel_futures=True)
            self.pool.executor = self.pool.renew()
            self._pool_generation += 1

    def summaries(self, values: dict[str, float], entropy: list[int],
                  cancelled: threading.Event | None = None) -> list[dict[str, Any]]:
        """The run summaries of one particle (``replicates`` runs, seeds from
        ``SeedSequence(entropy)``); raises :class:`_Cancelled` once ``cancelled`` is set."""
        cal = self.cal
        overrides = parameter_overrides(cal, values)
        seeds = _seeds(entropy, cal.spec.replicates)
        base = {"data": cal.data, "source": cal.source, "overrides": overrides,
                "ticks": cal.ticks, "keep": self.keep}
        attempts = dict.fromkeys(range(len(seeds)), 1)
        pending: dict[Future, tuple[int, int]] = {}
        for r, seed in enumerate(seeds):
            fut, gen = self._submit({**base, "seed": seed, "run_id": r, "attempt": 1})
            pending[fut] = (r, gen)
        out: dict[int, dict[str, Any]] = {}
        try:
            while pending:
                finished, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                if cancelled is not None and cancelled.is_set():
                    raise _Cancelled
                for fut in finished:
                    r, gen = pending.pop(fut)
                    try:
                        res = fut.result()
                    except BrokenProcessPool as exc:
                        self._renew(gen, exc)
                        res = {"ok": False, "retryable": True, "error": repr(exc)}
                    except Exception as exc:  # lost worker, scheduler gone
                        res = {"ok": False, "retryable": True, "error": repr(exc)}
                    if res["ok"] and res["model_version"] != self.version:
                        raise CalibrationFailed(
                            f"worker {res['worker']} runs model version "
                            f"{res['model_version']}, this calibration {self.version}: install "
                            "the same PeaceSim source on every worker")
                    if res["ok"]:
                        out[r] = res["summary"]
                        with self.stats.lock:
                            self.stats.worker_s += res["elapsed_s"]
                            self.stats.worker_cpu_s += res.get("cpu_s", math.nan)
                            self.stats.runs += 1
                            self._broken = 0
                        continue
                    with self.stats.lock:
                        self.stats.failed_attempts += 1
                    if not res.get("retryable", True) or attempts[r] > self.retries:
                        raise CalibrationFailed(
                            f"a simulation failed {attempts[r]} time(s) with "
                            f"{', '.join(f'{k} = {v}' for k, v in overrides.items())}, seed "
                            f"{seeds[r]}: {res['error']}")
                    attempts[r] += 1
                    fut2, gen2 = self._submit({**base, "seed": seeds[r], "run_id": r,
                                               "attempt": attempts[r]})
                    pending[fut2] = (r, gen2)
        except BaseException:
            for fut in pending:
                fut.cancel()
            with self.stats.lock:
                self.stats.wasted += len(pending)
            raise
        return [out[r] for r in range(len(seeds))]

    def statistics(self, values: dict[str, float], entropy: list[int], names: list[str],
                   cancelled: threading.Event | None = None) -> dict[str, float]:
        """Target name -> its run statistic averaged over the particle's replicates (NaN
        where no replicate has it)."""
        runs = self.summaries(values, entropy, cancelled)
        stats_of = {t.name: t.model_statistic for t in self.cal.targets}
        out = {}
        for n in names:
            vals = np.array([run_statistic(s, stats_of[n], self.cal.ticks) for s in runs])
            out[n] = float(np.mean(vals[np.isfinite(vals)])) if np.isfinite(vals).any() \
                else math.nan
        return out


# --------------------------------------------------------------------------- pyabc parts


class _Cancelled(Exception):  # noqa: N818 -- a signal, not an error
    """The particle's generation is complete without it."""


class _Job:
    def __init__(self, t: int, j: int) -> None:
        self.t, self.j = t, j
        self.proposed = threading.Event()  # its parameters are drawn: the next may start
        self.cancelled = threading.Event()


_current = threading.local()


def _make_model(runner: ParticleRunner, names: list[str]) -> Any:
    import pyabc

    class PeaceSimModel(pyabc.Model):
        """The particle's statistics, simulated on the executor (called in a job thread)."""

        def sample(self, pars: Any) -> dict[str, float]:
            job: _Job = _current.job
            job.proposed.set()  # drawing is over: the next particle may draw now
            return runner.statistics(dict(pars), [runner.cal.spec.seed, job.t + 1, job.j],
                                     names, job.cancelled)

    return PeaceSimModel(name="peacesim")


def _make_sampler(runner: ParticleRunner, progress: Callable[[int, int, int], None]) -> Any:
    import pyabc

    class ExecutorSampler(pyabc.sampler.Sampler):
        """Particles proposed in order in this process, simulated on the sweep executor.

        Up to ``2 x slots + 2`` particles are in flight, each in a light thread that draws
        its parameters (one after the other: thread ``j + 1`` starts once ``j`` has drawn),
        waits for its simulations and lets pyabc compute its distance. The generation is the
        particles up to the ``n``-th accepted one in particle order (as pyabc's
        ``ConcurrentFutureSampler`` does), so the result does not depend on timing.
        """

        def __init__(self) -> None:
            super().__init__()
            self.runner = runner
            self.simulated = 0  # particles simulated in the last call (incl. wasted ones)

        def sample_until_n_accepted(self, n: int, simulate_one: Callable, t: int, *,
                                    max_eval: float = np.inf, all_accepted: bool = False,
                                    ana_vars: Any = None) -> Any:
            state = np.random.SeedSequence([runner.cal.spec.seed, t + 1]).generate_state(1)
            np.random.seed(int(state[0]))
            window = 2 * runner.pool.slots + 2
            done: queue.Queue = queue.Queue()
            jobs: dict[int, _Job] = {}
            results: dict[int, Any] = {}
            accepted: list[int] = []
            next_id = 0

            def work(job: _Job) -> None:
                _current.job = job
                try:
                    done.put((job.j, simulate_one(), None))
                except _Cancelled:
                    done.put((job.j, None, None))
                except BaseException as exc:  # reported by the coordinator
                    done.put((job.j, None, exc))
                finally:
                    job.proposed.set()

            try:
                while True:
                    while (len(jobs) < window and len(accepted) < n and next_id < max_eval):
                        job = _Job(t, next_id)
                        jobs[next_id] = job
                        threading.Thread(target=work, args=(job,), daemon=True,
                                         name=f"particle-{t}-{next_id}").start()
                        job.proposed.wait()
                        next_id += 1
                    if not jobs:
                        break
                    j, particle, exc = done.get()
                    if j not in jobs:  # cancelled earlier
                        continue
                    del jobs[j]
                    if exc is not None:
                        raise exc
                    results[j] = particle
                    if particle.accepted:
                        accepted.append(j)
                        accepted.sort()
                        progress(t, min(len(accepted), n), n)
                    if len(accepted) >= n:
                        last = accepted[n - 1]
                        for k in [k for k in jobs if k > last]:
                            jobs.pop(k).cancelled.set()
                        if not jobs:
                            break
            finally:
                for job in jobs.values():
                    job.cancelled.set()
            self.simulated = next_id
            sample = self._create_empty_sample()
            last = accepted[n - 1] if len(accepted) >= n else max(results, default=-1)
            for j in sorted(results):
                if j <= last:
                    sample.append(results[j])
            with runner.stats.lock:
                runner.stats.wasted += len([j for j in results if j > last]) \
                    * runner.cal.spec.replicates
            self.nr_evaluations_ = last + 1
            if len(accepted) < n:
                sample.ok = False
            return sample

    return ExecutorSampler()


def _rv(prior: Any) -> Any:
    import pyabc

    a = prior.args
    if prior.kind == "uniform":
        return pyabc.RV("uniform", a[0], a[1] - a[0])
    if prior.kind == "loguniform":
        return pyabc.RV("loguniform", a[0], a[1])
    if prior.kind == "normal":
        return pyabc.RV("norm", a[0], a[1])
    lo, hi, mean, sd = a
    return pyabc.RV("truncnorm", (lo - mean) / sd, (hi - mean) / sd, mean, sd)


def make_prior(cal: Calibration) -> Any:
    """The prior as a pyabc distribution, restricted to parameter values that make a valid
    scenario."""
    import pyabc

    class ScenarioPrior(pyabc.Distribution):
        """The product of the parameters' priors where the scenario is valid, else zero
        (pyabc then proposes again)."""

        def valid(self, x: Any) -> bool:
            try:
                sc = build_scenario(cal.data, cal.source, parameter_overrides(cal, dict(x)))
                check_run_length(sc, cal.ticks, cal.source)
            except ScenarioError:
                return False
            return True

        def rvs(self, *args: Any, **kwargs: Any) -> Any:
            for _ in range(10_000):
                x = super().rvs(*args, **kwargs)
                if self.valid(x):
                    return x
            raise CalibrationError(one_problem(
                str(cal.path), WHAT, "parameters", "10,000 draws from the prior gave no valid "
                "scenario (the parameters' values together break a rule of the scenario, "
                "e.g. densities above one agent per cell); narrow the priors"))

        def pdf(self, x: Any) -> float:
            p = super().pdf(x)
            return p if p > 0 and self.valid(x) else 0.0

    return ScenarioPrior(**{p.key: _rv(p) for p in cal.priors})


def _nan_mad(*, samples: np.ndarray, **kwargs: Any) -> np.ndarray:
    """Median absolute deviation per statistic, ignoring particles where it is NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(samples, axis=0)
        mad = np.nanmedian(np.abs(samples - med), axis=0)
    return np.nan_to_num(mad, nan=0.0)


def _make_abc(cal: Calibration, runner: ParticleRunner,
              progress: Callable[[int, int, int], None]) -> Any:
    import pyabc

    names = [t.name for t in cal.fitted]
    return pyabc.ABCSMC(
        models=_make_model(runner, names),
        parameter_priors=make_prior(cal),
        distance_function=pyabc.AdaptivePNormDistance(p=cal.spec.abc.p,
                                                      scale_function=_nan_mad),
        population_size=cal.spec.abc.population,
        transitions=pyabc.MultivariateNormalTransition(),
        eps=pyabc.MedianEpsilon(),
        sampler=_make_sampler(runner, progress),
    )


class _Timed:
    """Seconds spent in a pyabc History's database methods (the 'database' share of the
    timing)."""

    METHODS = ("append_population", "get_population", "get_distribution",
               "get_model_probabilities", "store_initial_data", "update_after_calibration",
               "done", "get_all_populations", "observed_sum_stat")

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, history: Any) -> None:
        for name in self.METHODS:
            fn = getattr(history, name, None)
            if fn is None:
                continue

            def timed(*a: Any, _fn: Callable = fn, **k: Any) -> Any:
                t0 = time.perf_counter()
                try:
                    return _fn(*a, **k)
                finally:
                    self.seconds += time.perf_counter() - t0

            setattr(history, name, timed)


# --------------------------------------------------------------------------- folder


@contextlib.contextmanager
def claim_folder(out: str | Path | None, resume: bool, name: str,
                 command: list[str] | None = None) -> Iterator[Path]:
    """The calibration's folder, checked and locked before anything runs, like a sweep's
    (:func:`sim.experiments.sweep.claim_out`); the lock is held for the block.

    ``resume``: ``out`` must be a calibration folder (its manifest is checked further by
    :func:`_init_folder`, under the lock). Otherwise ``out`` (default: a fresh
    ``results/calibration/<name>-<time>``) must be new or empty and writable; a folder made
    here is removed again if the block fails before pyabc stored anything in it. A folder in
    use by another process is refused at once, naming that process
    (:func:`sim.experiments.store.lock`)."""
    from sim.experiments.store import LOCK, StoreError, is_empty, lock
    from sim.io.store import OutputFolderError, check_writable

    def holder_first(folder: Path) -> None:
        if (folder / LOCK).exists():
            with lock(folder, command):  # names the holder if a session runs there now
                pass

    def not_empty(folder: Path) -> CalibrationError:
        return CalibrationError(f"--out {folder}: folder is not empty; choose a new folder, or "
                                "add --resume to continue the calibration in it")

    try:
        if resume:
            if out is None:
                raise CalibrationError("--resume needs --out DIR: the folder of the calibration "
                                       "to continue")
            folder = Path(out)
            if folder.is_dir():
                holder_first(folder)
            if not (folder / "manifest.json").is_file():
                raise CalibrationError(f"--resume {folder}: not a calibration folder (no "
                                       "manifest.json); start a new calibration there without "
                                       "--resume")
            check_writable(folder)
            with lock(folder, command):
                yield folder
            return
        root = "results/calibration"
        if out is None:
            check_writable(root)
            folder, created = default_sweep_dir(name, root), True
        else:
            folder = Path(out)
            if folder.exists() and not folder.is_dir():
                raise CalibrationError(f"--out {folder}: exists and is not a folder")
            if folder.is_dir() and not is_empty(folder):
                holder_first(folder)
                raise not_empty(folder)
            check_writable(folder)
            created = not folder.exists()
            folder.mkdir(parents=True, exist_ok=True)
        with lock(folder, command):
            if not is_empty(folder):  # another process got here first and has finished since
                raise not_empty(folder)
            try:
                yield folder
            except BaseException:
                # set-up failed (a statistic the run lacks, an unreachable cluster, Ctrl+C)
                # before pyabc stored anything: a folder made here holds nothing worth keeping
                if created and not (folder / DB_NAME).exists():
                    shutil.rmtree(folder, ignore_errors=True)
                raise
    except (StoreError, OutputFolderError) as exc:
        raise CalibrationError(str(exc)) from None


def _packages() -> dict[str, str | None]:
    from sim.io.manifest import PACKAGES, package_versions

    return package_versions((*PACKAGES, "pyabc", "sqlalchemy", "dask", "distributed"))


def _init_folder(cal: Calibration, out: Path, resume: bool, info: dict[str, Any]) -> None:
    """Write (or, resuming, check and extend) ``manifest.json`` and the file's copy."""
    import json
    import platform

    import sim
    from sim.io.manifest import git_state
    from sim.io.store import write_json

    manifest_path = out / "manifest.json"
    session = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "resume": resume,
               **info}
    if resume:
        if not manifest_path.is_file():
            raise CalibrationError(f"--resume {out}: not a calibration folder (no "
                                   "manifest.json); start a new calibration there without "
                                   "--resume")
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("kind") != "peacesim-calibration":
            raise CalibrationError(f"--resume {out}: the folder holds a "
                                   f"{manifest.get('kind', 'different kind of')} run, not a "
                                   "calibration")
        if manifest.get("calibration_sha256") != cal.sha256:
            raise CalibrationError(
                f"--resume {out}: the folder holds a calibration of a different file (sha256 "
                f"{str(manifest.get('calibration_sha256'))[:12]}..., now {cal.sha256[:12]}...)"
                "; start a new folder")
        if manifest.get("model_version") != model_version():
            raise CalibrationError(
                f"--resume {out}: the model changed since this calibration started (version "
                f"{manifest.get('model_version')}, now {model_version()}); its generations "
                "cannot be continued with another model: start a new folder")
        manifest.setdefault("sessions", []).append(session)
    else:
        manifest = {
            "kind": "peacesim-calibration",
            "created": session["started"],
            "calibration_file": str(cal.path),
            "calibration_sha256": cal.sha256,
            "name": cal.name,
            "scenario_file": str(cal.scenario_file),
            "strategy_file": None if cal.strategy_file is None else str(cal.strategy_file),
            "seed": cal.spec.seed,
            "seed_entropy": "numpy.random.SeedSequence([seed, generation + 1, particle])",
            "ticks": cal.ticks,
            "replicates": cal.spec.replicates,
            "parameters": {p.key: p.describe() for p in cal.priors},
            "targets": [{"name": t.name, "model_statistic": t.model_statistic,
                         "observed": t.observed, "holdout": t.holdout, "source": t.source}
                        for t in cal.targets],
            "model_version": model_version(),
            "peacesim_version": sim.__version__,
            "python_version": platform.python_version(),
            "platform": platform.platform(),
            "executable": sys.executable,
            "packages": _packages(),
            "git": git_state(),
            "sessions": [session],
        }
        shutil.copyfile(cal.path, out / "calibration.toml")
    write_json(manifest_path, manifest)


# --------------------------------------------------------------------------- driver


@dataclass
class CalibrationResult:
    """What :func:`calibrate` produced."""

    out: Path
    posterior: pd.DataFrame  # one column per parameter key plus `weight`
    generations: pd.DataFrame
    ppc: pd.DataFrame
    timing: dict[str, float]
    paths: dict[str, Path]
    calibration: Calibration


def _db_url(out: Path) -> str:
    return f"sqlite:///{(out / DB_NAME).resolve()}"


def _populations(out: Path) -> pd.DataFrame:
    """pyabc's table of stored generations (empty if none)."""
    import pyabc

    if not (out / DB_NAME).is_file():
        return pd.DataFrame(columns=["t", "epsilon", "samples", "particles"])
    h = pyabc.History(_db_url(out), create=False)
    if h.n_populations == 0:
        return pd.DataFrame(columns=["t", "epsilon", "samples", "particles"])
    return h.get_all_populations()


def _stop_reason(cal: Calibration, pops: pd.DataFrame, ok: bool = True) -> str | None:
    spec = cal.spec.abc
    gens = pops[pops["t"] >= 0]
    if not ok:
        return "too few particles were accepted"
    if gens.empty:
        return None
    if spec.generations is not None and len(gens) >= spec.generations:
        return f"{len(gens)} generations done"
    eps = float(gens["epsilon"].iloc[-1])
    if spec.min_epsilon is not None and eps <= spec.min_epsilon:
        return f"epsilon {eps:.4g} <= min_epsilon {spec.min_epsilon:g}"
    total = int(pops["samples"].sum())
    if spec.max_simulations is not None and total >= spec.max_simulations:
        return f"{total} particles simulated >= max_simulations {spec.max_simulations}"
    return None


def _quiet_pyabc() -> None:
    """pyabc logs every generation at INFO level; this module reports progress itself."""
    import pyabc  # noqa: F401 -- configures its loggers on import; adjust them after

    for name in ("ABC", "pyabc", "History", "Distance", "Epsilon", "Acceptor", "Sampler",
                 "ABC.Distance", "ABC.History", "ABC.Epsilon", "ABC.Sampler",
                 "ABC.Transition", "ABC.Population"):
        logging.getLogger(name).setLevel(logging.WARNING)


def calibrate(
    calibration: str | Path,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    tls: Any = None,
    resume: bool = False,
    retries: int = 1,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
    command: list[str] | None = None,
) -> CalibrationResult:
    """Run (or, with ``resume``, continue) the ABC-SMC calibration of a calibration file into
    ``out`` and write the posterior, plots, predictive check and report there.

    Like any code that starts worker processes, a script calling this with a process pool
    must do so under ``if __name__ == "__main__":``.
    """
    from sim.calibration import report

    t_start, cpu_start = time.perf_counter(), time.process_time()
    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    log = log or (lambda m: None)
    cal = load_calibration(calibration)
    executor_text = ("serial" if workers == 0 and not (scheduler or dask_local) else
                     scheduler or (f"dask-local {dask_local}" if dask_local else
                                   f"process pool {workers or 'auto'}"))
    _quiet_pyabc()
    with claim_folder(out, resume, cal.name, command) as out:
        log(f"checking {cal.name} (the first run after an install compiles the model: ~1 min)")
        probe_statistics(cal)
        _init_folder(cal, out, resume, {"command": command, "executor": executor_text})
        pops = _populations(out)
        if resume:
            done = int((pops["t"] >= 0).sum()) if len(pops) else 0
            log(f"resuming {out}: {done} complete generation(s) in {DB_NAME}")
        timing = {"setup_s": time.perf_counter() - t_start}
        with open_pool(workers, scheduler, dask_local, tls=tls) as pool:
            log(f"ABC-SMC: {len(cal.priors)} parameter(s), {len(cal.fitted)} target(s) fitted "
                f"({len(cal.holdout)} held out), {cal.spec.abc.population} particles x "
                f"{cal.spec.replicates} replicate(s) of {cal.ticks} ticks on "
                f"{pool.description} -> {out}")
            runner = ParticleRunner(cal, pool, retries)
            gens = _run_generations(cal, out, runner, log, progress, timing)
            log("posterior predictive check ...")
            t0 = time.perf_counter()
            posterior = report.read_posterior(cal, out)
            ppc_draws = report.predictive_draws(cal, runner, posterior)
            timing["ppc_s"] = time.perf_counter() - t0
        timing["worker_s"] = runner.stats.worker_s
        timing["worker_cpu_s"] = runner.stats.worker_cpu_s
        timing["runs"] = runner.stats.runs
        timing["wasted_runs"] = runner.stats.wasted
        timing["total_s"] = time.perf_counter() - t_start
        timing["coordinator_cpu_s"] = time.process_time() - cpu_start
        timing["load_average_start"] = load_start
        timing["load_average_end"] = os.getloadavg()[0] if hasattr(os, "getloadavg") \
            else math.nan
        paths = report.write_outputs(cal, out, posterior, gens, ppc_draws, timing)
    log(f"calibration finished in {timing['total_s']:.0f} s: {paths['report']}")
    return CalibrationResult(out=out, posterior=posterior, generations=gens,
                             ppc=report.ppc_table(cal, ppc_draws), timing=timing, paths=paths,
                             calibration=cal)


def _run_generations(cal: Calibration, out: Path, runner: ParticleRunner,
                     log: Callable[[str], None], progress: bool,
                     timing: dict[str, float]) -> pd.DataFrame:
    """Run generation after generation until a stop rule holds; returns generations.csv's
    table."""
    from sim.calibration import report

    timing.setdefault("abc_s", 0.0)
    timing.setdefault("sampling_s", 0.0)
    timing.setdefault("database_s", 0.0)
    x0 = {t.name: t.observed for t in cal.fitted}
    walls = report.read_walls(out)
    bar = None
    times: list[float] = []

    def show(t: int, k: int, n: int) -> None:
        nonlocal bar
        if not progress:
            return
        from tqdm import tqdm

        if bar is None or bar.desc != _desc(t):
            if bar is not None:
                bar.close()
            bar = tqdm(total=n, desc=_desc(t), unit="particle", file=sys.stderr,
                       dynamic_ncols=True, mininterval=0.5, leave=False)
        bar.n = k
        bar.refresh()

    while True:
        pops = _populations(out)
        reason = _stop_reason(cal, pops)
        if reason is not None:
            log(f"stopping: {reason}")
            break
        t_gen = time.perf_counter()
        abc = _make_abc(cal, runner, show)
        timer = _Timed()
        has = len(pops) and (pops["t"] >= 0).any()
        if not has:
            (out / DB_NAME).unlink(missing_ok=True)  # a generation 0 that never finished
            abc.new(_db_url(out), x0)
        else:
            abc.load(_db_url(out), 1, observed_sum_stat=x0)
        timer.wrap(abc.history)
        sampler = abc.sampler
        t_sampling = [0.0]
        inner = sampler.sample_until_n_accepted

        def timed_sampling(*a: Any, _inner: Callable = inner, _acc: list = t_sampling,
                           **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return _inner(*a, **k)
            finally:
                _acc[0] += time.perf_counter() - t0

        sampler.sample_until_n_accepted = timed_sampling
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            abc.run(max_nr_populations=1)
        if bar is not None:
            bar.close()
            bar = None
        wall = time.perf_counter() - t_gen
        timing["abc_s"] += wall
        timing["sampling_s"] += t_sampling[0]
        timing["database_s"] += timer.seconds
        before = int(pops["t"].max()) if len(pops) else -1
        pops = _populations(out)
        t_new = int(pops["t"].max())
        if t_new <= before:
            log("stopping: too few particles were accepted")
            break
        walls[t_new] = {"wall_s": wall, "sampling_s": t_sampling[0],
                        "database_s": timer.seconds}
        report.write_generations(cal, out, pops, walls)
        row = pops[pops["t"] == t_new].iloc[0]
        times.append(wall)
        rate = float(row["particles"]) / float(row["samples"])
        left = ""
        if cal.spec.abc.generations is not None:
            n_left = cal.spec.abc.generations - (t_new + 1)
            left = f", ETA {n_left * float(np.mean(times)):.0f} s" if n_left > 0 else ""
        log(f"generation {t_new}: epsilon {row['epsilon']:.4g}, acceptance rate {rate:.3f}, "
            f"{int(row['samples'])} particles simulated ({int(pops['samples'].sum())} in all), "
            f"{wall:.1f} s{left}")
        if int(row["particles"]) < cal.spec.abc.population:
            log("stopping: too few particles were accepted")
            break
    return report.generations_table(cal, _populations(out), walls)


def _desc(t: int) -> str:
    return "prior sample" if t < 0 else f"generation {t}"


__all__ = ["CalibrationFailed", "CalibrationResult", "ParticleRunner", "calibrate",
           "claim_folder", "make_prior", "probe_statistics"]
