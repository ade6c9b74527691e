"""The trainer app: a Solara app on Mesa for showing policy trade-offs in a room.

Two pages, served by ``peacesim viz`` (:mod:`sim.viz.server`: solara behind a Host/Origin
guard; plain ``solara run sim.viz.app`` serves them without it):

* **Trainer** - one model: the map (residents by state and trust, combatants, peacekeepers by
  role, police, over a violence / economy / trust layer with its colour bar), live charts,
  the event feed, cell inspection on a click, and the levers (each with its tooltip).
* **Compare** - one context with two strategies, stepping in lockstep: the maps side by
  side, the curves of A and B and their difference B - A shaded better / worse, and, on
  request, the mean and band of N seeds run in the background.

The layout is made for a projector: the map fills the main area and is drawn by the browser
at the screen's resolution, text is at least 14 px, colours are colour-blind safe, and a
presenter mode hides everything but the run. The controls are Mesa's (Reset / Play / Step,
play interval, render interval, threads), rebuilt here so that the sidebar and the presenter
bar share one play state and the developer settings sit in an "Advanced" fold; the time
reads "Week N". A lever change rebuilds the model and replays it, with the same seed, to the
week on screen.
"""

from __future__ import annotations

import contextlib
import io
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import reacton.core
import solara
import solara.lab

from sim.config.scenario import ScenarioError
from sim.model.exercise import ExerciseError
from sim.viz.components import (
    BETTER_COLOUR,
    COMPARE_MEASURES,
    LAYERS,
    LEGEND,
    MEASURES,
    SIDE_COLOURS,
    WORSE_COLOUR,
    Mark,
    colour_bar,
    compare_chart,
    map_frame,
    mission_marks,
    pair_data,
    series,
    trend_chart,
    trust_bar,
)
from sim.viz.ensemble import DEFAULT_SEEDS, MAX_SEEDS, Ensemble
from sim.viz.feed import (
    KINDS,
    FeedItem,
    cell_at,
    district_id,
    district_name,
    district_names,
    inspect_cell,
)
from sim.viz.help import event_help, tooltip, what_am_i_looking_at
from sim.viz.live import EXPORTS, ExerciseRun, export_dir, replayed_run, write_export
from sim.viz.trainer import (
    DEFAULT_CONTEXT,
    ROLE_LEVERS,
    SCENARIOS_DIR,
    STRATEGY_LEVERS,
    PairSettings,
    StrategyPair,
    TrainerSettings,
    default_context,
    default_pair,
    default_settings,
    list_contexts,
    list_strategies,
    pair_from_files,
    scenarios_dir,
    settings_from_files,
)

HERE = Path(__file__).resolve().parent
#: milliseconds the play loop sleeps between ticks (the redraw takes the rest)
PLAY_INTERVAL_MS = 10
SIDEBAR_PX = 300
OWN_STRATEGY = "(the context's own)"
#: feed lines shown (the newest first); the feed keeps more for the exports
FEED_SHOWN = 150
#: how the charts mark the instructor's actions
ACTION_COLOUR = "#CC79A7"
ACTION_WORDS = {"attack": "attack", "abuse_scandal": "scandal", "withdraw_units": "withdrawal",
                "reinforce_armed_group": "reinforcement", "legitimacy_shock": "legitimacy",
                "programme_change": "programmes", "set": "levers"}

#: the page's look: narrower sidebar, text of at least 14 px, the map's and charts' boxes
CSS = f"""
.v-application {{ font-size: 16px; }}
.v-application .v-navigation-drawer {{
    width: {SIDEBAR_PX}px !important; min-width: {SIDEBAR_PX}px !important;
    max-width: {SIDEBAR_PX}px !important; }}
.v-application .v-navigation-drawer .v-card {{ margin-bottom: 8px; }}
.v-application .v-navigation-drawer .v-btn-toggle {{ flex-wrap: wrap; }}
.v-application .v-navigation-drawer__content {{ overflow-x: hidden; }}
.v-application .v-label, .v-application .v-input, .v-application .v-btn,
.v-application .v-list-item__title, .v-application .v-select__selection,
.v-application .v-expansion-panel-header, .v-application .v-messages,
.v-application .v-card__subtitle, .v-application .v-alert, .v-application .v-chip,
.v-application .v-slider__thumb-label, .v-application .v-tab {{ font-size: 14px !important; }}
.v-application .v-card__title {{ font-size: 18px; }}
.v-application .v-text-field .v-label--active {{ transform: translateY(-20px) scale(1) !important;
    font-size: 14px !important; }}
.v-tooltip__content {{ font-size: 14px !important; white-space: pre-line; max-width: 360px;
    line-height: 1.35; }}
.peacesim-main {{ display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }}
.peacesim-mapcol {{ flex: 1 1 800px; min-width: min(800px, 100%);
    max-width: max(800px, calc(100vh - 150px)); }}
.peacesim-maptools {{ display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }}
.peacesim-sidecol {{ flex: 1 1 460px; min-width: min(460px, 100%); }}
.peacesim-chart {{ max-width: none !important; width: auto !important; }}
.peacesim-feed {{ max-height: 340px; overflow-y: auto; font-size: 15px; line-height: 1.4;
    border: 1px solid #ccc; padding: 4px 8px; background: #fff; color: #111; }}
.peacesim-feed .peacesim-kind {{ font-weight: bold; }}
.peacesim-headline {{ font-size: 16px !important; font-weight: bold; }}
.peacesim-compare-maps {{ display: flex; gap: 12px; align-items: flex-start;
    flex-wrap: nowrap; }}
.peacesim-compare-map {{ width: min(calc((100vw - {SIDEBAR_PX + 24}px - 250px) / 2),
    calc(100vh - 525px)); min-width: 180px; }}
.peacesim-compare-side {{ flex: 1 1 200px; min-width: 190px; max-width: 320px;
    font-size: 14px; }}
.peacesim-compare-side .v-btn-toggle {{ flex-wrap: wrap; }}
.peacesim-note {{ font-size: 15px; padding: 6px 10px; border-left: 5px solid #E69F00;
    background: #fff8e6; color: #111; }}
.peacesim-legend {{ font-size: 14px; line-height: 1.5; }}
.peacesim-legend svg {{ vertical-align: middle; }}
.peacesim-bar {{ height: 16px; border: 1px solid #888; }}
.peacesim-inspect td {{ padding: 0 10px 0 0; font-size: 14px; }}
"""
#: presenter mode: no sidebar, no title bar, the main area from edge to edge
PRESENTER_CSS = """
.v-application .v-navigation-drawer, .v-application header.v-app-bar { display: none !important; }
.v-application .v-main, .v-application .v-content { padding: 0 !important; }
.peacesim-mapcol { max-width: max(800px, calc(100vh - 110px)); }
"""

#: the layer shown on the maps (per browser session when served)
map_layer = solara.reactive("violence")

Settings = Any  # TrainerSettings or PairSettings, or a reactive holding one


