"""Round-2 shortcuts on the Python side of a tick give what the plain code gave (issue 12).

Each is checked against the computation it replaces, on hand-made or perturbed worlds: the
metrics kernel's block sums against numpy's ``sum`` (bit for bit); the one-pass counts of
units by role and of unpaired mentors and officers against numpy masks over the agent table;
the timeline's replacement of losses and mentor pairing against the plain code they replaced
(the same agents, the same draws: the generator ends in the same state); compiled draws from
a numpy Generator against its own methods; the compiled reinforcements against the
try-by-try loop in Python; and the metrics kernel given only the parameters it reads against
it given them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numba import njit

from sim.config.scenario import ROLE_NAMES, load_scenario
from sim.engine import layout as K
from sim.engine.calls import call
from sim.engine.generator import generator_state
from sim.engine.generator import integers as draw_integer
from sim.engine.generator import random as draw_random
from sim.engine.grid import new_agent, place_new_slots, remove_agent
from sim.engine.metrics import layer_metrics, pairwise_sum, unit_roles, unpaired_mentors
from sim.model.layer import MetricParams, metric_params
from sim.model.model import PeaceSimModel
from sim.rules.armed_groups import new_aggression
from sim.rules.mission import role_counts

ROOT = Path(__file__).resolve().parents[1]


def _scenario(size: int = 24, **overrides: Any):
    over = {"world.width": size, "world.height": size, **overrides}
    return load_scenario(ROOT / "scenarios" / "baseline.toml", overrides=over)


def _same_state(a: PeaceSimModel, b: PeaceSimModel) -> None:
    assert np.array_equal(a.arrays.i, b.arrays.i)
    assert np.array_equal(a.arrays.f, b.arrays.f)
    assert np.array_equal(a.cells.occ, b.cells.occ)
    assert np.array_equal(a.cells.fields, b.cells.fields)
    assert np.array_equal(a.meta, b.meta)
    assert np.array_equal(a.free_stack, b.free_stack)
    assert a.layer._gen.bit_generator.state == b.layer._gen.bit_generator.state


# ----------------------------------------------------------------------------- block sums


def test_pairwise_sum_is_numpys_sum_bit_for_bit() -> None:
    rng = np.random.default_rng(5)
    sizes = list(range(0, 300)) + rng.integers(300, 50_000, 120).tolist() + [10_000, 7650]
    for n in sizes:
        scale = 10.0 ** rng.integers(-6, 7)
        a = rng.normal(size=n) * scale + (rng.random() - 0.5) * scale
        got = pairwise_sum(a, n)
        assert got == (a.sum() if n else 0.0), n
    plane = rng.random((3, 100, 100))  # a plane of a stack, flattened as the kernel does
    assert pairwise_sum(plane[1].reshape(10_000), 10_000) == plane[1].sum()
    rows = rng.random((5, 9000))  # a row of the per-agent buffer, its first n values
    assert pairwise_sum(rows[2], 7001) == rows[2][:7001].sum()


# ----------------------------------------------------------------------------- one-pass counts


def _perturbed(seed: int = 3) -> PeaceSimModel:
    """A model a few ticks in, with some mentors' partners made invalid every way: none,
    an officer who died, a slot that holds no officer."""
    m = PeaceSimModel(_scenario(**{"strategy.roles.police_mentoring": 0.3,
                                   "strategy.roles.patrol": 0.25}), seed=seed)
    for _ in range(3):
        m.step()
    ai = m.arrays.i
    high = int(m.meta[K.META_HIGH])
    mentors = np.flatnonzero((ai[:high, K.I_ALIVE] != 0) & (ai[:high, K.I_KIND] == K.PEACEKEEPER)
                             & (ai[:high, K.I_ROLE] == K.MENTORING))
    assert mentors.size >= 4
    residents = np.flatnonzero((ai[:high, K.I_ALIVE] != 0) & (ai[:high, K.I_KIND] == K.RESIDENT))
    dead = np.flatnonzero(ai[:high, K.I_ALIVE] == 0)
    ai[mentors[0], K.I_HOME] = -1
    ai[mentors[1], K.I_HOME] = residents[0]
    if dead.size:
        ai[mentors[2], K.I_HOME] = dead[0]
    return m


def test_unit_roles_counts_live_units_by_role_as_bincount() -> None:
    m = _perturbed()
    ai = m.arrays.i
    high = int(m.meta[K.META_HIGH])
    out = np.full(max(K.ROLE_CODES.values()) + 1, 7, np.int64)
    unit_roles(m.ag, m.meta, out)
    units = (ai[:high, K.I_ALIVE] != 0) & (ai[:high, K.I_KIND] == K.PEACEKEEPER)
    want = np.bincount(ai[:high][units, K.I_ROLE], minlength=out.size)
    assert out.tolist() == want.tolist() and out.sum() == m.count(K.C_PEACEKEEPERS)


def test_unpaired_mentors_and_officers_are_the_numpy_masks() -> None:
    m = _perturbed()
    ai = m.arrays.i[: m.meta[K.META_HIGH]]
    alive, kind = ai[:, K.I_ALIVE] != 0, ai[:, K.I_KIND]
    police = np.flatnonzero(alive & (kind == K.POLICE))
    want = [int(s) for s in np.flatnonzero(alive & (kind == K.PEACEKEEPER)
                                            & (ai[:, K.I_ROLE] == K.MENTORING))
            if not (ai[s, K.I_HOME] >= 0 and ai[ai[s, K.I_HOME], K.I_ALIVE]
                    and ai[ai[s, K.I_HOME], K.I_KIND] == K.POLICE)]
    mentors = np.empty(m.capacity, np.int64)
    officers = np.empty(m.capacity, np.int64)
    n_m, n_p = unpaired_mentors(m.ag, m.meta, mentors, officers)
    assert len(want) >= 2
    assert mentors[:n_m].tolist() == want
    assert officers[:n_p].tolist() == police.tolist()


# ----------------------------------------------------------------------------- the timeline


def _pair_mentors_plain(layer: Any) -> None:
    """PeacekeepingLayer.pair_mentors as it was (numpy masks, police found when needed)."""
    m = layer.model
    ai = m.arrays.i[: m.meta[K.META_HIGH]]
    alive, kind = ai[:, K.I_ALIVE] != 0, ai[:, K.I_KIND]
    mentors = np.flatnonzero(alive & (kind == K.PEACEKEEPER) & (ai[:, K.I_ROLE] == K.MENTORING))
    police = None
    for slot in mentors.tolist():
        partner = int(ai[slot, K.I_HOME])
        if partner < 0 or not ai[partner, K.I_ALIVE] or ai[partner, K.I_KIND] != K.POLICE:
            if police is None:
                police = np.flatnonzero(alive & (kind == K.POLICE))
            ai[slot, K.I_HOME] = int(layer._gen.choice(police)) if police.size else -1


def test_pair_mentors_pairs_as_the_plain_code_did() -> None:
    a, b = _perturbed(), _perturbed()
    _same_state(a, b)
    a.layer.pair_mentors()
    _pair_mentors_plain(b.layer)
    _same_state(a, b)
    before = a.layer._gen.bit_generator.state
    a.layer.pair_mentors()  # all paired now: no draw, nothing changes
    assert a.layer._gen.bit_generator.state == before


def test_pair_mentors_without_officers_leaves_mentors_unpaired() -> None:
    a, b = _perturbed(), _perturbed()
    for m in (a, b):
        police = m.arrays.alive & (m.arrays.kind == K.POLICE)
        m.arrays.i[police, K.I_KIND] = K.RESIDENT  # hand edit: no officer left
    a.layer.pair_mentors()
    _pair_mentors_plain(b.layer)
    _same_state(a, b)
    ai = a.arrays.i
    mentors = a.arrays.alive & (a.arrays.kind == K.PEACEKEEPER) & (a.arrays.role == K.MENTORING)
    assert (ai[mentors, K.I_HOME] == -1).all()


def _replace_losses_plain(layer: Any, keep: int) -> int:
    """PeacekeepingLayer.replace_losses as it was (numpy masks and bincount, units placed
    through ``call``)."""
    m = layer.model
    have = m.count(K.C_PEACEKEEPERS)
    if keep <= have:
        return 0
    ai = m.arrays.i[: m.meta[K.META_HIGH]]
    units = (ai[:, K.I_ALIVE] != 0) & (ai[:, K.I_KIND] == K.PEACEKEEPER)
    now = np.bincount(ai[units, K.I_ROLE], minlength=len(ROLE_NAMES))
    shares = {r: getattr(layer.sc.strategy.roles, r) for r in ROLE_NAMES}
    want = role_counts(keep, shares)
    missing = [K.ROLE_CODES[r] for r in ROLE_NAMES
               for _ in range(max(0, want[r] - int(now[K.ROLE_CODES[r]])))]
    roles = np.array(missing[: keep - have], np.int8)
    new = np.sort(call(place_new_slots, m.ag, m.cells, m.geometry, m.params, m.rng_state,
                       K.PEACEKEEPER, m.params.pk_class, len(roles), m.free_stack, m.meta))
    roles = roles[: new.size]
    ag = m.arrays
    ag.role[new] = roles
    sites = layer.sc.mechanisms.protection_sites and layer.lay.sites.size > 0
    for slot, role in zip(new.tolist(), roles.tolist(), strict=True):
        if role == K.STATIC and sites and layer._gen.random() < layer.sc.sites.post_share:
            ag.home[slot] = layer._site_post()
        elif role in (K.STATIC, K.ENGAGEMENT, K.DDR_UNIT):
            ag.home[slot] = layer._post(layer.market_cells)
        elif role == K.CHECKPOINT:
            ag.home[slot] = layer._checkpoint_post()
    if new.size and K.MENTORING in missing:
        _pair_mentors_plain(layer)
    return int(new.size)


@pytest.mark.parametrize("lost", [1, 5, 12])
def test_replace_losses_replaces_as_the_plain_code_did(lost: int) -> None:
    a, b = _perturbed(seed=lost), _perturbed(seed=lost)
    for m in (a, b):  # units lost in clashes: the first `lost` units by slot
        ai = m.arrays.i
        units = np.flatnonzero((ai[:, K.I_ALIVE] != 0) & (ai[:, K.I_KIND] == K.PEACEKEEPER))
        for slot in units[:lost].tolist():
            call(remove_agent, m.ag, m.cells, m.geometry, m.params, slot, m.free_stack, m.meta)
    keep = a.layer.pk_deployed
    assert a.count(K.C_PEACEKEEPERS) == keep - lost
    placed = a.layer.replace_losses(keep)
    assert placed == _replace_losses_plain(b.layer, keep) == lost
    _same_state(a, b)
    assert a.count(K.C_PEACEKEEPERS) == keep


# ----------------------------------------------------------------------------- reinforcements


@njit
def _draw_mixed(g, r, n, out):
    """Integers in [-r, r] and doubles in turn, as the Generator's methods would give them."""
    for i in range(n):
        out[i] = draw_random(g) if i % 3 == 2 else draw_integer(g, -r, r + 1)


