"""Protection by role (ODD 7.9a): what each unit of the force does to armed groups, one
explicit, parameterised channel for each effect of presence.

A unit deters (its weight in the security S_v a combatant perceives), interdicts (its
capacity, with the tips the mission holds on a combatant) and can interrupt an attack near it
(the same capacity, within ``protection.interrupt_radius``). Each weight depends on the role
(``[protection.deterrence]``, ``[protection.interdiction]``): patrols, posts and rapid response
protect; engagement, DDR and mentoring units far less. Presence has no other effect: the
economy feels security only through violence and market access (ODD 7.13), and no attack is
less lethal because a unit stands near unless that unit interrupts it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.layout import CHECKPOINT, DDR_UNIT, ENGAGEMENT, PATROL, RAPID_RESPONSE, STATIC


@njit(inline="always", cache=True)
def deterrence(role, prm):
    """ODD 7.9a: a unit's weight in the security a combatant perceives,
    ``protection.deterrence.<role>``."""
    if role == PATROL:
        return prm.protection_deterrence_patrol
    if role == STATIC:
        return prm.protection_deterrence_static
    if role == RAPID_RESPONSE:
        return prm.protection_deterrence_rapid_response
    if role == ENGAGEMENT:
        return prm.protection_deterrence_engagement
    if role == DDR_UNIT:
        return prm.protection_deterrence_ddr
    if role == CHECKPOINT:  # --- zones
        return prm.protection_deterrence_checkpoint
    return prm.protection_deterrence_police_mentoring


@njit(inline="always", cache=True)
def interdiction(role, prm):
    """ODD 7.9a: a unit's capacity to interdict combatants and interrupt attacks,
    ``protection.interdiction.<role>``."""
    if role == PATROL:
        return prm.protection_interdiction_patrol
    if role == STATIC:
        return prm.protection_interdiction_static
    if role == RAPID_RESPONSE:
        return prm.protection_interdiction_rapid_response
    if role == ENGAGEMENT:
        return prm.protection_interdiction_engagement
    if role == DDR_UNIT:
        return prm.protection_interdiction_ddr
    if role == CHECKPOINT:  # --- zones
        return prm.protection_interdiction_checkpoint
    return prm.protection_interdiction_police_mentoring


@njit(inline="always", cache=True)
def tip_factor(intel, prm):
    """ODD 7.16: the tips a force holds on a combatant raise its hazards by
    1 + ``information.tip_gain`` x (their summed freshness), without a cap; nothing when
    ``mechanisms.information`` is off."""
    if not prm.mechanisms_information:
        return 1.0
    return 1.0 + prm.information_tip_gain * intel


@njit(inline="always", cache=True)
def interdiction_probability(capacity, intel, prm):
    """ODD 7.9a, interdiction: a combatant whose vision holds units of summed interdiction
    capacity C is interdicted with probability 1 - exp(-``strategy.p_interdict`` C
    (1 + tip_gain intel))."""
    return 1.0 - np.exp(-prm.strategy_p_interdict * capacity * tip_factor(intel, prm))


@njit(inline="always", cache=True)
def police_arrest_probability(arrest_weight, intel_police, prm):
    """ODD 7.9a, police arrest: with officers in vision whose (``arrest_base`` +
    professionalism) sum to W, a combatant is arrested with probability
    1 - exp(-``police.p_arrest_combatant`` W (1 + tip_gain intel_police))."""
    return 1.0 - np.exp(-prm.police_p_arrest_combatant * arrest_weight
                        * tip_factor(intel_police, prm))


@njit(inline="always", cache=True)
def interruption_probability(capacity, prm):
    """ODD 7.9a, interruption: an attack on a resident with units of summed interdiction
    capacity C within ``protection.interrupt_radius`` is interrupted (the victim survives)
    with probability 1 - exp(-``interrupt_rate`` C)."""
    if capacity <= 0.0:
        return 0.0
    return 1.0 - np.exp(-prm.protection_interrupt_rate * capacity)


@njit(inline="always", cache=True)
def perceived_security(deter, police_prof, prm):
    """ODD 7.9a: the security S_v a combatant perceives in vision, the units' deterrence
    weights plus ``police_deterrence`` x the professionalism of the officers."""
    return deter + prm.protection_police_deterrence * police_prof