def _current(settings: Settings) -> Any:
    """The settings value, whether given directly or as a reactive variable."""
    return settings.value if isinstance(settings, solara.Reactive) else settings


class FramePacer:
    """Keeps the play loop from changing the page faster than another thread can draw it.

    The play loop steps and then asks for a redraw. Normally the redraw runs in the play
    thread itself, so the loop waits for it. But while a redraw runs in another thread (e.g.
    the one that handled a click), the loop's requests do not wait, and if one arrives during
    every pass of that redraw, reacton stops with "Too many renders triggered". So a step
    waits until the last redraw done elsewhere is two redraw times old.
    """

    def __init__(self) -> None:
        self.thread: int | None = None  # thread of the last redraw
        self.end = 0.0  # when it ended (time.monotonic)
        self.duration = 0.0

    def drawn(self, start: float) -> None:
        """A redraw that began at ``start`` has just ended."""
        self.thread = threading.get_ident()
        self.end = time.monotonic()
        self.duration = self.end - start

    def wait(self, limit: float = 2.0) -> None:
        """Before a step: give a redraw running in another thread room to finish."""
        deadline = time.monotonic() + limit
        while (self.thread not in (None, threading.get_ident())
               and time.monotonic() < min(deadline, self.end + 2 * self.duration)):
            time.sleep(0.005)


class LiveExerciseRun(ExerciseRun):
    """The trainer page's run (:class:`~sim.viz.live.ExerciseRun`), its steps paced to the
    redraws."""

    def __init__(self, settings: Settings = None) -> None:
        self.pacer = FramePacer()
        super().__init__(_current(settings))

    def step(self) -> None:
        """One week, once the last redraw has had its time."""
        self.pacer.wait()
        super().step()


class LiveStrategyPair(StrategyPair):
    """A :class:`StrategyPair` for the page (see :class:`LiveTrainerModel`)."""

    def __init__(self, settings: Settings = None) -> None:
        self.pacer = FramePacer()
        super().__init__(_current(settings))

    def step(self) -> None:
        """One tick of each side, once the last redraw has had its time."""
        self.pacer.wait()
        super().step()


def file_label(path: str | None) -> str:
    """How the pickers show a file: its name under ``scenarios/``, else the path as given."""
    if path is None:
        return OWN_STRATEGY
    p = Path(path)
    for folder in (scenarios_dir() / "strategies", scenarios_dir()):
        if p.parent.resolve() == folder.resolve():
            return p.name
    return str(path)


def _options(paths: list[str]) -> dict[str, str]:
    return {file_label(p): p for p in paths}


def _drawn(model: Any, start: float) -> None:
    pacer = getattr(model, "pacer", None)
    if pacer is not None:
        pacer.drawn(start)


def _replayed(build: Callable[[], Any], week: int) -> Any:
    """A new model, stepped to ``week`` (same seed, so the same history up to the change)."""
    model = build()
    for _ in range(week):
        model.step()
    return model


# ------------------------------------------------------------------ playing


@dataclass
class Player:
    """The play state of a page, shared by the sidebar's controls and the presenter bar:
    whether it plays, a counter that the redrawn components read (one more per redraw), and
    Mesa's developer settings (play interval, render interval, threads)."""

    model: solara.Reactive[Any]
    build: Callable[[], Any]  # a fresh model from the levers as they are (Reset)
    playing: solara.Reactive[bool]
    frame: solara.Reactive[int]
    interval: solara.Reactive[int]
    render_interval: solara.Reactive[int]
    use_threads: solara.Reactive[bool]
    shown: threading.Event
    render_context: Any = None

    def redraw(self) -> None:
        """Redraw the components that show the model, in one render pass: every component
        that reads :attr:`frame` would otherwise trigger a pass of its own, and reacton
        walks the whole page on each."""
        with self.render_context or contextlib.nullcontext():
            self.frame.set(self.frame.value + 1)

    def step(self) -> None:
        """``render_interval`` ticks, then a redraw (the Step button)."""
        for _ in range(max(1, self.render_interval.value)):
            if not self._running():
                break
            self.model.value.step()
        self.redraw()

    def _running(self) -> bool:
        return bool(getattr(self.model.value, "running", True))

    def reset(self) -> None:
        """A new model from the levers as they are now, at week 0 (the Reset button)."""
        self.playing.set(False)
        self.model.set(self.build())
        self.redraw()

    def toggle(self) -> None:
        """Play or pause."""
        self.playing.set(not self.playing.value)


def use_player(model: solara.Reactive[Any], build: Callable[[], Any]) -> Player:
    """The page's :class:`Player` (a hook: call it once in the page component)."""
    return Player(model, build, solara.use_reactive(False), solara.use_reactive(0),
                  solara.use_reactive(PLAY_INTERVAL_MS), solara.use_reactive(1),
                  solara.use_reactive(False), solara.use_memo(threading.Event, []),
                  reacton.core.get_render_context(required=False))


@solara.component
def PlayLoop(player: Player) -> None:
    """Runs the model while the page plays (as Mesa's ModelController does): sleep the play
    interval, step ``render_interval`` ticks, redraw; with threads, the redraw runs in a
    thread of its own and the loop does not wait for it."""

    def loop() -> None:
        while player.playing.value and player._running():
            time.sleep(player.interval.value / 1000)
            for _ in range(max(1, player.render_interval.value)):
                if not player.playing.value or not player._running():
                    break
                player.model.value.step()
            if player.use_threads.value:
                player.shown.set()
            else:
                player.redraw()
        if not player._running():
            player.playing.set(False)

    def painter() -> None:
        while player.playing.value and player.use_threads.value:
            if player.shown.wait(0.2):
                player.shown.clear()
                player.redraw()

    solara.lab.use_task(loop, dependencies=[player.playing.value], prefer_threaded=True)
    solara.lab.use_task(painter, dependencies=[player.playing.value, player.use_threads.value],
                        prefer_threaded=True)
    return solara.Div(style="display: none")


@solara.component
def WeekLabel(player: Player, big: bool = False) -> None:
    """``Week N``: the weeks simulated so far."""
    player.frame.get()
    solara.Text(f"Week {int(player.model.value.steps)}", classes=["peacesim-week"],
                style={"font-size": "24px" if big else "20px", "font-weight": "bold"})


@solara.component
def PlayButtons(player: Player) -> None:
    """Reset, Play / Pause and Step."""
    playing = player.playing.value
    with solara.Row(justify="space-between", style={"align-items": "center"}):
        solara.Button(label="Reset", color="primary", on_click=player.reset)
        solara.Button(label="❚❚" if playing else "▶", color="primary", on_click=player.toggle)
        solara.Button(label="Step", color="primary", on_click=player.step, disabled=playing)


@solara.component
def Controls(player: Player) -> None:
    """The sidebar's controls: the week, the buttons, and Mesa's developer settings folded
    away under "Advanced"."""
    with solara.Card("Run"):
        WeekLabel(player)
        PlayButtons(player)
        with solara.Details("Advanced (developer controls)"):
            solara.SliderInt("Play Interval (ms)", value=player.interval, min=1, max=500,
                             step=10)
            solara.SliderInt("Render Interval (steps)", value=player.render_interval, min=1,
                             max=100, step=2)
            solara.Checkbox(label="Use Threads", value=player.use_threads)


