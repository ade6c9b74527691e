"""A calibration's outputs: posterior table, generations, predictive check, figures, report.

Everything here reads the pyabc history (``abc.db``) or takes plain tables, and every file is
written atomically, so a calibration killed while writing leaves the previous file (or none)
and ``--resume`` writes them again.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.config.calibration import Calibration, Prior
from sim.io.store import atomic_path, atomic_write_text, write_json

if TYPE_CHECKING:
    from sim.calibration.abc import ParticleRunner

DB_NAME = "abc.db"  #: pyabc's database in the calibration folder
PPC_STREAM = 2**31 - 1  #: seed-sequence word of the posterior predictive check's runs
GENERATIONS_CSV = "generations.csv"
ABC_EXPLAINED = (
    "Approximate Bayesian computation (ABC) fits a simulation model without a likelihood: "
    "it draws parameter values from the prior, simulates the model with each, and keeps the "
    "values whose simulated statistics come close to the observed ones, so the kept values "
    "approximate the posterior distribution. The sequential Monte Carlo version (ABC-SMC, "
    "pyabc) repeats this over generations, proposing new values around the survivors of the "
    "last generation and tightening the threshold for 'close' each time.")


# --------------------------------------------------------------------------- numbers


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float | list[float]
                      ) -> np.ndarray:
    """Quantiles of a weighted sample (midpoint interpolation of the weighted CDF)."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    order = np.argsort(v)
    v, w = v[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(np.atleast_1d(q), cdf, v)


def prior_dist(p: Prior) -> Any:
    """The prior as a frozen scipy distribution (same parameterisation as the pyabc RV)."""
    from scipy import stats

    a = p.args
    if p.kind == "uniform":
        return stats.uniform(a[0], a[1] - a[0])
    if p.kind == "loguniform":
        return stats.loguniform(a[0], a[1])
    if p.kind == "normal":
        return stats.norm(a[0], a[1])
    lo, hi, mean, sd = a
    return stats.truncnorm((lo - mean) / sd, (hi - mean) / sd, mean, sd)


def _fmt(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) < 0.001:
        return f"{x:.3g}"
    return f"{x:.4g}"


# --------------------------------------------------------------------------- posterior


def read_posterior(cal: Calibration, out: Path) -> pd.DataFrame:
    """The last generation: one row per particle, one column per parameter key (values as the
    runs used them: whole-number parameters rounded) and ``weight`` (summing to 1)."""
    import pyabc

    h = pyabc.History(f"sqlite:///{(out / DB_NAME).resolve()}", create=False)
    df, w = h.get_distribution(m=0, t=h.max_t)
    post = pd.DataFrame({p.key: (np.round(df[p.key].to_numpy()).astype(np.int64) if p.integer
                                 else df[p.key].to_numpy(dtype=float)) for p in cal.priors})
    post["weight"] = np.asarray(w, dtype=float) / float(np.sum(w))
    return post.reset_index(drop=True)


def parameter_table(cal: Calibration, post: pd.DataFrame) -> pd.DataFrame:
    """Per parameter: posterior median and 90% interval, prior 90% interval, and how much
    narrower the posterior is."""
    rows = []
    for p in cal.priors:
        q05, q50, q95 = weighted_quantile(post[p.key].to_numpy(), post["weight"].to_numpy(),
                                          [0.05, 0.5, 0.95])
        d = prior_dist(p)
        p05, p95 = float(d.ppf(0.05)), float(d.ppf(0.95))
        rows.append({"parameter": p.key, "unit": p.unit, "prior": p.describe(),
                     "median": q50, "q05": q05, "q95": q95, "prior_q05": p05,
                     "prior_q95": p95, "width_ratio": (q95 - q05) / (p95 - p05)})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- generations


def read_walls(out: Path) -> dict[int, dict[str, float]]:
    """Per-generation times recorded by earlier sessions (from ``generations.csv``)."""
    path = out / GENERATIONS_CSV
    if not path.is_file():
        return {}
    df = pd.read_csv(path)
    cols = [c for c in ("wall_s", "sampling_s", "database_s") if c in df.columns]
    return {int(r["generation"]): {c: float(r[c]) for c in cols} for _, r in df.iterrows()}


def generations_table(cal: Calibration, pops: pd.DataFrame,
                      walls: dict[int, dict[str, float]]) -> pd.DataFrame:
    """One row per generation: epsilon, acceptance rate, particles, simulations, times (the
    prior sample that calibrates the distance is counted in generation 0)."""
    pre = int(pops.loc[pops["t"] < 0, "samples"].sum()) if len(pops) else 0
    gens = pops[pops["t"] >= 0].sort_values("t")
    rows = []
    for _, r in gens.iterrows():
        t = int(r["t"])
        samples = int(r["samples"]) + (pre if t == 0 else 0)
        rows.append({"generation": t, "epsilon": float(r["epsilon"]),
                     "acceptance_rate": float(r["particles"]) / float(r["samples"]),
                     "particles": int(r["particles"]), "particles_simulated": samples,
                     "simulations": samples * cal.spec.replicates,
                     **{k: walls.get(t, {}).get(k, math.nan)
                        for k in ("wall_s", "sampling_s", "database_s")}})
    return pd.DataFrame(rows, columns=["generation", "epsilon", "acceptance_rate", "particles",
                                       "particles_simulated", "simulations", "wall_s",
                                       "sampling_s", "database_s"])


def write_generations(cal: Calibration, out: Path, pops: pd.DataFrame,
                      walls: dict[int, dict[str, float]]) -> Path:
    table = generations_table(cal, pops, walls)
    return atomic_write_text(out / GENERATIONS_CSV, table.to_csv(index=False))


# --------------------------------------------------------------------------- predictive check


def predictive_draws(cal: Calibration, runner: ParticleRunner, post: pd.DataFrame
                     ) -> pd.DataFrame:
    """Simulate ``ppc_draws`` parameter sets drawn from the posterior (by weight): one row per
    draw with its parameters and every target's statistic (fitted and held out)."""
    seed = cal.spec.seed
    rng = np.random.default_rng(np.random.SeedSequence([seed, PPC_STREAM]))
    n = cal.spec.abc.ppc_draws
    idx = rng.choice(len(post), size=n, replace=True, p=post["weight"].to_numpy())
    names = [t.name for t in cal.targets]
    lock = threading.Lock()
    rows: dict[int, dict[str, Any]] = {}

    def one(i: int) -> None:
        values = {p.key: float(post[p.key].iloc[idx[i]]) for p in cal.priors}
        stats = runner.statistics(values, [seed, PPC_STREAM, i], names)
        with lock:
            rows[i] = {"draw": i, **values, **stats}

    with ThreadPoolExecutor(max_workers=2 * runner.pool.slots + 2) as tp:
        for f in [tp.submit(one, i) for i in range(n)]:
            f.result()
    return pd.DataFrame([rows[i] for i in range(n)])


def ppc_table(cal: Calibration, draws: pd.DataFrame) -> pd.DataFrame:
    """Per target: observed value, predictive median and 90% interval, whether the observed
    value lies inside, and the share of draws below it (near 0 or 1: not reproduced)."""
    rows = []
    for t in cal.targets:
        v = draws[t.name].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        if len(v):
            q05, q50, q95 = np.quantile(v, [0.05, 0.5, 0.95])
            below = float(np.mean(v < t.observed) + 0.5 * np.mean(v == t.observed))
        else:
            q05 = q50 = q95 = below = math.nan
        rows.append({"target": t.name, "model_statistic": t.model_statistic,
                     "holdout": t.holdout, "observed": t.observed, "median": q50,
                     "q05": q05, "q95": q95,
                     "inside_90": bool(len(v) and q05 <= t.observed <= q95),
                     "share_below_observed": below, "draws": int(len(v)),
                     "source": t.source})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- figures


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _limits(p: Prior) -> tuple[float, float]:
    lo, hi = p.support
    if math.isfinite(lo) and math.isfinite(hi):
        return lo, hi
    d = prior_dist(p)
    return float(d.ppf(0.005)), float(d.ppf(0.995))


def plot_pairs(cal: Calibration, post: pd.DataFrame, path: Path) -> Path:
    """Posterior pairs plot: weighted histograms on the diagonal, particles (sized by
    weight) below it; axes span the prior."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = len(cal.priors)
    fig, axes = plt.subplots(k, k, figsize=(2.8 * k + 0.6, 2.8 * k + 0.4), squeeze=False)
    w = post["weight"].to_numpy()
    for i, pi in enumerate(cal.priors):
        for j, pj in enumerate(cal.priors):
            ax = axes[i][j]
            if j > i:
                ax.axis("off")
                continue
            if i == j:
                ax.hist(post[pi.key], bins=25, weights=w, range=_limits(pi), color="tab:blue",
                        alpha=0.8)
                ax.set_yticks([])
            else:
                ax.scatter(post[pj.key], post[pi.key], s=4 + 40 * w / w.max(),
                           color="tab:blue", alpha=0.6, edgecolors="none")
                ax.set_ylim(*_limits(pi))
            ax.set_xlim(*_limits(pj))
            if i == k - 1:
                ax.set_xlabel(pj.key, fontsize=8)
            if j == 0 and i != j:
                ax.set_ylabel(pi.key, fontsize=8)
            ax.tick_params(labelsize=7)
    fig.suptitle(f"{cal.name}: posterior (last generation, {len(post)} particles)",
                 fontsize=10)
    return _save(fig, path)


def plot_marginals(cal: Calibration, post: pd.DataFrame, path: Path) -> Path:
    """Prior density against the posterior's weighted histogram, per parameter, with the
    posterior median and 90% interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = len(cal.priors)
    cols = min(k, 3)
    rows = math.ceil(k / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    w = post["weight"].to_numpy()
    for n, p in enumerate(cal.priors):
        ax = axes[n // cols][n % cols]
        lo, hi = _limits(p)
        x = np.linspace(lo, hi, 300)
        ax.hist(post[p.key], bins=30, range=(lo, hi), weights=w, density=True,
                color="tab:blue", alpha=0.6, label="posterior")
        ax.plot(x, prior_dist(p).pdf(x), color="0.3", lw=1.5, ls="--", label="prior")
        q05, q50, q95 = weighted_quantile(post[p.key].to_numpy(), w, [0.05, 0.5, 0.95])
        ax.axvline(q50, color="tab:red", lw=1.2, label="median")
        ax.axvspan(q05, q95, color="tab:red", alpha=0.1, label="90% interval")
        unit = "" if p.unit in ("-", "") else f" [{p.unit}]"
        ax.set_xlabel(p.key + unit, fontsize=8)
        ax.tick_params(labelsize=7)
        if n == 0:
            ax.legend(fontsize=7)
    for n in range(k, rows * cols):
        axes[n // cols][n % cols].axis("off")
    fig.suptitle(f"{cal.name}: prior and posterior marginals", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def plot_ppc(cal: Calibration, draws: pd.DataFrame, table: pd.DataFrame, path: Path) -> Path:
    """Per target: the posterior predictive distribution and the observed value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = len(cal.targets)
    cols = min(k, 3)
    rows = math.ceil(k / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for n, t in enumerate(cal.targets):
        ax = axes[n // cols][n % cols]
        v = draws[t.name].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        r = table.iloc[n]
        color = "tab:orange" if t.holdout else "tab:blue"
        if len(v):
            ax.hist(v, bins=20, color=color, alpha=0.7)
            ax.axvspan(r["q05"], r["q95"], color=color, alpha=0.12)
        ax.axvline(t.observed, color="k", lw=2, label="observed")
        ax.set_title(f"{t.name}{' (hold-out)' if t.holdout else ''}", fontsize=9)
        ax.set_xlabel(t.model_statistic, fontsize=8)
        ax.tick_params(labelsize=7)
        if n == 0:
            ax.legend(fontsize=7)
    for n in range(k, rows * cols):
        axes[n // cols][n % cols].axis("off")
    fig.suptitle(f"{cal.name}: posterior predictive check ({len(draws)} draws)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


# --------------------------------------------------------------------------- report


def _verdict(r: pd.Series) -> str:
    if not math.isfinite(r["median"]):
        return "not simulated (no run has it)"
    if r["inside_90"]:
        return "reproduced (inside the 90% predictive interval)"
    side = "above" if r["observed"] > r["q95"] else "below"
    return f"not reproduced (observed is {side} the 90% predictive interval)"


def report_markdown(cal: Calibration, post: pd.DataFrame, gens: pd.DataFrame,
                    params: pd.DataFrame, ppc: pd.DataFrame, timing: dict[str, float]) -> str:
    fitted = ppc[~ppc["holdout"]]
    held = ppc[ppc["holdout"]]
    sims = int(gens["simulations"].sum()) if len(gens) else 0
    lines = [f"# Calibration: {cal.name}", ""]
    reproduced = int(fitted["inside_90"].sum())
    head = (f"**{len(cal.priors)} parameter(s) of `{cal.scenario_file.name}` fitted to "
            f"{len(cal.fitted)} target(s) with ABC-SMC: {len(gens)} generation(s) of "
            f"{cal.spec.abc.population} particles, {sims:,} simulations of {cal.ticks} ticks "
            f"({cal.spec.replicates} replicate(s) per particle). {reproduced} of "
            f"{len(fitted)} fitted target(s) fall inside the posterior predictive 90% "
            "interval")
    if len(held):
        head += f"; hold-out: {int(held['inside_90'].sum())} of {len(held)} inside."
    else:
        head += "."
    lines += [head + "**", ""]
    if cal.spec.description:
        lines += [cal.spec.description.strip(), ""]
    lines += ["## Parameters", "",
              "Posterior median and 90% interval (5% to 95% weighted quantiles of the last "
              "generation), against the prior's 90% interval; *width* is the posterior "
              "interval's width as a share of the prior's (small: the targets pin the "
              "parameter down; near 1: they say little about it).", "",
              "| parameter | unit | median | 90% interval | prior | prior 90% | width |",
              "|---|---|---|---|---|---|---|"]
    for _, r in params.iterrows():
        lines.append(f"| `{r['parameter']}` | {r['unit']} | {_fmt(r['median'])} | "
                     f"{_fmt(r['q05'])} to {_fmt(r['q95'])} | {r['prior']} | "
                     f"{_fmt(r['prior_q05'])} to {_fmt(r['prior_q95'])} | "
                     f"{r['width_ratio']:.0%} |")
    lines += ["", "![marginals](marginals.png)", "", "![pairs](pairs.png)", "",
              "## Targets", "",
              f"Posterior predictive check: {cal.spec.abc.ppc_draws} parameter sets drawn "
              f"from the posterior, each simulated with {cal.spec.replicates} replicate(s) "
              "(averaged, as in the fit). *below* is the share of draws below the observed "
              "value (near 0 or 1: the model does not reach it).", "",
              "| target | run statistic | observed | predictive median | 90% interval | "
              "below | verdict |", "|---|---|---|---|---|---|---|"]
    for _, r in ppc.iterrows():
        tag = " (hold-out)" if r["holdout"] else ""
        lines.append(f"| {r['target']}{tag} | `{r['model_statistic']}` | "
                     f"{_fmt(r['observed'])} | {_fmt(r['median'])} | {_fmt(r['q05'])} to "
                     f"{_fmt(r['q95'])} | {_fmt(r['share_below_observed'])} | "
                     f"{_verdict(r)} |")
    lines += ["", "Where the observed values come from:", ""]
    for t in cal.targets:
        lines.append(f"- {t.name}: {t.source}")
    lines += ["", "![ppc](ppc.png)", "", "## Hold-out", ""]
    if len(held):
        ok = int(held["inside_90"].sum())
        verdict = ("the calibrated model reproduces every hold-out target out of sample"
                   if ok == len(held) else
                   f"the calibrated model misses {len(held) - ok} of {len(held)} hold-out "
                   "target(s) out of sample: treat predictions of those quantities with care")
        lines.append(f"Hold-out targets were not used in the fit. Verdict: {verdict}.")
        for _, r in held.iterrows():
            lines.append(f"- {r['target']}: observed {_fmt(r['observed'])}, predicted "
                         f"{_fmt(r['median'])} ({_fmt(r['q05'])} to {_fmt(r['q95'])}): "
                         f"{_verdict(r)}.")
    else:
        lines.append("No target was held out, so there is no out-of-sample check; mark one "
                     "with `holdout = true` to get one.")
    lines += ["", "## Generations", "",
              "| generation | epsilon | acceptance rate | particles simulated | "
              "simulations | wall time (s) |", "|---|---|---|---|---|---|"]
    for _, r in gens.iterrows():
        lines.append(f"| {int(r['generation'])} | {_fmt(r['epsilon'])} | "
                     f"{r['acceptance_rate']:.3f} | {int(r['particles_simulated'])} | "
                     f"{int(r['simulations'])} | {_fmt(r['wall_s'])} |")
    lines += ["", "Epsilon is the acceptance threshold on the distance between simulated and "
              "observed statistics, each divided by its median absolute deviation over the "
              "previous generation (pyabc's AdaptivePNormDistance); as the scales adapt, "
              "epsilons of different generations are not strictly comparable.", "",
              "## Timing", ""]
    total = timing.get("total_s", math.nan)
    lines.append(
        f"Total {_fmt(total)} s: ABC generations {_fmt(timing.get('abc_s', math.nan))} s "
        f"(waiting for particles {_fmt(timing.get('sampling_s', math.nan))} s, pyabc's "
        f"database {_fmt(timing.get('database_s', math.nan))} s), predictive check "
        f"{_fmt(timing.get('ppc_s', math.nan))} s; {int(timing.get('runs', 0)):,} model runs "
        f"took {_fmt(timing.get('worker_s', math.nan))} s of worker time "
        f"({_fmt(timing.get('worker_cpu_s', math.nan))} s CPU) in this session; the "
        f"coordinator (pyabc, this process) used {_fmt(timing.get('coordinator_cpu_s', math.nan))}"
        f" s CPU; load average {_fmt(timing.get('load_average_start', math.nan))} at the "
        "start.")
    lines += ["", "## What ABC is", "", ABC_EXPLAINED, "",
              "Files: `posterior.parquet` (last generation: one column per parameter and "
              "`weight`), `generations.csv`, `ppc.csv`, `ppc_draws.csv`, `abc.db` (pyabc's "
              "history: every generation), `manifest.json`, `calibration.toml`.", ""]
    return "\n".join(lines)


def write_outputs(cal: Calibration, out: Path, post: pd.DataFrame, gens: pd.DataFrame,
                  draws: pd.DataFrame, timing: dict[str, float]) -> dict[str, Path]:
    """Write every output file; returns their paths."""
    paths: dict[str, Path] = {}
    with atomic_path(out / "posterior.parquet") as tmp:
        post.to_parquet(tmp, index=False)
    paths["posterior"] = out / "posterior.parquet"
    paths["generations"] = atomic_write_text(out / GENERATIONS_CSV, gens.to_csv(index=False))
    ppc = ppc_table(cal, draws)
    paths["ppc"] = atomic_write_text(out / "ppc.csv", ppc.to_csv(index=False))
    paths["ppc_draws"] = atomic_write_text(out / "ppc_draws.csv", draws.to_csv(index=False))
    params = parameter_table(cal, post)
    paths["parameters"] = atomic_write_text(out / "parameters.csv",
                                            params.to_csv(index=False))
    paths["pairs"] = plot_pairs(cal, post, out / "pairs.png")
    paths["marginals"] = plot_marginals(cal, post, out / "marginals.png")
    paths["ppc_plot"] = plot_ppc(cal, draws, ppc, out / "ppc.png")
    paths["timing"] = write_json(out / "timing.json", timing)
    paths["report"] = atomic_write_text(
        out / "report.md", report_markdown(cal, post, gens, params, ppc, timing))
    return paths


__all__ = ["parameter_table", "ppc_table", "read_posterior", "weighted_quantile"]
