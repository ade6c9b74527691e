"""Pictures for the trainer app, drawn straight from the model's arrays (no UI code here).

The app must redraw a 50x50 map and its charts several times a second, so nothing here goes
through Mesa's per-agent portrayal: the map is one RGB image built with numpy (a colour per
cell for the chosen layer, then one small glyph per agent), and the charts are matplotlib
figures that are kept between frames and redrawn by blitting only their lines; the axes are
drawn again only when a line outgrows them.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from sim.engine import layout as K
from sim.viz.plots import ROLE_COLOURS

#: the map's layer switch: name -> (title, colour map)
LAYERS = {
    "violence": ("Recent violence", "Reds"),
    "economy": ("Economy", "YlGn"),
    "trust": ("Residents' trust in peacekeepers", "PuBu"),
}
#: how much of the layer colour is mixed with white, so the agents stand out
LAYER_STRENGTH = 0.55
#: recent violence at which the colour saturates (the layer is usually far below 1)
VIOLENCE_FULL = 0.5
NO_RESIDENT = (0.93, 0.93, 0.93)  # trust layer where nobody lives

POLICE_COLOUR = "#111111"
COMBATANT_COLOUR = "#a50f15"
ACTIVE_COLOUR = "#ffc400"  # protesting residents
DISPLACED_COLOUR = "#8c8c8c"
#: residents' trust in peacekeepers: from orange (none) to purple (full), no pale middle
TRUST_LOW, TRUST_HIGH = "#e66101", "#5e3c99"
#: (symbol, colour, meaning) for the legend under the map
LEGEND = (
    ("●", TRUST_LOW, "resident, low trust in peacekeepers"),
    ("●", TRUST_HIGH, "resident, high trust in peacekeepers"),
    ("●", ACTIVE_COLOUR, "resident protesting"),
    ("●", DISPLACED_COLOUR, "resident displaced"),
    ("✕", COMBATANT_COLOUR, "combatant"),
    ("■", POLICE_COLOUR, "police"),
    *(("▲", colour, f"peacekeepers: {role.replace('_', ' ')}")
      for role, colour in ROLE_COLOURS.items()),
)


def _rgb(colour: str) -> np.ndarray:
    c = colour.lstrip("#")
    return np.array([int(c[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.uint8)


def _lut(cmap: str) -> np.ndarray:
    """256 RGB colours of a matplotlib colour map, as uint8."""
    return (colormaps[cmap](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)


_LUTS = {name: _lut(cmap) for name, (_, cmap) in LAYERS.items()}
_TRUST_LUT = (_rgb(TRUST_LOW)[None, :] * (1 - np.linspace(0, 1, 256))[:, None]
              + _rgb(TRUST_HIGH)[None, :] * np.linspace(0, 1, 256)[:, None]).astype(np.uint8)


def cell_size(width: int, height: int, target_px: int = 450) -> int:
    """Pixels per cell so the map is about ``target_px`` wide (2 to 12)."""
    return int(min(12, max(2, target_px // max(width, height))))


def _glyphs(s: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Pixel coordinates (rows, cols) inside an ``s x s`` cell of each agent symbol."""
    c = (np.arange(s) + 0.5) / s
    v, u = np.meshgrid(c, c, indexing="ij")  # v: down the cell, u: across
    masks = {
        "disc": (u - 0.5) ** 2 + (v - 0.5) ** 2 <= 0.36 ** 2,
        "small_disc": (u - 0.5) ** 2 + (v - 0.5) ** 2 <= 0.22 ** 2,
        "square": (abs(u - 0.5) <= 0.34) & (abs(v - 0.5) <= 0.34),
        "triangle": (v >= 0.1) & (v <= 0.9) & (abs(u - 0.5) <= (v - 0.1) * 0.6 + 0.04),
        "cross": ((abs(u - v) <= 0.16) | (abs(u + v - 1) <= 0.16))
        & (abs(u - 0.5) <= 0.42) & (abs(v - 0.5) <= 0.42),
    }
    out = {}
    for name, m in masks.items():
        if not m.any():  # tiny cells: the whole cell
            m = np.ones((s, s), bool)
        out[name] = np.nonzero(m)
    return out


