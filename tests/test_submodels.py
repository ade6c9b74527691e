"""Each submodel of the peacekeeping layer on a hand-built small world: known input, known
update (ODD 7.8-7.15). Probabilities are set to 0 or 1 so every outcome is certain."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config.scenario import build_scenario
from sim.model.model import PeaceSimModel
from sim.rules.mission import adaptive_moves, district_need, drawdown_count, role_counts

QUIET = {  # everything that could interfere is switched off
    "armed_groups": {"density": 0.0, "reinforcement": 0.0, "aggression": 0.0, "p_clash": 0.0,
                     "recruit_rate": 0.0, "vision": 2},
    "strategy": {"p_interdict": 0.0, "roles": {"static": 1.0}},
    "ddr": {"rate": 0.0, "relapse_rate": 0.0},
    "police": {"density": 0.0, "p_arrest_combatant": 0.0, "vision": 2},
    "peacekeepers": {"density": 0.0, "act_as_cops": False, "vision": 2},
    "residents": {"density": 0.0, "vision": 2},
    "unrest": {"movement": False, "legitimacy": 1.0},
    "trust": {"memory": 1.0, "p_tip": 0.0, "leader_share": 0.0},
    "economy": {"programme_rate": 0.0, "job_loss": 0.0, "initial": 0.5},
    "violence": {"flee_threshold": 1000.0},
    "weapons": {"stock": 1_000_000, "caches": 0, "supply": 0.0, "hand_in": 1.0},
}


def world(**sections) -> PeaceSimModel:
    data = {"model": "peacekeeping", "world": {"width": 11, "height": 11, "torus": False,
                                               "vision_shape": "moore"}}
    for name, table in QUIET.items():
        data[name] = dict(table)
    for name, table in sections.items():
        data.setdefault(name, {}).update(table)
    return PeaceSimModel(build_scenario(data), seed=0)


def post(m, x, y, role="static", **cols):
    """A peacekeeping unit that holds its own cell."""
    return m.add_agent("peacekeeper", x, y, role=role, home=x * m.height + y, **cols)


# ---------------------------------------------------------------- armed groups (ODD 7.9-7.10)


def test_attack_without_security_kills_a_resident_in_vision():
    m = world(armed_groups={"aggression": 1.0, "p_lethal": 1.0})
    c = m.add_agent("combatant", 5, 5, aggression=1.0)
    r = m.add_agent("resident", 6, 6)
    m.step()
    assert m.metrics["attacks"] == 1 and m.metrics["civilian_casualties"] == 1
    assert not r.alive and c.alive
    assert m.layer.lay.violence.sum() > 0  # the attack left violence behind


def test_security_in_vision_deters_attacks():
    # P_c = 1 - exp(-k S / B) ~ 1 with a huge k: no attack although aggression is 1
    m = world(armed_groups={"aggression": 1.0, "p_lethal": 1.0, "risk_constant": 100.0})
    m.add_agent("combatant", 5, 5, aggression=1.0)
    r = m.add_agent("resident", 6, 6)
    post(m, 4, 4)
    m.step()
    assert m.metrics["attacks"] == 0 and r.alive


def test_interdiction_with_restraint_protects_and_without_harms():
    # hazard p_interdict x capacity of a post = 25: interdiction is certain
    for restraint, harmed in ((1.0, 0), (0.0, 1)):
        m = world(strategy={"p_interdict": 50.0, "restraint": restraint},
                  armed_groups={"p_lethal": 0.0})
        c = m.add_agent("combatant", 5, 5)
        m.add_agent("resident", 5, 6)
        post(m, 3, 3)
        m.step()
        assert c.detained and m.metrics["interdictions"] == 1 and m.metrics["detained"] == 1
        assert m.metrics["harmed_by_security"] == harmed
        assert m.metrics["civilian_casualties"] == 0  # p_lethal 0: injured, not killed


def test_recruitment_needs_a_combatant_in_sight_and_is_blocked_by_trust():
    for trust, joins in ((0.0, True), (1.0, False)):
        m = world(armed_groups={"recruit_rate": 1.0, "trust_damping": 1.0},
                  unrest={"legitimacy": 0.0}, economy={"initial": 0.0, "market_bonus": 0.0})
        m.add_agent("combatant", 5, 5)
        near = m.add_agent("resident", 6, 5, hardship=1.0, trust_pk=trust)
        far = m.add_agent("resident", 10, 10, hardship=1.0)  # sees no combatant
        m.step()
        assert (not near.alive) == joins  # a recruit's resident view is replaced
        assert far.alive
        assert m.metrics["recruits"] == int(joins)


def test_ddr_disarms_near_a_site_and_relapse_depends_on_support():
    m = world(ddr={"rate": 1.0}, armed_groups={"cohesion": 0.0})
    c = m.add_agent("combatant", 5, 5)
    post(m, 5, 7, role="ddr")
    m.step()
    assert not c.alive and m.metrics["disarmed"] == 1 and m.metrics["weapons_collected"] == 1
    assert m.metrics["ex_combatants"] == 1
    for support, relapses in ((0.0, 1), (1.0, 0)):
        m = world(ddr={"relapse_rate": 1.0, "reintegration_support": support},
                  unrest={"legitimacy": 0.0}, economy={"initial": 0.0, "market_bonus": 0.0})
        m.add_agent("resident", 5, 5, hardship=1.0, ex_combatant=True)
        m.step()
        assert m.metrics["relapses"] == relapses


def test_police_arrest_combatants_and_abuse_depends_on_professionalism():
    for prof, abuses in ((1.0, 0), (0.0, 1)):
        # hazard 50 x (arrest_base + prof) >= 25: the arrest is certain
        m = world(police={"p_arrest_combatant": 50.0})
        c = m.add_agent("combatant", 5, 5)
        m.add_agent("police", 5, 6, professionalism=prof)
        m.step()
        assert c.detained and m.metrics["combatant_arrests"] == 1
        assert m.metrics["abuses"] == abuses


# ---------------------------------------------------------------- trust and information (ODD 7.11)


def test_engagement_raises_trust_by_the_documented_amount():
    # local partners no longer multiply engagement: they are actors of their own (ODD 7.21)
    gain, competence, transparency = 0.1, 0.8, 0.4
    m = world(trust={"engagement_gain": gain},
              strategy={"cultural_competence": competence, "local_partners": 0.5,
                        "transparency": transparency, "engagement_radius": 2})
    post(m, 5, 5, role="engagement")
    near = m.add_agent("resident", 6, 6, trust_pk=0.5, trust_pk0=0.5)
    far = m.add_agent("resident", 10, 10, trust_pk=0.5, trust_pk0=0.5)
    m.step()
    g = gain * competence
    assert near.trust_pk == pytest.approx(0.5 + (1 + transparency) * g * 0.5)
    assert far.trust_pk == pytest.approx(0.5)


def test_tips_come_from_trusting_residents_who_see_combatants():
    # a tip counts once it reaches a unit: a post within information.report_reach of the
    # reporter; legitimacy (1 of 2 residents trusts the mission) does not scale reporting here
    # (the combatant moves up to 2 cells before residents report: vision 4 keeps it in sight)
    m = world(trust={"p_tip": 1.0, "tip_threshold": 0.5, "legitimacy_reporting": 0.0},
              strategy={"early_warning": 0.0}, residents={"vision": 4})
    m.add_agent("combatant", 5, 5)
    m.add_agent("resident", 6, 5, trust_pk=1.0, trust_pk0=1.0)
    m.add_agent("resident", 4, 5, trust_pk=0.2, trust_pk0=0.2)
    post(m, 8, 6)
    m.step()
    assert m.metrics["tips"] == 1 and m.metrics["tips_lost"] == 0


def test_residents_flee_violence():
    m = world(violence={"flee_threshold": 0.5, "decay": 0.0, "spread": 0.0})
    r = m.add_agent("resident", 5, 5)
    m.layer.lay.violence_civilian[5, 5] = 10.0
    m.step()
    assert r.pos != (5, 5) and r.displaced


# ---------------------------------------------------------------- livelihoods and police (ODD 7.12)


def test_programmes_employ_and_mentoring_trains_police():
    m = world(economy={"programme_rate": 1.0}, police={"mentoring_gain": 0.1,
                                                       "professionalism_decay": 0.05})
    r = m.add_agent("resident", 2, 2)
    mentored = m.add_agent("police", 5, 5, professionalism=0.5)
    alone = m.add_agent("police", 10, 10, professionalism=0.5)
    m.add_agent("peacekeeper", 5, 6, role="police_mentoring", home=mentored.slot)
    m.step()
    assert r.employed
    assert mentored.professionalism == pytest.approx(0.5 + 0.1 * 0.5)
    assert alone.professionalism == pytest.approx(0.5 - 0.05 * 0.5)


# ---------------------------------------------------------------- mission timeline (ODD 7.14-7.15)


def test_role_counts_split_the_force_exactly():
    counts = role_counts(10, {"patrol": 0.55, "static": 0.25, "ddr": 0.2})
    assert counts == {"patrol": 6, "static": 2, "ddr": 2}  # largest remainder, ties in order
    assert sum(role_counts(75, {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}).values()) == 75


def test_drawdown_abrupt_and_gradual():
    assert drawdown_count(60, 99, 100, 0) == 60
    assert drawdown_count(60, 100, 100, 0) == 0
    assert drawdown_count(60, 100, 100, 10) == 54
    assert drawdown_count(60, 109, 100, 10) == 0
    assert drawdown_count(60, 500, None, 10) == 60


def test_mission_deploys_by_role_and_leaves_on_schedule():
    m = world(peacekeepers={"density": 0.1}, mission={"drawdown_start": 3, "drawdown_ticks": 2,
                                                            "exit_window": 1},
              strategy={"roles": {"patrol": 0.5, "static": 0.5}})
    counts = []
    for _ in range(5):
        m.step()
        counts.append(m.metrics["peacekeepers"])
    assert counts[0] == 12 and m.metrics["pk_patrol"] == 0
    assert counts[2] == 6 and counts[3] == 0 and counts[4] == 0
    assert np.all(np.diff(counts) <= 0)


def test_drawdown_schedule_keeps_the_listed_shares():
    sched = [(0, 0.75), (10, 0.5), (20, 0.0)]
    assert drawdown_count(60, 99, 100, 0, sched) == 60
    assert drawdown_count(60, 100, 100, 0, sched) == 45
    assert drawdown_count(60, 109, 100, 0, sched) == 45
    assert drawdown_count(60, 110, 100, 0, sched) == 30
    assert drawdown_count(60, 120, 100, 0, sched) == 0
    assert drawdown_count(60, 500, 100, 0, [(0, 0.5)]) == 30  # a mission that stays smaller
    m = world(peacekeepers={"density": 0.1},
              mission={"drawdown_start": 2, "drawdown_schedule": [[0, 0.5], [2, 0.0]],
                       "exit_window": 1})
    counts = []
    for _ in range(5):
        m.step()
        counts.append(m.metrics["peacekeepers"])
    assert counts[0] == 12 and counts[2] == 6 and counts[4] == 0
    assert m.layer.exit_tick is not None


def test_district_need_and_adaptive_moves():
    need = district_need(np.array([0.0, 0.0, 0.3, 0.0]), np.zeros(4),
                         np.array([0.5, 0.5, 0.2, 0.5]), np.full(4, 0.5))
    assert np.argmax(need) == 2 and need[2] > 0 and (need[[0, 1, 3]] == 0).all()
    # four units in calm district 0, one already in district 2: half of five moves, to 2
    moves = adaptive_moves(np.array([0, 0, 0, 0, 2]), need, 0.5)
    assert len(moves) == 2 and all(d == 2 for _, d in moves)
    assert {i for i, _ in moves} <= {0, 1, 2, 3}
    assert adaptive_moves(np.array([0, 1]), np.zeros(4), 1.0) == []  # nothing changed


def test_adaptive_review_reposts_units_where_violence_rises_and_trust_falls():
    # the omniscient reading of the map (community feedback, ODD 7.27, is in
    # tests/test_rules_communities.py)
    m = world(strategy={"adaptive": True, "review_interval": 1, "adapt_share": 0.5},
              economy={"districts": 2, "markets": 0.0},
              mechanisms={"community_feedback": False})
    for x in range(0, 4):  # four posts in the south-west district (0)
        post(m, x, 0)
    people = {xy: m.add_agent("resident", *xy, trust_pk=0.6)
              for xy in ((8, 8), (9, 9), (8, 9), (2, 2))}
    m.step()  # first review: a baseline
    assert m.layer.units_moved == 0
    m.layer.lay.violence[6:, 6:] = 1.0  # the north-east district (3) flares up ...
    for (x, _), r in people.items():
        if x >= 6:
            m.arrays.trust_pk[r.slot] = 0.1  # ... and its residents lose trust
    m.step()
    assert m.layer.units_moved == 2
    district = m.layer.lay.district.ravel()
    homes = [int(m.arrays.home[a.slot]) for a in m.peacekeepers]
    assert sorted(int(district[h]) for h in homes) == [0, 0, 3, 3]
    # units walk toward their new posts
    before = {a.unique_id: a.pos for a in m.peacekeepers}
    for _ in range(4):
        m.step()
    moved = [a for a in m.peacekeepers if district[m.arrays.home[a.slot]] == 3]
    assert all(a.pos != before[a.unique_id] for a in moved)


def test_adaptive_off_leaves_posts_alone():
    m = world(economy={"districts": 2, "markets": 0.0})
    for x in range(0, 4):
        post(m, x, 0)
    homes = [int(m.arrays.home[a.slot]) for a in m.peacekeepers]
    m.layer.lay.violence[6:, 6:] = 1.0
    for _ in range(3):
        m.step()
    assert [int(m.arrays.home[a.slot]) for a in m.peacekeepers] == homes
    assert m.layer.units_moved == 0
