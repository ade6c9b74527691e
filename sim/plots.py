"""Figures of a run that a reader can understand without the code.

Figures are built on :class:`matplotlib.figure.Figure` with an Agg canvas, never through
``pyplot``, so plotting leaves no global state behind (safe in workers, tests and notebooks).
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from sim import kernels as K
from sim.scenario import Scenario

STATE_COLOURS = {"quiescent": "#4c72b0", "active": "#d62728", "jailed": "#7f7f7f"}
GROUP_COLOURS = ("#1f77b4", "#ff7f0e")

# snapshot cell categories: (label, colour); index = code in the image
_EMPTY = ("empty", "#ffffff")
_JAILED = ("jailed (on cell)", "#7f7f7f")
_POLICE = ("police", "#111111")
_PEACEKEEPER = ("peacekeeper", "#2ca02c")
_ONE_GROUP = (("quiescent", "#9ecae1"), ("active", "#d62728"))
_TWO_GROUPS = (
    ("group 0 quiescent", "#9ecae1"),
    ("group 0 active", "#08519c"),
    ("group 1 quiescent", "#fdd0a2"),
    ("group 1 active", "#d94801"),
)


def _new_figure(width: float, height: float) -> Figure:
    # fixed margins rather than a layout engine: constrained layout doubles the render time
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _title(scenario: Scenario | None) -> str:
    if scenario is None:
        return ""
    text = f"{scenario.name}: {scenario.description}" if scenario.description else scenario.name
    return textwrap.fill(text, 90)


def _legend(ax: Any) -> None:
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)


def _varies(ts: pd.DataFrame, col: str) -> bool:
    return col in ts and ts[col].nunique() > 1


def plot_timeseries(ts: pd.DataFrame, scenario: Scenario | None = None) -> Figure:
    """Residents by state, arrests (and killings), legitimacy, groups and forces over ticks."""
    two_groups = "group_0" in ts and "group_1" in ts
    forces = _varies(ts, "police") or _varies(ts, "peacekeepers")
    n = 3 + int(two_groups) + int(forces)
    height = 2.1 * n + 1.0
    fig = _new_figure(10.0, height)
    fig.subplots_adjust(left=0.08, right=0.84, bottom=0.55 / height, top=1 - 0.75 / height,
                        hspace=0.45)
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    t = ts["tick"].to_numpy()
    i = 0

    ax = axes[i]
    for state, colour in STATE_COLOURS.items():
        ax.plot(t, ts[state], color=colour, lw=1.2, label=state)
    ax.set_ylabel("residents")
    ax.set_title("Residents by state")
    _legend(ax)
    i += 1

    ax = axes[i]
    ax.plot(t, ts["arrests"], color="#111111", lw=1.0, label="arrests")
    if "killings" in ts:
        ax.plot(t, ts["killings"], color="#d62728", lw=1.0, label="killings")
    ax.set_ylabel("events per tick")
    ax.set_title("Arrests" + (" and killings" if "killings" in ts else "") + " per tick")
    _legend(ax)
    i += 1

    if two_groups:
        ax = axes[i]
        for g, colour in enumerate(GROUP_COLOURS):
            ax.plot(t, ts[f"group_{g}"], color=colour, lw=1.2, label=f"group {g}")
        ax.set_ylabel("residents")
        ax.set_title("Population per group")
        _legend(ax)
        i += 1

    if forces:
        ax = axes[i]
        ax.plot(t, ts["police"], color="#111111", lw=1.2, label="police")
        ax.plot(t, ts["peacekeepers"], color="#2ca02c", lw=1.2, label="peacekeepers")
        ax.set_ylabel("agents")
        ax.set_title("Police and peacekeepers on the grid")
        _legend(ax)
        i += 1

    ax = axes[i]
    ax.plot(t, ts["legitimacy"], color="#6a3d9a", lw=1.2)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("legitimacy L")
    ax.set_title("Legitimacy")
    ax.set_xlabel("time (ticks)")

    for ax in axes:
        ax.grid(True, alpha=0.3)
        ax.margins(x=0)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(_title(scenario), fontsize="medium", y=1 - 0.1 / height, va="top")
    return fig


def snapshot_image(model: Any) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Category codes per cell, shape (height, width), and the (label, colour) of each code."""
    ag = model.arrays
    two_groups = model.scenario_config.residents.groups == 2
    residents = _TWO_GROUPS if two_groups else _ONE_GROUP
    cats = [_EMPTY, *residents, _JAILED, _POLICE, _PEACEKEEPER]
    code_jailed, code_police, code_pk = len(cats) - 3, len(cats) - 2, len(cats) - 1

    on = np.flatnonzero(ag.alive & (ag.x >= 0))
    kind, state = ag.kind[on], ag.state[on]
    group = ag.group[on].astype(np.int64) if two_groups else np.zeros(len(on), np.int64)
    code = np.zeros(len(on), np.int64)
    res = kind == K.RESIDENT
    for s in (K.QUIESCENT, K.ACTIVE):
        sel = res & (state == s)
        code[sel] = 1 + 2 * group[sel] + s if two_groups else 1 + s
    code[res & (state == K.JAILED)] = code_jailed
    code[kind == K.POLICE] = code_police
    code[kind == K.PEACEKEEPER] = code_pk

    img = np.zeros((model.height, model.width), np.int64)
    img[ag.y[on], ag.x[on]] = code
    return img, cats