@solara.component_vue(str(HERE / "fullscreen.vue"))
def FullScreenToggle(active: bool, on_active: Callable[[bool], None]) -> None:
    """Presenter mode on and off (and the browser's full screen; ``fullscreen.vue``)."""


@solara.component
def PresenterBar(player: Player, presenter: solara.Reactive[bool]) -> None:
    """In presenter mode, the controls above the map (the sidebar is hidden)."""
    with solara.Row(style={"align-items": "center", "gap": "12px", "flex-wrap": "wrap"}):
        WeekLabel(player, big=True)
        PlayButtons(player)
        LayerSwitch()
        FullScreenToggle(active=presenter.value, on_active=presenter.set)


# ------------------------------------------------------------------ map


@solara.component_vue(str(HERE / "mapview.vue"))
def MapCanvas(frame: dict[str, Any], selected: list[int], week: int, layer: str, label: str,
              max_width: str, event_cell_click: Callable[[dict[str, Any]], None]) -> None:
    """The map drawn by the browser on a canvas (``mapview.vue``); a click reports the cell
    as ``{"column": ..., "row": ...}`` (row 0 at the top)."""


@solara.component_vue(str(HERE / "chartview.vue"))
def ChartCanvas(background: str, frame: dict[str, Any], week: int, label: str) -> None:
    """A chart drawn by the browser: matplotlib's background image, and the lines and
    shading of this frame over it (``chartview.vue``; see ChartFigure.payload)."""


@solara.component
def LayerSwitch() -> None:
    """Which layer colours the maps."""
    solara.ToggleButtonsSingle(value=map_layer, values=list(LAYERS), dense=True)


def _swatch(glyph: int, colour: str, size: int = 18) -> str:
    """An SVG of a map glyph (the shapes of mapview.vue), for the legend."""
    c = size
    body = {
        1: f'<circle cx="{c/2}" cy="{c/2}" r="{c*0.36}" fill="{colour}" stroke="#333" '
           'stroke-width="1.5"/>',
        2: f'<circle cx="{c/2}" cy="{c/2}" r="{c*0.22}" fill="{colour}"/>',
        3: (f'<path d="M{c*.2},{c*.2}L{c*.8},{c*.8}M{c*.8},{c*.2}L{c*.2},{c*.8}" '
            f'stroke="#000" stroke-width="{c*.34}" stroke-linecap="round"/>'
            f'<path d="M{c*.2},{c*.2}L{c*.8},{c*.8}M{c*.8},{c*.2}L{c*.2},{c*.8}" '
            f'stroke="{colour}" stroke-width="{c*.18}" stroke-linecap="round"/>'),
        4: f'<rect x="{c*.2}" y="{c*.2}" width="{c*.6}" height="{c*.6}" fill="{colour}"/>',
        5: f'<path d="M{c*.5},{c*.1}L{c*.92},{c*.88}L{c*.08},{c*.88}Z" fill="{colour}" '
           'stroke="#000" stroke-width="1.5"/>',
        6: f'<rect x="1.5" y="1.5" width="{c - 3}" height="{c - 3}" fill="#fff" '
           f'stroke="{colour}" stroke-width="2.5"/>',
    }[glyph]
    return f'<svg width="{c}" height="{c}" viewBox="0 0 {c} {c}">{body}</svg>'


def _gradient(colours: list[str], ticks: tuple[tuple[float, str], ...], title: str) -> str:
    stops = ", ".join(colours)
    labels = "".join(
        f'<span style="position:absolute; left:{p * 100:.0f}%; transform:translateX('
        f'{-p * 100:.0f}%); white-space:nowrap">{text}</span>' for p, text in ticks)
    return (f'<div class="peacesim-colourbar" style="margin:4px 0 22px 0">'
            f'<div style="font-weight:bold">{title}</div>'
            f'<div class="peacesim-bar" style="background:linear-gradient(to right, {stops})">'
            f'</div><div style="position:relative; height:18px">{labels}</div></div>')


def colour_bar_html(layer: str) -> str:
    """The colour bar of a map layer: its title, the colours as the map shows them, and the
    values at its ends and middle."""
    spec = LAYERS[layer]
    return _gradient(colour_bar(layer), spec.ticks, f"Background: {spec.title.lower()}")


def trust_bar_html() -> str:
    """The scale of the residents' discs: trust in peacekeepers, white to dark blue."""
    return _gradient(trust_bar(), ((0.0, "0"), (0.5, "0.5"), (1.0, "1")),
                     "Residents' discs: trust in peacekeepers")


@solara.component
def ColourBars() -> None:
    """The current layer's colour bar and the residents' trust scale."""
    solara.HTML(tag="div", unsafe_innerHTML=colour_bar_html(map_layer.value) + trust_bar_html(),
                classes=["peacesim-colourbars"])


@solara.component
def MapLegend(columns: int = 2) -> None:
    """Symbols of the map, drawn as on the map."""
    items = "".join(f'<div>{_swatch(g, colour)} {text}</div>' for g, colour, text in LEGEND)
    solara.HTML(tag="div", unsafe_innerHTML=(
        f'<div class="peacesim-legend" style="display:grid; grid-template-columns:'
        f' repeat({columns}, minmax(0, 1fr)); column-gap:12px">{items}</div>'))


def shown(source: Any, side: str | None = None) -> Any:
    """The model on screen: the run's world (``source.model``), one side of a pair
    (``side`` "a" or "b"), or ``source`` itself."""
    if side is not None:
        return getattr(source, side)
    return getattr(source, "model", source)


@solara.component
def ModelMap(source: Any, player: Player, selected: solara.Reactive[Any] | None = None,
             label: str = "map", max_width: str = "", side: str | None = None) -> None:
    """The model's map, redrawn on every frame; a click selects a cell to inspect."""
    player.frame.get()
    model = shown(source, side)
    frame = map_frame(model, map_layer.value).payload()

    def click(data: dict[str, Any]) -> None:
        if selected is None:
            return
        x, y = cell_at(model, data["column"] + 0.5, data["row"] + 0.5, model.width,
                       model.height)
        selected.set((x, y))

    chosen = selected.value if selected is not None else None
    MapCanvas(frame=frame, selected=list(chosen) if chosen else [], week=int(model.steps),
              layer=map_layer.value, label=label, max_width=max_width, event_cell_click=click)


@solara.component
def CellInspector(source: Any, player: Player, selected: solara.Reactive[Any]) -> None:
    """Who is on the selected cell and the cell's layers, updated as the run goes on."""
    player.frame.get()
    model = shown(source)
    if not selected.value:
        solara.Text("Click a cell of the map to see who is there and its values.",
                    style={"font-size": "14px"})
        return
    try:
        report = inspect_cell(model, *selected.value)
    except ValueError:
        selected.set(None)
        return
    rows = report.occupant or [("who", "nobody")]
    table = "".join(f"<tr><td>{k}</td><td><b>{v}</b></td></tr>" for k, v in
                    rows + report.layers)
    with solara.Card(report.title(), classes=["peacesim-inspect"]):
        solara.HTML(tag="table", unsafe_innerHTML=table)
        solara.Button("Close", text=True, on_click=lambda: selected.set(None))


