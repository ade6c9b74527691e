"""The trainer app's model side (sim/trainer.py) and pictures (sim/viz_components.py).

No Solara here: these run without the viz extra.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.config.scenario import ScenarioError
from sim.engine import layout as K
from sim.viz.components import (
    NO_RESIDENT,
    POLICE_COLOUR,
    SETTLEMENT_COLOUR,
    TREND_PANELS,
    ChartFigure,
    cell_size,
    difference,
    layer_values,
    map_rgb,
    series,
    trend_chart,
)
from sim.viz.trainer import (
    PairSettings,
    StrategyPair,
    TrainerModel,
    build_scenario,
    list_contexts,
    list_strategies,
    pair_from_files,
    settings_from_files,
)


@pytest.fixture
def baseline(scenarios_dir: Path) -> str:
    return str(scenarios_dir / "baseline.toml")


@pytest.fixture
def integrated(scenarios_dir: Path) -> str:
    return str(scenarios_dir / "strategies" / "integrated.toml")


def test_settings_start_at_the_files_values(baseline: str, integrated: str) -> None:
    s = settings_from_files(baseline, integrated, seed=7)
    assert s.seed == 7
    assert s.restraint == 0.9 and s.cultural_competence == 0.75
    assert s.roles == (0.3, 0.15, 0.1, 0.15, 0.15, 0.15, 0.0)
    assert s.drawdown_start == 156 and s.pk_density == 0.03
    sc = build_scenario(s)
    assert sc.strategy.name == "integrated" and sc.strategy.restraint == 0.9


def test_levers_become_overrides(baseline: str) -> None:
    s = settings_from_files(baseline).replace(
        roles=(2.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0), restraint=0.25, pk_density=0.05,
        police_density=0.02, drawdown_start=0,
    )
    sc = build_scenario(s)
    assert sc.strategy.roles.patrol == 0.5 and sc.strategy.roles.police_mentoring == 0.5
    assert sc.strategy.roles.static == 0.0
    assert sc.strategy.restraint == 0.25
    assert sc.peacekeepers.density == 0.05 and sc.police.density == 0.02
    assert sc.mission.drawdown_start is None  # 0: the mission stays


def test_bad_levers_and_files_raise_scenario_errors(baseline: str, scenarios_dir: Path,
                                                    tmp_path: Path) -> None:
    s = settings_from_files(baseline)
    with pytest.raises(ScenarioError, match="at least one role"):
        build_scenario(s.replace(roles=(0.0,) * 7))
    with pytest.raises(ScenarioError, match="exceeds 1"):
        build_scenario(s.replace(pk_density=0.5))
    with pytest.raises(ScenarioError, match="trainer app steers the peacekeeping model"):
        settings_from_files(str(scenarios_dir / "epstein_model1.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("model = 'peacekeeping'\n[world]\nwidht = 10\n")
    with pytest.raises(ScenarioError, match="world.widht: unknown key"):
        settings_from_files(str(bad))


def test_pickers_list_peacekeeping_contexts_and_unreadable_files(tmp_path: Path,
                                                                 scenarios_dir: Path) -> None:
    contexts = [Path(p).name for p in list_contexts()]
    assert "baseline.toml" in contexts and "liberia.toml" in contexts
    assert not [c for c in contexts if c.startswith("epstein")]
    assert len(list_strategies()) == len(list((scenarios_dir / "strategies").glob("*.toml")))
    (tmp_path / "garbled.toml").write_text("this is [not toml")
    (tmp_path / "epstein.toml").write_text("model = 'epstein'\n")
    listed = list_contexts(tmp_path, extra="/elsewhere/mine.toml")
    assert listed == ["/elsewhere/mine.toml", str(tmp_path / "garbled.toml")]


def test_trainer_model_runs_the_scenario_of_its_settings(baseline: str) -> None:
    s = settings_from_files(baseline, seed=3).replace(restraint=0.3)
    m = TrainerModel(s)
    assert m.settings == s and m.seed == 3
    assert m.scenario_config.strategy.restraint == 0.3
    m.step()
    assert m.steps == 1


def test_pair_shares_context_and_seed_and_steps_together(baseline: str,
                                                         integrated: str) -> None:
    same = StrategyPair(pair_from_files(baseline, integrated, integrated, seed=5))
    for _ in range(5):
        same.step()
    assert same.a.steps == same.b.steps == 5
    d = difference(series(same.a), series(same.b))
    assert all(not np.any(v) for k, v in d.items() if k != "tick")  # same world, same run
    a = settings_from_files(baseline, integrated, seed=5)
    with pytest.raises(ValueError, match="share their context and seed"):
        PairSettings(a, a.replace(seed=6))


def test_map_shows_layers_and_agents(baseline: str) -> None:
    m = TrainerModel(settings_from_files(baseline))
    for _ in range(3):
        m.step()
    s = cell_size(m.width, m.height)
    img = map_rgb(m, "violence")
    assert img.shape == (m.height * s, m.width * s, 3) and img.dtype == np.uint8
    # every police officer's cell holds the police colour, at its (x, y) with y up
    ag = m.arrays
    pol = np.flatnonzero(ag.alive & (ag.kind == K.POLICE) & (ag.x >= 0))
    assert len(pol)
    colour = np.array([int(POLICE_COLOUR[i:i + 2], 16) for i in (1, 3, 5)])
    for a in pol[:10]:
        row = (m.height - 1 - ag.y[a]) * s
        cell = img[row:row + s, ag.x[a] * s:(ag.x[a] + 1) * s]
        assert (cell == colour).all(axis=2).any()
    # the layer switch changes the background: most empty cells change colour
    empty = m.cells.occ.T[::-1] < 0
    other = map_rgb(m, "economy")
    cells = np.abs(img.astype(int) - other.astype(int)).reshape(
        m.height, s, m.width, s, 3).sum(axis=(1, 3, 4))
    assert (cells[empty] > 0).mean() > 0.5
    trust = layer_values(m, "trust")[::-1]  # rows: y up -> image rows
    assert np.isnan(trust[empty]).all() and not np.isnan(trust[~empty]).all()
    # the background lines up with the agents: a resident's cell shows its own trust
    res_all = np.flatnonzero(ag.alive & (ag.kind == K.RESIDENT) & (ag.x >= 0))
    res = res_all[:20]
    assert np.allclose(layer_values(m, "trust")[ag.y[res], ag.x[res]], ag.trust_pk[res])
    # ... and in the picture: on the trust layer, a cell's corner (outside any glyph) is
    # grey exactly where nobody lives (residents' cells show their trust); settlements'
    # cells are framed instead
    corners = map_rgb(m, "trust")[::s, ::s]
    grey = (corners == np.uint8(NO_RESIDENT[0] * 255)).all(axis=2)
    occupied_by_resident = np.zeros_like(empty)
    occupied_by_resident[m.height - 1 - ag.y[res_all], ag.x[res_all]] = True
    town = np.asarray(m.layer.lay.market).T[::-1] > 0
    assert (grey == ~occupied_by_resident)[~town].all()
    frame = np.array([int(SETTLEMENT_COLOUR[i:i + 2], 16) for i in (1, 3, 5)])
    assert town.any() and (corners[town] == frame).all()
    with pytest.raises(ValueError, match="unknown layer"):
        map_rgb(m, "weather")


def test_charts_redraw_lines_and_grow_their_axes(baseline: str) -> None:
    m = TrainerModel(settings_from_files(baseline))
    chart = trend_chart(m)
    first = chart.png(series(m))
    for _ in range(5):
        m.step()
    assert chart.png(series(m)) != first
    fig = ChartFigure(TREND_PANELS[:1], ticks=10)
    data = {"tick": np.arange(3.0), "casualties_cum": np.array([0.0, 5.0, 50.0])}
    fig.png(data)
    assert fig.axes[0].get_ylim()[1] >= 50.0
    data = {"tick": np.arange(20.0), "casualties_cum": np.zeros(20)}
    fig.png(data)
    assert fig.axes[0].get_xlim()[1] >= 19.0  # past the planned run length
