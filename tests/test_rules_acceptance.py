"""Reintegration and acceptance (ODD 7.19), weapons (ODD 7.20) and local partners (ODD 7.21)
on hand-built tiny worlds: each rule as its docstring states it, one phase at a time.

Rates are checked against the binomial standard error of enough draws (``Z`` standard
errors); everything else is set so that outcomes are certain.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.config.scenario import ScenarioError, build_scenario
from sim.engine import layout as K
from sim.engine.calls import call
from sim.engine.layer_tick import (
    acceptance_phase,
    acts_seen,
    combatants_phase,
    events_seen,
    livelihoods_phase,
    partners_phase,
    stores_seen,
    transitions_phase,
    trust_phase,
    weapons_phase,
)
from sim.model.model import PeaceSimModel
from sim.rules import partners as part
from sim.rules import reintegration as rei
from sim.rules import transitions as tr
from sim.rules import weapons as wpn

Z = 4.0

QUIET = {  # everything that could interfere is switched off
    "armed_groups": {"density": 0.0, "reinforcement": 0.0, "aggression": 0.0, "p_clash": 0.0,
                     "recruit_rate": 0.0, "vision": 2, "p_lethal": 0.0},
    "strategy": {"p_interdict": 0.0, "roles": {"static": 1.0}, "early_warning": 0.0},
    "ddr": {"rate": 0.0, "relapse_rate": 0.0},
    "police": {"density": 0.0, "p_arrest_combatant": 0.0, "vision": 2},
    "peacekeepers": {"density": 0.0, "act_as_cops": False, "vision": 2},
    "residents": {"density": 0.0, "vision": 2},
    "unrest": {"movement": False, "legitimacy": 1.0},
    "trust": {"memory": 1.0, "base_rate": 0.0, "p_tip": 0.0, "leader_share": 0.0},
    "economy": {"programme_rate": 0.0, "job_loss": 0.0, "initial": 0.5, "markets": 0.0},
    "violence": {"flee_threshold": 1000.0},
    "population": {"birth_rate": 0.0, "death_rate": 0.0, "emigration_rate": 0.0,
                   "return_rate": 0.0},
    "weapons": {"stock": 0, "caches": 0, "supply": 0.0},
    "reintegration": {"relax": 0.0},
    "partners": {"share": 0.0},
}


def world(width: int = 11, height: int = 11, **sections) -> PeaceSimModel:
    """A peacekeeping world with no agents and every process off but those asked for."""
    data = {"model": "peacekeeping", "world": {"width": width, "height": height,
                                               "torus": False, "vision_shape": "moore"}}
    for name, table in QUIET.items():
        data[name] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in table.items()}
    for name, table in sections.items():
        data.setdefault(name, {}).update(table)
    return PeaceSimModel(build_scenario(data), seed=0)


def lay(m):
    return m.layer.lay


def presence_now(m) -> None:
    m.layer.refresh_presence()


def run_combatants(m) -> None:
    perm = np.empty(m.capacity, np.int64)
    call(stores_seen, m.params, lay(m).packed)  # as layer_tick: the stores in vision first
    call(combatants_phase, m.ag, m.cells, m.geometry, m.params, lay(m).packed, m.rng_state,
         perm, m.free_stack, m.meta, m.events)


def run_transitions(m, mission_legitimacy: float = 0.0) -> None:
    call(transitions_phase, m.ag, m.cells, m.geometry, m.params, lay(m).packed, m.rng_state,
         float(m.legitimacy), float(mission_legitimacy), m.meta, m.events)


def run_trust(m) -> None:
    """What residents saw this tick (box sums of the raw events), then the trust phase."""
    call(events_seen, m.cells, m.params, lay(m).packed)
    call(acts_seen, m.params, lay(m).packed, m.events)
    call(trust_phase, m.ag, m.cells, m.geometry, m.params, lay(m).packed, m.rng_state, m.meta,
         m.events, 0.0)


def run_acceptance(m) -> int:
    return call(acceptance_phase, m.ag, m.params, lay(m).packed, m.meta)


def within(successes: int, trials: int, p: float) -> bool:
    se = math.sqrt(p * (1.0 - p) / trials)
    return abs(successes / trials - p) <= Z * se + 1e-12


def unit(m, x, y, role="static", home=None):
    return m.add_agent("peacekeeper", x, y, role=role,
                       home=x * m.height + y if home is None else home)


# =============================================================== schema


def test_abusiveness_is_one_number_or_one_value_per_faction():
    def sc(value, factions=2):
        return build_scenario({"model": "peacekeeping", "armed_groups": {
            "factions": factions, "abusiveness": value}}, "x.toml")

    assert sc(0.3).armed_groups.abusiveness_of(1) == 0.3
    assert [sc([0.1, 0.6]).armed_groups.abusiveness_of(f) for f in (0, 1)] == [0.1, 0.6]
    for bad, why in (([0.1, 0.2, 0.3], "has 3 values: give one per faction"),
                     ([0.1, 1.5], "each value must lie in [0, 1]"),
                     ([], "an empty list"), ("high", "a number in [0, 1] or a list"),
                     (True, "a number in [0, 1] or a list")):
        with pytest.raises(ScenarioError, match="x.toml") as err:
            sc(bad)
        assert why in str(err.value) and "abusiveness" in str(err.value)
    m = world(armed_groups={"factions": 2, "abusiveness": [0.2, 0.7]})
    assert list(lay(m).scalars[K.S_ABUSIVENESS0:K.S_ABUSIVENESS0 + 2]) == [0.2, 0.7]


def test_the_old_local_partners_key_still_reads_with_its_documented_meaning():
    """``strategy.local_partners`` keeps its name: it is now the mission's investment in its
    partners, which sets how fast their capacity grows (no deprecation: not renamed)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sc = build_scenario({"model": "peacekeeping", "strategy": {"local_partners": 0.6}})
    assert sc.strategy.local_partners == 0.6
    assert "capacity" in type(sc.strategy).model_fields["local_partners"].description