@pytest.mark.parametrize("r", [0, 1, 2, 4, 7, 100, 70_000, 2**30])  # 2**30: rejections
def test_compiled_draws_are_the_generators_own(r: int) -> None:
    for seed in range(60):
        ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
        if seed % 2:  # a half-word already buffered
            ours.integers(0, 5)
            theirs.integers(0, 5)
        want = [theirs.random() if i % 3 == 2 else float(theirs.integers(-r, r + 1))
                for i in range(31)]
        got = np.empty(31)
        _draw_mixed(generator_state(ours), r, 31, got)
        assert got.tolist() == want
        assert ours.bit_generator.state == theirs.bit_generator.state
        assert ours.poisson(0.5) == theirs.poisson(0.5)  # the methods carry on from there


def test_generator_state_is_made_once_per_bit_generator() -> None:
    gen = np.random.default_rng(1)
    assert generator_state(gen) is generator_state(gen)
    assert generator_state(np.random.default_rng(1))[0] != generator_state(gen)[0]


def _reinforce_plain(ag, grid, geo, prm, free_stack, meta, gen, strongholds) -> int:
    """sim.rules.armed_groups.reinforce as it was: every try drawn one by one."""
    w, h = geo.width, geo.height
    r = prm.armed_groups_stronghold_radius
    arrived = 0
    for f in range(prm.armed_groups_factions):
        arrivals = int(gen.poisson(prm.armed_groups_reinforcement / prm.armed_groups_factions))
        sx, sy = strongholds[f]
        for _ in range(arrivals):
            for _try in range(prm.armed_groups_stronghold_tries):
                x = int(sx + gen.integers(-r, r + 1))
                y = int(sy + gen.integers(-r, r + 1))
                if prm.world_torus:
                    x, y = x % w, y % h
                if 0 <= x < w and 0 <= y < h and grid.occ[x, y] < 0:
                    slot = call(new_agent, ag, grid, geo, prm, K.COMBATANT, prm.comb_class,
                                x * h + y, free_stack, meta)
                    ag.i[slot, K.I_FACTION] = f
                    if prm.residents_groups == 2:
                        ag.i[slot, K.I_GROUP] = f % 2
                    ag.f[slot, K.F_AGGRESSION] = call(
                        new_aggression, prm.armed_groups_aggression,
                        prm.armed_groups_aggression_min, gen.random())
                    ag.f[slot, K.F_HARDSHIP] = gen.random()
                    ag.f[slot, K.F_RISK] = gen.random()
                    arrived += 1
                    break
    return arrived


