"""Robustness across futures: regret, satisficing and outcome percentiles per strategy.

A *future* is one point of an experiment's design of uncertain factors (a latin-hypercube or
factorial point) in one context: ``(context, point)``. With common seeds every strategy
meets every future with the same replications, so strategies are compared like for like in
each future. All statistics here start from one number per strategy, future and outcome:
the mean of the outcome over the strategy's runs in that future, taken over the replicates
that every strategy finished there (so a failed run never unpairs the others).

* **Regret** of strategy ``s`` in future ``f`` on an outcome with a better direction: how far
  ``s`` fell behind the best strategy in ``f``, in the outcome's unit and never negative:
  ``m(s, f) - min_s' m(s', f)`` when lower is better, ``max_s' m(s', f) - m(s, f)`` when
  higher is better. A future where some strategy has no value of the outcome (e.g. no exit,
  so no relapse ratio) is left out for that outcome. Per strategy: the mean, the 90th
  percentile (numpy's linear interpolation between futures) and the largest regret, and the
  share of futures in which it was best (regret 0; ties count for each tied strategy).
* **Satisficing**: the share of futures in which a strategy meets a threshold
  (``m(s, f) < below`` or ``m(s, f) > above``, strictly; a missing value does not meet it),
  per threshold and for all thresholds at once.
* **Outcome percentiles**: the 10th, 50th and 90th percentile of ``m(s, f)`` over the
  futures, and their mean.

Every statistic is given per context and, when there are several, over all contexts (scope
``all contexts``: each context's futures counted alike). Nothing here reads files or draws
figures: :mod:`sim.experiments.compare` turns the tables into the report's section.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments import outcomes as oc

ALL = "all contexts"  #: the scope that pools every context's futures
PCT = 90  #: the regret percentile reported beside the mean
FUTURE = ["context", "point"]


@dataclass(frozen=True)
class Rule:
    """One threshold: ``outcome`` strictly ``side`` (``above`` | ``below``) ``value``."""

    outcome: str
    side: str
    value: float

    @property
    def text(self) -> str:
        o = oc.outcome(self.outcome)
        unit = "" if not o.unit or o.binary or "0-1" in o.unit else f" {o.unit}"
        return f"{o.label} {self.side} {oc.fmt(self.value)}{unit}"

    def met(self, values: pd.Series) -> pd.Series:
        """True where ``values`` meet the rule (NaN never does)."""
        v = pd.to_numeric(values, errors="coerce")
        return (v > self.value) if self.side == "above" else (v < self.value)


def rules_of(thresholds: Mapping[str, Any] | None) -> list[Rule]:
    """Threshold rules from ``{key: {above|below: x}}`` (plain dicts or the schema's
    :class:`~sim.config.experiment.Threshold` objects)."""
    rules = []
    for key, t in (thresholds or {}).items():
        t = t if isinstance(t, Mapping) else t.model_dump()
        side = "above" if t.get("above") is not None else "below"
        rules.append(Rule(key, side, float(t[side])))
    return rules


def future_means(runs: pd.DataFrame, outcomes: list[str], strategies: list[str]
                 ) -> pd.DataFrame:
    """One row per context, point and strategy: each outcome's mean over the replicates that
    every strategy finished in that future (futures some strategy never finished are left
    out), and ``replicates``: how many that is."""
    cols = [o for o in outcomes if o in runs]
    r = runs[runs["strategy"].isin(strategies)]
    n_strat = r.groupby([*FUTURE, "replicate"])["strategy"].transform("nunique")
    r = r[n_strat == len(strategies)]
    if r.empty:
        return pd.DataFrame(columns=[*FUTURE, "strategy", "replicates", *cols])
    values = r[cols].apply(pd.to_numeric, errors="coerce")
    g = pd.concat([r[[*FUTURE, "strategy", "replicate"]], values], axis=1).groupby(
        [*FUTURE, "strategy"], sort=False)
    out = g[cols].mean()
    out.insert(0, "replicates", g["replicate"].nunique())
    return out.reset_index()


def _scopes(fm: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    contexts = list(dict.fromkeys(fm["context"]))
    scopes = [(c, fm[fm["context"] == c]) for c in contexts]
    return scopes + ([(ALL, fm)] if len(contexts) > 1 else [])


def regret(fm: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Per future and strategy: the regret on ``outcome`` (rows of futures where any strategy
    lacks a value are dropped)."""
    direction = oc.better(outcome)
    wide = fm.pivot_table(index=FUTURE, columns="strategy", values=outcome, aggfunc="first",
                          dropna=False)
    wide = wide[wide.notna().all(axis=1)]
    if direction == "lower":
        reg = wide.sub(wide.min(axis=1), axis=0)
    else:
        reg = wide.rsub(wide.max(axis=1), axis=0)
    return reg.stack().rename("regret").reset_index()


