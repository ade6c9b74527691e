"""Scenario discovery: under which conditions does an outcome occur (or a strategy fail)?

``peacesim discover SWEEP_DIR --outcome KEY --above X`` (or :func:`discover` from Python)
marks the runs of interest (``KEY > X``, or ``< X`` with ``--below``), optionally of one
strategy and one context, and searches the sweep's uncertain factors (the design's factor
columns: sampled by a latin hypercube, or the levels of a full factorial) for the conditions
that concentrate them, with EMA Workbench's PRIM and CART (``ema_workbench.analysis``):

* PRIM (patient rule induction) peels the factor space step by step, each step removing a
  thin slice that holds few runs of interest. Every box on the way is a candidate: its
  *coverage* is the share of all runs of interest inside it, its *density* the share of the
  runs inside it that are of interest. The peeling uses the original objective (the mean of
  the box, Friedman and Fisher 1999), so the trajectory goes down to the minimum mass.
  Each limit of a box has a *quasi-p-value* (Bryant and Lempert 2010): a one-sided binomial
  test of whether the density would be as high without that limit.
* The box reported is, by default (:data:`RULE`): the box of the trajectory with the
  highest harmonic mean of coverage and density (the F1 score of the box as a classifier
  of the runs of interest) among those that restrict at least one factor and are at least
  ``min_density`` dense; then limits whose quasi-p-value is 0.05 or more are dropped one at
  a time, the least significant first (one side of a factor at a time, through the box's
  ``update``: EMA's ``drop_restriction`` would drop both sides), so the box keeps only
  limits that matter. ``box=N`` picks box N of the trajectory as it is.
* CART (a classification tree, scikit-learn through EMA) splits the same runs into leaves;
  its leaves with many runs of interest are alternative boxes.

Everything is written to ``SWEEP_DIR/discovery/`` (or ``out``): ``report.md``, a
self-contained ``report.html``, ``boxes.csv`` (one row per restricted factor of the chosen
box: factor, lower, upper, with the box's coverage and density), ``trajectory.csv``,
``cart_leaves.csv`` and the figures (peeling trajectory, box limits, the runs in the box,
the tree).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Rectangle

from sim.experiments import outcomes as oc
from sim.experiments.html import Box, Bullets, Document, Figure, Glossary, Table, png_bytes
from sim.experiments.outcomes import fmt
from sim.experiments.store import open_store, read_summaries
from sim.io.store import atomic_path

FOLDER = "discovery"
ALPHA = 0.05  #: a limit is kept when its quasi-p-value is below this
RULE = ("highest F1 (harmonic mean of coverage and density) among boxes that restrict at "
        "least one factor and reach the minimum density; then limits with quasi-p >= 0.05 "
        "dropped one at a time, the least significant first")


class DiscoveryError(ValueError):
    """A sweep or options that scenario discovery cannot use; CLI exit 2."""


def _ema() -> tuple[Any, Any, Any]:
    """EMA Workbench's prim and cart modules and PRIM's objective functions (imported only
    when needed: the import is slow and warns about optional parallel back-ends)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import cart, prim
            from ema_workbench.analysis.prim_util import PRIMObjectiveFunctions
    except ImportError as exc:
        raise DiscoveryError(f"scenario discovery needs EMA Workbench ({exc}); install it with "
                             "pip install 'peacesim[analysis]'") from None
    return prim, cart, PRIMObjectiveFunctions


# --------------------------------------------------------------------------- analysis


@dataclass
class Analysis:
    """PRIM and CART on one data set, with the box chosen: what the report shows."""

    x: pd.DataFrame  #: the factors, one row per run
    y: np.ndarray  #: 1 for a run of interest
    trajectory: pd.DataFrame  #: one row per box: id, coverage, density, mass, res_dim, ...
    peeled: int  #: boxes found by peeling and pasting (later rows: limits dropped)
    candidate: int | None  #: the box the rule started from (None: ``box`` was given)
    chosen: int  #: the box reported
    limits: pd.DataFrame  #: one row per restricted factor of the chosen box
    leaves: pd.DataFrame  #: CART's leaves, densest first
    cart: Any = field(repr=False)  #: EMA's CART object (``.clf`` is the scikit-learn tree)
    prim_box: Any = field(repr=False)  #: EMA's PrimBox
    notes: list[str] = field(default_factory=list)

    @property
    def base_rate(self) -> float:
        return float(self.y.mean())

    @property
    def stats(self) -> pd.Series:
        return self.trajectory.loc[self.chosen]

    def in_box(self, i: int | None = None) -> np.ndarray:
        """Which runs lie in box ``i`` (default: the chosen one)."""
        lims = self.prim_box.box_lims[self.chosen if i is None else i]
        mask = np.ones(len(self.x), dtype=bool)
        for col in self.x.columns:
            lo, hi = lims.at[0, col], lims.at[1, col]
            if isinstance(lo, set):
                mask &= self.x[col].isin(lo).to_numpy()
            else:
                v = self.x[col].to_numpy(dtype=float)
                mask &= (v >= lo) & (v <= hi)
        return mask


