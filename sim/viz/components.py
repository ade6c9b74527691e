"""Pictures for the trainer app, drawn straight from the model's arrays (no UI code here).

The app must redraw a 50x50 map and its charts ten times a second, so nothing here goes
through Mesa's per-agent portrayal:

* the map is a :class:`MapFrame`: one background colour per cell (the chosen layer) and one
  glyph and colour per occupied cell, built with numpy; the browser draws it on a canvas at
  the screen's own resolution (``sim/viz/mapview.vue``), so it stays sharp on a projector at
  any size and the server encodes no image. :func:`map_rgb` draws the same frame into an RGB
  image (exports, tests);
* the charts are matplotlib figures kept between frames and redrawn by blitting only what
  changes (lines, ghosts, shading); the axes are drawn again only when a line outgrows them.

Colours are colour-blind safe: agents in Okabe & Ito's palette with dark outlines, layers in
single-hue sequential maps (they differ in lightness, which every viewer sees), residents'
trust from white to dark blue (lightness again), so low- and high-trust residents differ on
every layer.
"""

from __future__ import annotations

import base64
import io
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from PIL import Image

from sim.config.scenario import planned_exit_tick
from sim.engine import layout as K
from sim.viz.plots import OKABE_ITO, ROLE_COLOURS

# ------------------------------------------------------------------ map: layers and glyphs


@dataclass(frozen=True)
class MapLayer:
    """A background the map can show: its title, colour map, what it means, and the labels of
    its colour bar as (position along the bar in [0, 1], text)."""

    title: str
    cmap: str
    meaning: str
    ticks: tuple[tuple[float, str], ...]

    def __getitem__(self, i: int) -> str:
        """``layer[0]`` the title, ``layer[1]`` the colour map: the (title, colour map)
        pairs this table held before it said more (code that indexes them still works)."""
        return (self.title, self.cmap)[i]


#: recent violence at which the colour saturates (the layer is usually far below 1)
VIOLENCE_FULL = 0.5
#: the map's layer switch
LAYERS = {
    "violence": MapLayer(
        "Recent violence", "Reds",
        "attacks on civilians, harm by force and battles, fading over weeks (per cell)",
        ((0.0, "none"), (0.5, f"{VIOLENCE_FULL / 4:g}"), (1.0, f"{VIOLENCE_FULL:g} or more"))),
    "economy": MapLayer(
        "Economy", "Greens", "the local economy of each cell, from collapsed (0) to thriving (1)",
        ((0.0, "0"), (0.5, "0.5"), (1.0, "1"))),
    "trust": MapLayer(
        "Trust in peacekeepers", "Purples",
        "the trust in peacekeepers of the resident on each cell (grey: nobody lives there)",
        ((0.0, "0"), (0.5, "0.5"), (1.0, "1"))),
}
#: how much of the layer colour is mixed with white, so the agents stand out
LAYER_STRENGTH = 0.6
NO_RESIDENT = (0.85, 0.85, 0.85)  # trust layer where nobody lives

# glyph codes of a MapFrame (the canvas in mapview.vue draws the same shapes)
G_NONE, G_DISC, G_SMALL_DISC, G_CROSS, G_SQUARE, G_TRIANGLE = range(6)
G_FRAME = 6  # the legend's sign for a settlement (a frame around its cell, not a glyph)
#: outline drawn around each glyph (None: none), so it shows on any background
GLYPH_OUTLINE = {G_DISC: "#333333", G_SMALL_DISC: None, G_CROSS: "#000000",
                 G_SQUARE: "#FFFFFF", G_TRIANGLE: "#000000"}

SETTLEMENT_COLOUR = "#6B4226"  # the outline of a settlement's or market's cell
POLICE_COLOUR = OKABE_ITO["black"]
COMBATANT_COLOUR = OKABE_ITO["vermillion"]
ACTIVE_COLOUR = OKABE_ITO["yellow"]  # protesting residents
DISPLACED_COLOUR = "#8C8C8C"
#: residents' trust in peacekeepers: the fill of their disc, white (none) to dark blue (full)
TRUST_CMAP = "Blues"
TRUST_LEVELS = 33
#: (glyph, colour, meaning) for the legend under the map
LEGEND = (
    (G_DISC, "#F7FBFF", "resident, low trust in peacekeepers"),
    (G_DISC, "#08306B", "resident, high trust in peacekeepers"),
    (G_DISC, ACTIVE_COLOUR, "resident protesting"),
    (G_SMALL_DISC, DISPLACED_COLOUR, "resident displaced"),
    (G_CROSS, COMBATANT_COLOUR, "combatant"),
    (G_SQUARE, POLICE_COLOUR, "police officer"),
    *((G_TRIANGLE, colour, f"peacekeepers: {role.replace('_', ' ')}")
      for role, colour in ROLE_COLOURS.items()),
    (G_FRAME, SETTLEMENT_COLOUR, "settlement or market"),
)


