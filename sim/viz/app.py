"""The trainer app: a Mesa SolaraViz app for showing policy trade-offs in a room.

Two pages, served by ``peacesim viz`` (:mod:`sim.viz.server`: solara behind a Host/Origin
guard; plain ``solara run sim.viz.app`` serves them without it):

* **Trainer** - one model: the map (residents by state and trust, combatants, peacekeepers by
  role, police, over a violence / economy / trust layer), live charts, and the levers: context
  and strategy files, role weights, training and conduct, densities, drawdown week, seed.
* **Compare** - one context and seed with two strategies, stepping in lockstep: maps side by
  side and charts of the difference B - A.

Mesa's SolaraViz provides the frame (title bar, Reset / Play / Step, play speed, ``Time: N``).
The levers are a card of our own in the same sidebar, because they do more than Mesa's
parameter inputs can: choosing a strategy moves the sliders to that strategy's values, and a
file that does not validate is reported in place instead of breaking the page. A lever change
rebuilds the model and replays it, with the same seed, to the week on screen, so the map shows
at once what that week would look like under the new setting.
"""

from __future__ import annotations

import contextlib
import io
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import force_update, update_counter
from solara.components.applayout import sidebar_portal

from sim.config.scenario import ScenarioError
from sim.viz.components import (
    LAYERS,
    LEGEND,
    cell_size,
    difference,
    difference_chart,
    map_rgb,
    png,
    series,
    trend_chart,
)
from sim.viz.trainer import (
    DEFAULT_CONTEXT,
    ROLE_LEVERS,
    SCENARIOS_DIR,
    STRATEGY_LEVERS,
    PairSettings,
    StrategyPair,
    TrainerModel,
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

#: milliseconds Mesa's play loop sleeps between ticks (the redraw takes the rest)
PLAY_INTERVAL_MS = 20
SIDEBAR_BELOW = 1 << 20  # sidebar position of the levers (see SidebarBelow)
#: SolaraViz's "Model Parameters" card stays empty (the levers have their own card): hide it
HIDE_EMPTY_PARAMETER_CARD = ".v-card:has(> .v-card__text > .d-flex:empty:only-child) " \
    "{ display: none; }"
OWN_STRATEGY = "(the context's own)"
#: the layer shown on the maps (per browser session when served)
map_layer = solara.reactive("violence")

Settings = Any  # TrainerSettings or PairSettings, or a reactive holding one


def _current(settings: Settings) -> Any:
    """The settings value, whether given directly or as a reactive variable."""
    return settings.value if isinstance(settings, solara.Reactive) else settings


class FramePacer:
    """Keeps the play loop from changing the page faster than another thread can draw it.

    SolaraViz's play loop steps and then asks for a redraw. Normally the redraw runs in the
    play thread itself, so the loop waits for it. But while a redraw runs in another thread
    (e.g. the one that handled a click), the loop's requests do not wait, and if one arrives
    during every pass of that redraw, reacton stops with "Too many renders triggered". So a
    step waits until the last redraw done elsewhere is two redraw times old.
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


class LiveTrainerModel(TrainerModel):
    """A :class:`TrainerModel` for the page: accepts the page's reactive settings, and paces
    its steps to the redraws (:class:`FramePacer`).

    SolaraViz fixes the model parameters when the page opens and rebuilds the model from them
    on Reset; handing it the reactive variable makes Reset use the levers as they are now.
    """

    def __init__(self, settings: Settings = None) -> None:
        self.pacer = FramePacer()
        super().__init__(_current(settings))

    def step(self) -> None:
        """One tick, once the last redraw has had its time."""
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


# ------------------------------------------------------------------ shared pieces


def _heading(text: str) -> None:
    solara.Text(text, style={"font-weight": "bold", "margin-top": "8px"})


@solara.component
def SidebarBelow(children: list[Any] | None = None) -> None:
    """Like ``solara.Sidebar``, but below SolaraViz's own cards, so Reset / Play / Step and
    ``Time`` stay at the top. Solara orders sidebar content by a position derived from how
    deeply it is declared; this gives ours a position after any SolaraViz uses (the portal is
    solara's own, pinned with solara in the ``viz`` extra)."""
    sidebar_portal.use_portal_add(children or [], SIDEBAR_BELOW)
    return solara.Div(style="display: none")


@solara.component
def LayerSwitch() -> None:
    """Which layer colours the maps."""
    solara.ToggleButtonsSingle(value=map_layer, values=list(LAYERS), dense=True)


@solara.component
def MapImage(model: Any, caption: str = "", size: int = 450) -> None:
    """The model's map as one image about ``size`` pixels wide, redrawn on every tick."""
    update_counter.get()
    s = cell_size(model.width, model.height, size)
    with solara.Column(gap="2px", style={"align-items": "center"}):
        if caption:
            solara.Text(caption, style={"font-weight": "bold"})
        solara.Image(png(map_rgb(model, map_layer.value, s)), classes=["peacesim-map"])


@solara.component
def MapLegend() -> None:
    """Symbols and colours of the map."""
    items = " &nbsp; ".join(
        f'<span style="color:{colour}">{symbol}</span>&nbsp;{text}'
        for symbol, colour, text in LEGEND
    )
    title, _ = LAYERS[map_layer.value]
    solara.HTML(tag="div", unsafe_innerHTML=(
        f'<div style="font-size:12px;max-width:560px">{items}<br/>'
        f"Background: {title.lower()} (darker = more).</div>"))


def headline(model: Any) -> str:
    """One line of the numbers a trainer points at."""
    s = series(model)
    return (f"week {int(s['tick'][-1])}: {int(s['casualties_cum'][-1])} civilians killed; "
            f"trust in peacekeepers {s['trust_pk'][-1]:.2f}, police "
            f"{s['trust_police'][-1]:.2f}; economy {s['economy'][-1]:.2f}; "
            f"{int(s['combatants'][-1])} combatants; {int(s['tips_cum'][-1])} tips")


@solara.component
def FilePicker(label: str, options: dict[str, str], value: str,
               on_pick: Callable[[str], None]) -> None:
    """A select over files, reporting the chosen path."""
    solara.Select(label, values=list(options), value=value,
                  on_value=lambda name: on_pick(options[name]))


class Applier:
    """Turns a lever change into a new model on screen, or into an error message.

    The new model is built from the new settings and replayed to the week on screen (same
    seed); only if that works do the settings and the model change. A file or combination
    that does not validate leaves the model as it was and shows the validation message.
    """

    def __init__(self, model: solara.Reactive[Any], settings: solara.Reactive[Any],
                 error: solara.Reactive[str | None], build: Callable[[Any], Any]) -> None:
        self.model, self.settings, self.error, self.build = model, settings, error, build

    def __call__(self, new: Any) -> bool:
        """Apply ``new`` settings; True if they were valid."""
        try:
            fresh = _replayed(lambda: self.build(new), self.model.value.steps)
        except ScenarioError as exc:
            self.error.set(str(exc))
            return False
        self.settings.set(new)
        self.model.set(fresh)
        self.error.set(None)
        force_update()
        return True

    def reject(self, exc: ScenarioError) -> None:
        """Show why a choice cannot be used (the model stays as it was)."""
        self.error.set(str(exc))


@solara.component
def ErrorMessage(error: solara.Reactive[str | None]) -> None:
    """The validation message of the last rejected choice, if any."""
    if error.value:
        solara.Error(error.value, classes=["peacesim-error"],
                     style={"white-space": "pre-wrap", "overflow-wrap": "anywhere",
                            "font-size": "12px", "max-width": "330px"})


@solara.component
def LeverSliders(s: TrainerSettings, on_change: Callable[[TrainerSettings], Any],
                 ticks: int) -> None:
    """The sliders of one strategy: role weights, conduct and information, forces and the
    drawdown week. Their positions always show ``s`` (so picking a strategy moves them)."""
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

        solara.SliderFloat(f"{role.replace('_', ' ')} ({shares[role]:.0%})", value=s.roles[i],
                           min=0.0, max=1.0, step=0.05, on_value=set_role)
    _heading("Conduct and information")
    for name in STRATEGY_LEVERS:
        value = getattr(s, name)
        solara.SliderFloat(f"{name.replace('_', ' ')}: {value:.2f}", value=value, min=0.0,
                           max=1.0, step=0.05,
                           on_value=lambda v, name=name: on_change(s.replace(**{name: v})))
    _heading("Forces and timeline")
    solara.SliderFloat(f"peacekeeper density: {s.pk_density:.3f}", value=s.pk_density,
                       min=0.0, max=0.1, step=0.005,
                       on_value=lambda v: on_change(s.replace(pk_density=v)))
    solara.SliderFloat(f"police density: {s.police_density:.3f}", value=s.police_density,
                       min=0.0, max=0.1, step=0.005,
                       on_value=lambda v: on_change(s.replace(police_density=v)))
    when = f"week {s.drawdown_start}" if s.drawdown_start else "none"
    solara.SliderInt(f"drawdown start: {when}", value=s.drawdown_start, min=0,
                     max=max(ticks, s.drawdown_start), step=1,
                     on_value=lambda v: on_change(s.replace(drawdown_start=int(v))))
    solara.Checkbox(label="adaptive review (re-post units after community feedback)",
                    value=s.adaptive, on_value=lambda v: on_change(s.replace(adaptive=bool(v))))


def _contexts() -> dict[str, str]:
    return _options(list_contexts(extra=default_context()))


def _strategies() -> dict[str, str | None]:
    return {OWN_STRATEGY: None, **_options(list_strategies())}


# ------------------------------------------------------------------ trainer page


@solara.component
def TrainerLevers(model: solara.Reactive[Any], settings: solara.Reactive[TrainerSettings],
                  message: str | None = None) -> None:
    """Context and strategy pickers, lever sliders and seed; each change applies at once."""
    error = solara.use_reactive(message)
    apply = Applier(model, settings, error, LiveTrainerModel)
    s = settings.value
    picked = solara.use_reactive((s.context, s.strategy))  # may be an invalid choice
    contexts = solara.use_memo(_contexts, [])
    strategies = solara.use_memo(_strategies, [])

    def pick(context: str, strategy: str | None) -> None:
        picked.set((context, strategy))
        try:
            new = settings_from_files(context, strategy, s.seed)
        except ScenarioError as exc:
            apply.reject(exc)
            return
        apply(new)

    context, strategy = picked.value
    with solara.Card("Levers", subtitle="A change replays the run to this week, same seed"):
        FilePicker("Context (scenarios/)", contexts, file_label(context),
                   lambda path: pick(path, strategy))
        FilePicker("Strategy (scenarios/strategies/)", strategies, file_label(strategy),
                   lambda path: pick(context, path))
        ErrorMessage(error)
        LeverSliders(s, apply, model.value.scenario_config.run.ticks)
        solara.InputInt("seed", value=s.seed,
                        on_value=lambda v: apply(s.replace(seed=int(v or 0))))


@solara.component
def TrainerMain(model: Any) -> None:
    """Map with its layer switch and legend, next to the live charts."""
    update_counter.get()
    start = time.monotonic()
    chart = solara.use_memo(lambda: trend_chart(model), [model])
    solara.Text(headline(model), classes=["peacesim-headline"])
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        with solara.Card("Map"):
            LayerSwitch()
            MapImage(model)
            MapLegend()
        with solara.Card("Over time"):
            solara.Image(chart.png(series(model)), classes=["peacesim-chart"])
    _drawn(model, start)


@solara.component
def TrainerView(model: solara.Reactive[Any], settings: solara.Reactive[TrainerSettings],
                message: str | None = None) -> None:
    """The trainer page for a given model and settings (tests render this directly)."""
    SolaraViz(model, components=[], model_params={"settings": settings},
              play_interval=PLAY_INTERVAL_MS, name="PeaceSim trainer")
    solara.Style(HIDE_EMPTY_PARAMETER_CARD)
    SidebarBelow(children=[TrainerLevers(model, settings, message)])
    TrainerMain(model.value)


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
    model = solara.use_reactive(solara.use_memo(lambda: LiveTrainerModel(first), []))
    TrainerView(model, settings, message)


# ------------------------------------------------------------------ compare page


@solara.component
def PairLevers(pair: solara.Reactive[Any], settings: solara.Reactive[PairSettings],
               message: str | None = None) -> None:
    """Shared context and seed; per side a strategy file and, folded away, its sliders."""
    error = solara.use_reactive(message)
    apply = Applier(pair, settings, error, LiveStrategyPair)
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
    with solara.Card("Compare", subtitle="Same context and seed; charts show B - A"):
        FilePicker("Context (scenarios/)", contexts, file_label(context),
                   lambda path: pick(path, strategy_a, strategy_b))
        FilePicker("Strategy A", strategies, file_label(strategy_a),
                   lambda path: pick(context, path, strategy_b))
        FilePicker("Strategy B", strategies, file_label(strategy_b),
                   lambda path: pick(context, strategy_a, path))
        ErrorMessage(error)
        solara.InputInt("seed", value=s.a.seed, on_value=lambda v: apply(
            PairSettings(s.a.replace(seed=int(v or 0)), s.b.replace(seed=int(v or 0)))))
        with solara.Details("Levers of A"):
            LeverSliders(s.a, lambda new: apply(s.replace(a=new)), ticks)
        with solara.Details("Levers of B"):
            LeverSliders(s.b, lambda new: apply(s.replace(b=new)), ticks)


@solara.component
def CompareMain(pair: Any) -> None:
    """The two maps side by side, the headline numbers of each, and the difference charts."""
    update_counter.get()
    start = time.monotonic()
    chart = solara.use_memo(lambda: difference_chart(pair.a, pair.b), [pair])
    s = pair.settings
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        with solara.Card("Maps"):
            LayerSwitch()
            with solara.Row(style={"flex-wrap": "wrap"}):
                for side, model, settings in (("A", pair.a, s.a), ("B", pair.b, s.b)):
                    with solara.Column(style={"max-width": "350px"}):
                        MapImage(model, f"{side}: {file_label(settings.strategy)}", 330)
                        solara.Text(headline(model), style={"font-size": "12px"})
            MapLegend()
        with solara.Card("Difference B - A"):
            solara.Image(chart.png(difference(series(pair.a), series(pair.b))),
                         classes=["peacesim-chart"])
    _drawn(pair, start)


@solara.component
def CompareView(pair: solara.Reactive[Any], settings: solara.Reactive[PairSettings],
                message: str | None = None) -> None:
    """The compare page for a given pair and settings (tests render this directly)."""
    SolaraViz(pair, components=[], model_params={"settings": settings},
              play_interval=PLAY_INTERVAL_MS, name="PeaceSim: compare strategies")
    solara.Style(HIDE_EMPTY_PARAMETER_CARD)
    SidebarBelow(children=[PairLevers(pair, settings, message)])
    CompareMain(pair.value)


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


routes = [
    solara.Route(path="/", component=TrainerPage, label="Trainer"),
    solara.Route(path="compare", component=ComparePage, label="Compare"),
]


def measure_ticks_per_second(ticks: int = 100, page: Callable[..., Any] = TrainerPage) -> float:
    """Ticks per second of Step in the rendered page, without a browser: each tick steps the
    model and redraws every component (map and charts as PNG, widgets reconciled).

    Outside a server, solara's AppLayout hands its app-bar children to IPython's ``display``,
    which without an IPython shell prints their reprs; that output is swallowed here.
    """
    import ipyvuetify as v

    @solara.component
    def Layout() -> None:
        with solara.AppLayout():
            page()

    with contextlib.redirect_stdout(io.StringIO()):
        _, rc = solara.render(Layout(), handle_error=False)
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
