"""The tick clears only the event planes that hold something, with the very results of
clearing them all.

The event-site planes (outputs only) are flagged when an event is counted in them
(:func:`sim.engine.fields.site_event`) and cleared when the next tick starts only if flagged
(:func:`sim.engine.fields.clear_sites`); the per-tick event planes that held nothing when
they were summed over vision (``box_sum_work`` says so) are not cleared again at the end
(:func:`sim.engine.layer_tick.clear_events`). Checked on hand-made planes and, after every
tick of models with many events, as the invariants that make skipping exact: an unflagged
site plane is all zero, and every event plane is all +0.0 when a tick ends.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.bench.bench import FULL_DENSITIES, FULL_SCENARIO
from sim.config.scenario import load_scenario
from sim.engine import layout as K
from sim.engine.calls import call
from sim.engine.fields import _box_sum_dense, box_sum_work, clear_sites, site_event
from sim.engine.layer_tick import clear_events
from sim.model.model import PeaceSimModel


def _model(size: int = 30, seed: int = 3, **extra) -> PeaceSimModel:
    overrides = {"world.width": size, "world.height": size, **FULL_DENSITIES, **extra}
    return PeaceSimModel(load_scenario(FULL_SCENARIO, overrides), seed=seed)


@pytest.mark.parametrize("bounded", [True, False])
def test_box_sum_says_when_the_plane_held_nothing(bounded: bool) -> None:
    rng = np.random.default_rng(5)
    w, h = 17, 13
    tmp = np.empty((w, h))
    col = np.empty(h)
    zero = np.zeros((w, h))
    out = np.full((w, h), 7.0)  # whatever was there: all +0.0 after
    assert call(box_sum_work, zero, 2, not bounded, out, tmp, col) is True
    assert not np.signbit(out).any() and not out.any()
    plane = np.zeros((w, h))
    plane[3, 4] = 1.0
    plane[9, 1] = rng.random()
    ref = np.empty((w, h))
    call(_box_sum_dense, plane, 2, not bounded, ref, np.empty((w, h)), np.zeros(h))
    assert call(box_sum_work, plane, 2, not bounded, out, tmp, col) is False
    assert out.tobytes() == ref.tobytes()
    # -0.0 counts as nothing: the result is +0.0, as the dense passes give
    neg = np.zeros((w, h))
    neg[2, 2] = -0.0
    assert call(box_sum_work, neg, 2, not bounded, neg, tmp, col) is True
    assert not np.signbit(neg).any()


def test_site_planes_are_flagged_and_only_flagged_ones_cleared() -> None:
    m = _model(size=12)
    lay = m.layer.lay
    lay.f[K.L_SITE_ATTACK:K.L_CLASH_AT + 1] = 0.0
    lay.scalars[K.S_SITE0:] = 0.0
    packed = lay.packed
    call(site_event, packed, K.L_SITE_KILLED, 3, 4)
    call(site_event, packed, K.L_SITE_KILLED, 3, 4)
    call(site_event, packed, K.L_SITE_PREDATION, 0, 11)
    assert lay.f[K.L_SITE_KILLED, 3, 4] == 2.0 and lay.f[K.L_SITE_PREDATION, 0, 11] == 1.0
    flags = lay.scalars[K.S_SITE0:K.S_SITE0 + K.N_SITE_FLAGS]
    assert set(np.flatnonzero(flags)) == {K.L_SITE_KILLED - K.L_SITE_ATTACK,
                                          K.L_SITE_PREDATION - K.L_SITE_ATTACK}
    lay.f[K.L_SITE_ATTACK, 1, 1] = 5.0  # not flagged: left alone (the tick never does this)
    lay.f[K.L_CLASH_AT, 2, 2] = 1.0  # clashes: cleared every tick
    assert call(clear_sites, packed) == 2
    assert not lay.f[K.L_SITE_KILLED].any() and not lay.f[K.L_SITE_PREDATION].any()
    assert not lay.f[K.L_CLASH_AT].any()
    assert lay.f[K.L_SITE_ATTACK, 1, 1] == 5.0
    assert not lay.scalars[K.S_SITE0:].any()
    assert call(clear_sites, packed) == 0


def test_clear_events_skips_only_the_quiet_planes() -> None:
    m = _model(size=12)
    lay = m.layer.lay
    grid = m.cells
    for i, layer in enumerate(K.EVENT_LAYERS):
        lay.f[layer] = i + 1.0
    grid.abuse_ev[:] = 3.0
    quiet = (1 << 0) | (1 << 6)
    call(clear_events, grid, m.params, lay.packed, quiet)
    n = len(K.EVENT_LAYERS)
    for i, layer in enumerate(K.EVENT_LAYERS):
        beyond = K.L_FACTION_EV0 + m.params.armed_groups_factions <= layer <= K.L_FACTION_EV3
        kept = bool((quiet >> i) & 1) or beyond  # (planes of factions beyond: never written)
        assert (lay.f[layer] == i + 1.0).all() if kept else not lay.f[layer].any()
    assert not grid.abuse_ev.any()
    grid.abuse_ev[:] = 3.0
    call(clear_events, grid, m.params, lay.packed, 1 << n)
    assert (grid.abuse_ev == 3.0).all()


#: worlds with many events of every kind: attacks, interdictions, clashes between factions
#: (crossfire), predation, police arrests and abuse
BUSY = {
    "baseline": {},
    "violent": {"armed_groups.density": 0.08, "armed_groups.aggression": 0.4,
                "armed_groups.factions": 2},
}


@pytest.mark.parametrize("world", sorted(BUSY))
def test_after_every_tick_skipped_planes_hold_nothing(world: str) -> None:
    m = _model(size=40, seed=11, **BUSY[world])
    lay = m.layer.lay
    nf = m.params.armed_groups_factions
    events = [layer for layer in K.EVENT_LAYERS
              if not K.L_FACTION_EV0 + nf <= layer <= K.L_FACTION_EV3]
    flagged = set()
    for _ in range(40):
        m.step()
        for k, layer in enumerate(K.SITE_LAYERS):
            if layer == K.L_SITE_ABUSE:
                continue  # overwritten every tick, never flagged
            if lay.scalars[K.S_SITE0 + k]:
                flagged.add(layer)
                assert lay.f[layer].any()
            else:  # the next tick does not clear it: it must hold nothing
                assert not lay.f[layer].any(), K.LAYER_NAMES[layer]
        for layer in events:  # all +0.0, whether cleared or skipped
            assert not lay.f[layer].any() and not np.signbit(lay.f[layer]).any()
        assert not m.cells.abuse_ev.any() and not np.signbit(m.cells.abuse_ev).any()
    assert K.L_SITE_ATTACK in flagged and len(flagged) >= 3  # the run had events to check