def _rgb(colour: str) -> np.ndarray:
    c = colour.lstrip("#")
    return np.array([int(c[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.uint8)


def _lut(cmap: str) -> np.ndarray:
    """256 RGB colours of a matplotlib colour map, as uint8."""
    return (colormaps[cmap](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)


def _washed(lut: np.ndarray) -> np.ndarray:
    """A layer's colours as the map shows them: mixed with white (``LAYER_STRENGTH``)."""
    return (255 - LAYER_STRENGTH * (255 - lut.astype(np.float32))).astype(np.uint8)


_LUTS = {name: _washed(_lut(layer.cmap)) for name, layer in LAYERS.items()}
_TRUST_LUT = _lut(TRUST_CMAP)


def colour_bar(layer: str, stops: int = 11) -> list[str]:
    """The colours of a layer's colour bar, low to high, as the map shows them (hex)."""
    lut = _LUTS[layer]
    return [_hex(lut[i]) for i in np.linspace(0, 255, stops).astype(int)]


def trust_bar(stops: int = 11) -> list[str]:
    """The colours of the residents' trust scale (their discs), low to high (hex)."""
    return [_hex(_TRUST_LUT[i]) for i in np.linspace(0, 255, stops).astype(int)]


def _hex(rgb: np.ndarray) -> str:
    r, g, b = (int(v) for v in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def cell_size(width: int, height: int, target_px: int = 450) -> int:
    """Pixels per cell so the map is about ``target_px`` wide (2 to 12)."""
    return int(min(12, max(2, target_px // max(width, height))))


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


@dataclass(frozen=True)
class MapFrame:
    """The map at one moment, row 0 at the north edge: a background colour per cell and, per
    occupied cell, a glyph code (``G_*``) and its colour."""

    width: int
    height: int
    districts: int
    background: np.ndarray  # (height, width, 3) uint8
    glyph: np.ndarray  # (height, width) uint8
    colour: np.ndarray  # (height, width, 3) uint8
    settlement: np.ndarray  # (height, width) uint8: 1 on a settlement's or market's cell

    def payload(self) -> dict[str, Any]:
        """What the browser's canvas needs, as JSON-ready values (arrays base64-encoded)."""
        b64 = base64.b64encode
        return {"width": self.width, "height": self.height, "districts": self.districts,
                "background": b64(self.background.tobytes()).decode(),
                "glyph": b64(self.glyph.tobytes()).decode(),
                "colour": b64(self.colour.tobytes()).decode(),
                "settlement": b64(self.settlement.tobytes()).decode()}


def map_frame(model: Any, layer: str = "violence") -> MapFrame:
    """The model's map with the chosen layer as background (see :class:`MapFrame`)."""
    with model_lock(model):
        return _map_frame(model, layer)


def _map_frame(model: Any, layer: str) -> MapFrame:
    w, h = model.width, model.height
    vals = layer_values(model, layer)[::-1]  # image row 0 is the top of the map
    idx = np.nan_to_num(vals * 255, nan=0).astype(np.int64)
    background = _LUTS[layer][idx]
    background[np.isnan(vals)] = (np.array(NO_RESIDENT) * 255).astype(np.uint8)
    glyph = np.zeros((h, w), np.uint8)
    colour = np.zeros((h, w, 3), np.uint8)

    ag = model.arrays
    on = ag.alive & (ag.x >= 0)
    kind = ag.kind

    def put(sel: np.ndarray, code: int, colours: np.ndarray) -> None:
        rows = h - 1 - ag.y[sel]
        cols = ag.x[sel]
        glyph[rows, cols] = code
        colour[rows, cols] = colours

    res = on & (kind == K.RESIDENT)
    displaced = res & ag.displaced
    active = res & ~displaced & (ag.state == K.ACTIVE)
    calm = res & ~displaced & ~active
    # trust in TRUST_LEVELS steps (the eye tells no more apart; the browser draws each
    # shade once and copies it)
    trust = np.round(np.clip(ag.trust_pk[calm], 0.0, 1.0) * (TRUST_LEVELS - 1))
    put(calm, G_DISC, _TRUST_LUT[(trust * 255 / (TRUST_LEVELS - 1)).astype(np.int64)])
    put(active, G_DISC, _rgb(ACTIVE_COLOUR))
    put(displaced, G_SMALL_DISC, _rgb(DISPLACED_COLOUR))
    put(on & (kind == K.COMBATANT), G_CROSS, _rgb(COMBATANT_COLOUR))
    put(on & (kind == K.POLICE), G_SQUARE, _rgb(POLICE_COLOUR))
    pk = on & (kind == K.PEACEKEEPER)
    for role, code in K.ROLE_CODES.items():
        put(pk & (ag.role == code), G_TRIANGLE, _rgb(ROLE_COLOURS[role]))
    settlement = np.zeros((h, w), np.uint8)
    districts = 1
    if model.layer is not None:
        districts = int(model.scenario_config.economy.districts)
        settlement[:] = (np.asarray(model.layer.lay.market).T[::-1] > 0)
    return MapFrame(w, h, districts, background, glyph, colour, settlement)


def _glyph_masks(s: int) -> dict[int, tuple[np.ndarray, np.ndarray | None]]:
    """Per glyph code, the (fill, outline) masks inside an ``s x s`` cell (outline None:
    too small a cell for one)."""
    c = (np.arange(s) + 0.5) / s
    v, u = np.meshgrid(c, c, indexing="ij")  # v: down the cell, u: across
    r2 = (u - 0.5) ** 2 + (v - 0.5) ** 2

    def cross(width: float, reach: float) -> np.ndarray:
        return (((abs(u - v) <= width) | (abs(u + v - 1) <= width))
                & (abs(u - 0.5) <= reach) & (abs(v - 0.5) <= reach))

    def triangle(pad: float) -> np.ndarray:
        return (v >= 0.12 - pad) & (v <= 0.88 + pad) \
            & (abs(u - 0.5) <= (v - 0.12 + pad) * 0.55 + pad)

    shapes = {
        G_DISC: (r2 <= 0.34 ** 2, r2 <= 0.46 ** 2),
        G_SMALL_DISC: (r2 <= 0.22 ** 2, None),
        G_CROSS: (cross(0.12, 0.36), cross(0.22, 0.42)),
        G_SQUARE: ((abs(u - 0.5) <= 0.3) & (abs(v - 0.5) <= 0.3),
                   (abs(u - 0.5) <= 0.42) & (abs(v - 0.5) <= 0.42)),
        G_TRIANGLE: (triangle(0.0), triangle(0.1)),
    }
    out: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}
    for code, (fill, ring) in shapes.items():
        if not fill.any():  # tiny cells: the whole cell
            fill = np.ones((s, s), bool)
        outline = ring & ~fill if ring is not None and s >= 6 else None
        out[code] = (fill, outline if outline is not None and outline.any() else None)
    return out


def render_frame(frame: MapFrame, s: int, grid: bool = True) -> np.ndarray:
    """A :class:`MapFrame` as an RGB image ``(height*s, width*s, 3)``, with the district
    boundaries when ``grid`` (as the browser draws it, for exports and tests)."""
    h, w = frame.height, frame.width
    img = np.repeat(np.repeat(frame.background, s, axis=0), s, axis=1)
    cells = img.reshape(h, s, w, s, 3).transpose(0, 2, 1, 3, 4)  # a view: (h, w, s, s, 3)
    if s >= 4:  # settlements: a frame around the cell
        rows, cols = np.nonzero(frame.settlement)
        edge = np.zeros((s, s), bool)
        edge[[0, -1], :] = edge[:, [0, -1]] = True
        gy, gx = np.nonzero(edge)
        cells[rows[:, None], cols[:, None], gy[None, :], gx[None, :]] = _rgb(SETTLEMENT_COLOUR)
    for code, (fill, outline) in _glyph_masks(s).items():
        rows, cols = np.nonzero(frame.glyph == code)
        if not rows.size:
            continue
        ring = GLYPH_OUTLINE[code]
        if outline is not None and ring is not None:
            gy, gx = np.nonzero(outline)
            cells[rows[:, None], cols[:, None], gy[None, :], gx[None, :]] = _rgb(ring)
        gy, gx = np.nonzero(fill)
        cells[rows[:, None], cols[:, None], gy[None, :], gx[None, :]] = \
            frame.colour[rows, cols][:, None, :]
    if grid and frame.districts > 1:
        k = frame.districts
        for i in range(1, k):  # the first cell of district i is ceil(i * size / k)
            x = -(-i * w // k) * s
            y = (h - -(-i * h // k)) * s
            img[:, x] = (img[:, x] * 0.5).astype(np.uint8)
            img[y] = (img[y] * 0.5).astype(np.uint8)
    return img


def map_rgb(model: Any, layer: str = "violence", s: int | None = None,
            grid: bool = False) -> np.ndarray:
    """The map as an RGB image ``(height*s, width*s, 3)``: the layer's colour in every cell,
    then residents (by state and trust), combatants, peacekeepers (by role) and police."""
    frame = map_frame(model, layer)
    return render_frame(frame, cell_size(model.width, model.height) if s is None else s, grid)


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
    casualties = cols["civilian_casualties"]
    tips = cols["tips"]
    return {
        "tick": np.arange(len(casualties), dtype=np.float64),
        "casualties": casualties,
        "casualties_cum": np.cumsum(casualties),
        "trust_pk": cols["trust_pk_mean"],
        "trust_police": cols["trust_police_mean"],
        "economy": cols["economy_mean"],
        "combatants": cols["combatants"],
        "tips": tips,
        "tips_cum": np.cumsum(tips),
    }


@dataclass(frozen=True)
class Measure:
    """A quantity the charts show: its series key, a title, its unit or range, and which way
    is better for civilians (``"lower"``, ``"higher"``) for the compare page's shading."""

    key: str
    title: str
    short: str  # the title in a narrow panel
    diff: str  # ... of its difference B - A
    better: str
    ylim: tuple[float, float] | None = None


MEASURES = {
    "casualties_cum": Measure("casualties_cum", "Civilians killed (cumulative)",
                              "Civilians killed", "killed", "lower"),
    "trust_pk": Measure("trust_pk", "Trust in peacekeepers (0-1)", "Trust in peacekeepers",
                        "trust", "higher", (0.0, 1.0)),
    "combatants": Measure("combatants", "Combatants", "Combatants", "combatants", "lower"),
    "trust_police": Measure("trust_police", "Trust in police (0-1)", "Trust in police",
                            "trust", "higher", (0.0, 1.0)),
    "economy": Measure("economy", "Economy (0-1)", "Economy", "economy", "higher", (0.0, 1.0)),
    "tips_cum": Measure("tips_cum", "Tips (cumulative)", "Tips", "tips", "higher"),
}
#: the measures the compare page shows unless asked for all of them
COMPARE_MEASURES = ("casualties_cum", "trust_pk", "combatants")


@dataclass(frozen=True)
class Line:
    """One line of a panel: the key of its series in the data, its legend label and colour."""

    key: str
    label: str
    colour: str
    dashed: bool = False


@dataclass(frozen=True)
class Panel:
    """One chart: title, lines, y limits (None: they grow with the data), and for a
    difference, the line whose sign is shaded and which way is better."""

    title: str
    lines: tuple[Line, ...]
    ylim: tuple[float, float] | None = None
    symmetric: bool = False  # differences: limits grow symmetrically around 0
    shade: str | None = None  # key of the line shaded above / below 0
    better: str | None = None  # "lower" or "higher": the shading's meaning
    legend: bool = True


C = OKABE_ITO
TREND_PANELS = (
    Panel("Civilians killed (cumulative)",
          (Line("casualties_cum", "civilians killed", C["vermillion"]),), legend=False),
    Panel("Trust and economy (mean, 0-1)", (
        Line("trust_pk", "trust in peacekeepers", C["blue"]),
        Line("trust_police", "trust in police", C["black"]),
        Line("economy", "economy", C["green"], dashed=True)), (0.0, 1.0)),
    Panel("Combatants", (Line("combatants", "combatants", C["vermillion"]),), legend=False),
    Panel("Tips per week", (Line("tips", "tips", C["sky_blue"]),), legend=False),
)
SIDE_COLOURS = {"a": C["blue"], "b": C["orange"]}
BETTER_COLOUR, WORSE_COLOUR = C["blue"], C["vermillion"]
GHOST_COLOUR = "#8C8C8C"
#: chart text: 10.5 pt at 100 dpi is 14.6 px on screen (the images are shown at their size)
CHART_DPI = 100
FONT_PT = 10.5
TITLE_PT = 11.0


def compare_panels(keys: Sequence[str] = COMPARE_MEASURES) -> tuple[Panel, ...]:
    """The compare page's panels: per measure, A and B (absolute) above, B - A below.

    Data keys: ``a.<key>``, ``b.<key>`` and ``d.<key>`` (= b - a)."""
    top = tuple(Panel(MEASURES[k].short, (
        Line(f"a.{k}", "A", SIDE_COLOURS["a"]), Line(f"b.{k}", "B", SIDE_COLOURS["b"])),
        MEASURES[k].ylim, legend=False) for k in keys)
    bottom = tuple(Panel(f"B - A: {MEASURES[k].diff}",
                         (Line(f"d.{k}", "B - A", C["black"]),), symmetric=True,
                         shade=f"d.{k}", better=MEASURES[k].better, legend=False)
                   for k in keys)
    return top + bottom


def difference(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``b - a`` for every series (ticks from ``a``; both sides step together)."""
    n = min(len(a["tick"]), len(b["tick"]))
    out = {k: b[k][:n] - a[k][:n] for k in a if k != "tick"}
    out["tick"] = a["tick"][:n]
    return out


def pair_data(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A and B and their difference in one dict, keyed as :func:`compare_panels` reads them."""
    d = difference(a, b)
    n = len(d["tick"])
    out = {"tick": d["tick"]}
    for k in MEASURES:
        out[f"a.{k}"] = a[k][:n]
        out[f"b.{k}"] = b[k][:n]
        out[f"d.{k}"] = d[k]
    return out


@dataclass(frozen=True)
class Band:
    """A mean and an interval around it, per tick (ticks 0 .. len - 1)."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


@dataclass(frozen=True)
class Mark:
    """A labelled vertical line on every panel (the drawdown start, the exit, a change)."""

    x: float
    label: str
    colour: str = "#555555"
    style: str = "--"


def _grow(lo: float, hi: float, data_lo: float, data_hi: float,
          symmetric: bool) -> tuple[float, float] | None:
    """New y limits if the data left the old ones (with room to grow), else None."""
    if data_lo >= lo and data_hi <= hi:
        return None
    if symmetric:
        m = max(abs(data_lo), abs(data_hi), 1e-9) * 1.5
        return -m, m
    return min(lo, data_lo), max(hi, data_hi * 1.5, data_hi + 1.0)


@dataclass
class _PanelArtists:
    lines: list[Any] = field(default_factory=list)
    ghosts: list[Any] = field(default_factory=list)


class ChartFigure:
    """A grid of panels kept between frames; :meth:`png` redraws only what changes.

    Matplotlib's full draw (axes, ticks, labels) takes tens of milliseconds; blitting the lines
    onto a saved background takes a few. The background (axes, marks, uncertainty bands) is
    drawn again only when a line leaves its axes, when the run goes past the x range, or when
    the marks or bands change. Text is ``FONT_PT`` at ``CHART_DPI``: at least 14 pixels when
    the image is shown at its own size.
    """

    def __init__(self, panels: Sequence[Panel], ticks: int, marks: Sequence[Mark] = (),
                 columns: int = 1, width_px: int = 600, panel_px: int = 150) -> None:
        self.panels = tuple(panels)
        self.columns = max(1, int(columns))
        self.rows = -(-len(self.panels) // self.columns)
        self._lock = threading.Lock()
        self._bands: dict[str, Band] = {}
        self._band_artists: list[Any] = []
        self._mark_artists: list[Any] = []
        self.marks: tuple[Mark, ...] = ()
        width_in = width_px / CHART_DPI
        height_in = (panel_px * self.rows + 46) / CHART_DPI
        self.fig = Figure(figsize=(width_in, height_in), dpi=CHART_DPI)
        self.canvas = FigureCanvasAgg(self.fig)
        self.fig.subplots_adjust(left=0.13 if self.columns == 1 else 0.09, right=0.98,
                                 top=1 - 26 / (height_in * CHART_DPI),
                                 bottom=40 / (height_in * CHART_DPI),
                                 hspace=0.62, wspace=0.38)
        grid = self.fig.subplots(self.rows, self.columns, sharex=True, squeeze=False)
        self.axes = [grid[i // self.columns][i % self.columns] for i in range(len(self.panels))]
        for extra in grid.flat[len(self.panels):]:
            extra.set_visible(False)
        self.artists: list[_PanelArtists] = []
        for ax, panel in zip(self.axes, self.panels, strict=True):
            art = _PanelArtists()
            for ln in panel.lines:
                art.lines.append(ax.plot([], [], color=ln.colour, lw=2.0, label=ln.label,
                                         ls="--" if ln.dashed else "-", animated=True)[0])
                art.ghosts.append(ax.plot([], [], color=GHOST_COLOUR, lw=1.6, ls=":",
                                          animated=True)[0])
            self.artists.append(art)
            ax.set_title(panel.title, fontsize=TITLE_PT, loc="left", pad=4)
            ax.tick_params(labelsize=FONT_PT)
            ax.grid(True, alpha=0.3)
            ax.set_ylim(*(panel.ylim or ((-1.0, 1.0) if panel.symmetric else (0.0, 1.0))))
            if panel.symmetric:
                ax.axhline(0.0, color="#555555", lw=1.0)
            handles = []
            if panel.legend and len(panel.lines) > 1:
                handles += [Patch(color=ln.colour, label=ln.label) for ln in panel.lines]
            if panel.shade and panel.legend:
                handles += [Patch(color=BETTER_COLOUR, alpha=0.35, label="B better"),
                            Patch(color=WORSE_COLOUR, alpha=0.35, label="B worse")]
            if handles:
                ax.legend(handles=handles, fontsize=FONT_PT, loc="upper left", frameon=False,
                          ncols=len(handles), handlelength=1.0, columnspacing=0.8,
                          borderaxespad=0.1)
        for ax in self.axes[-self.columns:]:
            ax.set_xlabel("week", fontsize=FONT_PT)
        self.axes[0].set_xlim(0, max(1, ticks))
        self.set_marks(marks)
        self._background: Any = None
        self._background_url: str | None = None
        self._blitted = False  # the canvas holds blitted lines over the background
        self.version = 0  # one more per full draw

    # -------------------------------------------------------------- static parts

    def set_marks(self, marks: Sequence[Mark]) -> None:
        """Labelled vertical lines (drawn into the background)."""
        marks = tuple(marks)
        if marks == self.marks:
            return
        for artist in self._mark_artists:
            artist.remove()
        self._mark_artists = []
        self.marks = marks
        top = self.axes[:self.columns]
        for ax in self.axes:
            for mark in marks:
                self._mark_artists.append(ax.axvline(mark.x, color=mark.colour, ls=mark.style,
                                                     lw=1.2))
        upright = self.columns > 1  # narrow panels: the label runs up along its line
        for ax in top:
            for mark in marks:
                self._mark_artists.append(ax.annotate(
                    mark.label, (mark.x, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(-2 if upright else 3, -2), textcoords="offset points",
                    ha="right" if upright else "left", va="top",
                    rotation=90 if upright else 0, fontsize=FONT_PT, color=mark.colour,
                    bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none",
                          "alpha": 0.8}))
        self._background = None

    def set_bands(self, bands: Mapping[str, Band]) -> None:
        """Uncertainty bands (mean and interval) for the lines with these keys; drawn into
        the background with their mean as a thin line, and the axes grown to hold them."""
        self._bands = dict(bands)
        for artist in self._band_artists:
            artist.remove()
        self._band_artists = []
        for ax, panel in zip(self.axes, self.panels, strict=True):
            for ln in panel.lines:
                band = self._bands.get(ln.key)
                if band is None:
                    continue
                t = np.arange(len(band.mean), dtype=np.float64)
                self._band_artists.append(ax.fill_between(t, band.low, band.high,
                                                          color=ln.colour, alpha=0.2, lw=0))
                self._band_artists.append(ax.plot(t, band.mean, color=ln.colour, lw=1.0,
                                                  alpha=0.9)[0])
                self._fit(ax, panel, np.concatenate([band.low, band.high]))
                if len(t) and t[-1] > ax.get_xlim()[1]:
                    self.axes[0].set_xlim(0, t[-1])
        self._background = None

    def _fit(self, ax: Any, panel: Panel, vals: np.ndarray) -> bool:
        if panel.ylim is not None or not vals.size or not np.isfinite(vals).any():
            return False
        lo, hi = ax.get_ylim()
        new = _grow(lo, hi, float(np.nanmin(vals)), float(np.nanmax(vals)), panel.symmetric)
        if new is None:
            return False
        ax.set_ylim(*new)
        return True

    def _full_draw(self) -> None:
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.fig.bbox)
        self._background_url = None  # encoded on demand (payload)
        self.version += 1

    def background_url(self) -> str:
        """The background (axes, labels, marks, bands; no data lines) as a PNG data URL,
        encoded once per full draw."""
        if self._background_url is None:
            rgba = np.asarray(self.canvas.buffer_rgba())
            if self._blitted:  # the canvas holds lines drawn since: restore it first
                self.canvas.restore_region(self._background)
                rgba = np.asarray(self.canvas.buffer_rgba())
                self._blitted = False
            self._background_url = "data:image/png;base64," + base64.b64encode(
                png(rgba[:, :, :3])).decode()
        return self._background_url

    def payload(self, data: Mapping[str, np.ndarray],
                ghost: Mapping[str, np.ndarray] | None = None) -> tuple[str, dict[str, Any]]:
        """What the browser's chart canvas draws (``chartview.vue``): the background as a
        PNG data URL (it changes only when the axes do) and, per frame, the lines, ghosts and
        shading as polylines and polygons in the image's pixels (y down). The browser draws
        them over the background: the server encodes no image per frame."""
        with self._lock:
            self.update(data, ghost)
            url = self.background_url()
            height = self.fig.bbox.height
            lines: list[dict[str, Any]] = []
            fills: list[dict[str, Any]] = []
            t = data["tick"]
            for ax, panel, art in zip(self.axes, self.panels, self.artists, strict=True):
                box = ax.bbox
                clip = [round(box.x0, 1), round(height - box.y1, 1), round(box.width, 1),
                        round(box.height, 1)]
                if panel.shade and len(t) > 1:
                    for poly, colour in self._shade_polygons(panel, t, data[panel.shade]):
                        fills.append({"p": _pixels(ax, poly, height), "c": colour, "a": 0.35,
                                      "clip": clip})
                for line in (*art.ghosts, *art.lines):
                    x, y = line.get_data()
                    if len(x) < 1:
                        continue
                    pts = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
                    lw = line.get_linewidth() * CHART_DPI / 72
                    lines.append({"p": _pixels(ax, pts, height), "c": line.get_color(),
                                  "w": round(lw, 2), "d": _dashes(line.get_linestyle(), lw),
                                  "clip": clip})
            return url, {"width": int(self.fig.bbox.width), "height": int(height),
                         "version": self.version, "lines": lines, "fills": fills}

    def _shade_polygons(self, panel: Panel, t: np.ndarray, d: np.ndarray
                        ) -> list[tuple[np.ndarray, str]]:
        """The shading of a difference as polygons (data coordinates) and their colours."""
        good = d < 0 if panel.better == "lower" else d > 0
        bad = d > 0 if panel.better == "lower" else d < 0
        out = []
        for where, colour in ((good, BETTER_COLOUR), (bad, WORSE_COLOUR)):
            idx = np.flatnonzero(where)
            if not idx.size:
                continue
            runs = np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1)
            for run in runs:
                lo, hi = max(run[0] - 1, 0), min(run[-1] + 1, len(t) - 1)
                xs, ys = t[lo:hi + 1].astype(float), d[lo:hi + 1].astype(float)
                # the ends meet the zero line where the difference crosses it
                for end in (0, -1):
                    i, j = (lo, lo + 1) if end == 0 else (hi, hi - 1)
                    if not where[i] and d[i] != d[j]:
                        xs[end] = t[i] + (t[j] - t[i]) * d[i] / (d[i] - d[j])
                        ys[end] = 0.0
                poly = np.concatenate([np.column_stack([xs, ys]),
                                       np.column_stack([xs[::-1], np.zeros(len(xs))])])
                out.append((poly, colour))
        return out

    # -------------------------------------------------------------- per frame

    def update(self, data: Mapping[str, np.ndarray],
               ghost: Mapping[str, np.ndarray] | None = None) -> None:
        """Put the data (and the ghost's) into the lines; widen the axes where needed."""
        t = data["tick"]
        stale = self._background is None
        ax0 = self.axes[0]
        if len(t) and t[-1] > ax0.get_xlim()[1]:
            ax0.set_xlim(0, t[-1] * 1.25)
            stale = True
        gt = None if ghost is None else ghost["tick"]
        for ax, panel, art in zip(self.axes, self.panels, self.artists, strict=True):
            vals = []
            for line, g, spec in zip(art.lines, art.ghosts, panel.lines, strict=True):
                line.set_data(t, data[spec.key])
                vals.append(data[spec.key])
                if gt is not None and spec.key in ghost:
                    g.set_data(gt, ghost[spec.key])
                    vals.append(ghost[spec.key])
                else:
                    g.set_data([], [])
            if len(t) and self._fit(ax, panel, np.concatenate(vals)):
                stale = True
        if stale:
            self._full_draw()

    def rgba(self, data: Mapping[str, np.ndarray],
             ghost: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        """The figure with these data (and a ghost: the run as it was before a change), as an
        RGBA array."""
        with self._lock:
            self.update(data, ghost)
            self.canvas.restore_region(self._background)
            t = data["tick"]
            for ax, panel, art in zip(self.axes, self.panels, self.artists, strict=True):
                if panel.shade and len(t) > 1:
                    self._draw_shade(ax, panel, t, data[panel.shade])
                for g in art.ghosts:
                    ax.draw_artist(g)
                for line in art.lines:
                    ax.draw_artist(line)
            self._blitted = True
            return np.asarray(self.canvas.buffer_rgba()).copy()

    def _draw_shade(self, ax: Any, panel: Panel, t: np.ndarray, d: np.ndarray) -> None:
        """Shade a difference: where B is better (by ``panel.better``), in the better colour,
        where it is worse in the worse colour."""
        good = d < 0 if panel.better == "lower" else d > 0
        bad = d > 0 if panel.better == "lower" else d < 0
        for where, colour in ((good, BETTER_COLOUR), (bad, WORSE_COLOUR)):
            if where.any():
                poly = ax.fill_between(t, 0.0, d, where=where, interpolate=True,
                                       color=colour, alpha=0.35, lw=0)
                ax.draw_artist(poly)
                poly.remove()

    def png(self, data: Mapping[str, np.ndarray],
            ghost: Mapping[str, np.ndarray] | None = None) -> bytes:
        """The figure with these data, as PNG bytes (RGB: the figure is opaque)."""
        return png(self.rgba(data, ghost)[:, :, :3])


def _pixels(ax: Any, pts: np.ndarray, height: float) -> list[float]:
    """Data points of an axes as a flat list of image pixels (x right, y down), finite only,
    rounded to a tenth of a pixel (a short message)."""
    pts = pts[np.isfinite(pts).all(axis=1)]
    if not len(pts):
        return []
    xy = ax.transData.transform(pts)
    xy[:, 1] = height - xy[:, 1]
    return np.round(xy, 1).ravel().tolist()


def _dashes(style: Any, lw: float) -> list[float]:
    """A matplotlib line style as a canvas dash pattern (pixels)."""
    pattern = {"--": (3.7, 1.6), ":": (1.0, 1.65), "-.": (6.4, 1.6, 1.0, 1.6)}.get(style)
    return [] if pattern is None else [round(v * lw, 2) for v in pattern]


def mission_marks(model: Any) -> tuple[Mark, ...]:
    """The drawdown start and the week the last unit has left, if the mission draws down
    (one mark if they coincide, an abrupt exit)."""
    m = model.scenario_config.mission
    if m.drawdown_start is None:
        return ()
    exit_tick = planned_exit_tick(m)
    if exit_tick is None or exit_tick <= m.drawdown_start:
        return (Mark(float(m.drawdown_start), "drawdown + exit" if exit_tick is not None
                     else "drawdown"),)
    return (Mark(float(m.drawdown_start), "drawdown"), Mark(float(exit_tick + 1), "exit",
                                                            style=":"))


def trend_chart(model: Any, width_px: int = 600) -> ChartFigure:
    """The trainer page's charts for this model."""
    return ChartFigure(TREND_PANELS, model.scenario_config.run.ticks, mission_marks(model),
                       width_px=width_px, panel_px=150)


def compare_chart(model_a: Any, model_b: Any, keys: Sequence[str] = COMPARE_MEASURES,
                  width_px: int = 690, panel_px: int = 150) -> ChartFigure:
    """The compare page's charts: A and B, and B - A, per measure."""
    marks = {m.x: m for m in (*mission_marks(model_a), *mission_marks(model_b))}
    return ChartFigure(compare_panels(keys), model_a.scenario_config.run.ticks,
                       [marks[x] for x in sorted(marks)], columns=len(keys),
                       width_px=width_px, panel_px=panel_px)


# ------------------------------------------------------------------ speed


def frames_per_second(model: Any, ticks: int = 100, layer: str = "violence",
                      redraw: Callable[[Any], None] | None = None) -> float:
    """Ticks per second of step + redraw (map frame and charts, to PNG bytes) for ``model``.

    ``redraw`` replaces the default redraw (e.g. with a rendered Solara page) so the app's
    own overhead can be included in the measurement."""
    if redraw is None:
        chart = trend_chart(model)

        def redraw(m: Any) -> None:
            map_frame(m, layer).payload()
            chart.png(series(m))

    redraw(model)  # warm-up: first full draw of the axes
    start = time.perf_counter()
    for _ in range(ticks):
        model.step()
        redraw(model)
    return ticks / (time.perf_counter() - start)