def _prepare(x: pd.DataFrame) -> pd.DataFrame:
    """Numbers as float (PRIM peels them continuously), anything else as categories."""
    x = x.reset_index(drop=True).copy()
    for col in x.columns:
        num = pd.to_numeric(x[col], errors="coerce")
        if num.notna().all():
            x[col] = num.astype(float)
        else:
            x[col] = x[col].astype(str).astype("category")
    return x


def _qp_max(p_values: dict[str, list[float]]) -> float:
    vals = [v for pair in p_values.values() for v in pair if v is not None and v >= 0]
    return max(vals) if vals else math.nan


def _limits(box: Any, i: int, x: pd.DataFrame) -> pd.DataFrame:
    """Restricted factors of box ``i``: lower and upper limits (categories: the values
    kept), the data's range and the quasi-p-value of each limit."""
    lims, init, qp = box.box_lims[i], box.box_lims[0], box.p_values[i]
    rows = []
    for col in x.columns:
        lo, hi = lims.at[0, col], lims.at[1, col]
        lo0, hi0 = init.at[0, col], init.at[1, col]
        p_lo, p_hi = (list(qp.get(col, [-1, -1])) + [-1, -1])[:2]
        p_lo = math.nan if p_lo is None or p_lo < 0 else float(p_lo)
        p_hi = math.nan if p_hi is None or p_hi < 0 else float(p_hi)
        if isinstance(lo, set):
            if lo == lo0:
                continue
            rows.append({"factor": col, "label": oc.factor_label(col), "lower": math.nan,
                         "upper": math.nan, "values": ", ".join(sorted(map(str, lo))),
                         "min": math.nan, "max": math.nan, "qp_lower": p_lo,
                         "qp_upper": math.nan})
            continue
        restricted_lo, restricted_hi = lo != lo0, hi != hi0
        if not (restricted_lo or restricted_hi):
            continue
        rows.append({"factor": col, "label": oc.factor_label(col),
                     "lower": float(lo) if restricted_lo else math.nan,
                     "upper": float(hi) if restricted_hi else math.nan, "values": "",
                     "min": float(lo0), "max": float(hi0), "qp_lower": p_lo,
                     "qp_upper": p_hi})
    return pd.DataFrame(rows, columns=["factor", "label", "lower", "upper", "values", "min",
                                       "max", "qp_lower", "qp_upper"])


def _leaves(c: Any, x: pd.DataFrame) -> pd.DataFrame:
    """CART's leaves: coverage, density, mass and the rule that leads to each."""
    rows = []
    init = None
    for i, (lims, st) in enumerate(zip(c.boxes, c.stats, strict=True)):
        if init is None:
            init = lims.copy()
            for col in x.columns:
                if not isinstance(init.at[0, col], set):
                    init.at[0, col], init.at[1, col] = x[col].min(), x[col].max()
        parts = []
        for col in x.columns:
            lo, hi = lims.at[0, col], lims.at[1, col]
            if isinstance(lo, set):
                if lo != set(x[col].unique()):
                    parts.append(f"{oc.factor_label(col)} in {{{', '.join(sorted(map(str, lo)))}}}")
                continue
            if lo > x[col].min():
                parts.append(f"{oc.factor_label(col)} > {fmt(lo)}")
            if hi < x[col].max():
                parts.append(f"{oc.factor_label(col)} <= {fmt(hi)}")
        rows.append({"leaf": i, "coverage": float(st["coverage"]),
                     "density": float(st["density"]), "mass": float(st["mass"]),
                     "res_dim": int(st["res dim"]), "rule": " and ".join(parts) or "all runs"})
    df = pd.DataFrame(rows)
    return df.sort_values(["density", "coverage"], ascending=False, kind="stable") \
        .reset_index(drop=True) if len(df) else df


