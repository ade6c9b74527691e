"""Rival factions and communities (ODD 7.25), police capacity and dialogue (ODD 7.26) and
community feedback for the adaptive review (ODD 7.27), each rule on a hand-built tiny world:
the formula as its docstring states it, and what it does among a few agents. Probabilities
are set to 0 or 1 where the outcome should be certain; rates are checked against binomial
standard errors (``Z`` of them)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_rules_model2 import (
    lay,
    live_tips,
    presence_now,
    run_combatants,
    run_population,
    run_transitions,
    run_trust,
    unit,
    within,
    world,
)

from sim.config.scenario import ScenarioError, build_scenario
from sim.engine import layout as K
from sim.engine.calls import call
from sim.engine.layer_tick import police_phase, units_phase
from sim.rules import factions as fac
from sim.rules import feedback as fb
from sim.rules import police as pol
from sim.rules.armed_groups import attack
from sim.rules.trust import seen

TWO = {"groups": 2, "density": 0.0, "vision": 2}

# =============================================================== rival factions (ODD 7.25)


def rival_world(**sections):
    """Two factions that are rivals: fighter of faction 0 at (5, 5), of faction 1 at (6, 6).
    Nobody attacks civilians; a clash kills both sides."""
    ag = {"factions": 2, "rivalry": 1.0, "p_battle_death": 1.0, "p_crossfire": 0.0}
    ag.update(sections.pop("armed_groups", {}))
    m = world(armed_groups=ag, **sections)
    a = m.add_agent("combatant", 5, 5, faction=0).slot
    b = m.add_agent("combatant", 6, 6, faction=1).slot
    return m, a, b


def test_rival_fighters_clash_as_battle_violence_not_attacks_on_civilians():
    m, a, b = rival_world(residents=TWO)
    r = m.add_agent("resident", 9, 9, group=1).slot  # out of the crossfire radius
    presence_now(m)
    run_combatants(m)
    ev = m.events
    assert ev[K.EV_RIVAL_CLASHES] == 1  # the first to act engaged; both died
    assert ev[K.EV_BATTLE_DEATHS] == 2
    assert not m.arrays.alive[a] and not m.arrays.alive[b]
    assert ev[K.EV_ATTACKS] == 0 and ev[K.EV_CASUALTIES] == 0 and ev[K.EV_CROSSFIRE] == 0
    assert lay(m).violence_battle.sum() == pytest.approx(2.0)  # violence.per_clash
    assert lay(m).violence_civilian.sum() == 0.0
    assert m.arrays.alive[r]
    assert ev[K.EV_CLASHES] == 0  # a clash with security forces is another event


@pytest.mark.parametrize("setting", [{"armed_groups": {"rivalry": 0.0}},
                                     {"mechanisms": {"rival_clashes": False}},
                                     {"same_faction": True}])
def test_no_rival_clash_without_rivalry_or_between_comrades(setting):
    setting = dict(setting)
    same = setting.pop("same_faction", False)
    m, a, b = rival_world(**setting)
    if same:
        m.arrays.set("faction", b, 0)
    presence_now(m)
    run_combatants(m)
    assert m.events[K.EV_RIVAL_CLASHES] == 0 and m.events[K.EV_BATTLE_DEATHS] == 0
    assert m.arrays.alive[a] and m.arrays.alive[b]


def test_engage_probability_is_rivalry_times_one_minus_perceived_risk():
    m = world(armed_groups={"factions": 3, "rivalry": 0.4})
    prm = m.params
    assert fac.engage_probability(2.0, 0.25, prm) == pytest.approx(0.4 * 0.75)
    assert fac.engage_probability(0.0, 0.25, prm) == -1.0  # no rival in vision: no draw
    comb = np.zeros((3, 2, 2))
    comb[0, 1, 1], comb[1, 1, 1], comb[2, 1, 1] = 5.0, 2.0, 3.0
    assert fac.rivals_in_vision(comb, 0, 1, 1, prm) == 5.0  # factions 1 and 2
    assert fac.rivals_in_vision(comb, 2, 1, 1, prm) == 7.0


def test_rival_clash_rate_and_security_presence_damps_it():
    # a 5 x 5 map inside every fighter's vision; no deaths: each fighter's turn is a trial
    small = {"width": 5, "height": 5}
    ag = {"factions": 2, "rivalry": 0.3, "p_battle_death": 0.0, "p_crossfire": 0.0,
          "vision": 4}
    m = world(**small, armed_groups=ag)
    m.add_agent("combatant", 0, 0, faction=0)
    m.add_agent("combatant", 4, 4, faction=1)
    presence_now(m)
    n = 1500
    for _ in range(n):
        run_combatants(m)
    assert within(int(m.events[K.EV_RIVAL_CLASHES]), 2 * n, 0.3)
    # a patrol in vision: P_c = 1 - exp(-k S / B) ~ 1 with a large k, so nobody engages
    m2 = world(**small, armed_groups={**ag, "rivalry": 1.0, "risk_constant": 100.0})
    m2.add_agent("combatant", 0, 0, faction=0)
    m2.add_agent("combatant", 4, 4, faction=1)
    unit(m2, 2, 2, role="patrol")
    presence_now(m2)
    for _ in range(200):
        run_combatants(m2)
    assert m2.events[K.EV_RIVAL_CLASHES] == 0


def test_crossfire_hits_a_bystander_near_the_clash_counted_by_group():
    # a 7 x 7 map inside every fighter's vision: whoever acts first, both engage in turn
    m = world(width=7, height=7, residents=TWO,
              armed_groups={"factions": 2, "rivalry": 1.0, "p_battle_death": 0.0,
                            "p_crossfire": 1.0, "p_lethal": 1.0, "crossfire_radius": 1,
                            "vision": 6})
    m.add_agent("combatant", 3, 3, faction=0)
    m.add_agent("combatant", 4, 4, faction=1)
    near = m.add_agent("resident", 2, 2, group=1).slot  # next to (3, 3), 2 cells from (4, 4)
    presence_now(m)
    run_combatants(m)
    ev = m.events
    assert ev[K.EV_RIVAL_CLASHES] == 2
    assert ev[K.EV_CROSSFIRE] == 1 and ev[K.EV_CASUALTIES] == 1  # one bystander, killed
    assert ev[K.EV_CASUALTIES_G1] == 1 and ev[K.EV_CASUALTIES_G0] == 0
    assert not m.arrays.alive[near]
    assert lay(m).violence_civilian[2, 2] == pytest.approx(1.0)  # violence.per_attack
    assert lay(m).victim_ev1[2, 2] == 1.0  # an unprotected victimisation of group 1, seen
    assert ev[K.EV_ATTACKS] == 0


def test_crossfire_spares_residents_beyond_its_radius():
    m, _, _ = rival_world(armed_groups={"p_crossfire": 1.0, "p_lethal": 1.0,
                                        "p_battle_death": 0.0, "crossfire_radius": 1})
    far = m.add_agent("resident", 9, 5).slot  # 3 cells from either fighter
    presence_now(m)
    run_combatants(m)
    assert m.events[K.EV_RIVAL_CLASHES] >= 1 and m.events[K.EV_CROSSFIRE] == 0
    assert m.arrays.alive[far]


# =============================================================== communities (ODD 7.25)


def test_segregation_puts_each_community_in_its_part_of_the_map():
    res = {"groups": 2, "density": 0.6, "vision": 2, "group_share": 0.4}
    m = world(width=20, height=20, residents=res, communities={"segregation": 1.0})
    a = m.arrays
    rs = np.flatnonzero(a.alive & (a.kind == K.RESIDENT))
    g, x = a.group[rs], a.x[rs]
    assert (x[g == 0] < 8).all() and (x[g == 1] >= 8).all()  # the line at 0.4 x 20
    mixed = world(width=20, height=20, residents=res)
    a = mixed.arrays
    rs = np.flatnonzero(a.alive & (a.kind == K.RESIDENT))
    assert 0 < np.mean(a.group[rs][a.x[rs] < 8]) < 1  # without segregation: mixed
    # the community of every cell: the majority near it
    assert (lay(m).community[:5] == 0).all() and (lay(m).community[12:] == 1).all()


def test_each_community_has_its_own_hardship_and_trust():
    res = {"groups": 2, "density": 0.6, "vision": 2}
    m = world(width=20, height=20, residents=res,
              communities={"hardship_group1": 0.3, "trust_pk_group1": -0.3,
                           "trust_police_group0": 0.2},
              trust={"initial_sd": 0.0, "initial_pk": 0.4, "initial_police": 0.3})
    a = m.arrays
    rs = np.flatnonzero(a.alive & (a.kind == K.RESIDENT))
    g1 = a.group[rs] == 1
    assert g1.any() and (~g1).any()
    assert (a.hardship[rs][g1] >= 0.3).all() and (a.hardship[rs][~g1] < 0.3).any()
    assert np.allclose(a.trust_pk[rs][g1], 0.1) and np.allclose(a.trust_pk[rs][~g1], 0.4)
    assert np.allclose(a.trust_police[rs][g1], 0.3)
    assert np.allclose(a.trust_police[rs][~g1], 0.5)
    prm = m.params
    assert fac.group_hardship(0.9, 1, prm) == 1.0 and fac.group_hardship(0.5, 0, prm) == 0.5
    assert fac.group_trust(1, prm) == pytest.approx((0.1, 0.3))
    assert fac.group_trust(0, prm) == pytest.approx((0.4, 0.5))
    one = world().params  # one group: the context's values, untouched
    assert fac.group_hardship(0.25, 1, one) == 0.25
    assert fac.group_trust(1, one) == (one.trust_initial_pk, one.trust_initial_police)


def test_children_and_returnees_carry_their_communitys_offsets():
    m = world(residents=TWO, population={"birth_rate": 1.0},
              communities={"hardship_group1": 1.0})
    m.add_agent("resident", 5, 5, group=1)
    run_population(m)
    a = m.arrays
    kids = [s for s in range(m.capacity) if a.alive[s] and (a.x[s], a.y[s]) != (5, 5)]
    assert len(kids) == 1 and a.group[kids[0]] == 1 and a.hardship[kids[0]] == 1.0
    back = world(residents={**TWO, "group_share": 0.0}, population={"return_rate": 1.0},
                 communities={"trust_pk_group1": 0.5, "trust_police_group1": -0.3})
    back.meta[K.META_ABROAD] = 1
    run_population(back)
    a = back.arrays
    (r,) = np.flatnonzero(a.alive)
    assert a.group[r] == 1
    assert a.trust_pk[r] == pytest.approx(0.9) and a.trust_pk0[r] == pytest.approx(0.9)
    assert a.trust_police[r] == pytest.approx(0.0)


@pytest.mark.parametrize(("factions", "own", "group", "joins", "faction"), [
    (1, True, 1, False, None),  # faction 0 preys on group 1 and recruits only from group 0
    (1, True, 0, True, 0),
    (2, True, 1, True, 1),  # group 1 has its own militia
    (1, False, 1, True, 0),  # recruit_own_group off: anyone joins any faction
])
def test_factions_recruit_from_their_own_community(factions, own, group, joins, faction):
    m = world(residents=TWO,
              armed_groups={"factions": factions, "recruit_rate": 1.0, "trust_damping": 0.0,
                            "legitimacy_damping": 0.0},
              communities={"recruit_own_group": own},
              unrest={"legitimacy": 0.0}, economy={"initial": 0.0, "market_bonus": 0.0})
    m.add_agent("combatant", 5, 5, faction=0)
    r = m.add_agent("resident", 6, 5, hardship=1.0, group=group).slot
    presence_now(m)
    run_transitions(m, 0.0)
    assert m.events[K.EV_RECRUITS] == int(joins)
    assert (m.arrays.kind[r] == K.COMBATANT) == joins
    if joins:
        assert m.arrays.faction[r] == faction


def test_the_communities_table_needs_two_groups():
    data = {"model": "peacekeeping", "communities": {"segregation": 0.5}}
    with pytest.raises(ScenarioError, match="communities.segregation.*residents.groups = 2"):
        build_scenario(data)
    build_scenario({**data, "residents": {"groups": 2}})


# =============================================================== partiality (ODD 7.25)


@pytest.mark.parametrize(("partiality", "interrupted"), [(0.0, (1, 1)), (1.0, (1, 0)),
                                                         (0.5, None)])
def test_a_partial_force_lets_attacks_on_the_other_community_happen(partiality, interrupted):
    rate = 2.0 if interrupted is None else 100.0  # 100: certain whenever capacity > 0
    m = world(residents=TWO, strategy={"partiality": partiality, "favoured_group": 0},
              armed_groups={"p_lethal": 0.0},
              protection={"interrupt_radius": 1, "interrupt_rate": rate})
    g0 = m.add_agent("resident", 3, 5, group=0).slot
    g1 = m.add_agent("resident", 7, 5, group=1).slot
    unit(m, 3, 6, role="patrol")
    unit(m, 7, 6, role="patrol")
    presence_now(m)
    cap = lay(m).interrupt[3, 5]
    assert cap == lay(m).interrupt[7, 5] > 0
    assert fac.protected_capacity(cap, 1, m.params) == pytest.approx(cap * (1 - partiality))
    assert fac.protected_capacity(cap, 0, m.params) == cap
    n = 600 if interrupted is None else 1
    counts = []
    for v in (g0, g1):
        before = int(m.events[K.EV_INTERRUPTED])
        for _ in range(n):
            call(attack, m.ag, m.cells, m.geometry, m.params, lay(m).packed, m.rng_state, v,
                 m.free_stack, m.meta, m.events)
        counts.append(int(m.events[K.EV_INTERRUPTED]) - before)
    if interrupted is None:  # the other community gets half the capacity: 1 - exp(-2 c / 2)
        assert within(counts[0], n, 1 - math.exp(-2.0 * cap))
        assert within(counts[1], n, 1 - math.exp(-2.0 * cap * 0.5))
    else:
        assert tuple(counts) == interrupted
        assert lay(m).victim_ev1[7, 5] == 1 - interrupted[1]


def test_partial_rapid_response_goes_to_the_favoured_communitys_violence():
    def goes_east(partiality):
        m = world(width=15, height=11, residents=TWO,
                  strategy={"partiality": partiality, "favoured_group": 0, "rr_speed": 6,
                            "roles": {"rapid_response": 1.0}, "step_samples": 200})
        lay(m).community[8:] = 1.0  # the east is community 1's
        lay(m).violence_civilian[2, 5] = 1.0  # violence in community 0's area ...
        lay(m).violence_civilian[12, 5] = 2.0  # ... and twice as much in community 1's
        u = m.add_agent("peacekeeper", 7, 5, role="rapid_response").slot
        perm = np.empty(m.capacity, np.int64)
        call(units_phase, m.ag, m.cells, m.geometry, m.params, lay(m).packed, m.rng_state,
             perm, m.meta, 0)
        return m.arrays.x[u] > 7

    assert goes_east(0.0)  # impartial: the worst violence
    assert not goes_east(0.7)  # 2 x 0.3 < 1: the favoured community's first
    prm = world(residents=TWO, strategy={"partiality": 0.7, "favoured_group": 1}).params
    assert fac.attention(1.0, prm) == 1.0 and fac.attention(0.0, prm) == pytest.approx(0.3)
    assert fac.attention(0.0, world(strategy={"partiality": 0.7}).params) == 1.0  # one group


def test_partial_posts_go_to_the_favoured_communitys_settlements():
    markets = np.array([3, 8, 20, 41])
    groups = np.array([0, 1, 1, 0], np.int8)
    gen = np.random.default_rng(0)
    assert {fac.post_market(markets, groups, 1, 1.0, gen) for _ in range(50)} == {8, 20}
    # impartial: the very draws of an unbiased choice
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    assert [fac.post_market(markets, groups, 1, 0.0, a) for _ in range(20)] == \
        [int(b.choice(markets)) for _ in range(20)]
    # a deployed partial force in a segregated two-community world
    m = world(width=20, height=20, residents={"groups": 2, "density": 0.5, "vision": 2},
              communities={"segregation": 1.0}, economy={"markets": 0.05},
              strategy={"partiality": 1.0, "favoured_group": 1,
                        "roles": {"static": 0.5, "engagement": 0.5}},
              peacekeepers={"density": 0.05})
    a = m.arrays
    units = np.flatnonzero(a.alive & (a.kind == K.PEACEKEEPER))
    assert units.size == 20
    assert (lay(m).community.ravel()[a.home[units]] == 1).all()


def test_partiality_moves_trust_only_through_what_residents_see():
    def trust_after(partiality, events):
        m = world(residents=TWO, strategy={"partiality": partiality, "favoured_group": 0},
                  trust={"partiality_loss": 0.5})
        r = m.add_agent("resident", 5, 5, group=1, trust_pk=0.6, trust_pk0=0.6).slot
        presence_now(m)
        for plane, value in events.items():
            getattr(lay(m), plane)[5, 6] = value
        run_trust(m)
        return m.arrays.trust_pk[r]

    assert trust_after(1.0, {}) == pytest.approx(0.6)  # nothing seen: no change, however partial
    seen_partial = trust_after(1.0, {"protect_ev": 1.0, "victim_ev1": 1.0})
    assert seen_partial == trust_after(0.0, {"protect_ev": 1.0, "victim_ev1": 1.0})
    assert seen_partial < 0.6


# =============================================================== police capacity (ODD 7.26)


def test_equipment_raises_each_officers_arrest_weight():
    m = world(police={"arrest_base": 0.5, "equipment": 0.5, "equipment_arrest_gain": 2.0},
              armed_groups={"vision": 2})
    m.add_agent("police", 5, 5, professionalism=0.5)
    presence_now(m)
    assert pol.arrest_weight(0.5, m.params) == pytest.approx(2.0)
    assert lay(m).police_arrest[5, 5] == pytest.approx(2.0)  # (0.5 + 0.5) (1 + 2 x 0.5)
    assert lay(m).police_arrest[3, 3] == pytest.approx(2.0) and lay(m).police_arrest[2, 2] == 0
    bare = world(police={"arrest_base": 0.5}, armed_groups={"vision": 2})
    bare.add_agent("police", 5, 5, professionalism=0.5)
    presence_now(bare)
    assert lay(bare).police_arrest[5, 5] == pytest.approx(1.0)


@pytest.mark.parametrize("equipment", [0.0, 1.0])
def test_equipment_speeds_up_training_under_mentoring(equipment):
    m = world(police={"mentoring_gain": 0.1, "equipment": equipment,
                      "equipment_training_gain": 1.5, "professionalism_decay": 0.05},
              strategy={"mentor_radius": 1})
    trained = m.add_agent("police", 5, 5, professionalism=0.2).slot
    alone = m.add_agent("police", 9, 9, professionalism=0.2).slot
    m.add_agent("peacekeeper", 5, 6, role="police_mentoring", home=trained)
    presence_now(m)
    call(police_phase, m.ag, m.params, lay(m).mentor, m.meta)
    g = 0.1 * (1 + 1.5 * equipment)
    assert pol.training_gain(m.params) == pytest.approx(g)
    assert m.arrays.professionalism[trained] == pytest.approx(0.2 + g * 0.8)
    assert m.arrays.professionalism[alone] == pytest.approx(0.2 * 0.95)  # decay: no change


# =============================================================== police dialogue (ODD 7.26)


def forum_world(share=1.0, leader_xy=(7, 7), officer_xy=(11, 7), **sections):
    """A combatant at (5, 5) seen by a resident at (6, 5) who trusts the mission (0.9) but
    reaches no unit, and distrusts the police (0.1); an officer who meets leaders, beyond the
    resident's report_reach; a leader between them."""
    sec = {"trust": {"p_tip": 1.0, "tip_threshold": 0.5, "legitimacy_reporting": 0.0,
                     "leader_radius": 4},
           "information": {"tip_noise": 0, "report_reach": 3, "mobile_reach": 0,
                           "community_reach": 0},
           "police": {"leader_dialogue": share, "dialogue_radius": 5}}
    for name, table in sections.items():
        sec.setdefault(name, {}).update(table)
    m = world(width=15, height=15, **sec)
    m.add_agent("combatant", 5, 5)
    r = m.add_agent("resident", 6, 5, trust_pk=0.9, trust_pk0=0.9, trust_police=0.1,
                    trust_police0=0.1).slot
    leader = m.add_agent("resident", *leader_xy, leader=1, trust_pk=0.3, trust_pk0=0.3).slot
    m.add_agent("police", *officer_xy, dialogue=1, professionalism=0.5)
    presence_now(m)
    return m, r, leader