# ------------------------------------------------------------------ feed, charts, help


def feed_html(items: list[Any]) -> str:
    """The feed's lines, newest first, with the kind of each in bold."""
    if not items:
        return "<div>Nothing notable yet: press Step or ▶.</div>"
    return "".join(
        f'<div class="peacesim-feed-item" data-kind="{it.kind}">'
        f'<span class="peacesim-kind">Week {it.week}'
        f'{", " + it.district if it.district else ""} - {KINDS[it.kind]}:</span> {it.text}</div>'
        for it in items)


@solara.component
def EventFeedView(source: Any, player: Player) -> None:
    """The scrolling log of what happened, newest first."""
    player.frame.get()
    model = shown(source)
    items = model.feed.latest(FEED_SHOWN) if hasattr(model, "feed") else []
    solara.Text("What happened (newest first)", style={"font-weight": "bold"})
    solara.HTML(tag="div", unsafe_innerHTML=feed_html(items), classes=["peacesim-feed"])


def headline(model: Any) -> str:
    """One line of the numbers a trainer points at."""
    s = series(model)
    return (f"{int(s['casualties_cum'][-1])} civilians killed; trust in peacekeepers "
            f"{s['trust_pk'][-1]:.2f}, in police {s['trust_police'][-1]:.2f}; economy "
            f"{s['economy'][-1]:.2f}; {int(s['combatants'][-1])} combatants; "
            f"{int(s['tips_cum'][-1])} tips")


@solara.component
def Headline(source: Any, player: Player) -> None:
    """The numbers of the week on screen, in one line."""
    player.frame.get()
    solara.Text(headline(shown(source)), classes=["peacesim-headline"])


@solara.component
def FrameStart(player: Player, timer: Any) -> None:
    """Notes when a redraw of the page's moving parts starts (for the frame pacer)."""
    player.frame.get()
    timer.current = time.monotonic()
    return solara.Div(style="display: none")


@solara.component
def FrameEnd(source: Any, player: Player, timer: Any) -> None:
    """... and when it ends (the pacer keeps the play loop from outrunning redraws)."""
    player.frame.get()
    _drawn(source, timer.current)
    return solara.Div(style="display: none")


@solara.component
def WhatAmILookingAt() -> None:
    """The help panel: the map's symbols, the layers, the charts and the feed in words."""
    with solara.Details("What am I looking at?"):
        for heading, text in what_am_i_looking_at(LEGEND, LAYERS):
            solara.HTML(tag="div", unsafe_innerHTML=f"<b>{heading}.</b> {text}",
                        style={"font-size": "15px", "margin-bottom": "6px"})


# ------------------------------------------------------------------ levers


@solara.component
def Lever(name: str, children: list[Any] | None = None) -> None:
    """A lever with its tooltip (:mod:`sim.viz.help`); the tooltip shows on hover."""
    with solara.Tooltip(tooltip(name)):
        solara.Column(children=children or [], gap="0px",
                      classes=["peacesim-lever", f"peacesim-lever-{name}"])


def _heading(text: str) -> None:
    solara.Text(text, style={"font-weight": "bold", "margin-top": "8px"})


class Applier:
    """Turns a lever change into a new model on screen, or into an error message.

    ``make(new_settings, model_now)`` builds the new model at the week on screen (same
    seed); only if that works do the settings and the model change. A file or combination
    that does not validate leaves the model as it was and shows the validation message.
    """

    def __init__(self, model: solara.Reactive[Any], settings: solara.Reactive[Any],
                 error: solara.Reactive[str | None], make: Callable[[Any, Any], Any],
                 redraw: Callable[[], None] = lambda: None) -> None:
        self.model, self.settings, self.error, self.make = model, settings, error, make
        self.redraw = redraw

    def __call__(self, new: Any) -> bool:
        """Apply ``new`` settings; True if they were valid."""
        try:
            fresh = self.make(new, self.model.value)
        except ScenarioError as exc:
            self.error.set(str(exc))
            return False
        self.settings.set(new)
        if fresh is not self.model.value:
            self.model.set(fresh)
        self.error.set(None)
        self.redraw()
        return True

    def reject(self, exc: ScenarioError) -> None:
        """Show why a choice cannot be used (the model stays as it was)."""
        self.error.set(str(exc))


def replay_pair(new: PairSettings, pair: Any) -> Any:
    """The compare page's pair under new settings, replayed to the week on screen."""
    return _replayed(lambda: LiveStrategyPair(new), pair.steps)


@solara.component
def ErrorMessage(error: solara.Reactive[str | None]) -> None:
    """The validation message of the last rejected choice, if any."""
    if error.value:
        solara.Error(error.value, classes=["peacesim-error"],
                     style={"white-space": "pre-wrap", "overflow-wrap": "anywhere",
                            "font-size": "14px", "max-width": "270px"})


@solara.component
def FilePicker(label: str, options: dict[str, str], value: str,
               on_pick: Callable[[str], None], lever: str) -> None:
    """A select over files, reporting the chosen path."""
    with Lever(lever):
        solara.Select(label, values=list(options), value=value,
                      on_value=lambda name: on_pick(options[name]))


@solara.component
def LeverSliders(s: TrainerSettings, on_change: Callable[[TrainerSettings], Any],
                 ticks: int) -> None:
    """The sliders of one strategy: role weights, conduct and information, forces and the
    drawdown week. Their positions always show ``s`` (so picking a strategy moves them);
    each has its tooltip."""
    _heading("Peacekeepers by role (weights; shares shown)")
    try:
        shares = s.role_shares()
    except ScenarioError:
        shares = dict.fromkeys(ROLE_LEVERS, 0.0)
    for i, role in enumerate(ROLE_LEVERS):
        def set_role(value: float, i: int = i) -> None:
            roles = list(s.roles)
            roles[i] = float(value)
            on_change(s.replace(roles=tuple(roles)))

        with Lever(role):
            solara.SliderFloat(f"{role.replace('_', ' ')} ({shares[role]:.0%})",
                               value=s.roles[i], min=0.0, max=1.0, step=0.05,
                               on_value=set_role)
    _heading("Conduct and information")
    for name in STRATEGY_LEVERS:
        value = getattr(s, name)
        with Lever(name):
            solara.SliderFloat(f"{name.replace('_', ' ')}: {value:.2f}", value=value, min=0.0,
                               max=1.0, step=0.05,
                               on_value=lambda v, name=name: on_change(s.replace(**{name: v})))
    _heading("Forces and timeline")
    with Lever("pk_density"):
        solara.SliderFloat(f"peacekeeper density: {s.pk_density:.3f}", value=s.pk_density,
                           min=0.0, max=0.1, step=0.005,
                           on_value=lambda v: on_change(s.replace(pk_density=v)))
    with Lever("police_density"):
        solara.SliderFloat(f"police density: {s.police_density:.3f}", value=s.police_density,
                           min=0.0, max=0.1, step=0.005,
                           on_value=lambda v: on_change(s.replace(police_density=v)))
    when = f"week {s.drawdown_start}" if s.drawdown_start else "none"
    with Lever("drawdown_start"):
        solara.SliderInt(f"drawdown start: {when}", value=s.drawdown_start, min=0,
                         max=max(ticks, s.drawdown_start), step=1,
                         on_value=lambda v: on_change(s.replace(drawdown_start=int(v))))
    with Lever("adaptive"):
        solara.Checkbox(label="adaptive review (re-post units after community feedback)",
                        value=s.adaptive,
                        on_value=lambda v: on_change(s.replace(adaptive=bool(v))))