def _possible_codes(sc: Scenario, n_cats: int) -> set[int]:
    """Legend entries the scenario can produce, so snapshots of one scenario match."""
    codes = set(range(n_cats - 3))  # empty and every resident state/group
    if sc.unrest.jail == "on_cell":
        codes.add(n_cats - 3)
    if sc.police.density > 0 or (sc.police.ramp_to or 0) > 0:
        codes.add(n_cats - 2)
    if sc.peacekeepers.density > 0:
        codes.add(n_cats - 1)
    return codes


def plot_snapshot(model: Any) -> Figure:
    """The grid at the model's current tick: who stands where, in which state and group."""
    img, cats = snapshot_image(model)
    ag = model.arrays
    off_grid = int(np.count_nonzero(ag.alive & (ag.x < 0) & (ag.state == K.JAILED)))
    fig = _new_figure(8.0, 6.4)
    fig.subplots_adjust(left=0.09, right=0.72, bottom=0.09, top=0.86)
    ax = fig.add_subplot()
    cmap = ListedColormap([c for _, c in cats])
    ax.imshow(
        img, cmap=cmap, vmin=-0.5, vmax=len(cats) - 0.5, origin="lower",
        interpolation="nearest",
    )
    shown = set(np.unique(img).tolist()) | _possible_codes(model.scenario_config, len(cats))
    handles = [
        Patch(facecolor=colour, edgecolor="#999999", label=label)
        for code, (label, colour) in enumerate(cats)
        if code in shown
    ]
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small",
        frameon=False,
    )
    ax.set_xlabel("x (cells)")
    ax.set_ylabel("y (cells)")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(integer=True))
    tick = int(getattr(model, "steps", 0))
    extra = f"; {off_grid} jailed residents off the grid" if off_grid else ""
    ax.set_title(f"Grid at tick {tick}{extra}", fontsize="medium")
    fig.suptitle(textwrap.fill(_title(model.scenario_config), 80), fontsize="medium", y=0.985,
                 va="top")
    return fig


def figure_png(fig: Figure) -> bytes:
    """PNG bytes of a figure, so callers can write them atomically."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def save_plots(result: Any, folder: str | Path) -> list[Path]:
    """Write ``timeseries.png`` and, when the run kept its model, ``snapshot_final.png``."""
    from sim.store import atomic_write_bytes

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    figures = {"timeseries.png": plot_timeseries(result.timeseries, result.scenario)}
    if getattr(result, "model", None) is not None:
        figures["snapshot_final.png"] = plot_snapshot(result.model)
    written = []
    for name, fig in figures.items():
        path = folder / name
        atomic_write_bytes(path, figure_png(fig))
        written.append(path)
    return written
