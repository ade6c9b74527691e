"""Environment submodels on hand-built layers: known input, known update."""

from __future__ import annotations

import numpy as np
import pytest
import reference_environment as env


def test_violence_decays_and_spreads_conserving_mass_on_a_torus():
    v = np.zeros((5, 5))
    v[2, 2] = 1.0
    env.update_violence(v, decay=0.1, spread=0.2, torus=True)
    assert v.sum() == pytest.approx(0.9)
    assert v[2, 2] == pytest.approx(0.9 * 0.8)
    assert v[1, 2] == v[3, 2] == v[2, 1] == v[2, 3] == pytest.approx(0.9 * 0.2 / 4)
    assert v[0, 0] == 0.0


def test_economy_rises_with_market_access_and_infrastructure_and_falls_with_violence():
    shape = (4, 4)
    zero = np.zeros(shape)
    one = np.ones(shape)
    args = dict(base=0.3, w_infrastructure=0.3, w_access=0.2, w_violence=0.5,
                market_bonus=0.1)
    calm = env.economy_target(zero, one, zero, zero, **args)
    unsafe = env.economy_target(zero, zero, zero, zero, **args)
    violent = env.economy_target(zero, zero, one, zero, **args)
    built = env.economy_target(one, zero, zero, zero, **args)
    assert np.all(calm > unsafe) and np.all(violent < unsafe) and np.all(built > unsafe)
    assert np.all((violent >= 0) & (built <= 1))
    e = np.full(shape, 0.5)
    env.update_economy(e, calm, rate=0.5, diffusion=0.0, torus=True)
    assert e == pytest.approx(np.full(shape, 0.5 + 0.5 * (0.5 - 0.5)))


def test_infrastructure_grows_under_programmes_and_violence_damages_it():
    i = np.full((3, 3), 0.5)
    prog = np.zeros((3, 3))
    prog[1, 1] = 1.0
    v = np.zeros((3, 3))
    v[0, 0] = 2.0
    env.update_infrastructure(i, prog, v, build_rate=0.1, damage_rate=0.2, violence_scale=0.5)
    assert i[1, 1] == pytest.approx(0.5 + 0.1 * 0.5)
    assert i[0, 0] == pytest.approx(0.5 - 0.2 * 1.0 * 0.5)
    assert i[2, 2] == 0.5


@pytest.mark.parametrize("torus", [True, False])
def test_the_kernel_updates_the_layers_exactly_as_the_reference(torus):
    """``sim.engine.layer_tick.environment_phase`` (the rules of ``sim.rules.environment``
    swept over the grid) gives the reference's layers: violence and economy to the last bit,
    infrastructure to the last bit of an exponential."""
    from sim.config.scenario import build_scenario
    from sim.engine.fields import box_sum
    from sim.engine.layer_tick import environment_phase
    from sim.model.model import PeaceSimModel

    sc = build_scenario({
        "model": "peacekeeping",
        "world": {"width": 13, "height": 9, "torus": torus},
        "residents": {"density": 0.0}, "police": {"density": 0.0},
        "economy": {"violence_radius": 2, "calm_scale": 0.7, "build_rate": 0.1,
                    "damage_rate": 0.2, "rate": 0.3, "diffusion": 0.15},
        "violence": {"decay": 0.25, "spread": 0.2},
    })
    m = PeaceSimModel(sc, seed=0)
    lay, e = m.layer.lay, sc.economy
    rng = np.random.default_rng(5)
    shape = lay.violence.shape
    lay.violence_civilian[:] = rng.exponential(0.3, shape)
    lay.violence_battle[:] = rng.exponential(0.2, shape)
    lay.infrastructure[:] = rng.random(shape)
    lay.programme[:] = rng.random(shape) < 0.5
    lay.market[:] = rng.random(shape) < 0.1
    lay.market_near[:] = env.box_sum(lay.market, e.access_radius, torus)
    m.cells.economy[:] = rng.random(shape)
    civ, battle = lay.violence_civilian.copy(), lay.violence_battle.copy()
    i, econ = lay.infrastructure.copy(), m.cells.economy.copy()

    environment_phase(m.cells, m.params, lay.packed)

    env.update_violence(civ, sc.violence.decay, sc.violence.spread, torus)
    env.update_violence(battle, sc.violence.decay, sc.violence.spread, torus)
    v = civ + battle
    access = env.market_access(v, lay.market, e.access_radius, torus, e.calm_scale)
    target = env.economy_target(i, access, box_sum(v, e.violence_radius, torus), lay.market,
                                e.base, e.w_infrastructure, e.w_access, e.w_violence,
                                e.market_bonus)
    env.update_economy(econ, target, e.rate, e.diffusion, torus)
    env.update_infrastructure(i, lay.programme, v, e.build_rate, e.damage_rate, e.calm_scale)
    assert np.array_equal(lay.violence_civilian, civ)
    assert np.array_equal(lay.violence_battle, battle)
    assert np.array_equal(lay.violence, v)
    # access goes through exp (numpy's and the C library's may differ in the last bit) and
    # box sums in another order
    np.testing.assert_allclose(lay.access, access, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(m.cells.economy, econ, rtol=1e-12, atol=1e-15)
    # exp(-V / calm_scale): numpy's vectorised exp and the C library's (which the kernel
    # calls) may differ in the last bit
    np.testing.assert_array_max_ulp(lay.infrastructure, i, maxulp=2)