def _drop_limit(p: Any, b: Any, i: int, factor: str, side: int) -> None:
    """Box ``i`` without one limit (side 0: lower, 1: upper), appended to the trajectory
    through the box's own ``update`` (which recomputes its statistics and quasi-p-values).
    EMA's ``drop_restriction`` removes both limits of a factor at once, also a significant
    one; this removes only the one that does not matter."""
    lims = b.box_lims[i].copy()
    init = b.box_lims[0]
    if isinstance(lims.at[0, factor], set):
        lims[factor] = init[factor]
    else:
        lims.at[side, factor] = init.at[side, factor]
    x = p.x.loc[p.yi_remaining]
    mask = np.ones(len(x), dtype=bool)
    for col in x.columns:
        lo, hi = lims.at[0, col], lims.at[1, col]
        if isinstance(lo, set):
            mask &= x[col].isin(lo).to_numpy()
        else:
            v = x[col].to_numpy(dtype=float)
            mask &= (v >= lo) & (v <= hi)
    b.update(lims, p.yi_remaining[mask])


def _build_tree(c: Any) -> None:
    """EMA's ``CART.build_tree`` with a fixed ``random_state``: scikit-learn otherwise breaks
    ties between equally good splits at random, so the same sweep could give another tree."""
    from sklearn import tree

    c.clf = tree.DecisionTreeClassifier(min_samples_leaf=int(c.mass_min * c.x.shape[0]),
                                        random_state=0)
    c.clf.fit(c._x, c.y)


def analyse(x: pd.DataFrame, y: Any, box: int | None = None, min_density: float = 0.0,
            mass_min: float = 0.05, peel_alpha: float = 0.05,
            objective: str = "original") -> Analysis:
    """PRIM (EMA's ``prim.Prim``) and CART (``cart.CART``) of ``y`` (true for a run of
    interest) over the factors ``x``; chooses a box by :data:`RULE` or takes ``box``.
    Pure: no files. Raises :class:`DiscoveryError` for unusable input."""
    prim, cart, objectives = _ema()
    x = _prepare(x)
    y = np.asarray(y).astype(int)
    if len(x) != len(y):
        raise DiscoveryError(f"{len(x)} rows of factors but {len(y)} outcomes")
    if x.shape[1] == 0:
        raise DiscoveryError("no uncertain factors to search")
    if y.sum() == 0 or y.sum() == len(y):
        raise DiscoveryError("every run or no run is of interest: nothing to discover")
    if not 0 <= min_density <= 1:
        raise DiscoveryError(f"--min-density {min_density}: expected a share from 0 to 1")
    obj = {"original": objectives.ORIGINAL, "lenient1": objectives.LENIENT1,
           "lenient2": objectives.LENIENT2}.get(objective)
    if obj is None:
        raise DiscoveryError(f"objective {objective!r}: expected original, lenient1 or "
                             "lenient2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = prim.Prim(x, y, obj_function=obj, peel_alpha=peel_alpha, mass_min=mass_min)
        b = p.find_box()
    if b is None:
        raise DiscoveryError("PRIM found no box (no runs left to peel)")
    peeled = len(b.peeling_trajectory)
    notes: list[str] = []
    candidate: int | None = None
    if box is not None:
        if not 0 <= box < peeled:
            raise DiscoveryError(f"--box {box}: the peeling trajectory has boxes 0 to "
                                 f"{peeled - 1}")
        chosen = box
    else:
        t = b.peeling_trajectory
        f1 = 2 * t["coverage"] * t["density"] / (t["coverage"] + t["density"])
        ok = (t["res_dim"] > 0) & (t["density"] >= min_density)
        if not ok.any():
            chosen = 0
            notes.append("No box on the trajectory restricts a factor"
                         + (f" and reaches a density of {min_density:.0%}" if min_density
                            else "") + ": the runs of interest are not concentrated in a box "
                         "of these factors.")
        else:
            candidate = int(f1.where(ok).idxmax())
            b.select(candidate)
            chosen = candidate
            while True:  # drop limits that do not matter, the least significant first
                qp = b.p_values[chosen]
                worst = max(((v, k, side) for k, pair in qp.items()
                             for side, v in enumerate(pair) if v is not None and v >= 0),
                            default=None)
                if worst is None or worst[0] < ALPHA:
                    break
                _drop_limit(p, b, chosen, worst[1], worst[2])
                chosen = len(b.peeling_trajectory) - 1
                if b.peeling_trajectory.loc[chosen, "res_dim"] == 0:
                    notes.append("Every limit of the best box had a quasi-p-value of 0.05 or "
                                 "more: no factor clearly concentrates the runs of interest.")
                    break
    traj = b.peeling_trajectory.copy()
    traj["f1"] = 2 * traj["coverage"] * traj["density"] / (traj["coverage"] + traj["density"])
    traj["qp_max"] = [_qp_max(b.p_values[i]) for i in range(len(traj))]
    traj["step"] = ["peel/paste" if i < peeled else "limit dropped" for i in range(len(traj))]
    traj["chosen"] = traj.index == chosen
    c = cart.CART(x, y, mass_min=mass_min)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _build_tree(c)
    return Analysis(x=x, y=y, trajectory=traj, peeled=peeled, candidate=candidate,
                    chosen=chosen, limits=_limits(b, chosen, x), leaves=_leaves(c, x),
                    cart=c, prim_box=b, notes=notes)


# --------------------------------------------------------------------------- figures


def _figure(width: float, height: float) -> MplFigure:
    fig = MplFigure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def peeling_figure(a: Analysis) -> MplFigure:
    """Left: coverage and density along the trajectory; right: the coverage-density
    trade-off, coloured by the number of restricted factors; the chosen box starred."""
    t = a.trajectory
    peel = t[t["step"] == "peel/paste"]
    fig = _figure(11, 4.2)
    ax = fig.add_subplot(1, 2, 1)
    ax.plot(peel["id"], peel["coverage"], label="coverage", color="#1f77b4")
    ax.plot(peel["id"], peel["density"], label="density", color="#d62728")
    ax.axhline(a.base_rate, color="#999999", ls=":", lw=1, label="share of all runs")
    mark = a.candidate if a.candidate is not None else a.chosen
    if mark < len(peel):
        ax.axvline(mark, color="black", ls="--", lw=0.8,
                   label="box chosen" if mark == a.chosen else "box picked (limits dropped "
                   "after)")
    ax.set_xlabel("box (peeling step)")
    ax.set_ylabel("share")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8, loc="center left")
    ax.grid(alpha=0.3)
    ax.set_title("Peeling trajectory", fontsize=10)
    ax = fig.add_subplot(1, 2, 2)
    sc = ax.scatter(peel["coverage"], peel["density"], c=peel["res_dim"], cmap="viridis",
                    s=22, zorder=2)
    ch = t.loc[a.chosen]
    ax.scatter([ch["coverage"]], [ch["density"]], marker="*", s=260, color="#d62728",
               edgecolors="black", zorder=3, label=f"chosen box ({int(ch['id'])})")
    ax.set_xlabel("coverage (share of the runs of interest inside the box)")
    ax.set_ylabel("density (share of the box's runs of interest)")
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    cbar = fig.colorbar(sc, ax=ax)
    cbar.set_label("factors restricted", fontsize=8)
    ax.set_title("Coverage-density trade-off", fontsize=10)
    fig.subplots_adjust(left=0.07, right=0.97, top=0.9, bottom=0.13, wspace=0.25)
    return fig