# =============================================================== reintegration (ODD 7.19)


def test_predation_chance_and_acceptance_formulas():
    prm = world(reintegration={"initial": 0.4, "relax": 0.1, "programme_gain": 0.2,
                               "dialogue_gain": 0.3, "partner_gain": 0.5, "record_gain": 0.25,
                               "record_memory": 0.9},
                ddr={"reintegration_support": 0.5}).params
    assert rei.predation_chance(0.6, 0.25) == pytest.approx(0.45)
    a = 0.7 + 0.1 * (0.4 - 0.7)
    gain = 0.2 * 0.5 + 0.3 * 0.2 + 0.5 * 1.0  # partner capacity 3 counts as 1
    assert rei.acceptance_step(0.7, 0.2, 3.0, prm) == pytest.approx(a + gain * (1 - a))
    assert rei.record_step(0.5, 0.0, prm) == pytest.approx(0.45)
    assert rei.record_step(0.5, 2.0, prm) == pytest.approx(
        0.45 + 0.25 * (1 - math.exp(-2.0)) * 0.55)
    assert rei.accepts(0.8, 0.25) == pytest.approx(0.6)


def test_rejection_and_hiring_factors_and_their_switch():
    prm = world(reintegration={"relapse_weight": 0.6, "hiring_weight": 0.5}).params
    assert rei.rejection_factor(0.5, prm) == pytest.approx(0.7)
    assert rei.hiring_factor(0.2, prm) == pytest.approx(0.6)
    off = world(mechanisms={"acceptance": False}).params
    assert rei.rejection_factor(0.9, off) == 1.0 and rei.hiring_factor(0.0, off) == 1.0
    prm2 = world(ddr={"relapse_rate": 0.4, "reintegration_support": 0.25},
                 reintegration={"relapse_weight": 0.6}).params
    assert tr.relapse_probability(0.8, 0.25, 0.5, prm2) == pytest.approx(
        0.4 * 0.8 * 0.75 * 0.75 * 0.7)


def predation_world(abusiveness, **sections):
    m = world(armed_groups={"factions": 2, "abusiveness": [0.0, abusiveness]}, **sections)
    c = m.add_agent("combatant", 5, 5, faction=1)
    v = m.add_agent("resident", 6, 5)
    return m, c.slot, v.slot


def test_an_abusive_fighter_preys_on_a_resident_and_it_is_remembered_against_his_faction():
    m, c, v = predation_world(1.0, violence={"per_predation": 0.7})
    presence_now(m)
    run_combatants(m)
    assert m.events[K.EV_PREDATIONS] == 1
    L = lay(m)
    assert L.violence_civilian[6, 5] == pytest.approx(0.7)
    assert L.faction_ev1[6, 5] == 1.0 and L.faction_ev0.sum() == 0.0
    assert m.arrays.alive[v]  # predation does not kill