def _contexts() -> dict[str, str]:
    return _options(list_contexts(extra=default_context()))


def _strategies() -> dict[str, str | None]:
    return {OWN_STRATEGY: None, **_options(list_strategies())}


def _stylesheet(presenter: bool) -> None:
    solara.Style(CSS + (PRESENTER_CSS if presenter else ""))


# ------------------------------------------------------------------ trainer page


def replay_run(new: TrainerSettings, run: Any) -> Any:
    """The exercise under new starting levers (or another context, strategy or seed): a new
    run from week 0 carrying the actions taken so far, replayed to the week on screen."""
    fresh = replayed_run(new, run.actions(), run.steps, LiveExerciseRun)
    fresh.model.feed.add(FeedItem(fresh.steps, "lever", "", (
        "the run was replayed from week 0 with new starting levers (same seed"
        + (f", {len(run.actions())} actions carried over)" if run.actions() else ")"))))
    return fresh


def change_now(new: TrainerSettings, run: Any) -> Any:
    """A lever change from this week on: a ``set`` action on the run on screen (the world
    before it goes on as the ghost)."""
    try:
        run.change_levers(new)
    except ExerciseError as exc:
        raise ScenarioError(str(exc)) from None
    return run


LEVER_MODES = {"from this week on": change_now, "replay from week 0": replay_run}


@solara.component
def TrainerLevers(run: solara.Reactive[Any], settings: solara.Reactive[TrainerSettings],
                  player: Player, message: str | None = None) -> None:
    """Context and strategy pickers, lever sliders and seed. A lever change applies at once,
    from this week on (an action of the exercise) or, if chosen, by replaying the run from
    week 0 with the new levers; another file or seed always replays from week 0."""
    error = solara.use_reactive(message)
    mode = solara.use_reactive(next(iter(LEVER_MODES)))
    levers = Applier(run, settings, error, LEVER_MODES[mode.value], player.redraw)
    replay = Applier(run, settings, error, replay_run, player.redraw)
    s = settings.value
    picked = solara.use_reactive((s.context, s.strategy))  # may be an invalid choice
    contexts = solara.use_memo(_contexts, [])
    strategies = solara.use_memo(_strategies, [])

    def pick(context: str, strategy: str | None) -> None:
        picked.set((context, strategy))
        try:
            new = settings_from_files(context, strategy, s.seed)
        except ScenarioError as exc:
            replay.reject(exc)
            return
        replay(new)

    context, strategy = picked.value
    with solara.Card("Levers"):
        FilePicker("Context (scenarios/)", contexts, file_label(context),
                   lambda path: pick(path, strategy), "context")
        FilePicker("Strategy (scenarios/strategies/)", strategies, file_label(strategy),
                   lambda path: pick(context, path), "strategy")
        ErrorMessage(error)
        with Lever("lever_mode"):
            solara.ToggleButtonsSingle(value=mode, values=list(LEVER_MODES), dense=True,
                                       classes=["peacesim-lever-mode"])
        LeverSliders(s, levers, run.value.model.scenario_config.run.ticks)
        with Lever("seed"):
            solara.InputInt("seed", value=s.seed,
                            on_value=lambda v: replay(s.replace(seed=int(v or 0))))


#: the instructor's injects: label -> kind (the keys of each are set by InjectForm)
INJECTS = {
    "Attack on a settlement": "attack",
    "Abuse scandal": "abuse_scandal",
    "Withdraw units": "withdraw_units",
    "Reinforce an armed group": "reinforce_armed_group",
    "Legitimacy shock": "legitimacy_shock",
    "Cut or boost programmes": "programme_change",
}


@solara.component
def InjectForm(run: solara.Reactive[Any], player: Player,
               selected: solara.Reactive[Any]) -> None:
    """The instructor's injects, applied from this week on (the world without them goes on
    as the ghost). Each control has the scenario schema's description as its tooltip."""
    model = run.value.model
    label = solara.use_reactive(next(iter(INJECTS)))
    district = solara.use_reactive("A1")
    attackers = solara.use_reactive(8)
    trust_loss = solara.use_reactive(0.3)
    whose = solara.use_reactive("peacekeepers")
    share = solara.use_reactive(0.5)
    role = solara.use_reactive("all roles")
    fighters = solara.use_reactive(20)
    delta = solara.use_reactive(-0.2)
    factor = solara.use_reactive(0.0)
    note = solara.use_reactive("")
    error = solara.use_reactive(None)
    kind = INJECTS[label.value]
    cell = selected.value

    def action() -> dict[str, Any]:
        a: dict[str, Any] = {"kind": kind}
        if kind == "attack":
            if cell:
                a["settlement"] = [int(cell[0]), int(cell[1])]
            else:
                a["district"] = district_id(model, district.value)
            a["attackers"] = int(attackers.value)
        elif kind == "abuse_scandal":
            a.update(district=district_id(model, district.value),
                     trust_loss=float(trust_loss.value), target=whose.value)
        elif kind == "withdraw_units":
            a["share"] = float(share.value)
            if role.value != "all roles":
                a["role"] = role.value
        elif kind == "reinforce_armed_group":
            a["fighters"] = int(fighters.value)
        elif kind == "legitimacy_shock":
            a["delta"] = float(delta.value)
        elif kind == "programme_change":
            a["factor"] = float(factor.value)
        if note.value.strip():
            a["note"] = note.value.strip()
        return a

    def inject() -> None:
        try:
            run.value.apply(action(), label=f"before the {label.value.lower()}")
        except (ScenarioError, ValueError) as exc:
            error.set(str(exc))
            return
        error.set(None)
        player.redraw()

    def control(key: str, children: list[Any]) -> Any:
        return solara.Tooltip(event_help(key), children=[solara.Column(children=children)])

    with solara.Card("Injects", subtitle="act from the next week on"):
        solara.Select("Inject", values=list(INJECTS), value=label)
        if kind == "attack":
            if cell:
                solara.Text(f"Target: the selected cell ({cell[0]}, {cell[1]}), district "
                            f"{district_name(model, *cell)}", style={"font-size": "14px"})
            else:
                control("district", [solara.Select("District (a settlement in it)",
                                                   values=district_names(model),
                                                   value=district)])
                solara.Text("or click a cell of the map to aim at it",
                            style={"font-size": "14px"})
            control("attackers", [solara.SliderInt(f"attackers: {attackers.value}",
                                                   value=attackers, min=1, max=40)])
        elif kind == "abuse_scandal":
            control("district", [solara.Select("District", values=district_names(model),
                                               value=district)])
            control("target", [solara.ToggleButtonsSingle(
                value=whose, values=["peacekeepers", "police"], dense=True)])
            control("trust_loss", [solara.SliderFloat(
                f"trust lost: {trust_loss.value:.2f}", value=trust_loss, min=0.05, max=1.0,
                step=0.05)])
        elif kind == "withdraw_units":
            control("share", [solara.SliderFloat(f"share withdrawn: {share.value:.0%}",
                                                 value=share, min=0.05, max=1.0, step=0.05)])
            control("role", [solara.Select("Role", values=["all roles", *ROLE_LEVERS],
                                           value=role)])
        elif kind == "reinforce_armed_group":
            control("fighters", [solara.SliderInt(f"fighters: {fighters.value}",
                                                  value=fighters, min=1, max=100)])
        elif kind == "legitimacy_shock":
            control("delta", [solara.SliderFloat(f"change of legitimacy: {delta.value:+.2f}",
                                                 value=delta, min=-0.5, max=0.5, step=0.05)])
        elif kind == "programme_change":
            control("factor", [solara.SliderFloat(
                f"programmes x {factor.value:.2f} (0 cuts them)", value=factor, min=0.0,
                max=3.0, step=0.25)])
        control("note", [solara.InputText("note (for the debrief)", value=note)])
        ErrorMessage(error)
        solara.Button("Inject", color="primary", on_click=inject, classes=["peacesim-inject"])


