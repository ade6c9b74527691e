"""Livelihoods (ODD 7.12): programme jobs found and lost.

Employment lowers hardship (``economy.employment_relief``, in the grievance of
:mod:`sim.rules.civil_violence`) and blocks recruitment (:mod:`sim.rules.transitions`); with
reintegration support ex-combatants are first in line for programme jobs. Every resident on
the grid is checked once a tick, in slot order
(:func:`sim.engine.layer_tick.livelihoods_phase`).
"""

from __future__ import annotations

from numba import njit

from sim.engine.layout import I_EMPLOYED, I_EX_COMBATANT
from sim.engine.rng import uniform


@njit(inline="always", cache=True)
def job_probability(ex_combatant, prm):
    """ODD 7.12: an unemployed resident finds programme work with probability
    ``programme_rate``, x (1 + ``ddr.job_priority`` ``reintegration_support``) for
    ex-combatants (capped at 1)."""
    p = prm.economy_programme_rate
    if ex_combatant:
        p *= 1.0 + prm.ddr_job_priority * prm.ddr_reintegration_support  # ex-combatants first
    return min(1.0, p)


@njit(inline="always", cache=True)
def work(ai, a, e, prm, rng):
    """ODD 7.12, resident ``a`` on a cell of economy ``e``: the employed lose their job with
    probability ``job_loss`` (1 - E); the unemployed may find programme work
    (:func:`job_probability`; none without programmes)."""
    if ai[a, I_EMPLOYED]:
        if uniform(rng) < prm.economy_job_loss * (1.0 - e):
            ai[a, I_EMPLOYED] = 0
    elif prm.economy_programme_rate > 0.0:
        if uniform(rng) < job_probability(ai[a, I_EX_COMBATANT], prm):
            ai[a, I_EMPLOYED] = 1
