"""Police conduct (ODD 7.12): professionalism grows on joint patrols with mentors and decays
without them.

Professionalism sets how often a police arrest is abusive (:mod:`sim.rules.civil_violence`,
:mod:`sim.rules.armed_groups`) and weighs officers in the security they provide (ODD 7.7).
Every officer on the grid is updated once a tick
(:func:`sim.engine.layer_tick.police_phase`).
"""

from __future__ import annotations

from numba import njit


@njit(inline="always", cache=True)
def professionalism_step(p, mentored, prm):
    """ODD 7.12: professionalism p grows by ``mentoring_gain`` (1 - p) near a mentor (within
    ``strategy.mentor_radius``) and decays by ``professionalism_decay`` p otherwise."""
    if mentored:
        return p + prm.police_mentoring_gain * (1.0 - p)
    return p - prm.police_professionalism_decay * p
