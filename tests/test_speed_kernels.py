"""The layer's kernels, made cheaper, give the very results of the plain computation.

Each shortcut is checked bit for bit against the code it replaces or against a computation
from scratch: box sums by listed cells against the dense sliding passes; presence from the
tick's roster (occupancy written and zeroed at the agents' cells) against occupancy planes
built with numpy and summed densely, on hand-built worlds and after many ticks; the roster
against a pass over every slot; the phases over the roster against the same phases over
every slot; the reports' search of a plane of ranks against the search of every neighbour;
and the draws of the generator held in registers against ``sim.engine.rng.uniform``.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from sim.bench.bench import FULL_DENSITIES, FULL_SCENARIO
from sim.config.scenario import load_scenario
from sim.engine import layout as K
from sim.engine.calls import call
from sim.engine.fields import (
    G_COMBATANTS,
    G_POLICE,
    G_RESIDENTS,
    G_UNITS,
    N_GROUPS,
    _box_sum_dense,
    _by_row,
    box_sum_at,
    box_sum_work,
    presence,
    presence_of,
    roster,
)
from sim.engine.grid import leave, neighbour_where, shuffled_slots
from sim.engine.layer_tick import (
    _combatant_seen,
    combatant_turns,
    combatants_phase,
    draw,
    in_random_order,
    move_units,
    officers_train,
    police_phase,
    release_detainees,
    units_phase,
)
from sim.engine.rng import seed_state, uniform_array
from sim.model.model import PeaceSimModel
from sim.rules.armed_groups import detention_phase
from sim.rules.information import seen_combatant
from sim.rules.police import arrest_weight
from sim.rules.protection import deterrence, interdiction

# --------------------------------------------------------------------------- box sums


def _dense(field: np.ndarray, r: int, torus: bool) -> np.ndarray:
    w, h = field.shape
    out = np.empty((w, h))
    _box_sum_dense(np.ascontiguousarray(field, dtype=np.float64), r, torus, out,
                   np.empty((w, h)), np.zeros(h))
    return out


def _rows_of(cells: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """``_by_row`` of flat cells (through a fake agent table: one agent per cell)."""
    ai = np.zeros((max(cells.size, 1), K.N_INT), np.int32)
    ai[: cells.size, K.I_X] = cells // h
    ai[: cells.size, K.I_Y] = cells % h
    starts = np.empty(w + 1, np.int64)
    ys = np.empty(max(cells.size, 1), np.int64)
    call(_by_row, ai, np.arange(cells.size, dtype=np.int64), cells.size, starts, ys)
    return starts, ys


def _sparse_planes(w: int, h: int, rng: np.random.Generator):
    """(name, plane, listed cells): values only at listed cells (a superset of the nonzero
    ones): counts, exact weights, weights that are not exact, and the awkward values."""
    cells = rng.choice(w * h, size=max(4, w * h // 25), replace=False)
    flat = np.zeros(w * h)
    yield "empty", flat.reshape(w, h).copy(), cells
    p = flat.copy()
    p[cells] = 1.0
    yield "counts", p.reshape(w, h), cells
    p = flat.copy()
    p[cells] = rng.choice([0.0, 0.25, 0.5, 1.0, 1.5], size=cells.size)  # some listed zeros
    yield "exact weights", p.reshape(w, h), cells
    p = flat.copy()
    p[cells] = rng.choice([0.1, 0.3, 1.0, 1e-3], size=cells.size)
    yield "weights", p.reshape(w, h), cells
    p = flat.copy()
    p[cells] = rng.random(cells.size) * 3.0 - 1.0
    yield "signed floats", p.reshape(w, h), cells
    p = flat.copy()
    p[cells] = rng.choice([0.5, 2.0**21, 2.0**-30], size=cells.size)  # beyond exact sums
    yield "large and tiny", p.reshape(w, h), cells
    p = flat.copy()
    p[cells[:3]] = [np.nan, np.inf, -0.0]
    p[cells[3:]] = 1.0
    yield "nan inf negative zero", p.reshape(w, h), cells
    dense = rng.choice(w * h, size=w * h // 2, replace=False)
    p = flat.copy()
    p[dense] = rng.random(dense.size)
    yield "half full", p.reshape(w, h), dense


@pytest.mark.parametrize(("w", "h"), [(40, 40), (17, 23), (23, 17), (1, 9), (9, 1), (5, 5)])
def test_box_sums_by_listed_cells_are_bit_identical_to_the_dense_passes(w, h):
    rng = np.random.default_rng(w * 31 + h)
    for torus in (False, True):
        for r in (0, 1, 2, 3, 5, 8, 30):
            for name, f, cells in _sparse_planes(w, h, rng):
                # radius 0: each cell itself (box_sum_work's copy, not the sliding passes)
                want = f.copy() if r == 0 else _dense(f, r, torus)
                starts, ys = _rows_of(cells, w, h)
                got = np.empty((w, h))
                call(box_sum_at, f, r, torus, got, np.empty((w, h)), np.zeros(h), starts, ys)
                same = f.copy()  # in place, as the officers who meet leaders are summed
                call(box_sum_at, same, r, torus, same, np.empty((w, h)), np.zeros(h), starts,
                     ys)
                work = np.empty((w, h))
                call(box_sum_work, f, r, torus, work, np.empty((w, h)), np.zeros(h))
                assert got.tobytes() == want.tobytes(), (name, torus, r)
                assert same.tobytes() == want.tobytes(), (name, torus, r)
                assert work.tobytes() == want.tobytes(), (name, torus, r)


def test_exact_weights_are_scattered_and_still_match_the_sliding_passes():
    """0.25 and 1.5 are sums exact in any order, 0.1 is not: the check above passes only if
    each kind of row takes a path that keeps the sliding passes' bits."""
    rng = np.random.default_rng(7)
    f = np.where(rng.random((30, 30)) < 0.05, 0.1, 0.0)
    naive = np.array([[f[max(x - 3, 0):x + 4, max(y - 3, 0):y + 4].sum() for y in range(30)]
                      for x in range(30)])
    want = _dense(f, 3, False)
    assert not np.array_equal(naive, want)  # 0.1: the order of the sums shows
    starts, ys = _rows_of(np.flatnonzero(f), 30, 30)
    got = np.empty_like(f)
    call(box_sum_at, f, 3, False, got, np.empty_like(f), np.zeros(30), starts, ys)
    assert got.tobytes() == want.tobytes()