def regret_table(fm: pd.DataFrame, outcomes: list[str], strategies: list[str]
                 ) -> pd.DataFrame:
    """Per scope, strategy and outcome (those with a better direction): futures compared,
    mean, 90th-percentile and largest regret, share of futures where the strategy was best."""
    rows = []
    for key in outcomes:
        if key not in fm or oc.better(key) not in ("lower", "higher"):
            continue
        reg = regret(fm, key)
        for scope, part in _scopes(reg) if not reg.empty else []:
            for s in strategies:
                x = part.loc[part["strategy"] == s, "regret"].to_numpy(dtype=float)
                if not len(x):
                    continue
                rows.append({"scope": scope, "strategy": s, "outcome": key,
                             "futures": len(x), "mean_regret": float(x.mean()),
                             f"p{PCT}_regret": float(np.percentile(x, PCT)),
                             "max_regret": float(x.max()),
                             "best_share": float(np.mean(x == 0))})
    return pd.DataFrame(rows, columns=["scope", "strategy", "outcome", "futures",
                                       "mean_regret", f"p{PCT}_regret", "max_regret",
                                       "best_share"])


def satisficing_table(fm: pd.DataFrame, rules: list[Rule], strategies: list[str]
                      ) -> pd.DataFrame:
    """Per scope and strategy: the share of futures meeting each threshold (columns named by
    the outcome key) and all of them (``all``); thresholds on outcomes no run reports are
    left out (:func:`absent_rules` names them)."""
    usable = [r for r in rules if r.outcome in fm and fm[r.outcome].notna().any()]
    if not usable or fm.empty:
        return pd.DataFrame()
    met = pd.DataFrame({r.outcome: r.met(fm[r.outcome]) for r in usable}, index=fm.index)
    met["all"] = met.all(axis=1)
    met = pd.concat([fm[[*FUTURE, "strategy"]], met], axis=1)
    rows = []
    for scope, part in _scopes(met):
        for s in strategies:
            x = part[part["strategy"] == s]
            if x.empty:
                continue
            rows.append({"scope": scope, "strategy": s, "futures": len(x),
                         **{r.outcome: float(x[r.outcome].mean()) for r in usable},
                         "all": float(x["all"].mean())})
    return pd.DataFrame(rows)


def absent_rules(fm: pd.DataFrame, rules: list[Rule]) -> list[Rule]:
    """Thresholds on outcomes that no run reports (the report says they were left out)."""
    return [r for r in rules if r.outcome not in fm or not fm[r.outcome].notna().any()]


def percentile_table(fm: pd.DataFrame, outcomes: list[str], strategies: list[str]
                     ) -> pd.DataFrame:
    """Per scope, strategy and outcome: the 10th, 50th and 90th percentile and the mean of
    the strategy's future means (over the futures that have a value)."""
    rows = []
    for key in [o for o in outcomes if o in fm]:
        for scope, part in _scopes(fm):
            for s in strategies:
                x = pd.to_numeric(part.loc[part["strategy"] == s, key],
                                  errors="coerce").dropna().to_numpy(dtype=float)
                if not len(x):
                    continue
                p10, p50, p90 = np.percentile(x, [10, 50, 90])
                rows.append({"scope": scope, "strategy": s, "outcome": key, "futures": len(x),
                             "p10": float(p10), "p50": float(p50), "p90": float(p90),
                             "mean": float(x.mean())})
    return pd.DataFrame(rows, columns=["scope", "strategy", "outcome", "futures", "p10",
                                       "p50", "p90", "mean"])


@dataclass
class Robustness:
    """The robustness tables of a sweep (see the module docstring)."""

    futures: pd.DataFrame  #: one row per context, point and strategy (future means)
    regret: pd.DataFrame
    satisficing: pd.DataFrame
    percentiles: pd.DataFrame
    rules: list[Rule]
    absent: list[Rule]  #: thresholds on outcomes no run reports

    @property
    def n_futures(self) -> int:
        return int(self.futures[FUTURE].drop_duplicates().shape[0]) if len(self.futures) \
            else 0


def robustness(runs: pd.DataFrame, strategies: list[str], outcomes: list[str],
               thresholds: Mapping[str, Any] | None = None) -> Robustness:
    """Every table of the module for the runs of a sweep (one row per run with ``context``,
    ``point``, ``strategy``, ``replicate`` and outcome columns)."""
    rules = rules_of(thresholds)
    wanted = list(dict.fromkeys([*outcomes, *(r.outcome for r in rules)]))
    fm = future_means(runs, wanted, strategies)
    return Robustness(futures=fm, regret=regret_table(fm, outcomes, strategies),
                      satisficing=satisficing_table(fm, rules, strategies),
                      percentiles=percentile_table(fm, outcomes, strategies),
                      rules=rules, absent=absent_rules(fm, rules))


__all__ = ["ALL", "PCT", "Robustness", "Rule", "future_means", "percentile_table", "regret",
           "regret_table", "robustness", "rules_of", "satisficing_table"]