def model_lock(model: Any) -> AbstractContextManager[Any]:
    """The model's lock, if it has one: the app's play loop steps the model in one thread
    while a redraw may run in another, and a picture must not see half a tick."""
    lock = getattr(model, "lock", None)
    return nullcontext() if lock is None else lock


def layer_values(model: Any, layer: str) -> np.ndarray:
    """The chosen layer as ``(height, width)`` values in [0, 1] (NaN: no value), row 0 at
    the bottom of the map (y up, as in the saved plots)."""
    if layer == "violence":
        v = np.asarray(model.layer.lay.violence).T
        return np.sqrt(np.clip(v / VIOLENCE_FULL, 0.0, 1.0))  # sqrt: small values show
    if layer == "economy":
        return np.clip(np.asarray(model.cells.economy).T, 0.0, 1.0)
    if layer == "trust":
        ag = model.arrays
        on = ag.alive & (ag.x >= 0) & (ag.kind == K.RESIDENT)
        img = np.full((model.height, model.width), np.nan)
        img[ag.y[on], ag.x[on]] = ag.trust_pk[on]
        return img
    raise ValueError(f"unknown layer {layer!r}; choose one of {', '.join(LAYERS)}")


def map_rgb(model: Any, layer: str = "violence", s: int | None = None) -> np.ndarray:
    """The map as an RGB image ``(height*s, width*s, 3)``: the layer's colour in every cell,
    then residents (by state and trust), combatants, peacekeepers (by role) and police."""
    with model_lock(model):
        return _map_rgb(model, layer, cell_size(model.width, model.height) if s is None else s)


def _map_rgb(model: Any, layer: str, s: int) -> np.ndarray:
    w, h = model.width, model.height
    vals = layer_values(model, layer)[::-1]  # image row 0 is the top of the map
    idx = np.nan_to_num(vals * 255, nan=0).astype(np.int64)
    base = _LUTS[layer][idx].astype(np.float32)
    base = 255 - LAYER_STRENGTH * (255 - base)  # mixed with white
    base[np.isnan(vals)] = np.array(NO_RESIDENT, np.float32) * 255
    img = np.repeat(np.repeat(base.astype(np.uint8), s, axis=0), s, axis=1)
    cells = img.reshape(h, s, w, s, 3).transpose(0, 2, 1, 3, 4)  # a view: (h, w, s, s, 3)

    ag = model.arrays
    on = ag.alive & (ag.x >= 0)
    kind = ag.kind
    glyph = _glyphs(s)

    def stamp(sel: np.ndarray, shape: str, colours: np.ndarray) -> None:
        rows = (h - 1 - ag.y[sel])[:, None]
        cols = ag.x[sel][:, None]
        gy, gx = glyph[shape]
        cells[rows, cols, gy[None, :], gx[None, :]] = colours.reshape(-1, 1, 3)

    res = on & (kind == K.RESIDENT)
    displaced = res & ag.displaced
    active = res & ~displaced & (ag.state == K.ACTIVE)
    calm = res & ~displaced & ~active
    trust = np.clip(ag.trust_pk[calm], 0.0, 1.0)
    stamp(calm, "disc", _TRUST_LUT[(trust * 255).astype(np.int64)])
    stamp(active, "disc", _rgb(ACTIVE_COLOUR))
    stamp(displaced, "small_disc", _rgb(DISPLACED_COLOUR))
    stamp(on & (kind == K.COMBATANT), "cross", _rgb(COMBATANT_COLOUR))
    stamp(on & (kind == K.POLICE), "square", _rgb(POLICE_COLOUR))
    pk = on & (kind == K.PEACEKEEPER)
    for role, code in K.ROLE_CODES.items():
        stamp(pk & (ag.role == code), "triangle", _rgb(ROLE_COLOURS[role]))
    return img


def png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an RGB(A) image, compressed lightly: speed matters more than size."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="png", compress_level=1)
    return buf.getvalue()


# ------------------------------------------------------------------ time series