def test_cells_are_grouped_by_row_in_ascending_order():
    rng = np.random.default_rng(3)
    cells = rng.choice(12 * 9, size=40, replace=False)
    starts, ys = _rows_of(cells, 12, 9)
    for x in range(12):
        row = ys[starts[x]:starts[x + 1]]
        assert list(row) == sorted(c % 9 for c in cells if c // 9 == x)
    assert starts[0] == 0 and starts[12] == 40


# --------------------------------------------------------------------------- presence


def _model(size: int = 30, ticks: int = 3, seed: int = 3, strategy: str | None = None,
           **extra) -> PeaceSimModel:
    overrides = {"world.width": size, "world.height": size, **FULL_DENSITIES, **extra}
    sc = load_scenario(FULL_SCENARIO, overrides, strategy=None if strategy is None
                       else FULL_SCENARIO.parent / "strategies" / f"{strategy}.toml")
    m = PeaceSimModel(sc, seed=seed)
    for _ in range(ticks):
        m.step()
    return m


#: worlds whose presence exercises every field: the baseline, a torus, police-community
#: forums, protection sites with patrols that seek the displaced, and checkpoints
WORLDS = {
    "baseline": {},
    "torus": {"world.torus": True},
    "forums": {"mechanisms.police_dialogue": True, "police.leader_dialogue": 0.5},
    "sites": {"mechanisms.protection_sites": True, "sites.count": 3,
              "violence.flee_threshold": 0.05},
    "checkpoints": {"strategy": "checkpoints", "mechanisms.checkpoints": True},
}


def _reference_presence(m: PeaceSimModel) -> dict[str, np.ndarray]:
    """Every presence field from scratch: occupancy planes built with numpy from the agent
    table, each summed by the dense sliding passes."""
    prm = m.params
    w, h = m.width, m.height
    torus = bool(prm.world_torus)
    high = int(m.meta[K.META_HIGH])
    ai = m.ag.i[:high]
    af = m.ag.f[:high]
    on = (ai[:, K.I_ALIVE] != 0) & (ai[:, K.I_X] >= 0)
    kind = ai[:, K.I_KIND]

    def plane(mask: np.ndarray, values: np.ndarray | float = 1.0) -> np.ndarray:
        p = np.zeros((w, h))
        v = np.broadcast_to(np.asarray(values, np.float64), mask.shape)[mask]
        np.add.at(p, (ai[mask, K.I_X], ai[mask, K.I_Y]), v)
        return p

    pk = on & (kind == K.PEACEKEEPER)
    pol = on & (kind == K.POLICE)
    comb = on & (kind == K.COMBATANT)
    res = on & (kind == K.RESIDENT)
    role = ai[:, K.I_ROLE]
    deter = np.array([call(deterrence, int(r), prm) for r in role])
    inter = np.array([call(interdiction, int(r), prm) for r in role])
    prof = af[:, K.F_PROFESSIONALISM]
    arrest = np.array([call(arrest_weight, float(q), prm) for q in prof])
    leaders = res & (ai[:, K.I_LEADER] != 0)
    rc = prm.armed_groups_vision
    out = {
        "deter": _dense(plane(pk, deter), rc, torus),
        "interdict": _dense(plane(pk, inter), rc, torus),
        "sec_police": _dense(plane(pol, prof), rc, torus),
        "n_police": _dense(plane(pol), rc, torus),
        "police_arrest": _dense(plane(pol, arrest), rc, torus),
        "interrupt": _dense(plane(pk, inter), prm.protection_interrupt_radius, torus),
        "comb_seen": _dense(plane(comb), prm.residents_vision, torus),
        "pk_reach": _dense(plane(pk), prm.tip_reach, torus),
        "police_reach": _dense(plane(pol), prm.information_report_reach, torus),
        "community_reach": _dense(plane(pol & (ai[:, K.I_COMMUNITY] != 0)),
                                  prm.information_community_reach, torus),
        "engage": _dense(plane(pk & (role == K.ENGAGEMENT)), prm.strategy_engagement_radius,
                         torus),
        "ddr_reach": _dense(plane(pk & (role == K.DDR_UNIT)), prm.ddr_radius, torus),
        "mentor": _dense(plane(pk & (role == K.MENTORING)), prm.strategy_mentor_radius, torus),
        "leader_n": _dense(plane(leaders), prm.trust_leader_radius, torus),
        "leader_trust": _dense(plane(leaders, af[:, K.F_TRUST_PK]), prm.trust_leader_radius,
                               torus),
    }
    for f in range(prm.armed_groups_factions):
        out[f"comb_own{f}"] = _dense(plane(comb & (ai[:, K.I_FACTION] == f)), rc, torus)
    x = np.maximum(ai[:, K.I_X], 0)
    y = np.maximum(ai[:, K.I_Y], 0)
    engaged = leaders & (out["engage"][x, y] > 0)
    out["leader_engaged"] = _dense(plane(engaged), prm.trust_leader_radius, torus)
    if prm.mechanisms_police_dialogue and prm.police_leader_dialogue > 0.0:
        near = _dense(plane(pol & (ai[:, K.I_DIALOGUE] != 0)), prm.police_dialogue_radius,
                      torus)
        out["relay"] = _dense(plane(leaders & (near[x, y] > 0.0)), prm.trust_leader_radius,
                              torus)
    else:
        out["relay"] = np.zeros((w, h))
    if prm.mechanisms_protection_sites and prm.sites_count > 0:
        out["displaced_near"] = _dense(plane(res & (ai[:, K.I_DISPLACED] != 0)),
                                       prm.sites_radius, torus)
    out["units"] = np.array(int(pk.sum()))
    out["officers"] = np.array(int(pol.sum()))
    return out


def _presence_now(m: PeaceSimModel) -> dict[str, np.ndarray]:
    lay = m.layer.lay
    names = ["deter", "interdict", "sec_police", "n_police", "police_arrest", "interrupt",
             "comb_seen", "pk_reach", "police_reach", "community_reach", "engage",
             "ddr_reach", "mentor", "leader_n", "leader_trust", "leader_engaged", "relay",
             "displaced_near"]
    out = {n: getattr(lay, n).copy() for n in names}
    for f in range(m.params.armed_groups_factions):
        out[f"comb_own{f}"] = lay.comb_own[f].copy()
    out["units"] = np.array(int(m.meta[K.META_UNITS]))
    out["officers"] = np.array(int(m.meta[K.META_OFFICERS]))
    return out


def _assert_presence(m: PeaceSimModel) -> None:
    want = _reference_presence(m)
    got = _presence_now(m)
    for name, plane in want.items():
        assert got[name].tobytes() == plane.tobytes(), name
    # the occupancy planes are all zero again (but the checkpoints', read after presence,
    # the officers who meet leaders, summed in place, and the scratch planes)
    work = m.layer.lay.packed.work
    kept = {K.W_TMP, K.W_CHECKPOINT, K.W_DIALOGUE, K.W_NEAR, K.W_TARGET}
    for p in range(work.shape[0]):
        if p not in kept:
            assert not work[p].any(), p


@pytest.mark.parametrize("world", sorted(WORLDS))
def test_presence_equals_presence_from_scratch_after_many_ticks(world):
    m = _model(30, ticks=1, **WORLDS[world])
    assert world != "checkpoints" or m.layer.lay.packed.work[K.W_CHECKPOINT].any()
    for _ in range(4):
        for _ in range(5):
            m.step()
        m.layer.refresh_presence()
        _assert_presence(m)
    if world == "forums":
        assert m.layer.lay.relay.any()  # the forum path ran
    if world == "sites":
        assert m.layer.lay.displaced_near.any()


def test_presence_on_a_hand_built_world():
    """Agents of every kind placed by hand: edges and corners, several roles, a jailed
    resident and a detained combatant (off the map: not counted), a dead unit."""
    m = _model(12, ticks=0, **{"residents.density": 0.0, "armed_groups.density": 0.0,
                               "peacekeepers.density": 0.0, "police.density": 0.0})
    add = m.add_agent
    add("peacekeeper", 0, 0, role="patrol")
    add("peacekeeper", 11, 11, role="engagement")
    add("peacekeeper", 5, 0, role="ddr")
    add("peacekeeper", 6, 6, role="static")
    dead = add("peacekeeper", 3, 3, role="patrol").slot
    add("police", 0, 11, professionalism=0.3)
    add("police", 7, 4, professionalism=0.9)
    add("combatant", 2, 9)
    gone = add("combatant", 9, 2).slot
    for x, y in ((1, 1), (6, 7), (11, 0), (4, 4)):
        add("resident", x, y)
    ai = m.ag.i
    res = [a for a in range(int(m.meta[K.META_HIGH])) if ai[a, K.I_KIND] == K.RESIDENT]
    ai[res[:2], K.I_LEADER] = 1
    m.ag.f[res[0], K.F_TRUST_PK] = 0.7
    _leave_map(m, gone)
    _leave_map(m, dead)
    ai[dead, K.I_ALIVE] = 0
    m.layer.refresh_presence()
    _assert_presence(m)
    assert int(m.meta[K.META_UNITS]) == 4 and int(m.meta[K.META_OFFICERS]) == 2


def _leave_map(m: PeaceSimModel, a: int) -> None:
    """Take agent ``a`` off the map (detained, jailed, dead)."""
    call(leave, m.ag, m.cells, m.geometry, m.params, a)


# --------------------------------------------------------------------------- the roster


def _roster(m: PeaceSimModel) -> tuple[np.ndarray, np.ndarray]:
    high = int(m.meta[K.META_HIGH])
    slots = np.empty((N_GROUPS, max(high, 1)), np.int64)
    counts = np.zeros(N_GROUPS, np.int64)
    call(roster, m.ag.i, high, m.params, slots, counts)
    return slots, counts


@pytest.mark.parametrize("world", ["baseline", "sites"])
def test_the_roster_lists_every_agent_of_each_group_in_slot_order(world):
    m = _model(30, ticks=6, **WORLDS[world])
    slots, counts = _roster(m)
    high = int(m.meta[K.META_HIGH])
    ai = m.ag.i[:high]
    alive = ai[:, K.I_ALIVE] != 0
    kind = ai[:, K.I_KIND]
    sites = m.params.mechanisms_protection_sites and m.params.sites_count > 0
    counted = (ai[:, K.I_LEADER] != 0) | (sites & (ai[:, K.I_DISPLACED] != 0))
    want = {G_UNITS: alive & (kind == K.PEACEKEEPER), G_POLICE: alive & (kind == K.POLICE),
            G_COMBATANTS: alive & (kind == K.COMBATANT),
            G_RESIDENTS: alive & (kind == K.RESIDENT) & counted}
    for g, mask in want.items():
        assert list(slots[g, :counts[g]]) == list(np.flatnonzero(mask)), g
    assert counts[G_COMBATANTS] > 0 and counts[G_RESIDENTS] > 0


def _state(m: PeaceSimModel) -> list[np.ndarray]:
    lay = m.layer.lay.packed
    return [m.ag.i.copy(), m.ag.f.copy(), m.cells.occ.copy(), m.cells.fields.copy(),
            m.rng_state.copy(), lay.f.copy(), lay.tips.copy(), lay.scalars.copy(),
            m.meta.copy(), m.events.copy(), m.free_stack.copy()]


def _restore(m: PeaceSimModel, state: list[np.ndarray]) -> None:
    lay = m.layer.lay.packed
    for dst, src in zip([m.ag.i, m.ag.f, m.cells.occ, m.cells.fields, m.rng_state, lay.f,
                         lay.tips, lay.scalars, m.meta, m.events, m.free_stack], state,
                        strict=True):
        dst[...] = src


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        assert x.tobytes() == y.tobytes(), i


def test_random_order_over_the_roster_is_the_random_order_over_every_slot():
    m = _model(30, ticks=4)
    slots, counts = _roster(m)
    high = int(m.meta[K.META_HIGH])
    for g, kind in ((G_UNITS, K.PEACEKEEPER), (G_COMBATANTS, K.COMBATANT)):
        a = np.empty(m.capacity, np.int64)
        b = np.empty(m.capacity, np.int64)
        rng_a = m.rng_state.copy()
        rng_b = m.rng_state.copy()
        n = call(in_random_order, slots[g], counts[g], m.ag.i, kind, a, rng_a)
        n_all = call(shuffled_slots, m.ag.i, high, kind, b, rng_b)
        assert n == n_all > 0
        assert list(a[:n]) == list(b[:n]) and rng_a.tobytes() == rng_b.tobytes()


def test_the_phases_over_the_roster_equal_the_phases_over_every_slot():
    """Units, combatants, detainees and officers: each phase visited through the roster
    leaves the world as the same phase visiting every slot."""
    m = _model(30, ticks=8, **{"detention.release_rate": 0.5})
    args = (m.ag, m.cells, m.geometry, m.params, m.layer.lay.packed, m.rng_state)
    perm = np.empty(m.capacity, np.int64)
    ai = m.ag.i
    fighters = [a for a in range(int(m.meta[K.META_HIGH]))
                if ai[a, K.I_ALIVE] and ai[a, K.I_KIND] == K.COMBATANT and ai[a, K.I_X] >= 0]
    for a in fighters[::3]:  # some held, for the detention phase to release
        _leave_map(m, a)
        ai[a, K.I_STATE] = K.DETAINED
    start = _state(m)
    slots, counts = _roster(m)
    phases = [
        (lambda: call(units_phase, *args, perm, m.meta, 0),
         lambda: call(move_units, *args, perm, slots[G_UNITS], counts[G_UNITS], 0)),
        (lambda: call(combatants_phase, *args, perm, m.free_stack, m.meta, m.events),
         lambda: call(combatant_turns, *args, perm, slots[G_COMBATANTS], counts[G_COMBATANTS],
                      m.free_stack, m.meta, m.events)),
        (lambda: call(detention_phase, *args, m.meta, m.events),
         lambda: call(release_detainees, *args, slots[G_COMBATANTS], counts[G_COMBATANTS],
                      m.meta, m.events)),
        (lambda: call(police_phase, m.ag, m.params, m.layer.lay.mentor, m.meta),
         lambda: call(officers_train, m.ag, m.params, m.layer.lay.mentor, slots[G_POLICE],
                      counts[G_POLICE])),
    ]
    detained = np.sum((m.ag.i[:, K.I_KIND] == K.COMBATANT) & (m.ag.i[:, K.I_ALIVE] != 0)
                      & (m.ag.i[:, K.I_STATE] == K.DETAINED))
    assert detained > 0  # the detention phase has someone to release
    for every_slot, listed in phases:
        _restore(m, start)
        every_slot()
        want = _state(m)
        _restore(m, start)
        listed()
        _same(_state(m), want)
        assert not np.array_equal(want[0], start[0]) or not np.array_equal(want[1], start[1])


# --------------------------------------------------------------------------- reports


def test_the_combatant_in_sight_is_drawn_as_the_search_of_every_neighbour_draws_it():
    m = _model(30, ticks=5, **{"armed_groups.density": 0.08})
    ai = m.ag.i
    occ = m.cells.occ
    seen = np.zeros(occ.shape)
    for x in range(occ.shape[0]):
        for y in range(occ.shape[1]):
            a = occ[x, y]
            if a >= 0 and ai[a, K.I_KIND] != K.RESIDENT:
                seen[x, y] = call(seen_combatant, int(a), int(ai[a, K.I_KIND]),
                                  int(ai[a, K.I_STATE]), int(ai[a, K.I_GROUP]),
                                  int(ai[a, K.I_INFORMANT]), -1, -1, m.params)
    assert seen.any()
    residents = [a for a in range(int(m.meta[K.META_HIGH]))
                 if ai[a, K.I_ALIVE] and ai[a, K.I_KIND] == K.RESIDENT and ai[a, K.I_X] >= 0]
    found = 0
    for a in residents[:300]:
        x, y, k = int(ai[a, K.I_X]), int(ai[a, K.I_Y]), int(ai[a, K.I_VCLASS])
        rng_a = m.rng_state.copy()
        rng_b = m.rng_state.copy()
        got = call(_combatant_seen, seen, m.geometry, rng_a, x, y, k)
        want = call(neighbour_where, ai, m.cells, m.geometry, m.params, rng_b, x, y, k,
                    seen_combatant, a)[0]
        assert got == want and rng_a.tobytes() == rng_b.tobytes()
        found += got >= 0
    assert found > 10


# --------------------------------------------------------------------------- draws


@njit
def _draws(rng, n):
    out = np.empty(n)
    s0, s1, s2, s3 = rng[0], rng[1], rng[2], rng[3]
    for i in range(n):
        out[i], s0, s1, s2, s3 = draw(s0, s1, s2, s3)
    rng[0], rng[1], rng[2], rng[3] = s0, s1, s2, s3
    return out


def test_draws_in_registers_are_the_generators_draws():
    state = seed_state(np.random.SeedSequence(11))
    held = state.copy()
    got = _draws(held, 1000)
    want = call(uniform_array, state, 1000)  # advances state as the draws above did
    assert got.tobytes() == want.tobytes()
    assert held.tobytes() == state.tobytes()


def test_presence_of_the_tick_equals_presence():
    """The tick's presence (its roster) and the public one (its own roster) agree."""
    m = _model(30, ticks=5, **WORLDS["forums"])
    start = _state(m)
    m.layer.refresh_presence()
    want = _presence_now(m)
    _restore(m, start)
    slots, counts = _roster(m)
    call(presence_of, m.ag, m.meta, m.layer.lay.packed, m.params, slots, counts)
    got = _presence_now(m)
    for name in want:
        assert got[name].tobytes() == want[name].tobytes(), name
    call(presence, m.ag, m.meta, m.layer.lay.packed, m.params)


# --------------------------------------------------------------------------- seen(n)


@njit
def _seen_by_exp(values):
    out = np.empty(values.size)
    for i in range(values.size):
        out[i] = 1.0 - np.exp(-values[i])
    return out


def test_seen_counts_are_looked_up_with_the_bits_the_kernels_exp_gives():
    """The event fields hold counts: seen(n) for n < 64 comes from a table made with the C
    library's exp; it must equal 1 - np.exp(-n) as a kernel computes it, and any other value
    still goes through np.exp."""
    from sim.rules.trust import _SEEN_COUNTS, seen

    counts = np.arange(64, dtype=np.float64)
    assert _SEEN_COUNTS.tobytes() == _seen_by_exp(counts).tobytes()
    others = np.array([0.5, 1e-300, 63.5, 64.0, 65.0, 1000.0, 3.0000000000000004])
    want = np.concatenate([[0.0], _seen_by_exp(counts[1:]), _seen_by_exp(others)])
    got = np.array([call(seen, float(v)) for v in np.concatenate([counts, others])])
    assert got.tobytes() == want.tobytes()
    assert np.isnan(call(seen, float("nan")))
