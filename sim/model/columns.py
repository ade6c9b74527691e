"""The per-tick metrics table (ODD 7.14, observation): which columns a scenario produces and
how each is read from the engine's counters.

The census and event counters come from :mod:`sim.engine.metrics` and
:mod:`sim.engine.layout`; this module names them. Every value is a plain Python number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.config.scenario import ROLE_NAMES
from sim.engine import layout as K
from sim.engine import metrics as M

if TYPE_CHECKING:
    from sim.config.scenario import Scenario

CORE_COLUMNS = [
    "legitimacy", "quiescent", "active", "jailed", "residents",
    "police", "peacekeepers", "arrests", "releases", "activations",
]
PEACEKEEPING_COLUMNS = [
    "combatants", "civilian_casualties", "attacks", "clashes", "battle_deaths", "abuses",
    "tips", "recruits", "disarmed", "relapses", "weapons_collected", "interdictions",
    "harmed_by_security", "combatant_arrests", "displaced", "employed", "ex_combatants",
    "trust_pk_mean", "trust_police_mean", "police_professionalism_mean", "grievance_mean",
    "economy_mean", "infrastructure_mean", "violence_mean",
    *(f"pk_{r}" for r in ROLE_NAMES),
]
# the peacekeeping layer's event counters and its counts and means (sim.engine.metrics)
LAYER_EVENTS = {
    "civilian_casualties": K.EV_CASUALTIES,
    "attacks": K.EV_ATTACKS,
    "clashes": K.EV_CLASHES,
    "battle_deaths": K.EV_BATTLE_DEATHS,
    "abuses": K.EV_ABUSES,
    "tips": K.EV_TIPS,
    "recruits": K.EV_RECRUITS,
    "disarmed": K.EV_DISARMED,
    "relapses": K.EV_RELAPSES,
    "weapons_collected": K.EV_DISARMED,
    "interdictions": K.EV_INTERDICTIONS,
    "harmed_by_security": K.EV_HARMED,
    "combatant_arrests": K.EV_COMBATANT_ARRESTS,
}
LAYER_COUNTS = {
    "displaced": M.M_DISPLACED,
    "employed": M.M_EMPLOYED,
    "ex_combatants": M.M_EX_COMBATANTS,
    **{f"pk_{r}": M.M_ROLES + K.ROLE_CODES[r] for r in ROLE_NAMES},
}
LAYER_MEANS = {
    "trust_pk_mean": M.M_TRUST_PK,
    "trust_police_mean": M.M_TRUST_POLICE,
    "police_professionalism_mean": M.M_PROFESSIONALISM,
    "grievance_mean": M.M_GRIEVANCE,
    "economy_mean": M.M_ECONOMY,
    "infrastructure_mean": M.M_INFRASTRUCTURE,
    "violence_mean": M.M_VIOLENCE,
}


def metric_columns(scenario: Scenario) -> list[str]:
    """Per-tick columns this scenario produces (besides ``tick``)."""
    cols = list(CORE_COLUMNS)
    if scenario.residents.groups == 2:
        cols += ["group_0", "group_1"]
    if scenario.unrest.mode == "intergroup":
        cols += ["killings"]
    if scenario.residents.p_clone > 0 or scenario.residents.max_age > 0:
        cols += ["births", "deaths"]
    if scenario.model == "peacekeeping":
        cols += PEACEKEEPING_COLUMNS
    return cols


def core_row(legitimacy: float, census: list[int], events: list[int]) -> dict[str, float]:
    """The core's columns from the census and the tick's event counters (Python lists)."""
    c, ev = census, events
    return {
        "legitimacy": float(legitimacy),
        "quiescent": c[K.C_QUIESCENT],
        "active": c[K.C_ACTIVE],
        "jailed": c[K.C_JAILED],
        "residents": c[K.C_QUIESCENT] + c[K.C_ACTIVE] + c[K.C_JAILED],
        "police": c[K.C_POLICE],
        "peacekeepers": c[K.C_PEACEKEEPERS],
        "arrests": ev[K.EV_ARRESTS],
        "releases": ev[K.EV_RELEASES],
        "activations": ev[K.EV_ACTIVATIONS],
        "group_0": c[K.C_GROUP0],
        "group_1": c[K.C_GROUP1],
        "killings": ev[K.EV_KILLINGS],
        "births": ev[K.EV_BIRTHS],
        "deaths": ev[K.EV_DEATHS] + ev[K.EV_KILLINGS],
        "combatants": c[K.C_COMBATANTS],
    }


def layer_row(events: list[int], values: list[float]) -> dict[str, float]:
    """The peacekeeping layer's columns from the tick's event counters and the output of
    :func:`sim.engine.metrics.layer_metrics` (Python lists)."""
    row: dict[str, float] = {name: events[i] for name, i in LAYER_EVENTS.items()}
    row.update({name: int(values[i]) for name, i in LAYER_COUNTS.items()})
    row.update({name: values[i] for name, i in LAYER_MEANS.items()})
    return row
