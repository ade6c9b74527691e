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

from sim.config.scenario import Scenario
from sim.engine import layout as K

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


# ------------------------------------------------------------------ peacekeeping model

#: Okabe & Ito's colour-blind-safe palette (Okabe, M. & Ito, K., 2008, "Color Universal
#: Design"): its eight colours stay distinct under the common colour-vision deficiencies
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}
#: peacekeepers by role, one Okabe-Ito colour each (the app draws them as triangles)
ROLE_COLOURS = {
    "patrol": OKABE_ITO["green"], "static": OKABE_ITO["sky_blue"],
    "rapid_response": OKABE_ITO["orange"], "engagement": OKABE_ITO["purple"],
    "ddr": OKABE_ITO["vermillion"], "police_mentoring": OKABE_ITO["yellow"],
    "checkpoint": OKABE_ITO["blue"],
}


def _mission_marks(axes: Any, ts: pd.DataFrame, scenario: Scenario | None) -> None:
    """Dashed lines where the drawdown starts and where the mission has left."""
    if scenario is None or scenario.mission.drawdown_start is None:
        return
    start = scenario.mission.drawdown_start
    after = ts[(ts["tick"] >= start) & (ts["peacekeepers"] == 0)]
    for ax in axes:
        ax.axvline(start, color="#555555", ls="--", lw=0.8)
        if len(after):
            ax.axvline(int(after["tick"].iloc[0]), color="#555555", ls=":", lw=0.8)