@solara.component
def BookmarkButton(run: Any, player: Player, on_click: Callable[[], None]) -> None:
    """``Bookmark week N`` (its label follows the week)."""
    player.frame.get()
    solara.Button(f"Bookmark week {run.steps}", on_click=on_click,
                  classes=["peacesim-bookmark"])


@solara.component
def ExercisePanel(run: solara.Reactive[Any], player: Player, layer: str) -> None:
    """Bookmarks and rewinds, and the exports for the debrief."""
    r = run.value
    changed = solara.use_reactive(0)  # bookmarks made or used: redraw the list
    changed.get()
    name = solara.use_reactive("")
    error = solara.use_reactive(None)
    status = solara.use_reactive("")
    written = solara.use_reactive(())
    busy = solara.use_reactive(False)

    def bookmark() -> None:
        try:
            r.bookmark(name.value or f"week {r.steps}")
        except (ScenarioError, ValueError) as exc:
            error.set(str(exc))
            return
        name.set("")
        error.set(None)
        changed.set(changed.value + 1)

    def rewind(mark: str) -> None:
        player.playing.set(False)
        try:
            r.rewind(mark)
        except (ScenarioError, ValueError) as exc:
            error.set(str(exc))
            return
        error.set(None)
        changed.set(changed.value + 1)
        player.redraw()

    def export(what: str) -> None:
        busy.set(True)
        status.set(f"Writing {what} ...")

        def work() -> None:
            try:
                paths = write_export(r, what, export_dir(r), layer)
            except (OSError, ValueError) as exc:
                status.set(f"{what}: {exc}")
            else:
                written.set(tuple(written.value) + tuple(str(p) for p in paths))
                status.set(f"{what}: written")
            finally:
                busy.set(False)

        threading.Thread(target=work, name="peacesim-export", daemon=True).start()

    with solara.Card("Exercise", subtitle="Bookmarks, rewind, exports"):
        solara.InputText("bookmark name (optional)", value=name)
        BookmarkButton(r, player, bookmark)
        for mark, week in r.bookmarks().items():
            solara.Button(f"Rewind to {mark} (week {week})", text=True,
                          on_click=lambda mark=mark: rewind(mark),
                          classes=["peacesim-rewind"])
        ErrorMessage(error)
        solara.Text("Export (to the exercise's folder)", style={"font-weight": "bold"})
        with solara.Row(style={"flex-wrap": "wrap", "gap": "4px"}):
            for what in EXPORTS:
                solara.Button(what, outlined=True, disabled=busy.value,
                              on_click=lambda what=what: export(what),
                              classes=["peacesim-export"])
        if status.value:
            solara.Text(status.value, classes=["peacesim-export-status"],
                        style={"font-size": "14px"})
        if written.value:
            solara.HTML(tag="div", unsafe_innerHTML="<br/>".join(
                f"<code>{p}</code>" for p in written.value), classes=["peacesim-written"],
                style={"font-size": "14px", "overflow-wrap": "anywhere"})


def action_marks(run: Any) -> tuple[Mark, ...]:
    """The instructor's actions on the charts: one line per week that had some."""
    weeks: dict[int, list[str]] = {}
    for a in run.actions():
        if "tick" in a:
            weeks.setdefault(int(a["tick"]), []).append(ACTION_WORDS.get(a["kind"], a["kind"]))
    return tuple(Mark(float(w), " + ".join(dict.fromkeys(k)), colour=ACTION_COLOUR, style="-.")
                 for w, k in sorted(weeks.items()))


@solara.component
def TrainerCharts(run: Any, player: Player) -> None:
    """The live charts: the run, the ghost of the world without the last action, the
    mission's marks and the instructor's actions."""
    player.frame.get()
    model = run.model
    chart = solara.use_memo(lambda: trend_chart(model), [run])
    chart.set_marks(mission_marks(model) + action_marks(run))
    ghost = run.ghost_series()
    if run.ghost_label:
        text = (f"Dotted grey: the run without your last change ({run.ghost_label})"
                if ghost is not None else "Working out the run without your last change ...")
        solara.Text(text, classes=["peacesim-ghost-note"], style={"font-size": "15px"})
    background, frame = chart.payload(series(model), ghost)
    ChartCanvas(background=background, frame=frame, week=int(model.steps),
                label="charts of the run")


@solara.component
def TrainerMain(run: Any, player: Player, presenter: solara.Reactive[bool],
                selected: solara.Reactive[Any]) -> None:
    """Map with its layer switch, colour bars, legend and inspector; beside or below it the
    live charts, the event feed and the help panel. Only the parts that move read the frame
    counter, so a frame redraws them and nothing else."""
    timer = solara.use_ref(0.0)
    FrameStart(player, timer)
    if presenter.value:
        PresenterBar(player, presenter)
    with solara.Div(classes=["peacesim-main"]):
        with solara.Div(classes=["peacesim-mapcol"]):
            with solara.Div(classes=["peacesim-maptools"]):
                if not presenter.value:
                    LayerSwitch()
                Headline(run, player)
            ModelMap(run, player, selected, label="map of the run")
            ColourBars()
            MapLegend()
            CellInspector(run, player, selected)
        with solara.Div(classes=["peacesim-sidecol"]):
            TrainerCharts(run, player)
            EventFeedView(run, player)
            WhatAmILookingAt()
    FrameEnd(run, player, timer)