@pytest.mark.parametrize("torus,radius,factions", [(False, 1, 1), (True, 2, 2), (False, 0, 3)])
def test_reinforce_draws_and_places_as_the_try_by_try_loop(torus: bool, radius: int,
                                                           factions: int) -> None:
    """Many arrivals near small strongholds on a crowded map fill them, so tries succeed and
    fail: the same fighters, the same draws."""
    sc = _scenario(16, **{"world.torus": torus, "armed_groups.stronghold_radius": radius,
                          "armed_groups.factions": factions,
                          "armed_groups.reinforcement": 6.0, "residents.density": 0.8})
    a, b = PeaceSimModel(sc, seed=2), PeaceSimModel(sc, seed=2)
    arrived = []
    for _ in range(12):
        got = a.layer.reinforce()
        want = _reinforce_plain(b.ag, b.cells, b.geometry, b.params, b.free_stack, b.meta,
                                b.layer._gen, b.layer.strongholds)
        assert got == want
        arrived.append(got)
        _same_state(a, b)
    # more were sent (about 72) than the cells near the strongholds hold; with a reach of a
    # cell or more, some arrived (a stronghold's own cell is taken from the start)
    assert sum(arrived) <= factions * (2 * radius + 1) ** 2
    assert sum(arrived) > 0 or radius == 0


# ----------------------------------------------------------------------------- metrics call


def test_the_metrics_kernel_gives_the_same_from_its_few_parameters() -> None:
    """The small parameter tuple (only what the kernel reads) against the whole one: the same
    census, counts and means, bit for bit; and new parameters (an event's) reach it."""
    m = _perturbed()
    lay = m.layer
    assert set(MetricParams._fields) <= set(m.params._fields)
    small = metric_params(m.params)
    assert all(getattr(small, f) == getattr(m.params, f) for f in MetricParams._fields)

    def run(prm: Any) -> tuple[list[float], list[int]]:
        out, census = np.zeros_like(lay._metrics), np.zeros_like(m.census_counts)
        call(layer_metrics, m.ag, m.cells, prm, lay.lay.packed, m.meta, float(m.legitimacy),
             census, out, np.zeros_like(lay._buf), lay.lay.district,
             np.zeros_like(lay._by_district), *lay._no_views)
        return out.tolist(), census.tolist()

    assert run(small) == run(m.params)
    m.params = m.params._replace(trust_legitimacy_threshold=0.0)  # as an event sets them
    values, *_ = lay.observe(m.census_counts)
    assert values == run(m.params)[0]
    assert lay._prm.trust_legitimacy_threshold == 0.0
