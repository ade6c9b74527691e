"""Component tests of the trainer app (sim/app.py), rendered with solara, no browser.

The pages are rendered inside an AppLayout (as the server does), so SolaraViz's sidebar
with Reset / Play / Step and ``Time: N`` is there; buttons are clicked and sliders moved on
the widgets themselves.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

solara = pytest.importorskip("solara", reason="the trainer app needs the viz extra")
import ipyvuetify as v  # noqa: E402
import ipywidgets as widgets  # noqa: E402

from sim.viz import app  # noqa: E402
from sim.viz.components import series  # noqa: E402
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


@pytest.fixture
def scenario_dir(tmp_path: Path, scenarios_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scenario folder for the pickers: baseline, one invalid context, three strategies."""
    folder = tmp_path / "scenarios"
    (folder / "strategies").mkdir(parents=True)
    shutil.copy(scenarios_dir / "baseline.toml", folder)
    shutil.copy(scenarios_dir / "epstein_model1.toml", folder)  # not offered: no mission
    (folder / "broken.toml").write_text(BROKEN)
    for name in ("community_engagement", "integrated", "protection_first"):
        shutil.copy(scenarios_dir / "strategies" / f"{name}.toml", folder / "strategies")
    monkeypatch.setenv(SCENARIOS_DIR_ENV, str(folder))
    monkeypatch.delenv(SCENARIO_ENV, raising=False)
    return folder


class Handles:
    """What a test needs from a rendered page: the reactive model/settings and the widgets."""

    model: solara.Reactive
    settings: solara.Reactive


def render_trainer():
    first = default_settings()
    h = Handles()

    @solara.component
    def Page():
        h.settings = solara.use_reactive(first)
        h.model = solara.use_reactive(solara.use_memo(lambda: app.LiveTrainerModel(first), []))
        with solara.AppLayout():
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
        with solara.AppLayout():
            app.CompareView(h.model, h.settings)

    _, rc = solara.render(Page(), handle_error=False)
    return h, rc


def click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def time_label(rc) -> str:
    texts = [c for w in rc.find(v.Html, tag="span").widgets for c in w.children
             if isinstance(c, str) and c.startswith("Time: ")]
    assert len(texts) == 1, texts
    return texts[0]


def image(rc, cls: str, index: int = 0) -> bytes:
    found = [w for w in rc.find(widgets.Image).widgets if cls in w._dom_classes]
    assert found, f"no image with class {cls}: the main panel did not render"
    return bytes(found[index].value)


def slider(rc, label_start: str):
    found = [w for w in rc.find(v.Slider).widgets if w.label.startswith(label_start)]
    assert len(found) == 1, [w.label for w in rc.find(v.Slider).widgets]
    return found[0]


def select(rc, label: str):
    return rc.find(v.Select, label=label).widget


def error_text(rc) -> str:
    alerts = rc.find(v.Alert).widgets
    return "\n".join(str(c) for a in alerts for c in a.children)


def test_step_button_steps_the_model_and_redraws(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    assert time_label(rc) == "Time: 0.0"
    map0, chart0 = image(rc, "peacesim-map"), image(rc, "peacesim-chart")
    for _ in range(3):
        click(rc, "Step")
    assert h.model.value.steps == 3
    assert time_label(rc) == "Time: 3.0"
    assert image(rc, "peacesim-map") != map0
    assert image(rc, "peacesim-chart") != chart0


def test_layer_switch_changes_the_map(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    before = image(rc, "peacesim-map")
    try:
        rc.find(v.BtnToggle).widget.v_model = 1  # what the browser does on a click
        assert app.map_layer.value == "economy"
        assert image(rc, "peacesim-map") != before
    finally:
        app.map_layer.set("violence")


def test_slider_changes_the_models_parameters_and_keeps_the_week(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    for _ in range(4):
        click(rc, "Step")
    old = h.model.value
    slider(rc, "restraint").v_model = 0.4
    new = h.model.value
    assert new is not old
    assert new.scenario_config.strategy.restraint == pytest.approx(0.4)
    assert h.settings.value.restraint == pytest.approx(0.4)
    assert slider(rc, "restraint").label == "restraint: 0.40"
    # replayed to the same week with the same seed: identical to a fresh run to that week
    assert new.steps == 4 and time_label(rc) == "Time: 4.0"
    ref = TrainerModel(h.settings.value)
    for _ in range(4):
        ref.step()
    assert series(ref)["casualties_cum"].tolist() == series(new)["casualties_cum"].tolist()
    assert series(ref)["trust_pk"].tolist() == series(new)["trust_pk"].tolist()


def test_role_sliders_are_weights_normalised_to_shares(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    slider(rc, "patrol").v_model = 0.0
    roles = h.model.value.scenario_config.strategy.roles
    assert roles.patrol == 0.0
    # baseline weights 0.5/0.2/0.1/0.1/0.05/0.05 without patrol: the rest scale to sum 1
    assert roles.static == pytest.approx(0.4)
    assert slider(rc, "static").label == "static (40%)"


def test_density_and_drawdown_sliders(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    slider(rc, "peacekeeper density").v_model = 0.05
    slider(rc, "drawdown start").v_model = 0
    sc = h.model.value.scenario_config
    assert sc.peacekeepers.density == pytest.approx(0.05)
    assert sc.mission.drawdown_start is None
    assert h.model.value.metrics["peacekeepers"] == round(0.05 * 50 * 50)


def test_adaptive_switch_turns_the_review_on(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    assert h.model.value.scenario_config.strategy.adaptive is False
    box = rc.find(v.Checkbox,
                  label="adaptive review (re-post units after community feedback)").widget
    box.v_model = True
    assert h.model.value.scenario_config.strategy.adaptive is True


def test_strategy_picker_moves_the_sliders(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    select(rc, "Strategy (scenarios/strategies/)").v_model = "integrated.toml"
    assert h.model.value.scenario_config.strategy.name == "integrated"
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
    assert h.model.value is before and time_label(rc) == "Time: 1.0"  # still usable
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
    assert h.model.value.steps == 0 and time_label(rc) == "Time: 0.0"
    assert h.model.value.scenario_config.strategy.transparency == pytest.approx(0.9)


def test_play_and_pause(scenario_dir: Path) -> None:
    h, rc = render_trainer()
    click(rc, "▶")
    deadline = time.monotonic() + 30
    while h.model.value.steps < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    click(rc, "❚❚")
    assert h.model.value.steps >= 3
    time.sleep(0.3)
    stopped = h.model.value.steps
    time.sleep(0.3)
    assert h.model.value.steps == stopped


def test_compare_steps_both_sides_in_lockstep(scenario_dir: Path) -> None:
    h, rc = render_compare()
    pair = h.model.value
    assert pair.settings.a.strategy != pair.settings.b.strategy
    assert pair.a.seed == pair.b.seed
    maps0 = image(rc, "peacesim-map", 0), image(rc, "peacesim-map", 1)
    diff0 = image(rc, "peacesim-chart")
    for _ in range(3):
        click(rc, "Step")
    assert (pair.a.steps, pair.b.steps) == (3, 3)
    assert time_label(rc) == "Time: 3.0"
    assert image(rc, "peacesim-map", 0) != maps0[0]
    assert image(rc, "peacesim-map", 1) != maps0[1]
    assert image(rc, "peacesim-chart") != diff0


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
