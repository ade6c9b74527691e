"""The Pareto front of an optimisation: which evaluations are on it, its knee, and what
:func:`sim.experiments.optimize.optimize` returns (shared by the search and its report)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config.optimize import Optimization
from sim.experiments.store import read_manifest

STRATEGIES = "strategies"  #: folder of the front's strategy files


def nondominated(f: np.ndarray) -> np.ndarray:
    """Mask of the rows of ``f`` (minimised) that no other row dominates."""
    n = len(f)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        others = np.delete(f, i, axis=0)
        if len(others) and ((others <= f[i]).all(axis=1) & (others < f[i]).any(axis=1)).any():
            keep[i] = False
    return keep


def minimised(opt: Optimization, values: np.ndarray) -> np.ndarray:
    """Objectives as pymoo minimises them: higher-is-better ones negated."""
    sign = np.array([1.0 if o.better == "lower" else -1.0 for o in opt.objectives])
    return values * sign


def knee_index(f: np.ndarray) -> int:
    """Row of ``f`` (minimised, the front) nearest the ideal point after scaling each
    objective from its best (0) to its worst (1) value on the front."""
    lo, hi = f.min(axis=0), f.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return int(np.argmin(np.sqrt((((f - lo) / span) ** 2).sum(axis=1))))


def session_timings(out: Path) -> list[dict[str, float]]:
    """The timing of every session that finished (oldest first)."""
    return [s["timing"] for s in read_manifest(out).get("sessions", []) if "timing" in s]


@dataclass
class OptimizeResult:
    """What :func:`optimize` produced: the front and every evaluation as data frames, the
    knee, the strategy files and every output path."""

    out: Path
    front: pd.DataFrame
    evaluations: pd.DataFrame
    generations: pd.DataFrame
    knee: pd.Series
    strategy_files: list[Path]
    paths: dict[str, Path]
    timing: dict[str, float]
    optimization: Optimization = field(repr=False)

    @property
    def report_md(self) -> Path:
        return self.paths["report"]


def front_mask(opt: Optimization, evaluations: pd.DataFrame) -> np.ndarray:
    """Rows of ``evaluations`` on the front: feasible, the first of each distinct candidate,
    dominated by no other."""
    cols = [o.column for o in opt.objectives]
    first = ~evaluations["label"].duplicated()
    ok = (evaluations["feasible"] & first).to_numpy()
    mask = np.zeros(len(evaluations), dtype=bool)
    if ok.any():
        f = minimised(opt, evaluations.loc[ok, cols].to_numpy(dtype=float))
        mask[np.flatnonzero(ok)[nondominated(f)]] = True
    return mask