def test_a_fighter_of_a_faction_that_does_not_prey_draws_nothing_for_it():
    m, c, _ = predation_world(0.0)
    before = m.rng_state.copy()
    assert not call(rei.prey, m.ag, m.cells, m.geometry, m.params, lay(m).packed, m.rng_state,
                    c, 0.0, m.events)
    assert np.array_equal(m.rng_state, before) and m.events[K.EV_PREDATIONS] == 0
    m1, c1, _ = predation_world(1.0)
    assert call(rei.prey, m1.ag, m1.cells, m1.geometry, m1.params, lay(m1).packed,
                m1.rng_state, c1, 0.0, m1.events)


def test_predation_rate_is_abusiveness_times_one_minus_risk():
    n = 0
    m = world(width=90, height=90, armed_groups={"abusiveness": 0.3, "vision": 1})
    for x in range(1, 90, 3):
        for y in range(1, 90, 3):
            m.add_agent("combatant", x, y)
            m.add_agent("resident", x, y + 1)
            n += 1
    presence_now(m)
    run_combatants(m)  # no security anywhere: P_c = 0
    preyed = int(m.events[K.EV_PREDATIONS])
    assert within(preyed, n, 0.3), preyed / n


def test_residents_remember_what_each_faction_did_within_their_vision():
    m = world(armed_groups={"factions": 2, "aggression": 1.0, "p_lethal": 0.0},
              reintegration={"record_gain": 0.5, "record_memory": 0.9})
    m.add_agent("combatant", 5, 5, faction=1, aggression=1.0)
    near = m.add_agent("resident", 5, 6, record0=0.2, record1=0.2).slot
    far = m.add_agent("resident", 0, 10, record0=0.2, record1=0.2).slot  # beyond vision 2
    presence_now(m)
    run_combatants(m)
    assert m.events[K.EV_ATTACKS] == 1
    victim_cell = np.argwhere(lay(m).faction_ev1 > 0)
    assert len(victim_cell) == 1
    run_trust(m)
    a = m.arrays
    assert a.record0[near] == pytest.approx(0.18)  # only fades
    assert a.record1[near] == pytest.approx(0.18 + 0.5 * (1 - math.exp(-1)) * 0.82)
    assert a.record1[far] == pytest.approx(0.18)


def test_acceptance_field_is_the_mean_over_residents_who_are_not_ex_combatants():
    m = world(armed_groups={"factions": 2}, reintegration={"radius": 1})
    m.add_agent("resident", 4, 4, acceptance=0.8, record0=0.0, record1=0.5)
    m.add_agent("resident", 5, 5, acceptance=0.4, record0=0.5, record1=1.0)
    m.add_agent("resident", 5, 6, ex_combatant=True, faction=1, acceptance=1.0)
    assert run_acceptance(m) == 1
    L = lay(m)
    assert L.accept_n[5, 5] == 2.0 and L.accept_n[5, 6] == 1.0  # the ex-combatant not counted
    assert L.accept0[5, 5] == pytest.approx((0.8 + 0.2) / 2)
    assert L.accept1[5, 5] == pytest.approx((0.4 + 0.0) / 2)
    assert L.accept1[5, 6] == pytest.approx(0.0)  # only (5, 5) within 1 cell: record 1
    assert L.accept0[0, 10] == 0.0  # nobody around


def test_the_field_is_there_before_anyone_disarms_and_not_with_the_switch_off():
    m = world(reintegration={"radius": 1})
    m.add_agent("resident", 5, 5, acceptance=0.8)
    assert run_acceptance(m) == 0  # no ex-combatant yet: a fighter may disarm this tick
    assert lay(m).accept_n.sum() == 9.0 and lay(m).accept0[4, 4] == pytest.approx(0.8)
    off = world(mechanisms={"acceptance": False})
    off.add_agent("resident", 5, 5, acceptance=0.8)
    off.add_agent("resident", 5, 6, ex_combatant=True)
    assert run_acceptance(off) == 0 and lay(off).accept_n.sum() == 0.0


@pytest.mark.parametrize(("record", "switch", "relapses"),
                         [(0.0, True, 0), (1.0, True, 1), (0.0, False, 1)])
