"""The outputs of an optimisation: front table, strategy files, figures and report.

Every number comes from ``evaluations.parquet`` (read back from the runs in the store), so a
resumed search writes the same files as an uninterrupted one. Words come from
:mod:`sim.experiments.outcomes`.
"""

from __future__ import annotations

import json
import math
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure

from sim.config.optimize import ObjectiveSpec, Optimization
from sim.experiments import outcomes as oc
from sim.experiments.front import (
    STRATEGIES,
    OptimizeResult,
    front_mask,
    knee_index,
    minimised,
    session_timings,
)
from sim.experiments.html import Box, Bullets, Document, Figure, Glossary, Table, png_bytes
from sim.experiments.outcomes import fmt
from sim.io.store import atomic_path, atomic_write_text

FIGURES = "figures"
ALGORITHMS = {"nsga2": "NSGA-II", "nsga3": "NSGA-III"}


# --------------------------------------------------------------------------- words


def objective_text(o: ObjectiveSpec, opt: Optimization) -> str:
    """``civilian casualties (mean over 3 futures x 1 run, lower is better)``."""
    agg = {"mean": "mean", "median": "median"}.get(o.aggregate, f"{o.aggregate[1:]}th "
                                                                 "percentile")
    n_f, n_r = len(opt.futures), len(opt.seeds)
    over = (f"{agg} over {n_f} futures" if n_f > 1 else
            ("one future" if agg == "mean" else f"{agg} of one future"))
    runs = f"{n_r} run{'s' if n_r > 1 else ''} each" if n_f > 1 else \
        f"{n_r} run{'s' if n_r > 1 else ''}"
    return f"{oc.label(o.outcome).lower()} ({over}, {runs}; {o.better} is better)"


def variable_label(key: str) -> str:
    if key.startswith("strategy.roles."):
        return f"share {key.rsplit('.', 1)[1].replace('_', ' ')}"
    return oc.factor_label(key.removeprefix("strategy."))


def value_text(key: str, value: Any) -> str:
    if key.startswith("strategy.roles."):
        return f"{100 * float(value):.0f}%"
    return fmt(value)


def objective_value(o: ObjectiveSpec, value: float) -> str:
    unit = oc.outcome(o.outcome).unit
    return f"{fmt(value)}" + (f" {unit}" if unit and "0-1" not in unit else "")


def tradeoff_sentences(opt: Optimization, front: pd.DataFrame) -> list[str]:
    """Plain words: the member best on each objective and what it gives up, and which
    objectives pull against each other along the front (rank correlation)."""
    objs = list(opt.objectives)
    out = []
    if len(front) == 1:
        return ["One candidate beat every other on all objectives at once: there is no "
                "trade-off among the candidates found."]
    for o in objs:
        col = front[o.column]
        best = front.loc[col.idxmin() if o.better == "lower" else col.idxmax()]
        rest = ", ".join(f"{oc.label(p.outcome).lower()} {objective_value(p, best[p.column])}"
                         for p in objs if p is not o)
        word = "Lowest" if o.better == "lower" else "Highest"
        out.append(f"{word} {oc.label(o.outcome).lower()}: **{best['front_id']}** "
                   f"({objective_value(o, best[o.column])}), with {rest}.")
    good = pd.DataFrame({o.column: front[o.column] * (1 if o.better == "higher" else -1)
                         for o in objs})
    pulls, together = [], []
    for i, a in enumerate(objs):
        for b in objs[i + 1:]:
            rho = good[a.column].rank().corr(good[b.column].rank())
            if not math.isfinite(rho):
                continue
            pair = f"{oc.label(a.outcome).lower()} and {oc.label(b.outcome).lower()}"
            if rho <= -0.3:
                pulls.append(f"{pair} (rank correlation {rho:+.2f})")
            elif rho >= 0.3:
                together.append(f"{pair} ({rho:+.2f})")
    if pulls:
        out.append("Along the front these pull against each other, so one is bought with the "
                   "other: " + "; ".join(pulls) + ".")
    if together:
        out.append("These improve together along the front (what helps one helps the other "
                   "there): " + "; ".join(together) + ".")
    return out


