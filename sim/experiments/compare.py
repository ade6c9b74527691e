"""Compare the strategies of a finished sweep: a report a decision-maker can read.

``peacesim compare SWEEP_DIR`` (or :func:`compare` from Python) writes ``report.md`` and a
self-contained ``report.html`` (figures embedded, nothing fetched from the network), the
figures as PNG under ``figures/`` and every table as CSV under ``tables/``.

The report opens with a headline per context: the best strategy on the headline outcome
(civilian casualties), its effect against the reference strategy in absolute and relative
terms with the 95% interval, the cost difference in troop-weeks and one sentence on how sure
that is. A glossary follows; every outcome's label, unit and direction comes from
:mod:`sim.experiments.outcomes`, the one place that defines them.

Statistics, all per context; the unit of comparison is an *arm*: a strategy (at one design
point when the design is a full factorial, pooled over the sampled points of a latin
hypercube):

* mean and 95% t interval of each outcome over the runs of the arm;
* differences from a reference strategy, paired on the common seeds (same point, same
  replicate, same seed), with the unpaired Welch interval the same runs would give beside
  it; relative changes with a paired bootstrap interval (:data:`BOOT` resamples, fixed seed,
  so a report is reproducible);
* cost-effectiveness: civilian casualties averted per 1,000 additional troop-weeks, moving
  from the cheaper arm to the dearer one, with a paired bootstrap interval; only when the
  troop-weeks clearly differ by at least :data:`~sim.experiments.outcomes.SAME_COST`;
* trade-offs: an arm is *dominated with confidence* when another is clearly better (paired
  95% interval excludes zero) on one of casualties, economy and troop-weeks and not clearly
  worse on any; the efficient arms are those no other dominates with confidence;
* distributions (box plots), cumulative casualty envelopes per 100,000 residents and other
  time series with the drawdown start and the exit marked; the post-exit relapse table.

The report is a list of section builders (:data:`SECTIONS`), each a function of the loaded
comparison and the document: a later section (robustness across futures: regret and
satisficing per strategy) is one more function in that list.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure as MplFigure
from matplotlib.lines import Line2D
from scipy import stats

from sim.experiments import outcomes as oc
from sim.experiments import robustness as rb
from sim.experiments.html import Box, Bullets, Document, Figure, Glossary, Table, png_bytes
from sim.experiments.outcomes import fmt, fmt_ci, fmt_pct
from sim.experiments.store import (
    EXPERIMENT_COPY,
    StoreError,
    open_store,
    read_failures,
    read_summaries,
    read_timeseries,
)
from sim.io.store import atomic_path

LEVEL = 0.95
BOOT = 2000  #: bootstrap resamples for ratios (relative change, cost-effectiveness)
REPORT, REPORT_HTML, FIGURES, TABLES = "report.md", "report.html", "figures", "tables"
NAMED_POINTS = 6  # beyond this many arms, Pareto points are numbered
ENVELOPE_METRICS = ("civilian_casualties", "violence_mean", "combatants", "economy_mean",
                    "trust_pk_mean", "trust_police_mean", "peacekeepers", "active")
#: kept for callers of the earlier module: summary key -> (label, better direction)
OUTCOMES: dict[str, tuple[str, str]] = {k: (o.label, o.better) for k, o in oc.SUMMARY.items()}
PARETO = oc.PARETO
#: left out of the ranking: proportional to an outcome already ranked
RANK_SKIP = ("casualties_per_100k",)


# --------------------------------------------------------------------------- statistics


def mean_ci(values: Any, level: float = LEVEL) -> tuple[int, float, float]:
    """(n, mean, half-width of the t interval); NaNs are dropped, half-width NaN if n < 2."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return 0, math.nan, math.nan
    if n < 2:
        return 1, float(x.mean()), math.nan
    half = stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n)
    return n, float(x.mean()), float(half)