def test_an_accepted_ex_combatant_does_not_relapse_a_rejected_one_does(record, switch,
                                                                       relapses):
    # relapse probability 1 x G (1) x (1 - E) (1) x (1 - 1 x acceptance met)
    m = world(ddr={"relapse_rate": 1.0}, reintegration={"relapse_weight": 1.0, "radius": 1},
              unrest={"legitimacy": 0.0}, economy={"initial": 0.0, "market_bonus": 0.0},
              weapons={"stock": 5}, mechanisms={"acceptance": switch})
    ex = m.add_agent("resident", 5, 5, hardship=1.0, ex_combatant=True).slot
    for x, y in ((4, 4), (4, 5), (6, 6)):
        m.add_agent("resident", x, y, acceptance=1.0, record0=record)
    presence_now(m)
    run_transitions(m)
    assert m.events[K.EV_RELAPSES] == relapses
    assert m.events[K.EV_RELAPSES_F0] == relapses
    assert (m.arrays.kind[ex] == K.COMBATANT) == bool(relapses)


def test_a_relapsing_ex_combatant_rejoins_his_own_faction_unless_the_switch_is_off():
    def factions(switch):
        m = world(width=30, height=30, armed_groups={"factions": 3},
                  ddr={"relapse_rate": 1.0}, unrest={"legitimacy": 0.0},
                  economy={"initial": 0.0, "market_bonus": 0.0}, weapons={"stock": 1000},
                  mechanisms={"acceptance": switch})
        slots = [m.add_agent("resident", x, y, hardship=1.0, ex_combatant=True,
                             faction=2).slot for x in range(0, 30, 2) for y in range(0, 30, 3)]
        presence_now(m)
        run_transitions(m)
        s = np.array(slots)
        assert (m.arrays.kind[s] == K.COMBATANT).all()
        return m.arrays.faction[s], m.events

    own, events = factions(True)
    assert (own == 2).all() and events[K.EV_RELAPSES_F0 + 2] == len(own)
    mixed, _ = factions(False)
    assert set(mixed.tolist()) == {0, 1, 2}


@pytest.mark.parametrize(("acceptance", "hired"), [(1.0, True), (0.0, False)])
def test_employers_hire_an_ex_combatant_they_accept(acceptance, hired):
    m = world(economy={"programme_rate": 1.0}, reintegration={"hiring_weight": 1.0,
                                                              "radius": 1})
    ex = m.add_agent("resident", 5, 5, ex_combatant=True).slot
    m.add_agent("resident", 5, 6, acceptance=acceptance)
    other = m.add_agent("resident", 9, 9).slot  # not an ex-combatant: hired regardless
    run_acceptance(m)
    call(livelihoods_phase, m.ag, m.cells, m.params, m.rng_state, m.meta, lay(m).packed)
    assert bool(m.arrays.employed[ex]) == hired and m.arrays.employed[other]


def test_programmes_dialogue_and_partners_raise_acceptance():
    m = world(reintegration={"initial": 0.5, "relax": 0.0, "programme_gain": 0.1,
                             "dialogue_gain": 0.2, "partner_gain": 0.0},
              ddr={"reintegration_support": 1.0})
    r = m.add_agent("resident", 5, 5, acceptance=0.5, dialogue=0.5).slot
    presence_now(m)
    run_trust(m)
    gain = 0.1 * 1.0 + 0.2 * 0.5 * 0.9  # trust.dialogue_memory 0.9 fades dialogue first
    assert m.arrays.acceptance[r] == pytest.approx(0.5 + gain * 0.5)


def test_new_residents_start_at_the_initial_acceptance():
    m = world(reintegration={"initial": 0.35}, population={"birth_rate": 1.0})
    m.add_agent("resident", 5, 5, acceptance=0.9)
    m.step()
    a = m.arrays
    kids = np.flatnonzero(a.alive & (a.kind == K.RESIDENT) & (a.acceptance != 0.9))
    assert len(kids) == 1 and a.acceptance[kids[0]] == pytest.approx(0.35)


# =============================================================== weapons (ODD 7.20)


def recruit_world(mechanisms=None, **weapons):
    m = world(armed_groups={"recruit_rate": 1.0, "trust_damping": 0.0,
                            "legitimacy_damping": 0.0, "vision": 2},
              unrest={"legitimacy": 0.0}, economy={"initial": 0.0, "market_bonus": 0.0},
              weapons=weapons, mechanisms=mechanisms or {})
    m.add_agent("combatant", 5, 5)
    r = m.add_agent("resident", 6, 5, hardship=1.0).slot
    return m, r