def test_a_leader_in_a_police_forum_passes_a_tip_on_to_the_police():
    m, r, _ = forum_world()
    assert lay(m).relay[6, 5] > 0 and lay(m).police_reach[6, 5] == 0
    run_trust(m)
    ev = m.events
    assert ev[K.EV_TIPS] == 1 and ev[K.EV_TIPS_POLICE] == 1 and ev[K.EV_TIPS_RELAYED] == 1
    assert ev[K.EV_TIPS_LOST] == 0 and ev[K.EV_TIPS_G0] == 1
    (tip,) = live_tips(m)
    assert tip[K.T_FORCE] == K.POLICE_FORCE


@pytest.mark.parametrize("setting", [
    {"share": 0.0},  # no forums
    {"mechanisms": {"police_dialogue": False}},  # knocked out
    {"officer_xy": (14, 14)},  # the officer is too far from the leader: no forum
    {"leader_xy": (11, 11)},  # the leader is too far from the resident
])
def test_without_a_forum_within_reach_the_tip_is_lost(setting):
    m, _, _ = forum_world(**setting)
    assert lay(m).relay[6, 5] == 0
    run_trust(m)
    assert m.events[K.EV_TIPS_LOST] == 1 and m.events[K.EV_TIPS] == 0


def test_dialogue_changes_where_tips_go_not_trust():
    with_forum, r1, l1 = forum_world()
    without, r2, l2 = forum_world(share=0.0)
    for _ in range(5):
        run_trust(with_forum)
        run_trust(without)
    a, b = with_forum.arrays, without.arrays
    assert with_forum.events[K.EV_TIPS_POLICE] == 5 and without.events[K.EV_TIPS_POLICE] == 0
    for x, y in ((r1, r2), (l1, l2)):
        assert a.trust_police[x] == b.trust_police[y]
        assert a.trust_pk[x] == b.trust_pk[y]


