"""Checkpoints (ODD 7.22), protection sites and displacement (ODD 7.23) and roads (ODD 7.24)
on hand-built tiny worlds: each rule as its docstring states it, one phase at a time.

The worlds are those of ``tests/test_rules_model2.py``: every process off but the one tested.
Rates are checked against the binomial standard error of enough draws (``Z`` standard
errors).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from test_rules_model2 import (
    lay,
    live_tips,
    presence_now,
    run_combatants,
    run_environment,
    run_trust,
    unit,
    within,
    world,
)

from sim import load_scenario, run
from sim.config.scenario import build_scenario
from sim.engine import layout as K
from sim.engine.calls import call
from sim.engine.layer_tick import checkpoint_phase
from sim.engine.tick import tick
from sim.model.model import PeaceSimModel
from sim.rules import checkpoints as ck
from sim.rules import displacement as dis
from sim.rules import protection as prot
from sim.rules import roads as rd
from sim.rules.armed_groups import attack
from sim.rules.civil_violence import grievance
from sim.rules.peacekeepers import patrol_score

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = {"strategy": {"roles": {"checkpoint": 1.0}}}


def control_now(m) -> None:
    """Presence and the checkpoints' control field, as at step 5 of a tick."""
    presence_now(m)
    call(checkpoint_phase, m.cells, m.params, lay(m).packed)


def run_core(m) -> None:
    """The civil-violence core's tick (moves of residents)."""
    call(tick, m.ag, m.cells, m.geometry, m.params, m.rng_state, float(m.legitimacy), m.order,
         m.free_stack, m.meta, m.events)


def merge(*tables: dict) -> dict:
    out: dict = {}
    for t in tables:
        for section, values in t.items():
            if not isinstance(values, dict):  # a top-level key such as model
                out[section] = values
                continue
            out.setdefault(section, {})
            for k, v in values.items():
                if isinstance(v, dict):
                    out[section].setdefault(k, {}).update(v)
                else:
                    out[section][k] = v
    return out


# =============================================================== checkpoints (ODD 7.22)


def test_checkpoint_is_a_role_with_its_own_weights_and_no_share_by_default():
    m = world(protection={"deterrence": {"checkpoint": 0.7}, "interdiction": {"checkpoint": 0.3}})
    assert K.ROLE_CODES["checkpoint"] == K.CHECKPOINT
    assert prot.deterrence(K.CHECKPOINT, m.params) == pytest.approx(0.7)
    assert prot.interdiction(K.CHECKPOINT, m.params) == pytest.approx(0.3)
    sc = build_scenario({"model": "peacekeeping"})
    assert sc.strategy.roles.checkpoint == 0.0
    assert not ck.checkpoints_on(PeaceSimModel(sc, seed=0).params)


def test_held_probability_passage_and_trade_formulas():
    m = world(**merge(CHECKPOINTS, {"checkpoints": {"slow_rate": 0.4, "trade_cost": 0.5}}))
    prm = m.params
    assert ck.passage_control(0.0, 2.0) == 2.0 and ck.passage_control(3.0, 1.0) == 3.0
    assert ck.held_probability(0.0, 5.0) == 0.0
    assert ck.held_probability(2.0, 0.3) == pytest.approx(1 - math.exp(-0.6))
    assert ck.trade_passage(0.0, prm) == 1.0
    assert ck.trade_passage(2.0, prm) == pytest.approx(1 - 0.5 * (1 - math.exp(-0.8)))


def test_control_field_counts_the_checkpoints_within_radius():
    m = world(**merge(CHECKPOINTS, {"checkpoints": {"radius": 2}}))
    unit(m, 5, 5, role="checkpoint")
    unit(m, 8, 5, role="checkpoint")
    unit(m, 1, 1, role="static")  # not a checkpoint: controls nothing
    control_now(m)
    c = m.cells.control
    assert c[5, 5] == 1 and c[7, 5] == 2 and c[6, 7] == 2 and c[3, 3] == 1
    assert c[2, 5] == 0 and c[5, 8] == 0 and c[1, 1] == 0
    assert c.sum() == 2 * 25