def test_a_recruit_takes_the_nearest_cache_within_reach_first_then_the_stock():
    m, r = recruit_world(stock=2, reach=2)
    L = lay(m)
    L.cache[8, 5] = 3.0  # 2 cells away
    L.cache[6, 6] = 1.0  # 1 cell away: the nearest
    L.scalars[K.S_CACHED] = 4.0
    presence_now(m)
    run_transitions(m)
    assert m.events[K.EV_RECRUITS] == 1 and m.arrays.kind[r] == K.COMBATANT
    assert L.cache[6, 6] == 0.0 and L.cache[8, 5] == 3.0 and L.scalars[K.S_CACHED] == 3.0
    assert L.scalars[K.S_STOCK0] == 2.0


def test_without_a_cache_in_reach_a_recruit_is_armed_from_the_stock():
    m, r = recruit_world(stock=2, reach=1)
    lay(m).cache[9, 5] = 3.0  # 3 cells away: out of reach
    lay(m).scalars[K.S_CACHED] = 3.0
    presence_now(m)
    run_transitions(m)
    assert m.events[K.EV_RECRUITS] == 1 and lay(m).scalars[K.S_STOCK0] == 1.0


@pytest.mark.parametrize(("switch", "joins"), [(True, False), (False, True)])
def test_no_weapon_at_hand_no_recruit(switch, joins):
    m, r = recruit_world({"weapons": switch}, stock=0)
    presence_now(m)
    run_transitions(m)
    assert m.events[K.EV_RECRUITS] == int(joins)
    assert m.events[K.EV_ARMING_FAILED] == int(not joins)
    assert (m.arrays.kind[r] == K.COMBATANT) == joins


def ddr_world(hand_in, destroy, **sections):
    m = world(ddr={"rate": 1.0, "destroy_share": destroy, "economy_weight": 0.0},
              armed_groups={"cohesion": 0.0}, weapons={"hand_in": hand_in}, **sections)
    c = m.add_agent("combatant", 5, 5).slot
    site = 2 * m.height + 2
    unit(m, 5, 7, role="ddr", home=site)
    return m, c, site


@pytest.mark.parametrize(("hand_in", "destroy", "collected", "destroyed", "stored", "hidden"),
                         [(1.0, 1.0, 1, 1, 0, 0), (1.0, 0.0, 1, 0, 1, 0),
                          (0.0, 0.0, 0, 0, 0, 1)])
def test_a_weapon_handed_in_is_destroyed_or_stored_at_the_site_else_hidden(
        hand_in, destroy, collected, destroyed, stored, hidden):
    m, c, site = ddr_world(hand_in, destroy)
    presence_now(m)
    run_transitions(m)
    L = lay(m)
    assert m.events[K.EV_DISARMED] == 1 and m.arrays.ex_combatant[c]
    assert m.events[K.EV_WEAPONS_COLLECTED] == collected
    assert m.events[K.EV_WEAPONS_DESTROYED] == destroyed
    assert L.store.reshape(-1)[site] == stored and L.scalars[K.S_STORED] == stored
    assert L.cache[5, 5] == hidden and L.scalars[K.S_CACHED] == hidden
    assert m.events[K.EV_WEAPONS_HIDDEN] == hidden


def test_without_the_weapons_economy_every_disarmed_fighter_counts_a_weapon():
    m, c, site = ddr_world(0.0, 0.0, mechanisms={"weapons": False})
    presence_now(m)
    run_transitions(m)
    assert m.events[K.EV_DISARMED] == 1 and m.events[K.EV_WEAPONS_COLLECTED] == 1
    assert lay(m).cache.sum() == 0.0 and lay(m).store.sum() == 0.0


def test_hand_in_share_is_a_rate():
    n = 0
    m = world(width=40, height=40, ddr={"rate": 1.0, "destroy_share": 0.0,
                                        "economy_weight": 0.0},
              armed_groups={"cohesion": 0.0}, weapons={"hand_in": 0.3})
    for x in range(1, 40, 4):
        for y in range(1, 40, 4):
            unit(m, x, y, role="ddr")
            for dy in (1, 2):
                m.add_agent("combatant", x, y + dy)
                n += 1
    presence_now(m)
    run_transitions(m)
    assert m.events[K.EV_DISARMED] == n
    assert within(int(m.events[K.EV_WEAPONS_COLLECTED]), n, 0.3)
    assert m.events[K.EV_WEAPONS_COLLECTED] + m.events[K.EV_WEAPONS_HIDDEN] == n