def limits_figure(a: Analysis) -> MplFigure:
    """Each restricted factor's range (grey) and the box's limits (blue), with the
    quasi-p-value of each limit."""
    lim = a.limits[a.limits["values"] == ""]
    fig = _figure(8.5, 0.6 * max(len(lim), 1) + 1.4)
    ax = fig.add_subplot(1, 1, 1)
    for j, (_, r) in enumerate(lim.iloc[::-1].iterrows()):
        span = (r["max"] - r["min"]) or 1.0
        lo = 0.0 if math.isnan(r["lower"]) else (r["lower"] - r["min"]) / span
        hi = 1.0 if math.isnan(r["upper"]) else (r["upper"] - r["min"]) / span
        ax.add_patch(Rectangle((0, j - 0.3), 1, 0.6, color="#e6e6e6"))
        ax.add_patch(Rectangle((lo, j - 0.3), hi - lo, 0.6, color="#1f4e79", alpha=0.8))
        ax.text(-0.02, j, fmt(r["min"]), ha="right", va="center", fontsize=7, color="#666")
        ax.text(1.02, j, fmt(r["max"]), ha="left", va="center", fontsize=7, color="#666")
        if not math.isnan(r["lower"]):
            ax.text(lo, j + 0.38, f"{fmt(r['lower'])} (qp {_p(r['qp_lower'])})",
                    ha="center", fontsize=7)
        if not math.isnan(r["upper"]):
            ax.text(hi, j - 0.52, f"{fmt(r['upper'])} (qp {_p(r['qp_upper'])})",
                    ha="center", fontsize=7)
    ax.set_yticks(range(len(lim)))
    ax.set_yticklabels(list(lim["label"][::-1]), fontsize=8)
    ax.set_xlim(-0.12, 1.12)
    ax.set_ylim(-0.8, max(len(lim), 1) - 0.2)
    ax.set_xticks([])
    for s in ("top", "right", "bottom"):
        ax.spines[s].set_visible(False)
    st = a.stats
    ax.set_title(f"Box {int(st['id'])}: coverage {st['coverage']:.0%}, density "
                 f"{st['density']:.0%} (grey: the sampled range; blue: the box)", fontsize=9)
    fig.subplots_adjust(left=0.3, right=0.95, top=1 - 0.45 / fig.get_figheight(),
                        bottom=0.2 / fig.get_figheight())
    return fig


