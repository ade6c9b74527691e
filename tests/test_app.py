"""Component tests of the trainer app (sim/viz/app.py), rendered with solara, no browser.

The pages are rendered as the server renders them (each lays itself out in solara's
AppLayout), so the sidebar with Reset / Play / Step and ``Week N`` is there; buttons are
clicked, sliders moved and the map clicked on the widgets themselves (the map's and charts'
canvases are Vue templates: their data are traits, their events methods).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

solara = pytest.importorskip("solara", reason="the trainer app needs the viz extra")
import ipyvuetify as v  # noqa: E402
import ipywidgets as widgets  # noqa: E402

from sim.viz import app, ensemble  # noqa: E402
from sim.viz.components import series  # noqa: E402
from sim.viz.help import tooltip  # noqa: E402
from sim.viz.live import EXPORT_DIR_ENV  # noqa: E402
from sim.viz.trainer import (  # noqa: E402
    SCENARIO_ENV,
    SCENARIOS_DIR_ENV,
    TrainerModel,
    default_pair,
    default_settings,
)

BROKEN = """# a grid too small and roles that do not sum to 1: the picker must say so
name = "broken"
model = "peacekeeping"

[world]
width = 2

[strategy.roles]
patrol = 0.9
"""
SMALL = {"width = 50": "width = 24", "height = 50": "height = 24", "ticks = 260": "ticks = 30",
         "drawdown_start = 156": "drawdown_start = 20", "drawdown_ticks = 52":
         "drawdown_ticks = 6", "exit_window = 52": "exit_window = 10"}


@pytest.fixture
def scenario_dir(tmp_path: Path, scenarios_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scenario folder for the pickers: baseline, one invalid context, three strategies;
    exports go to a folder of the test's."""
    folder = tmp_path / "scenarios"
    (folder / "strategies").mkdir(parents=True)
    shutil.copy(scenarios_dir / "baseline.toml", folder)
    shutil.copy(scenarios_dir / "epstein_model1.toml", folder)  # not offered: no mission
    (folder / "broken.toml").write_text(BROKEN)
    for name in ("community_engagement", "integrated", "protection_first"):
        shutil.copy(scenarios_dir / "strategies" / f"{name}.toml", folder / "strategies")
    monkeypatch.setenv(SCENARIOS_DIR_ENV, str(folder))
    monkeypatch.delenv(SCENARIO_ENV, raising=False)
    monkeypatch.setenv(EXPORT_DIR_ENV, str(tmp_path / "exports"))
    return folder


