"""Compare the strategies of a finished sweep: ``report.md`` with tables and figures.

Everything is computed from the sweep store (:mod:`sim.experiments.store`), one context at a time
for the time series so memory stays bounded. The unit of comparison is an *arm*: a strategy
(at one design point when the design is a full factorial over factors, pooled over the
sampled points of a latin hypercube).

Statistics, all per context:

* mean and 95% confidence interval of each key outcome: ``mean +- t(0.975, n-1) s / sqrt n``
  over the replications (and sampled points) of the arm;
* differences from a reference strategy, paired on the common seeds: for replicate ``r`` at
  point ``p`` the arm and the reference ran from the same seed, so the interval is that of
  the mean of the ``n`` paired differences; beside it, the half-width Welch's unpaired
  interval would have from the same runs, i.e. what pairing saves. With
  ``seed_policy = "independent"`` only the unpaired interval is valid and only it is shown;
* a ranking: arms ordered by their mean rank over the key outcomes (each ranked by its
  mean, in its better direction), equal weights;
* the Pareto set over civilian casualties (lower), economy (higher) and troop-weeks (lower);
* time-series envelopes: median and 5-95% band of each kept metric per strategy;
* for drawdown experiments (runs in which the mission left), violence in the window before
  the drawdown against the window after the exit: the post-exit relapse table.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from scipy import stats

from sim.experiments.store import (
    EXPERIMENT_COPY,
    StoreError,
    open_store,
    read_failures,
    read_summaries,
    read_timeseries,
)
from sim.io.store import atomic_path, atomic_write_text

#: summary key -> (label, which direction is better: "lower" | "higher" | "")
OUTCOMES: dict[str, tuple[str, str]] = {
    "casualties_total": ("civilian casualties", "lower"),
    "final_economy": ("economy at the end", "higher"),
    "troop_weeks": ("troop-weeks", "lower"),
    "final_trust_pk": ("trust in peacekeepers at the end", "higher"),
    "final_trust_police": ("trust in police at the end", "higher"),
    "combatants_final": ("fighters at the end", "lower"),
    "final_displaced": ("displaced at the end", "lower"),
    "attacks_total": ("attacks on civilians", "lower"),
    "relapse_ratio": ("post-exit violence ratio", "lower"),
    "time_to_stability": ("ticks to stability", "lower"),
    "mean_share_active": ("mean share active", "lower"),
    "peak_active": ("peak active", "lower"),
    "outbursts": ("outbursts", "lower"),
    "killings_total": ("killings", "lower"),
    "arrests_total": ("arrests", ""),
}
PEACEKEEPING_OUTCOMES = ("casualties_total", "final_economy", "troop_weeks",
                         "final_trust_pk", "combatants_final")
EPSTEIN_OUTCOMES = ("mean_share_active", "peak_active", "outbursts", "killings_total")
ENVELOPE_METRICS = ("violence_mean", "civilian_casualties", "combatants", "economy_mean",
                    "trust_pk_mean", "active")
PARETO = ("casualties_total", "final_economy", "troop_weeks")
LEVEL = 0.95
REPORT, FIGURES, TABLES = "report.md", "figures", "tables"
NAMED_POINTS = 6  # beyond this many arms, Pareto points are numbered


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


# --------------------------------------------------------------------------- tables


def _short(key: str, keys: list[str]) -> str:
    last = key.rsplit(".", 1)[-1]
    return last if sum(k.rsplit(".", 1)[-1] == last for k in keys) == 1 else key


def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, str):
        return x
    x = float(x)
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if x.is_integer():
        return f"{x:.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def add_arms(runs: pd.DataFrame, factors: list[str], by_point: bool,
             strategies: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """An ``arm`` label per run and the arms in report order (strategies as in the file)."""
    runs = runs.copy()
    if by_point and factors:
        def label(row: Any) -> str:
            vals = ", ".join(f"{_short(k, factors)}={_fmt(row[k])}" for k in factors)
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
            rows.append({"context": ctx, "arm": arm, "strategy": g["strategy"].iloc[0],
                         "outcome": o, "n": n, "mean": m, "lo": m - h, "hi": m + h,
                         "half": h})
    return pd.DataFrame(rows)


def difference_table(runs: pd.DataFrame, outcomes: list[str], reference: str,
                     paired: bool) -> pd.DataFrame:
    """Per context, arm (not the reference) and outcome: the mean difference from the
    reference strategy at the same design point, its 95% CI (paired on common seeds when
    ``paired``), and the paired and unpaired half-widths side by side."""
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
                rows.append({"context": ctx, "arm": arm, "strategy": g["strategy"].iloc[0],
                             "outcome": o, "n": n, "diff": m, "lo": m - h, "hi": m + h,
                             "half_paired": h if paired else math.nan,
                             "half_unpaired": welch,
                             "ratio": h / welch if paired and welch else math.nan})
    return pd.DataFrame(rows)


def ranking_table(table: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    """Per context: arms by mean rank over the outcomes that have a better direction."""
    ranked = [o for o in outcomes if OUTCOMES.get(o, ("", ""))[1]]
    rows = []
    for ctx, c in table.groupby("context", sort=False):
        wide = c.pivot_table(index="arm", columns="outcome", values="mean", sort=False)
        ranks = pd.DataFrame(index=wide.index)
        for o in ranked:
            if o in wide:
                ranks[o] = wide[o].rank(ascending=OUTCOMES[o][1] == "lower", method="min")
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


# --------------------------------------------------------------------------- figures


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return path


def _colours(strategies: list[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return {s: cmap(i % 10) for i, s in enumerate(strategies)}


def pareto_figure(table: pd.DataFrame, contexts: list[str], arms: list[str],
                  strategies: list[str]) -> tuple[Figure, dict[str, list[str]]]:
    """Casualties against troop-weeks, coloured by economy; the Pareto set is ringed.
    With more than ``NAMED_POINTS`` arms, points carry their arm's number (1-based order)."""
    cols = min(len(contexts), 2)
    rows = math.ceil(len(contexts) / cols)
    fig = _figure(6.5 * cols + 1.2, 4.6 * rows)
    wide = table.pivot_table(index=["context", "arm"], columns="outcome",
                             values=["mean", "half"], sort=False)
    econ = wide["mean"]["final_economy"]
    norm = Normalize(float(econ.min()), float(econ.max()) + 1e-12)
    efficient: dict[str, list[str]] = {}
    sc = None
    for i, ctx in enumerate(contexts):
        ax = fig.add_subplot(rows, cols, i + 1)
        w = wide.loc[ctx].reindex([a for a in arms if a in wide.loc[ctx].index])
        m, h = w["mean"], w["half"]
        pts = np.column_stack([m["casualties_total"], -m["final_economy"],
                               m["troop_weeks"]])
        mask = pareto_mask(pts)
        efficient[ctx] = [a for a, e in zip(w.index, mask, strict=True) if e]
        ax.errorbar(m["troop_weeks"], m["casualties_total"], yerr=h["casualties_total"],
                    xerr=h["troop_weeks"], fmt="none", ecolor="#999999", lw=0.8, zorder=1)
        sc = ax.scatter(m["troop_weeks"], m["casualties_total"], c=m["final_economy"],
                        cmap="viridis", norm=norm, s=70, zorder=2,
                        edgecolors=["black" if e else "none" for e in mask],
                        linewidths=[2.0 if e else 0 for e in mask])
        for arm, x, y, e in zip(w.index, m["troop_weeks"], m["casualties_total"], mask,
                                strict=True):
            text = arm if len(arms) <= NAMED_POINTS else str(arms.index(arm) + 1)
            ax.annotate(text, (x, y), xytext=(4, 4), textcoords="offset points",
                        fontsize=7, fontweight="bold" if e else "normal")
        ax.set_title(ctx)
        ax.set_xlabel("troop-weeks (cost)")
        ax.set_ylabel("civilian casualties")
        ax.grid(alpha=0.3)
    fig.suptitle("Trade-offs: means with 95% CIs; ringed = Pareto-efficient "
                 "(casualties, economy, troop-weeks)", fontsize=10)
    fig.subplots_adjust(left=0.08, right=0.84, top=0.9, bottom=0.1, hspace=0.35, wspace=0.35)
    if sc is not None:
        cbar = fig.colorbar(sc, cax=fig.add_axes((0.88, 0.15, 0.015, 0.7)))
        cbar.set_label("economy at the end (higher is better)")
    return fig, efficient