def file_tip(m, x, y, age=0, force=K.MISSION):
    tips = lay(m).tips
    tips[0, K.T_ALIVE] = 1
    tips[0, K.T_X] = x
    tips[0, K.T_Y] = y
    tips[0, K.T_AGE] = age
    tips[0, K.T_FORCE] = force


@pytest.mark.parametrize(("tip_at", "seized"), [((5, 6), 4), ((9, 9), 0)])
def test_a_fresh_tip_near_a_cache_leads_the_force_to_it(tip_at, seized):
    m = world(weapons={"p_find": 1.0, "find_radius": 2})
    L = lay(m)
    L.cache[5, 5] = 4.0
    L.scalars[K.S_CACHED] = 4.0
    file_tip(m, *tip_at)  # age 0: freshness 1
    call(weapons_phase, m.params, L.packed, m.rng_state, m.events)
    assert m.events[K.EV_WEAPONS_SEIZED] == seized
    assert L.cache[5, 5] == 4.0 - seized and L.scalars[K.S_CACHED] == 4.0 - seized


def test_find_chance_is_p_find_times_freshness():
    prm = world(weapons={"p_find": 0.4}, information={"tip_lifetime": 4.0}).params
    assert wpn.find_chance(2, prm) == pytest.approx(0.4 * math.exp(-0.5))


def store_world(**sections):
    m = world(weapons={"p_raid": 1.0, "raid_size": 3}, **sections)
    m.add_agent("combatant", 5, 5)
    L = lay(m)
    L.store[6, 6] = 5.0
    L.scalars[K.S_STORED] = 5.0
    return m, L


def test_fighters_raid_an_unguarded_store_in_vision():
    m, L = store_world()
    presence_now(m)
    run_combatants(m)
    assert m.events[K.EV_WEAPONS_RAIDED] == 3
    assert L.store[6, 6] == 2.0 and L.scalars[K.S_STORED] == 2.0 and L.scalars[K.S_STOCK0] == 3


def test_a_guarded_store_is_not_raided():
    # a post beside the store: the risk perceived there, 1 - exp(-100 x 1 / 1), is ~1
    m, L = store_world(armed_groups={"risk_constant": 100.0})
    unit(m, 7, 7)
    presence_now(m)
    run_combatants(m)
    assert m.events[K.EV_WEAPONS_RAIDED] == 0 and L.store[6, 6] == 5.0


def test_raid_chance_formula():
    prm = world(weapons={"p_raid": 0.5}).params
    assert wpn.raid_chance(0.2, prm) == pytest.approx(0.4)


def test_caches_lie_near_the_strongholds_and_supply_feeds_the_stocks():
    m = world(width=40, height=40, armed_groups={"factions": 2},
              weapons={"stock": 7, "caches": 4, "cache_size": 5, "cache_radius": 3,
                       "supply": 2.5})
    L = lay(m)
    assert list(L.scalars[K.S_STOCK0:K.S_STOCK0 + 2]) == [7.0, 7.0]
    assert L.cache.sum() == 2 * 4 * 5 == L.scalars[K.S_CACHED]
    for x, y in np.argwhere(L.cache > 0):
        d = min(max(abs(x - sx), abs(y - sy)) for sx, sy in m.layer.strongholds)
        assert d <= 3
    gen = np.random.default_rng(1)
    arrived = sum(wpn.supply(L, m.params, gen) for _ in range(400))
    assert abs(arrived / 800 - 2.5) < Z * math.sqrt(2.5 / 800)
    assert L.scalars[K.S_STOCK0] + L.scalars[K.S_STOCK0 + 1] == 14 + arrived


def test_no_weapons_are_placed_with_the_switch_off():
    m = world(weapons={"stock": 7, "caches": 4}, mechanisms={"weapons": False})
    assert lay(m).cache.sum() == 0.0 and lay(m).scalars[K.S_STOCK0] == 0.0


# =============================================================== local partners (ODD 7.21)


def test_capacity_grows_with_investment_while_units_are_deployed_and_fades_after():
    prm = world(strategy={"local_partners": 0.5},
                partners={"build_rate": 0.1, "decay": 0.02}).params
    c = part.capacity_step(0.2, True, prm)
    assert c == pytest.approx((0.2 + 0.1 * 0.5 * 0.8) * 0.98)
    assert part.capacity_step(0.5, False, prm) == pytest.approx(0.49)