@solara.component
def AppBarItems(title: str, page: str, presenter: solara.Reactive[bool]) -> None:
    """The title bar: the page's title, links to both pages, the presenter-mode switch."""
    solara.AppBarTitle(title)
    with solara.AppBar():
        PageLinks(page)
        FullScreenToggle(active=presenter.value, on_active=presenter.set)


@solara.component
def TrainerView(run: solara.Reactive[Any], settings: solara.Reactive[TrainerSettings],
                message: str | None = None) -> None:
    """The trainer page for a given run and settings (tests render this directly)."""
    presenter = solara.use_reactive(False)
    selected = solara.use_reactive(None)
    player = use_player(run, lambda: LiveExerciseRun(settings.value))
    with solara.Column(gap="0px") as sidebar:
        Controls(player)
        InjectForm(run, player, selected)
        ExercisePanel(run, player, map_layer.value)
        TrainerLevers(run, settings, player, message)
    with solara.Div() as main:
        with solara.Div(style="display: none"):  # no box of their own in the page
            _stylesheet(presenter.value)
            solara.Title("PeaceSim trainer")
            AppBarItems("PeaceSim trainer", "Trainer", presenter)
            PlayLoop(player)
        TrainerMain(run.value, player, presenter, selected)
    PageLayout(sidebar, main)


def _first_settings() -> tuple[TrainerSettings, str | None]:
    """The default settings; if the file given on the command line is invalid, baseline
    with the reason (the app still opens)."""
    try:
        return default_settings(), None
    except ScenarioError as exc:
        return settings_from_files(str(SCENARIOS_DIR / DEFAULT_CONTEXT)), str(exc)


@solara.component
def TrainerPage() -> None:
    """Route ``/``: the trainer page with fresh state."""
    first, message = solara.use_memo(_first_settings, [])
    settings = solara.use_reactive(first)
    run = solara.use_reactive(solara.use_memo(lambda: LiveExerciseRun(first), []))
    TrainerView(run, settings, message)


# ------------------------------------------------------------------ compare page


@solara.component
def PairLevers(pair: solara.Reactive[Any], settings: solara.Reactive[PairSettings],
               player: Player, message: str | None = None) -> None:
    """Shared context and seed; per side a strategy file and, folded away, its sliders."""
    error = solara.use_reactive(message)
    apply = Applier(pair, settings, error, replay_pair, player.redraw)
    s = settings.value
    picked = solara.use_reactive((s.a.context, s.a.strategy, s.b.strategy))
    contexts = solara.use_memo(_contexts, [])
    strategies = solara.use_memo(_strategies, [])
    ticks = pair.value.a.scenario_config.run.ticks

    def pick(context: str, strategy_a: str | None, strategy_b: str | None) -> None:
        picked.set((context, strategy_a, strategy_b))
        try:
            a = s.a if (context, strategy_a) == (s.a.context, s.a.strategy) else \
                settings_from_files(context, strategy_a, s.a.seed)
            b = s.b if (context, strategy_b) == (s.b.context, s.b.strategy) else \
                settings_from_files(context, strategy_b, s.a.seed)
        except ScenarioError as exc:
            apply.reject(exc)
            return
        apply(PairSettings(a, b))

    context, strategy_a, strategy_b = picked.value
    with solara.Card("Compare", subtitle="Same context and seed; B - A shaded"):
        FilePicker("Context (scenarios/)", contexts, file_label(context),
                   lambda path: pick(path, strategy_a, strategy_b), "context")
        FilePicker("Strategy A", strategies, file_label(strategy_a),
                   lambda path: pick(context, path, strategy_b), "strategy")
        FilePicker("Strategy B", strategies, file_label(strategy_b),
                   lambda path: pick(context, strategy_a, path), "strategy")
        ErrorMessage(error)
        with Lever("seed"):
            solara.InputInt("seed", value=s.a.seed, on_value=lambda v: apply(
                PairSettings(s.a.replace(seed=int(v or 0)), s.b.replace(seed=int(v or 0)))))
        with solara.Details("Levers of A"):
            LeverSliders(s.a, lambda new: apply(s.replace(a=new)), ticks)
        with solara.Details("Levers of B"):
            LeverSliders(s.b, lambda new: apply(s.replace(b=new)), ticks)


@solara.component
def SeedRunner(settings: PairSettings, ensemble: solara.Reactive[Ensemble | None],
               seeds: solara.Reactive[int], progress: solara.Reactive[int]) -> None:
    """How many seeds, and the button that runs them in the background."""
    def run() -> None:
        old = ensemble.value
        if old is not None:
            old.cancel()
        new = Ensemble(settings, int(seeds.value),
                       on_progress=lambda: progress.set(progress.value + 1))
        ensemble.set(new)
        progress.set(0)
        new.start()

    with solara.Card("Uncertainty"):
        with Lever("seeds"):
            solara.InputInt("seeds", value=seeds,
                            on_value=lambda v: seeds.set(min(MAX_SEEDS, max(1, int(v or 1)))))
        solara.Button(f"Run {seeds.value} seeds", color="primary", on_click=run,
                      classes=["peacesim-run-seeds"])


def seed_note(ensemble: Ensemble | None, pair: PairSettings) -> str:
    """What the compare page says about the seeds behind its curves."""
    if ensemble is None or ensemble.pair != pair:
        return (f"Only one seed shown (seed {pair.a.seed}): a difference may be noise. "
                "Run seeds (sidebar) for the mean and its band.")
    if ensemble.error:
        return f"The seeds could not all be run: {ensemble.error}"
    done = len(ensemble.complete_seeds())
    if done < ensemble.n:
        return (f"Running {ensemble.n} seeds: {ensemble.done} of {ensemble.total} runs done. "
                f"Until then one seed ({pair.a.seed}): it may be noise.")
    return (f"Thin lines and bands: mean of {ensemble.n} seeds and its 95 % interval; "
            f"thick lines: the live run (seed {pair.a.seed}).")


def _compare_legend() -> str:
    def box(colour: str, alpha: float = 1.0) -> str:
        return (f'<span style="display:inline-block; width:14px; height:14px; '
                f'background:{colour}; opacity:{alpha}; vertical-align:middle"></span>')

    return (f'<div class="peacesim-legend">{box(SIDE_COLOURS["a"])} A &nbsp; '
            f'{box(SIDE_COLOURS["b"])} B &nbsp; B - A: {box(BETTER_COLOUR, 0.5)} B better '
            f'&nbsp; {box(WORSE_COLOUR, 0.5)} B worse</div>')


@solara.component
def CompareCharts(pair: Any, player: Player, chart: Any) -> None:
    """A and B and their difference, per measure, redrawn every frame."""
    player.frame.get()
    background, frame = chart.payload(pair_data(series(pair.a), series(pair.b)))
    ChartCanvas(background=background, frame=frame, week=int(pair.a.steps),
                label="charts of A, B and B - A")


