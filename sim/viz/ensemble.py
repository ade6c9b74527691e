"""Several seeds behind the compare page: the mean of A, B and B - A over N seeds with an
uncertainty band, run in the background.

One run is one possible history; on the baseline a single seed has shown engagement costing
two lives where eight seeds show it saving thirteen. So the compare page can run N seeds of
both strategies (the same seeds on both sides: the differences are paired) to the end of the
run in a worker process, while the room watches the live run, and draws the mean of each
curve with a band: mean +/- t(0.975, n - 1) x SD / sqrt(n), the 95 % interval of the mean.
No Solara here: the worker imports only the model.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from sim.viz.components import MEASURES, Band
from sim.viz.trainer import PairSettings, TrainerModel, TrainerSettings

#: seeds the compare page runs unless told otherwise
DEFAULT_SEEDS = 5
MAX_SEEDS = 50

_pool: cf.Executor | None = None
_pool_lock = threading.Lock()


def shared_pool() -> cf.Executor:
    """One worker process for every page of this server (a fresh interpreter: no Solara,
    no shared state), started on first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = cf.ProcessPoolExecutor(max_workers=1,
                                           mp_context=multiprocessing.get_context("spawn"))
        return _pool


def run_series(settings: TrainerSettings) -> dict[str, np.ndarray]:
    """A whole run of ``settings`` (its seed, to the scenario's last week): the charted
    measures per week (what :func:`sim.viz.components.series` gives)."""
    from sim.viz.components import series

    model = TrainerModel(settings)
    for _ in range(model.scenario_config.run.ticks):
        model.step()
    return series(model)


def band(runs: list[np.ndarray]) -> Band:
    """Mean and 95 % interval of the mean over runs of equal length (no interval for one)."""
    data = np.vstack(runs)
    mean = data.mean(axis=0)
    if len(runs) < 2:
        return Band(mean, mean.copy(), mean.copy())
    half = stats.t.ppf(0.975, len(runs) - 1) * data.std(axis=0, ddof=1) / np.sqrt(len(runs))
    return Band(mean, mean - half, mean + half)


@dataclass
class Ensemble:
    """N seeds of both sides of a pair, running in the background.

    ``seeds`` are ``first_seed, first_seed + 1, ...`` (the pair's own seed first), the same on
    both sides. :meth:`start` submits every run; :meth:`bands` gives the bands of the seeds
    done on both sides so far; ``on_progress`` is called (from a worker's callback thread)
    after each run.
    """

    pair: PairSettings
    n: int = DEFAULT_SEEDS
    executor: cf.Executor | None = None
    on_progress: Callable[[], Any] | None = None
    results: dict[tuple[str, int], dict[str, np.ndarray]] = field(default_factory=dict)
    error: str | None = None
    _futures: list[cf.Future] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if not 1 <= int(self.n) <= MAX_SEEDS:
            raise ValueError(f"seeds = {self.n}: give a whole number from 1 to {MAX_SEEDS}")
        self.n = int(self.n)

    @property
    def seeds(self) -> list[int]:
        """The seeds run, the pair's own first."""
        return [self.pair.a.seed + i for i in range(self.n)]

    def start(self) -> Ensemble:
        """Submit every run (both sides of every seed)."""
        pool = self.executor or shared_pool()
        for seed in self.seeds:
            for side, s in (("a", self.pair.a), ("b", self.pair.b)):
                fut = pool.submit(run_series, s.replace(seed=seed))
                fut.add_done_callback(lambda f, side=side, seed=seed: self._done(side, seed, f))
                self._futures.append(fut)
        return self

    def _done(self, side: str, seed: int, fut: cf.Future) -> None:
        if fut.cancelled():
            return
        exc = fut.exception()
        with self._lock:
            if exc is not None:
                self.error = f"a background run failed: {exc}"
            else:
                self.results[(side, seed)] = fut.result()
        if self.on_progress is not None:
            self.on_progress()

    def cancel(self) -> None:
        """Drop the runs not started yet (the settings changed)."""
        for fut in self._futures:
            fut.cancel()

    @property
    def total(self) -> int:
        """Runs in all (two per seed)."""
        return 2 * self.n

    @property
    def done(self) -> int:
        """Runs finished so far."""
        with self._lock:
            return len(self.results)

    def complete_seeds(self) -> list[int]:
        """Seeds finished on both sides."""
        with self._lock:
            return [s for s in self.seeds if ("a", s) in self.results and ("b", s) in
                    self.results]

    def bands(self) -> dict[str, Band]:
        """Bands keyed as the compare charts read them (``a.<measure>``, ``b.<measure>``,
        ``d.<measure>``), over the seeds finished on both sides."""
        seeds = self.complete_seeds()
        if not seeds:
            return {}
        with self._lock:
            runs = [(self.results[("a", s)], self.results[("b", s)]) for s in seeds]
        out = {}
        for key in MEASURES:
            a = [r[0][key] for r in runs]
            b = [r[1][key] for r in runs]
            n = min(len(x) for x in a + b)
            a = [x[:n] for x in a]
            b = [x[:n] for x in b]
            out[f"a.{key}"] = band(a)
            out[f"b.{key}"] = band(b)
            out[f"d.{key}"] = band([y - x for x, y in zip(a, b, strict=True)])
        return out

    def final_difference(self, key: str) -> tuple[float, float, float] | None:
        """The B - A difference of a measure at the last week: mean and 95 % interval."""
        b = self.bands().get(f"d.{key}")
        if b is None:
            return None
        return float(b.mean[-1]), float(b.low[-1]), float(b.high[-1])
