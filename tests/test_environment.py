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


def test_economy_rises_with_security_and_infrastructure_and_falls_with_violence():
    shape = (4, 4)
    zero = np.zeros(shape)
    one = np.ones(shape)
    args = dict(base=0.3, w_infrastructure=0.3, w_security=0.2, w_violence=0.5,
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