def series(model: Any) -> dict[str, np.ndarray]:
    """The charted quantities, one value per tick so far (tick 0 first)."""
    mv = model.datacollector.model_vars
    names = ("civilian_casualties", "tips", "trust_pk_mean", "trust_police_mean",
             "economy_mean", "combatants")
    with model_lock(model):
        n = len(mv["civilian_casualties"])
        cols = {name: np.asarray(mv[name][:n], dtype=np.float64) for name in names}

    def col(name: str) -> np.ndarray:
        return cols[name]

    casualties = col("civilian_casualties")
    tips = col("tips")
    return {
        "tick": np.arange(len(casualties), dtype=np.float64),
        "casualties": casualties,
        "casualties_cum": np.cumsum(casualties),
        "trust_pk": col("trust_pk_mean"),
        "trust_police": col("trust_police_mean"),
        "economy": col("economy_mean"),
        "combatants": col("combatants"),
        "tips": tips,
        "tips_cum": np.cumsum(tips),
    }


@dataclass(frozen=True)
class Line:
    """One line of a panel: the series it plots, its legend label and colour."""

    key: str
    label: str
    colour: str


@dataclass(frozen=True)
class Panel:
    """One chart: title, lines, and fixed y limits (None: the limits grow with the data)."""

    title: str
    lines: tuple[Line, ...]
    ylim: tuple[float, float] | None = None
    symmetric: bool = False  # differences: limits grow symmetrically around 0


TREND_PANELS = (
    Panel("Civilians killed (cumulative)", (Line("casualties_cum", "civilians killed",
                                                 "#d62728"),)),
    Panel("Trust (mean, 0-1)", (Line("trust_pk", "in peacekeepers", "#2ca02c"),
                               Line("trust_police", "in police", "#111111")), (0.0, 1.0)),
    Panel("Economy (mean, 0-1)", (Line("economy", "economy", "#1f77b4"),), (0.0, 1.0)),
    Panel("Combatants", (Line("combatants", "combatants", "#a50f15"),)),
    Panel("Tips per week", (Line("tips", "tips", "#17becf"),)),
)
DIFF_PANELS = (
    Panel("Civilians killed, cumulative: B - A", (Line("casualties_cum", "B - A", "#d62728"),),
          symmetric=True),
    Panel("Trust in peacekeepers: B - A", (Line("trust_pk", "B - A", "#2ca02c"),),
          symmetric=True),
    Panel("Trust in police: B - A", (Line("trust_police", "B - A", "#111111"),),
          symmetric=True),
    Panel("Economy: B - A", (Line("economy", "B - A", "#1f77b4"),), symmetric=True),
    Panel("Combatants: B - A", (Line("combatants", "B - A", "#a50f15"),), symmetric=True),
    Panel("Tips, cumulative: B - A", (Line("tips_cum", "B - A", "#17becf"),), symmetric=True),
)


