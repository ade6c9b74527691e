"""Livelihoods (ODD 7.12): programme jobs found and lost.

Employment lowers hardship (``economy.employment_relief``, in the grievance of
:mod:`sim.rules.civil_violence`) and blocks recruitment (:mod:`sim.rules.transitions`); with
reintegration support ex-combatants are first in line for programme jobs. Every resident on
the grid is checked once a tick, in slot order
(:func:`sim.engine.layer_tick.livelihoods_phase`).
"""

from __future__ import annotations

from numba import njit


@njit(inline="always", cache=True)
def job_change_chance(employed, ex_combatant, e, prm):
    """ODD 7.12, a resident on a cell of economy ``e``: the employed lose their job with
    probability ``job_loss`` (1 - E); the unemployed find programme work with probability
    ``programme_rate``, x (1 + ``ddr.job_priority`` ``reintegration_support``) for
    ex-combatants, capped at 1. Returns the probability that employment flips, -1 without
    programmes for the unemployed (nothing is drawn)."""
    if employed:
        return prm.economy_job_loss * (1.0 - e)
    if not prm.economy_programme_rate > 0.0:
        return -1.0
    p = prm.economy_programme_rate
    if ex_combatant:
        p *= 1.0 + prm.ddr_job_priority * prm.ddr_reintegration_support  # ex-combatants first
    return min(1.0, p)