def scatter_figure(a: Analysis) -> MplFigure | None:
    """The runs over the two most significant restricted factors (or one against the
    outcome's class), runs of interest in red, the box drawn."""
    lim = a.limits[a.limits["values"] == ""].copy()
    if lim.empty:
        return None
    lim["p"] = lim[["qp_lower", "qp_upper"]].min(axis=1)
    lim = lim.sort_values("p", kind="stable")
    fig = _figure(6.5, 5)
    ax = fig.add_subplot(1, 1, 1)
    f1 = lim.iloc[0]
    xv = a.x[f1["factor"]].to_numpy(float)
    if len(lim) >= 2:
        f2 = lim.iloc[1]
        yv = a.x[f2["factor"]].to_numpy(float)
        ylabel = f2["label"]
    else:
        f2 = None
        yv = np.random.default_rng(0).uniform(-0.4, 0.4, len(xv)) + a.y
        ylabel = "other runs (0) / runs of interest (1)"
    ax.scatter(xv[a.y == 0], yv[a.y == 0], s=10, color="#9e9e9e", alpha=0.6,
               label="other runs")
    ax.scatter(xv[a.y == 1], yv[a.y == 1], s=12, color="#d62728", alpha=0.8,
               label="runs of interest")
    x0 = f1["min"] if math.isnan(f1["lower"]) else f1["lower"]
    x1 = f1["max"] if math.isnan(f1["upper"]) else f1["upper"]
    if f2 is not None:
        y0 = f2["min"] if math.isnan(f2["lower"]) else f2["lower"]
        y1 = f2["max"] if math.isnan(f2["upper"]) else f2["upper"]
    else:
        y0, y1 = -0.45, 1.45
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, lw=1.8,
                           edgecolor="#1f4e79", label="box"))
    ax.set_xlabel(f1["label"])
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    ax.set_title("The runs and the chosen box (other limits not shown)", fontsize=9)
    fig.subplots_adjust(left=0.13, right=0.97, top=0.92, bottom=0.11)
    return fig


def tree_figure(a: Analysis, max_depth: int = 3) -> MplFigure:
    """CART's tree (the first ``max_depth`` levels), nodes coloured by their share of runs
    of interest."""
    from sklearn.tree import plot_tree

    clf = a.cart.clf
    depth = min(clf.get_depth(), max_depth)
    fig = _figure(max(7.0, 3.2 * 2 ** (depth - 1)), 1.9 * (depth + 1) + 0.5)
    ax = fig.add_subplot(1, 1, 1)
    names = [oc.factor_label(str(f).replace(a.cart.sep, " = ")) for f in a.cart.feature_names]
    plot_tree(clf, feature_names=names, class_names=["other", "of interest"], filled=True,
              impurity=False, proportion=True, rounded=True, max_depth=max_depth,
              fontsize=7, ax=ax)
    more = " (deeper levels in cart_leaves.csv)" if clf.get_depth() > max_depth else ""
    ax.set_title(f"CART tree: left branch = condition true; value = [share other, share of "
                 f"interest]{more}", fontsize=9)
    return fig


def _p(v: float) -> str:
    if v is None or math.isnan(v):
        return "–"
    return "< 0.001" if v < 0.001 else f"{v:.3f}"


# --------------------------------------------------------------------------- the command


@dataclass
class DiscoveryResult:
    """What :func:`discover` wrote and found: files, the chosen box and the tables."""

    folder: Path
    report_md: Path
    report_html: Path
    boxes_csv: Path
    boxes: pd.DataFrame  #: one row per restricted factor of the chosen box
    trajectory: pd.DataFrame
    leaves: pd.DataFrame
    figures: dict[str, Path]
    analysis: Analysis = field(repr=False)
    summary: str = ""


