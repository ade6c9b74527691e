"""Pattern-oriented validation as code (Grimm et al. 2005, *Science* 310: 987-991).

A :class:`Pattern` is data: an empirical claim in words with its citations, a small
experiment (a :class:`Design`: one scenario, a few arms of dotted-key overrides, common seeds,
replications, ticks), a statistic computed from the runs' summaries (or kept per-tick series)
with a confidence interval, and a criterion on shape or direction. :func:`run_patterns` runs
the designs on the sweep runner (:func:`sim.experiments.sweep.execute_design`: process pool
or Dask, resumable store, failures recorded) and evaluates every pattern;
:mod:`sim.evidence.pattern_report` writes the table, ``validation.md`` and the figures.

Rules the registry keeps:

* No pattern may be satisfied by a term written for it. Each pattern names the model rules
  that could produce it (``mechanism``) and says so where a rule encodes the claim directly.
* A pattern that fails says by how much; one the model cannot evaluate yet (a parameter or an
  output it needs does not exist) is reported as such, with what is missing, and counts as not
  holding. Nothing is skipped silently.
* Arms of one design share their seeds (common random numbers), so comparisons between arms
  are paired by replication; confidence intervals are t-intervals over replications or
  percentile bootstraps that resample replications (pairs stay together).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

#: scenario files of the designs
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
#: bootstrap resamples of every CI
BOOTSTRAP = 2000
LEVEL = 0.95
WEEKS_PER_MONTH = 52.0 / 12.0
#: district-level outputs the district patterns need from the model (``{i}`` = district id
#: bx * k + by, ``economy.districts`` blocks per side); Model 2.0 does not report them yet
DISTRICT_ATTACKS, DISTRICT_UNITS = "attacks_d{i}", "units_d{i}"
DISTRICT_CLASHES = "clashes_d{i}"

Status = Literal["holds", "fails", "cannot be evaluated", "runs failed"]


class PatternError(ValueError):
    """Bad input to the pattern runner (unknown pattern name, bad folder); CLI exit 2."""


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Arm:
    """One setting of a design: dotted-key overrides, and where it sits on a curve."""

    name: str
    set: Mapping[str, Any] = field(default_factory=dict)
    x: float | None = None  # position on the x axis of its curve (a level)
    group: str = ""  # which curve it belongs to (e.g. "troops", "police")


@dataclass(frozen=True)
class Design:
    """A small experiment: one scenario, arms, common seeds. Patterns that use the same
    design (same ``name``) share its runs."""

    name: str
    scenario: str  # file under scenarios/
    arms: tuple[Arm, ...]
    replications: int
    ticks: int
    set: Mapping[str, Any] = field(default_factory=dict)  # for every arm
    metrics: tuple[str, ...] = ()  # per-tick columns kept
    seed: int = 1
    #: ``--quick``: replications, ticks, set (e.g. a smaller map) and per-arm extra set
    quick: Mapping[str, Any] = field(default_factory=dict)

    def resolved(self, quick: bool) -> Design:
        """The design as run (``--quick`` settings applied)."""
        if not quick or not self.quick:
            return replace(self, quick={})
        q = self.quick
        arm_set = q.get("arm_set", {})
        arms = tuple(replace(a, set={**a.set, **arm_set.get(a.name, {})}) for a in self.arms)
        return replace(self, arms=arms, replications=int(q.get("replications", self.replications)),
                       ticks=int(q.get("ticks", self.ticks)), set={**self.set, **q.get("set", {})},
                       quick={})

    def arm(self, name: str) -> Arm:
        return next(a for a in self.arms if a.name == name)

    def spec(self) -> dict[str, Any]:
        """Plain data (the store's identity and the copy of what was run)."""
        return {"scenario": self.scenario, "replications": self.replications,
                "ticks": self.ticks, "seed": self.seed, "set": dict(self.set),
                "metrics": list(self.metrics),
                "arms": [{"name": a.name, "group": a.group,
                          "x": a.x if a.x is not None else "", "set": dict(a.set)}
                         for a in self.arms]}


@dataclass(frozen=True)
class Empirical:
    """What the study found, for the report and the figure's right panel.

    ``kind = "numbers"``: ``y`` are published numbers at ``x`` (or, with ``labels``, at
    categories). ``kind = "shape"``: ``y`` is an illustrative curve with the published
    shape (no data); the figure says so."""

    kind: Literal["shape", "numbers"]
    text: str
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()
    labels: tuple[str, ...] = ()
    xlabel: str = ""
    ylabel: str = ""


@dataclass
class Stat:
    """An estimate with its CI (``low``/``high`` NaN when it has none)."""

    value: float
    low: float = math.nan
    high: float = math.nan

    def text(self, digits: int = 3) -> str:
        if not math.isfinite(self.value):
            return "n/a"
        v = _g(self.value, digits)
        if math.isfinite(self.low) and math.isfinite(self.high):
            return f"{v} [{_g(self.low, digits)}, {_g(self.high, digits)}]"
        return v


@dataclass
class Check:
    """One criterion of a pattern, evaluated."""

    statistic: str  # what was computed, in words
    stat: Stat
    criterion: str  # what must be true of it
    holds: bool
    note: str = ""  # on failure: by how much; or a remark


@dataclass
class Curve:
    """A model curve for the figure: mean and CI band per level (or per category)."""

    label: str
    x: list[float]
    mean: list[float]
    low: list[float]
    high: list[float]
    categories: list[str] | None = None


@dataclass
class Evaluation:
    """What a pattern came to."""

    status: Status
    checks: list[Check] = field(default_factory=list)
    curves: list[Curve] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # outputs/parameters the model lacks
    xlabel: str = ""
    ylabel: str = ""

    @property
    def holds(self) -> bool:
        return self.status == "holds"

    @property
    def headline(self) -> Check | None:
        return self.checks[0] if self.checks else None


@dataclass
class Runs:
    """The runs of one design, as the statistics read them."""

    design: Design
    summaries: pd.DataFrame  # one row per run: arm, replicate, seed, summary keys
    series: pd.DataFrame | None = None  # arm, replicate, tick, kept metrics

    def values(self, key: str | Callable[[pd.DataFrame], pd.Series], arm: str) -> np.ndarray:
        df = self.summaries[self.summaries["arm"] == arm].sort_values("replicate")
        col = key(df) if callable(key) else df[key]
        return pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)

    def wide(self, key: str | Callable[[pd.DataFrame], pd.Series],
             arms: Sequence[str] | None = None) -> pd.DataFrame:
        """Replications x arms (paired on the common seeds); incomplete replications
        dropped."""
        arms = list(arms or [a.name for a in self.design.arms])
        df = self.summaries[self.summaries["arm"].isin(arms)].copy()
        df["_v"] = pd.to_numeric(key(df) if callable(key) else df[key], errors="coerce")
        w = df.pivot_table(index="replicate", columns="arm", values="_v", aggfunc="first",
                           dropna=False)
        return w.reindex(columns=arms).dropna()

    def run_series(self, arm: str) -> dict[int, pd.DataFrame]:
        """Replicate -> that run's kept per-tick series (sorted by tick)."""
        if self.series is None or self.series.empty:
            return {}
        s = self.series[self.series["arm"] == arm]
        return {int(r): g.sort_values("tick").reset_index(drop=True)
                for r, g in s.groupby("replicate")}


@dataclass(frozen=True)
class Pattern:
    """An empirical pattern the model should reproduce, as code."""

    name: str
    title: str
    citations: tuple[str, ...]
    claim: str  # the empirical claim, in words
    design: Design
    statistic: str  # what is computed, in words
    criterion: str  # what must hold, in words
    mechanism: str  # which model rules could produce it (and whether one encodes it)
    empirical: Empirical
    evaluate: Callable[[Runs], Evaluation]
    requires_params: tuple[str, ...] = ()  # scenario keys the design sets beyond the usual
    requires_summary: tuple[str, ...] = ()  # summary keys the statistic reads
    requires_metrics: tuple[str, ...] = ()  # per-tick columns ("{i}": one per district)


@dataclass
class PatternResult:
    """A pattern with its evaluation and its runs' bookkeeping."""

    pattern: Pattern
    evaluation: Evaluation
    design: Design  # as run
    runs: int = 0
    failed: int = 0
    seconds: float = 0.0


# --------------------------------------------------------------------------- statistics


def _g(x: float, digits: int = 3) -> str:
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    if abs(x) >= 10 ** (digits + 2) or abs(x) < 10 ** -(digits):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}" if abs(x) < 10 ** digits else f"{x:.0f}"


def t_ci(x: Sequence[float] | np.ndarray, level: float = LEVEL) -> Stat:
    """Mean with its t-interval (NaN bounds with fewer than two finite values)."""
    from scipy import stats

    a = np.asarray(x, dtype=float)
    a = a[np.isfinite(a)]
    if len(a) == 0:
        return Stat(math.nan)
    m = float(a.mean())
    if len(a) < 2:
        return Stat(m)
    half = float(stats.t.ppf((1 + level) / 2, len(a) - 1) * a.std(ddof=1) / math.sqrt(len(a)))
    return Stat(m, m - half, m + half)