# --------------------------------------------------------------------------- TOML


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"{v!r} cannot be written to a strategy file")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def toml_text(data: dict[str, Any], header: list[str]) -> str:
    """A strategy file's TOML: ``# header`` lines, then one ``[table]`` per section (nested
    tables as ``[section.sub]``)."""
    lines = [f"# {h}" if h else "#" for h in header]

    def table(name: str, content: dict[str, Any]) -> None:
        lines.extend(["", f"[{name}]"])
        subs = []
        for k, v in content.items():
            if isinstance(v, dict):
                subs.append((k, v))
            else:
                lines.append(f"{k} = {_toml_value(v)}")
        for k, v in subs:
            table(f"{name}.{k}", v)

    for name, content in data.items():
        table(name, content)
    return "\n".join(lines) + "\n"


def run_command(opt: Optimization, path: Path) -> str:
    """``peacesim run`` for a front member's file in the file's context (the base future)."""
    parts = ["peacesim", "run", str(opt.context_path), "--strategy", str(path),
             "--ticks", str(opt.ticks)]
    for k, v in opt.context_only_set().items():
        parts += ["--set", f"{k}={_toml_value(v)}"]
    return " ".join(shlex.quote(p) for p in parts)


def write_strategies(opt: Optimization, out: Path, front: pd.DataFrame) -> list[Path]:
    """``strategies/front_NN.toml`` per member (stale ``front_*.toml`` files removed)."""
    folder = out / STRATEGIES
    folder.mkdir(exist_ok=True)
    paths = []
    for _, row in front.iterrows():
        decoded = {k: _plain(row[k]) for k in opt.variables}
        data = opt.strategy_data(decoded, str(row["front_id"]))
        path = folder / f"{row['front_id']}.toml"
        header = [f"{row['front_id']}: a member of the Pareto front of optimisation "
                  f"{opt.name!r} ({opt.path.name}),",
                  f"found in generation {int(row['generation'])} (candidate "
                  f"{row['label']}){'; the knee (balanced) point' if row['knee'] else ''}.",
                  "Objectives over the optimisation's futures:",
                  *(f"  {oc.label(o.outcome)} ({o.aggregate}): "
                    f"{objective_value(o, row[o.column])}" for o in opt.objectives),
                  "Run it in the optimisation's context (its base future):",
                  f"  {run_command(opt, path)}"]
        atomic_write_text(path, toml_text(data, header))
        paths.append(path)
    keep = {p.name for p in paths}
    for old in folder.glob("front_*.toml"):
        if old.name not in keep:
            old.unlink()
    return paths


def _plain(v: Any) -> Any:
    """numpy scalars as Python numbers (integer levers stay integers)."""
    return v.item() if isinstance(v, np.generic) else v


# --------------------------------------------------------------------------- figures


