"""Tables, figures and ``report.md`` of a sensitivity study (data in, files out).

Written into the study folder, each file atomically:

* ``indices.csv`` / ``indices.parquet``: every index in long form (output, method, n,
  factor, index, value, conf, low, high, above_noise);
* ``second_order.csv`` (Sobol with ``second_order``), ``convergence.csv``;
* ``sample.parquet``: the sample in order (one row per sample row: factor values as run and
  the replicate-mean outputs), so any other analysis can start from it;
* ``plots/sobol_<output>.png`` (S1 and ST with CIs, dummy shaded), ``plots/morris_<output>.png``
  (mu* against sigma), ``plots/convergence_<output>.png`` (index at N/2 against N);
* ``report.md``: ranking, the factors above the noise floor, convergence, notes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.config.study import SEED_FACTOR
from sim.io.store import atomic_path, atomic_write_bytes, atomic_write_text
from sim.viz.plots import _new_figure, figure_png

if TYPE_CHECKING:
    from sim.experiments.sweep import SweepStats
    from sim.sensitivity.study import Analysis, Study

MAIN_INDEX = {"sobol": "ST", "morris": "mu_star"}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def _write_table(df: pd.DataFrame, path: Path) -> Path:
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False)
    return path


def wide(analysis: Analysis, method: str, n: int) -> pd.DataFrame:
    """One row per output and factor, one column per index (and ``<index>_conf``)."""
    df = analysis.indices[(analysis.indices["method"] == method) & (analysis.indices["n"] == n)]
    if df.empty:
        return pd.DataFrame()
    val = df.pivot_table(index=["output", "factor"], columns="index", values="value",
                         sort=False, dropna=False)
    conf = df.pivot_table(index=["output", "factor"], columns="index", values="conf",
                          sort=False, dropna=False).add_suffix("_conf")
    out = val.join(conf)
    for col in ("above_dummy", "above_seed", "above_noise"):
        tested = df.dropna(subset=[col])
        if not tested.empty:
            out = out.join(tested.pivot_table(index=["output", "factor"], columns="index",
                                              values=col, aggfunc="first", sort=False)
                           .add_suffix(f"_{col}"))
    return out.reset_index()


def _bars(study: Study, analysis: Analysis, output: str) -> Any:
    df = wide(analysis, "sobol", study.spec.N)
    df = df[df["output"] == output].set_index("factor").loc[study.names]
    refs = study.references
    order = [*df.drop(index=refs).sort_values("ST", ascending=False).index, *refs]
    df = df.loc[order]
    fig = _new_figure(max(6.0, 0.55 * len(order) + 2), 4.2)
    ax = fig.add_axes((0.09, 0.3, 0.88, 0.6))
    pos = np.arange(len(order))
    for off, idx, colour in ((-0.2, "S1", "#4c72b0"), (0.2, "ST", "#dd8452")):
        ax.bar(pos + off, df[idx], width=0.4, yerr=df[f"{idx}_conf"], capsize=3, color=colour,
               label=f"{idx} ({int(study.spec.conf_level * 100)}% CI)")
    floor = max(float(df.loc[r, "ST"] + df.loc[r, "ST_conf"]) for r in refs)
    ax.axhline(floor, color="grey", ls="--", lw=1,
               label=f"noise floor ({' / '.join(refs)} ST + CI)")
    ax.axvspan(len(order) - len(refs) - 0.5, len(order) - 0.5, color="0.9", zorder=0)
    ax.set_xticks(pos, order, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("Sobol' index")
    ax.set_title(f"{study.name}: {output} (N = {study.spec.N}, "
                 f"{study.spec.replicates} replicate(s), seeds {study.spec.seed_policy})",
                 fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
    return fig


def _morris_plot(study: Study, analysis: Analysis, output: str) -> Any:
    df = wide(analysis, "morris", study.spec.N)
    df = df[df["output"] == output].set_index("factor")
    fig = _new_figure(6.4, 4.8)
    ax = fig.add_axes((0.12, 0.11, 0.84, 0.8))
    for f, row in df.iterrows():
        ref = f in study.references
        ax.errorbar(row["mu_star"], row["sigma"], xerr=row["mu_star_conf"], fmt="o",
                    color="grey" if ref else "#4c72b0", ms=5, capsize=2)
        ax.annotate(str(f), (row["mu_star"], row["sigma"]), fontsize=7,
                    xytext=(4, 3), textcoords="offset points")
    top = float(np.nanmax(np.r_[df["mu_star"] + df["mu_star_conf"], 1e-12]))
    xs = np.linspace(0, top * 1.05, 10)
    ax.plot(xs, xs, color="0.6", lw=0.8, ls=":", label="sigma = mu* (non-linear or "
            "interacting above)")
    ax.set_xlabel("mu* (mean |elementary effect|)")
    ax.set_ylabel("sigma (sd of elementary effects)")
    ax.set_title(f"{study.name}: {output} (Morris, {study.spec.N} trajectories)", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def _convergence_plot(study: Study, analysis: Analysis, output: str) -> Any:
    df = analysis.convergence[analysis.convergence["output"] == output]
    fig = _new_figure(5.2, 4.6)
    ax = fig.add_axes((0.14, 0.12, 0.82, 0.78))
    for idx, marker in zip(df["index"].unique(), "osd^", strict=False):
        d = df[df["index"] == idx]
        ax.errorbar(d["value_full"], d["value_half"], xerr=d["conf_full"], fmt=marker, ms=4,
                    capsize=2, label=idx)
    lim = np.nanmax(np.abs(np.r_[df["value_full"], df["value_half"], 1e-12])) * 1.1
    ax.plot([-lim * 0.05, lim], [-lim * 0.05, lim], color="0.6", lw=0.8)
    ax.set_xlabel(f"index at N = {study.spec.N}")
    ax.set_ylabel(f"index at N = {study.spec.N // 2}")
    ax.set_title(f"{output}: convergence", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def _png(fig: Any, path: Path) -> Path:
    return atomic_write_bytes(path, figure_png(fig))


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    return f"{v:.{digits}f}"


def _markdown(df: pd.DataFrame) -> str:
    head = "| " + " | ".join(df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _cell(ranked: pd.DataFrame, c: str, i: int) -> str:
    v = ranked[c].iloc[i]
    conf = f"{c}_conf"
    if conf in ranked and np.isfinite(ranked[conf].iloc[i]):
        return f"{_fmt(v)} ± {_fmt(ranked[conf].iloc[i])}"
    return _fmt(v)


def _flag(ranked: pd.DataFrame, refs: list[str], col: str, i: int) -> str:
    if ranked["factor"].iloc[i] in refs or col not in ranked:
        return ""
    return "yes" if bool(ranked[col].iloc[i]) else "**no**"


def report_text(study: Study, analysis: Analysis, stats: SweepStats, seconds: float) -> str:
    """The study's ``report.md``: what ran, the ranking per output, the factors above the
    noise floor and how far the indices moved from N/2 to N."""
    spec = study.spec
    main = MAIN_INDEX[spec.method]
    lines = [f"# Sensitivity study: {study.name}", ""]
    if spec.description:
        lines += [spec.description.strip(), ""]
    model = f"function `{spec.function}`" if spec.function else \
        f"`{study.source}`, {study.ticks} ticks"
    model = model.replace(str(Path.cwd()) + "/", "")
    lines += [
        f"- model: {model}",
        f"- method: {spec.method}, N = {spec.N} "
        f"({'base samples' if spec.method == 'sobol' else 'trajectories'}), "
        f"{study.model_factors} factors + noise references "
        f"{' and '.join(f'`{r}`' for r in study.references)}"
        + (", second order" if spec.second_order else "")
        + (f", also {', '.join(spec.also)}" if spec.also else ""),
        f"- runs: {study.rows} sample rows x {spec.replicates} replicate(s) = {study.runs} "
        f"({stats.distinct} distinct; {stats.done} run now, {stats.skipped} from before); "
        f"seed policy `{spec.seed_policy}`, seed {spec.seed}",
        f"- executor: {stats.executor or 'none needed (all runs stored)'}; wall time "
        f"{seconds:.1f} s (runs {stats.pool_s:.1f} s)",
        f"- CIs: {int(spec.conf_level * 100)}% bootstrap ({spec.bootstrap} resamples); a "
        f"factor is *above the noise floor* when its {main} minus CI exceeds the {main} plus "
        f"CI of every noise reference ({', '.join(study.references)})",
        "",
    ]
    if analysis.skipped:
        analysed = analysis.analysed
        lines += ["**Not analysed:** " + "; ".join(
            f"`{o}` is {why}" for o, why in analysis.skipped.items()) + ". "
            + (f"Analysed: {', '.join(f'`{o}`' for o in analysed)}." if analysed else
               "No output could be analysed: choose outputs that vary over the sample "
               "(other summary keys, longer runs or wider factor ranges)."), ""]
    if spec.seed_policy == "common":
        lines += [f"Common random numbers: the dummy `{spec.dummy}`'s runs repeat their base "
                  "rows exactly, so its indices are zero"
                  + (f"; the seed factor `{study.references[-1]}` changes nothing but the "
                     "random numbers of its rows, so its indices are what noise alone "
                     "produces." if spec.seed_factor else
                     "; the noise of the model shows only in the CI widths (add the seed "
                     "factor for a noise reference)."), ""]
    for output in spec.outputs:
        lines += [f"## {output}", ""]
        for note in analysis.notes.get(output, []):
            lines.append(f"- note: {note}")
        df = wide(analysis, spec.method, spec.N)
        df = df[df["output"] == output] if not df.empty else df
        if df.empty:
            lines.append("")
            continue
        refs = study.references
        real = df[~df["factor"].isin(refs)].sort_values(main, ascending=False)
        ranked = pd.concat([real, df.set_index("factor").loc[refs].reset_index()])
        cols = ("S1", "ST") if spec.method == "sobol" else ("mu_star", "sigma")

        idx = range(len(ranked))
        table = pd.DataFrame({
            "rank": [str(i + 1) for i in range(len(real))] + [f"(noise: {r})" for r in refs],
            "factor": ranked["factor"],
            **{c: [_cell(ranked, c, i) for i in idx] for c in cols},
            f"> {spec.dummy}": [_flag(ranked, refs, f"{main}_above_dummy", i) for i in idx],
            **({f"> {SEED_FACTOR}": [_flag(ranked, refs, f"{main}_above_seed", i)
                                     for i in idx]} if spec.seed_factor else {}),
            "above noise": [_flag(ranked, refs, f"{main}_above_noise", i) for i in idx],
        })
        lines += [_markdown(table), ""]
        flags = dict(zip(real["factor"], real[f"{main}_above_noise"], strict=True))
        above = [f for f, a in flags.items() if bool(a)]
        below = [f for f, a in flags.items() if not bool(a)]
        lines.append(f"Above the noise floor ({main}): "
                     f"{', '.join(above) if above else 'none'}.")
        if below:
            lines.append(f"Not distinguishable from noise: {', '.join(below)}.")
        share = analysis.noise_share.get(output)
        if share is not None:
            lines.append(f"Noise share of the variance of the row means (within-row variance "
                         f"/ {spec.replicates} over their variance): {share:.3f}.")
        conv = analysis.convergence[analysis.convergence["output"] == output]
        conv = conv[np.isfinite(conv["conf_full"].astype(float))]
        if not conv.empty:
            worst = conv.loc[conv["change"].idxmax()]
            n_in = int(conv["within_ci"].astype(bool).sum())
            lines.append(
                f"Convergence N = {spec.N // 2} -> {spec.N}: largest move "
                f"{worst['change']:.3f} ({worst['index']} of {worst['factor']}); "
                f"{n_in} of {len(conv)} indices moved less than their CI half-width at N"
                + (" (converged at this precision)." if n_in == len(conv) else
                   ": not converged, increase N."))
        for extra in spec.also:
            ex = wide(analysis, extra, spec.N)
            ex = ex[ex["output"] == output]
            if ex.empty:
                continue
            col = "delta" if extra == "delta" else "median"
            ex = ex.sort_values(col, ascending=False)
            lines += ["", f"{extra} ({'Borgonovo delta' if extra == 'delta' else 'median KS'}"
                      "; compare with the noise references): "
                      + ", ".join(f"{f} {_fmt(v)}" for f, v in zip(ex["factor"], ex[col],
                                                                    strict=True))]
        lines.append("")
    lines += ["## Files", "",
              "indices.csv / indices.parquet (all indices, long form), convergence.csv, "
              "sample.parquet (sample in order with outputs)"
              + (", second_order.csv" if spec.second_order else "")
              + ", plots/ (bar charts, Morris plots, convergence).", ""]
    return "\n".join(lines)


def write_outputs(study: Study, out: Path, x: np.ndarray, y: np.ndarray, analysis: Analysis,
                  stats: SweepStats, seconds: float) -> list[Path]:
    """Write the study's tables, figures and report; returns the paths written."""
    out = Path(out)
    files = [
        _write_table(analysis.indices, out / "indices.csv"),
        _write_table(analysis.indices, out / "indices.parquet"),
        _write_table(analysis.convergence, out / "convergence.csv"),
    ]
    if not analysis.second_order.empty:
        files.append(_write_table(analysis.second_order, out / "second_order.csv"))
    sample = pd.DataFrame(x, columns=study.names)
    for j, (name, kind) in enumerate(zip(study.names, study.kinds, strict=True)):
        if kind == "int":
            sample[name] = np.rint(x[:, j]).astype(np.int64)
    sample.insert(0, "row", np.arange(len(x)))
    sample.insert(1, "block", np.arange(len(x)) // study.block)
    for j, o in enumerate(study.spec.outputs):
        sample[o] = y[:, j]
    files.append(_write_table(sample, out / "sample.parquet"))
    plots = out / "plots"
    analysed = analysis.indices["output"].unique()
    for output in study.spec.outputs:
        if output not in analysed:
            continue
        if study.spec.method == "sobol":
            files.append(_png(_bars(study, analysis, output), plots / f"sobol_{_slug(output)}.png"))
        else:
            files.append(_png(_morris_plot(study, analysis, output),
                              plots / f"morris_{_slug(output)}.png"))
        files.append(_png(_convergence_plot(study, analysis, output),
                          plots / f"convergence_{_slug(output)}.png"))
    files.append(atomic_write_text(out / "report.md", report_text(study, analysis, stats,
                                                                  seconds)))
    return files