def _box_text(limits: pd.DataFrame) -> str:
    parts = []
    for _, r in limits.iterrows():
        if r["values"]:
            parts.append(f"{r['label']} in {{{r['values']}}}")
        elif not math.isnan(r["lower"]) and not math.isnan(r["upper"]):
            parts.append(f"{r['label']} from {fmt(r['lower'])} to {fmt(r['upper'])}")
        elif not math.isnan(r["lower"]):
            parts.append(f"{r['label']} at least {fmt(r['lower'])}")
        else:
            parts.append(f"{r['label']} at most {fmt(r['upper'])}")
    return " and ".join(parts)


def load_runs(sweep_dir: Path, outcome: str, strategy: str | None, context: str | None
              ) -> tuple[dict[str, Any], pd.DataFrame, list[str]]:
    """(manifest, runs of the selection, factors that vary in them); clear errors."""
    manifest, design = open_store(sweep_dir)
    runs = read_summaries(sweep_dir, design)
    if runs.empty:
        raise DiscoveryError(f"{sweep_dir}: no finished runs yet (run or resume the sweep)")
    runs = oc.add_derived(runs)
    for what, value in (("strategy", strategy), ("context", context)):
        if value is not None:
            names = list(dict.fromkeys(design[what]))
            if value not in names:
                raise DiscoveryError(f"--{what} {value}: not a {what} of this sweep "
                                     f"({', '.join(names)})")
            runs = runs[runs[what] == value]
    factors = [f for f in (manifest.get("factors") or []) if f in runs]
    if not factors:
        raise DiscoveryError(f"{sweep_dir}: the sweep has no uncertain factors (no "
                             "[[factors]] in its experiment file); scenario discovery needs "
                             "a sweep that varies them, e.g. design.kind = 'latin_hypercube'")
    varying = [f for f in factors if runs[f].nunique(dropna=True) > 1]
    if not varying:
        raise DiscoveryError(f"{sweep_dir}: no uncertain factor varies in the selected runs "
                             f"({', '.join(factors)} take one value each)")
    available = oc.numeric_outcomes(runs, exclude=tuple(factors))
    if outcome not in available:
        raise DiscoveryError(f"--outcome {outcome}: not an outcome of this sweep; available: "
                             f"{', '.join(available)}")
    return manifest, runs.reset_index(drop=True), varying