def _figure(width: float, height: float) -> MplFigure:
    fig = MplFigure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _axis_range(opt: Optimization, key: str, evaluations: pd.DataFrame) -> tuple[float, float]:
    if key.startswith("strategy.roles."):
        return 0.0, 1.0
    for lv in opt.levers:
        if lv.key == key:
            return float(lv.low), float(lv.high)
    v = evaluations.loc[evaluations["feasible"], key].astype(float)
    lo, hi = float(v.min()), float(v.max())
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def parallel_coordinates(opt: Optimization, evaluations: pd.DataFrame, front: pd.DataFrame
                         ) -> MplFigure:
    """One vertical axis per lever and objective; every front member a line (coloured by
    the first objective, the knee thick and dashed), other feasible candidates grey.
    Objective axes are turned so that better is up."""
    axes = [*opt.variables, *(o.column for o in opt.objectives)]
    better = {o.column: o.better for o in opt.objectives}
    ranges = {k: _axis_range(opt, k, evaluations) for k in axes}

    def scaled(df: pd.DataFrame) -> np.ndarray:
        cols = []
        for k in axes:
            lo, hi = ranges[k]
            z = (df[k].astype(float).to_numpy() - lo) / (hi - lo)
            cols.append(1 - z if better.get(k) == "lower" else z)
        return np.column_stack(cols)

    fig = _figure(min(16.0, max(8.0, 1.0 * len(axes) + 2.5)), 6.2)
    ax = fig.add_subplot(1, 1, 1)
    xs = np.arange(len(axes))
    rest = evaluations[evaluations["feasible"] & ~evaluations["label"].isin(front["label"])]
    for row in scaled(rest):
        ax.plot(xs, row, color="#bbbbbb", lw=0.6, alpha=0.5, zorder=1)
    first = opt.objectives[0]
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    v = front[first.column].astype(float)
    norm = Normalize(float(v.min()), float(v.max()) + 1e-12)
    cmap = colormaps["viridis_r" if first.better == "lower" else "viridis"]
    for (_, r), row in zip(front.iterrows(), scaled(front), strict=True):
        knee = bool(r["knee"])
        ax.plot(xs, row, color="black" if knee else cmap(norm(float(r[first.column]))),
                lw=3.0 if knee else 1.4, ls="--" if knee else "-", zorder=3 if knee else 2,
                label=f"{r['front_id']} (knee)" if knee else None)
    for x, k in zip(xs, axes, strict=True):
        ax.axvline(x, color="#555555", lw=0.8, zorder=0)
        lo, hi = ranges[k]
        top, bottom = (lo, hi) if better.get(k) == "lower" else (hi, lo)
        shown_top = value_text(k, top) if k in opt.variables else fmt(top)
        shown_bottom = value_text(k, bottom) if k in opt.variables else fmt(bottom)
        ax.text(x, 1.03, shown_top, ha="center", fontsize=7)
        ax.text(x, -0.06, shown_bottom, ha="center", va="top", fontsize=7)
    labels = [variable_label(k) for k in opt.variables] + [
        f"{oc.label(o.outcome)}\n({o.aggregate}, {o.better} is better)"
        for o in opt.objectives]
    ax.set_xticks(xs)
    ax.set_xticklabels(labels, fontsize=7, rotation=30, ha="right")
    ax.set_yticks([])
    ax.set_ylim(-0.1, 1.1)
    ax.set_xlim(-0.3, len(axes) - 0.7)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.axvspan(len(opt.variables) - 0.5, len(axes) - 0.5, color="#f3f0e0", zorder=-1)
    ax.legend(fontsize=8, loc="upper left", frameon=False, bbox_to_anchor=(0, 1.12))
    fig.suptitle(f"The front: {len(front)} strategies (coloured by {oc.label(first.outcome)}"
                 f"), other candidates grey. Levers left (bounds at the axis ends), "
                 "objectives right (better is up)", fontsize=9, wrap=True)
    fig.subplots_adjust(left=0.05, right=0.9, top=0.86, bottom=0.3)
    from matplotlib.cm import ScalarMappable

    cbar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap),
                        cax=fig.add_axes((0.925, 0.3, 0.012, 0.56)))
    cbar.set_label(f"{oc.outcome(first.outcome).axis}", fontsize=7)
    cbar.ax.tick_params(labelsize=7)
    return fig


def objective_pairs(opt: Optimization, evaluations: pd.DataFrame, front: pd.DataFrame
                    ) -> MplFigure:
    """Every pair of objectives: all feasible candidates grey, the front coloured, the knee
    a star."""
    objs = list(opt.objectives)
    pairs = [(a, b) for i, a in enumerate(objs) for b in objs[i + 1:]]
    cols = min(3, len(pairs))
    rows = math.ceil(len(pairs) / cols)
    fig = _figure(4.4 * cols, 3.8 * rows + 0.6)
    ok = evaluations[evaluations["feasible"]]
    knee = front[front["knee"]]
    for n, (a, b) in enumerate(pairs):
        ax = fig.add_subplot(rows, cols, n + 1)
        ax.scatter(ok[a.column], ok[b.column], s=10, color="#bbbbbb", label="candidates")
        ax.scatter(front[a.column], front[b.column], s=28, color="#1f77b4", label="front")
        ax.scatter(knee[a.column], knee[b.column], s=160, marker="*", color="#d62728",
                   label="knee", zorder=4)
        ax.set_xlabel(f"{oc.outcome(a.outcome).axis}\n{a.aggregate}, {a.better} is better",
                      fontsize=7)
        ax.set_ylabel(f"{oc.outcome(b.outcome).axis}\n{b.aggregate}, {b.better} is better",
                      fontsize=7)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if n == 0:
            ax.legend(fontsize=7, frameon=False)
    fig.suptitle("Objectives two at a time (the front is non-dominated on all of them at "
                 "once, so a member may look dominated in one pair)", fontsize=9, wrap=True)
    fig.subplots_adjust(left=0.1, right=0.98, top=1 - 0.7 / fig.get_figheight(),
                        bottom=0.12, hspace=0.45, wspace=0.35)
    return fig