def partner_world(**sections):
    sec = {"economy": {"markets": 0.05}, "partners": {"share": 1.0, "initial_capacity": 0.5,
                                                       "radius": 2, "build_rate": 0.1,
                                                       "decay": 0.0}}
    for k, v in sections.items():
        sec.setdefault(k, {}).update(v)
    return world(width=20, height=20, **sec)


def test_partners_sit_at_settlements_with_their_reach():
    m = partner_world()
    L = lay(m)
    markets = m.layer.market_cells
    assert len(markets) == 20 and (L.partner_site.reshape(-1)[markets] == 1.0).all()
    assert L.partner_site.sum() == 20 and L.partner.sum() == pytest.approx(10.0)
    presence_now(m)
    x, y = divmod(int(markets[0]), m.height)
    near = L.partner[max(0, x - 2):x + 3, max(0, y - 2):y + 3].sum()
    assert L.partner_reach[x, y] == pytest.approx(near)
    half = partner_world(partners={"share": 0.5})
    assert lay(half).partner_site.sum() == 10


@pytest.mark.parametrize(("units", "grows"), [(1, True), (0, False)])
def test_partners_build_capacity_only_while_units_are_deployed(units, grows):
    m = partner_world(strategy={"local_partners": 1.0})
    if units:
        unit(m, 0, 0)
    presence_now(m)
    assert m.meta[K.META_UNITS] == units
    call(partners_phase, m.params, lay(m).packed, m.meta)
    caps = lay(m).partner.reshape(-1)[m.layer.market_cells]
    assert caps == pytest.approx(0.55 if grows else 0.5)
    assert lay(m).scalars[K.S_PARTNER_TOTAL] == pytest.approx(caps.sum())


def test_partners_do_nothing_with_their_switch_off():
    m = partner_world(strategy={"local_partners": 1.0}, mechanisms={"partners": False})
    unit(m, 0, 0)
    presence_now(m)
    call(partners_phase, m.params, lay(m).packed, m.meta)
    assert lay(m).partner.sum() == 0.0 and lay(m).partner_reach.sum() == 0.0


@pytest.mark.parametrize("deployed", [True, False])
def test_partner_engagement_raises_trust_only_with_the_mission_and_opens_dialogue(deployed):
    prm = world(partners={"trust_gain": 0.1, "dialogue": 0.4}).params
    t, d = part.partner_engagement(0.5, 0.05, 0.5, deployed, prm)
    assert t == pytest.approx(0.5 + 0.1 * 0.5 * 0.5 if deployed else 0.5)
    assert d == pytest.approx(0.2)
    assert part.partner_engagement(0.5, 0.3, 0.5, deployed, prm)[1] == pytest.approx(0.3)


def test_relays_passes_a_tip_to_a_trusted_force_the_reporter_cannot_reach():
    prm = world(trust={"tip_threshold": 0.5}).params
    assert part.relays(0.8, 0.2, False, False, 0.6, 1, 0, 0.5, prm) == (True, False)
    assert part.relays(0.8, 0.2, False, False, 0.6, 1, 0, 0.7, prm) == (False, False)
    assert part.relays(0.8, 0.2, False, False, 0.6, 0, 0, 0.1, prm) == (False, False)  # gone
    assert part.relays(0.2, 0.8, False, False, 2.0, 0, 3, 0.99, prm) == (False, True)
    assert part.relays(0.2, 0.2, False, False, 1.0, 1, 1, 0.0, prm) == (False, False)


def test_a_tip_reaches_the_mission_through_a_partner():
    def tips(share):
        m = world(width=20, height=20, economy={"markets": 0.05},
                  partners={"share": share, "initial_capacity": 1.0, "radius": 19},
                  trust={"p_tip": 1.0, "tip_threshold": 0.5, "legitimacy_reporting": 0.0},
                  information={"report_reach": 1, "mobile_reach": 0})
        m.add_agent("combatant", 5, 5)
        m.add_agent("resident", 6, 5, trust_pk=1.0, trust_pk0=1.0)
        unit(m, 19, 19)  # far beyond report_reach
        presence_now(m)
        run_trust(m)
        return (int(m.events[K.EV_TIPS]), int(m.events[K.EV_TIPS_LOST]),
                int(m.events[K.EV_TIPS_PARTNERS]))

    assert tips(0.0) == (0, 1, 0)
    assert tips(1.0) == (1, 0, 1)


