"""Each Epstein rule on hand-built tiny worlds (ODD 7.1-7.6)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from mesa.discrete_space import OrthogonalMooreGrid, OrthogonalVonNeumannGrid

from sim.config.scenario import build_scenario
from sim.engine import layout as K
from sim.engine.grid import rebuild_fields
from sim.engine.space import cells_in_vision
from sim.model.model import PeaceSimModel
from sim.rules import civil_violence as cv
from sim.rules.schedules import legitimacy_at, police_density_at


def empty_world(width=9, height=9, **sections) -> PeaceSimModel:
    """A world with no agents: tests place every agent by hand."""
    data = {
        "world": {"width": width, "height": height, "torus": False},
        "residents": {"density": 0.0, "vision": 1},
        "police": {"density": 0.0, "vision": 2},
        "unrest": {"movement": False, "legitimacy": 0.0},
    }
    for k, v in sections.items():
        data.setdefault(k, {}).update(v)
    return PeaceSimModel(build_scenario(data), seed=0)


# ---------------------------------------------------------------- arrest probability


@pytest.mark.parametrize(
    ("cops", "actives", "rule", "ratio"),
    [
        (3, 2, cv.RATIO_FLOOR, 1.0),
        (3, 2, cv.RATIO_ROUND, 2.0),  # round(1.5) = 2
        (3, 2, cv.RATIO_EXACT, 1.5),
        (5, 2, cv.RATIO_ROUND, 2.0),  # round(2.5) = 2: half to even, like Python
        (1, 2, cv.RATIO_FLOOR, 0.0),
        (1, 2, cv.RATIO_ROUND, 0.0),  # round(0.5) = 0
        (1, 2, cv.RATIO_EXACT, 0.5),
        (0, 1, cv.RATIO_EXACT, 0.0),
        (7, 3, cv.RATIO_ROUND, float(round(7 / 3))),
    ],
)
def test_arrest_probability_under_each_ratio_rule(cops, actives, rule, ratio):
    p = cv.arrest_probability(cops, actives, 2.3, rule)
    assert p == pytest.approx(1.0 - math.exp(-2.3 * ratio), abs=1e-15)


def test_round_rule_matches_python_round_everywhere():
    for c in range(0, 30):
        for a in range(1, 12):
            assert cv.arrest_ratio(c, a, cv.RATIO_ROUND) == round(c / a)


# ---------------------------------------------------------------- activation threshold


@pytest.mark.parametrize(("hardship", "expected"), [(0.5, "quiescent"), (0.51, "active")])
def test_activation_threshold_is_strict(hardship, expected):
    # no cops: N = 0, so active iff G = h (1 - L) > T; with L = 0.8, h = 0.5: G = 0.1 = T
    m = empty_world(unrest={"legitimacy": 0.8, "threshold": 0.1})
    r = m.add_agent("resident", 4, 4, hardship=hardship, risk_aversion=1.0)
    m.step()
    assert r.state == expected


def test_cops_in_vision_deter_risk_averse_residents():
    # G = 1 * (1 - 0) = 1; one cop, A = 1: P = 1 - exp(-2.3) ~ 0.9; N = R P
    m = empty_world(residents={"vision": 3})
    bold = m.add_agent("resident", 2, 2, hardship=1.0, risk_aversion=0.5)
    timid = m.add_agent("resident", 6, 6, hardship=0.2, risk_aversion=1.0)
    m.add_agent("police", 4, 4)  # both see it (von Neumann distance 4 > 3? no: see below)
    # bold at distance |2|+|2| = 4 > 3: sees no cop -> active; timid at 4 too: G=0.2 > 0.1
    m.step()
    assert bold.state == "active"
    assert timid.state == "active"
    m2 = empty_world(residents={"vision": 4}, police={"vision": 1})
    timid2 = m2.add_agent("resident", 6, 6, hardship=0.2, risk_aversion=1.0)
    m2.add_agent("police", 4, 4)  # now in vision: N = 0.9 -> 0.2 - 0.9 < 0.1
    m2.step()
    assert timid2.state == "quiescent"


# ---------------------------------------------------------------- arrests


def test_cop_arrests_only_an_active_in_vision():
    # residents see 1 cell (no cop in view, R = 0): they stay active; the cop sees 2 cells
    m = empty_world(unrest={"max_jail_term": 5})
    far = m.add_agent("resident", 4, 7, hardship=1.0, state="active")  # distance 3
    calm = m.add_agent("resident", 4, 3, hardship=0.0)  # distance 1, quiescent
    m.add_agent("police", 4, 4)
    m.step()
    assert far.state == "active" and calm.state == "quiescent"
    assert m.metrics["arrests"] == 0
    near = m.add_agent("resident", 6, 4, hardship=1.0, state="active")  # distance 2
    m.step()
    assert near.state == "jailed"
    assert far.state == "active" and calm.state == "quiescent"
    assert m.metrics["arrests"] == 1
    assert 0 <= near.jail_term <= 5


def test_arrested_resident_leaves_grid_in_paper_mode_and_stays_in_mesa_mode():
    for jail, on_grid in (("off_grid", False), ("on_cell", True)):
        m = empty_world(unrest={"max_jail_term": 50, "jail": jail})
        r = m.add_agent("resident", 6, 4, hardship=1.0, state="active")
        m.add_agent("police", 4, 4)
        m.step()
        assert r.state == "jailed"
        assert (r.pos is not None) == on_grid
        m.check_invariants()


def test_jail_countdown_then_release():
    m = empty_world()
    r = m.add_agent("resident", 4, 4, hardship=1.0, state="jailed", jail_term=3)
    for expected_term in (2, 1, 0):
        m.step()
        assert r.state == "jailed" and r.jail_term == expected_term
    m.step()  # term served: the resident decides again (G = 1 > T, no cops)
    assert r.state == "active"
    assert m.metrics["releases"] == 1


def test_jailed_off_grid_resident_returns_to_an_empty_cell():
    m = empty_world(width=3, height=3)
    r = m.add_agent("resident", 1, 1, hardship=0.0)
    m.arrays.state[r.slot] = K.JAILED
    m.arrays.jail[r.slot] = 0
    rebuild_fields(m.ag, m.cells, m.geometry, m.params)
    m.cells.occ[1, 1] = -1
    m.arrays.x[r.slot] = -1
    m.arrays.y[r.slot] = -1
    m.step()
    assert r.state == "quiescent" and r.pos is not None
    m.check_invariants()


# ---------------------------------------------------------------- vision shapes


def _offsets_set(shape, r):
    return {
        (x - 10, y - 10) for (x, y) in cells_in_vision(10, 10, shape, r, 21, 21, False)
    }


def test_each_vision_shape_cell_set():
    assert _offsets_set("von_neumann", 2) == {
        (dx, dy) for dx in range(-2, 3) for dy in range(-2, 3)
        if 0 < abs(dx) + abs(dy) <= 2
    }
    assert _offsets_set("moore", 2) == {
        (dx, dy) for dx in range(-2, 3) for dy in range(-2, 3) if (dx, dy) != (0, 0)
    }
    assert _offsets_set("lateral", 3) == {
        (d, 0) for d in (-3, -2, -1, 1, 2, 3)
    } | {(0, d) for d in (-3, -2, -1, 1, 2, 3)}
    radius3 = _offsets_set("radius", 3)
    assert (2, 2) in radius3 and (3, 1) not in radius3 and (3, 0) in radius3
    assert len(radius3) == 28
    assert len(_offsets_set("von_neumann", 7)) == 112


@pytest.mark.parametrize(("shape", "klass"), [("von_neumann", OrthogonalVonNeumannGrid),
                                              ("moore", OrthogonalMooreGrid)])
@pytest.mark.parametrize(("size", "radius", "torus"), [(12, 3, True), (6, 4, True),
                                                       (9, 2, False)])
def test_vision_matches_mesa_neighbourhoods(shape, klass, size, radius, torus):
    grid = klass((size, size), torus=torus, random=random.Random(0))
    for x, y in [(0, 0), (3, 2), (size - 1, size // 2)]:
        mesa_cells = {c.coordinate for c in grid[(x, y)].get_neighborhood(radius=radius)}
        assert cells_in_vision(x, y, shape, radius, size, size, torus) == mesa_cells


def test_bounded_grid_clips_vision_at_edges():
    cells = cells_in_vision(0, 0, "moore", 1, 5, 5, False)
    assert cells == {(1, 0), (0, 1), (1, 1)}


# ---------------------------------------------------------------- Model II rules


def test_active_kills_only_members_of_the_other_group():
    m = empty_world(residents={"vision": 2, "groups": 2},
                    unrest={"mode": "intergroup", "legitimacy": 0.0})
    killer = m.add_agent("resident", 4, 4, hardship=1.0, group=0)
    friend = m.add_agent("resident", 5, 4, hardship=0.0, group=0)
    enemy = m.add_agent("resident", 4, 5, hardship=0.0, group=1)
    far_enemy = m.add_agent("resident", 8, 8, hardship=0.0, group=1)
    m.step()
    assert killer.state == "active"
    assert not enemy.alive and friend.alive and far_enemy.alive
    assert m.metrics["killings"] == 1
    assert enemy not in list(m.agents)  # the Mesa view went with it
    m.check_invariants()


def test_cloning_and_ageing():
    m = empty_world(residents={"p_clone": 1.0, "max_age": 3})
    parent = m.add_agent("resident", 4, 4, hardship=0.3)
    m.arrays.death_age[parent.slot] = 2
    m.step()
    assert m.metrics["births"] == 1
    kids = [a for a in m.residents if a is not parent]
    assert len(kids) == 1
    kid = kids[0]
    assert kid.hardship == parent.hardship and kid.group == parent.group
    assert max(abs(kid.pos[0] - 4), abs(kid.pos[1] - 4)) == 1  # a neighbouring cell
    for _ in range(3):
        m.step()
    assert not parent.alive  # died of age (age > death_age = 2)
    m.check_invariants()


# ---------------------------------------------------------------- schedules


def test_legitimacy_schedules():
    sc = build_scenario({"unrest": {"legitimacy": 0.9, "legitimacy_schedule": {
        "kind": "linear", "start_tick": 1, "target": 0.2, "rate": 0.01}}})
    assert legitimacy_at(sc.unrest, 0) == 0.9
    assert legitimacy_at(sc.unrest, 1) == pytest.approx(0.89)
    assert legitimacy_at(sc.unrest, 70) == pytest.approx(0.2)
    assert legitimacy_at(sc.unrest, 500) == 0.2
    jump = build_scenario({"unrest": {"legitimacy": 0.9, "legitimacy_schedule": {
        "kind": "step", "start_tick": 77, "target": 0.7}}})
    assert legitimacy_at(jump.unrest, 76) == 0.9 and legitimacy_at(jump.unrest, 77) == 0.7


def test_police_ramp_changes_the_force():
    sc = build_scenario({
        "world": {"width": 20, "height": 20},
        "residents": {"density": 0.5},
        "police": {"density": 0.02, "ramp_to": 0.06, "ramp_start": 5, "ramp_ticks": 10},
    })
    assert police_density_at(sc.police, 4) == 0.02
    assert police_density_at(sc.police, 9) == pytest.approx(0.02 + 0.04 * 0.5)
    m = PeaceSimModel(sc, seed=3)
    counts = []
    for _ in range(20):
        m.step()
        counts.append(m.metrics["police"])
    assert counts[0] == 8 and counts[-1] == 24
    assert counts == sorted(counts)
    m.check_invariants()


def test_peacekeepers_deploy_at_their_tick():
    sc = build_scenario({
        "world": {"width": 20, "height": 20},
        "peacekeepers": {"density": 0.05}, "mission": {"deploy_tick": 3},
    })
    m = PeaceSimModel(sc, seed=1)
    seen = []
    for _ in range(4):
        m.step()
        seen.append(m.metrics["peacekeepers"])
    assert seen == [0, 0, 20, 20]


# ---------------------------------------------------------------- bookkeeping


@pytest.mark.parametrize("overrides", [
    {"world": {"vision_shape": "radius"}, "unrest": {"jail": "off_grid"}},
    {"world": {"vision_shape": "von_neumann", "torus": False},
     "unrest": {"jail": "on_cell", "arrest_ratio": "round", "move_first": True}},
    {"world": {"vision_shape": "lateral"}, "police": {"vision": 3},
     "peacekeepers": {"density": 0.02, "vision": 5}},
    {"residents": {"groups": 2, "p_clone": 0.05, "max_age": 50},
     "unrest": {"mode": "intergroup", "legitimacy": 0.7}, "peacekeepers": {"density": 0.03}},
])
def test_incremental_fields_match_a_recount(overrides):
    data = {"world": {"width": 25, "height": 20}, "unrest": {"legitimacy": 0.7}}
    for k, v in overrides.items():
        data.setdefault(k, {}).update(v)
    m = PeaceSimModel(build_scenario(data), seed=11)
    for _ in range(30):
        m.step()
        m.check_invariants()
    # and the Mesa side agrees with the arrays
    ag = m.arrays
    assert len(m.agents) == int(np.count_nonzero(ag.alive))
    for agent in list(m.agents)[:50]:
        if agent.pos is not None:
            assert agent.cell.coordinate == agent.pos
            assert agent in agent.cell.agents


# ---------------------------------------------------------------- the parameter registry


#: parameters given once or per faction (tests/test_rules_acceptance.py checks they reach the
#: kernels, as ``Layers.scalars``)
PER_FACTION = frozenset({"armed_groups.abusiveness"})


def test_every_numeric_parameter_reaches_the_kernels_under_one_name():
    from sim.config.scenario import Scenario
    from sim.engine.params import CHOICES, Params, build_params, code, kernel_name
    from sim.engine.space import build_geometry

    sc = build_scenario({"model": "peacekeeping", "ddr": {"rate": 0.25},
                         "armed_groups": {"p_lethal": 0.125}, "unrest": {"arrest_ratio": "exact"}})
    prm = build_params(sc, build_geometry(sc)[2])
    assert prm.ddr_rate == 0.25 and prm.armed_groups_p_lethal == 0.125
    assert prm.unrest_arrest_ratio == code("unrest_arrest_ratio", "exact") == cv.RATIO_EXACT
    assert CHOICES["unrest_arrest_ratio"] == ("floor", "round", "exact")
    numeric = (bool, int, float)
    for key, value in Scenario().flat().items():
        if key.startswith("run.") or not isinstance(value, numeric + (str,)):
            continue
        name = kernel_name(key)
        if isinstance(value, str) and name not in CHOICES:
            continue  # free text (names, descriptions)
        if key in PER_FACTION:
            continue  # a number or one per faction: the kernels read it from Layers.scalars
        assert name in Params._fields, f"{key} is not a kernel parameter"
        expected = code(name, sc.get(key)) if name in CHOICES else sc.get(key)
        assert getattr(prm, name) == expected, key
    info = sc.information
    assert prm.tip_reach == info.report_reach + round(info.mobile_reach
                                                      * sc.strategy.early_warning)
    assert prm.tip_delay == round(info.report_delay * (1 - sc.strategy.early_warning))


def test_the_registry_is_generated_from_any_schema_and_pickles_by_reference():
    import pickle
    from typing import Literal

    from pydantic import BaseModel

    from sim.engine import params

    class Inner(BaseModel):
        rate: float = 0.1
        mode: Literal["a", "b"] = "a"
        label: str = "x"
        cap: int | None = None

    class Outer(BaseModel):
        inner: Inner = Inner()
        flag: bool = True

    choices: dict[str, tuple[str, ...]] = {}
    assert params._schema_fields(Outer, choices) == [
        ("inner_rate", "inner.rate", float), ("inner_mode", "inner.mode", int),
        ("flag", "flag", bool),
    ]
    assert choices == {"inner_mode": ("a", "b")}
    assert params.Params.__module__ == "sim.engine.params"
    assert pickle.loads(pickle.dumps(params.Params)) is params.Params  # numba's cache needs it