def combatant_world(**checkpoints):
    """A fighter at (5, 5) beside a checkpoint at (5, 6); nothing else acts."""
    m = world(**merge(CHECKPOINTS, {"checkpoints": {"radius": 2, **checkpoints}},
                      {"armed_groups": {"vision": 1}}))
    unit(m, 5, 6, role="checkpoint")
    c = m.add_agent("combatant", 5, 5).slot
    return m, c


@pytest.mark.parametrize("switch", [True, False])
def test_a_checkpoint_stops_fighters_moving_through_it(switch):
    m2 = world(**merge(CHECKPOINTS, {"checkpoints": {"radius": 2, "stop_rate": 50.0,
                                                     "detect_rate": 0.0},
                                     "armed_groups": {"vision": 1},
                                     "mechanisms": {"checkpoints": switch}}))
    unit(m2, 5, 6, role="checkpoint")
    c = m2.add_agent("combatant", 5, 5).slot
    moved = 0
    for _ in range(50):
        control_now(m2)
        x, y = m2.arrays.x[c], m2.arrays.y[c]
        run_combatants(m2)
        moved += (m2.arrays.x[c], m2.arrays.y[c]) != (x, y)
    if switch:
        assert moved == 0 and m2.events[K.EV_CHECKPOINT_STOPS] == 50
        assert m2.events[K.EV_COMBATANT_MOVES] == 0
    else:  # the knock-out: it walks on, and nothing is counted
        assert moved > 0 and m2.events[K.EV_CHECKPOINT_STOPS] == 0
        assert m2.events[K.EV_COMBATANT_MOVES] == moved


def test_a_detected_fighter_becomes_a_fresh_tip_at_its_cell():
    m, c = combatant_world(stop_rate=50.0, detect_rate=50.0, detain_share=0.0)
    control_now(m)
    run_combatants(m)
    assert m.events[K.EV_CHECKPOINT_DETECTIONS] == 1 and m.events[K.EV_CHECKPOINT_STOPS] == 1
    tips = live_tips(m)
    assert len(tips) == 1
    t = tips[0]
    assert (t[K.T_TARGET], t[K.T_UID], t[K.T_X], t[K.T_Y]) == (c, m.arrays.uid[c], 5, 5)
    assert t[K.T_AGE] == 0 and t[K.T_FORCE] == K.MISSION


def test_no_tip_from_a_checkpoint_without_the_information_channel():
    m = world(**merge(CHECKPOINTS, {"checkpoints": {"stop_rate": 50.0, "detect_rate": 50.0,
                                                    "detain_share": 0.0},
                                    "armed_groups": {"vision": 1},
                                    "mechanisms": {"information": False}}))
    unit(m, 5, 6, role="checkpoint")
    m.add_agent("combatant", 5, 5)
    control_now(m)
    run_combatants(m)
    assert m.events[K.EV_CHECKPOINT_DETECTIONS] == 1 and len(live_tips(m)) == 0


def test_a_detected_fighter_may_be_held_at_the_checkpoint():
    m, c = combatant_world(detect_rate=50.0, detain_share=1.0)
    control_now(m)
    run_combatants(m)
    assert m.events[K.EV_CHECKPOINT_DETENTIONS] == 1
    assert m.arrays.state[c] == K.DETAINED and m.arrays.x[c] < 0
    assert len(live_tips(m)) == 0


@pytest.mark.parametrize("rate, checkpoints", [(0.3, 1), (0.3, 2), (1.0, 1)])
def test_detection_rate_is_one_minus_exp_of_rate_times_checkpoints(rate, checkpoints):
    m = world(**merge(CHECKPOINTS, {"checkpoints": {"radius": 3, "stop_rate": 50.0,
                                                    "detect_rate": rate, "detain_share": 0.0},
                                    "armed_groups": {"vision": 1},
                                    "mechanisms": {"information": False}}))
    unit(m, 5, 7, role="checkpoint")
    if checkpoints == 2:
        unit(m, 5, 3, role="checkpoint")
    m.add_agent("combatant", 5, 5)
    control_now(m)
    n = 2000
    for _ in range(n):
        run_combatants(m)  # stopped every time: it stays under the same control
    assert m.events[K.EV_CHECKPOINT_STOPS] == n
    assert within(int(m.events[K.EV_CHECKPOINT_DETECTIONS]), n,
                  1 - math.exp(-rate * checkpoints))