@solara.component
def CompareMain(pair: Any, player: Player, ensemble: Ensemble | None,
                progress: int, all_measures: solara.Reactive[bool],
                presenter: solara.Reactive[bool]) -> None:
    """The two maps side by side with the legend and the seed note; below, A and B and
    their difference for each measure (only the maps and charts redraw each frame)."""
    timer = solara.use_ref(0.0)
    keys = tuple(MEASURES) if all_measures.value else COMPARE_MEASURES
    chart = solara.use_memo(lambda: compare_chart(pair.a, pair.b, keys), [pair, keys])
    bands = solara.use_memo(
        lambda: ensemble.bands() if ensemble is not None and ensemble.pair == pair.settings
        else {}, [ensemble, progress, pair])
    solara.use_memo(lambda: chart.set_bands(bands), [chart, bands])
    s = pair.settings
    FrameStart(player, timer)
    if presenter.value:
        PresenterBar(player, presenter)
    with solara.Div(classes=["peacesim-compare-maps"]):
        for side, settings in (("a", s.a), ("b", s.b)):
            with solara.Div(classes=["peacesim-compare-map"]):
                solara.Text(f"{side.upper()}: {file_label(settings.strategy)}",
                            style={"font-weight": "bold", "font-size": "15px"})
                ModelMap(pair, player, label=f"map of {side.upper()}", side=side)
        with solara.Div(classes=["peacesim-compare-side"]):
            if not presenter.value:
                LayerSwitch()
            solara.HTML(tag="div", unsafe_innerHTML=colour_bar_html(map_layer.value))
            solara.HTML(tag="div", unsafe_innerHTML=seed_note(ensemble, s),
                        classes=["peacesim-note", "peacesim-seed-note"])
    solara.HTML(tag="div", unsafe_innerHTML=_compare_legend())
    CompareCharts(pair, player, chart)
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Checkbox(label="all six measures", value=all_measures)
        with solara.Details("Map symbols"):
            MapLegend()
    FrameEnd(pair, player, timer)


@solara.component
def CompareView(pair: solara.Reactive[Any], settings: solara.Reactive[PairSettings],
                message: str | None = None) -> None:
    """The compare page for a given pair and settings (tests render this directly)."""
    presenter = solara.use_reactive(False)
    player = use_player(pair, lambda: LiveStrategyPair(settings.value))
    ensemble = solara.use_reactive(None)
    seeds = solara.use_reactive(DEFAULT_SEEDS)
    progress = solara.use_reactive(0)
    all_measures = solara.use_reactive(False)
    with solara.Column(gap="0px") as sidebar:
        Controls(player)
        SeedRunner(settings.value, ensemble, seeds, progress)
        PairLevers(pair, settings, player, message)
    with solara.Div() as main:
        with solara.Div(style="display: none"):  # no box of their own in the page
            _stylesheet(presenter.value)
            solara.Title("PeaceSim: compare strategies")
            AppBarItems("PeaceSim: compare strategies", "Compare", presenter)
            PlayLoop(player)
        CompareMain(pair.value, player, ensemble.value, progress.value, all_measures,
                    presenter)
    PageLayout(sidebar, main)


def _first_pair() -> tuple[PairSettings, str | None]:
    """The default pair; on the baseline context if the command line's file is invalid."""
    try:
        return default_pair(), None
    except ScenarioError as exc:
        strategies = list_strategies()[:2]
        baseline = str(SCENARIOS_DIR / DEFAULT_CONTEXT)
        return pair_from_files(baseline, *strategies), str(exc)


@solara.component
def ComparePage() -> None:
    """Route ``/compare``: the compare page with fresh state."""
    first, message = solara.use_memo(_first_pair, [])
    settings = solara.use_reactive(first)
    pair = solara.use_reactive(solara.use_memo(lambda: LiveStrategyPair(first), []))
    CompareView(pair, settings, message)


@solara.component
def Layout(children: list[Any] | None = None) -> Any:
    """The routes' layout: the page itself (each page lays itself out with
    :func:`PageLayout`)."""
    children = children or []
    return children[0] if len(children) == 1 else solara.Column(children=children)


def PageLayout(sidebar: Any, main: Any) -> Any:
    """Solara's app layout around a page: ``sidebar`` in the drawer, ``main`` in the main
    area, no row of route tabs (the page links sit in the title bar: 48 more pixels of map
    on a 720-pixel projector). The sidebar is given as a child, not through solara's
    portal: elements passed through the portal are updated on every render pass, and a
    page that redraws ten times a second must not touch its whole sidebar each time."""
    return solara.AppLayout(children=[sidebar, main], navigation=False)


@solara.component
def PageLinks(current: str) -> None:
    """Links to the two pages, in the title bar (``current``: the label of this page)."""
    with solara.Row(gap="4px"):
        for route in routes:
            path = "/" if route.path == "/" else f"/{route.path}"
            here = route.label == current
            with solara.Link(path):
                solara.Button(route.label, text=True, dark=True,
                              classes=["peacesim-nav"] + (["peacesim-nav-current"] if here
                                                          else []),
                              style={"font-weight": "bold" if here else "normal",
                                     "text-decoration": "underline" if here else "none"})


routes = [
    solara.Route(path="/", component=TrainerPage, label="Trainer", layout=Layout),
    solara.Route(path="compare", component=ComparePage, label="Compare"),
]


def measure_ticks_per_second(ticks: int = 100, page: Callable[..., Any] = TrainerPage) -> float:
    """Ticks per second of Step in the rendered page, without a browser: each tick steps the
    model and redraws every component (map frame and charts, widgets reconciled).

    Outside a server, solara's AppLayout hands its app-bar children to IPython's ``display``,
    which without an IPython shell prints their reprs; that output is swallowed here.
    """
    import ipyvuetify as v

    with contextlib.redirect_stdout(io.StringIO()):
        _, rc = solara.render(page(), handle_error=False)
        step = rc.find(v.Btn, children=["Step"]).widget
        step.click()  # warm-up: first full draw of the charts
        start = time.perf_counter()
        for _ in range(ticks):
            step.click()
        rate = ticks / (time.perf_counter() - start)
        rc.close()
    return rate


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.viz.app [--ticks N]``: the speed of both pages (step + redraw, no
    browser), one line each."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m sim.viz.app", description=main.__doc__)
    parser.add_argument("--ticks", type=int, default=100, help="ticks to time per page (>= 1)")
    args = parser.parse_args(argv)
    if args.ticks < 1:
        parser.error(f"--ticks {args.ticks}: give a whole number of at least 1")
    for name, page in (("trainer page", TrainerPage), ("compare page", ComparePage)):
        rate = measure_ticks_per_second(args.ticks, page=page)
        print(f"{name}: {rate:.1f} ticks/s (step + redraw)")
    return 0


# solara runs an app given as a file (solara run sim/viz/app.py) with __name__ == "__main__"
# too, in a namespace of its own: only a real ``python -m sim.viz.app`` measures
if __name__ == "__main__" and sys.modules["__main__"].__dict__ is globals():
    raise SystemExit(main())