def test_route_through_a_forum_leader():
    prm = world(trust={"tip_threshold": 0.5}).params
    m, p = K.MISSION, K.POLICE_FORCE
    assert pol.route(0.9, 0.1, True, False, prm) == (m, False)  # trusts the mission, reaches it
    assert pol.route(0.9, 0.1, False, False, prm) == (p, True)  # no unit: via the leader
    assert pol.route(0.6, 0.8, True, True, prm) == (p, False)  # trusts police more: directly
    assert pol.route(0.6, 0.8, True, False, prm) == (p, True)  # ... or via the leader
    assert pol.route(0.2, 0.3, True, True, prm) == (p, True)  # distrusts both: tells its leader


def test_officers_who_meet_leaders_are_drawn_only_when_forums_run():
    res = {"density": 0.3, "vision": 2}
    off = world(width=20, height=20, residents=res, police={"density": 0.1})
    on = world(width=20, height=20, residents=res,
               police={"density": 0.1, "leader_dialogue": 1.0})
    officers = np.flatnonzero(on.arrays.alive & (on.arrays.kind == K.POLICE))
    assert on.arrays.dialogue[officers].all() and not off.arrays.dialogue.any()
    # the draw comes last: everything drawn before it is the same
    assert np.array_equal(on.arrays.professionalism, off.arrays.professionalism)