def welch_half(a: Any, b: Any, level: float = LEVEL) -> float:
    """Half-width of Welch's interval for mean(a) - mean(b) (unpaired, unequal variances)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if len(a) < 2 or len(b) < 2:
        return math.nan
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se2 = va + vb
    if se2 == 0:
        return 0.0
    df = se2**2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return float(stats.t.ppf(0.5 + level / 2, df) * math.sqrt(se2))


def wilson(successes: float, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of a proportion (sensible at 0 and 1, unlike the t interval)."""
    if n == 0:
        return math.nan, math.nan
    z = stats.norm.ppf(0.5 + level / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """Rows not dominated by another (every column to be minimised; NaN rows never win)."""
    pts = np.asarray(points, dtype=float)
    ok = ~np.isnan(pts).any(axis=1)
    mask = ok.copy()
    for i in np.flatnonzero(ok):
        others = pts[ok]
        dominated = np.all(others <= pts[i], axis=1) & np.any(others < pts[i], axis=1)
        mask[i] = not dominated.any()
    return mask


def bootstrap_means(groups: list[np.ndarray], n_boot: int = BOOT, seed: int = 0
                    ) -> np.ndarray:
    """Column means of ``n_boot`` resamples: each group (runs x columns) is resampled by
    row, so the columns of a group (paired runs) stay together; returns (n_boot, columns)."""
    rng = np.random.default_rng(seed)
    out = []
    for g in groups:
        g = np.asarray(g, dtype=float).reshape(len(g), -1)
        idx = rng.integers(0, len(g), size=(n_boot, len(g)))
        out.append(g[idx].mean(axis=1))
    return np.concatenate(out, axis=1)


def percentile_ci(samples: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    s = np.asarray(samples, dtype=float)
    s = s[np.isfinite(s)]
    if len(s) < 0.9 * len(samples) or len(s) == 0:  # the ratio blew up: no interval
        return math.nan, math.nan
    lo, hi = np.quantile(s, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def _pairs(g: pd.DataFrame, r: pd.DataFrame, paired: bool, what: str) -> pd.DataFrame:
    """Runs of ``g`` matched with runs of ``r`` from the same seed: on (point, replicate)
    when both ran the same design points, else on replicate (arms at different points of a
    full factorial share the seeds under common random numbers)."""
    on = ["point", "replicate"] if set(g["point"]) == set(r["point"]) else ["replicate"]
    both = g.merge(r, on=on, suffixes=("", "_ref"))
    if paired and len(both) and not (both["seed"] == both["seed_ref"]).all():
        raise StoreError(f"paired comparison needs common seeds, but the seeds of {what} "
                         "differ")
    return both


def clear(lo: float, hi: float, direction: str) -> int:
    """+1 if the interval of (arm - other) says the arm is clearly better, -1 clearly worse,
    0 within the noise (or no direction)."""
    if math.isnan(lo) or math.isnan(hi) or not direction:
        return 0
    if hi < 0:
        return 1 if direction == "lower" else -1
    if lo > 0:
        return 1 if direction == "higher" else -1
    return 0


def cost_differs(diff: float, lo: float, hi: float, ref_mean: float) -> bool:
    """Troop-weeks differ for real: the interval excludes zero and the difference is at least
    ``SAME_COST`` of the reference (smaller ones are units lost in clashes)."""
    if any(math.isnan(v) for v in (diff, lo, hi, ref_mean)):
        return False
    return (lo > 0 or hi < 0) and abs(diff) >= oc.SAME_COST * abs(ref_mean)


# --------------------------------------------------------------------------- tables


def _short(key: str, keys: list[str]) -> str:
    last = key.rsplit(".", 1)[-1]
    return last if sum(k.rsplit(".", 1)[-1] == last for k in keys) == 1 else key


def add_arms(runs: pd.DataFrame, factors: list[str], by_point: bool,
             strategies: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """An ``arm`` label per run and the arms in report order (strategies as in the file)."""
    runs = runs.copy()
    if by_point and factors:
        def label(row: Any) -> str:
            vals = ", ".join(f"{_short(k, factors)}={fmt(row[k])}" for k in factors)
            return f"{row['strategy']} ({vals})"

        runs["arm"] = runs.apply(label, axis=1)
        order_df = runs.drop_duplicates("arm").assign(
            s=lambda d: d["strategy"].map({s: i for i, s in enumerate(strategies)}))
        order = order_df.sort_values(["s", "point"])["arm"].tolist()
    else:
        runs["arm"] = runs["strategy"]
        order = [s for s in strategies if s in set(runs["arm"])]
    return runs, order


def outcome_table(runs: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    """Per context, arm and outcome: n, mean, 95% CI."""
    rows = []
    for (ctx, arm), g in runs.groupby(["context", "arm"], sort=False):
        for o in outcomes:
            n, m, h = mean_ci(g[o])
            lo, hi = m - h, m + h
            if oc.outcome(o).binary and n:
                lo, hi = wilson(m * n, n)
                h = (hi - lo) / 2
            rows.append({"context": ctx, "arm": arm, "strategy": g["strategy"].iloc[0],
                         "outcome": o, "label": oc.label(o), "runs": len(g), "n": n,
                         "mean": m, "lo": lo, "hi": hi, "half": h})
    return pd.DataFrame(rows)


def _relative(both: pd.DataFrame, g: pd.DataFrame, r: pd.DataFrame, o: str, paired: bool
              ) -> tuple[float, float, float, float]:
    """(reference mean, relative change, its bootstrap interval) of arm vs reference."""
    if paired:
        x = both[[o, f"{o}_ref"]].to_numpy(dtype=float)
        x = x[~np.isnan(x).any(axis=1)]
        if len(x) < 2:
            return (float(x[:, 1].mean()) if len(x) else math.nan), math.nan, math.nan, \
                math.nan
        ref = float(x[:, 1].mean())
        rel = float(x[:, 0].mean() / ref - 1) if ref else math.nan
        m = bootstrap_means([x])
    else:
        a = g[o].dropna().to_numpy(dtype=float)
        b = r[o].dropna().to_numpy(dtype=float)
        if len(a) < 2 or len(b) < 2:
            return (float(b.mean()) if len(b) else math.nan), math.nan, math.nan, math.nan
        ref = float(b.mean())
        rel = float(a.mean() / ref - 1) if ref else math.nan
        m = bootstrap_means([a, b])
    if not ref:
        return ref, math.nan, math.nan, math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        lo, hi = percentile_ci(m[:, 0] / m[:, 1] - 1)
    return ref, rel, lo, hi


def difference_table(runs: pd.DataFrame, outcomes: list[str], reference: str,
                     paired: bool) -> pd.DataFrame:
    """Per context, arm (not the reference) and outcome: the mean difference from the
    reference strategy at the same design point, its 95% CI (paired on common seeds when
    ``paired``), the paired and unpaired half-widths side by side, the relative change with
    its bootstrap interval, and ``clear`` (+1 clearly better, -1 clearly worse, 0 noise)."""
    rows = []
    for ctx, c in runs.groupby("context", sort=False):
        ref = c[c["strategy"] == reference]
        for arm, g in c[c["strategy"] != reference].groupby("arm", sort=False):
            r = ref[ref["point"].isin(g["point"].unique())]
            both = g.merge(r, on=["point", "replicate"], suffixes=("", "_ref"))
            if paired and len(both) and not (both["seed"] == both["seed_ref"]).all():
                raise StoreError("paired comparison needs common seeds, but the seeds of "
                                 f"{arm} and {reference} differ in {ctx}")
            for o in outcomes:
                welch = welch_half(g[o], r[o])
                if paired:
                    d = (both[o] - both[f"{o}_ref"]).to_numpy(dtype=float)
                    n, m, h = mean_ci(d)
                else:
                    n = int(min(g[o].notna().sum(), r[o].notna().sum()))
                    m = float(g[o].mean() - r[o].mean()) if n else math.nan
                    h = welch
                ref_mean, rel, rel_lo, rel_hi = _relative(both, g, r, o, paired)
                rows.append({"context": ctx, "arm": arm, "strategy": g["strategy"].iloc[0],
                             "reference": reference, "outcome": o, "label": oc.label(o),
                             "runs": len(both) if paired else min(len(g), len(r)),
                             "n": n, "diff": m, "lo": m - h, "hi": m + h,
                             "half_paired": h if paired else math.nan,
                             "half_unpaired": welch,
                             "ratio": h / welch if paired and welch else math.nan,
                             "ref_mean": ref_mean, "rel": rel, "rel_lo": rel_lo,
                             "rel_hi": rel_hi,
                             "clear": clear(m - h, m + h, oc.better(o))})
    return pd.DataFrame(rows)


def cost_effectiveness_table(runs: pd.DataFrame, reference: str, paired: bool,
                             effect: str = oc.HEADLINE, cost: str = oc.COST
                             ) -> pd.DataFrame:
    """Per context and arm: casualties averted and extra troop-weeks against the reference
    (means with 95% CIs) and, when the cost really differs, casualties averted per 1,000
    additional troop-weeks moving from the cheaper to the dearer arm (paired bootstrap
    interval). ``verdict`` sums it up in words."""
    rows = []
    for ctx, c in runs.groupby("context", sort=False):
        ref = c[c["strategy"] == reference]
        for arm, g in c[c["strategy"] != reference].groupby("arm", sort=False):
            r = ref[ref["point"].isin(g["point"].unique())]
            if paired:
                both = _pairs(g, r, paired, f"{arm} and {reference} in {ctx}")
                x = both[[effect, f"{effect}_ref", cost, f"{cost}_ref"]].to_numpy(float)
                x = x[~np.isnan(x).any(axis=1)]
                groups = [x]
                e_a, e_r, c_a, c_r = (x[:, i] for i in range(4))
                _, averted, ah = mean_ci(e_r - e_a)
                _, extra, ch = mean_ci(c_a - c_r)
            else:
                a = g[[effect, cost]].dropna().to_numpy(float)
                b = r[[effect, cost]].dropna().to_numpy(float)
                groups = [a, b]
                e_a, c_a, e_r, c_r = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
                averted = float(e_r.mean() - e_a.mean())
                extra = float(c_a.mean() - c_r.mean())
                ah, ch = welch_half(e_r, e_a), welch_half(c_a, c_r)
            n = len(e_a)
            ref_cost = float(c_r.mean()) if len(c_r) else math.nan
            differs = n >= 2 and cost_differs(extra, extra - ch, extra + ch, ref_cost)
            ratio = lo = hi = math.nan
            if differs:
                ratio = 1000 * averted / extra
                m = bootstrap_means(groups)
                if paired:
                    ma, mr, ca, cr = m[:, 0], m[:, 1], m[:, 2], m[:, 3]
                else:
                    ma, ca, mr, cr = m[:, 0], m[:, 1], m[:, 2], m[:, 3]
                with np.errstate(divide="ignore", invalid="ignore"):
                    lo, hi = percentile_ci(1000 * (mr - ma) / (ca - cr))
            eff = clear(-(averted + ah), -(averted - ah), "lower")  # arm - ref casualties
            rows.append({"context": ctx, "arm": arm, "reference": reference, "n": n,
                         "averted": averted, "averted_lo": averted - ah,
                         "averted_hi": averted + ah, "extra_cost": extra,
                         "extra_cost_lo": extra - ch, "extra_cost_hi": extra + ch,
                         "cost_differs": differs, "per_1000": ratio, "per_1000_lo": lo,
                         "per_1000_hi": hi,
                         "verdict": _ce_verdict(eff, differs, extra, arm, reference)})
    return pd.DataFrame(rows)


def _ce_verdict(effect: int, differs: bool, extra: float, arm: str, ref: str) -> str:
    dearer = differs and extra > 0
    cheaper = differs and extra < 0
    if effect > 0:
        if cheaper or not differs:
            return (f"dominates {ref}: fewer casualties at "
                    + ("lower cost" if cheaper else "about the same cost"))
        return "buys fewer casualties with extra troop-weeks"
    if effect < 0:
        if dearer or not differs:
            return (f"is dominated by {ref}: more casualties at "
                    + ("higher cost" if dearer else "about the same cost"))
        return "saves troop-weeks at the price of more casualties"
    return ("shows no clear difference in casualties, at "
            + ("higher cost" if dearer else "lower cost" if cheaper else "about the same cost"))


def pairwise_table(runs: pd.DataFrame, arms: list[str], objectives: tuple[str, ...],
                   paired: bool) -> pd.DataFrame:
    """Per context and ordered pair of arms (a, b) and objective: mean of a - b with its 95%
    CI (paired on common seeds when ``paired``) and ``clear`` from a's point of view."""
    rows = []
    for ctx, c in runs.groupby("context", sort=False):
        present = [a for a in arms if a in set(c["arm"])]
        for i, a in enumerate(present):
            for b in present[i + 1:]:
                ga, gb = c[c["arm"] == a], c[c["arm"] == b]
                both = _pairs(ga, gb, paired, f"{a} and {b} in {ctx}") if paired else None
                for o in objectives:
                    if paired:
                        assert both is not None
                        _, m, h = mean_ci((both[o] - both[f"{o}_ref"]).to_numpy(float))
                        ref_mean = float(both[f"{o}_ref"].mean())
                    else:
                        m = float(ga[o].mean() - gb[o].mean())
                        h = welch_half(ga[o], gb[o])
                        ref_mean = float(gb[o].mean())
                    lo, hi = m - h, m + h
                    cl = clear(lo, hi, oc.better(o))
                    if o == oc.COST and cl and not cost_differs(m, lo, hi, ref_mean):
                        cl = 0
                    for x, y, d, dl, dh, s in ((a, b, m, lo, hi, cl), (b, a, -m, -hi, -lo,
                                                                       -cl)):
                        rows.append({"context": ctx, "a": x, "b": y, "outcome": o,
                                     "diff": d, "lo": dl, "hi": dh, "clear": s})
    return pd.DataFrame(rows)


def dominance_table(pairwise: pd.DataFrame, table: pd.DataFrame, arms: list[str],
                    objectives: tuple[str, ...]) -> pd.DataFrame:
    """Per context and arm: efficient (no other arm dominates it with confidence) or the arms
    that do, and whether it is efficient on the means alone (the old, noise-blind reading)."""
    rows = []
    for ctx, t in table.groupby("context", sort=False):
        wide = t.pivot_table(index="arm", columns="outcome", values="mean", sort=False)
        present = [a for a in arms if a in wide.index]
        pts = np.column_stack([wide.loc[present, o] * (-1 if oc.better(o) == "higher" else 1)
                               for o in objectives])
        on_means = dict(zip(present, pareto_mask(pts), strict=True))
        p = pairwise[pairwise["context"] == ctx] if len(pairwise) else pairwise
        for a in present:
            by = []
            for b in present:
                if b == a or p.empty:
                    continue
                s = p[(p["a"] == b) & (p["b"] == a)].set_index("outcome")["clear"]
                if len(s) == len(objectives) and (s > 0).any() and not (s < 0).any():
                    by.append(b)
            rows.append({"context": ctx, "arm": a, "efficient": not by,
                         "dominated_by": "; ".join(by), "efficient_on_means": on_means[a]})
    return pd.DataFrame(rows)


def ranking_table(table: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    """Per context: arms by mean rank over the outcomes that have a better direction."""
    ranked = [o for o in outcomes if oc.better(o) and o not in RANK_SKIP]
    rows = []
    for ctx, c in table.groupby("context", sort=False):
        wide = c.pivot_table(index="arm", columns="outcome", values="mean", sort=False)
        ranks = pd.DataFrame(index=wide.index)
        for o in ranked:
            if o in wide:
                ranks[o] = wide[o].rank(ascending=oc.better(o) == "lower", method="min")
        ranks["mean_rank"] = ranks.mean(axis=1)
        ranks = ranks.sort_values("mean_rank", kind="stable")
        ranks.insert(0, "position", np.arange(1, len(ranks) + 1))
        ranks.insert(0, "context", ctx)
        rows.append(ranks.reset_index())
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def relapse_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per context and arm: how often the mission left, and violence before vs after exit."""
    rows = []
    for (ctx, arm), g in runs.groupby(["context", "arm"], sort=False):
        exited = g[g["exit_tick"].notna()]
        n, m, h = mean_ci(exited["relapse_ratio"])
        ratio = exited["relapse_ratio"].dropna()
        before = exited["violence_before_exit"].mean()
        after = exited["violence_after_exit"].mean()
        rows.append({"context": ctx, "arm": arm, "runs": len(g), "exited": len(exited),
                     "exit_tick_median": exited["exit_tick"].median(),
                     "violence_before": before, "violence_after": after,
                     "ratio_of_means": after / before if before > 0 else math.nan,
                     "ratio_n": n, "ratio_mean": m, "ratio_lo": m - h, "ratio_hi": m + h,
                     "share_relapsed": float((ratio > 1).mean()) if len(ratio) else math.nan})
    return pd.DataFrame(rows)


def headline_table(table: pd.DataFrame, diff: pd.DataFrame, ce: pd.DataFrame,
                   arms: list[str], reference: str, outcome: str) -> pd.DataFrame:
    """Per context: the best arm on ``outcome`` (by its mean, in its better direction) and
    its comparison with the reference, every number taken from the difference and
    cost-effectiveness tables (so the headline and the tables cannot disagree). When the
    reference itself is best, the comparison is with the best alternative."""
    rows = []
    lower = oc.better(outcome) != "higher"
    for ctx, t in table[table["outcome"] == outcome].groupby("context", sort=False):
        t = t.set_index("arm").reindex([a for a in arms if a in set(t["arm"])])
        t = t[t["mean"].notna()]
        if t.empty:
            continue
        order = t["mean"].sort_values(ascending=lower, kind="stable")
        best = str(order.index[0])
        best_is_ref = t.at[best, "strategy"] == reference
        d = diff[(diff["context"] == ctx) & (diff["outcome"] == outcome)] if len(diff) \
            else diff
        row: dict[str, Any] = {"context": ctx, "outcome": outcome, "best": best,
                               "best_is_reference": bool(best_is_ref),
                               "best_mean": t.at[best, "mean"], "best_lo": t.at[best, "lo"],
                               "best_hi": t.at[best, "hi"], "reference": reference}
        if d is not None and len(d):
            if best_is_ref:
                alt = [a for a in order.index if a in set(d["arm"])]
                compared = alt[0] if alt else None
            else:
                compared = best
            if compared is not None:
                x = d[d["arm"] == compared].iloc[0]
                row.update(compared=compared, n=int(x["n"]), diff=x["diff"], lo=x["lo"],
                           hi=x["hi"], rel=x["rel"], rel_lo=x["rel_lo"],
                           rel_hi=x["rel_hi"], ref_mean=x["ref_mean"],
                           clear=int(x["clear"]))
                for extra, prefix in (("casualties_per_100k", "per100k"),
                                      (oc.COST, "cost")):
                    dd = diff[(diff["context"] == ctx) & (diff["outcome"] == extra)
                              & (diff["arm"] == compared)]
                    if len(dd):
                        y = dd.iloc[0]
                        row.update({f"{prefix}_diff": y["diff"], f"{prefix}_lo": y["lo"],
                                    f"{prefix}_hi": y["hi"], f"{prefix}_rel": y["rel"]})
                if len(ce):
                    cc = ce[(ce["context"] == ctx) & (ce["arm"] == compared)]
                    if len(cc):
                        y = cc.iloc[0]
                        row.update(cost_differs=bool(y["cost_differs"]),
                                   per_1000=y["per_1000"], per_1000_lo=y["per_1000_lo"],
                                   per_1000_hi=y["per_1000_hi"], verdict=y["verdict"])
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- figures


def _figure(width: float, height: float) -> MplFigure:
    fig = MplFigure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _colours(strategies: list[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return {s: cmap(i % 10) for i, s in enumerate(strategies)}


def _grid(n: int, cols: int = 2) -> tuple[int, int]:
    cols = min(n, cols)
    return math.ceil(n / cols), cols


def pareto_figure(table: pd.DataFrame, dominance: pd.DataFrame, contexts: list[str],
                  arms: list[str]) -> MplFigure:
    """Civilian casualties against troop-weeks, coloured by economy, with 95% CIs as error
    bars; efficient arms (dominated by no other with confidence) are ringed, dominated ones
    faded. With more than ``NAMED_POINTS`` arms, points carry their arm's number."""
    rows, cols = _grid(len(contexts))
    fig = _figure(6.5 * cols + 1.2, 4.6 * rows)
    wide = table.pivot_table(index=["context", "arm"], columns="outcome",
                             values=["mean", "half"], sort=False)
    econ = wide["mean"]["final_economy"]
    norm = Normalize(float(econ.min()), float(econ.max()) + 1e-12)
    sc = None
    cas, cost = oc.outcome(oc.HEADLINE), oc.outcome(oc.COST)
    for i, ctx in enumerate(contexts):
        ax = fig.add_subplot(rows, cols, i + 1)
        w = wide.loc[ctx].reindex([a for a in arms if a in wide.loc[ctx].index])
        m, h = w["mean"], w["half"]
        dom = dominance[dominance["context"] == ctx].set_index("arm")["efficient"]
        eff = np.array([bool(dom.get(a, False)) for a in w.index])
        ax.errorbar(m[oc.COST], m[oc.HEADLINE], yerr=h[oc.HEADLINE], xerr=h[oc.COST],
                    fmt="none", ecolor="#888888", lw=0.9, capsize=2, zorder=1)
        for sel, alpha in ((eff, 1.0), (~eff, 0.35)):
            if sel.any():
                sc = ax.scatter(m[oc.COST][sel], m[oc.HEADLINE][sel],
                                c=m["final_economy"][sel], cmap="viridis", norm=norm, s=80,
                                zorder=2, alpha=alpha,
                                edgecolors="black" if alpha == 1 else "none",
                                linewidths=2.0 if alpha == 1 else 0)
        for arm, x, y, e in zip(w.index, m[oc.COST], m[oc.HEADLINE], eff, strict=True):
            text = arm if len(arms) <= NAMED_POINTS else str(arms.index(arm) + 1)
            ax.annotate(text, (x, y), xytext=(5, 4), textcoords="offset points",
                        fontsize=7, fontweight="bold" if e else "normal",
                        alpha=1 if e else 0.6)
        ax.set_title(ctx)
        ax.set_xlabel(f"{cost.axis}: cost, lower is better", fontsize=8)
        ax.set_ylabel(f"{cas.axis}, lower is better", fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle("Trade-offs: means with 95% intervals. Ringed: efficient (no other strategy "
                 "is clearly better on one of casualties, economy, troop-weeks and not clearly "
                 "worse on any); faded: dominated with confidence", fontsize=9, wrap=True)
    fig.subplots_adjust(left=0.08, right=0.84, top=0.86, bottom=0.1, hspace=0.4, wspace=0.3)
    if sc is not None:
        from matplotlib.cm import ScalarMappable

        cbar = fig.colorbar(ScalarMappable(norm=norm, cmap="viridis"),
                            cax=fig.add_axes((0.88, 0.15, 0.015, 0.65)))
        cbar.set_label(f"{oc.outcome('final_economy').axis}, higher is better", fontsize=8)
    return fig


def distribution_figure(runs: pd.DataFrame, key: str, contexts: list[str], arms: list[str]
                        ) -> MplFigure:
    """Box plot of one outcome per arm (every run a dot), one panel per context."""
    o = oc.outcome(key)
    rows, cols = _grid(len(contexts))
    fig = _figure(5.2 * cols + 2.4, (0.32 * len(arms) + 1.3) * rows + 0.5)
    rng = np.random.default_rng(0)
    for i, ctx in enumerate(contexts):
        ax = fig.add_subplot(rows, cols, i + 1)
        c = runs[runs["context"] == ctx]
        present = [a for a in arms if a in set(c["arm"])][::-1]
        data = [c.loc[c["arm"] == a, key].dropna().to_numpy(float) for a in present]
        keep = [j for j, d in enumerate(data) if len(d)]
        if keep:
            ax.boxplot([data[j] for j in keep], positions=keep, orientation="horizontal",
                       widths=0.55, showfliers=False, medianprops={"color": "#1f4e79"})
            for j in keep:
                ax.scatter(data[j], j + rng.uniform(-0.15, 0.15, len(data[j])), s=9,
                           color="#444444", alpha=0.5, zorder=3)
        ax.set_yticks(range(len(present)))
        ax.set_yticklabels(present if i % cols == 0 else [""] * len(present), fontsize=7)
        ax.set_ylim(-0.7, len(present) - 0.3)
        ax.set_title(ctx, fontsize=9)
        ax.set_xlabel(o.axis, fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(alpha=0.3, axis="x")
    better = f" ({o.better} is better)" if o.better else ""
    fig.suptitle(f"{o.label}{better}: every run (dots) and box plot per strategy",
                 fontsize=9)
    height = fig.get_figheight()
    fig.subplots_adjust(left=0.25 if cols == 1 else 0.17, right=0.97, top=1 - 0.6 / height,
                        bottom=0.5 / height, hspace=0.55, wspace=0.1)
    return fig


def difference_figure(diff: pd.DataFrame, outcomes: list[str], contexts: list[str],
                      arms: list[str], reference: str) -> MplFigure:
    """Differences from the reference: paired 95% CI (thick) and unpaired (thin)."""
    arms = [a for a in arms if a in set(diff["arm"])]
    fig = _figure(3.8 * len(contexts) + 2.8, 0.35 * len(arms) * len(outcomes) + 1.2
                  * len(outcomes) + 0.6)
    for i, o in enumerate(outcomes):
        for j, ctx in enumerate(contexts):
            ax = fig.add_subplot(len(outcomes), len(contexts), i * len(contexts) + j + 1)
            d = diff[(diff["context"] == ctx) & (diff["outcome"] == o)].set_index("arm")
            d = d.reindex([a for a in arms if a in d.index])
            y = np.arange(len(d))[::-1].astype(float)
            ax.errorbar(d["diff"], y - 0.2, xerr=d["half_unpaired"], fmt="none",
                        ecolor="#999999", lw=1.0, capsize=2)
            if d["half_paired"].notna().any():
                ax.errorbar(d["diff"], y, xerr=d["half_paired"], fmt="o", color="#1f4e79",
                            lw=2.5, ms=4)
            else:
                ax.plot(d["diff"], y, "o", color="#1f4e79", ms=4)
            ax.axvline(0, color="black", lw=0.8)
            ax.set_yticks(y)
            ax.set_yticklabels(d.index if j == 0 else [""] * len(d), fontsize=7)
            ax.tick_params(axis="x", labelsize=7)
            if i == 0:
                ax.set_title(ctx, fontsize=9)
            if j == len(contexts) - 1:
                ax.yaxis.set_label_position("right")
                ax.set_ylabel(oc.label(o), fontsize=7)
            ax.set_xlabel(f"difference ({oc.outcome(o).unit})" if oc.outcome(o).unit
                          else "difference", fontsize=7)
    fig.suptitle(f"Difference from {reference}: 95% interval paired on the seeds (dark) and "
                 "the unpaired one the same runs would give (grey)", fontsize=9)
    fig.subplots_adjust(left=0.22, right=0.93, top=0.93, bottom=0.05, hspace=0.9,
                        wspace=0.15)
    return fig


def envelope_figure(env: pd.DataFrame, metric: str, contexts: list[str],
                    strategies: list[str], by: str | None, levels: list[Any],
                    marks: pd.DataFrame | None = None, time_unit: str = "week") -> MplFigure:
    """Median and 5-95% band over runs, per strategy; one row of panels per context (and one
    column per level of ``by``). The drawdown start (grey dotted) and the median exit week
    (dashed, in the strategy's colour) are marked on every panel."""
    o = oc.outcome(metric)
    ncols = max(len(levels), 1)
    width = 4.2 * ncols + 2.6
    fig = _figure(width, 2.8 * len(contexts) + 0.7)
    colours = _colours(strategies)
    for i, ctx in enumerate(contexts):
        for j, level in enumerate(levels or [None]):
            ax = fig.add_subplot(len(contexts), ncols, i * ncols + j + 1)
            e = env[(env["context"] == ctx) & (env["metric"] == metric)]
            mk = marks[marks["context"] == ctx] if marks is not None and len(marks) else None
            if by is not None:
                e = e[e["level"] == level]
                if mk is not None:
                    mk = mk[mk["level"] == level]
            for s in strategies:
                es = e[e["strategy"] == s]
                if es.empty:
                    continue
                ax.fill_between(es["tick"], es["q05"], es["q95"], color=colours[s],
                                alpha=0.15, lw=0)
                ax.plot(es["tick"], es["q50"], color=colours[s], lw=1.3, label=s)
            if mk is not None and len(mk):
                for start in sorted(mk["drawdown_start"].dropna().unique()):
                    ax.axvline(start, color="#555555", ls=":", lw=1.2)
                for _, x in mk.dropna(subset=["exit_median"]).iterrows():
                    if x["strategy"] in colours:
                        ax.axvline(x["exit_median"], color=colours[x["strategy"]], ls="--",
                                   lw=1.0, alpha=0.9)
            title = ctx if by is None else f"{ctx}, {oc.factor_label(by)} = {fmt(level)}"
            ax.set_title(title, fontsize=9)
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=7)
            if i == len(contexts) - 1:
                ax.set_xlabel(time_unit, fontsize=8)
            if j == 0:
                ax.set_ylabel(o.unit or o.label, fontsize=8)
    handles, labels = fig.axes[0].get_legend_handles_labels() if fig.axes else ([], [])
    if marks is not None and len(marks) and marks["drawdown_start"].notna().any():
        handles.append(Line2D([], [], color="#555555", ls=":"))
        labels.append("drawdown starts")
    if marks is not None and len(marks) and marks["exit_median"].notna().any():
        handles.append(Line2D([], [], color="#555555", ls="--"))
        labels.append(f"exit (median {time_unit})")
    right = 1 - 2.5 / width
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(right + 0.02, 0.5),
               fontsize=8, frameon=False)
    better = f", {o.better} is better" if o.better else ""
    height = fig.get_figheight()
    fig.suptitle(f"{o.label} ({o.unit}{better})\nmedian run (line) and middle 90% of runs "
                 "(band)", fontsize=10)
    fig.subplots_adjust(left=0.1, right=right, top=1 - 0.75 / height, bottom=0.5 / height,
                        hspace=0.5, wspace=0.3)
    return fig


# --------------------------------------------------------------------------- loading


def _experiment_settings(out: Path) -> dict[str, Any]:
    try:
        return tomllib.loads((out / EXPERIMENT_COPY).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def envelopes(out: Path, runs: pd.DataFrame, design: pd.DataFrame, metrics: list[str],
              by: str | None) -> pd.DataFrame:
    """Quantiles (5, 50, 95%) per context, strategy, level of ``by`` and tick; one context
    read at a time. Cumulative metrics (civilian casualties) are summed over ticks per run
    first, and expressed per 100,000 residents when the run's population is known."""
    parts = []
    done_keys = set(runs["key"])
    once = runs.drop_duplicates("key").set_index("key")
    pop = oc.residents_at_start(once)  # counts of residents per 100,000 residents = people
    for ctx in runs["context"].unique():
        rows = design[(design["context"] == ctx) & design["key"].isin(done_keys)]
        ts = read_timeseries(out, rows, columns=metrics)
        if ts.empty:
            continue
        group = ["strategy", "tick"] if by is None else ["strategy", by, "tick"]
        ts = ts.sort_values(["run_id", "tick"], kind="stable") if "run_id" in ts else ts
        for m in metrics:
            if m not in ts:
                continue
            if oc.outcome(m).cumulative:
                runs_of = "run_id" if "run_id" in ts else "key"
                ts[m] = ts.groupby(runs_of)[m].cumsum().astype(float)
                if pop is not None:
                    ts[m] = ts[m] * oc.PER / ts["key"].map(pop).astype(float)
            q = ts.groupby(group)[m].quantile([0.05, 0.5, 0.95]).unstack()
            q.columns = ["q05", "q50", "q95"]
            q = q.reset_index()
            q.insert(0, "metric", m)
            q.insert(0, "context", ctx)
            if by is not None:
                q = q.rename(columns={by: "level"})
            parts.append(q)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _drawdown_starts(out: Path, manifest: dict[str, Any], design: pd.DataFrame
                     ) -> pd.DataFrame:
    """``mission.drawdown_start`` per design row: the factor column when the design varies
    it, else resolved from the experiment file (when it is still where the sweep read it and
    unchanged), else the experiment's ``set``; NaN when unknown or absent."""
    key = "mission.drawdown_start"
    cells = design[["context", "strategy", "point"]].copy()
    if key in design:
        return cells.assign(drawdown_start=pd.to_numeric(design[key], errors="coerce"))
    starts: dict[tuple[str, str], Any] = {}
    try:
        from sim.config.experiment import load_experiment, scenario_inputs
        from sim.config.scenario import build_scenario

        exp = load_experiment(manifest.get("experiment_file", ""))
        if exp.sha256 != manifest.get("experiment_sha256"):
            raise ValueError("experiment file changed since the sweep")
        for ctx, strat in cells[["context", "strategy"]].drop_duplicates().itertuples(
                index=False):
            sc = build_scenario(*scenario_inputs(exp, ctx, strat))
            starts[(ctx, strat)] = getattr(getattr(sc, "mission", None), "drawdown_start",
                                           None)
    except Exception:  # moved or edited files: fall back to the copy's [set]
        value = (_experiment_settings(out).get("set") or {}).get(key)
        starts = {(c, s): value for c, s in
                  cells[["context", "strategy"]].drop_duplicates().itertuples(index=False)}
    values = [starts.get((c, s)) for c, s in cells[["context", "strategy"]].itertuples(
        index=False)]
    return cells.assign(drawdown_start=pd.to_numeric(pd.Series(values, index=cells.index,
                                                               dtype=object),
                                                     errors="coerce"))


def mission_marks(runs: pd.DataFrame, starts: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """Per context, strategy (and level of ``by``): the drawdown start and the median exit
    week over the runs that exited (NaN when none did)."""
    group = ["context", "strategy"] + (["level"] if by else [])
    r = runs.merge(starts.drop_duplicates(["context", "strategy", "point"]),
                   on=["context", "strategy", "point"], how="left")
    if by:
        r = r.assign(level=r[by])
    if "exit_tick" not in r:
        r = r.assign(exit_tick=np.nan)
    return r.groupby(group, sort=False).agg(
        drawdown_start=("drawdown_start", "min"),
        exit_median=("exit_tick", "median")).reset_index()


# --------------------------------------------------------------------------- the comparison


@dataclass
class CompareResult:
    """What :func:`compare` wrote and computed: the report files, every table (as data
    frames and as CSV files) and the figures."""

    folder: Path
    report_md: Path
    report_html: Path
    tables: dict[str, pd.DataFrame]
    table_files: dict[str, Path]
    figures: dict[str, Path]

    @property
    def headline(self) -> pd.DataFrame:
        return self.tables.get("headline", pd.DataFrame())


@dataclass
class Comparison:
    """A loaded sweep and its statistics: what the section builders read."""

    out: Path
    manifest: dict[str, Any]
    design: pd.DataFrame
    settings: dict[str, Any]
    runs: pd.DataFrame
    contexts: list[str]
    strategies: list[str]
    arms: list[str]
    factors: list[str]
    reference: str
    paired: bool
    key_outcomes: list[str]
    more_outcomes: list[str]
    headline_outcome: str
    thresholds: dict[str, Any] = field(default_factory=dict)  #: [robustness] thresholds
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    robust: rb.Robustness | None = None  #: robustness across futures (None: not computed)
    shown: set[str] = field(default_factory=set)  # outcomes the glossary must define

    @property
    def peacekeeping(self) -> bool:
        return "casualties_total" in self.runs

    @property
    def tick_text(self) -> str:
        """What a tick is, for the reader."""
        return ("one tick of the model is one week" if self.peacekeeping else
                "one tick is one cycle of the model (abstract time in the Epstein scenarios)")

    def cell(self, name: str, ctx: str, arm: str, outcome: str, signed: bool = False,
             bold_clear: bool = False) -> tuple[str, float]:
        """A table cell ``mean (lo to hi)`` and its sort key, from table ``name``."""
        t = self.tables[name]
        x = t[(t["context"] == ctx) & (t["arm"] == arm) & (t["outcome"] == outcome)]
        if x.empty:
            return "–", math.nan
        x = x.iloc[0]
        m = x["diff"] if "diff" in x else x["mean"]
        if x["n"] == 0:
            return oc.outcome(outcome).missing, math.nan
        text = oc.fmt_value_ci(outcome, m, x["lo"], x["hi"], signed=signed)
        if bold_clear and x.get("clear", 0):
            text = f"**{text}**"
        if x["n"] < x["runs"]:
            text += f" [{int(x['n'])} of {int(x['runs'])} runs]"
        return text, float(m)


def _thresholds(out: Path, given: dict[str, Any] | None) -> dict[str, Any]:
    """Robustness thresholds: ``given`` (from Python), else the experiment copy's
    ``[robustness] thresholds``; checked with the experiment schema either way."""
    from pydantic import ValidationError

    from sim.config.experiment import RobustnessSpec, format_experiment_error

    raw = ({"thresholds": given} if given is not None else
           _experiment_settings(out).get("robustness", {}))
    try:
        spec = RobustnessSpec.model_validate(raw)
    except ValidationError as exc:
        source = "thresholds" if given is not None else str(out / EXPERIMENT_COPY)
        raise StoreError(format_experiment_error(exc, source, RobustnessSpec,
                                                 "robustness table")) from None
    return {k: {t.side: t.value} for k, t in spec.thresholds.items()}


def load_comparison(sweep_dir: str | Path, reference: str | None = None,
                    outcomes: list[str] | None = None, headline: str | None = None,
                    thresholds: dict[str, Any] | None = None) -> Comparison:
    """Read a sweep and check the options; :class:`StoreError` for anything unusable."""
    out = Path(sweep_dir)
    manifest, design = open_store(out)
    settings = _experiment_settings(out).get("report", {})
    limits = _thresholds(out, thresholds)
    runs = read_summaries(out, design)
    if runs.empty:
        raise StoreError(f"{out}: no finished runs yet (run or resume the sweep first)")
    runs = oc.add_derived(runs)
    strategies = list(dict.fromkeys(design["strategy"]))
    contexts = [c for c in dict.fromkeys(design["context"]) if c in set(runs["context"])]
    reference = reference or settings.get("reference") or strategies[0]
    if reference not in strategies:
        raise StoreError(f"--reference {reference}: not a strategy of this sweep "
                         f"({', '.join(strategies)})")
    factors = list(manifest.get("factors") or [])
    by_point = manifest.get("design") == "full_factorial"
    runs, arms = add_arms(runs, factors, by_point, strategies)

    available = oc.numeric_outcomes(runs, exclude=tuple(factors))
    peacekeeping = "casualties_total" in available
    wanted = list(outcomes or settings.get("outcomes") or [])
    missing = [o for o in wanted if o not in available]
    if missing:
        raise StoreError(f"outcomes {', '.join(missing)}: not outcomes of this sweep "
                         f"(available: {', '.join(available)})")
    defaults = oc.KEY_OUTCOMES if peacekeeping else oc.EPSTEIN_OUTCOMES
    key = wanted or [o for o in defaults if o in available]
    more = [o for o in (*oc.KEY_OUTCOMES, *oc.MORE_OUTCOMES, *oc.EPSTEIN_OUTCOMES)
            if o in available and o not in key]
    if headline is None:
        headline = oc.HEADLINE if oc.HEADLINE in key else next(
            (o for o in key if oc.better(o)), key[0] if key else None)
    if headline not in available:
        raise StoreError(f"--headline {headline}: not an outcome of this sweep "
                         f"(available: {', '.join(available)})")
    if headline not in key:
        key = [headline, *key]
        more = [o for o in more if o != headline]
    return Comparison(out=out, manifest=manifest, design=design, settings=settings, runs=runs,
                      contexts=contexts, strategies=strategies, arms=arms, factors=factors,
                      reference=reference, paired=manifest.get("seed_policy") == "common",
                      key_outcomes=key, more_outcomes=more, headline_outcome=headline,
                      thresholds=limits)


def compute(cmp: Comparison) -> None:
    """Fill ``cmp.tables``: outcomes, differences, cost-effectiveness, pairwise, dominance,
    ranking, relapse, headline."""
    runs, everything = cmp.runs, [*cmp.key_outcomes, *cmp.more_outcomes]
    t = cmp.tables
    t["outcomes"] = outcome_table(runs, everything)
    several = len(cmp.strategies) > 1
    t["differences"] = (difference_table(runs, everything, cmp.reference, cmp.paired)
                        if several else pd.DataFrame())
    has_cost = cmp.peacekeeping and oc.COST in runs and several
    t["cost_effectiveness"] = (cost_effectiveness_table(runs, cmp.reference, cmp.paired)
                               if has_cost else pd.DataFrame())
    pareto = all(o in runs for o in oc.PARETO) and len(cmp.arms) > 1
    if pareto:
        t["pairwise"] = pairwise_table(runs, cmp.arms, oc.PARETO, cmp.paired)
        t["dominance"] = dominance_table(t["pairwise"], t["outcomes"], cmp.arms, oc.PARETO)
    t["ranking"] = ranking_table(t["outcomes"], cmp.key_outcomes)
    exited = "exit_tick" in runs and runs["exit_tick"].notna().any()
    t["relapse"] = relapse_table(runs) if exited else pd.DataFrame()
    t["headline"] = headline_table(t["outcomes"], t["differences"], t["cost_effectiveness"],
                                   cmp.arms, cmp.reference, cmp.headline_outcome)
    compute_robustness(cmp)


def robustness_outcomes(cmp: Comparison) -> list[str]:
    """Outcomes whose regret the report shows: the key outcomes with a better direction
    (less the per-100,000 rate when the count is there: the same ranking)."""
    keys = [o for o in cmp.key_outcomes if oc.better(o) in ("lower", "higher")]
    return [o for o in keys if o not in RANK_SKIP or oc.HEADLINE not in keys]


def compute_robustness(cmp: Comparison) -> None:
    """Robustness across futures (:mod:`sim.experiments.robustness`) when several strategies
    met two or more futures; its tables join ``cmp.tables``."""
    if len(cmp.strategies) < 2:
        return
    futures = cmp.runs[["context", "point"]].drop_duplicates()
    if len(futures) < 2:
        return
    keys = list(dict.fromkeys([*robustness_outcomes(cmp), *cmp.more_outcomes]))
    keys = [k for k in keys if k in cmp.runs and not oc.outcome(k).binary]
    cmp.robust = r = rb.robustness(cmp.runs, cmp.strategies, keys, cmp.thresholds)
    if r.n_futures < 2:
        cmp.robust = None
        return
    cmp.tables["regret"] = r.regret
    cmp.tables["satisficing"] = r.satisficing
    cmp.tables["outcome_percentiles"] = r.percentiles
    cmp.tables["future_means"] = r.futures


# --------------------------------------------------------------------------- sections

Section = Callable[[Comparison, Document], None]


def _is_nan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def headline_paragraphs(cmp: Comparison, h: pd.Series) -> tuple[str, list[str]]:
    """(title, paragraphs) of one context's headline, every number from the headline table
    (formatted exactly as in the tables)."""
    o = oc.outcome(h["outcome"])
    unit = o.unit or "units"
    best, ref = h["best"], cmp.reference
    if "compared" not in h or _is_nan(h.get("compared")):
        only = fmt_ci(h["best_mean"], h["best_lo"], h["best_hi"])
        return (f"{h['context']}: {best}",
                [f"**{best}**: {o.label.lower()} {only} {unit} per run (mean, 95% "
                 "interval). Only one strategy ran, so there is nothing to compare."])
    comp = h["compared"]
    diff_txt = fmt_ci(h["diff"], h["lo"], h["hi"], signed=True)
    rel_txt = (f"{fmt_pct(h['rel'])} ({fmt_pct(h['rel_lo'])} to {fmt_pct(h['rel_hi'])})"
               if not _is_nan(h.get("rel")) else "–")
    per = ""
    if not _is_nan(h.get("per100k_diff")):
        per = (f"; per 100,000 residents "
               f"{fmt_ci(h['per100k_diff'], h['per100k_lo'], h['per100k_hi'], signed=True)}")
    n = int(h["n"])
    if h["best_is_reference"]:
        title = f"{h['context']}: the reference, {ref}, is best on {o.label.lower()}"
        effect = (f"**{ref}** (the reference) had the best {o.label.lower()}: "
                  f"{fmt_ci(h['best_mean'], h['best_lo'], h['best_hi'])} {unit} per run. "
                  f"The best alternative, **{comp}**, differed by {diff_txt} {unit} per run "
                  f"(mean paired difference, 95% interval{per}), that is {rel_txt}.")
    else:
        title = f"{h['context']}: {best} is best on {o.label.lower()}"
        effect = (f"**{best}** had {fmt_ci(h['best_mean'], h['best_lo'], h['best_hi'])} "
                  f"{unit} per run. Against the reference, {ref}: {diff_txt} {unit} per run "
                  f"(mean paired difference, 95% interval{per}), that is {rel_txt}.")
    paras = [effect]
    if not _is_nan(h.get("cost_diff")):
        cost_txt = fmt_ci(h["cost_diff"], h["cost_lo"], h["cost_hi"], signed=True)
        small = h["cost_lo"] > 0 or h["cost_hi"] < 0
        how = ("dearer" if h["cost_diff"] > 0 else "cheaper") if h.get("cost_differs") else (
            f"about the same cost (a clear difference, but under {oc.SAME_COST:.0%})"
            if small else "about the same cost (the difference is within the noise)")
        cost = (f"Cost: {cost_txt} troop-weeks against {ref} "
                f"({fmt_pct(h['cost_rel'])}), {how}.")
        if h.get("cost_differs") and not _is_nan(h.get("per_1000")):
            cost += (f" That is {fmt_ci(h['per_1000'], h['per_1000_lo'], h['per_1000_hi'])} "
                     "civilian casualties averted per 1,000 additional troop-weeks "
                     "(see [cost-effectiveness](#cost-effectiveness)).")
        if h.get("verdict"):
            cost += f" In short, {comp} {h['verdict']}."
        paras.append(cost)
    who = comp if h["best_is_reference"] else best
    if h["clear"] != 0:
        sure = (f"How sure: the 95% interval of the difference excludes zero, so with "
                f"{n} paired runs (same seeds) the gap between {who} and {ref} is very "
                "unlikely to be chance; its size is known only within the interval.")
    else:
        sure = (f"How sure: not sure. The 95% interval includes zero, so these {n} paired "
                f"runs cannot tell {who} and {ref} apart on {o.label.lower()}; more "
                "replications would narrow the interval.")
    if not cmp.paired:
        sure = sure.replace(" paired runs (same seeds)", " runs per strategy").replace(
            " paired runs", " runs per strategy")
    paras.append(sure)
    return title, paras


def section_headline(cmp: Comparison, doc: Document) -> None:
    doc.h(2, "Headline", "headline")
    o = oc.outcome(cmp.headline_outcome)
    doc.p(f"The best strategy in each context on **{o.label.lower()}** "
          f"({o.unit or o.label.lower()} per run), compared with the "
          f"reference strategy **{cmp.reference}**. {cmp.tick_text.capitalize()}; "
          "numbers are per run unless stated. Terms: see "
          "[how to read this report](#how-to-read).")
    cmp.shown.update({cmp.headline_outcome, "casualties_per_100k", oc.COST})
    for _, h in cmp.tables["headline"].iterrows():
        title, paras = headline_paragraphs(cmp, h)
        doc.add(Box(title, paras))
    doc.p("The contexts are stylised and uncalibrated: these are statements about the "
          "model, to be read as reasons to look closer, not as forecasts.")


def section_glossary(cmp: Comparison, doc: Document) -> None:
    doc.h(2, "How to read this report", "how-to-read")
    m = cmp.manifest
    ticks = sorted(int(t) for t in cmp.design["ticks"].unique())
    length = (", ".join(f"{t} weeks ({t / 52:.1f} years)" for t in ticks) if cmp.peacekeeping
              else ", ".join(f"{t} ticks" for t in ticks))
    doc.p(f"**Time**: {cmp.tick_text}; these runs last {length}. "
          f"**Runs**: {len(cmp.runs)} finished, {m.get('replications')} per strategy and "
          f"context{' and design point' if cmp.factors else ''}; "
          + ("every strategy ran from the same seeds, so differences are paired."
             if cmp.paired else "seeds are independent, so differences are unpaired."))
    terms = ["tick", "run", "arm", "reference", "mean", "ci", "paired", "unpaired",
             "significant", "relative", "bootstrap", "ce", "dominated", "box", "envelope",
             "rank", "drawdown"]
    if not cmp.paired:
        terms.remove("paired")
    if not cmp.peacekeeping:
        terms.remove("drawdown")
    if cmp.tables.get("cost_effectiveness") is None or cmp.tables["cost_effectiveness"].empty:
        terms.remove("ce")
    if "dominance" not in cmp.tables:
        terms.remove("dominated")
    if cmp.robust is not None:
        terms += ["future", "regret"] + (["satisficing"] if cmp.robust.rules else [])
    doc.add(Glossary([(f"term-{k}", *oc.TERMS[k]) for k in terms]))
    doc.h(3, "Outcomes", "outcome-definitions")
    shown = [*cmp.key_outcomes, *cmp.more_outcomes]
    doc.add(Table(["outcome", "unit", "better", "what it counts"],
                  [[oc.label(k), oc.outcome(k).unit, oc.better(k) or "–",
                    oc.outcome(k).what or f"`{k}`"] for k in shown]))
    doc.p("Time series (section [over time](#over-time)), week by week:")
    doc.add(Bullets([f"**{oc.METRICS[k].label}** ({oc.METRICS[k].unit}): "
                     f"{oc.METRICS[k].what}" for k in ENVELOPE_METRICS
                     if k != "active" or not cmp.peacekeeping]))


def _arm_rows(cmp: Comparison, ctx: str, name: str, keys: list[str], signed: bool = False,
              bold_clear: bool = False) -> list[list[Any]]:
    t = cmp.tables[name]
    present = set(t.loc[t["context"] == ctx, "arm"])
    return [[a, *(cmp.cell(name, ctx, a, k, signed, bold_clear) for k in keys)]
            for a in cmp.arms if a in present]


def section_outcomes(cmp: Comparison, doc: Document) -> None:
    doc.h(2, "Key outcomes", "key-outcomes")
    n = cmp.tables["outcomes"]["runs"]
    runs = f"{int(n.min())}" if n.min() == n.max() else f"{int(n.min())}-{int(n.max())}"
    doc.p(f"Each cell: the mean over the {runs} runs of the strategy and, in brackets, its "
          "95% interval. An outcome missing in some runs (weeks to stability: the run never "
          "got there) averages the runs that have it and says how many. Click a column "
          "header in the HTML report to sort.")
    keys = cmp.key_outcomes
    for ctx in cmp.contexts:
        doc.h(3, ctx, f"outcomes-{ctx}")
        doc.add(Table(["strategy", *(oc.outcome(k).header for k in keys)],
                      _arm_rows(cmp, ctx, "outcomes", keys),
                      notes=["", *(f"{oc.outcome(k).unit}: {oc.outcome(k).what}"
                                   for k in keys)]))
    doc.h(3, "Distributions", "distributions")
    doc.p("How the runs spread, not just their mean: "
          + oc.TERMS["box"][1])
    for k in keys:
        fig = distribution_figure(cmp.runs, k, cmp.contexts, cmp.arms)
        doc.add(Figure(f"distribution_{k}.png", png_bytes(fig), oc.label(k)))


def section_differences(cmp: Comparison, doc: Document) -> None:
    doc.h(2, f"Differences from {cmp.reference}", "differences")
    diff = cmp.tables["differences"]
    if diff.empty:
        doc.p("Only one strategy: nothing to compare.")
        return
    if cmp.paired:
        doc.p(f"Each cell: strategy minus **{cmp.reference}**, the mean of the paired "
              "differences (runs matched by seed) and its 95% interval. **Bold**: a clear "
              "difference (the interval excludes zero); otherwise the difference is within "
              "the noise. Signs: a negative number means less of the outcome than the "
              "reference.")
        ratio = diff["ratio"].replace([np.inf], np.nan).dropna()
        if len(ratio):
            w = float(ratio.median())
            effect = (f"made them {fmt_pct(1 - w, signed=False)} narrower" if w < 0.97 else
                      f"made them {fmt_pct(w - 1, signed=False)} wider" if w > 1.03 else
                      "hardly changed their width")
            doc.p(f"Pairing: compared with the intervals unmatched runs would give (grey "
                  f"bars in the figure), matching runs by seed {effect} (median over all "
                  "comparisons). It helps when an outcome depends on the shared start "
                  "(the same map and people) more than on what happens later.")
    else:
        doc.p("Seeds are independent (`seed_policy = \"independent\"`), so runs cannot be "
              "matched: each cell is the difference of the means with Welch's 95% interval. "
              "**Bold**: the interval excludes zero.")
    keys = cmp.key_outcomes
    for ctx in cmp.contexts:
        doc.h(3, ctx, f"differences-{ctx}")
        doc.add(Table(["strategy", *(f"{oc.label(k)} ({oc.outcome(k).unit})" if
                                     oc.outcome(k).unit else oc.label(k) for k in keys)],
                      _arm_rows(cmp, ctx, "differences", keys, signed=True,
                                bold_clear=True)))
        rel = []
        for a in cmp.arms:
            d = diff[(diff["context"] == ctx) & (diff["arm"] == a)].set_index("outcome")
            if d.empty:
                continue
            rel.append([a, *((f"{fmt_pct(d.at[k, 'rel'])} ({fmt_pct(d.at[k, 'rel_lo'])} to "
                              f"{fmt_pct(d.at[k, 'rel_hi'])})", float(d.at[k, "rel"]))
                             if k in d.index and not _is_nan(d.at[k, "rel"]) else "–"
                             for k in keys)])
        doc.add(Table(["strategy", *(oc.label(k) for k in keys)], rel,
                      caption=f"Relative change against {cmp.reference} (difference / "
                              "reference mean; bootstrap 95% interval)."))
    fig = difference_figure(diff, keys, cmp.contexts, cmp.arms, cmp.reference)
    doc.add(Figure("differences.png", png_bytes(fig), "differences"))


def section_cost(cmp: Comparison, doc: Document) -> None:
    ce = cmp.tables["cost_effectiveness"]
    if ce.empty:
        return
    doc.h(2, "Cost-effectiveness", "cost-effectiveness")
    doc.p(f"Civilian casualties averted and troop-weeks spent against **{cmp.reference}**, "
          "per run. When the troop-weeks really differ, the last column gives the casualties "
          "averted per 1,000 additional troop-weeks by the dearer of the two strategies "
          "(a bootstrap 95% interval over the paired runs): the higher, the more each extra "
          f"troop-week buys. {oc.TERMS['ce'][1]}")
    for ctx in cmp.contexts:
        c = ce[ce["context"] == ctx].set_index("arm")
        rows = []
        for a in cmp.arms:
            if a not in c.index:
                continue
            x = c.loc[a]
            ratio = (fmt_ci(x["per_1000"], x["per_1000_lo"], x["per_1000_hi"])
                     if x["cost_differs"] else "– (same cost)")
            rows.append([a, (fmt_ci(x["averted"], x["averted_lo"], x["averted_hi"],
                                    signed=True), float(x["averted"])),
                         (fmt_ci(x["extra_cost"], x["extra_cost_lo"], x["extra_cost_hi"],
                                 signed=True), float(x["extra_cost"])),
                         (ratio, float(x["per_1000"])), x["verdict"]])
        doc.h(3, ctx, f"cost-{ctx}")
        doc.add(Table(["strategy", "casualties averted (civilians)",
                       "extra troop-weeks", "averted per 1,000 additional troop-weeks",
                       "in short"], rows))


def section_tradeoffs(cmp: Comparison, doc: Document) -> None:
    doc.h(2, "Trade-offs", "trade-offs")
    if "dominance" not in cmp.tables:
        missing = [o for o in oc.PARETO if o not in cmp.runs]
        doc.p("Not available: " + (("the runs lack " + ", ".join(missing)) if missing
                                   else "only one strategy") + ".")
        return
    dom = cmp.tables["dominance"]
    doc.p(f"Civilian casualties, economy and troop-weeks at once. {oc.TERMS['dominated'][1]} "
          "The figure shows the means with their 95% intervals.")
    ptable = cmp.tables["outcomes"]
    fig = pareto_figure(ptable, dom, cmp.contexts, cmp.arms)
    doc.add(Figure("pareto.png", png_bytes(fig), "trade-offs"))
    if len(cmp.arms) > NAMED_POINTS:
        doc.p("Points: " + "; ".join(f"{i} = {a}" for i, a in enumerate(cmp.arms, 1)) + ".")
    rows = []
    for ctx in cmp.contexts:
        d = dom[dom["context"] == ctx]
        for _, x in d.iterrows():
            status = "efficient" if x["efficient"] else f"dominated by {x['dominated_by']}"
            rows.append([ctx, x["arm"], status,
                         "yes" if x["efficient_on_means"] else "no"])
    doc.add(Table(["context", "strategy", "with confidence", "efficient on the means alone"],
                  rows, caption="Efficient or dominated with confidence; the last column is "
                  "the reading that ignores the noise (a strategy can look efficient on the "
                  "means because of a difference that is within the noise)."))


def section_more(cmp: Comparison, doc: Document) -> None:
    if not cmp.more_outcomes:
        return
    doc.h(2, "All other outcomes", "all-outcomes")
    doc.p("Means and 95% intervals of every other outcome the runs report; differences "
          "from the reference for all of them are in `tables/differences.csv`.")
    keys = cmp.more_outcomes
    for ctx in cmp.contexts:
        doc.h(3, ctx, f"more-{ctx}")
        doc.add(Table(["strategy", *(oc.outcome(k).header for k in keys)],
                      _arm_rows(cmp, ctx, "outcomes", keys),
                      notes=["", *(f"{oc.outcome(k).unit}: {oc.outcome(k).what}"
                                   for k in keys)]))


def section_ranking(cmp: Comparison, doc: Document) -> None:
    ranks = cmp.tables["ranking"]
    ranked = [o for o in cmp.key_outcomes if oc.better(o) and o in ranks
              and o not in RANK_SKIP]
    if ranks.empty or not ranked:
        return
    doc.h(2, "Ranking", "ranking")
    doc.p(f"{oc.TERMS['rank'][1]} Check the intervals above before reading much into close "
          "ranks; equal weights are a choice, not a finding.")
    for ctx in cmp.contexts:
        r = ranks[ranks["context"] == ctx]
        doc.h(3, ctx, f"ranking-{ctx}")
        doc.add(Table(["#", "strategy", "mean rank", *(oc.label(o) for o in ranked)],
                      [[str(int(x["position"])), x["arm"], fmt(x["mean_rank"]),
                        *(str(int(x[o])) if not pd.isna(x[o]) else "–" for o in ranked)]
                       for _, x in r.iterrows()]))


def section_time(cmp: Comparison, doc: Document) -> None:
    doc.h(2, "Over time", "over-time")
    by = cmp.settings.get("envelope_by")
    by = by if by in cmp.factors else None
    metrics = [m for m in ENVELOPE_METRICS
               if m != "active" or not cmp.peacekeeping]  # actives: the Epstein view
    env = envelopes(cmp.out, cmp.runs, cmp.design, metrics, by)
    if env.empty:
        doc.p("No per-tick series were kept (`output.metrics = []`).")
        return
    levels = sorted(cmp.design[by].unique()) if by else []
    starts = _drawdown_starts(cmp.out, cmp.manifest, cmp.design)
    marks = mission_marks(cmp.runs, starts, by)
    cmp.tables["mission_marks"] = marks
    burn = (cmp.manifest.get("keep") or {}).get("burn_in") or 0
    known = marks["drawdown_start"].notna().any()
    doc.p(f"{oc.TERMS['envelope'][1]}"
          + (" Runs are pooled over the design points." if cmp.factors and not by else "")
          + (f" Panels: one per value of {oc.factor_label(by)}." if by else "")
          + (f" Series start after a burn-in of {burn} ticks." if burn else "")
          + (" Civilian casualties are counted from week 0 and shown per 100,000 residents, "
             "so the lines only rise and their slope is the rate." if cmp.peacekeeping else "")
          + (" Dotted grey line: the drawdown starts." if known else "")
          + (" Dashed line in a strategy's colour: the median week in which its last unit "
             "left." if marks["exit_median"].notna().any() else "")
          + (" (The drawdown start could not be read from the experiment file.)"
             if cmp.peacekeeping and not known and marks["exit_median"].notna().any()
             else ""))
    for m in [m for m in metrics if m in set(env["metric"])]:
        fig = envelope_figure(env, m, cmp.contexts, cmp.strategies, by, levels, marks,
                              "week" if cmp.peacekeeping else "tick")
        doc.add(Figure(f"envelope_{m}.png", png_bytes(fig), oc.outcome(m).label))


def section_relapse(cmp: Comparison, doc: Document) -> None:
    relapse = cmp.tables["relapse"]
    if relapse.empty:
        return
    doc.h(2, "After the exit: relapse", "relapse")
    doc.p("Runs in which the mission left. Violence: the map's mean violence level over the "
          "window before the drawdown starts and the window after the last unit leaves, "
          "averaged over runs; after / before: their ratio (above 1: violence came back); "
          "ratio per run: the mean of each run's own ratio with its 95% interval (noisy when "
          "violence before the drawdown was near zero); relapsed: the share of runs whose "
          "ratio is above 1.")
    rows = [[x["context"], x["arm"], f"{x['exited']}/{x['runs']}",
             fmt(x["exit_tick_median"]), fmt(x["violence_before"]), fmt(x["violence_after"]),
             fmt(x["ratio_of_means"]), fmt_ci(x["ratio_mean"], x["ratio_lo"], x["ratio_hi"]),
             "–" if pd.isna(x["share_relapsed"]) else f"{x['share_relapsed']:.0%}"]
            for _, x in relapse.iterrows()]
    doc.add(Table(["context", "strategy", "runs that exited", "exit week (median)",
                   "violence before", "violence after", "after / before", "ratio per run",
                   "relapsed"], rows))


def section_about(cmp: Comparison, doc: Document) -> None:
    doc.h(2, "About this sweep", "about")
    m, out = cmp.manifest, cmp.out
    failures = read_failures(out)
    failed_ids = {f["run_id"] for f in failures if not f.get("will_retry")}
    failed_ids -= set(cmp.runs["run_id"])
    missing_n = len(cmp.design) - len(cmp.runs)
    doc.add(Table(["", ""], [
        ["sweep folder", f"`{out}`"],
        ["experiment", f"`{m.get('experiment_file')}` (sha256 "
                       f"`{str(m.get('experiment_sha256'))[:12]}`)"],
        ["runs", f"{len(cmp.runs)} of {len(cmp.design)} finished"
                 + (f"; {len(failed_ids)} failed (see failures.jsonl)" if failed_ids else "")
                 + (f"; {missing_n - len(failed_ids)} not run yet"
                    if missing_n - len(failed_ids) > 0 else "")],
        ["design", f"{m.get('design')}, factors: "
                   f"{', '.join(oc.factor_label(f) for f in cmp.factors) or 'none'}"],
        ["replications, seeds", f"{m.get('replications')} per cell, seed policy "
                                f"`{m.get('seed_policy')}` (root {m.get('seed')})"],
        ["weeks per run", ", ".join(str(t) for t in sorted(cmp.design["ticks"].unique()))],
        ["model version", f"`{m.get('model_version')}`, git "
                          f"`{str((m.get('git') or {}).get('commit'))[:10]}`"],
        ["created", str(m.get("created"))],
    ]))
    notes = [f"Tables as CSV: `{TABLES}/`; figures: `{FIGURES}/`; this report also as "
             f"`{REPORT}` and `{REPORT_HTML}` (self-contained).",
             "Intervals describe the model's randomness over independent runs, not the "
             "uncertainty of its parameters (the contexts are stylised and uncalibrated)."]
    if missing_n:
        notes.insert(0, "**Partial results**: not every run of the design has finished; "
                        "the tables use the runs that have.")
    if failed_ids:
        notes.append(f"{len(failed_ids)} run(s) failed for good: run_id "
                     + ", ".join(str(i) for i in sorted(failed_ids)[:20])
                     + (" ..." if len(failed_ids) > 20 else "")
                     + "; tracebacks in `failures.jsonl`.")
    doc.add(Bullets(notes))


def regret_figure(r: rb.Robustness, keys: list[str], strategies: list[str]) -> MplFigure:
    """Regret over all futures: one panel per outcome, a box per strategy (every future a
    dot); 0 is the best strategy of the future."""
    rows, cols = _grid(len(keys))
    fig = _figure(5.2 * cols + 2.4, (0.32 * len(strategies) + 1.4) * rows + 0.6)
    rng = np.random.default_rng(0)
    order = strategies[::-1]
    for i, key in enumerate(keys):
        ax = fig.add_subplot(rows, cols, i + 1)
        reg = rb.regret(r.futures, key)
        data = [reg.loc[reg["strategy"] == s, "regret"].to_numpy(float) for s in order]
        keep = [j for j, d in enumerate(data) if len(d)]
        if keep:
            ax.boxplot([data[j] for j in keep], positions=keep, orientation="horizontal",
                       widths=0.55, showfliers=False, medianprops={"color": "#1f4e79"})
            for j in keep:
                ax.scatter(data[j], j + rng.uniform(-0.15, 0.15, len(data[j])), s=7,
                           color="#444444", alpha=0.4, zorder=3)
                ax.scatter([np.percentile(data[j], rb.PCT)], [j], marker="|", s=220,
                           color="#c0392b", zorder=4)
        ax.set_yticks(range(len(order)))
        ax.set_yticklabels(order if i % cols == 0 else [""] * len(order), fontsize=7)
        o = oc.outcome(key)
        ax.set_title(o.label, fontsize=9)
        ax.set_xlabel(f"regret ({o.unit or 'units'}), 0 = best in the future", fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"Regret across {r.n_futures} futures: how far each strategy fell behind the "
                 f"best one in the same future (box: middle half, dots: futures, red tick: "
                 f"{rb.PCT}th percentile)", fontsize=9, wrap=True)
    fig.subplots_adjust(left=0.2, right=0.97, top=1 - 0.9 / fig.get_figheight(),
                        bottom=0.55 / fig.get_figheight(), hspace=0.6, wspace=0.15)
    return fig


def satisficing_figure(sat: pd.DataFrame, rules: list[rb.Rule], strategies: list[str]
                       ) -> MplFigure:
    """Share of futures in which each strategy meets every threshold (dark bar) and each
    threshold on its own (light bars)."""
    usable = [x for x in rules if x.outcome in sat]
    fig = _figure(8.5, 0.45 * len(strategies) * (1 + 0.5 * len(usable)) + 1.4)
    ax = fig.add_subplot(1, 1, 1)
    order = [s for s in strategies if s in set(sat["strategy"])][::-1]
    s_ = sat.set_index("strategy")
    n = len(usable) + 1
    height = 0.8 / n
    greys = [f"#{v:02x}{v:02x}{v:02x}" for v in np.linspace(150, 215, max(len(usable), 1),
                                                             dtype=int)]
    for j, s in enumerate(order):
        for k, (col, colour, text) in enumerate(
                [("all", "#1f4e79", "every threshold"),
                 *((x.outcome, greys[i], x.text) for i, x in enumerate(usable))]):
            y = j + 0.4 - (k + 0.5) * height
            ax.barh(y, s_.at[s, col], height=height * 0.9, color=colour,
                    label=text if j == 0 else None)
            ax.text(s_.at[s, col] + 0.01, y, f"{s_.at[s, col]:.0%}", va="center", fontsize=7)
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels(order, fontsize=8)
    ax.set_xlim(0, 1.1)
    ax.set_xlabel("share of futures meeting it", fontsize=8)
    ax.legend(fontsize=7, loc="lower right", frameon=False)
    ax.grid(axis="x", alpha=0.3)
    fig.suptitle("Satisficing: how often each strategy is good enough", fontsize=9)
    fig.subplots_adjust(left=0.22, right=0.97, top=1 - 0.5 / fig.get_figheight(),
                        bottom=0.5 / fig.get_figheight())
    return fig


def _regret_rows(reg: pd.DataFrame, scope: str, key: str) -> list[list[Any]]:
    x = reg[(reg["scope"] == scope) & (reg["outcome"] == key)]
    x = x.sort_values([f"p{rb.PCT}_regret", "mean_regret"], kind="stable")
    return [[row["strategy"], str(int(row["futures"])),
             (fmt(row["mean_regret"]), float(row["mean_regret"])),
             (fmt(row[f"p{rb.PCT}_regret"]), float(row[f"p{rb.PCT}_regret"])),
             (fmt(row["max_regret"]), float(row["max_regret"])),
             (fmt_pct(row["best_share"], signed=False), float(row["best_share"]))]
            for _, row in x.iterrows()]


def robust_summary(cmp: Comparison, scope: str) -> list[str]:
    """The section's headline paragraphs for one scope, every number from its tables."""
    r = cmp.robust
    assert r is not None
    paras = []
    keys = robustness_outcomes(cmp)
    head = cmp.headline_outcome if cmp.headline_outcome in keys else (keys[0] if keys else None)
    reg = r.regret[(r.regret["scope"] == scope)]
    if head is not None and not reg[reg["outcome"] == head].empty:
        o = oc.outcome(head)
        x = reg[reg["outcome"] == head].sort_values([f"p{rb.PCT}_regret", "mean_regret"],
                                                    kind="stable")
        top = x.iloc[0]
        unit = o.unit or "units"
        text = (f"Most robust on {o.label.lower()}: **{top['strategy']}**. In the worst tenth "
                f"of the {int(top['futures'])} futures it fell {fmt(top[f'p{rb.PCT}_regret'])} "
                f"{unit} or more behind the best strategy of the future "
                f"({rb.PCT}th-percentile regret; on average {fmt(top['mean_regret'])}), and it "
                f"was the best in {fmt_pct(top['best_share'], signed=False)} of them.")
        pct = r.percentiles[(r.percentiles["scope"] == scope)
                            & (r.percentiles["outcome"] == head)]
        if len(pct):
            pick = pct["mean"].idxmin() if o.better == "lower" else pct["mean"].idxmax()
            avg = pct.loc[pick, "strategy"]
            if avg != top["strategy"]:
                a = x.set_index("strategy").loc[avg]
                text += (f" The best on average, **{avg}**, has a {rb.PCT}th-percentile "
                         f"regret of {fmt(a[f'p{rb.PCT}_regret'])} {unit}: better on average, "
                         "but further behind in its bad futures.")
            else:
                text += " It is also the best on average."
        paras.append(text)
    sat = r.satisficing
    if len(sat) and scope in set(sat["scope"]):
        s = sat[sat["scope"] == scope].sort_values("all", ascending=False, kind="stable")
        best = s.iloc[0]
        rules = " and ".join(x.text for x in r.rules if x.outcome in sat)
        paras.append(f"Good enough ({rules}) most often: **{best['strategy']}**, in "
                     f"{fmt_pct(best['all'], signed=False)} of the futures"
                     + (f"; the least often: {s.iloc[-1]['strategy']}, "
                        f"{fmt_pct(s.iloc[-1]['all'], signed=False)}." if len(s) > 1 else "."))
    return paras


def _of_futures(n: int, r: rb.Robustness, scope: str) -> str:
    """`` [n of N futures]`` when an outcome is missing in some futures of the scope (e.g.
    weeks to stability: never reached), else nothing."""
    fut = r.futures if scope == rb.ALL else r.futures[r.futures["context"] == scope]
    total = len(fut[["context", "point"]].drop_duplicates())
    return f" [{n} of {total} futures]" if n < total else ""


def section_robustness(cmp: Comparison, doc: Document) -> None:
    r = cmp.robust
    if r is None:
        return
    doc.h(2, "Robustness across futures", "robustness")
    contexts = list(dict.fromkeys(r.futures["context"]))
    points = r.futures[["context", "point"]].drop_duplicates().groupby("context").size()
    reps = r.futures["replicates"]
    rep_text = (f"{int(reps.min())}" if reps.min() == reps.max()
                else f"{int(reps.min())} to {int(reps.max())}")
    factors = ", ".join(oc.factor_label(f) for f in cmp.factors)
    where = (f"{int(points.iloc[0])} combinations of the uncertain factors ({factors})"
             if cmp.factors else "one setting")
    doc.p(f"Every strategy met the same {r.n_futures} futures: {where} in "
          f"{len(contexts)} context{'s' if len(contexts) > 1 else ''}"
          + (", every strategy with the same seeds" if cmp.paired else "")
          + f". In each future a strategy's outcome is the mean of its {rep_text} run(s) "
          "there. The strategy that is best on average can still do badly in some futures; "
          "this section asks how far each strategy falls behind the best one in each future "
          "(regret), and how often it is good enough (satisficing).")
    doc.add(Bullets([
        "**Regret**: in one future, how far a strategy fell behind the best strategy in "
        "that future, in the outcome's own unit; 0 means it was the best there.",
        "**Mean regret**: its regret averaged over the futures.",
        f"**{rb.PCT}th-percentile regret**: in the worst tenth of futures the strategy fell at "
        "least this far behind. A robust strategy keeps this small: it is never far from the "
        "best, whatever the future turns out to be.",
        "**Best in**: the share of futures in which no strategy did better.",
        "**Satisficing**: the share of futures in which a strategy meets every threshold "
        "set in the experiment file (`[robustness] thresholds`): how often it is good "
        "enough, rather than how often it is best.",
    ]))
    scopes = [rb.ALL] if len(contexts) > 1 else contexts
    for scope in scopes:  # in short (the report's headline boxes are per context)
        for text in robust_summary(cmp, scope):
            doc.p(("**Over all contexts**: " if scope == rb.ALL else "**In short**: ") + text)
    keys = [k for k in robustness_outcomes(cmp) if k in set(r.regret["outcome"])]
    head = cmp.headline_outcome if cmp.headline_outcome in keys else (keys[0] if keys
                                                                      else None)
    all_scopes = [*scopes, *(c for c in contexts if len(contexts) > 1)]
    if head is not None:
        o = oc.outcome(head)
        doc.h(3, f"Regret on {o.label.lower()}", "regret-headline")
        for scope in all_scopes:
            doc.add(Table(["strategy", "futures", f"mean regret ({o.unit})",
                           f"{rb.PCT}th-percentile regret ({o.unit})",
                           f"largest regret ({o.unit})", "best in"],
                          _regret_rows(r.regret, scope, head),
                          caption=f"{scope}: ordered by the {rb.PCT}th-percentile regret "
                                  "(smallest first)."))
    if len(keys) > 1:
        doc.h(3, "Regret on every key outcome", "regret-all")
        doc.p(f"Each cell: the {rb.PCT}th-percentile regret and, in brackets, the mean "
              "regret, in the outcome's unit (0: always the best). An outcome some runs lack "
              "(weeks to stability: never reached) is compared over the futures in which "
              "every strategy has a value, and says how many.")
        for scope in all_scopes:
            reg = r.regret[r.regret["scope"] == scope].set_index(["strategy", "outcome"])
            rows = []
            for s_ in cmp.strategies:
                cells: list[Any] = [s_]
                for k in keys:
                    if (s_, k) in reg.index:
                        x = reg.loc[(s_, k)]
                        cells.append((f"{fmt(x[f'p{rb.PCT}_regret'])} "
                                      f"({fmt(x['mean_regret'])})"
                                      + _of_futures(int(x["futures"]), r, scope),
                                      float(x[f"p{rb.PCT}_regret"])))
                    else:
                        cells.append("–")
                rows.append(cells)
            doc.add(Table(["strategy", *(f"{oc.label(k)} ({oc.outcome(k).unit})"
                                         for k in keys)], rows, caption=scope))
        fig = regret_figure(r, keys, cmp.strategies)
        doc.add(Figure("robustness_regret.png", png_bytes(fig), "regret across futures"))
    doc.h(3, "Good enough: satisficing", "satisficing")
    if not r.rules:
        doc.p("No thresholds were set. Add, for example, `[robustness] thresholds = "
              "{ casualties_total = { below = 40 }, final_trust_pk = { above = 0.4 } }` to "
              "the experiment file (or pass `thresholds=` to `sim.compare`) to see in what "
              "share of futures each strategy is good enough.")
    elif r.satisficing.empty:
        doc.p("No run reports the outcomes of the thresholds ("
              + ", ".join(x.outcome for x in r.rules) + "): nothing to count.")
    else:
        usable = [x for x in r.rules if x.outcome in r.satisficing]
        doc.p("Thresholds (a future's mean must be strictly beyond them; a missing value "
              "does not count as met): " + "; ".join(x.text for x in usable) + ".")
        for scope in all_scopes:
            sat = r.satisficing[r.satisficing["scope"] == scope].sort_values(
                "all", ascending=False, kind="stable")
            doc.add(Table(["strategy", "futures", "every threshold",
                           *(x.text for x in usable)],
                          [[x["strategy"], str(int(x["futures"])),
                            (fmt_pct(x["all"], signed=False), float(x["all"])),
                            *((fmt_pct(x[u.outcome], signed=False), float(x[u.outcome]))
                              for u in usable)] for _, x in sat.iterrows()],
                          caption=f"{scope}: share of futures meeting each threshold."))
        pooled = r.satisficing[r.satisficing["scope"] == all_scopes[0]]
        fig = satisficing_figure(pooled, usable, cmp.strategies)
        doc.add(Figure("robustness_satisficing.png", png_bytes(fig), "satisficing"))
    if r.absent:
        doc.p("Left out (no run reports the outcome): "
              + "; ".join(x.text for x in r.absent) + ".")
    pct_keys = [k for k in keys if k in set(r.percentiles["outcome"])]
    if pct_keys:
        doc.h(3, "Outcomes across futures", "outcome-percentiles")
        doc.p("How each strategy's outcome spreads over the futures: the median future and, "
              "in brackets, the 10th to the 90th percentile (a future's value is the mean of "
              "its runs).")
        for scope in all_scopes:
            pc = r.percentiles[r.percentiles["scope"] == scope].set_index(["strategy",
                                                                          "outcome"])
            rows = []
            for s_ in cmp.strategies:
                rows.append([s_, *((f"{fmt(pc.loc[(s_, k), 'p50'])} "
                                    f"({fmt(pc.loc[(s_, k), 'p10'])} to "
                                    f"{fmt(pc.loc[(s_, k), 'p90'])})"
                                    + _of_futures(int(pc.loc[(s_, k), "futures"]), r, scope),
                                    float(pc.loc[(s_, k), "p50"]))
                                   if (s_, k) in pc.index else "–" for k in pct_keys)])
            doc.add(Table(["strategy", *(oc.outcome(k).header for k in pct_keys)], rows,
                          caption=scope))
    doc.p("Every table is also in `tables/` (`regret.csv`, `satisficing.csv`, "
          "`outcome_percentiles.csv`, and `future_means.csv`: one row per future and "
          "strategy).")


#: the report, in order; a new section is one more entry
SECTIONS: list[Section] = [section_headline, section_glossary, section_outcomes,
                           section_differences, section_cost, section_tradeoffs,
                           section_robustness, section_more, section_ranking, section_time,
                           section_relapse, section_about]


def write_tables(cmp: Comparison) -> dict[str, Path]:
    folder = cmp.out / TABLES
    folder.mkdir(exist_ok=True)
    files = {}
    for name, df in cmp.tables.items():
        if df is not None and not df.empty:
            with atomic_path(folder / f"{name}.csv") as tmp:
                df.to_csv(tmp, index=False)
            files[name] = folder / f"{name}.csv"
    return files


def compare(sweep_dir: str | Path, reference: str | None = None,
            outcomes: list[str] | None = None, headline: str | None = None,
            sections: list[Section] | None = None,
            thresholds: dict[str, Any] | None = None) -> CompareResult:
    """Write ``report.md``, ``report.html``, ``figures/`` and ``tables/`` into the sweep
    folder and return them with the tables as data frames. ``outcomes``: the key outcomes
    (default: the experiment's ``report.outcomes``, else the model's key outcomes);
    ``headline``: the outcome the headline ranks by (default civilian casualties);
    ``thresholds``: ``{key: {"below": x} | {"above": x}}`` for the robustness section
    (default: the experiment's ``[robustness] thresholds``). Raises :class:`StoreError` for
    folders or options that cannot be used."""
    cmp = load_comparison(sweep_dir, reference, outcomes, headline, thresholds)
    compute(cmp)
    title = cmp.manifest.get("experiment_name", cmp.out.name)
    doc = Document(f"{title}: which strategy, by how much, how sure, at what cost")
    if cmp.manifest.get("description"):
        doc.p(str(cmp.manifest["description"]))
    for section in sections or SECTIONS:
        section(cmp, doc)
    table_files = write_tables(cmp)
    md, page, figures = doc.write(cmp.out, "report", FIGURES)
    return CompareResult(folder=cmp.out, report_md=md, report_html=page, tables=cmp.tables,
                         table_files=table_files, figures=figures)
