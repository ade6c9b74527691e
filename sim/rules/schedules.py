"""Schedules (ODD 7.6): regime legitimacy and the size of the police force over time."""

from __future__ import annotations

from sim.config.scenario import Police, Unrest


def legitimacy_at(unrest: Unrest, tick: int) -> float:
    """ODD 7.6: legitimacy in force during ``tick`` (ticks count from 1; tick 0 is the set-up).

    constant: ``legitimacy``; step: ``target`` from ``start_tick`` on; linear: moves from
    ``legitimacy`` toward ``target`` by ``rate`` per tick, the first move at ``start_tick``.
    """
    s = unrest.legitimacy_schedule
    base = unrest.legitimacy
    if s.kind == "constant" or tick < s.start_tick:
        return base
    if s.kind == "step":
        return s.target
    moved = s.rate * (tick - s.start_tick + 1)
    if s.target < base:
        return max(s.target, base - moved)
    return min(s.target, base + moved)


def police_density_at(police: Police, tick: int) -> float:
    """ODD 7.6: police density in force during ``tick``: constant, or a linear ramp to
    ``ramp_to`` over ``ramp_ticks`` from ``ramp_start``."""
    if police.ramp_to is None or tick < police.ramp_start:
        return police.density
    if police.ramp_ticks == 0:
        return police.ramp_to
    frac = min(1.0, (tick - police.ramp_start + 1) / police.ramp_ticks)
    return police.density + (police.ramp_to - police.density) * frac