def hypervolumes(opt: Optimization, evaluations: pd.DataFrame) -> list[float]:
    """Per generation: the hypervolume of the front found so far, with every objective
    scaled from its best (0) to its worst (1) value over all feasible candidates and the
    reference point at 1.1 (larger is better; flat means the search has settled)."""
    from pymoo.indicators.hv import HV

    cols = [o.column for o in opt.objectives]
    ok = evaluations[evaluations["feasible"]]
    if ok.empty:
        return [math.nan] * int(evaluations["generation"].max())
    f_all = minimised(opt, ok[cols].to_numpy(dtype=float))
    lo, hi = f_all.min(axis=0), f_all.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    hv = HV(ref_point=np.full(len(cols), 1.1))
    out = []
    for g in range(1, int(evaluations["generation"].max()) + 1):
        upto = evaluations[evaluations["generation"] <= g]
        front = upto[front_mask(opt, upto)]
        if front.empty:
            out.append(0.0)
            continue
        f = (minimised(opt, front[cols].to_numpy(dtype=float)) - lo) / span
        out.append(float(hv(f)))
    return out


def convergence_figure(gens: pd.DataFrame) -> MplFigure:
    fig = _figure(8.5, 3.4)
    ax = fig.add_subplot(1, 2, 1)
    ax.plot(gens["generation"], gens["hypervolume"], marker="o")
    ax.set_xlabel("generation", fontsize=8)
    ax.set_ylabel("hypervolume of the front so far", fontsize=8)
    ax.grid(alpha=0.3)
    ax2 = fig.add_subplot(1, 2, 2)
    ax2.plot(gens["generation"], gens["front_so_far"], marker="o", color="#2ca02c")
    ax2.set_xlabel("generation", fontsize=8)
    ax2.set_ylabel("front members so far", fontsize=8)
    ax2.grid(alpha=0.3)
    for a in (ax, ax2):
        a.tick_params(labelsize=7)
    fig.suptitle("Search progress: a flat hypervolume means later generations found little "
                 "better", fontsize=9)
    fig.subplots_adjust(left=0.09, right=0.98, top=0.84, bottom=0.16, wspace=0.3)
    return fig


# --------------------------------------------------------------------------- report


def _front_table(opt: Optimization, front: pd.DataFrame) -> Table:
    header = ["member", *(f"{oc.label(o.outcome)} ({o.aggregate}, {o.better} is better)"
                          for o in opt.objectives),
              *(variable_label(k) for k in opt.variables)]
    rows = []
    for _, r in front.iterrows():
        rows.append([f"**{r['front_id']}** (knee)" if r["knee"] else str(r["front_id"]),
                     *((fmt(r[o.column]), float(r[o.column])) for o in opt.objectives),
                     *((value_text(k, r[k]), float(r[k])) for k in opt.variables)])
    return Table(header, rows, caption="Click a column header in the HTML report to sort.")


def _lever_table(opt: Optimization, front: pd.DataFrame) -> Table:
    rows = []
    for k in opt.variables:
        lo, hi = _axis_range(opt, k, front)
        v = front[k].astype(float)
        used = (v.max() - v.min()) / (hi - lo) if hi > lo else 0.0
        rows.append([variable_label(k), f"{value_text(k, lo)} to {value_text(k, hi)}",
                     f"{value_text(k, v.min())} to {value_text(k, v.max())}",
                     value_text(k, v.median()), (f"{used:.0%}", used)])
    return Table(["lever", "searched", "on the front", "median on the front",
                  "share of the range the front uses"], rows,
                 caption="A lever the front keeps in a narrow band is one every good "
                         "strategy agrees on; a lever spread over its range is what the "
                         "trade-off is made of.")