def difference(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``b - a`` for every series (ticks from ``a``; both sides step together)."""
    n = min(len(a["tick"]), len(b["tick"]))
    out = {k: b[k][:n] - a[k][:n] for k in a if k != "tick"}
    out["tick"] = a["tick"][:n]
    return out


def _grow(lo: float, hi: float, data_lo: float, data_hi: float,
          symmetric: bool) -> tuple[float, float] | None:
    """New y limits if the data left the old ones (with room to grow), else None."""
    if data_lo >= lo and data_hi <= hi:
        return None
    if symmetric:
        m = max(abs(data_lo), abs(data_hi), 1e-9) * 1.5
        return -m, m
    return min(lo, data_lo), max(hi, data_hi * 1.5, data_hi + 1.0)


class ChartFigure:
    """A stack of panels kept between frames; :meth:`png` redraws only the lines.

    Matplotlib's full draw (axes, ticks, labels) takes tens of milliseconds; blitting the lines
    onto a saved background takes a few. The background is drawn again only when a line leaves
    its axes, when the run goes past the x range, or when the marks change.
    """

    def __init__(self, panels: Sequence[Panel], ticks: int, marks: Sequence[float] = (),
                 width_in: float = 5.6, panel_in: float = 1.25, dpi: int = 80) -> None:
        self.panels = tuple(panels)
        self.marks = tuple(marks)
        self._lock = threading.Lock()
        n = len(self.panels)
        height = panel_in * n + 0.5
        self.fig = Figure(figsize=(width_in, height), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self.fig.subplots_adjust(left=0.13, right=0.97, top=1 - 0.25 / height,
                                 bottom=0.45 / height, hspace=0.55)
        self.axes = self.fig.subplots(n, 1, sharex=True) if n > 1 else [self.fig.subplots()]
        self.lines: list[list[Any]] = []
        for ax, panel in zip(self.axes, self.panels, strict=True):
            row = [ax.plot([], [], color=ln.colour, lw=1.3, label=ln.label, animated=True)[0]
                   for ln in panel.lines]
            self.lines.append(row)
            ax.set_title(panel.title, fontsize=9, loc="left", pad=3)
            ax.tick_params(labelsize=8)
            ax.grid(True, alpha=0.3)
            ax.set_ylim(*(panel.ylim or ((-1.0, 1.0) if panel.symmetric else (0.0, 1.0))))
            if panel.symmetric:
                ax.axhline(0.0, color="#777777", lw=0.8)
            if len(panel.lines) > 1:
                ax.legend(fontsize=7, loc="upper left", frameon=False, ncols=len(panel.lines))
            for mark in self.marks:
                ax.axvline(mark, color="#555555", ls="--", lw=0.8)
        self.axes[-1].set_xlabel("week", fontsize=8)
        self.axes[0].set_xlim(0, max(1, ticks))
        self._background: Any = None

    def _full_draw(self) -> None:
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.fig.bbox)

    def update(self, data: dict[str, np.ndarray]) -> None:
        """Put the data into the lines; widen the axes (and redraw them) where needed."""
        t = data["tick"]
        stale = self._background is None
        ax0 = self.axes[0]
        if len(t) and t[-1] > ax0.get_xlim()[1]:
            ax0.set_xlim(0, t[-1] * 1.25)
            stale = True
        for ax, panel, row in zip(self.axes, self.panels, self.lines, strict=True):
            for line, spec in zip(row, panel.lines, strict=True):
                line.set_data(t, data[spec.key])
            if panel.ylim is None and len(t):
                vals = np.concatenate([data[s.key] for s in panel.lines])
                lo, hi = ax.get_ylim()
                new = _grow(lo, hi, float(np.nanmin(vals)), float(np.nanmax(vals)),
                            panel.symmetric)
                if new is not None:
                    ax.set_ylim(*new)
                    stale = True
        if stale:
            self._full_draw()

    def rgba(self, data: dict[str, np.ndarray]) -> np.ndarray:
        """The figure with these data, as an RGBA array."""
        with self._lock:
            self.update(data)
            self.canvas.restore_region(self._background)
            for ax, row in zip(self.axes, self.lines, strict=True):
                for line in row:
                    ax.draw_artist(line)
            return np.asarray(self.canvas.buffer_rgba()).copy()

    def png(self, data: dict[str, np.ndarray]) -> bytes:
        """The figure with these data, as PNG bytes."""
        return png(self.rgba(data))


def mission_marks(model: Any) -> tuple[float, ...]:
    """Weeks to mark on the charts: the drawdown start, if the mission draws down."""
    start = model.scenario_config.mission.drawdown_start
    return () if start is None else (float(start),)


def trend_chart(model: Any) -> ChartFigure:
    """The trainer page's charts for this model."""
    return ChartFigure(TREND_PANELS, model.scenario_config.run.ticks, mission_marks(model))


def difference_chart(model_a: Any, model_b: Any) -> ChartFigure:
    """The compare page's charts of B - A."""
    marks = sorted(set(mission_marks(model_a)) | set(mission_marks(model_b)))
    return ChartFigure(DIFF_PANELS, model_a.scenario_config.run.ticks, marks, width_in=5.0,
                       panel_in=1.1)


# ------------------------------------------------------------------ speed


def frames_per_second(model: Any, ticks: int = 100, layer: str = "violence",
                      redraw: Callable[[Any], None] | None = None) -> float:
    """Ticks per second of step + redraw (map and charts, to PNG bytes) for ``model``.

    ``redraw`` replaces the default redraw (e.g. with a rendered Solara page) so the app's
    own overhead can be included in the measurement."""
    if redraw is None:
        chart = trend_chart(model)

        def redraw(m: Any) -> None:
            png(map_rgb(m, layer))
            chart.png(series(m))

    redraw(model)  # warm-up: first full draw of the axes
    start = time.perf_counter()
    for _ in range(ticks):
        model.step()
        redraw(model)
    return ticks / (time.perf_counter() - start)
