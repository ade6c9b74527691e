"""The per-tick metrics table (ODD 7.14, observation): which columns a scenario produces and
how each is read from the engine's counters.

The census and event counters come from :mod:`sim.engine.metrics` and
:mod:`sim.engine.layout`; this module names them. Every value is a plain Python number.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sim.config.scenario import ROLE_NAMES
from sim.engine import layout as K
from sim.engine import metrics as M

if TYPE_CHECKING:
    import numpy as np

    from sim.config.scenario import Scenario

CORE_COLUMNS = [
    "legitimacy", "quiescent", "active", "jailed", "residents",
    "police", "peacekeepers", "arrests", "releases", "activations",
]
PEACEKEEPING_COLUMNS = [
    "combatants", "detained", "civilian_casualties", "attacks", "attacks_interrupted",
    "clashes", "battle_deaths", "peacekeeper_deaths", "police_deaths", "units_replaced",
    "abuses", "tips", "tips_lost", "retaliations", "recruits", "disarmed", "relapses",
    "weapons_collected", "interdictions", "harmed_by_security", "combatant_arrests",
    "detainees_released", "rejoined", "births", "deaths", "emigrated", "returned",
    "refugees_abroad", "displaced", "employed", "ex_combatants",
    "trust_pk_mean", "trust_police_mean", "mission_legitimacy", "fear_mean",
    "police_professionalism_mean", "grievance_mean", "economy_mean", "infrastructure_mean",
    "violence_mean", "violence_civilian_mean", "violence_battle_mean",
    *(f"pk_{r}" for r in ROLE_NAMES),
    # --- communities ---
    "rival_clashes", "crossfire_victims", "tips_police", "tips_relayed",
    # --- zones: checkpoints (ODD 7.22), protection sites and displacement (ODD 7.23) ---
    "combatant_moves", "checkpoint_stops", "checkpoint_detections", "checkpoint_detentions",
    "residents_slowed", "attacks_near_checkpoints", "economy_near_checkpoints",
    "market_access_mean", "displaced_new", "displaced_at_sites",
    "displaced_returns", "displaced_deaths",
]
#: --- zones: contexts with roads (ODD 7.24)
ROAD_COLUMNS = ["road_quality_mean"]
#: two-group peacekeeping contexts: trust in peacekeepers by communal group
GROUP_TRUST_COLUMNS = ["trust_pk_group0", "trust_pk_group1",
                       # --- communities: per-group outputs ---
                       "trust_police_group0", "trust_police_group1", "tips_group0",
                       "tips_group1", "casualties_group0", "casualties_group1"]
# --- accept: reintegration and acceptance, weapons, local partners (ODD 7.19-7.21) ---
ACCEPT_COLUMNS = [
    "predations", "weapons_destroyed", "weapons_hidden", "weapons_seized", "weapons_raided",
    "arming_failed", "weapons_stored", "weapons_cached", "faction_stock", "acceptance_mean",
    "tips_via_partners", "partner_capacity_mean",
]
#: per faction k (armed_groups.factions of them): relapses, ex-combatants, acceptance
FACTION_COLUMNS = ["relapses_faction{k}", "ex_combatants_faction{k}", "acceptance_faction{k}"]
# --- districts: per district i (run.district_series; economy.districts ** 2 of them, id
# bx * economy.districts + by): this tick's attacks on civilians there (at the victim's
# cell), clashes there (at the combatant's cell), and peacekeeping units there (end of tick);
# in the order of the rows of sim.engine.metrics.layer_metrics's per-district table
DISTRICT_COLUMNS = ["attacks_d{i}", "clashes_d{i}", "units_d{i}"]
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
    "weapons_collected": K.EV_WEAPONS_COLLECTED,
    "interdictions": K.EV_INTERDICTIONS,
    "harmed_by_security": K.EV_HARMED,
    "combatant_arrests": K.EV_COMBATANT_ARRESTS,
    "attacks_interrupted": K.EV_INTERRUPTED,
    "peacekeeper_deaths": K.EV_PK_KILLED,
    "police_deaths": K.EV_POLICE_KILLED,
    "tips_lost": K.EV_TIPS_LOST,
    "retaliations": K.EV_RETALIATIONS,
    "detainees_released": K.EV_RELEASED,
    "rejoined": K.EV_REJOINED,
    "emigrated": K.EV_EMIGRATED,
    "returned": K.EV_RETURNED,
    # --- communities ---
    "rival_clashes": K.EV_RIVAL_CLASHES,
    "crossfire_victims": K.EV_CROSSFIRE,
    "tips_police": K.EV_TIPS_POLICE,
    "tips_relayed": K.EV_TIPS_RELAYED,
    "tips_group0": K.EV_TIPS_G0,
    "tips_group1": K.EV_TIPS_G1,
    "casualties_group0": K.EV_CASUALTIES_G0,
    "casualties_group1": K.EV_CASUALTIES_G1,
    # --- accept ---
    "predations": K.EV_PREDATIONS,
    "weapons_destroyed": K.EV_WEAPONS_DESTROYED,
    "weapons_hidden": K.EV_WEAPONS_HIDDEN,
    "weapons_seized": K.EV_WEAPONS_SEIZED,
    "weapons_raided": K.EV_WEAPONS_RAIDED,
    "arming_failed": K.EV_ARMING_FAILED,
    "tips_via_partners": K.EV_TIPS_PARTNERS,
    **{f"relapses_faction{k}": K.EV_RELAPSES_F0 + k for k in range(K.MAX_FACTIONS)},
    # --- zones ---
    "combatant_moves": K.EV_COMBATANT_MOVES,
    "checkpoint_stops": K.EV_CHECKPOINT_STOPS,
    "checkpoint_detections": K.EV_CHECKPOINT_DETECTIONS,
    "checkpoint_detentions": K.EV_CHECKPOINT_DETENTIONS,
    "residents_slowed": K.EV_RESIDENTS_SLOWED,
    "attacks_near_checkpoints": K.EV_ATTACKS_NEAR_CHECKPOINTS,
    "displaced_new": K.EV_FLED,
    "displaced_returns": K.EV_DISPLACED_RETURNS,
    "displaced_deaths": K.EV_DISPLACED_DEATHS,
}
LAYER_COUNTS = {
    "displaced": M.M_DISPLACED,
    "employed": M.M_EMPLOYED,
    "ex_combatants": M.M_EX_COMBATANTS,
    "refugees_abroad": M.M_ABROAD,
    **{f"pk_{r}": M.M_ROLES + K.ROLE_CODES[r] for r in ROLE_NAMES},
    # --- accept ---
    "weapons_stored": M.M_STORED,
    "weapons_cached": M.M_CACHED,
    "faction_stock": M.M_STOCK,
    **{f"ex_combatants_faction{k}": M.M_EX_F0 + k for k in range(K.MAX_FACTIONS)},
    "displaced_at_sites": M.M_DISPLACED_AT_SITES,  # --- zones
}
LAYER_MEANS = {
    "trust_pk_mean": M.M_TRUST_PK,
    "trust_police_mean": M.M_TRUST_POLICE,
    "police_professionalism_mean": M.M_PROFESSIONALISM,
    "grievance_mean": M.M_GRIEVANCE,
    "economy_mean": M.M_ECONOMY,
    "infrastructure_mean": M.M_INFRASTRUCTURE,
    "violence_mean": M.M_VIOLENCE,
    "violence_civilian_mean": M.M_VIOLENCE_CIV,
    "violence_battle_mean": M.M_VIOLENCE_BATTLE,
    "fear_mean": M.M_FEAR,
    "mission_legitimacy": M.M_LEGITIMACY,
    "trust_pk_group0": M.M_TRUST_PK_G0,
    "trust_pk_group1": M.M_TRUST_PK_G1,
    # --- communities ---
    "trust_police_group0": M.M_TRUST_POLICE_G0,
    "trust_police_group1": M.M_TRUST_POLICE_G1,
    # --- accept ---
    "acceptance_mean": M.M_ACCEPTANCE,
    "partner_capacity_mean": M.M_PARTNER_CAPACITY,
    **{f"acceptance_faction{k}": M.M_ACCEPT_F0 + k for k in range(K.MAX_FACTIONS)},
    "market_access_mean": M.M_ACCESS,  # --- zones
    "economy_near_checkpoints": M.M_ECONOMY_NEAR_CHECKPOINTS,
    "road_quality_mean": M.M_ROAD_QUALITY,
}


def metric_columns(scenario: Scenario) -> list[str]:
    """Per-tick columns this scenario produces (besides ``tick``)."""
    cols = list(CORE_COLUMNS)
    if scenario.residents.groups == 2:
        cols += ["group_0", "group_1"]
    if scenario.unrest.mode == "intergroup":
        cols += ["killings"]
    if scenario.model == "peacekeeping":
        cols += PEACEKEEPING_COLUMNS  # births and deaths among them
        cols += ACCEPT_COLUMNS
        cols += [c.format(k=k) for k in range(scenario.armed_groups.factions)
                 for c in FACTION_COLUMNS]
        if scenario.residents.groups == 2:
            cols += GROUP_TRUST_COLUMNS
        if scenario.roads.links > 0:  # --- zones
            cols += ROAD_COLUMNS
        cols += district_columns(scenario)  # --- districts
    elif scenario.residents.p_clone > 0 or scenario.residents.max_age > 0:
        cols += ["births", "deaths"]
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
        "detained": c[K.C_DETAINED],
    }


def _at(indices: list[int]) -> Callable[[list[Any]], tuple[Any, ...]]:
    """The values at ``indices`` of a list, as a tuple (one C call for all of them)."""
    get = itemgetter(*indices)
    return get if len(indices) > 1 else lambda seq: (get(seq),)


# names and positions of the layer's columns, worked out once (layer_row runs every tick)
_EVENT_NAMES, _EVENTS_AT = tuple(LAYER_EVENTS), _at(list(LAYER_EVENTS.values()))
_COUNT_NAMES, _COUNTS_AT = tuple(LAYER_COUNTS), _at(list(LAYER_COUNTS.values()))
_MEAN_NAMES, _MEANS_AT = tuple(LAYER_MEANS), _at(list(LAYER_MEANS.values()))


def layer_row(events: list[int], values: list[float], replaced: int = 0) -> dict[str, float]:
    """The peacekeeping layer's columns from the tick's event counters, the output of
    :func:`sim.engine.metrics.layer_metrics` (Python lists) and the units the timeline
    replaced this tick: the event counters, ``units_replaced``, the counts (as ints), then
    the means, in the order of :data:`LAYER_EVENTS`, :data:`LAYER_COUNTS`,
    :data:`LAYER_MEANS`."""
    row: dict[str, float] = dict(zip(_EVENT_NAMES, _EVENTS_AT(events), strict=True))
    row["units_replaced"] = replaced
    row.update(zip(_COUNT_NAMES, map(int, _COUNTS_AT(values)), strict=True))
    row.update(zip(_MEAN_NAMES, _MEANS_AT(values), strict=True))
    return row


# --- districts: per-district series (outputs only, ODD 7.14) ---
def district_columns(scenario: Scenario) -> list[str]:
    """The per-district columns this scenario produces: with ``run.district_series``, every
    :data:`DISTRICT_COLUMNS` template for each district, all attacks first, then clashes,
    then units (none otherwise: a hundred districts make three hundred columns)."""
    if scenario.model != "peacekeeping" or not scenario.run.district_series:
        return []
    n = scenario.economy.districts ** 2
    return [c.format(i=i) for c in DISTRICT_COLUMNS for i in range(n)]


def district_row(names: list[str], counts: np.ndarray | list[list[int]]) -> dict[str, int]:
    """The per-district columns of this tick (``names`` from :func:`district_columns`) from
    the layer metrics' per-district table (one row per :data:`DISTRICT_COLUMNS` template, one
    column per district; an array or its ``tolist()``)."""
    rows = counts.tolist() if not isinstance(counts, list) else counts
    return dict(zip(names, (v for row in rows for v in row), strict=True))