# =============================================================== community feedback (ODD 7.27)


def test_willingness_and_what_a_resident_tells():
    prm = world(trust={"tip_threshold": 0.5, "leader_voice": 4.0,
                       "report_other_group": 0.25}).params
    assert fb.willingness(0.8, 0.5, True, False, False, prm) == pytest.approx(0.6 * 0.5)
    assert fb.willingness(0.8, 0.0, False, False, False, prm) == 0.0  # no unit in reach
    assert fb.willingness(0.4, 0.0, True, False, False, prm) == 0.0  # does not trust enough
    assert fb.willingness(0.1, 0.9, False, True, True, prm) == 4.0  # an engaged leader speaks
    assert fb.willingness(0.1, 0.0, True, True, False, prm) == 0.0  # a leader nobody met
    assert fb.violence_told(1.0, 2.0, 0.0, prm) == pytest.approx(seen(1.0) + 0.25 * seen(2.0))


def feedback_world(community_feedback=True, adaptive=True):
    """Four districts (2 x 2 blocks of 6 x 6 cells). Four posts in district 0. District 3:
    an engagement unit meets a leader. District 1: residents who distrust the mission and a
    leader nobody meets."""
    m = world(width=12, height=12,
              strategy={"adaptive": adaptive, "review_interval": 1, "adapt_share": 0.5,
                        "engagement_radius": 2},
              economy={"districts": 2, "markets": 0.0},
              # no trust gained at the meeting: trust moves only with the violence seen
              trust={"tip_threshold": 0.5, "leader_voice": 5.0, "engagement_gain": 0.0},
              mechanisms={"community_feedback": community_feedback})
    for x in range(4):
        unit(m, x, 0)
    unit(m, 9, 9, role="engagement")
    m.add_agent("resident", 8, 8, leader=1, trust_pk=0.3, trust_pk0=0.3)  # district 3
    m.add_agent("resident", 10, 10, trust_pk=0.2, trust_pk0=0.2)
    m.add_agent("resident", 2, 8, leader=1, trust_pk=0.3, trust_pk0=0.3)  # district 1
    m.add_agent("resident", 3, 10, trust_pk=0.2, trust_pk0=0.2)
    return m


