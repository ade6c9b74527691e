"""Per-district series (``run.district_series``, ODD 7.14): attacks on civilians, clashes and
peacekeeping units by district and tick, on hand-built worlds and in a whole run.

Districts are ``economy.districts`` blocks per side, numbered bx * k + by; on the 10 x 10
maps below with k = 2, district 0 is x < 5, y < 5, district 1 is x < 5, y >= 5, district 2
is x >= 5, y < 5 and district 3 is x >= 5, y >= 5.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_rules_model2 import ROLES, presence_now, run_combatants, unit, world

from sim import load_scenario, run
from sim.config.outcomes import DISTRICT_METRICS, outcome
from sim.config.scenario import ScenarioError, build_scenario
from sim.engine import layout as K
from sim.model.columns import DISTRICT_COLUMNS, district_columns, metric_columns

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
ON = {"district_series": True}
K2 = {"districts": 2}


def observe(m) -> dict[str, float]:
    """The layer's metric row of now (what the model records after a tick)."""
    return m.layer.metrics(m.census_counts)


def district_values(row: dict[str, float], what: str, n: int = 4) -> list[float]:
    return [row[f"{what}_d{i}"] for i in range(n)]


def test_columns_only_when_asked_and_one_per_district_and_kind():
    sc = build_scenario({"model": "peacekeeping", "economy": {"districts": 3}})
    assert district_columns(sc) == [] and not any("_d0" in c for c in metric_columns(sc))
    sc = build_scenario({"model": "peacekeeping", "economy": {"districts": 3}, "run": ON})
    cols = district_columns(sc)
    assert cols == [t.format(i=i) for t in DISTRICT_COLUMNS for i in range(9)]
    assert metric_columns(sc)[-27:] == cols


def test_district_series_need_the_peacekeeping_model():
    with pytest.raises(ScenarioError, match="run.district_series = true: only with model"):
        build_scenario({"model": "epstein", "run": ON}, "x.toml")


@pytest.mark.parametrize(("attacker", "victim", "district"),
                         [((2, 7), (2, 8), 1), ((7, 2), (8, 2), 2),
                          ((4, 6), (6, 6), 3)])  # attacker in district 1, victim in 3
def test_an_attack_counts_in_the_victims_district_and_nowhere_else(attacker, victim,
                                                                   district):
    m = world(width=10, height=10, armed_groups={"aggression": 1.0, "p_lethal": 1.0},
              protection={"interrupt_rate": 0.0, "deterrence": dict.fromkeys(ROLES, 0.0)},
              economy=K2, run=ON)
    m.add_agent("combatant", *attacker, aggression=1.0)
    m.add_agent("resident", *victim)
    presence_now(m)
    run_combatants(m)
    assert m.events[K.EV_ATTACKS] == 1 and m.events[K.EV_CASUALTIES] == 1  # victim gone
    row = observe(m)
    assert district_values(row, "attacks") == [int(d == district) for d in range(4)]
    assert district_values(row, "clashes") == [0] * 4


def test_a_clash_counts_in_the_combatants_district_even_when_he_dies():
    m = world(width=10, height=10, armed_groups={"p_clash": 1.0, "p_battle_death": 1.0,
                                                 "unit_death_share": 0.0},
              economy=K2, run=ON)
    c = m.add_agent("combatant", 6, 4).slot  # district 2
    unit(m, 6, 6)  # district 3, in the combatant's vision (2)
    presence_now(m)
    run_combatants(m)
    assert m.events[K.EV_CLASHES] == 1 and not m.arrays.alive[c]
    row = observe(m)
    assert district_values(row, "clashes") == [0, 0, 1, 0]
    assert district_values(row, "attacks") == [0] * 4
    assert district_values(row, "units") == [0, 0, 0, 1]


def test_units_are_counted_by_district_and_other_agents_are_not():
    m = world(width=10, height=10, economy=K2, run=ON)
    for xy, role in (((0, 0), "static"), ((4, 4), "patrol"), ((4, 5), "static"),
                     ((9, 9), "engagement"), ((5, 9), "static")):
        unit(m, *xy, role=role)
    m.add_agent("police", 0, 9)
    m.add_agent("resident", 9, 0)
    m.add_agent("combatant", 9, 1)
    row = observe(m)
    assert district_values(row, "units") == [2, 1, 0, 2]
    assert sum(district_values(row, "units")) == row["pk_static"] + row["pk_patrol"] \
        + row["pk_engagement"]


def test_a_tick_clears_the_last_ticks_event_cells():
    m = world(width=10, height=10, armed_groups={"aggression": 1.0, "p_lethal": 0.0},
              protection={"interrupt_rate": 0.0, "deterrence": dict.fromkeys(ROLES, 0.0)},
              economy=K2, run=ON)
    m.add_agent("combatant", 2, 2, aggression=1.0)
    m.add_agent("resident", 2, 3)
    presence_now(m)
    run_combatants(m)
    assert observe(m)["attacks_d0"] == 1
    m.layer.lay.f[K.L_CLASH_AT, 9, 9] = 3.0  # as if a clash had been there
    m.step()  # the tick starts afresh: only its own events count
    row = m.metrics
    assert sum(district_values(row, "attacks")) == row["attacks"]
    assert sum(district_values(row, "clashes")) == row["clashes"] == 0


def test_a_run_with_district_series_keeps_the_other_columns_bit_identical():
    """Outputs only: the same seed gives the same existing columns with and without the
    series, and every tick's districts add up to the tick's attacks, clashes and units."""
    over = {"world.width": 30, "world.height": 30, "economy.districts": 3}
    plain = run(load_scenario(ROOT / "scenarios" / "baseline.toml", overrides=over),
                seed=5, ticks=40).timeseries
    sc = load_scenario(ROOT / "scenarios" / "baseline.toml",
                       overrides={**over, "run.district_series": True})
    ts = run(sc, seed=5, ticks=40).timeseries
    assert list(ts.columns) == [*plain.columns, *district_columns(sc)]
    assert np.array_equal(ts[plain.columns].to_numpy(float), plain.to_numpy(float))
    for what, total in (("attacks", "attacks"), ("clashes", "clashes"),
                        ("units", "peacekeepers")):
        cols = [f"{what}_d{i}" for i in range(9)]
        assert (ts[cols].sum(axis=1) == ts[total]).all(), what
    assert ts["attacks"].sum() > 0 and ts["clashes"].sum() > 0
    spread = (ts[[f"attacks_d{i}" for i in range(9)]].sum() > 0).sum()
    assert spread >= 2  # attacks happen in more than one district


def test_the_outcome_registry_describes_every_district_column():
    assert set(DISTRICT_METRICS) == set(DISTRICT_COLUMNS)
    o = outcome("attacks_d12")
    assert (o.key, o.label, o.better) == ("attacks_d12", "Attacks on civilians, district 12",
                                          "lower")
    assert "district 12" in o.what and "{i}" not in o.what
    assert outcome("units_d0").unit == "units"
    assert outcome("civilian_casualties_d1").label == "civilian_casualties_d1"  # not listed