def resident_world(slow_rate, **sections):
    m = world(**merge(CHECKPOINTS, {"checkpoints": {"radius": 2, "slow_rate": slow_rate},
                                    "unrest": {"movement": True}}, sections))
    unit(m, 5, 6, role="checkpoint")
    r = m.add_agent("resident", 5, 5).slot
    return m, r


def test_checkpoints_slow_residents_at_the_rate_of_the_rule():
    m, r = resident_world(0.5)
    n = 1000
    refused = 0
    for _ in range(n):
        control_now(m)
        before = m.events[K.EV_RESIDENTS_SLOWED]
        run_core(m)
        refused += m.events[K.EV_RESIDENTS_SLOWED] - before
        m.cells.occ[m.arrays.x[r], m.arrays.y[r]] = -1  # back to (5, 5) for the next draw
        m.arrays.set("x", r, 5)
        m.arrays.set("y", r, 5)
        m.cells.occ[5, 5] = r
    # from (5, 5) under one checkpoint, every move passes at least one
    assert within(int(refused), n, 1 - math.exp(-0.5))


@pytest.mark.parametrize("sections", [{"mechanisms": {"checkpoints": False}},
                                      {"strategy": {"roles": {"checkpoint": 0.0,
                                                              "static": 1.0}}}])
def test_residents_move_freely_without_checkpoint_control(sections):
    m, r = resident_world(50.0, **sections)
    moves = 0
    for _ in range(20):
        control_now(m)
        x, y = m.arrays.x[r], m.arrays.y[r]
        run_core(m)
        moves += (m.arrays.x[r], m.arrays.y[r]) != (x, y)
    assert moves > 0 and m.events[K.EV_RESIDENTS_SLOWED] == 0


def test_a_checkpoint_cuts_the_market_access_of_the_cells_it_controls():
    sections = {"checkpoints": {"radius": 1, "slow_rate": 0.7, "trade_cost": 0.8},
                "economy": {"access_radius": 5}}
    m = world(**merge(CHECKPOINTS, sections))
    off = world(**merge(CHECKPOINTS, sections, {"mechanisms": {"checkpoints": False}}))
    for w in (m, off):
        lay(w).market[:] = 0.0
        lay(w).market[5, 5] = 1.0  # the only market, within reach of every cell
        lay(w).market_near[:] = 1.0
        unit(w, 2, 2, role="checkpoint")
        control_now(w)
        run_environment(w)
    a, a_off = lay(m).access, lay(off).access
    assert a_off[2, 2] == pytest.approx(1.0) and a_off[7, 7] == pytest.approx(1.0)
    assert a[7, 7] == pytest.approx(1.0)  # not controlled
    assert a[2, 2] == pytest.approx(1 - 0.8 * (1 - math.exp(-0.7)))
    assert a[3, 3] == pytest.approx(a[2, 2]) and a[4, 4] == pytest.approx(1.0)