def test_partners_carry_reintegration():
    m = partner_world(reintegration={"partner_gain": 0.2, "dialogue_gain": 0.0,
                                     "programme_gain": 0.0},
                      partners={"dialogue": 0.0})
    x, y = divmod(int(m.layer.market_cells[0]), m.height)
    r = m.add_agent("resident", x, y, acceptance=0.5).slot if m.cells.occ[x, y] < 0 else None
    assert r is not None
    presence_now(m)
    reach = lay(m).partner_reach[x, y]
    run_trust(m)
    assert m.arrays.acceptance[r] == pytest.approx(0.5 + 0.2 * min(1.0, reach) * 0.5)


# =============================================================== the three together


def test_per_faction_state_fits_every_allowed_number_of_factions():
    """Counters and planes are kept for MAX_FACTIONS factions: the schema must not allow
    more (a larger ``armed_groups.factions`` needs more of them)."""
    from sim.config.scenario import ArmedGroups

    le = [m.le for m in ArmedGroups.model_fields["factions"].metadata if hasattr(m, "le")]
    assert le and le[0] <= K.MAX_FACTIONS
    assert K.EV_RELAPSES_F3 == K.EV_RELAPSES_F0 + K.MAX_FACTIONS - 1
    assert K.L_ACCEPT3 == K.L_ACCEPT0 + K.MAX_FACTIONS - 1
    assert K.F_RECORD3 == K.F_RECORD0 + K.MAX_FACTIONS - 1


ALL_ON = {"armed_groups": {"density": 0.04, "factions": 2, "abusiveness": [0.2, 0.5],
                           "aggression": 0.1, "recruit_rate": 0.05, "reinforcement": 0.5},
          "residents": {"density": 0.6}, "police": {"density": 0.02},
          "peacekeepers": {"density": 0.04},
          "strategy": {"local_partners": 0.8, "p_interdict": 0.005,
                       "roles": {"patrol": 0.4, "static": 0.2, "engagement": 0.2, "ddr": 0.2}},
          "ddr": {"rate": 0.3, "relapse_rate": 0.2, "destroy_share": 0.3},
          "trust": {"p_tip": 0.3},
          "weapons": {"stock": 10, "caches": 2, "supply": 0.5},
          "partners": {"share": 0.5, "initial_capacity": 0.2},
          "economy": {"markets": 0.05, "programme_rate": 0.01},
          "mission": {"drawdown_start": 30, "drawdown_ticks": 10, "exit_window": 10}}


def test_same_seed_same_outputs_with_every_new_mechanism_at_work():
    from sim import run

    sc = build_scenario({"model": "peacekeeping", "world": {"width": 24, "height": 24},
                         **ALL_ON})
    a = run(sc, seed=5, ticks=60)
    b = run(sc, seed=5, ticks=60)
    assert a.timeseries.equals(b.timeseries)
    ts = a.timeseries
    for col in ("predations", "weapons_collected", "weapons_destroyed", "acceptance_faction1",
                "relapses_faction0", "ex_combatants_faction1", "partner_capacity_mean",
                "tips_via_partners"):
        assert col in ts, col
    assert "acceptance_faction2" not in ts  # two factions: columns for 0 and 1 only
    assert ts["predations"].sum() > 0 and ts["weapons_collected"].sum() > 0
    assert ts["partner_capacity_mean"].iloc[30] > ts["partner_capacity_mean"].iloc[0]
    s = a.summary
    assert s["relapses_faction0_total"] + s["relapses_faction1_total"] == s["relapses_total"]
    assert s["weapons_collected_total"] >= s["weapons_destroyed_total"]
    assert s["exit_tick"] is not None and s["partner_capacity_at_exit"] > 0.2
    # the abusive faction (1) is remembered worse than the other
    assert s["mean_acceptance_faction1"] < s["mean_acceptance_faction0"]


def test_agent_column_names_are_unique():
    """A name in both the integer and the float columns would make ``arrays.<name>`` and
    ``add_agent(<name>=...)`` reach only the integer one (the police's leader-dialogue flag
    once hid residents' dialogue)."""
    assert not set(K.INT_COLUMNS) & set(K.FLOAT_COLUMNS)
    assert set(K.INT_COLUMNS) >= K.BOOL_COLUMNS