def envelope_figure(env: pd.DataFrame, metric: str, contexts: list[str],
                    strategies: list[str], by: str | None, levels: list[Any]) -> Figure:
    """Median and 5-95% band over runs, per strategy; one row of panels per context (and one
    column per level of ``by``)."""
    ncols = max(len(levels), 1)
    width = 4.2 * ncols + 2.4
    fig = _figure(width, 2.8 * len(contexts) + 0.6)
    colours = _colours(strategies)
    for i, ctx in enumerate(contexts):
        for j, level in enumerate(levels or [None]):
            ax = fig.add_subplot(len(contexts), ncols, i * ncols + j + 1)
            e = env[(env["context"] == ctx) & (env["metric"] == metric)]
            if by is not None:
                e = e[e["level"] == level]
            for s in strategies:
                es = e[e["strategy"] == s]
                if es.empty:
                    continue
                ax.fill_between(es["tick"], es["q05"], es["q95"], color=colours[s],
                                alpha=0.15, lw=0)
                ax.plot(es["tick"], es["q50"], color=colours[s], lw=1.3, label=s)
            title = ctx if by is None else f"{ctx}, {by.rsplit('.', 1)[-1]}={_fmt(level)}"
            ax.set_title(title, fontsize=9)
            ax.grid(alpha=0.3)
            if i == len(contexts) - 1:
                ax.set_xlabel("tick")
            if j == 0:
                ax.set_ylabel(metric, fontsize=8)
    handles, labels = fig.axes[0].get_legend_handles_labels() if fig.axes else ([], [])
    right = 1 - 2.3 / width
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(right + 0.02, 0.5),
               fontsize=8, frameon=False)
    fig.suptitle(f"{metric}: median and 5-95% band over runs", fontsize=10)
    fig.subplots_adjust(left=0.1, right=right, top=0.9, bottom=0.08, hspace=0.5, wspace=0.3)
    return fig