def write_outputs(opt: Optimization, out: Path, evaluations: pd.DataFrame,
                  gens: pd.DataFrame, timing: dict[str, float]) -> OptimizeResult:
    """Write every output of a finished search and return them."""
    mask = front_mask(opt, evaluations)
    first = opt.objectives[0]
    front = evaluations[mask].sort_values(first.column, ascending=first.better == "lower",
                                          kind="stable").reset_index(drop=True)
    width = max(2, len(str(len(front))))
    front.insert(0, "front_id", [f"front_{i + 1:0{width}d}" for i in range(len(front))])
    cols = [o.column for o in opt.objectives]
    knee_at = knee_index(minimised(opt, front[cols].to_numpy(dtype=float))) if len(front) \
        else -1
    front.insert(1, "knee", np.arange(len(front)) == knee_at)
    front = front.drop(columns=["feasible", "note"])
    paths: dict[str, Path] = {}
    with atomic_path(out / "front.csv") as tmp:
        front.to_csv(tmp, index=False)
    paths["front"] = out / "front.csv"
    paths["evaluations"] = out / "evaluations.parquet"
    gens = gens.copy()
    gens["hypervolume"] = hypervolumes(opt, evaluations)
    with atomic_path(out / "generations.csv") as tmp:
        gens.to_csv(tmp, index=False)
    paths["generations"] = out / "generations.csv"
    strategy_files = write_strategies(opt, out, front)
    sessions = session_timings(out)
    atomic_write_text(out / "timing.json", json.dumps({"sessions": sessions}, indent=2) + "\n")
    paths["timing"] = out / "timing.json"

    knee = front.iloc[knee_at] if len(front) else pd.Series(dtype=object)
    doc = Document(f"{opt.name}: the best trade-offs between "
                   + ", ".join(oc.label(o.outcome).lower() for o in opt.objectives))
    if opt.spec.description:
        doc.p(opt.spec.description)
    n_eval = int((~evaluations["label"].duplicated()).sum())
    n_feas = int((evaluations["feasible"] & ~evaluations["label"].duplicated()).sum())
    doc.h(2, "Headline", "headline")
    head = [f"The search tried {n_eval} distinct strategies ({len(gens)} generations of "
            f"{opt.spec.algorithm.population}, {ALGORITHMS[opt.spec.algorithm.name]}); "
            f"**{len(front)}** of them form the front: none of the others beats any of them "
            "on every objective at once. Objectives: "
            + "; ".join(objective_text(o, opt) for o in opt.objectives) + "."]
    if len(front) > max(3, n_feas // 3):
        head.append(f"With {len(opt.objectives)} objectives most candidates beat every other "
                    "on something, so the front is large: read the extremes and the knee "
                    "below first, and the front's figures for its shape.")
    if n_feas < n_eval:
        head.append(f"{n_eval - n_feas} candidate(s) were left out as infeasible (see "
                    "`evaluations.parquet`, column `note`).")
    if len(front):
        head += tradeoff_sentences(opt, front)
        levers = ", ".join(f"{variable_label(k)} {value_text(k, knee[k])}"
                           for k in opt.variables)
        objs = ", ".join(f"{oc.label(o.outcome).lower()} {objective_value(o, knee[o.column])}"
                         for o in opt.objectives)
        head.append(f"Balanced choice (the knee): **{knee['front_id']}**: {objs}; levers: "
                    f"{levers}. Its strategy file: `{STRATEGIES}/{knee['front_id']}.toml`.")
    doc.add(Box("What the search found", head))
    doc.p("The model's contexts are stylised and uncalibrated: read the front as the shape "
          "of the trade-offs in the model, not as a recommendation.")
    doc.h(2, "How to read this report", "how-to-read")
    futures_text = (f"{len(opt.futures)} futures (a {opt.spec.futures.kind.replace('_', ' ')} "
                    f"sample of {', '.join(oc.factor_label(k) for k in opt.factor_keys)})"
                    if opt.factor_keys else "one future (the context as it is)")
    doc.p(f"Every candidate strategy was simulated in the same {futures_text}, "
          f"{len(opt.seeds)} run(s) each with the same seeds for every candidate (common "
          f"random numbers), {opt.ticks} weeks per run, in the context "
          f"`{opt.context_path.name}`"
          + (f" starting from the strategy `{opt.strategy_path.name}`" if opt.strategy_path
             else "") + ". A candidate's objective is its outcome averaged over its runs in "
          "each future, then taken over the futures as the objective says (mean, median or "
          "a percentile: a high percentile of a lower-is-better outcome asks for strategies "
          "that stay good in bad futures).")
    doc.add(Glossary([(f"term-{k}", *oc.TERMS[k]) for k in ("front", "knee", "future")]))
    doc.add(Table(["outcome", "unit", "better", "what it counts"],
                  [[oc.label(o.outcome), oc.outcome(o.outcome).unit, o.better,
                    oc.outcome(o.outcome).what or f"`{o.outcome}`"] for o in opt.objectives]))
    doc.h(2, "The front", "front")
    if len(front):
        doc.add(_front_table(opt, front))
        doc.add(Figure("parallel_coordinates.png",
                       png_bytes(parallel_coordinates(opt, evaluations, front)),
                       "parallel coordinates of the front"))
        doc.add(Figure("objective_pairs.png",
                       png_bytes(objective_pairs(opt, evaluations, front)),
                       "objectives two at a time"))
        doc.h(3, "Levers on the front", "levers")
        doc.add(_lever_table(opt, front))
    else:
        doc.p("No feasible candidate: every candidate lacked an objective in some future "
              "(see the notes in `evaluations.parquet`).")
    doc.h(2, "Search", "search")
    doc.add(Table(["generation", "candidates", "infeasible", "runs", "run now",
                   "stored before", "front so far", "hypervolume", "seconds (this session)"],
                  [[str(int(r["generation"])), str(int(r["candidates"])),
                    str(int(r["infeasible"])), str(int(r["runs"])), str(int(r["runs_now"])),
                    str(int(r["runs_stored_before"])), str(int(r["front_so_far"])),
                    fmt(r["hypervolume"]), fmt(r["wall_s"])] for _, r in gens.iterrows()],
                  caption="Hypervolume: the volume the front so far dominates, with each "
                          "objective scaled from its best (0) to its worst (1) value over all "
                          "candidates and measured up to 1.1 (larger is better); runs stored "
                          "before: reused from an earlier session (--resume) or an identical "
                          "candidate."))
    doc.add(Figure("convergence.png", png_bytes(convergence_figure(gens)), "search progress"))
    doc.h(2, "Outputs and how to use them", "outputs")
    cmd = run_command(opt, out / STRATEGIES / (f"{knee['front_id']}.toml" if len(front)
                                                else "front_01.toml"))
    doc.add(Bullets([
        "`front.csv`: one row per front member (levers and objectives); "
        "`evaluations.parquet`: every candidate; `generations.csv`: the search.",
        f"`{STRATEGIES}/front_NN.toml`: one strategy file per member, accepted by "
        "`peacesim validate`, usable in experiments (`strategies = [...]`) and with "
        f"`peacesim run --strategy`, e.g. `{cmd}`"
        + (" (the context as it is, not one of the sampled futures)" if opt.factor_keys
           else "") + ".",
        "To compare front members with confidence, list their files in an experiment "
        "(more futures and replications) and run `peacesim sweep` and `peacesim compare`: "
        "the front is found on a fixed, small sample and is itself noisy.",
    ]))
    t = timing
    total = sum(x.get("total_s", 0.0) for x in sessions)
    worker = sum(x.get("worker_s", 0.0) for x in sessions)
    time_text = (f"{fmt(t.get('total_s'))} s (search {fmt(t.get('search_s'))} s, model runs "
                 f"{fmt(t.get('worker_s'))} s of worker time)")
    if len(sessions) > 1:
        time_text = (f"{len(sessions)} sessions, {fmt(total)} s in all and {fmt(worker)} s of "
                     f"worker time; this session {time_text}")
    doc.h(2, "About this search", "about")
    doc.add(Table(["", ""], [
        ["file", f"`{opt.path}` (sha256 `{opt.sha256[:12]}`)"],
        ["algorithm", f"{ALGORITHMS[opt.spec.algorithm.name]} (pymoo), population "
                      f"{opt.spec.algorithm.population}, {len(gens)} generations, seed "
                      f"{opt.seed}"],
        ["runs", f"{int(t.get('runs_now', 0))} run now, {int(t.get('runs_before', 0))} "
                 "stored before"],
        ["time", time_text + (f"; load average {t['load_average']:.1f} at the end"
                              if math.isfinite(t.get("load_average", math.nan)) else "")],
        ["replicate seeds", ", ".join(str(s) for s in opt.seeds)],
    ]))
    md, page, figures = doc.write(out, "report", FIGURES)
    paths.update(report=md, report_html=page, **{f"figure:{k}": v for k, v in figures.items()})
    return OptimizeResult(out=out, front=front, evaluations=evaluations, generations=gens,
                          knee=knee, strategy_files=strategy_files, paths=paths,
                          timing=timing, optimization=opt)