@pytest.fixture
def small_world(scenario_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app opens on a 24 x 24 baseline of 30 weeks (for the tests that run whole runs)."""
    text = (scenario_dir / "baseline.toml").read_text()
    for old, new in SMALL.items():
        text = re.sub(rf"^{re.escape(old)}\b", new, text, flags=re.M)
    path = scenario_dir / "small.toml"
    path.write_text(text)
    monkeypatch.setenv(SCENARIO_ENV, str(path))
    return path


class Handles:
    """What a test needs from a rendered page: the reactive run/pair and settings."""

    model: solara.Reactive
    settings: solara.Reactive


def render_trainer():
    first = default_settings()
    h = Handles()

    @solara.component
    def Page():
        h.settings = solara.use_reactive(first)
        h.model = solara.use_reactive(solara.use_memo(lambda: app.LiveExerciseRun(first), []))
        app.TrainerView(h.model, h.settings)

    _, rc = solara.render(Page(), handle_error=False)
    return h, rc


def render_compare():
    first = default_pair()
    h = Handles()

    @solara.component
    def Page():
        h.settings = solara.use_reactive(first)
        h.model = solara.use_reactive(solara.use_memo(lambda: app.LiveStrategyPair(first), []))
        app.CompareView(h.model, h.settings)

    _, rc = solara.render(Page(), handle_error=False)
    return h, rc


def click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def every_widget(*roots) -> list:
    """Every widget under the roots (reacton's find stops at a match, so it misses an Html
    inside an Html)."""
    out, seen, todo = [], set(), list(roots)
    while todo:
        w = todo.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        if isinstance(w, widgets.Widget):
            try:
                values = [getattr(w, k, None) for k in w.keys]
            except RuntimeError:  # closed (a slot may still hold it)
                continue
            out.append(w)
        elif isinstance(w, dict):
            values = list(w.values())
        else:
            values = list(w)
        todo.extend(x for x in values if isinstance(x, widgets.Widget | list | tuple | dict))
    return out


def all_widgets(rc) -> list:
    return every_widget(*rc.find(widgets.Widget).widgets)


def texts(rc) -> list[str]:
    """Every text on the page: the text children of any widget (solara.Text, card titles,
    buttons, ...), HTML widgets' content and the templates (stylesheets) of Vue widgets."""
    out = []
    for w in all_widgets(rc):
        out += [c for c in getattr(w, "children", None) or [] if isinstance(c, str)]
        if hasattr(w, "unsafe_innerHTML"):
            out.append(str(w.unsafe_innerHTML))
        template = getattr(w, "template", None)
        if template is not None:
            out.append(str(getattr(template, "template", template)))
    return out


def type_in(rc, label: str, text: str) -> None:
    """Type into a text field and leave it (solara takes the value on focusout)."""
    field = rc.find(v.TextField, label=label).widget
    field.v_model = text
    field.fire_event("focusout", None)


def week_label(rc) -> str:
    found = [t for t in texts(rc) if re.fullmatch(r"Week \d+", t)]
    assert found, texts(rc)[:20]
    return found[0]


def canvases(rc, trait: str) -> list:
    """The Vue canvases with this data trait: ``layer`` the maps, ``background`` charts."""
    return [w for w in all_widgets(rc) if isinstance(w, v.VuetifyTemplate) and
            w.has_trait(trait)]


def map_frame(rc, index: int = 0) -> dict:
    return canvases(rc, "layer")[index].frame


def chart_frame(rc) -> dict:
    return canvases(rc, "background")[0].frame


def slider(rc, label_start: str):
    found = [w for w in rc.find(v.Slider).widgets if w.label.startswith(label_start)]
    assert len(found) == 1, [w.label for w in rc.find(v.Slider).widgets]
    return found[0]


def select(rc, label: str):
    return rc.find(v.Select, label=label).widget


def error_text(rc) -> str:
    alerts = rc.find(v.Alert).widgets
    return "\n".join(str(c) for a in alerts for c in a.children)


def wait_for(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def descendants(widget) -> list:
    """A widget and every widget under it (children and slots)."""
    return every_widget(widget)


# ------------------------------------------------------------------ trainer page


def test_step_button_steps_the_model_and_redraws(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    assert week_label(rc) == "Week 0"
    assert not [t for t in texts(rc) if t.startswith("Time:")]  # "Week N", not "Time: N.0"
    map0, chart0 = map_frame(rc), chart_frame(rc)
    for _ in range(3):
        click(rc, "Step")
    assert h.model.value.steps == 3
    assert week_label(rc) == "Week 3"
    assert map_frame(rc)["glyph"] != map0["glyph"]
    assert chart_frame(rc)["lines"] != chart0["lines"]


def test_layer_switch_changes_the_map(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    before = map_frame(rc)
    try:
        rc.find(v.BtnToggle, v_model=0).widgets[0].v_model = 1  # what the browser does
        assert app.map_layer.value == "economy"
        assert canvases(rc, "layer")[0].layer == "economy"
        assert map_frame(rc)["background"] != before["background"]
    finally:
        app.map_layer.set("violence")


def test_developer_controls_are_folded_under_advanced(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    panels = [p for p in all_widgets(rc) if isinstance(p, v.ExpansionPanels) and any(
        isinstance(w, v.ExpansionPanelHeader) and "Advanced (developer controls)" in w.children
        for w in descendants(p))]
    assert len(panels) == 1
    inside = descendants(panels[0])
    for label in ("Play Interval (ms)", "Render Interval (steps)"):
        assert slider(rc, label) in inside
    assert rc.find(v.Checkbox, label="Use Threads").widget in inside
    assert panels[0].v_model in (None, [])  # folded when the page opens
    slider(rc, "Render Interval").v_model = 3  # Step then advances three weeks
    click(rc, "Step")
    assert h.model.value.steps == 3 and week_label(rc) == "Week 3"


def test_every_lever_shown_has_its_tooltip(scenario_dir: Path) -> None:
    for render in (render_trainer, render_compare):
        _, rc = render()
        covered: set[str] = set()
        for tip in rc.find(v.Tooltip).widgets:
            activator = tip.v_slots[0]["children"][0]
            levers = [c for c in activator.class_.split() if c.startswith("peacesim-lever-")]
            if not levers:
                continue
            name = levers[0].removeprefix("peacesim-lever-")
            assert tip.children == [tooltip(name)]
            covered |= {id(w) for w in descendants(activator)}
        cards = [c for c in rc.find(v.Card).widgets
                 if any(isinstance(t, v.CardTitle) and t.children in (
                     ["Levers"], ["Compare"], ["Uncertainty"]) for t in descendants(c))]
        assert cards
        inputs = [w for c in cards for w in descendants(c)
                  if isinstance(w, v.Slider | v.Select | v.Checkbox | v.TextField
                                | v.BtnToggle)]
        assert inputs and all(id(w) in covered for w in inputs), [
            getattr(w, "label", w) for w in inputs if id(w) not in covered]
        rc.close()


def test_lever_change_from_this_week_on(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    for _ in range(4):
        click(rc, "Step")
    run = h.model.value
    model = run.model
    slider(rc, "restraint").v_model = 0.4
    assert h.model.value is run and run.model is model  # the same world goes on
    assert run.steps == 4 and week_label(rc) == "Week 4"
    assert model.scenario_config.strategy.restraint == pytest.approx(0.4)
    assert run.actions()[-1] == {"tick": 5, "week": 4, "kind": "set",
                                 "values": {"strategy.restraint": 0.4}}
    assert slider(rc, "restraint").label == "restraint: 0.40"
    assert run.ghost_ready(120)
    click(rc, "Step")
    assert any(t.startswith("Dotted grey: the run without your last change") for t in
               texts(rc))
    greys = [ln for ln in chart_frame(rc)["lines"] if ln["c"] == "#8C8C8C"]
    assert greys  # the ghost is drawn
    assert any("strategy.restraint" in it.text for it in run.model.feed.items)


def test_lever_change_can_replay_from_week_zero(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    for _ in range(4):
        click(rc, "Step")
    old = h.model.value
    mode = [w for w in rc.find(v.BtnToggle).widgets
            if "peacesim-lever-mode" in w.class_.split()][0]
    mode.v_model = 1  # "replay from week 0"
    slider(rc, "restraint").v_model = 0.4
    new = h.model.value
    assert new is not old and new.steps == 4 and week_label(rc) == "Week 4"
    assert new.model.scenario_config.strategy.restraint == pytest.approx(0.4)
    ref = TrainerModel(h.settings.value)
    for _ in range(4):
        ref.step()
    assert series(ref)["casualties_cum"].tolist() == series(new.model)["casualties_cum"].tolist()
    assert series(ref)["trust_pk"].tolist() == series(new.model)["trust_pk"].tolist()


def test_role_sliders_are_weights_normalised_to_shares(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    slider(rc, "patrol").v_model = 0.0
    roles = h.model.value.model.scenario_config.strategy.roles
    assert roles.patrol == 0.0
    # baseline weights 0.5/0.2/0.1/0.1/0.05/0.05 without patrol: the rest scale to sum 1
    assert roles.static == pytest.approx(0.4)
    assert slider(rc, "static").label == "static (40%)"


def test_density_and_drawdown_sliders(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    slider(rc, "peacekeeper density").v_model = 0.05
    slider(rc, "drawdown start").v_model = 0
    m = h.model.value.model
    assert m.scenario_config.peacekeepers.density == pytest.approx(0.05)
    assert m.scenario_config.mission.drawdown_start is None
    ag = m.arrays
    assert int((ag.alive & (ag.kind == 2)).sum()) == round(0.05 * 50 * 50)


def test_adaptive_switch_turns_the_review_on(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    assert h.model.value.model.scenario_config.strategy.adaptive is False
    box = rc.find(v.Checkbox,
                  label="adaptive review (re-post units after community feedback)").widget
    box.v_model = True
    assert h.model.value.model.scenario_config.strategy.adaptive is True


def test_strategy_picker_moves_the_sliders(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    select(rc, "Strategy (scenarios/strategies/)").v_model = "integrated.toml"
    assert h.model.value.model.scenario_config.strategy.name == "integrated"
    assert slider(rc, "restraint").label == "restraint: 0.90"
    assert slider(rc, "patrol").label == "patrol (30%)"


def test_invalid_context_shows_its_validation_message(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    click(rc, "Step")
    before = h.model.value
    ctx = select(rc, "Context (scenarios/)")
    assert "epstein_model1.toml" not in ctx.items and "broken.toml" in ctx.items
    ctx.v_model = "broken.toml"
    message = error_text(rc)
    assert "broken.toml: invalid scenario" in message
    assert "role shares must sum to 1" in message
    assert "world.width = 2: Input should be greater than or equal to 3" in message
    assert h.model.value is before and week_label(rc) == "Week 1"  # still usable
    click(rc, "Step")
    assert h.model.value.steps == 2
    select(rc, "Context (scenarios/)").v_model = "baseline.toml"
    assert error_text(rc) == ""


def test_reset_rebuilds_with_the_current_levers(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    slider(rc, "transparency").v_model = 0.9
    click(rc, "Step")
    click(rc, "Step")
    click(rc, "Reset")
    assert h.model.value.steps == 0 and week_label(rc) == "Week 0"
    assert h.model.value.model.scenario_config.strategy.transparency == pytest.approx(0.9)
    assert h.model.value.actions() == []


def test_play_and_pause(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    click(rc, "▶")
    wait_for(lambda: h.model.value.steps >= 3, 60)
    click(rc, "❚❚")
    time.sleep(0.3)
    stopped = h.model.value.steps
    time.sleep(0.3)
    assert h.model.value.steps == stopped >= 3
    assert week_label(rc) == f"Week {stopped}"


def test_injects_from_the_sidebar_act_from_the_next_week(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    for _ in range(3):
        click(rc, "Step")
    run = h.model.value
    select(rc, "District (a settlement in it)").v_model = "C2"
    slider(rc, "attackers").v_model = 12
    click(rc, "Inject")
    assert run.actions()[-1] == {"tick": 4, "week": 3, "kind": "attack", "district": 10,
                                 "attackers": 12}, run.actions()
    assert "C2" in run.model.feed.latest(1)[0].text  # the feed names the district at once
    # a cell clicked on the map is the target of the next attack
    canvases(rc, "layer")[0].vue_cell_click({"column": 5, "row": 7})
    assert any(t.startswith("Target: the selected cell (5, 42)") for t in texts(rc))
    click(rc, "Inject")
    assert run.actions()[-1]["settlement"] == [5, 42]
    # other kinds, and a refused one says why and changes nothing
    select(rc, "Inject").v_model = "Withdraw units"
    slider(rc, "share withdrawn").v_model = 0.25
    click(rc, "Inject")
    assert run.actions()[-1]["kind"] == "withdraw_units"
    assert run.actions()[-1]["share"] == 0.25
    select(rc, "Inject").v_model = "Reinforce an armed group"
    n = len(run.actions())
    run.exercise.scenario  # noqa: B018 (the exercise is there)
    click(rc, "Inject")
    assert len(run.actions()) == n + 1
    for label in app.INJECTS:
        select(rc, "Inject").v_model = label
        assert rc.find(v.Tooltip).widgets  # every inject's controls have tooltips
    select(rc, "Inject").v_model = "Legitimacy shock"
    slider(rc, "change of legitimacy").v_model = 0.0
    click(rc, "Inject")
    assert "delta = 0 changes nothing" in error_text(rc)
    assert len(run.actions()) == n + 1


def test_clicking_a_cell_inspects_it(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    click(rc, "Step")
    m = h.model.value.model
    ag = m.arrays
    r = int(np.flatnonzero(ag.alive & (ag.kind == 0) & (ag.x >= 0))[0])
    x, y = int(ag.x[r]), int(ag.y[r])
    canvases(rc, "layer")[0].vue_cell_click({"column": x, "row": m.height - 1 - y})
    assert canvases(rc, "layer")[0].selected == [x, y]
    page = " ".join(texts(rc))
    assert f"Cell ({x}, {y}), district " in page
    assert f"<td>trust in peacekeepers</td><td><b>{ag.trust_pk[r]:.2f}</b>" in page
    click(rc, "Step")  # it follows the run
    assert canvases(rc, "layer")[0].selected == [x, y]
    click(rc, "Close")
    assert canvases(rc, "layer")[0].selected == []


def test_bookmark_and_rewind(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    for _ in range(2):
        click(rc, "Step")
    type_in(rc, "bookmark name (optional)", "start")
    click(rc, "Bookmark week 2")
    assert h.model.value.bookmarks() == {"start": 2}, error_text(rc)
    at_mark = series(h.model.value.model)
    for _ in range(3):
        click(rc, "Step")
    click(rc, "Rewind to start (week 2)")
    assert h.model.value.steps == 2 and week_label(rc) == "Week 2"
    now = series(h.model.value.model)
    assert all(np.array_equal(now[k], at_mark[k]) for k in at_mark)


def test_export_buttons_write_files(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    for _ in range(2):
        click(rc, "Step")
    click(rc, "Series (CSV)")
    wait_for(lambda: any(t.startswith("Series (CSV): written") for t in texts(rc)), 120)
    folder = next((scenario_dir.parent / "exports").iterdir())
    assert {p.name for p in folder.iterdir()} >= {"series.csv", "events.csv", "feed.txt"}
    click(rc, "Exercise log (JSON)")
    wait_for(lambda: (folder / "exercise.json").exists(), 120)


def test_presenter_mode_hides_the_sidebar_and_shows_the_controls(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    toggle = [w for w in rc.find(v.VuetifyTemplate).widgets if w.has_trait("active")][0]
    assert len(rc.find(v.Btn, children=["▶"]).widgets) == 1
    toggle.active = True  # what the button does in the browser
    assert len(rc.find(v.Btn, children=["▶"]).widgets) == 2  # the presenter bar's too
    assert any(".v-navigation-drawer, .v-application header.v-app-bar { display: none" in t
               for t in texts(rc))
    toggle.active = False
    assert len(rc.find(v.Btn, children=["▶"]).widgets) == 1


# ------------------------------------------------------------------ compare page


def test_compare_steps_both_sides_in_lockstep(scenario_dir: Path) -> None:
    h, rc = render_compare()
    pair = h.model.value
    assert pair.settings.a.strategy != pair.settings.b.strategy
    assert pair.a.seed == pair.b.seed
    maps0 = map_frame(rc, 0), map_frame(rc, 1)
    chart0 = chart_frame(rc)
    for _ in range(3):
        click(rc, "Step")
    assert (pair.a.steps, pair.b.steps) == (3, 3)
    assert week_label(rc) == "Week 3"
    assert map_frame(rc, 0)["glyph"] != maps0[0]["glyph"]
    assert map_frame(rc, 1)["glyph"] != maps0[1]["glyph"]
    assert chart_frame(rc)["lines"] != chart0["lines"]
    assert any("Only one seed shown" in t for t in texts(rc))


def test_compare_pickers_and_sliders_change_one_side(scenario_dir: Path) -> None:
    h, rc = render_compare()
    click(rc, "Step")
    select(rc, "Strategy B").v_model = "integrated.toml"
    pair = h.model.value
    assert pair.b.scenario_config.strategy.name == "integrated"
    assert pair.a.scenario_config.strategy.name == "community_engagement"
    assert (pair.a.steps, pair.b.steps) == (1, 1)
    restraint = [w for w in rc.find(v.Slider).widgets if w.label.startswith("restraint")]
    assert len(restraint) == 2  # A's and B's
    restraint[1].v_model = 0.1
    assert h.model.value.b.scenario_config.strategy.restraint == pytest.approx(0.1)
    assert h.model.value.a.scenario_config.strategy.restraint == \
        pair.a.scenario_config.strategy.restraint
    select(rc, "Context (scenarios/)").v_model = "broken.toml"
    assert "world.width = 2" in error_text(rc)  # (the strategies replace the roles)
    assert h.model.value.b.scenario_config.strategy.restraint == pytest.approx(0.1)


def test_compare_runs_seeds_and_shows_their_bands(small_world: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import concurrent.futures as cf

    pool = cf.ThreadPoolExecutor(2)
    monkeypatch.setattr(ensemble, "shared_pool", lambda: pool)
    try:
        h, rc = render_compare()

        canvas = canvases(rc, "background")[0]
        before = canvas.background, canvas.frame["version"]
        assert any("Only one seed shown" in t for t in texts(rc))
        type_in(rc, "seeds", "2")
        click(rc, "Run 2 seeds")
        wait_for(lambda: any("mean of 2 seeds" in t for t in texts(rc)), 300)
        canvas = canvases(rc, "background")[0]
        assert canvas.background != before[0] and canvas.frame["version"] > before[1]
        assert not any("Only one seed shown" in t for t in texts(rc))
    finally:
        pool.shutdown(wait=True)


# ------------------------------------------------------------------ speed report


def test_speed_report_prints_only_its_two_lines(scenario_dir: Path, repo_root: Path) -> None:
    # outside a server (and outside pytest's widget environment), AppLayout's app-bar children
    # went through IPython's display() fallback, which printed widget reprs
    out = subprocess.run([sys.executable, "-m", "sim.viz.app", "--ticks", "2"], cwd=repo_root,
                         capture_output=True, text=True, timeout=600, check=True).stdout
    lines = out.splitlines()
    assert len(lines) == 2, out
    assert re.fullmatch(r"trainer page: [\d.]+ ticks/s \(step \+ redraw\)", lines[0]), out
    assert re.fullmatch(r"compare page: [\d.]+ ticks/s \(step \+ redraw\)", lines[1]), out


def test_speed_report_rejects_a_bad_tick_count(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exc:
        app.main(["--ticks", "0"])
    assert exc.value.code == 2
    assert "--ticks 0: give a whole number of at least 1" in capsys.readouterr().err
