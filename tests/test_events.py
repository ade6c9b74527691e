"""Scenario events (ODD 7.28): validated like every key, real interventions in the world,
applied at the start of their tick, recorded, reproducible."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.config.scenario import (
    Event,
    ScenarioError,
    build_scenario,
    check_run_length,
    read_toml,
    scenario_after_events,
)
from sim.engine import layout as K
from sim.io.runner import run
from sim.model.model import PeaceSimModel
from sim.rules.mission import role_counts

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"


def world(events: list[dict] | None = None, **tables: dict) -> dict:
    """The baseline context on a 20x20 map, with ``tables`` merged in and ``events``."""
    data = read_toml(BASELINE)
    data["world"].update(width=20, height=20)
    data["run"]["ticks"] = 30
    data["mission"].update(drawdown_start=None, drawdown_ticks=0)
    for table, values in tables.items():
        data.setdefault(table, {}).update(values)
    if events is not None:
        data["events"] = events
    return data


def scenario(events: list[dict] | None = None, **tables: dict):
    return build_scenario(world(events, **tables), "test.toml")


def error(data: dict) -> str:
    with pytest.raises(ScenarioError) as exc:
        build_scenario(data, "test.toml")
    return str(exc.value)


# --------------------------------------------------------------------------- validation

GOOD = [
    {"tick": 3, "kind": "attack", "settlement": 2, "attackers": 4},
    {"tick": 3, "kind": "attack", "settlement": [5, 6], "attackers": 4, "aggression": 0.5,
     "radius": 1, "faction": 0, "note": "market day"},
    {"tick": 3, "kind": "attack", "district": 15, "attackers": 1},
    {"tick": 4, "kind": "abuse_scandal", "district": 0, "trust_loss": 0.5, "target": "police"},
    {"tick": 5, "kind": "withdraw_units", "share": 1.0, "role": "ddr"},
    {"tick": 6, "kind": "reinforce_armed_group", "fighters": 3},
    {"tick": 7, "kind": "legitimacy_shock", "delta": -0.4},
    {"tick": 8, "kind": "programme_change", "factor": 0.0},
    {"tick": 9, "kind": "programme_change", "programme_rate": 0.1},
    {"tick": 10, "kind": "set", "values": {"strategy.restraint": 0.2,
                                           "strategy": {"transparency": 0.9}}},
]


def test_every_kind_is_accepted_with_its_keys():
    sc = scenario(GOOD)
    assert [e.kind for e in sc.events] == [e["kind"] for e in GOOD]
    assert sc.events[1].settlement == (5, 6)
    after = scenario_after_events(sc)
    assert (after.strategy.restraint, after.strategy.transparency) == (0.2, 0.9)
    assert after.events == [] and sc.strategy.restraint == 0.8  # the file's own is unchanged


@pytest.mark.parametrize("event, expected", [
    ({"tick": 3, "kind": "attack", "settlement": 2, "attackers": 4, "share": 0.5},
     "share = 0.5 is not a key of an attack event"),
    ({"tick": 3, "kind": "attack", "attackers": 4}, "needs exactly one of settlement or "
     "district"),
    ({"tick": 3, "kind": "attack", "settlement": 2}, "an attack event needs attackers"),
    ({"tick": 3, "kind": "attack", "settlement": 2, "attackers": 0},
     "events[0].attackers = 0: Input should be greater than or equal to 1"),
    ({"tick": 3, "kind": "attack", "settlement": 2, "attackers": "4"},
     "events[0].attackers = '4': Input should be a valid integer"),
    ({"tick": 0, "kind": "legitimacy_shock", "delta": 0.1}, "events[0].tick = 0"),
    ({"tick": 3, "kind": "explode"}, "events[0].kind = 'explode': Input should be 'attack'"),
    ({"tick": 3, "kind": "legitimacy_shock", "delta": 0.1, "colour": "red"},
     "events[0].colour: unknown key (value 'red')"),
    ({"tick": 3, "kind": "legitimacy_shock", "delta": 0}, "delta = 0 changes nothing"),
    ({"tick": 3, "kind": "abuse_scandal", "district": 16, "trust_loss": 0.1},
     "events[0].district = 16: the map has 16 districts (economy.districts = 4 per side): "
     "use 0-15"),
    ({"tick": 3, "kind": "abuse_scandal", "district": 1, "trust_loss": 1.5},
     "events[0].trust_loss = 1.5: Input should be less than or equal to 1"),
    ({"tick": 3, "kind": "attack", "settlement": 12, "attackers": 1},
     "events[0].settlement = 12: the map has 12 settlements"),
    ({"tick": 3, "kind": "attack", "settlement": [20, 0], "attackers": 1},
     "events[0].settlement = [20, 0]: outside the 20x20 map"),
    ({"tick": 3, "kind": "reinforce_armed_group", "fighters": 2, "faction": 1},
     "events[0].faction = 1: there are 1 faction(s)"),
    ({"tick": 3, "kind": "withdraw_units", "share": 0.5, "role": "cavalry"},
     "events[0].role = 'cavalry': Input should be 'patrol'"),
    ({"tick": 3, "kind": "programme_change", "programme_rate": 0.1, "factor": 2.0},
     "needs exactly one of programme_rate or factor"),
    ({"tick": 3, "kind": "set", "values": {"strategy.restraint": 1.5}},
     "events[0].values: strategy.restraint = 1.5: Input should be less than or equal to 1"),
    ({"tick": 3, "kind": "set", "values": {"strategy.restrant": 0.5}},
     "strategy.restrant = 0.5: not a scenario parameter; did you mean strategy.restraint"),
    ({"tick": 3, "kind": "set", "values": {"world.width": 30}},
     "world.width = 30: the map is built once"),
    ({"tick": 3, "kind": "set", "values": {"residents.vision": 3}},
     "residents.vision = 3: fixes a neighbourhood built with the world"),
    ({"tick": 3, "kind": "set", "values": {"weapons.stock": 50}},
     "weapons.stock = 50: is read only when the world is built"),
    ({"tick": 3, "kind": "set", "values": {"mechanisms.partners": False}},
     "mechanisms.partners = False: is read only when the world is built"),
    ({"tick": 3, "kind": "set", "values": {"communities.segregation": 0.5}},
     "communities.segregation = 0.5: is read only when the world is built"),
    ({"tick": 3, "kind": "set", "values": {"peacekeepers.density": 0.5}},
     "events[0].values: residents.density + police.density"),
    ({"tick": 3, "kind": "set", "values": {"strategy.roles.patrol": 0.9}},
     "role shares must sum to 1"),
    ({"tick": 9, "kind": "set", "values": {"mission.drawdown_start": 5}},
     "a set event at tick 9 cannot start the drawdown in the past"),
    ({"tick": 3, "kind": "set", "values": {}}, "values is empty"),
])
def test_a_bad_event_is_named_with_its_key_value_and_what_is_allowed(event, expected):
    message = error(world([event]))
    assert message.startswith("test.toml: invalid scenario")
    assert expected in message, message


def test_every_problem_gets_its_own_line():
    message = error(world([
        {"tick": 3, "kind": "abuse_scandal", "district": 99, "trust_loss": 0.1},
        {"tick": 4, "kind": "attack", "settlement": 50, "attackers": 1},
    ]))
    lines = message.splitlines()
    assert lines[0] == "test.toml: invalid scenario (2 problems)"
    assert lines[1].startswith("  events[0].district = 99") and "settlement = 50" in lines[2]


def test_the_epstein_model_takes_only_shocks_and_set_events():
    data = read_toml(ROOT / "scenarios" / "epstein_model1.toml")
    data["events"] = [{"tick": 2, "kind": "legitimacy_shock", "delta": -0.2},
                      {"tick": 3, "kind": "set", "values": {"unrest.legitimacy": 0.5}}]
    build_scenario(data, "e.toml")
    data["events"].append({"tick": 4, "kind": "withdraw_units", "share": 0.5})
    assert "events[2].kind = 'withdraw_units': only with model = \"peacekeeping\"" in error(data)


def test_set_events_are_checked_against_the_scenario_in_force_at_their_tick():
    # each set event alone fits the grid; together (peacekeepers then police) they do not
    events = [{"tick": 5, "kind": "set", "values": {"peacekeepers.density": 0.2}},
              {"tick": 6, "kind": "set", "values": {"police.density": 0.2}}]
    message = error(world(events))
    assert "events[1].values" in message and "exceeds 1" in message
    events[1]["tick"] = 4  # police first, then peacekeepers: the second is the one too many
    assert "events[0].values" in error(world(events))


def test_events_after_the_end_of_the_run_are_refused_where_the_length_is_final():
    sc = scenario([{"tick": 25, "kind": "legitimacy_shock", "delta": 0.1}])
    check_run_length(sc, 25, "test.toml")
    with pytest.raises(ScenarioError, match=r"events\[0\]\.tick = 25: after the run's last "
                       r"tick \(24\)"):
        check_run_length(sc, 24, "test.toml")


def test_a_set_event_that_moves_the_drawdown_is_held_to_the_run_length():
    sc = scenario([{"tick": 5, "kind": "set", "values": {"mission.drawdown_start": 10}}],
                  mission={"exit_window": 5})
    check_run_length(sc, 15, "test.toml")
    with pytest.raises(ScenarioError, match="the run ends before the post-exit window"):
        check_run_length(sc, 12, "test.toml")


def test_the_cli_reports_a_bad_event_with_exit_status_2(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(BASELINE.read_text() + "\n[[events]]\ntick = 5\nkind = \"attack\"\n"
                    "settlement = 1\nattackers = 3\nfighters = 2\n")
    assert main(["run", str(path), "--ticks", "10", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"error: {path}: invalid scenario (1 problem)" in err
    assert "events[0]: fighters = 2 is not a key of an attack event" in err
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- effects


def stepped(sc, weeks: int, seed: int = 3) -> PeaceSimModel:
    m = PeaceSimModel(sc, seed=seed)
    for _ in range(weeks):
        m.step()
    return m


def units(m: PeaceSimModel, kind: int, role: int | None = None) -> np.ndarray:
    a = m.arrays
    sel = a.alive & (a.kind == kind)
    if role is not None:
        sel &= a.role == role
    return np.flatnonzero(sel)


QUIET = {"armed_groups": {"density": 0.0, "reinforcement": 0.0},
         "peacekeepers": {"density": 0.0}, "police": {"density": 0.0, "target": None}}


def test_an_attack_places_fighters_who_attack_through_the_ordinary_rule():
    base = scenario(**QUIET)  # no fighters, no forces: no attack ever
    calm = run(base, ticks=8).timeseries
    assert calm["attacks"].sum() == 0
    ev = {"tick": 5, "kind": "attack", "settlement": 4, "attackers": 6}
    res = run(scenario([ev], **QUIET), ticks=8, keep_model=True)
    ts = res.timeseries
    assert ts["attacks"].iloc[:5].sum() == 0  # nothing before the event's tick
    assert ts["attacks"].iloc[5] >= 3  # unopposed fighters with aggression 1 attack at once
    assert ts["combatants"].iloc[4] == 0 and ts["combatants"].iloc[5] >= 1
    (record,) = res.events
    assert record["tick"] == 5 and record["outcome"]["placed"] == 6
    x, y = record["outcome"]["cell"]
    assert [x, y] == list(divmod(int(res.model.layer.market_cells[4]), 20))
    # the violence of the attacks is where the settlement is
    v = res.model.layer.lay.violence_civilian
    assert v[max(0, x - 8):x + 9, max(0, y - 8):y + 9].sum() > 0.9 * v.sum()
    # with aggression 0 the same fighters do not attack: the rule decides, not the event
    tame = dict(ev, aggression=0.0)
    assert run(scenario([tame], **QUIET), ticks=8).timeseries["attacks"].sum() == 0


def test_an_attack_places_its_fighters_around_the_target():
    sc = scenario(**QUIET)
    m = stepped(sc, 4)
    before = set(units(m, K.COMBATANT))
    (rec,) = m.inject(Event(tick=5, kind="attack", settlement=(10, 10), attackers=5, radius=1))
    new = sorted(set(units(m, K.COMBATANT)) - before)
    assert len(new) == rec["outcome"]["placed"] == 5
    xs, ys = m.arrays.x[new], m.arrays.y[new]
    # within the radius, or just beyond where its cells were full
    assert np.all(np.maximum(abs(xs - 10), abs(ys - 10)) <= 3)
    assert np.all(m.arrays.aggression[new] == 1.0)
    m.check_invariants()


def test_an_abuse_scandal_lowers_trust_in_its_district_only():
    sc = scenario()
    m = stepped(sc, 6)
    a = m.arrays
    district = m.layer.lay.district
    res = np.flatnonzero(a.alive & (a.kind == K.RESIDENT) & (a.x >= 0))
    inside = res[district[a.x[res], a.y[res]] == 5]
    outside = np.setdiff1d(res, inside)
    before = a.trust_pk.copy()
    police_before = a.trust_police.copy()
    (rec,) = m.inject(Event(tick=7, kind="abuse_scandal", district=5, trust_loss=0.4))
    damp = 1 - sc.strategy.transparency_loss_share * sc.strategy.transparency
    assert inside.size == rec["outcome"]["residents"] > 0
    np.testing.assert_allclose(a.trust_pk[inside], before[inside] * (1 - 0.4 * damp))
    assert np.array_equal(a.trust_pk[outside], before[outside])
    assert np.array_equal(a.trust_police, police_before)  # the peacekeepers' scandal
    m.inject(Event(tick=7, kind="abuse_scandal", district=5, trust_loss=0.4, target="police"))
    assert np.all(a.trust_police[inside] < police_before[inside] + 1e-12)
    assert np.array_equal(a.trust_police[outside], police_before[outside])


def test_a_withdrawal_removes_units_for_good():
    sc = scenario()
    m = stepped(sc, 4)
    n0 = units(m, K.PEACEKEEPER).size
    (rec,) = m.inject(Event(tick=5, kind="withdraw_units", share=0.5))
    assert rec["outcome"]["removed"] == round(0.5 * n0)
    left = n0 - round(0.5 * n0)
    assert units(m, K.PEACEKEEPER).size == left
    for _ in range(10):  # losses are replaced up to the smaller force, never back to n0
        m.step()
        assert units(m, K.PEACEKEEPER).size <= left
    patrols = units(m, K.PEACEKEEPER, K.PATROL).size
    others = units(m, K.PEACEKEEPER).size - patrols
    m.inject(Event(tick=15, kind="withdraw_units", share=1.0, role="patrol"))
    assert units(m, K.PEACEKEEPER, K.PATROL).size == 0
    assert units(m, K.PEACEKEEPER).size == others


def test_reinforcements_arrive_near_the_stronghold():
    sc = scenario(**QUIET)
    m = stepped(sc, 2)
    (rec,) = m.inject(Event(tick=3, kind="reinforce_armed_group", fighters=7))
    new = units(m, K.COMBATANT)
    assert new.size == rec["outcome"]["placed"] == 7
    sx, sy = m.layer.strongholds[0]
    r = sc.armed_groups.stronghold_radius
    assert np.all(np.maximum(abs(m.arrays.x[new] - sx), abs(m.arrays.y[new] - sy)) <= r + 2)


def test_a_legitimacy_shock_moves_legitimacy_from_its_tick_on():
    ts = run(scenario([{"tick": 4, "kind": "legitimacy_shock", "delta": -0.3},
                       {"tick": 7, "kind": "legitimacy_shock", "delta": 0.8}]),
             ticks=9).timeseries
    assert list(ts["legitimacy"].round(10)) == [0.9] * 4 + [0.6] * 3 + [1.0] * 3


def test_a_programme_change_sets_the_rate_and_the_programme_areas():
    sc = scenario(economy={"programme_rate": 0.0})
    m = stepped(sc, 3)
    assert m.layer.lay.programme.sum() == 0
    m.inject(Event(tick=4, kind="programme_change", programme_rate=0.05))
    assert m.scenario_config.economy.programme_rate == 0.05
    assert m.params.economy_programme_rate == 0.05
    assert m.layer.lay.programme.sum() > 0
    m.step()
    m.inject(Event(tick=5, kind="programme_change", factor=0.5))
    assert m.params.economy_programme_rate == 0.025


def test_a_set_event_changes_parameters_and_brings_the_world_to_them():
    sc = scenario(mission={"deploy_tick": 0})
    m = stepped(sc, 4)
    shares = {"patrol": 0.0, "static": 0.5, "rapid_response": 0.0, "engagement": 0.5,
              "ddr": 0.0, "police_mentoring": 0.0, "checkpoint": 0.0}
    m.inject(Event(tick=5, kind="set", values={
        "strategy.restraint": 0.25, "strategy.roles": shares, "peacekeepers.density": 0.05,
        "police.density": 0.03}))
    assert m.params.strategy_restraint == 0.25 and m.layer.sc.strategy.restraint == 0.25
    n = units(m, K.PEACEKEEPER).size
    assert n == round(0.05 * 400)
    want = role_counts(n, shares)
    for role, code in K.ROLE_CODES.items():
        assert units(m, K.PEACEKEEPER, code).size == want[role], role
    posted = units(m, K.PEACEKEEPER)
    assert np.all(np.isin(m.arrays.home[posted], m.layer.market_cells))  # every unit posted
    assert units(m, K.POLICE).size == round(0.03 * 400)
    prof = m.arrays.professionalism[units(m, K.POLICE)]
    assert np.all((prof >= 0) & (prof <= 1)) and prof.std() > 0
    m.check_invariants()
    m.step()  # the next tick runs with the new force; nothing replaces or removes it
    assert units(m, K.PEACEKEEPER).size == n


def test_officers_hired_by_a_set_event_meet_leaders_like_those_at_set_up():
    # ODD 7.26: police.leader_dialogue is drawn for new officers too, as at set-up
    sc = scenario(police={"density": 0.01, "leader_dialogue": 0.5})
    m = stepped(sc, 2)
    before = set(units(m, K.POLICE).tolist())
    m.inject(Event(tick=3, kind="set", values={"police.density": 0.2}))
    hired = np.array(sorted(set(units(m, K.POLICE).tolist()) - before))
    assert hired.size == round(0.2 * 400) - len(before)
    share = m.arrays.meets_leaders[hired].mean()
    assert 0.3 < share < 0.7, share
    m.check_invariants()


def test_a_set_event_changes_the_factions_abusiveness_from_its_tick_on():
    # ODD 7.19: abusiveness lives in the layer's scalars once the world is built
    sc = scenario(armed_groups={"factions": 2, "abusiveness": 0.0})
    m = stepped(sc, 2)
    m.inject(Event(tick=3, kind="set", values={"armed_groups.abusiveness": [0.2, 0.7]}))
    got = m.layer.lay.scalars[K.S_ABUSIVENESS0:K.S_ABUSIVENESS0 + 2]
    assert got.tolist() == [0.2, 0.7]
    preyed = 0
    for _ in range(6):
        m.step()
        preyed += int(m.events[K.EV_PREDATIONS])
    assert preyed > 0  # none without the event (abusiveness 0 draws nothing)
    calm = stepped(sc, 8)
    assert calm.layer.lay.scalars[K.S_ABUSIVENESS0:K.S_ABUSIVENESS0 + 2].tolist() == [0, 0]


def test_units_added_by_a_set_event_are_posted_with_the_forces_partiality():
    # ODD 7.25: a fully partial force posts every new static unit in the favoured community
    sc = scenario(mission={"deploy_tick": 0},
                  residents={"groups": 2, "group_share": 0.5},
                  communities={"segregation": 1.0},
                  strategy={"partiality": 1.0, "favoured_group": 1})
    m = stepped(sc, 3)
    layer = m.layer
    favoured = set(layer.market_cells[layer.market_group == 1].tolist())
    assert favoured and len(favoured) < layer.market_cells.size
    before = set(units(m, K.PEACEKEEPER).tolist())
    shares = {"patrol": 0.0, "static": 1.0, "rapid_response": 0.0, "engagement": 0.0,
              "ddr": 0.0, "police_mentoring": 0.0}
    m.inject(Event(tick=4, kind="set", values={"strategy.roles": shares,
                                                "peacekeepers.density": 0.08}))
    posts = m.arrays.home[units(m, K.PEACEKEEPER)]
    assert len(before) < units(m, K.PEACEKEEPER).size
    assert set(posts.tolist()) <= favoured  # re-posted and new units alike
    m.check_invariants()


# --------------------------------------------------------------------------- recording


EVENTS = [
    {"tick": 2, "kind": "attack", "district": 3, "attackers": 5},
    {"tick": 3, "kind": "abuse_scandal", "district": 1, "trust_loss": 0.3},
    {"tick": 4, "kind": "withdraw_units", "share": 0.4},
    {"tick": 4, "kind": "reinforce_armed_group", "fighters": 6},
    {"tick": 5, "kind": "legitimacy_shock", "delta": -0.2},
    {"tick": 6, "kind": "programme_change", "factor": 3.0},
    {"tick": 7, "kind": "set", "values": {"strategy.cultural_competence": 0.9}},
]


def test_events_are_deterministic_and_change_the_run():
    sc = scenario(EVENTS)
    a, b = run(sc, ticks=10), run(sc, ticks=10)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    assert a.events == b.events
    assert [e["kind"] for e in a.events] == [e["kind"] for e in EVENTS]
    plain = run(scenario(), ticks=10).timeseries
    pd.testing.assert_frame_equal(plain.iloc[:2], a.timeseries.iloc[:2])  # same until tick 2
    assert not plain.iloc[2:].equals(a.timeseries.iloc[2:])


def test_an_injected_event_is_the_same_as_a_scheduled_one():
    """What the trainer injects after week 5 acts exactly as the event at tick 6 would."""
    scheduled = run(scenario(EVENTS), ticks=10).timeseries
    m = PeaceSimModel(scenario(), seed=scenario().run.seed)
    for tick in range(1, 11):
        for ev in EVENTS:
            if ev["tick"] == tick:
                m.inject(Event(**ev))
        m.step()
    pd.testing.assert_frame_equal(m.datacollector.get_model_vars_dataframe().reset_index(
        drop=True), scheduled.drop(columns="tick"))


def test_peacesim_run_records_the_events(tmp_path, capsys):
    path = tmp_path / "ev.toml"
    data = world(EVENTS)
    lines = [BASELINE.read_text(), "[[events]]\ntick = 3\nkind = \"legitimacy_shock\"\n"
             "delta = -0.5\nnote = \"coup rumours\"\n"]
    path.write_text("\n".join(lines))
    out = tmp_path / "out"
    args = ["run", str(path), "--set", "world.width=20", "--set", "world.height=20",
            "--ticks", "6", "--out", str(out), "--no-plots"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "events        1 applied (legitimacy_shock); see events.csv" in printed
    table = pd.read_csv(out / "events.csv")
    assert list(table.columns) == ["tick", "kind", "text", "event", "outcome"]
    assert table.iloc[0]["text"].startswith("week 3: legitimacy shock of -0.50")
    assert table.iloc[0]["text"].endswith("(coup rumours)")
    assert json.loads(table.iloc[0]["event"])["delta"] == -0.5
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["events"][0]["outcome"] == {"offset": -0.5}
    assert manifest["parameters"]["events"][0]["note"] == "coup rumours"
    ts = pd.read_csv(out / "timeseries.csv")
    assert ts["legitimacy"].iloc[3] == pytest.approx(0.4)
    assert data  # (the same events are also accepted from a dict)


def test_the_odd_describes_every_kind_and_key():
    text = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    section = text[text.index("**7.28 Events (injects)"):]
    section = section[: section.index("\n## ")]
    for key in Event.model_fields:
        assert f"`{key}`" in section, key


def test_a_scenario_with_events_survives_its_full_dump():
    """Manifests and exercise logs hold ``model_dump(mode="json")``: keys of other kinds
    appear there as null, which is a key left out."""
    from sim.config.scenario import scenario_from_dump

    sc = scenario(GOOD)
    again = scenario_from_dump(json.loads(json.dumps(sc.model_dump(mode="json"))), "dump")
    assert again == sc


def test_a_set_event_may_repeat_the_values_in_force():
    """A lever panel may send every lever at once: values that do not change are accepted,
    even for keys a set event cannot change or a drawdown that started before its tick."""
    values = {"world.width": 20, "mission.drawdown_start": 5, "strategy.restraint": 0.5}
    sc = scenario([{"tick": 9, "kind": "set", "values": values}],
                  mission={"drawdown_start": 5, "exit_window": 5})
    assert scenario_after_events(sc).strategy.restraint == 0.5
    values["world.width"] = 21
    assert "world.width = 21: the map is built once" in error(world(
        [{"tick": 9, "kind": "set", "values": values}],
        mission={"drawdown_start": 5, "exit_window": 5}))