def bootstrap(data: pd.DataFrame | np.ndarray, fn: Callable[[Any], float],
              resamples: int = BOOTSTRAP, seed: int = 0, level: float = LEVEL) -> Stat:
    """``fn(data)`` with a percentile CI from resampling the rows of ``data`` (replications:
    the arms of a row stay together, so paired comparisons stay paired)."""
    est = float(fn(data))
    n = len(data)
    if n < 2:
        return Stat(est)
    rng = np.random.default_rng(seed)
    take = (lambda idx: data.iloc[idx]) if isinstance(data, pd.DataFrame) else (
        lambda idx: data[idx])
    vals = np.array([fn(take(rng.integers(0, n, n))) for _ in range(resamples)], dtype=float)
    vals = vals[np.isfinite(vals)]
    if len(vals) < resamples / 2:  # mostly undefined: no honest interval
        return Stat(est)
    lo, hi = np.quantile(vals, [(1 - level) / 2, (1 + level) / 2])
    return Stat(est, float(lo), float(hi))


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation (NaN when either side is constant)."""
    from scipy import stats

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(stats.spearmanr(x, y).statistic)


def positive(stat: Stat) -> bool:
    """Above 0 with its CI excluding 0."""
    return math.isfinite(stat.low) and stat.low > 0


def below(stat: Stat, bound: float) -> bool:
    """Below ``bound`` with its CI: the upper CI bound is under it."""
    return math.isfinite(stat.high) and stat.high < bound


def _short_by(stat: Stat, bound: float, side: str) -> str:
    """How far a CI misses a bound: the words a failure report needs."""
    if not math.isfinite(stat.value):
        return "the statistic is undefined"
    edge = stat.low if side == "above" else stat.high
    if not math.isfinite(edge):
        return f"estimate {_g(stat.value)} has no CI (too few replications)"
    gap = (bound - edge) if side == "above" else (edge - bound)
    return (f"the CI's {'lower' if side == 'above' else 'upper'} bound is {_g(edge)}, "
            f"{_g(gap)} {'short of' if side == 'above' else 'beyond'} {_g(bound)}")


def check_positive(statistic: str, stat: Stat, criterion: str = "> 0 with the CI excluding 0"
                   ) -> Check:
    ok = positive(stat)
    return Check(statistic, stat, criterion, ok, "" if ok else _short_by(stat, 0.0, "above"))


def check_below(statistic: str, stat: Stat, bound: float, criterion: str | None = None) -> Check:
    ok = below(stat, bound)
    return Check(statistic, stat, criterion or f"< {_g(bound)} with the CI below {_g(bound)}",
                 ok, "" if ok else _short_by(stat, bound, "below"))


def arm_curves(runs: Runs, key: str | Callable[[pd.DataFrame], pd.Series],
               groups: Sequence[str] | None = None) -> list[Curve]:
    """Mean and t-interval per arm, one curve per arm group (x = the arm's level, or its
    position when the arms have no level)."""
    d = runs.design
    names = list(dict.fromkeys(a.group for a in d.arms)) if groups is None else list(groups)
    curves = []
    for g in names:
        arms = [a for a in d.arms if a.group == g]
        categorical = any(a.x is None for a in arms)
        xs, ms, lo, hi = [], [], [], []
        for i, a in enumerate(arms):
            s = t_ci(runs.values(key, a.name))
            xs.append(float(i) if categorical else float(a.x))  # type: ignore[arg-type]
            ms.append(s.value)
            lo.append(s.low)
            hi.append(s.high)
        curves.append(Curve(g or "model", xs, ms, lo, hi,
                            [a.name for a in arms] if categorical else None))
    return curves


def paired_changes(runs: Runs, base: str, arm: str, other: str | None,
                   keys: Sequence[tuple[str, str]]) -> str:
    """Paired mean changes of summary keys from ``base`` to ``arm`` (and to ``other``), as
    words for a note: the mechanism behind a verdict, in numbers."""
    parts = []
    for key, label in keys:
        arms = [a for a in (arm, other) if a is not None]
        w = runs.wide(key, [base, *arms])
        ch = [t_ci((w[a] - w[base]).to_numpy()).text() for a in arms]
        parts.append(f"{label} {' / '.join(ch)}")
    return "; ".join(parts)


def verdict(checks: list[Check]) -> Status:
    return "holds" if checks and all(c.holds for c in checks) else "fails"


# --------------------------------------------------------------------------- outcomes

#: Model 2.0's own per-run rates (ODD 7.14): civilians killed (by armed groups, and bystanders
#: killed by security forces) per 100,000 residents per month, and deaths in clashes per month
CIVILIAN_RATE = "civilian_deaths_per_100k_month"
BATTLE_RATE = "battle_deaths_per_month"


def window_sum(series: pd.DataFrame, column: str, after: int, length: int) -> float:
    """Sum of a per-tick column over the ticks ``after + 1 .. after + length`` (the weeks
    after an exit; NaN when the run has none of them)."""
    t = series["tick"]
    part = series.loc[(t > after) & (t <= after + length), column]
    return float(part.sum()) if len(part) else math.nan


def half_sums(series: pd.DataFrame, columns: Sequence[str]) -> tuple[dict[str, float],
                                                                       dict[str, float]]:
    """Sums of per-tick columns over the first half of a run (ticks 1 .. T // 2) and over
    the second (T // 2 + 1 .. T): what happened early, and what followed."""
    half = int(series["tick"].max()) // 2
    early = series[(series["tick"] >= 1) & (series["tick"] <= half)]
    late = series[series["tick"] > half]
    return ({c: float(early[c].sum()) for c in columns},
            {c: float(late[c].sum()) for c in columns})


def waiting_times(active: np.ndarray, threshold: float) -> np.ndarray:
    """Ticks between the end of one outburst (``active`` > threshold) and the start of the
    next: the waits of Epstein's Fig. 5 (censored waits at either end are left out)."""
    above = np.asarray(active) > threshold
    edges = np.flatnonzero(np.diff(above.astype(np.int8)))
    starts = edges[~above[edges]] + 1  # first tick above
    ends = edges[above[edges]] + 1  # first tick below
    waits = [s - e for e in ends for s in starts[starts > e][:1]]
    return np.asarray(waits, dtype=float)


def district_neighbours(k: int) -> list[list[int]]:
    """4-neighbours of each district of a k x k block map (id = bx * k + by, as the model
    numbers them)."""
    out = []
    for d in range(k * k):
        bx, by = divmod(d, k)
        out.append([nx * k + ny for nx, ny in ((bx - 1, by), (bx + 1, by), (bx, by - 1),
                                               (bx, by + 1)) if 0 <= nx < k and 0 <= ny < k])
    return out


def district_columns(series: pd.DataFrame, template: str) -> list[str]:
    """Columns ``template.format(i=0), ...`` in district order (as many as exist)."""
    cols = []
    while template.format(i=len(cols)) in series.columns:
        cols.append(template.format(i=len(cols)))
    return cols


def monthly(a: np.ndarray, weeks: int = 4) -> np.ndarray:
    """Sum over consecutive blocks of ``weeks`` rows (an incomplete last block dropped)."""
    n = (len(a) // weeks) * weeks
    return a[:n].reshape(n // weeks, weeks, *a.shape[1:]).sum(axis=1)


def contagion_counts(attacks: np.ndarray, k: int) -> tuple[int, int]:
    """Beardsley's contagion from a (months x districts) table of attacks: (calm districts
    with a violent neighbour that turned violent the next month, such district-months)."""
    violent = attacks > 0
    nb = district_neighbours(k)
    events = opportunities = 0
    for m in range(len(violent) - 1):
        for d in range(violent.shape[1]):
            if violent[m, d] or not any(violent[m, j] for j in nb[d]):
                continue
            opportunities += 1
            events += int(violent[m + 1, d])
    return events, opportunities


def presence_rates(attacks: np.ndarray, units: np.ndarray) -> tuple[float, int, float, int]:
    """(attacks, district-ticks) with units present and without, from (ticks x districts)
    tables."""
    with_units = units > 0
    return (float(attacks[with_units].sum()), int(with_units.sum()),
            float(attacks[~with_units].sum()), int((~with_units).sum()))


# --------------------------------------------------------------------------- designs

#: the troop and police levels of Hultman, Kathman & Shannon (2013, 2014); police strength
#: is held at its level (no recruitment) so the arms differ only in what they name
_TROOPS = (0.0, 0.01, 0.02, 0.04, 0.08)
_POLICE = (0.015, 0.03, 0.06)
_QUICK_MAP = {"world.width": 30, "world.height": 30}
#: replications of the peacekeeping designs (a baseline run is ~0.2 s of CPU: precision is
#: cheap, and an absence criterion such as HKS 2014's police row needs it to mean anything)
_REPS = 20


def _troops_police_design() -> Design:
    arms = [Arm(f"troops_{d:g}", {"peacekeepers.density": d}, d, "troops") for d in _TROOPS]
    arms.append(Arm("troops_0.035", {"peacekeepers.density": 0.035}, 0.035, "troops_step"))
    arms += [Arm(f"police_{p:g}", {"peacekeepers.density": 0.02, "police.density": p}, p,
                 "police") for p in _POLICE]
    return Design(
        name="troops_and_police", scenario="baseline.toml", arms=tuple(arms),
        replications=_REPS, ticks=156,
        set={"police.recruitment": 0.0, "mission.drawdown_start": None},
        quick={"replications": 4, "ticks": 78, "set": _QUICK_MAP})


def _single_lever_design(name: str, key: str, levels: Sequence[float], labels: Sequence[str],
                         ticks: int = 156, replications: int = _REPS,
                         extra: Mapping[str, Any] | None = None) -> Design:
    arms = tuple(Arm(lab, {key: v}, None, name) for v, lab in zip(levels, labels, strict=True))
    return Design(name=name, scenario="baseline.toml", arms=arms, replications=replications,
                  ticks=ticks, set={"mission.drawdown_start": None, **(extra or {})},
                  quick={"replications": 4, "ticks": 78, "set": _QUICK_MAP})


# --------------------------------------------------------------------------- the patterns


def hultman_kathman_shannon_2013_troops() -> Pattern:
    """HKS 2013: civilian killings fall steeply with the first troops, then flatten."""
    design = _troops_police_design()

    def evaluate(runs: Runs) -> Evaluation:
        y = CIVILIAN_RATE
        w = runs.wide(y, [f"troops_{d:g}" for d in _TROOPS])
        t0, t2, t4, t8 = (f"troops_{d:g}" for d in (0.0, 0.02, 0.04, 0.08))
        drop = bootstrap(w, lambda d: float((d[t0] - d[t8]).mean()))
        flatten = bootstrap(w, lambda d: float((d[t0] - d[t2]).mean() / 2
                                               - (d[t4] - d[t8]).mean() / 4))
        ratio = bootstrap(w, lambda d: float(((d[t4] - d[t8]).mean() / 0.04)
                                             / ((d[t0] - d[t2]).mean() / 0.02)))
        checks = [
            check_positive("civilian deaths per 100k per month, none minus 0.08 troops/cell "
                           "(paired)", drop),
            check_positive("decline per 0.01 troops/cell over 0-0.02 minus over 0.04-0.08 "
                           "(paired)", flatten,
                           "> 0 with the CI excluding 0 (steep, then flatter)"),
        ]
        notes = [f"high-range slope as a share of the low-range slope: {ratio.text()}"]
        return Evaluation(verdict(checks), checks, arm_curves(runs, y, ["troops"]), notes,
                          xlabel="peacekeepers per cell",
                          ylabel="civilian deaths per 100k per month")

    return Pattern(
        name="hks2013_troops",
        title="Civilian killings fall steeply with troop numbers, then flatten",
        citations=("Hultman, L., Kathman, J. & Shannon, M. (2013). United Nations "
                   "peacekeeping and civilian protection in civil war. American Journal of "
                   "Political Science 57(4), 875-891.",),
        claim="Monthly civilian killings in civil wars fall as UN troop numbers rise; the "
              "predicted killings drop steeply over the first thousands of troops and level "
              "off at large deployments.",
        design=design,
        statistic="civilian_deaths_per_100k_month (civilians killed, by armed groups or as "
                  "bystanders of force, per 100,000 residents per month: the per-capita "
                  "monthly killings HKS count) at peacekeeper densities 0, 0.01, 0.02, 0.04, "
                  "0.08 per cell (baseline context, no drawdown, police held constant); "
                  "paired differences over common seeds, bootstrap CIs",
        criterion="(1) none minus 0.08 > 0, CI excluding 0; (2) the decline per unit density "
                  "over 0-0.02 exceeds that over 0.04-0.08, CI of the difference excluding 0",
        mechanism="Three channels of presence, each weighted by role (ODD 7.9a): deterrence "
                  "(P_c = 1 - exp(-k_c S_v / B_v) in the attacker's vision), interdiction "
                  "(detention of fighters, hazard p_interdict C) and interruption of an attack "
                  "near a unit (1 - exp(-interrupt_rate I)); diminishing returns arise from "
                  "overlapping vision and from the fighters already removed, not from a term "
                  "written for them.",
        empirical=Empirical(
            "shape", "Predicted civilian deaths per month fall steeply as troops rise from "
            "zero and flatten at large deployments (HKS 2013, predicted-count figure).",
            x=(0, 0.01, 0.02, 0.04, 0.08), y=(1.0, 0.55, 0.33, 0.17, 0.10),
            xlabel="troops (relative)", ylabel="civilian killings (relative)"),
        evaluate=evaluate,
        requires_summary=(CIVILIAN_RATE,),
    )


def hultman_kathman_shannon_2013_police() -> Pattern:
    """HKS 2013: police reduce civilian killings, strongly per officer."""
    design = _troops_police_design()

    def evaluate(runs: Runs) -> Evaluation:
        y = CIVILIAN_RATE
        base, pol, trp = "troops_0.02", "police_0.03", "troops_0.035"
        w = runs.wide(y, [base, pol, trp])
        police = bootstrap(w, lambda d: float((d[base] - d[pol]).mean()))
        edge = bootstrap(w, lambda d: float((d[base] - d[pol]).mean()
                                            - (d[base] - d[trp]).mean()))
        troops = bootstrap(w, lambda d: float((d[base] - d[trp]).mean()))
        checks = [
            check_positive("reduction in civilian deaths per 100k per month from adding "
                           "0.015 police/cell (to 0.02 troops, 0.015 police; paired)", police),
            Check("police reduction minus troop reduction for the same number of added "
                  "agents (0.015/cell; paired)", edge,
                  "police not shown weaker per head: CI upper bound >= 0",
                  math.isfinite(edge.high) and edge.high >= 0,
                  "" if math.isfinite(edge.high) and edge.high >= 0 else
                  f"police reduce less per head than troops by {_g(-edge.value)} "
                  f"(CI upper bound {_g(edge.high)} < 0)"),
        ]
        notes = [f"reduction from 0.015 more troops/cell: {troops.text()}",
                 "what the same 0.015/cell added, police / troops (paired means, fewer is "
                 "minus): " + paired_changes(runs, base, pol, trp, (
                     ("combatants_mean", "mean fighters"), ("attacks_total", "attacks"),
                     ("attacks_interrupted_total", "attacks interrupted")))]
        curves = arm_curves(runs, y, ["police"])
        return Evaluation(verdict(checks), checks, curves, notes, xlabel="police per cell "
                          "(with 0.02 peacekeepers)", ylabel="civilian deaths per 100k per month")

    return Pattern(
        name="hks2013_police",
        title="Police reduce civilian killings strongly per officer",
        citations=("Hultman, L., Kathman, J. & Shannon, M. (2013). United Nations "
                   "peacekeeping and civilian protection in civil war. American Journal of "
                   "Political Science 57(4), 875-891.",),
        claim="UN police deployments are associated with fewer civilian killings, with a "
              "large effect for the number of officers deployed.",
        design=design,
        statistic="civilian_deaths_per_100k_month at 0.02 peacekeepers/cell with police "
                  "0.015 vs 0.03 per cell, and against 0.015 more peacekeepers instead; "
                  "paired bootstrap CIs",
        criterion="(1) police reduction > 0, CI excluding 0; (2) police not shown weaker per "
                  "head than troops (CI upper bound of police minus troop reduction >= 0)",
        mechanism="The model's police are the host state's force, not UN police: they deter "
                  "attacks through professionalism-weighted presence (police_deterrence, ODD "
                  "7.9a), arrest fighters (hazard p_arrest_combatant W) and receive tips; they "
                  "do not interrupt attacks, and their abuse costs trust. No rule refers to "
                  "this pattern.",
        empirical=Empirical(
            "shape", "More UN police, fewer civilian killings; per officer the reduction is "
                     "large (HKS 2013).",
            x=(0.015, 0.03, 0.06), y=(1.0, 0.6, 0.35), xlabel="police (relative)",
            ylabel="civilian killings (relative)"),
        evaluate=evaluate,
        requires_summary=(CIVILIAN_RATE,),
    )


def hultman_kathman_shannon_2014() -> Pattern:
    """HKS 2014: battle deaths fall with troops, not with police."""
    design = _troops_police_design()

    def evaluate(runs: Runs) -> Evaluation:
        y = BATTLE_RATE
        w = runs.wide(y, ["troops_0", "troops_0.08", "police_0.015", "police_0.06"])
        troops = bootstrap(w, lambda d: float((d["troops_0"] - d["troops_0.08"]).mean()))
        police = bootstrap(w, lambda d: float((d["police_0.015"] - d["police_0.06"]).mean()))
        police_ok = not positive(police)
        checks = [
            check_positive("battle deaths per month, no troops minus 0.08 troops/cell "
                           "(paired)", troops),
            Check("battle deaths per month, police 0.015 minus 0.06/cell (paired)", police,
                  "no reduction: the CI does not lie above 0", police_ok,
                  "" if police_ok else f"police reduce battle deaths by {police.text()}"),
        ]
        notes = ["an absence criterion: with few replications a wide CI passes (2); read it "
                 "with the CI's width",
                 "police 0.015 -> 0.06 / troops 0 -> 0.08 changed (paired means, fewer is "
                 "minus): " + paired_changes(runs, "police_0.015", "police_0.06", None, (
                     ("combatants_mean", "mean fighters"), ("clashes_total", "clashes"))) +
                 " / " + paired_changes(runs, "troops_0", "troops_0.08", None, (
                     ("combatants_mean", "mean fighters"), ("clashes_total", "clashes")))]
        return Evaluation(verdict(checks), checks, arm_curves(runs, y, ["troops", "police"]),
                          notes, xlabel="troops or police per cell",
                          ylabel="battle deaths per month")

    return Pattern(
        name="hks2014_battle_deaths",
        title="Battle deaths fall with troops, not with police",
        citations=("Hultman, L., Kathman, J. & Shannon, M. (2014). Beyond keeping peace: "
                   "United Nations effectiveness in the midst of fighting. American Political "
                   "Science Review 108(4), 737-753.",),
        claim="More UN troops reduce battlefield deaths between government and rebels; UN "
              "police and observers do not.",
        design=design,
        statistic="battle_deaths_per_month (fighters, peacekeepers and officers killed in "
                  "clashes) at peacekeeper densities 0 vs 0.08 and at police densities 0.015 "
                  "vs 0.06 (0.02 peacekeepers); paired bootstrap CIs",
        criterion="(1) troops: none minus 0.08 > 0, CI excluding 0; (2) police: the CI of "
                  "0.015 minus 0.06 does not lie above 0",
        mechanism="Battle deaths come only from clashes between fighters and security forces "
                  "in their vision (p_clash, p_battle_death, ODD 7.9; battle violence is its "
                  "own layer): more forces mean more contact, but also fewer fighters through "
                  "interdiction and arrest. Officers clash like units; nothing encodes the "
                  "contrast between troops and police.",
        empirical=Empirical(
            "shape", "Battle deaths fall as UN troops rise; no significant effect of UN police "
                     "(HKS 2014).",
            x=(0, 0.02, 0.04, 0.08), y=(1.0, 0.6, 0.4, 0.25), xlabel="troops (relative)",
            ylabel="battle deaths (relative)"),
        evaluate=evaluate,
        requires_summary=(BATTLE_RATE,),
    )


def fjelde_hultman_nilsson_2019() -> Pattern:
    """FHN 2019: local presence cuts rebel violence against civilians where units are."""
    design = Design(
        name="district_presence", scenario="baseline.toml",
        arms=(Arm("mission", {"peacekeepers.density": 0.03}, None, "mission"),),
        replications=_REPS, ticks=156,
        set={"mission.drawdown_start": None, "economy.districts": 10},
        metrics=(DISTRICT_ATTACKS, DISTRICT_UNITS),
        quick={"replications": 4, "ticks": 78,
               "set": {**_QUICK_MAP, "economy.districts": 6}})

    def evaluate(runs: Runs) -> Evaluation:
        rows = []
        for _, s in sorted(runs.run_series("mission").items()):
            a = s[district_columns(s, DISTRICT_ATTACKS)].to_numpy(dtype=float)
            u = s[district_columns(s, DISTRICT_UNITS)].to_numpy(dtype=float)
            rows.append(presence_rates(a, u))
        tab = np.array(rows, dtype=float)

        def ratio(t: np.ndarray) -> float:
            w, nw, o, no = t.sum(axis=0)
            return (w / nw) / (o / no) if nw > 0 and no > 0 and o > 0 else math.nan

        r = bootstrap(tab, ratio)
        checks = [check_below("rebel attacks on civilians per district-tick with units "
                              "present / without (runs resampled)", r, 1.0)]
        w, nw, o, no = tab.sum(axis=0)
        curve = Curve("mission", [0.0, 1.0], [o / max(no, 1), w / max(nw, 1)],
                      [math.nan] * 2, [math.nan] * 2, ["no units", "units present"])
        return Evaluation(verdict(checks), checks, [curve], xlabel="district-ticks",
                          ylabel="attacks on civilians per district-tick")

    return Pattern(
        name="fjelde2019_local_presence",
        title="Local presence cuts rebel violence against civilians where units are",
        citations=("Fjelde, H., Hultman, L. & Nilsson, D. (2019). Protection through presence: "
                   "UN peacekeeping and the costs of targeting civilians. International "
                   "Organization 73(1), 103-131.",),
        claim="Rebel violence against civilians is lower in locations where UN peacekeepers "
              "are deployed than elsewhere in the same conflict.",
        design=design,
        statistic="rebel attacks on civilians per district-tick in district-ticks with at "
                  "least one peacekeeping unit, divided by the rate in those without "
                  "(baseline context, 0.03 units/cell, 10 x 10 districts of 5 x 5 cells: "
                  "small units, as FHN's grid cells, so that many district-weeks have no "
                  "unit); bootstrap over runs",
        criterion="ratio < 1 with the CI below 1",
        mechanism="Attacks are deterred by presence in the attacker's vision and interrupted "
                  "near units (ODD 7.9a); patrols and rapid response move toward violence and "
                  "tips, which biases the raw ratio upward (selection, as in the "
                  "observational data). Model 2.0 keeps the district map (economy.districts, "
                  "read by the adaptive review) and the civilian-violence layer per cell, "
                  "but reports no per-district series: the statistic needs attacks and units "
                  "per district and tick.",
        empirical=Empirical(
            "shape", "Locations with UN presence see less rebel violence against civilians "
                     "than locations without (FHN 2019).",
            x=(0, 1), y=(1.0, 0.6), labels=("no units", "units present"),
            xlabel="", ylabel="violence against civilians (relative)"),
        evaluate=evaluate,
        requires_metrics=(DISTRICT_ATTACKS, DISTRICT_UNITS),
    )


def blair_community_policing() -> Pattern:
    """Blair et al. 2019/2021: community policing raises reporting; trust barely moves."""
    design = _single_lever_design("community_policing", "police.community_share", (0.0, 0.8),
                                  ("no community policing", "community policing"))
    a0, a1 = (a.name for a in design.arms)

    def evaluate(runs: Runs) -> Evaluation:
        tips = runs.wide("tips_total", [a0, a1])
        trust = runs.wide("final_trust_police", [a0, a1])
        rise = bootstrap(tips, lambda d: float((d[a1] - d[a0]).mean() / d[a0].mean()))
        moved = bootstrap(trust, lambda d: float((d[a1] - d[a0]).mean()))
        small = math.isfinite(moved.low) and moved.low > -0.05 and moved.high < 0.05
        checks = [
            check_positive("relative change in tips (reports to the mission and police), "
                           "community share 0.8 vs 0 (paired)", rise),
            Check("change in final trust in police (0-1 scale; paired)", moved,
                  "barely moves: CI within +-0.05", small,
                  "" if small else f"CI {moved.text()} leaves +-0.05"),
        ]
        return Evaluation(verdict(checks), checks, arm_curves(runs, "tips_total"),
                          [f"trust in police: {t_ci(trust[a0]).text()} without, "
                           f"{t_ci(trust[a1]).text()} with community policing"],
                          xlabel="", ylabel="tips over the run")

    return Pattern(
        name="blair_community_policing",
        title="Community policing raises reporting; trust barely moves",
        citations=("Blair, R. A., Karim, S. M. & Morse, B. S. (2019). Establishing the rule of "
                   "law in weak and war-torn states: Evidence from a field experiment with the "
                   "Liberian National Police. American Political Science Review 113(3), "
                   "641-657.",
                   "Blair, G., Weinstein, J. M., Christia, F. et al. (2021). Community policing "
                   "does not build citizen trust in police or reduce crime in the Global South. "
                   "Science 374(6571), eabd3446."),
        claim="Community-policing patrols raised knowledge of and reporting to the police "
              "(Liberia), while trust in the police barely moved (Liberia; six-country "
              "Metaketa).",
        design=design,
        statistic="tips_total (reports of fighters that reached the mission or the police; "
                  "the model does not split them by recipient) and final_trust_police with "
                  "80% vs none of the officers in community policing (baseline context); "
                  "paired bootstrap",
        criterion="(1) relative rise in tips > 0, CI excluding 0; (2) change in trust in "
                  "police within +-0.05 (CI)",
        mechanism="Indirect: a tip reaches a force only if one of its units or officers is "
                  "within reach of the reporter, and a community officer is reachable from "
                  "farther away (information.community_reach 6 cells against report_reach 3, "
                  "ODD 7.16); no probability is multiplied, so (1) holds only if fewer tips are "
                  "lost for want of a recipient. (2) is not encoded: community policing has no "
                  "direct effect on trust, which moves with abuse, mentoring and the arrests "
                  "that tips bring. A resident tells only a force it trusts above "
                  "trust.tip_threshold (0.5 at baseline), so the longer reach matters only "
                  "where someone trusts the police that much.",
        empirical=Empirical(
            "shape", "Reporting rose with the patrols; trust in police moved little "
                     "(Blair et al. 2019, 2021).",
            x=(0, 1), y=(1.0, 1.3), labels=("control", "community policing"),
            ylabel="reporting (relative)"),
        evaluate=evaluate,
        requires_summary=("tips_total", "final_trust_police"),
    )


#: what Collier et al. and Fortna count as relapse (war recurrence: battle deaths), and the
#: civilian side reported beside it; per-tick columns of the model
RELAPSE_KINDS = {"battle": "battle_deaths", "civilian": "civilian_casualties"}


def relapse_table(runs: Runs, arms: Sequence[str], window: int, reference: str = "no mission"
                  ) -> tuple[pd.DataFrame, int]:
    """Per replication and mission arm, deaths of each kind in the ``window`` ticks after the
    exit and in the same ticks of the ``reference`` run with the same seed (columns
    ``kind:arm`` and ``kind:arm:ref``), and how many replications had no exit in some arm
    (dropped)."""
    ref = runs.run_series(reference)
    rows: dict[int, dict[str, float]] = {}
    no_exit = set()
    for arm in arms:
        exits = runs.summaries[runs.summaries["arm"] == arm].set_index("replicate")["exit_tick"]
        for rep, s in runs.run_series(arm).items():
            e = pd.to_numeric(pd.Series([exits.get(rep)]), errors="coerce").iloc[0]
            if rep not in ref or not math.isfinite(e):
                no_exit.add(rep)
                continue
            for kind, col in RELAPSE_KINDS.items():
                rows.setdefault(rep, {})[f"{kind}:{arm}"] = window_sum(s, col, int(e), window)
                rows[rep][f"{kind}:{arm}:ref"] = window_sum(ref[rep], col, int(e), window)
    table = pd.DataFrame.from_dict(rows, orient="index").sort_index()
    return table.drop(index=[r for r in no_exit if r in table.index]).dropna(), len(no_exit)


def relapse_ratio(d: pd.DataFrame, kind: str, arm: str) -> float:
    """Deaths after the exit over the same weeks without a mission, pooled over the
    replications in ``d`` (a ratio of sums: a quiet counterfactual run cannot blow it up)."""
    den = float(d[f"{kind}:{arm}:ref"].sum())
    return float(d[f"{kind}:{arm}"].sum()) / den if den > 0 else math.nan


def collier_fortna_relapse() -> Pattern:
    """Collier et al. 2008, Fortna 2004: missions cut relapse; larger and longer ones more."""
    window = 52
    missions = ("base", "larger", "longer")
    arms = (
        Arm("no mission", {"peacekeepers.density": 0.0}, None, "mission"),
        Arm("base", {"peacekeepers.density": 0.03, "mission.drawdown_start": 104}, None,
            "mission"),
        Arm("larger", {"peacekeepers.density": 0.06, "mission.drawdown_start": 104}, None,
            "mission"),
        Arm("longer", {"peacekeepers.density": 0.03, "mission.drawdown_start": 156}, None,
            "mission"),
    )
    design = Design(
        name="mission_size_length", scenario="baseline.toml", arms=arms, replications=_REPS,
        ticks=156 + 52 + window, set={"mission.drawdown_ticks": 52,
                                      "mission.exit_window": window},
        metrics=tuple(RELAPSE_KINDS.values()),
        quick={"replications": 4, "ticks": 52 + 26 + 26, "set": {
            **_QUICK_MAP, "mission.drawdown_ticks": 13, "mission.exit_window": 26},
            "arm_set": {"base": {"mission.drawdown_start": 39},
                        "larger": {"mission.drawdown_start": 39},
                        "longer": {"mission.drawdown_start": 65}}})

    def evaluate(runs: Runs) -> Evaluation:
        win = int(runs.design.set.get("mission.exit_window", window))
        w, dropped = relapse_table(runs, missions, win)
        if len(w) < 2:
            return Evaluation("fails", notes=[
                f"{len(w)} replications with an exit in every mission arm ({dropped} without): "
                "no estimate"])
        r = {(k, a): bootstrap(w, lambda d, k=k, a=a: relapse_ratio(d, k, a))
             for k in RELAPSE_KINDS for a in missions}
        larger = bootstrap(w, lambda d: relapse_ratio(d, "battle", "base")
                           - relapse_ratio(d, "battle", "larger"))
        longer = bootstrap(w, lambda d: relapse_ratio(d, "battle", "base")
                           - relapse_ratio(d, "battle", "longer"))
        checks = [
            check_below("battle deaths in the year after exit / the same weeks without a "
                        "mission (base mission, 0.03/cell, drawdown after 2 years)",
                        r["battle", "base"], 1.0),
            check_positive("that ratio, base minus twice the troops (paired)", larger,
                           "> 0 with the CI excluding 0 (larger cuts relapse more)"),
            check_positive("that ratio, base minus one more year before drawdown (paired)",
                           longer, "> 0 with the CI excluding 0 (longer cuts relapse more)"),
        ]
        civ = bootstrap(w, lambda d: relapse_ratio(d, "civilian", "base")
                        - relapse_ratio(d, "civilian", "larger"))
        civ_long = bootstrap(w, lambda d: relapse_ratio(d, "civilian", "base")
                             - relapse_ratio(d, "civilian", "longer"))
        own = {a: {k: t_ci(runs.values(f"relapse_ratio_{k}", a)) for k in RELAPSE_KINDS}
               for a in missions}
        notes = [
            f"{len(w)} replications with an exit in every mission arm"
            + (f" ({dropped} without, left out)" if dropped else ""),
            "civilian deaths after exit / the same weeks without a mission (not a criterion: "
            "the studies count war recurrence): " + ", ".join(
                f"{a} {r['civilian', a].text()}" for a in missions)
            + f"; base minus larger {civ.text()}, base minus longer {civ_long.text()}",
            "battle deaths after exit / without a mission: " + ", ".join(
                f"{a} {r['battle', a].text()}" for a in missions),
            "the model's own relapse ratios (violence layer in the year after exit / the year "
            "before the drawdown), battle and civilian: " + "; ".join(
                f"{a} {own[a]['battle'].text()} and {own[a]['civilian'].text()}"
                for a in missions),
        ]
        curves = [Curve(f"{k} deaths", [0, 1, 2], [r[k, a].value for a in missions],
                        [r[k, a].low for a in missions], [r[k, a].high for a in missions],
                        list(missions)) for k in RELAPSE_KINDS]
        return Evaluation(verdict(checks), checks, curves, notes, xlabel="mission",
                          ylabel="deaths after exit / no mission")

    return Pattern(
        name="collier_fortna_relapse",
        title="Missions cut relapse; larger and longer missions more",
        citations=("Collier, P., Hoeffler, A. & Soderbom, M. (2008). Post-conflict risks. "
                   "Journal of Peace Research 45(4), 461-478.",
                   "Fortna, V. P. (2004). Does peacekeeping keep peace? International "
                   "intervention and the duration of peace after civil war. International "
                   "Studies Quarterly 48(2), 269-292."),
        claim="Peace lasts longer where peacekeepers were deployed; the risk of reversion "
              "to war falls with larger missions (spending) and with time under a mission.",
        design=design,
        statistic="battle deaths (war recurrence, as the studies count it) in the year after "
                  "the last unit leaves, divided by the same weeks of the no-mission run with "
                  "the same seed, pooled over replications; base (0.03/cell), larger "
                  "(0.06/cell) and longer (drawdown one year later) missions; civilian deaths "
                  "after exit reported beside it",
        criterion="(1) base ratio < 1, CI below 1; (2) larger mission: ratio lower (paired "
                  "CI excluding 0); (3) longer mission: ratio lower (paired CI excluding 0)",
        mechanism="After the exit only the police and residents remain; a mission's legacy "
                  "runs through fewer fighters (detained, disarmed, deterred from recruiting "
                  "by trust), trust in police, jobs and the economy (ODD 7.9-7.13). Clashes "
                  "need security forces in a fighter's vision, so fewer units after exit also "
                  "means fewer battles. No rule refers to time after exit.",
        empirical=Empirical(
            "shape", "Risk of war recurrence lower after peacekeeping, lower still for larger "
                     "and longer missions (Fortna 2004; Collier et al. 2008).",
            x=(0, 1, 2, 3), y=(1.0, 0.6, 0.45, 0.45),
            labels=("no mission", "mission", "larger", "longer"),
            ylabel="risk of relapse (relative)"),
        evaluate=evaluate,
        requires_summary=("exit_tick", "relapse_ratio_battle", "relapse_ratio_civilian"),
        requires_metrics=tuple(RELAPSE_KINDS.values()),
    )


def beardsley_2011() -> Pattern:
    """Beardsley 2011: violence spreads to neighbouring districts less with peacekeepers."""
    design = Design(
        name="district_contagion", scenario="baseline.toml",
        arms=(Arm("no mission", {"peacekeepers.density": 0.0}, None, "contagion"),
              Arm("mission", {"peacekeepers.density": 0.03}, None, "contagion")),
        replications=_REPS, ticks=156, set={"mission.drawdown_start": None},
        metrics=(DISTRICT_ATTACKS, DISTRICT_CLASHES),
        quick={"replications": 4, "ticks": 78, "set": _QUICK_MAP})

    def violent_months(s: pd.DataFrame) -> tuple[np.ndarray, int]:
        """Months x districts: organised violence (attacks on civilians plus clashes)."""
        cols = district_columns(s, DISTRICT_ATTACKS)
        both = s[cols].to_numpy(dtype=float) + s[district_columns(
            s, DISTRICT_CLASHES)].to_numpy(dtype=float)
        return monthly(both), int(round(math.sqrt(len(cols))))

    def evaluate(runs: Runs) -> Evaluation:
        per: dict[str, dict[int, tuple[int, int]]] = {}
        for arm in ("no mission", "mission"):
            per[arm] = {}
            for rep, s in runs.run_series(arm).items():
                table, k = violent_months(s)
                per[arm][rep] = contagion_counts(table, k)
        reps = sorted(set(per["no mission"]) & set(per["mission"]))
        tab = np.array([[*per["mission"][r], *per["no mission"][r]] for r in reps], float)

        def ratio(t: np.ndarray) -> float:
            e1, o1, e0, o0 = t.sum(axis=0)
            return (e1 / o1) / (e0 / o0) if o1 > 0 and o0 > 0 and e0 > 0 else math.nan

        r = bootstrap(tab, ratio)
        checks = [check_below("probability that a calm district next to a violent one turns "
                              "violent the next month, mission / no mission (paired)", r, 1.0)]
        e1, o1, e0, o0 = tab.sum(axis=0)
        curve = Curve("contagion", [0, 1], [e0 / max(o0, 1), e1 / max(o1, 1)],
                      [math.nan] * 2, [math.nan] * 2, ["no mission", "mission"])
        return Evaluation(verdict(checks), checks, [curve], xlabel="",
                          ylabel="contagion probability per month")

    return Pattern(
        name="beardsley2011_contagion",
        title="Violence spreads to neighbouring districts less with peacekeepers",
        citations=("Beardsley, K. (2011). Peacekeeping and the contagion of armed conflict. "
                   "Journal of Politics 73(4), 1051-1064.",),
        claim="Peacekeeping reduces the spread of armed conflict to neighbouring units.",
        design=design,
        statistic="share of calm district-months next to a violent district (an attack on "
                  "civilians or a clash that month: organised violence of either kind) that "
                  "turn violent the next month, with a mission (0.03/cell) and without; "
                  "paired bootstrap",
        criterion="ratio mission / no mission < 1, CI below 1",
        mechanism="Both violence layers decay and spread to neighbouring cells (ODD 7.13), "
                  "fighters move and recruit where they see residents, and reinforcements "
                  "enter at strongholds; deterrence, interdiction and interruption act on "
                  "all of it. No rule refers to district contagion. Model 2.0 reports no "
                  "per-district series: the statistic needs attacks and clashes per district "
                  "and tick.",
        empirical=Empirical(
            "shape", "Conflicts with peacekeepers spread to neighbours less often "
                     "(Beardsley 2011).", x=(0, 1), y=(1.0, 0.5),
            labels=("no peacekeepers", "peacekeepers"), ylabel="contagion (relative)"),
        evaluate=evaluate,
        requires_metrics=(DISTRICT_ATTACKS, DISTRICT_CLASHES),
    )


def humphreys_weinstein_2007() -> Pattern:
    """H&W 2007: fighters of abusive factions reintegrate worse."""
    design = Design(
        name="abusive_factions", scenario="baseline.toml",
        arms=(Arm("two factions", {"armed_groups.factions": 2,
                                   "armed_groups.abusiveness": [0.2, 0.8]}, None, "factions"),),
        replications=_REPS, ticks=260, set={},
        quick={"replications": 4, "ticks": 104, "set": _QUICK_MAP})
    acc = ("mean_acceptance_faction0", "mean_acceptance_faction1")

    def evaluate(runs: Runs) -> Evaluation:
        w = runs.wide(lambda d: pd.to_numeric(d[acc[0]]) - pd.to_numeric(d[acc[1]]),
                      ["two factions"])
        gap = bootstrap(w, lambda d: float(d["two factions"].mean()))
        checks = [check_positive("community acceptance of ex-fighters, less abusive minus "
                                 "more abusive faction (within runs)", gap)]
        curves = [Curve("acceptance", [0, 1],
                        [t_ci(runs.values(k, "two factions")).value for k in acc],
                        [t_ci(runs.values(k, "two factions")).low for k in acc],
                        [t_ci(runs.values(k, "two factions")).high for k in acc],
                        ["abusiveness 0.2", "abusiveness 0.8"])]
        return Evaluation(verdict(checks), checks, curves, ylabel="acceptance of ex-fighters")

    return Pattern(
        name="humphreys_weinstein2007_abusive_factions",
        title="Fighters of abusive factions reintegrate worse",
        citations=("Humphreys, M. & Weinstein, J. M. (2007). Demobilization and "
                   "reintegration. Journal of Conflict Resolution 51(4), 531-567.",),
        claim="In Sierra Leone, ex-combatants of factions that abused civilians more faced "
              "more difficulty gaining community acceptance.",
        design=design,
        statistic="mean community acceptance of ex-combatants by former faction, two factions "
                  "with abusiveness 0.2 and 0.8 (within-run difference, bootstrap over runs)",
        criterion="acceptance (less abusive) minus (more abusive) > 0, CI excluding 0",
        mechanism="Residents who see a faction's members attack or prey on civilians "
                  "remember it (ODD 7.19, the faction's record in their memory); their "
                  "acceptance of that faction's ex-fighters is acceptance x (1 - record). "
                  "armed_groups.abusiveness sets how often a faction's members prey on "
                  "civilians (ODD 7.19); no term links abusiveness to acceptance directly.",
        empirical=Empirical(
            "shape", "Ex-fighters of more abusive factions reported less acceptance (H&W 2007).",
            x=(0, 1), y=(1.0, 0.7), labels=("less abusive", "more abusive"),
            ylabel="acceptance (relative)"),
        evaluate=evaluate,
        requires_params=("armed_groups.abusiveness",),
        requires_summary=acc,
    )


def condra_shapiro_2012() -> Pattern:
    """C&S 2012: civilian harm by the intervening force raises later insurgent violence."""
    hi, lo = "high restraint", "low restraint"
    hi0, lo0 = "high restraint, no harm", "low restraint, no harm"
    off = {"mechanisms.collateral_harm": False}
    columns = ("harmed_by_security", "recruits", "attacks", "clashes")
    design = Design(
        name="collateral_harm", scenario="baseline.toml",
        arms=(Arm(hi, {"strategy.restraint": 0.95}, None, "harm"),
              Arm(lo, {"strategy.restraint": 0.5}, None, "harm"),
              Arm(hi0, {"strategy.restraint": 0.95, **off}, None, "knock-out"),
              Arm(lo0, {"strategy.restraint": 0.5, **off}, None, "knock-out")),
        replications=_REPS, ticks=156, set={"mission.drawdown_start": None},
        metrics=columns, quick={"replications": 4, "ticks": 78, "set": _QUICK_MAP})

    def evaluate(runs: Runs) -> Evaluation:
        rows: dict[int, dict[str, float]] = {}
        for arm in (hi, lo, hi0, lo0):
            for rep, s in runs.run_series(arm).items():
                early, late = half_sums(s, columns)
                row = rows.setdefault(rep, {})
                row[f"harm|{arm}"] = early["harmed_by_security"]
                row[f"recruits|{arm}"] = late["recruits"]
                row[f"attacks|{arm}"] = late["attacks"]
                row[f"violence|{arm}"] = late["attacks"] + late["clashes"]
                row[f"clashes|{arm}"] = late["clashes"]
        w = pd.DataFrame.from_dict(rows, orient="index").dropna()

        def diff(what: str, a: str = lo, b: str = hi) -> Stat:
            return bootstrap(w, lambda d: float((d[f"{what}|{a}"] - d[f"{what}|{b}"]).mean()))

        checks = [
            check_positive("civilians harmed by the force in the first half, low minus high "
                           "restraint (paired; the design's premise)", diff("harm")),
            check_positive("recruits in the second half, low minus high restraint (paired)",
                           diff("recruits")),
            check_positive("insurgent violence in the second half (attacks on civilians + "
                           "clashes with security forces), low minus high restraint (paired)",
                           diff("violence")),
        ]
        notes = [
            f"second half, low minus high restraint: attacks {diff('attacks').text()}, "
            f"clashes {diff('clashes').text()}",
            "with mechanisms.collateral_harm off (interdictions never harm bystanders), low "
            f"minus high restraint: harm {diff('harm', lo0, hi0).text()}, later recruits "
            f"{diff('recruits', lo0, hi0).text()}, later insurgent violence "
            f"{diff('violence', lo0, hi0).text()} (restraint acts only through harm)",
        ]
        curves = [Curve(f"{what}, second half", [0, 1],
                        [t_ci(w[f"{what}|{a}"]).value for a in (hi, lo)],
                        [t_ci(w[f"{what}|{a}"]).low for a in (hi, lo)],
                        [t_ci(w[f"{what}|{a}"]).high for a in (hi, lo)], [hi, lo])
                  for what in ("recruits", "violence")]
        return Evaluation(verdict(checks), checks, curves, notes,
                          ylabel="count in the second half")

    return Pattern(
        name="condra_shapiro2012_collateral",
        title="Civilian harm by the intervening force raises later insurgent violence",
        citations=("Condra, L. N. & Shapiro, J. N. (2012). Who takes the blame? The strategic "
                   "effects of collateral damage. American Journal of Political Science 56(1), "
                   "167-187.",),
        claim="In Iraq, civilian casualties caused by coalition forces were followed by more "
              "insurgent violence in the following weeks; those caused by insurgents were not.",
        design=design,
        statistic="civilians harmed by the force (harmed_by_security) in the first half of "
                  "the run, and recruits and insurgent violence (attacks on civilians plus "
                  "clashes with security forces, as C&S's SIGACTs count attacks on forces "
                  "and civilians) in the second half, restraint 0.5 vs 0.95 (baseline "
                  "context, no drawdown); the same with mechanisms.collateral_harm off; "
                  "paired bootstrap",
        criterion="(1) premise: more harm under low restraint (CI excluding 0); (2) more "
                  "later recruits and (3) more later insurgent violence under low restraint "
                  "(CIs excluding 0)",
        mechanism="Chain of rules: an interdiction without restraint harms a bystander "
                  "(ODD 7.9; mechanisms.collateral_harm); residents who see it lose trust in "
                  "the mission (harm_loss, 7.11); lower trust and legitimacy "
                  "raise recruitment (trust_damping, legitimacy_damping, 7.10) and cut tips "
                  "(7.16); more fighters attack and clash more. No rule links harm to attacks "
                  "or recruitment directly; the knock-out arms show how much runs through "
                  "harm.",
        empirical=Empirical(
            "shape", "More civilian casualties by coalition forces, more insurgent attacks "
                     "later (C&S 2012).", x=(0, 1), y=(1.0, 1.25),
            labels=("fewer force-caused casualties", "more"), ylabel="later attacks "
            "(relative)"),
        evaluate=evaluate,
        requires_metrics=columns,
    )


def bennett_2008() -> Pattern:
    """Bennett 2008: accuracy of counter-insurgency matters more than its effectiveness."""
    design = Design(
        name="accuracy_effectiveness", scenario="baseline.toml",
        arms=(Arm("base", {}, None, "levers"),
              Arm("accuracy x2", {"strategy.restraint": 0.9}, None, "levers"),
              Arm("effectiveness x2", {"strategy.p_interdict": 0.01}, None, "levers")),
        replications=_REPS, ticks=156, set={"mission.drawdown_start": None},
        quick={"replications": 4, "ticks": 78, "set": _QUICK_MAP})

    def evaluate(runs: Runs) -> Evaluation:
        w = runs.wide("combatants_mean")
        gap = bootstrap(w, lambda d: float((d["base"] - d["accuracy x2"]).mean()
                                           - (d["base"] - d["effectiveness x2"]).mean()))
        acc = bootstrap(w, lambda d: float((d["base"] - d["accuracy x2"]).mean()))
        eff = bootstrap(w, lambda d: float((d["base"] - d["effectiveness x2"]).mean()))
        checks = [check_positive("fall in mean fighters from halving harm to civilians "
                                 "(restraint 0.8 -> 0.9) minus from doubling interdiction "
                                 "(0.005 -> 0.01); paired", gap,
                                 "> 0 with the CI excluding 0 (accuracy matters more)")]
        return Evaluation(verdict(checks), checks, arm_curves(runs, "combatants_mean"),
                          [f"accuracy x2 cuts mean fighters by {acc.text()}; "
                           f"effectiveness x2 by {eff.text()}"],
                          ylabel="mean number of fighters")

    return Pattern(
        name="bennett2008_accuracy",
        title="Accuracy matters more than effectiveness",
        citations=("Bennett, D. S. (2008). Governments, civilians, and the evolution of "
                   "insurgency: Modeling the early dynamics of insurgencies. Journal of "
                   "Artificial Societies and Social Simulation 11(4), 7.",),
        claim="In an agent-based model of insurgency, how accurately the government targets "
              "insurgents (sparing civilians) shapes insurgent growth more than how effective "
              "it is at removing them.",
        design=design,
        statistic="mean number of fighters with civilian harm per interdiction halved "
                  "(restraint 0.8 -> 0.9) vs interdiction probability doubled (0.005 -> "
                  "0.01); paired bootstrap",
        criterion="fall from accuracy minus fall from effectiveness > 0, CI excluding 0",
        mechanism="Effectiveness removes fighters directly (interdiction detains them, "
                  "ODD 7.9; a detainee is released after a mean 1 / release_rate weeks and may "
                  "rejoin); accuracy acts only through harm (mechanisms.collateral_harm): "
                  "trust, tips and recruitment (7.10, 7.11, 7.16). Nothing encodes the "
                  "comparison.",
        empirical=Empirical(
            "shape", "Insurgency size falls more with accuracy than with effectiveness "
                     "(Bennett 2008).", x=(0, 1, 2), y=(1.0, 0.6, 0.85),
            labels=("base", "accuracy x2", "effectiveness x2"),
            ylabel="insurgents (relative)"),
        evaluate=evaluate,
        requires_summary=("combatants_mean",),
    )


#: Epstein (2002) Fig. 5: waiting times between outbursts above 50 actives
EPSTEIN_OUTBURST_LEVEL = 50
EPSTEIN_WAIT_MEAN, EPSTEIN_WAIT_SD = 60.0, 55.0


def epstein_2002_outburst_waits() -> Pattern:
    """Epstein 2002, Model I: long, dispersed waiting times between outbursts (Fig. 5)."""
    burn = 50
    design = Design(
        name="epstein_model1_waits", scenario="epstein_model1.toml",
        arms=(Arm("run 2", {}, None, "waits"),), replications=10, ticks=3000,
        metrics=("active",), quick={"replications": 4, "ticks": 1000})

    def evaluate(runs: Runs) -> Evaluation:
        waits = [waiting_times(s["active"].to_numpy()[burn:], EPSTEIN_OUTBURST_LEVEL)
                 for _, s in sorted(runs.run_series("run 2").items())]
        per_run = np.array([w for w in waits if len(w)], dtype=object)
        pooled = np.concatenate(waits) if waits else np.array([])
        if len(pooled) < 2 or len(per_run) < 2:
            return Evaluation("fails", notes=[f"{len(pooled)} waits between outbursts above "
                                              f"{EPSTEIN_OUTBURST_LEVEL} actives in "
                                              f"{len(waits)} runs: too few for a statistic"])

        def pooled_of(idx_runs: np.ndarray) -> np.ndarray:
            return np.concatenate(list(idx_runs))

        cv = bootstrap(per_run, lambda r: float(np.std(pooled_of(r), ddof=1)
                                                / np.mean(pooled_of(r))))
        mean = bootstrap(per_run, lambda r: float(np.mean(pooled_of(r))))
        checks = [
            Check("coefficient of variation of the waits (runs resampled)", cv,
                  "dispersed as in Fig. 5 (paper: 55/60 = 0.92): CI lower bound > 0.5",
                  math.isfinite(cv.low) and cv.low > 0.5,
                  "" if math.isfinite(cv.low) and cv.low > 0.5 else _short_by(cv, 0.5, "above")),
            Check("mean wait in ticks (runs resampled)", mean,
                  "long waits: within a factor 2 of the paper's 60 (CI inside [30, 120])",
                  math.isfinite(mean.low) and mean.low >= 30 and mean.high <= 120,
                  "" if math.isfinite(mean.low) and mean.low >= 30 and mean.high <= 120 else
                  f"mean wait {mean.text()} ticks against the paper's 60 (factor "
                  f"{_g(EPSTEIN_WAIT_MEAN / mean.value) if mean.value else 'inf'} shorter)"),
        ]
        hist, edges = np.histogram(pooled, bins=np.arange(0, max(pooled.max(), 60) + 10, 10))
        curve = Curve("model waits", list((edges[:-1] + 5).astype(float)),
                      list((hist / hist.sum()).astype(float)), [math.nan] * len(hist),
                      [math.nan] * len(hist))
        notes = [f"{len(pooled)} waits from {len(waits)} runs of {runs.design.ticks} ticks; "
                 f"mean {np.mean(pooled):.1f}, s.d. {np.std(pooled, ddof=1):.1f} "
                 f"(paper: mean 60, s.d. 55)"]
        return Evaluation(verdict(checks), checks, [curve], notes, xlabel="waiting time "
                          "(ticks)", ylabel="share of waits")

    grid = np.arange(5, 250, 10, dtype=float)
    expo = np.exp(-grid / EPSTEIN_WAIT_MEAN)
    return Pattern(
        name="epstein2002_outburst_waits",
        title="Model I: long, dispersed waiting times between outbursts",
        citations=("Epstein, J. M. (2002). Modeling civil violence: An agent-based "
                   "computational approach. PNAS 99(suppl. 3), 7243-7250 (Fig. 5).",),
        claim="Under Run 2, outbursts (more than 50 actives) are separated by long, irregular "
              "quiet spells: waiting times with mean 60 and s.d. 55 ticks.",
        design=design,
        statistic="waiting times between outbursts above 50 actives from the per-tick active "
                  "count of epstein_model1.toml (ticks after 50), pooled over runs; bootstrap "
                  "over runs",
        criterion="(1) CV lower CI bound > 0.5; (2) mean wait CI inside [30, 120] ticks "
                  "(within a factor 2 of 60)",
        mechanism="Epstein's rules A, C, M (ODD 7.2-7.4) with the floor arrest ratio; "
                  "nothing in the engine refers to outbursts.",
        empirical=Empirical(
            "numbers", "Fig. 5: waiting times between outbursts, mean 60, s.d. 55 ticks "
                       "(drawn as an exponential with that mean, for the shape).",
            x=tuple(grid), y=tuple(expo / expo.sum()), xlabel="waiting time (ticks)",
            ylabel="share of waits"),
        evaluate=evaluate,
        requires_metrics=("active",),
    )


#: Model II design: peacekeeper (cop) densities of Figs. 15-17 and the tick cap
GENOCIDE_DENSITIES = (0.0, 0.02, 0.04, 0.06, 0.08, 0.1)
GENOCIDE_CAP = 1500
#: runs per density, as in the paper's Figs. 15-17
GENOCIDE_RUNS = 50


def epstein_2002_genocide_waits() -> Pattern:
    """Epstein 2002, Model II: waiting time to genocide rises with cop density, in mean and
    spread (Figs. 15-17)."""
    arms = tuple(Arm(f"cops_{d:g}", {"peacekeepers.density": d}, d, "cops")
                 for d in GENOCIDE_DENSITIES)
    design = Design(
        name="epstein_model2_waits", scenario="epstein_model2_peacekeepers.toml", arms=arms,
        replications=GENOCIDE_RUNS, ticks=GENOCIDE_CAP,
        quick={"replications": 8, "ticks": 800})

    def waits(df: pd.DataFrame) -> pd.Series:
        t = pd.to_numeric(df["extinction_tick"], errors="coerce")
        return t.fillna(pd.to_numeric(df["ticks"], errors="coerce"))  # censored at the cap

    def evaluate(runs: Runs) -> Evaluation:
        names = [a.name for a in runs.design.arms]
        xs = np.array([a.x for a in runs.design.arms], dtype=float)
        w = runs.wide(waits, names)
        rho_mean = bootstrap(w, lambda d: spearman(xs, d.mean().to_numpy()))
        rho_sd = bootstrap(w, lambda d: spearman(xs, d.std(ddof=1).to_numpy()))
        checks = [
            check_positive("Spearman rho of mean waiting time to extinction and cop density "
                           "(replications resampled)", rho_mean),
            check_positive("Spearman rho of the s.d. of the waiting time and cop density",
                           rho_sd),
        ]
        cens = {n: int(runs.summaries[runs.summaries["arm"] == n]["extinction_tick"].isna()
                       .sum()) for n in names}
        means, sds = w.mean(), w.std(ddof=1)
        sd_ci = [bootstrap(w[[n]], lambda d, n=n: float(d[n].std(ddof=1))) for n in names]
        curves = arm_curves(runs, waits)
        curves.append(Curve("s.d.", list(xs), list(sds), [s.low for s in sd_ci],
                            [s.high for s in sd_ci]))
        notes = ["waiting time = tick at which a group is extinct; runs without extinction "
                 f"count as the cap ({runs.design.ticks}); censored runs per density: " +
                 ", ".join(f"{a.x:g}: {cens[a.name]}" for a in runs.design.arms),
                 "mean / s.d. by density: " + ", ".join(
                     f"{a.x:g}: {means[a.name]:.0f} / {sds[a.name]:.0f}"
                     for a in runs.design.arms)]
        return Evaluation(verdict(checks), checks, curves, notes,
                          xlabel="initial cop (peacekeeper) density",
                          ylabel="ticks to extinction of a group")

    return Pattern(
        name="epstein2002_genocide_waits",
        title="Model II: waiting time to genocide rises with cop density, in mean and spread",
        citations=("Epstein, J. M. (2002). Modeling civil violence: An agent-based "
                   "computational approach. PNAS 99(suppl. 3), 7243-7250 (Figs. 15-17).",),
        claim="With cops (peacekeepers) from the start, the time until one group is wiped out "
              "rises with the initial cop density, and so does its standard deviation "
              "(densities 0-0.1, 50 runs each, capped at 15,000 cycles).",
        design=design,
        statistic="tick of extinction of a group in epstein_model2_peacekeepers.toml (the "
                  "shipped Run 7 reading: vision 1.7 = the 8 Moore neighbours, move then "
                  "act, J_max 15, the exact C/A ratio; ODD 8) at densities "
                  + ", ".join(f"{d:g}" for d in GENOCIDE_DENSITIES) +
                  f" (cap {GENOCIDE_CAP} ticks); Spearman rho of the per-density mean and "
                  "s.d. against density, bootstrap over replications",
        criterion="rho(mean) > 0 and rho(s.d.) > 0, each with the CI excluding 0",
        mechanism="Peacekeepers act as even-handed cops (rule C) and deter killing through "
                  "the arrest probability (rule A); safe havens emerge around them (ODD 7.5). "
                  "Nothing refers to waiting times.",
        empirical=Empirical(
            "shape", "Figs. 16-17: mean and s.d. of the waiting time to genocide both rise "
                     "with initial cop density (qualitative shape; no numbers read off).",
            x=(0, 0.02, 0.04, 0.06, 0.08, 0.1), y=(1.0, 1.5, 2.3, 3.6, 5.5, 8.5),
            xlabel="initial cop density", ylabel="waiting time (relative)"),
        evaluate=evaluate,
        requires_summary=("extinction_tick", "ticks"),
    )


#: every pattern, one function each, named after the study
REGISTRY: tuple[Callable[[], Pattern], ...] = (
    hultman_kathman_shannon_2013_troops,
    hultman_kathman_shannon_2013_police,
    hultman_kathman_shannon_2014,
    fjelde_hultman_nilsson_2019,
    blair_community_policing,
    collier_fortna_relapse,
    beardsley_2011,
    humphreys_weinstein_2007,
    condra_shapiro_2012,
    bennett_2008,
    epstein_2002_outburst_waits,
    epstein_2002_genocide_waits,
)


def all_patterns() -> list[Pattern]:
    """The registry's patterns, in report order."""
    return [make() for make in REGISTRY]


def select(patterns: Sequence[Pattern], only: Sequence[str] | None) -> list[Pattern]:
    """The patterns named in ``only`` (all when empty); unknown names are a
    :class:`PatternError` listing the known ones."""
    if not only:
        return list(patterns)
    known = {p.name: p for p in patterns}
    bad = [n for n in only if n not in known]
    if bad:
        raise PatternError(f"--only {' '.join(bad)}: no such pattern; known patterns: "
                           f"{', '.join(known)}")
    return [known[n] for n in dict.fromkeys(only)]


# --------------------------------------------------------------------------- availability


def _expand_metric(name: str) -> str:
    return name.format(i=0) if "{i}" in name else name


def missing_inputs(pattern: Pattern, design: Design,
                   probe: Callable[[Design], tuple[set[str], set[str]]]) -> list[str]:
    """What the model lacks for this pattern: scenario parameters, summary keys, per-tick
    columns (``probe`` returns the design's summary keys and columns from a one-tick run)."""
    from sim.config.scenario import Scenario

    params = set(Scenario().flat())
    used = {k for a in design.arms for k in a.set} | set(design.set)
    lacking = [f"parameter {k}" for k in sorted(set(pattern.requires_params) | used)
               if k not in params]
    if lacking:
        return lacking
    keys, cols = probe(design)
    lacking += [f"summary key {k}" for k in pattern.requires_summary if k not in keys]
    lacking += [f"per-tick column {m}" + (" (one per district)" if "{i}" in m else "")
                for m in (*pattern.requires_metrics, *design.metrics)
                if _expand_metric(m) not in cols]
    return list(dict.fromkeys(lacking))


def probe_outputs(design: Design) -> tuple[set[str], set[str]]:
    """Summary keys and per-tick columns of the design's first arm after one tick."""
    from sim.config.scenario import load_scenario
    from sim.io.runner import run

    sc = load_scenario(SCENARIOS / design.scenario, {**design.set, **design.arms[0].set})
    res = run(sc, seed=0, ticks=1)
    return set(res.summary), set(res.timeseries.columns)


# --------------------------------------------------------------------------- running


def _toml_value(v: Any) -> str:
    if v is None:  # TOML has no null: recorded as the word the parameter table uses
        return '"none"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(float(v)) if isinstance(v, float) else str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x)}"
                                for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def spec_toml(patterns: Sequence[Pattern], quick: bool) -> str:
    """The designs as run, as TOML (the store's copy of what it ran, and its identity)."""
    lines = [f"# peacesim patterns{' --quick' if quick else ''}: the designs as run",
             f"quick = {_toml_value(quick)}", ""]
    for p in patterns:
        d = p.design.resolved(quick).spec()
        lines.append(f"[patterns.{p.name}]")
        lines.append(f"design = {_toml_value(p.design.name)}")
        for k, v in d.items():
            lines.append(f"{k} = {_toml_value(v)}")
        lines.append("")
    return "\n".join(lines)


def plan_runs(designs: Sequence[Design], version: str) -> tuple[pd.DataFrame, dict]:
    """The sweep-store design (context = design, strategy = arm, point = arm index) and the
    task data of each cell, for ``execute_design``."""
    from sim.config.experiment import replicate_seeds
    from sim.config.scenario import build_scenario, read_toml
    from sim.experiments.store import run_key

    rows, cells = [], {}
    for d in designs:
        data = read_toml(SCENARIOS / d.scenario)
        source = f"{SCENARIOS / d.scenario} (pattern design {d.name})"
        seeds = replicate_seeds(d.seed, d.replications, "common")
        keep = keep_of(d)
        for p, arm in enumerate(d.arms):
            overrides = {**d.set, **arm.set}
            cells[(d.name, arm.name, p)] = {"data": data, "source": source,
                                            "overrides": overrides}
            params = build_scenario(data, source, overrides).model_dump(mode="json")
            for r, seed in enumerate(seeds):
                rows.append({"key": run_key(params, seed, d.ticks, keep, version),
                             "context": d.name, "strategy": arm.name, "point": p,
                             "replicate": r, "seed": seed, "ticks": d.ticks})
    design = pd.DataFrame(rows, columns=["key", "context", "strategy", "point", "replicate",
                                         "seed", "ticks"])
    design.insert(0, "run_id", np.arange(len(design), dtype=np.int64))
    for col in ("point", "replicate", "seed", "ticks"):
        design[col] = design[col].astype(np.int64)
    return design, cells


def keep_of(design: Design) -> dict[str, Any]:
    """What each run of the design keeps: its whole summary and the design's metrics (a
    district template such as ``attacks_d{i}`` stands for one column per district)."""
    metrics: list[str] = []
    for m in design.metrics:
        if "{i}" in m:
            from sim.config.scenario import load_scenario

            k = load_scenario(SCENARIOS / design.scenario,
                              {**design.set, **design.arms[0].set}).economy.districts
            metrics += [m.format(i=i) for i in range(k * k)]
        else:
            metrics.append(m)
    return {"summary_keys": None, "metrics": metrics, "every": 1, "burn_in": 0}


@dataclass
class PatternRun:
    """What :func:`run_patterns` produced."""

    out: Path
    results: list[PatternResult]
    quick: bool
    seconds: float
    runs_done: int = 0
    runs_skipped: int = 0
    executor: str = ""

    @property
    def holding(self) -> int:
        return sum(r.evaluation.holds for r in self.results)

    @property
    def all_hold(self) -> bool:
        return bool(self.results) and self.holding == len(self.results)


def run_patterns(
    patterns: Sequence[Pattern] | None = None,
    out: str | Path | None = None,
    *,
    quick: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    tls: Any = None,
    resume: bool = False,
    retries: int = 1,
    progress: bool = True,
    log: Callable[[str], None] = lambda msg: None,
    command: list[str] | None = None,
    probe: Callable[[Design], tuple[set[str], set[str]]] = probe_outputs,
) -> PatternRun:
    """Run the patterns' designs on the sweep runner into ``out``/runs and evaluate them.

    Designs shared by several patterns run once. A script calling this with a process pool
    must do so under ``if __name__ == "__main__":``.
    """
    t0 = time.perf_counter()
    patterns = list(all_patterns() if patterns is None else patterns)
    with _claim(out, resume, command) as folder:
        return _run_patterns(patterns, folder, quick=quick, workers=workers,
                             scheduler=scheduler, dask_local=dask_local, tls=tls, resume=resume,
                             retries=retries, progress=progress, log=log, command=command,
                             probe=probe, t0=t0)


@contextlib.contextmanager
def _claim(out: str | Path | None, resume: bool, command: list[str] | None) -> Iterator[Path]:
    """The run's folder, checked (new or empty, or with ``resume`` one that holds a patterns
    run) and locked for the run, like a sweep folder (:mod:`sim.experiments.store`)."""
    from sim.experiments.store import StoreError, is_empty, lock
    from sim.experiments.sweep import default_sweep_dir
    from sim.io.store import check_writable

    if resume:
        if out is None:
            raise PatternError("--resume needs --out DIR: the folder of the patterns run")
        folder = Path(out)
        if not (folder / "patterns_spec.toml").exists():
            raise StoreError(f"--resume {folder}: not a patterns run (no patterns_spec.toml); "
                             "start a new run without --resume")
    elif out is None:
        check_writable("results/patterns")
        folder = default_sweep_dir("validation", "results/patterns")
    else:
        folder = Path(out)
        if folder.exists() and not (folder.is_dir() and is_empty(folder)):
            raise StoreError(f"--out {folder}: folder is not empty; choose a new folder, or "
                             "add --resume to continue the patterns run in it")
    check_writable(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with lock(folder, command):
        yield folder


def _run_patterns(patterns: list[Pattern], out: Path, *, quick: bool, workers: int | None,
                  scheduler: str | None, dask_local: int | None, tls: Any, resume: bool,
                  retries: int,
                  progress: bool, log: Callable[[str], None], command: list[str] | None,
                  probe: Callable[[Design], tuple[set[str], set[str]]],
                  t0: float) -> PatternRun:
    from sim.experiments.store import init_store, model_version, read_summaries, read_timeseries
    from sim.experiments.sweep import execute_design, write_session_status
    from sim.io.store import atomic_write_text

    designs: dict[str, Design] = {}
    missing: dict[str, list[str]] = {}
    probed: dict[str, tuple[set[str], set[str]]] = {}

    def probe_once(d: Design) -> tuple[set[str], set[str]]:
        if d.name not in probed:
            probed[d.name] = probe(d)
        return probed[d.name]

    seen: dict[str, Design] = {}
    for p in patterns:
        d = p.design.resolved(quick)
        if seen.setdefault(d.name, d).spec() != d.spec():
            raise PatternError(f"patterns share the design name {d.name!r} with different "
                               "contents; give each design its own name")
        lack = missing_inputs(p, d, probe_once)
        if lack:
            missing[p.name] = lack
            log(f"{p.name}: cannot be evaluated, the model lacks {', '.join(lack)}")
        else:
            designs[d.name] = d
    runnable = [p for p in patterns if p.name not in missing]
    needed = {p.design.name: designs[p.design.name] for p in runnable}
    version = model_version()
    spec_path = atomic_write_text(out / "patterns_spec.toml", spec_toml(patterns, quick))
    store = out / "runs"
    result = PatternRun(out=out, results=[], quick=quick, seconds=0.0)
    summaries = pd.DataFrame()
    series: dict[str, pd.DataFrame] = {}
    if needed:
        design_df, cells = plan_runs(list(needed.values()), version)
        sha = hashlib.sha256(spec_toml(all_patterns(), quick).encode()).hexdigest()
        init_store(store, spec_path, sha, design_df,
                   {"experiment_name": "patterns", "kind": "patterns", "quick": quick,
                    "model_version": version, "runs": len(design_df), "command": command,
                    "executor": scheduler or (f"dask-local {dask_local}" if dask_local else
                                              f"workers {'auto' if workers is None else workers}")},
                   resume and (store / "manifest.json").exists())
        by_keep: dict[str, list[str]] = {}
        for d in needed.values():
            by_keep.setdefault(json.dumps(keep_of(d), sort_keys=True), []).append(d.name)
        for keep_text, names in by_keep.items():
            part = design_df[design_df["context"].isin(names)].reset_index(drop=True)
            stats = execute_design(part, cells, json.loads(keep_text), store, [],
                                   workers=workers, scheduler=scheduler, dask_local=dask_local,
                                   tls=tls, resume=resume, retries=retries, progress=progress,
                                   log=log,
                                   desc="patterns")
            write_session_status(stats)
            result.runs_done += stats.done
            result.runs_skipped += stats.skipped
            result.executor = stats.executor or result.executor
        summaries = read_summaries(store, design_df)
        for d in needed.values():
            if d.metrics:
                rows = design_df[design_df["context"] == d.name]
                series[d.name] = read_timeseries(store, rows)
    for p in patterns:
        t1 = time.perf_counter()
        d = p.design.resolved(quick)
        if p.name in missing:
            ev = Evaluation("cannot be evaluated", missing=missing[p.name],
                            notes=["the model does not provide " + ", ".join(missing[p.name])])
            result.results.append(PatternResult(p, ev, d))
            continue
        mine = summaries[summaries["context"] == d.name].rename(columns={"strategy": "arm"})
        expected = d.replications * len(d.arms)
        failed = expected - len(mine)
        if failed:
            ev = Evaluation("runs failed", notes=[
                f"{failed} of {expected} runs have no result (see {store / 'failures.jsonl'});"
                f" fix the cause and rerun with --out {out} --resume"])
            result.results.append(PatternResult(p, ev, d, len(mine), failed))
            continue
        ts = series.get(d.name)
        if ts is not None and not ts.empty:
            ts = ts.rename(columns={"strategy": "arm"})
        ev = p.evaluate(Runs(d, mine.reset_index(drop=True), ts))
        result.results.append(PatternResult(p, ev, d, len(mine), 0, time.perf_counter() - t1))
    result.seconds = time.perf_counter() - t0
    return result


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def slug(name: str) -> str:
    """A file name for a pattern's figure."""
    return _SAFE.sub("_", name)