def difference_figure(diff: pd.DataFrame, outcomes: list[str], contexts: list[str],
                      arms: list[str], reference: str) -> Figure:
    """Differences from the reference: paired 95% CI (thick) and unpaired (thin)."""
    arms = [a for a in arms if a in set(diff["arm"])]
    fig = _figure(3.6 * len(contexts) + 2.5, 0.35 * len(arms) * len(outcomes) + 1.2
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
                ax.set_ylabel(o, fontsize=7)
    fig.suptitle(f"Difference from {reference}: paired 95% CI (dark) and the unpaired CI "
                 "the same runs would give (grey)", fontsize=9)
    fig.subplots_adjust(left=0.22, right=0.95, top=0.93, bottom=0.05, hspace=0.6,
                        wspace=0.15)
    return fig


# --------------------------------------------------------------------------- report


def _experiment_settings(out: Path) -> dict[str, Any]:
    try:
        return tomllib.loads((out / EXPERIMENT_COPY).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _md_table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join((v if isinstance(v, str) else _fmt(v)).replace("|", "\\|")
                                for v in r) + " |" for r in rows]
    return "\n".join(lines)


def _label(o: str) -> str:
    label, better = OUTCOMES.get(o, (o, ""))
    return f"{label} ({better} is better)" if better else label


def envelopes(out: Path, runs: pd.DataFrame, design: pd.DataFrame, metrics: list[str],
              by: str | None) -> pd.DataFrame:
    """Quantiles (5, 50, 95%) per context, strategy, level of ``by`` and tick; one context
    read at a time."""
    parts = []
    done_keys = set(runs["key"])
    for ctx in runs["context"].unique():
        rows = design[(design["context"] == ctx) & design["key"].isin(done_keys)]
        ts = read_timeseries(out, rows, columns=metrics)
        if ts.empty:
            continue
        group = ["strategy", "tick"] if by is None else ["strategy", by, "tick"]
        for m in metrics:
            if m not in ts:
                continue
            q = ts.groupby(group)[m].quantile([0.05, 0.5, 0.95]).unstack()
            q.columns = ["q05", "q50", "q95"]
            q = q.reset_index()
            q.insert(0, "metric", m)
            q.insert(0, "context", ctx)
            if by is not None:
                q = q.rename(columns={by: "level"})
            parts.append(q)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def compare(sweep_dir: str | Path, reference: str | None = None,
            outcomes: list[str] | None = None) -> Path:
    """Write ``report.md``, ``figures/`` and ``tables/`` into the sweep folder; returns the
    report's path. Raises :class:`StoreError` for folders or options that cannot be used."""
    out = Path(sweep_dir)
    manifest, design = open_store(out)
    settings = _experiment_settings(out).get("report", {})
    runs = read_summaries(out, design)
    if runs.empty:
        raise StoreError(f"{out}: no finished runs yet (run or resume the sweep first)")
    strategies = list(dict.fromkeys(design["strategy"]))
    contexts = [c for c in dict.fromkeys(design["context"]) if c in set(runs["context"])]
    reference = reference or settings.get("reference") or strategies[0]
    if reference not in strategies:
        raise StoreError(f"--reference {reference}: not a strategy of this sweep "
                         f"({', '.join(strategies)})")
    factors = list(manifest.get("factors") or [])
    by_point = manifest.get("design") == "full_factorial"
    runs, arms = add_arms(runs, factors, by_point, strategies)

    available = [c for c in runs.columns if runs[c].notna().any()]
    defaults = PEACEKEEPING_OUTCOMES if "casualties_total" in available else EPSTEIN_OUTCOMES
    wanted = outcomes or settings.get("outcomes") or [o for o in defaults if o in available]
    missing = [o for o in wanted if o not in runs.columns]
    if missing:
        raise StoreError(f"outcomes {', '.join(missing)}: not summary keys of this sweep")
    outcomes = list(wanted)
    paired = manifest.get("seed_policy") == "common"

    fig_dir, tab_dir = out / FIGURES, out / TABLES
    fig_dir.mkdir(exist_ok=True)
    tab_dir.mkdir(exist_ok=True)
    table = outcome_table(runs, outcomes)
    diff = difference_table(runs, outcomes, reference, paired) if len(strategies) > 1 \
        else pd.DataFrame()
    ranks = ranking_table(table, outcomes)
    exited = "exit_tick" in runs and runs["exit_tick"].notna().any()
    relapse = relapse_table(runs) if exited else pd.DataFrame()
    for name, df in (("outcomes", table), ("differences", diff), ("ranking", ranks),
                     ("relapse", relapse)):
        if not df.empty:
            with atomic_path(tab_dir / f"{name}.csv") as tmp:
                df.to_csv(tmp, index=False)

    md: list[str] = []
    title = manifest.get("experiment_name", out.name)
    md.append(f"# {title}: comparison of strategies\n")
    if manifest.get("description"):
        md.append(f"{manifest['description']}\n")
    failures = read_failures(out)
    failed_ids = {f["run_id"] for f in failures if not f.get("will_retry")}
    failed_ids -= set(runs["run_id"])
    missing_n = len(design) - len(runs)
    md.append(_md_table(["", ""], [
        ["sweep folder", f"`{out}`"],
        ["experiment", f"`{manifest.get('experiment_file')}` (sha256 "
                       f"`{str(manifest.get('experiment_sha256'))[:12]}`)"],
        ["runs", f"{len(runs)} of {len(design)} finished"
                 + (f"; {len(failed_ids)} failed (see failures.jsonl)" if failed_ids else "")
                 + (f"; {missing_n - len(failed_ids)} not run yet"
                    if missing_n - len(failed_ids) > 0 else "")],
        ["design", f"{manifest.get('design')}, factors: {', '.join(factors) or 'none'}"],
        ["replications, seeds", f"{manifest.get('replications')} per cell, seed policy "
                                f"`{manifest.get('seed_policy')}` (root {manifest.get('seed')})"],
        ["ticks", ", ".join(str(t) for t in sorted(design["ticks"].unique()))],
        ["model version", f"`{manifest.get('model_version')}`, git "
                          f"`{str((manifest.get('git') or {}).get('commit'))[:10]}`"],
        ["created", str(manifest.get("created"))],
    ]))
    if missing_n:
        md.append("\n**Partial results**: not every run of the design has finished; the "
                  "tables use the runs that have.")

    md.append("\n## 1. Outcomes: mean and 95% confidence interval\n")
    md.append("Each cell: mean over the runs of the arm, and the 95% t interval "
              f"(n runs per arm: {int(table['n'].min())}-{int(table['n'].max())}).\n")
    for ctx in contexts:
        t = table[table["context"] == ctx]
        rows = []
        for arm in arms:
            ta = t[t["arm"] == arm].set_index("outcome")
            if ta.empty:
                continue
            rows.append([arm] + [f"{_fmt(ta.at[o, 'mean'])} [{_fmt(ta.at[o, 'lo'])}, "
                                 f"{_fmt(ta.at[o, 'hi'])}]" for o in outcomes])
        md.append(f"### {ctx}\n")
        md.append(_md_table(["arm", *(_label(o) for o in outcomes)], rows) + "\n")

    md.append(f"\n## 2. Differences from `{reference}`\n")
    if diff.empty:
        md.append("Only one strategy: nothing to compare.\n")
    else:
        if paired:
            ratio = diff["ratio"].replace([np.inf], np.nan).dropna()
            md.append(
                "Arm minus reference, paired on the common seeds (same point, same "
                "replicate, same seed): mean difference [95% CI]. `±p / ±u`: half-width of "
                "the paired interval and of the unpaired (Welch) interval the same runs would "
                "give without pairing. "
                + (f"Median width of the paired interval relative to the unpaired one: "
                   f"{ratio.median():.2f} (over {len(ratio)} comparisons; below 1: pairing "
                   "helped).\n" if len(ratio) else "\n"))
        else:
            md.append("Seeds are independent (`seed_policy = \"independent\"`), so runs "
                      "cannot be paired: mean difference [95% Welch CI].\n")
        md.append("![differences](figures/differences.png)\n")
        for ctx in contexts:
            d = diff[diff["context"] == ctx]
            rows = []
            for arm in arms:
                da = d[d["arm"] == arm].set_index("outcome")
                if da.empty:
                    continue
                cells = []
                for o in outcomes:
                    r = da.loc[o]
                    cell = f"{_fmt(r['diff'])} [{_fmt(r['lo'])}, {_fmt(r['hi'])}]"
                    if paired:
                        cell += f" ±{_fmt(r['half_paired'])} / ±{_fmt(r['half_unpaired'])}"
                    cells.append(cell)
                rows.append([arm, *cells])
            md.append(f"### {ctx}\n")
            md.append(_md_table(["arm", *outcomes], rows) + "\n")
        _save(difference_figure(diff, outcomes, contexts, arms, reference),
              fig_dir / "differences.png")

    md.append("\n## 3. Ranking\n")
    ranked = [o for o in outcomes if OUTCOMES.get(o, ("", ""))[1]]
    md.append("Arms ordered by their mean rank over " + ", ".join(ranked) + " (each ranked "
              "by its mean in its better direction, equal weights; 1 is best). Ranks ignore "
              "the uncertainty: check the intervals above before reading much into close "
              "ranks.\n")
    for ctx in contexts:
        r = ranks[ranks["context"] == ctx]
        md.append(f"### {ctx}\n")
        md.append(_md_table(["#", "arm", "mean rank", *ranked],
                            [[str(int(x["position"])), x["arm"], x["mean_rank"],
                              *(str(int(x[o])) if o in x and not pd.isna(x[o]) else "–"
                                for o in ranked)] for _, x in r.iterrows()]) + "\n")

    md.append("\n## 4. Trade-offs: casualties, economy and troop-weeks\n")
    if all(o in runs.columns for o in PARETO):
        ptable = table if set(PARETO) <= set(outcomes) else outcome_table(runs, list(PARETO))
        fig, efficient = pareto_figure(ptable, contexts, arms, strategies)
        _save(fig, fig_dir / "pareto.png")
        md.append("![pareto](figures/pareto.png)\n")
        if len(arms) > NAMED_POINTS:
            md.append("Points: " + "; ".join(f"{i} = {a}" for i, a in enumerate(arms, 1))
                      + ".\n")
        md.append("Pareto-efficient arms (no other arm has fewer casualties, a better economy "
                  "and fewer troop-weeks all at once, on the means):\n")
        for ctx in contexts:
            md.append(f"- **{ctx}**: {', '.join(efficient.get(ctx, [])) or '–'}")
        md.append("")
    else:
        md.append("Not available: the runs lack " + ", ".join(
            o for o in PARETO if o not in runs.columns) + ".\n")

    md.append("\n## 5. Over time\n")
    by = settings.get("envelope_by")
    by = by if by in factors else None
    keep = manifest.get("keep") or {}
    env = envelopes(out, runs, design, list(ENVELOPE_METRICS), by)
    if env.empty:
        md.append("No per-tick series were kept (`output.metrics = []`).\n")
    else:
        levels = sorted(design[by].unique()) if by else []
        extra = (f" Panels: one per value of `{by}`." if by else "")
        burn = keep.get("burn_in") or 0
        md.append("Median (line) and 5-95% band (shade) over the runs of each strategy"
                  + (", pooled over the design points" if factors and not by else "")
                  + f".{extra}" + (f" Series start after a burn-in of {burn} ticks."
                                   if burn else "") + "\n")
        for m in [m for m in ENVELOPE_METRICS if m in set(env["metric"])]:
            fig = envelope_figure(env, m, contexts, strategies, by, levels)
            _save(fig, fig_dir / f"envelope_{m}.png")
            md.append(f"![{m}](figures/envelope_{m}.png)\n")

    if exited:
        md.append("\n## 6. After the exit: relapse\n")
        md.append("Runs in which the mission left. Violence: mean of the violence layer over "
                  "the exit window before the drawdown starts and after the last peacekeeper "
                  "leaves, averaged over runs; after / before: their ratio (above 1: violence "
                  "came back); ratio per run: mean [95% CI] of each run's own ratio (noisy when "
                  "violence before the drawdown was near zero); relapsed = share of runs whose "
                  "ratio is above 1.\n")
        rows = [[x["context"], x["arm"], f"{x['exited']}/{x['runs']}",
                 x["exit_tick_median"], x["violence_before"], x["violence_after"],
                 x["ratio_of_means"],
                 f"{_fmt(x['ratio_mean'])} [{_fmt(x['ratio_lo'])}, {_fmt(x['ratio_hi'])}]",
                 "–" if pd.isna(x["share_relapsed"]) else f"{x['share_relapsed']:.0%}"]
                for _, x in relapse.iterrows()]
        md.append(_md_table(["context", "arm", "exited", "exit tick (median)",
                             "violence before", "violence after", "after / before",
                             "ratio per run", "relapsed"],
                            rows) + "\n")

    md.append("\n## Notes\n")
    md.append(f"- Tables as CSV: `{TABLES}/`. Figures: `{FIGURES}/`.")
    md.append("- Confidence intervals are 95% t intervals over independent runs; they "
              "describe the model's stochasticity, not the uncertainty of its parameters "
              "(the contexts are stylised and uncalibrated).")
    if failed_ids:
        md.append(f"- {len(failed_ids)} run(s) failed for good: run_id "
                  + ", ".join(str(i) for i in sorted(failed_ids)[:20])
                  + (" ..." if len(failed_ids) > 20 else "")
                  + "; tracebacks in `failures.jsonl`.")
    report = atomic_write_text(out / REPORT, "\n".join(md) + "\n")
    return report
