"""What every outcome means: labels, units, directions and one-line definitions, in one place.

Every report (``peacesim compare``, ``peacesim discover``, later robustness and optimisation
reports) takes its words from here, so an axis, a table header and the glossary always say
the same thing. A key that is not listed still works: its label is the key itself.

Time: one tick is one week in the peacekeeping scenarios (five years = 260 ticks).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from sim.config.outcomes import (  # noqa: F401  (re-exported: the reports' vocabulary)
    AVG_PREFIX,
    COST,
    DEFAULT_METRICS,
    EPSTEIN_OUTCOMES,
    HEADLINE,
    KEY_OUTCOMES,
    METRICS,
    MORE_OUTCOMES,
    PARETO,
    PER,
    SAME_COST,
    SUMMARY,
    TERMS,
    WEEKS_PER_MONTH,
    Outcome,
    better,
    known_outcome,
    known_outcomes,
    label,
    outcome,
)


def factor_label(key: str) -> str:
    """A factor's dotted scenario key as a reader's label: ``police.professionalism`` ->
    ``police professionalism``."""
    return key.replace("_", " ").replace(".", " ")


def residents_at_start(runs: pd.DataFrame) -> pd.Series | None:
    """Resident agents at the start of each run, the denominator of per-capita rates of
    counts of residents (``casualties_total`` counts residents killed): ``residents_initial``,
    else ``population`` / ``people_per_resident`` (``population`` is in people, and each
    resident stands for ``people_per_resident`` of them; one when not reported). A rate per
    100,000 residents is then the rate per 100,000 people. None when neither is known."""
    def column(name: str) -> pd.Series | None:
        if name in runs and pd.to_numeric(runs[name], errors="coerce").notna().any():
            return pd.to_numeric(runs[name], errors="coerce").astype(float)
        return None

    res0, pop = column("residents_initial"), column("population")
    if pop is not None:
        per = column("people_per_resident")
        per = per.where(per > 0).fillna(1.0) if per is not None else 1.0
        from_pop = pop / per
        res0 = from_pop if res0 is None else res0.fillna(from_pop)
    return None if res0 is None else res0.where(res0 > 0)


def add_derived(runs: pd.DataFrame) -> pd.DataFrame:
    """Columns the reports derive from a run's summary, when the model does not report them:
    ``casualties_per_100k`` (per 100,000 residents at the start, :func:`residents_at_start`,
    which is per 100,000 people whatever the model's ``population``) and ``stabilised`` (1
    if ``time_to_stability`` is known). Never fails on a missing key."""
    runs = runs.copy()
    if "casualties_total" in runs:
        res0 = residents_at_start(runs)
        if res0 is not None:
            runs["casualties_per_100k"] = runs["casualties_total"].astype(float) * PER / res0
    if "time_to_stability" in runs:
        runs["stabilised"] = runs["time_to_stability"].notna().astype(float)
    return runs


def numeric_outcomes(runs: pd.DataFrame, exclude: tuple[str, ...] = ()) -> list[str]:
    """Summary columns that hold numbers in at least one run (design and bookkeeping
    columns left out), listed ones first in registry order."""
    from sim.experiments.store import META_COLUMNS

    skip = set(META_COLUMNS) | set(exclude) | {"scenario"}
    cols = [c for c in runs.columns if c not in skip
            and pd.api.types.is_numeric_dtype(runs[c]) and runs[c].notna().any()]
    listed = [k for k in SUMMARY if k in cols]
    return listed + sorted(c for c in cols if c not in SUMMARY)


def fmt(x: Any, digits: int = 3) -> str:
    """A number as a reader wants it: thousands separated, about three significant digits."""
    if x is None or isinstance(x, str):
        return "–" if x is None else x
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(x):
        return "–"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if float(x).is_integer():
        return f"{x:.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.{digits}g}"


def fmt_signed(x: Any) -> str:
    """Like :func:`fmt` with an explicit sign (differences)."""
    s = fmt(x)
    if s in ("–", "0") or s.startswith("-") or s.startswith("∞"):
        return s
    return "+" + s


def fmt_ci(m: Any, lo: Any, hi: Any, signed: bool = False) -> str:
    """``mean (95% CI lo to hi)`` in one cell."""
    f = fmt_signed if signed else fmt
    if lo is None or (isinstance(lo, float) and np.isnan(lo)):
        return f(m)
    return f"{f(m)} ({f(lo)} to {f(hi)})"


def fmt_value_ci(key: str, m: Any, lo: Any, hi: Any, signed: bool = False) -> str:
    """:func:`fmt_ci`, with shares of runs (binary outcomes) in percent."""
    if outcome(key).binary:
        if signed:
            pts = [None if v is None or v != v else 100 * float(v) for v in (m, lo, hi)]
            return fmt_ci(*pts, signed=True).replace(" (", " pts (", 1) if pts[0] is not None \
                else "–"
        return (f"{fmt_pct(m, False)} ({fmt_pct(lo, False)} to {fmt_pct(hi, False)})"
                if lo is not None and lo == lo else fmt_pct(m, False))
    return fmt_ci(m, lo, hi, signed)


def fmt_pct(x: Any, signed: bool = True) -> str:
    if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))):
        return "–"
    s = f"{100 * float(x):.0f}%"
    return ("+" + s) if signed and float(x) > 0 and not s.startswith("-") else s