def test_checkpoints_are_posted_on_the_approaches_to_settlements_and_on_roads():
    base = {"model": "peacekeeping", "world": {"width": 30, "height": 30, "torus": False},
            "peacekeepers": {"density": 0.02}, "economy": {"markets": 0.01},
            "strategy": {"roles": {"checkpoint": 1.0}}, "checkpoints": {"approach": 2}}
    for links in (0, 2):
        m = PeaceSimModel(build_scenario(merge(base, {"roads": {"links": links,
                                                                    "max_length": 60}})), seed=4)
        ai = m.arrays
        units = np.flatnonzero(ai.alive & (ai.kind == K.PEACEKEEPER))
        assert units.size == 18 and (ai.role[units] == K.CHECKPOINT).all()
        markets = m.layer.market_cells
        for home in ai.home[units].tolist():
            d = [max(abs(home // 30 - c // 30), abs(home % 30 - c % 30)) for c in markets]
            assert 1 <= min(d) <= 2  # an approach: near a settlement, not on it
            if links:
                assert home in set(m.layer.lay.roads.tolist())


def test_a_checkpoint_goes_to_its_post_and_stays():
    sc = build_scenario({"model": "peacekeeping", "world": {"width": 20, "height": 20},
                         "peacekeepers": {"density": 0.01}, "residents": {"density": 0.0},
                         "police": {"density": 0.0}, "armed_groups": {"reinforcement": 0.0},
                         "strategy": {"roles": {"checkpoint": 1.0}}})
    m = PeaceSimModel(sc, seed=2)
    for _ in range(15):
        m.step()
    ai = m.arrays
    units = np.flatnonzero(ai.alive & (ai.kind == K.PEACEKEEPER))
    assert (ai.x[units] * 20 + ai.y[units] == ai.home[units]).all()


# ==================================================== protection sites and displacement (7.23)


SITES = {"sites": {"count": 1, "radius": 1, "capacity": 5, "flee_speed": 3},
         "strategy": {"step_samples": 200},
         "violence": {"flee_threshold": 0.5, "return_share": 0.5, "flee_samples": 8}}


def site_world(site=(8, 8), **sections):
    """A world with one protection site at ``site`` (area: radius 1)."""
    m = world(**merge(SITES, sections))
    L = lay(m)
    h = m.height
    site_of = np.full(m.width * h, -1, np.int64)
    for x in range(site[0] - 1, site[0] + 2):
        for y in range(site[1] - 1, site[1] + 2):
            site_of[x * h + y] = 0
    L.set_zones(np.array([site[0] * h + site[1]]), site_of, np.zeros(0, np.int64),
                np.zeros((0, 4), np.int64))
    return m


def test_aid_level_formula():
    m = world(sites={"count": 1, "aid": 0.6, "aid_calm_scale": 2.0})
    assert dis.aid_level(0.0, m.params) == pytest.approx(0.6)
    assert dis.aid_level(3.0, m.params) == pytest.approx(0.6 * math.exp(-1.5))


def test_sites_are_placed_near_settlements_and_every_cell_knows_its_site():
    sc = build_scenario({"model": "peacekeeping", "world": {"width": 40, "height": 40,
                                                            "torus": False},
                         "economy": {"markets": 0.01},
                         "sites": {"count": 5, "placement": 2, "radius": 3}})
    m = PeaceSimModel(sc, seed=3)
    L = m.layer.lay
    sites = L.sites.tolist()
    assert len(sites) == len(set(sites)) == 5
    markets = m.layer.market_cells.tolist()
    for s in sites:
        assert min(max(abs(s // 40 - c // 40), abs(s % 40 - c % 40)) for c in markets) <= 2
    site_of = L.packed.site_of
    for cell in range(40 * 40):
        d = [max(abs(cell // 40 - s // 40), abs(cell % 40 - s % 40)) for s in sites]
        if min(d) <= 3:
            assert site_of[cell] == int(np.argmin(d))  # the nearest, ties to the first
        else:
            assert site_of[cell] == -1
    # no sites: nothing drawn, every cell outside
    none = PeaceSimModel(build_scenario({"model": "peacekeeping"}), seed=3).layer.lay
    assert none.sites.size == 0 and (none.packed.site_of == -1).all()


def test_a_resident_fleeing_violence_heads_for_the_site_and_remembers_home():
    m = site_world()
    r = m.add_agent("resident", 2, 2).slot
    lay(m).violence_civilian[2, 2] = 1.0
    run_trust(m)
    ai = m.arrays
    assert ai.displaced[r] and ai.home[r] == 2 * m.height + 2
    d = max(abs(ai.x[r] - 8), abs(ai.y[r] - 8))
    assert 3 <= d < 6  # up to flee_speed cells closer
    assert m.events[K.EV_FLED] == 1
    for _ in range(3):  # still violent at home: it walks on to the site and stays there
        lay(m).violence_civilian[2, 2] = 1.0
        run_trust(m)
    assert max(abs(ai.x[r] - 8), abs(ai.y[r] - 8)) <= 1 and ai.displaced[r]
    assert m.events[K.EV_FLED] == 1


def test_a_full_site_is_passed_over_and_without_room_residents_flee_as_before():
    m = site_world(sites={"capacity": 1})
    m.add_agent("resident", 8, 7, displaced=1, home=0)  # already fills the site
    lay(m).violence_civilian[0, 0] = 1.0  # home is not calm: it stays
    r = m.add_agent("resident", 2, 2).slot
    lay(m).violence_civilian[2, 2] = 1.0
    run_trust(m)
    ai = m.arrays
    # no site with room: the calmest sampled cell nearby (the violence at (2, 2) only)
    assert ai.displaced[r] and ai.home[r] == 2 * m.height + 2
    assert max(abs(ai.x[r] - 2), abs(ai.y[r] - 2)) <= 2


def test_the_displaced_go_home_when_it_is_calm_there():
    m = site_world()
    h = m.height
    r = m.add_agent("resident", 8, 7, displaced=1, home=2 * h + 2).slot
    lay(m).violence_civilian[2, 2] = 0.3  # not calm yet (return below 0.25)
    run_trust(m)
    assert m.arrays.displaced[r] and (m.arrays.x[r], m.arrays.y[r]) == (8, 7)
    lay(m).violence_civilian[2, 2] = 0.2
    run_trust(m)
    ai = m.arrays
    assert not ai.displaced[r] and ai.home[r] == -1
    assert max(abs(ai.x[r] - 2), abs(ai.y[r] - 2)) <= m.scenario_config.residents.vision
    assert m.events[K.EV_DISPLACED_RETURNS] == 1


def test_without_sites_flight_is_to_the_calmest_cell_and_ends_where_it_is_calm():
    m = world(**merge(SITES, {"sites": {"count": 0}}))
    r = m.add_agent("resident", 5, 5).slot
    lay(m).violence_civilian[5, 5] = 1.0
    run_trust(m)
    ai = m.arrays
    assert ai.displaced[r] and ai.home[r] == -1 and (ai.x[r], ai.y[r]) != (5, 5)
    assert m.events[K.EV_FLED] == 1
    lay(m).violence_civilian[:] = 0.0
    run_trust(m)
    assert not ai.displaced[r] and m.events[K.EV_DISPLACED_RETURNS] == 1


def test_the_displaced_at_a_site_stay_in_the_core_and_others_move():
    m = site_world(unrest={"movement": True})
    h = m.height
    d = m.add_agent("resident", 8, 7, displaced=1, home=2 * h + 2).slot
    free = m.add_agent("resident", 3, 8).slot
    moved = 0
    for _ in range(10):
        x, y = m.arrays.x[free], m.arrays.y[free]
        run_core(m)
        moved += (m.arrays.x[free], m.arrays.y[free]) != (x, y)
    assert (m.arrays.x[d], m.arrays.y[d]) == (8, 7) and moved > 0
    off = site_world(unrest={"movement": True}, mechanisms={"protection_sites": False})
    d = off.add_agent("resident", 8, 7, displaced=1, home=2 * h + 2).slot
    for _ in range(10):
        run_core(off)
    assert (off.arrays.x[d], off.arrays.y[d]) != (8, 7)


def test_aid_follows_security_and_lowers_the_grievance_of_the_displaced_at_the_site():
    m = site_world(sites={"aid": 0.5, "aid_calm_scale": 1.0},
                   economy={"hardship_weight": 0.0}, unrest={"legitimacy": 0.5})
    h = m.height
    d = m.add_agent("resident", 8, 7, hardship=0.8, displaced=1, home=2 * h + 2)
    s = m.add_agent("resident", 8, 9, hardship=0.8)  # lives there, not displaced
    lay(m).violence_civilian[2, 2] = 1.0  # home is not calm
    lay(m).violence_civilian[7, 7] = 0.3  # some violence at the site (below flee_threshold)
    run_trust(m)
    level = 0.5 * math.exp(-0.3)
    assert lay(m).packed.site_aid[0] == pytest.approx(level)
    assert m.cells.aid[8, 8] == pytest.approx(level) and m.cells.aid[2, 2] == 0.0
    prm = m.params
    g = grievance(0.8, True, 0.5, 0, 0.0, 0.0, 0.5, prm)
    assert d.grievance == pytest.approx(g * (1 - level))
    assert s.grievance == pytest.approx(g)


def test_static_posts_guard_the_sites_and_patrols_weigh_the_displaced():
    base = {"model": "peacekeeping", "world": {"width": 30, "height": 30},
            "peacekeepers": {"density": 0.02}, "strategy": {"roles": {"static": 1.0}},
            "sites": {"count": 3, "post_share": 1.0}}
    m = PeaceSimModel(build_scenario(base), seed=1)
    ai = m.arrays
    units = np.flatnonzero(ai.alive & (ai.kind == K.PEACEKEEPER))
    homes = ai.home[units].tolist()
    assert set(homes) == set(m.layer.lay.sites.tolist())
    assert max(homes.count(s) for s in set(homes)) - min(homes.count(s) for s in set(homes)) <= 1
    off = PeaceSimModel(build_scenario(merge(base, {"mechanisms": {"protection_sites": False}})),
                        seed=1)
    ai = off.arrays
    units = np.flatnonzero(ai.alive & (ai.kind == K.PEACEKEEPER))
    assert set(ai.home[units].tolist()) <= set(off.layer.market_cells.tolist())
    # patrols: + patrol_priority x the displaced within sites.radius
    w = site_world(sites={"patrol_priority": 0.25}, strategy={"patrol_jitter": 0.0})
    w.add_agent("resident", 3, 3, displaced=1, home=0)
    w.add_agent("resident", 4, 3, displaced=1, home=0)
    w.add_agent("resident", 3, 6, home=0)  # not displaced
    presence_now(w)
    assert lay(w).displaced_near[3, 4] == 2 and lay(w).displaced_near[3, 5] == 0
    lay(w).violence_civilian[3, 4] = 0.1
    assert call(patrol_score, lay(w).packed, w.params, w.rng_state, 3, 4) == \
        pytest.approx(0.1 + 0.25 * 2)


def test_displaced_at_sites_are_counted_only_with_the_mechanism_on():
    for on in (True, False):
        m = site_world(mechanisms={"protection_sites": on})
        m.add_agent("resident", 8, 7, displaced=1, home=0)  # at the site
        m.add_agent("resident", 2, 2, displaced=1, home=0)  # elsewhere
        m.add_agent("resident", 8, 9)  # at the site, not displaced
        row = m.layer.metrics(m.census_counts)
        assert row["displaced"] == 2 and row["displaced_at_sites"] == (1 if on else 0)


def test_deaths_among_the_displaced_are_counted():
    m = world(armed_groups={"p_lethal": 1.0})
    v = m.add_agent("resident", 5, 5, displaced=1).slot
    w = m.add_agent("resident", 6, 6).slot
    for victim in (v, w):
        call(attack, m.ag, m.cells, m.geometry, m.params, lay(m).packed, m.rng_state, victim,
             m.free_stack, m.meta, m.events)
    assert m.events[K.EV_CASUALTIES] == 2 and m.events[K.EV_DISPLACED_DEATHS] == 1


# =============================================================== roads (ODD 7.24)


def test_roads_link_each_settlement_to_its_nearest_by_l_shaped_paths():
    h = 10
    markets = np.array([1 * h + 1, 5 * h + 4, 9 * h + 9])
    roads, nbr = rd.build_roads(markets, 10, h, False, 1, 5)
    cells = {divmod(int(c), h) for c in roads}
    # (1, 1) -> (5, 4): along x at y = 1, then along y at x = 5; (5, 4) -> (1, 1) is the
    # same link the other way round; (9, 9) is 5 cells from (5, 4): linked
    expected = {(x, 1) for x in range(1, 6)} | {(5, y) for y in range(1, 5)}
    expected |= {(1, y) for y in range(1, 5)} | {(x, 4) for x in range(1, 6)}
    expected |= {(x, 9) for x in range(5, 10)} | {(5, y) for y in range(4, 10)}
    assert cells == expected
    row = {int(c): k for k, c in enumerate(roads)}
    k = row[3 * h + 1]
    assert sorted(int(roads[j]) for j in nbr[k] if j >= 0) == [2 * h + 1, 4 * h + 1]
    assert rd.build_roads(markets, 10, h, False, 0, 5)[0].size == 0  # links 0: no roads
    assert rd.build_roads(markets, 10, h, False, 1, 3)[0].size == 0  # all too far apart


def test_rr_reach_and_road_quality_formulas():
    m = world(roads={"rr_bonus": 5}, strategy={"rr_speed": 4},
              economy={"calm_scale": 0.5}, **{"mechanisms": {"roads": True}})
    prm = m.params
    assert rd.rr_reach(0.0, prm) == 4 and rd.rr_reach(0.5, prm) == 4 + round(2.5)
    assert rd.rr_reach(1.0, prm) == 9
    off = world(roads={"rr_bonus": 5}, strategy={"rr_speed": 4},
                mechanisms={"roads": False}).params
    assert rd.rr_reach(1.0, off) == 4
    m = world(roads={"rebuild_rate": 0.1, "damage_rate": 0.2}, economy={"calm_scale": 0.5})
    prm = m.params
    q = 0.4 + 0.1 * 1.0 * 0.6 * math.exp(-0.3 / 0.5)
    assert rd.road_quality_step(0.4, 0.3, 1.0, prm) == pytest.approx(q - 0.2 * 0.3 * q)
    assert rd.road_quality_step(0.4, 2.0, 0.0, prm) == pytest.approx(0.4 * 0.8)


def road_world(**sections):
    """A road along y = 5 from (1, 5) to (9, 5), quality 1; economy 0 except 1 at (1, 5)."""
    m = world(**merge({"roads": {"diffusion": 0.5, "damage_rate": 0.1}, "economy":
                       {"diffusion": 0.0, "rate": 0.0}}, sections))
    h = m.height
    cells = np.array([x * h + 5 for x in range(1, 10)])
    nbr = np.full((cells.size, 4), -1)
    for k in range(cells.size):
        if k > 0:
            nbr[k, 0] = k - 1
        if k < cells.size - 1:
            nbr[k, 3] = k + 1
    lay(m).set_zones(np.zeros(0, np.int64), np.full(m.width * h, -1), cells, nbr)
    lay(m).road[1:10, 5] = 1.0
    m.cells.economy[:] = 0.0
    m.cells.economy[1, 5] = 1.0
    return m


def test_the_economy_spreads_along_roads():
    m = road_world()
    run_environment(m)
    e = m.cells.economy
    assert e[1, 5] == pytest.approx(0.5) and e[2, 5] == pytest.approx(0.25)
    assert e[3, 5] == 0.0 and e[1, 6] == 0.0  # one step a tick, and only along the road
    for _ in range(20):
        run_environment(m)
    assert e[9, 5] > 0 and e[0, 5] == 0.0 and e[5, 6] == 0.0
    off = road_world(mechanisms={"roads": False})
    run_environment(off)
    assert off.cells.economy[1, 5] == 1.0 and off.cells.economy[2, 5] == 0.0


def test_violence_damages_roads():
    m = road_world()
    lay(m).violence_civilian[4, 5] = 2.0
    run_environment(m)
    v = lay(m).violence[4, 5]
    assert lay(m).road[4, 5] == pytest.approx(1.0 - 0.1 * min(v, 1.0))
    assert lay(m).road[8, 5] == 1.0


def test_rapid_response_moves_farther_on_a_road():
    sc = {"model": "peacekeeping", "world": {"width": 40, "height": 40, "torus": False},
          "residents": {"density": 0.0}, "police": {"density": 0.0},
          "armed_groups": {"reinforcement": 0.0}, "peacekeepers": {"density": 0.0},
          "strategy": {"rr_speed": 2, "step_samples": 200, "hot_threshold": 0.0},
          "roads": {"rr_bonus": 6}}
    far = []
    for on_road in (False, True):
        m = PeaceSimModel(build_scenario(sc), seed=1)
        u = unit(m, 5, 20, role="rapid_response").slot
        lay(m).violence_civilian[35, 20] = 5.0
        if on_road:
            lay(m).road[5, 20] = 1.0
        m.layer.step(1)
        far.append(m.arrays.x[u] - 5)
    assert far[0] <= 2 and far[1] > 2


# =============================================================== whole runs


def test_all_three_mechanisms_run_deterministically_and_report():
    sc = load_scenario(ROOT / "scenarios" / "baseline.toml", overrides={
        "world.width": 30, "world.height": 30, "mission.drawdown_start": None,
        "sites.count": 2, "roads.links": 2},
        strategy=ROOT / "scenarios" / "strategies" / "checkpoints.toml")
    a, b = run(sc, seed=5, ticks=40), run(sc, seed=5, ticks=40)
    assert a.timeseries.equals(b.timeseries)
    s = a.summary
    assert s["checkpoint_stops_total"] > 0 and s["residents_slowed_total"] > 0
    assert s["displaced_new_total"] > 0 and s["final_road_quality"] is not None
    assert "road_quality_mean" in a.timeseries and s["mean_displaced_at_sites"] >= 0