def plot_peacekeeping_timeseries(ts: pd.DataFrame, scenario: Scenario | None = None) -> Figure:
    """Violence, armed groups, forces, trust and livelihoods over the run (one panel each);
    dashed line: drawdown starts; dotted line: the mission has left."""
    n = 6
    height = 2.0 * n + 1.0
    fig = _new_figure(10.0, height)
    fig.subplots_adjust(left=0.08, right=0.72, bottom=0.5 / height, top=1 - 0.75 / height,
                        hspace=0.5)
    axes = fig.subplots(n, 1, sharex=True)
    t = ts["tick"].to_numpy()

    ax = axes[0]
    ax.plot(t, ts["attacks"], color="#ff7f0e", lw=0.9, label="attacks")
    ax.plot(t, ts["civilian_casualties"], color="#d62728", lw=0.9, label="civilians killed")
    ax.plot(t, ts["clashes"], color="#7f7f7f", lw=0.9, label="clashes")
    ax.set_ylabel("per tick")
    ax.set_title("Violence against civilians and clashes")
    _legend(ax)

    ax = axes[1]
    ax.plot(t, ts["combatants"], color="#d62728", lw=1.2, label="combatants")
    for col, colour in (("recruits", "#ff7f0e"), ("disarmed", "#8c564b"),
                        ("relapses", "#e377c2")):
        ax.plot(t, ts[col].cumsum(), color=colour, lw=1.0, label=f"{col} (cumulative)")
    ax.set_ylabel("agents")
    ax.set_title("Armed groups: strength, recruitment, disarmament, relapse")
    _legend(ax)

    ax = axes[2]
    roles = [r for r in ROLE_COLOURS if f"pk_{r}" in ts]
    ax.stackplot(t, *[ts[f"pk_{r}"] for r in roles], colors=[ROLE_COLOURS[r] for r in roles],
                 labels=[f"peacekeepers: {r}" for r in roles], alpha=0.85)
    ax.plot(t, ts["police"], color="#111111", lw=1.2, label="police")
    ax.set_ylabel("units")
    ax.set_title("Peacekeepers by role, and police")
    _legend(ax)

    ax = axes[3]
    ax.plot(t, ts["trust_pk_mean"], color="#2ca02c", lw=1.2, label="trust in peacekeepers")
    ax.plot(t, ts["trust_police_mean"], color="#111111", lw=1.2, label="trust in police")
    ax.plot(t, ts["police_professionalism_mean"], color="#9467bd", lw=1.0, ls="--",
            label="police professionalism")
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("mean (0-1)")
    ax.set_title("Trust and police conduct")
    _legend(ax)

    ax = axes[4]
    ax.plot(t, ts["economy_mean"], color="#1f77b4", lw=1.2, label="economy")
    ax.plot(t, ts["infrastructure_mean"], color="#8c564b", lw=1.2, label="infrastructure")
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("mean (0-1)")
    ax.set_title("Livelihoods (recent violence on the right axis)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.12, 1.0), fontsize="small", frameon=False)
    ax2 = ax.twinx()
    ax2.plot(t, ts["violence_mean"], color="#d62728", lw=0.8, alpha=0.6)
    ax2.set_ylabel("mean violence", color="#d62728", fontsize="small")

    ax = axes[5]
    ax.plot(t, ts["tips"], color="#17becf", lw=0.9, label="tips")
    ax.plot(t, ts["displaced"], color="#7f7f7f", lw=0.9, label="displaced (now)")
    ax.plot(t, ts["active"], color="#d62728", lw=0.9, label="protesting")
    ax.set_ylabel("residents / per tick")
    ax.set_title("Information, displacement and protest")
    ax.set_xlabel("time (weeks)")
    _legend(ax)

    for ax in axes:
        ax.grid(True, alpha=0.3)
        ax.margins(x=0)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _mission_marks(axes, ts, scenario)
    fig.suptitle(_title(scenario), fontsize="medium", y=1 - 0.1 / height, va="top")
    return fig


def _agents_overlay(ax: Any, model: Any) -> None:
    ag = model.arrays
    on = ag.alive & (ag.x >= 0)
    comb = on & (ag.kind == K.COMBATANT)
    pol = on & (ag.kind == K.POLICE)
    ax.scatter(ag.x[pol], ag.y[pol], s=6, c="#111111", marker="s", label="police")
    ax.scatter(ag.x[comb], ag.y[comb], s=14, c="#d62728", marker="x", label="combatant")
    for name, code in K.ROLE_CODES.items():
        sel = on & (ag.kind == K.PEACEKEEPER) & (ag.role == code)
        if sel.any():
            ax.scatter(ag.x[sel], ag.y[sel], s=16, c=ROLE_COLOURS[name], marker="^",
                       edgecolors="#111111", linewidths=0.3, label=f"peacekeeper: {name}")


def trust_map(model: Any) -> np.ndarray:
    """Residents' trust in peacekeepers by cell, NaN where no resident stands; (height, width)."""
    ag = model.arrays
    on = ag.alive & (ag.x >= 0) & (ag.kind == K.RESIDENT)
    img = np.full((model.height, model.width), np.nan)
    img[ag.y[on], ag.x[on]] = ag.trust_pk[on]
    return img


def plot_layers(model: Any) -> Figure:
    """Violence, economy and trust in peacekeepers across the map, with every armed agent."""
    lay = model.layer.lay
    panels = (
        ("Recent violence", np.asarray(lay.violence).T, "Reds", 0.0, None),
        ("Economy", np.asarray(model.cells.economy).T, "YlGn", 0.0, 1.0),
        ("Trust in peacekeepers (residents)", trust_map(model), "PuBu", 0.0, 1.0),
    )
    fig = _new_figure(16.0, 5.6)
    fig.subplots_adjust(left=0.04, right=0.86, bottom=0.1, top=0.82, wspace=0.25)
    axes = fig.subplots(1, 3)
    for ax, (title, img, cmap, lo, hi) in zip(axes, panels, strict=True):
        vmax = hi if hi is not None else max(float(np.nanmax(img)), 1e-6)
        im = ax.imshow(img, cmap=cmap, vmin=lo, vmax=vmax, origin="lower",
                       interpolation="nearest")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02)
        _agents_overlay(ax, model)
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("x (cells)")
        ax.set_xlim(-0.5, model.width - 0.5)
        ax.set_ylim(-0.5, model.height - 0.5)
    axes[0].set_ylabel("y (cells)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(0.87, 0.82),
               fontsize="small", frameon=False)
    tick = int(getattr(model, "steps", 0))
    units = int(np.count_nonzero((model.arrays.kind == K.PEACEKEEPER) & model.arrays.alive))
    fig.suptitle(f"{_title(model.scenario_config)}\nweek {tick}: {units} peacekeepers",
                 fontsize="medium", y=0.98, va="top")
    return fig


def figure_png(fig: Figure) -> bytes:
    """PNG bytes of a figure, so callers can write them atomically."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def save_plots(result: Any, folder: str | Path) -> list[Path]:
    """Write ``timeseries.png`` and, when the run kept its model, ``snapshot_final.png``."""
    from sim.io.atomic import atomic_write_bytes

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model = getattr(result, "model", None)
    if result.scenario.model == "peacekeeping":
        figures = {"timeseries.png": plot_peacekeeping_timeseries(result.timeseries,
                                                                  result.scenario)}
        if model is not None:
            figures["snapshot_final.png"] = plot_layers(model)
    else:
        figures = {"timeseries.png": plot_timeseries(result.timeseries, result.scenario)}
        if model is not None:
            figures["snapshot_final.png"] = plot_snapshot(result.model)
    written = []
    for name, fig in figures.items():
        path = folder / name
        atomic_write_bytes(path, figure_png(fig))
        written.append(path)
    return written