def review_after_equal_violence(m):
    """Both districts 1 and 3 see the same violence; the review reads what it was told."""
    presence_now(m)
    run_trust(m)
    m.layer.review()  # the first review only records
    assert m.layer.units_moved == 0
    for x, y in ((9, 10), (2, 9)):  # an unprotected attack in each: the same for both
        lay(m).victim_ev[x, y] = 2.0
    lay(m).violence[6:, 6:] = 1.0  # the map's violence, equal in both (the omniscient view)
    lay(m).violence[:6, 6:] = 1.0
    run_trust(m)
    m.layer.review()
    district = lay(m).district.ravel()
    posted = [a for a in m.peacekeepers if m.arrays.role[a.slot] == K.STATIC]
    return sorted(int(district[m.arrays.home[a.slot]]) for a in posted)


def test_review_moves_units_toward_the_district_whose_leaders_report_violence():
    m = feedback_world()
    assert review_after_equal_violence(m) == [0, 0, 3, 3]  # none to the silent district 1
    assert m.layer.units_moved == 2


def test_omniscient_review_would_go_to_the_silent_district_too():
    m = feedback_world(community_feedback=False)
    assert review_after_equal_violence(m) == [0, 0, 1, 3]


def test_only_an_adaptive_mission_is_told_anything():
    m = feedback_world()
    m2 = feedback_world(adaptive=False)
    for model in (m, m2):
        presence_now(model)
        lay(model).victim_ev[9, 10] = 1.0  # seen by the engaged leader at (8, 8) only
        run_trust(model)
    assert lay(m).reported[8, 8] == pytest.approx(5.0 * seen(1.0))  # the leader's voice
    assert lay(m).reported.sum() == lay(m).reported[8, 8]  # the others distrust the mission
    assert lay(m).voice_n[8, 8] == 1.0 and lay(m).voice_trust[8, 8] > 0
    assert lay(m2).reported.sum() == 0.0 and lay(m2).voice_n.sum() == 0.0


def test_district_feedback_sums_reports_and_keeps_the_last_trust_where_nobody_spoke():
    district = np.array([[0, 0], [1, 1]])
    reported = np.array([[1.0, 2.0], [0.0, 0.5]])
    voice_t = np.array([[0.6, 0.0], [0.0, 0.0]])
    voice_n = np.array([[2.0, 0.0], [0.0, 0.0]])
    v, t = fb.district_feedback(district, reported, voice_t, voice_n, 3, None, 0.4)
    assert v.tolist() == [3.0, 0.5, 0.0]
    assert t.tolist() == pytest.approx([0.3, 0.4, 0.4])  # prior where no leader spoke
    v, t = fb.district_feedback(district, reported, voice_t, voice_n, 3,
                                np.array([0.9, 0.8, 0.7]), 0.4)
    assert t.tolist() == pytest.approx([0.3, 0.8, 0.7])