def discover(sweep_dir: str | Path, outcome: str, above: float | None = None,
             below: float | None = None, strategy: str | None = None,
             context: str | None = None, box: int | None = None, min_density: float = 0.0,
             out: str | Path | None = None, mass_min: float = 0.05,
             objective: str = "original") -> DiscoveryResult:
    """Scenario discovery on a sweep: PRIM and CART over its uncertain factors for the runs
    whose ``outcome`` is above ``above`` (or below ``below``); writes the report, tables and
    figures into ``out`` (default ``SWEEP_DIR/discovery``). Raises :class:`DiscoveryError`
    (or :class:`~sim.experiments.store.StoreError` for a folder that is not a sweep)."""
    sweep_dir = Path(sweep_dir)
    if (above is None) == (below is None):
        raise DiscoveryError("give exactly one of --above X or --below X")
    manifest, runs, factors = load_runs(sweep_dir, outcome, strategy, context)
    values = pd.to_numeric(runs[outcome], errors="coerce")
    missing = int(values.isna().sum())
    runs, values = runs[values.notna()].reset_index(drop=True), values.dropna()
    op = ">" if above is not None else "<"
    threshold = float(above if above is not None else below)  # type: ignore[arg-type]
    y = (values > threshold if above is not None else values < threshold).to_numpy()
    o = oc.outcome(outcome)
    if runs.empty:
        raise DiscoveryError(f"--outcome {outcome}: no selected run reports it")
    if y.sum() == 0 or y.all():
        which = "no run" if y.sum() == 0 else "every run"
        raise DiscoveryError(
            f"--outcome {outcome} {'--above' if op == '>' else '--below'} {threshold:g}: "
            f"{which} of the {len(y)} selected satisfies it (the outcome ranges from "
            f"{values.min():g} to {values.max():g}); choose a threshold inside that range")
    a = analyse(runs[factors], y, box=box, min_density=min_density, mass_min=mass_min,
                objective=objective)
    folder = Path(out) if out is not None else sweep_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)

    st = a.stats
    boxes = a.limits.assign(box=int(st["id"]), coverage=float(st["coverage"]),
                            density=float(st["density"]), mass=float(st["mass"]),
                            runs_in_box=int(st["n"]), of_interest_in_box=int(st["k"]))
    files = {}
    for name, df in (("boxes", boxes), ("trajectory", a.trajectory),
                     ("cart_leaves", a.leaves)):
        with atomic_path(folder / f"{name}.csv") as tmp:
            df.to_csv(tmp, index=False)
        files[name] = folder / f"{name}.csv"

    sel = ", ".join(x for x in (f"strategy {strategy}" if strategy else "",
                                f"context {context}" if context else "") if x)
    question = f"{o.label} {op} {threshold:g}" + (f" ({o.unit})" if o.unit else "")
    doc = Document(f"Scenario discovery: under which conditions is {o.label.lower()} {op} "
                   f"{threshold:g}?")
    k, n = int(y.sum()), len(y)
    doc.p(f"Sweep `{sweep_dir}` ({manifest.get('experiment_name', '')}, design "
          f"{manifest.get('design')}). Runs of interest: **{question}**: {k} of {n} runs "
          f"({k / n:.0%})" + (f", of {sel}" if sel else ", all strategies and contexts pooled")
          + "." + (f" {missing} run(s) without a value of {outcome} are left out." if missing
                   else ""))
    doc.p("Uncertain factors searched: " + "; ".join(
        f"{oc.factor_label(f)} ({fmt(a.x[f].min())} to {fmt(a.x[f].max())})"
        if pd.api.types.is_numeric_dtype(a.x[f]) else oc.factor_label(f) for f in factors)
        + ".")
    if not sel and (runs["strategy"].nunique() > 1 or runs["context"].nunique() > 1):
        doc.p("Several strategies or contexts are pooled here: a box then describes their "
              "mix. For one strategy's failures add `--strategy NAME` (and `--context`).")

    doc.h(2, "Headline", "headline")
    if a.limits.empty:
        head = ["No box: " + " ".join(a.notes) if a.notes else "No factor was restricted."]
    else:
        head = [f"The runs of interest concentrate where **{_box_text(a.limits)}**.",
                f"This box holds {st['coverage']:.0%} of all runs of interest (coverage), and "
                f"{st['density']:.0%} of the runs inside it are of interest (density), "
                f"against {a.base_rate:.0%} of all runs; it contains {st['mass']:.0%} of the "
                f"runs ({int(st['n'])}).",
                "Every limit kept has a quasi-p-value below 0.05: without it the box would "
                "be clearly less dense." if (a.limits[["qp_lower", "qp_upper"]]
                                             .fillna(0).to_numpy() < ALPHA).all()
                else "Some limits have a quasi-p-value of 0.05 or more: they may be noise "
                "(see the table)."]
    doc.add(Box(question, head))

    doc.h(2, "How to read this report", "how-to-read")
    doc.add(Glossary([
        ("term-prim", "PRIM", "Patient rule induction: starting from all runs, it peels off "
         "thin slices of one factor's range at a time (5% of the runs in the box), each time "
         "the slice that leaves the remaining box with the most runs of interest, down to 5% "
         "of the runs. Each step is a candidate box."),
        ("term-coverage", "Coverage", "Share of all runs of interest that lie inside the box: "
         "how much of the problem the box explains."),
        ("term-density", "Density", "Share of the runs inside the box that are of interest: "
         "how reliably the conditions of the box lead to it."),
        ("term-mass", "Mass", "Share of all runs that lie inside the box."),
        ("term-qp", "Quasi-p-value", "For one limit of a box: the probability, by a one-sided "
         "binomial test, of a density this high if the limit were removed. Below 0.05: the "
         "limit matters. It is 'quasi' because the box was chosen from the same data."),
        ("term-choice", "Box chosen", f"By default: {RULE}. `--box N` picks box N of the "
         "trajectory as it is; `--min-density D` only considers boxes at least that dense."),
        ("term-cart", "CART", "A classification tree: it splits the runs on one factor at a "
         "time so that each leaf is as pure as possible; its dense leaves are alternative "
         "boxes, found differently."),
        ("term-factors", "Uncertain factors", "The experiment's `[[factors]]`: parameters "
         "the sweep varied (sampled by a latin hypercube or set at the levels of a full "
         "factorial), as opposed to the strategies, which are chosen."),
    ]))

    doc.h(2, "The chosen box", "box")
    if a.notes:
        doc.p(" ".join(a.notes))
    if not a.limits.empty:
        doc.add(Table(["factor", "lower limit", "upper limit", "sampled range",
                       "quasi-p (lower)", "quasi-p (upper)"],
                      [[r["label"], r["values"] or fmt(r["lower"]),
                        "" if r["values"] else fmt(r["upper"]),
                        "" if r["values"] else f"{fmt(r['min'])} to {fmt(r['max'])}",
                        _p(r["qp_lower"]), _p(r["qp_upper"])]
                       for _, r in a.limits.iterrows()],
                      caption=f"Box {int(st['id'])}: coverage {st['coverage']:.0%}, density "
                              f"{st['density']:.0%}, mass {st['mass']:.0%} ('–': no limit "
                              "on that side)."))
        doc.add(Figure("box_limits.png", png_bytes(limits_figure(a)), "box limits"))
        sc = scatter_figure(a)
        if sc is not None:
            doc.add(Figure("box_scatter.png", png_bytes(sc), "runs and box"))
    if a.candidate is not None and a.candidate != a.chosen:
        before = _limits(a.prim_box, a.candidate, a.x).set_index("factor")
        after = a.limits.set_index("factor")
        dropped = [f"the {side} limit of {oc.factor_label(f)} ({fmt(before.at[f, side])})"
                   for f in before.index for side in ("lower", "upper")
                   if not math.isnan(before.at[f, side])
                   and (f not in after.index or math.isnan(after.at[f, side]))]
        doc.p(f"The rule picked box {a.candidate} of the trajectory (the highest F1), then "
              f"dropped {', '.join(dropped) or 'limits'}: quasi-p-values of 0.05 or more. "
              f"The result is box {a.chosen}.")

    doc.h(2, "Peeling trajectory", "trajectory")
    doc.p("Coverage falls and density rises as PRIM peels: the trade-off a box strikes. The "
          "table lists every box (rows after the last peeling step, if any, are the chosen "
          "box with limits dropped).")
    doc.add(Figure("peeling_trajectory.png", png_bytes(peeling_figure(a)),
                   "peeling trajectory"))
    t = a.trajectory
    doc.add(Table(["box", "coverage", "density", "mass", "runs", "of interest",
                   "factors restricted", "F1", "largest quasi-p", "step", ""],
                  [[str(int(r["id"])), (f"{r['coverage']:.0%}", r["coverage"]),
                    (f"{r['density']:.0%}", r["density"]), (f"{r['mass']:.0%}", r["mass"]),
                    str(int(r["n"])), str(int(r["k"])), str(int(r["res_dim"])),
                    f"{r['f1']:.2f}", _p(r["qp_max"]), r["step"],
                    "**chosen**" if r["chosen"] else ""] for _, r in t.iterrows()]))

    doc.h(2, "CART", "cart")
    doc.p(f"The same runs split by a classification tree (leaves hold at least "
          f"{mass_min:.0%} of the runs). Leaves, densest first:")
    doc.add(Table(["leaf", "rule", "coverage", "density", "mass"],
                  [[str(int(r["leaf"])), r["rule"], (f"{r['coverage']:.0%}", r["coverage"]),
                    (f"{r['density']:.0%}", r["density"]), (f"{r['mass']:.0%}", r["mass"])]
                   for _, r in a.leaves.iterrows()]))
    doc.add(Figure("cart_tree.png", png_bytes(tree_figure(a)), "CART tree"))
    doc.h(2, "Files", "files")
    doc.add(Bullets(["`boxes.csv`: the chosen box, one row per restricted factor (factor, "
                     "lower, upper, quasi-p-values, and the box's coverage and density)",
                     "`trajectory.csv`: every box of the peeling trajectory",
                     "`cart_leaves.csv`: CART's leaves and their rules",
                     "Computed with EMA Workbench (`ema_workbench.analysis.prim`, `cart`)."]))
    md, page, figures = doc.write(folder, "report", "figures")
    summary = (f"{k} of {n} runs with {question}; box {int(st['id'])}: "
               + (_box_text(a.limits) or "no restriction")
               + f" (coverage {st['coverage']:.0%}, density {st['density']:.0%})")
    return DiscoveryResult(folder=folder, report_md=md, report_html=page,
                           boxes_csv=files["boxes"], boxes=boxes, trajectory=a.trajectory,
                           leaves=a.leaves, figures=figures, analysis=a, summary=summary)
