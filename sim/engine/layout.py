"""Memory layout of the engine's state: codes, table columns, cell planes, counters.

Per-agent state is two tables with one row per slot (structure of two arrays, not of
thirty): few arrays keep numba calls cheap, and a row keeps one agent's state together. The
columns the civil-violence loop reads for every agent come first, and the int table is int32,
so an agent's hot state sits in one cache line even at 400x400. The kernels see the tables and
planes as the NamedTuples below; Python code reads them by name (:mod:`sim.engine.state`).

Nothing here is model logic: only where things are kept.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# agent kinds
RESIDENT, POLICE, PEACEKEEPER, COMBATANT = 0, 1, 2, 3
# resident states (and a combatant's DETAINED: held off the grid, ODD 7.9)
QUIESCENT, ACTIVE, JAILED, DETAINED = 0, 1, 2, 3
# security forces that hold tips (ODD 7.16)
MISSION, POLICE_FORCE = 0, 1
# peacekeeper roles (codes in the order of sim.config.scenario.ROLE_NAMES)
PATROL, STATIC, RAPID_RESPONSE, ENGAGEMENT, DDR_UNIT, MENTORING = range(6)
# --- zones: checkpoints ---
CHECKPOINT = 6
ROLE_CODES = {
    "patrol": PATROL,
    "static": STATIC,
    "rapid_response": RAPID_RESPONSE,
    "engagement": ENGAGEMENT,
    "ddr": DDR_UNIT,
    "police_mentoring": MENTORING,
    "checkpoint": CHECKPOINT,
}

# event counters (indices into the per-tick ``events`` array)
(
    EV_ARRESTS,
    EV_KILLINGS,
    EV_BIRTHS,
    EV_DEATHS,
    EV_RELEASES,
    EV_ACTIVATIONS,
    EV_ABUSES,
    EV_CASUALTIES,
    EV_ATTACKS,
    EV_CLASHES,
    EV_BATTLE_DEATHS,
    EV_TIPS,
    EV_RECRUITS,
    EV_DISARMED,
    EV_RELAPSES,
    EV_INTERDICTIONS,
    EV_HARMED,
    EV_COMBATANT_ARRESTS,
    EV_PK_KILLED,
    EV_POLICE_KILLED,
    EV_INTERRUPTED,
    EV_RETALIATIONS,
    EV_TIPS_LOST,
    EV_RELEASED,
    EV_REJOINED,
    EV_EMIGRATED,
    EV_RETURNED,
    EV_RIVAL_CLASHES,
) = range(28)
N_EVENTS = 28
# --- communities: rival factions, two communities, police dialogue ---
(
    EV_CROSSFIRE,  # bystanders hit in clashes between rival factions (ODD 7.25)
    EV_CASUALTIES_G0,  # civilian casualties among residents of group 0
    EV_CASUALTIES_G1,  # ... of group 1
    EV_TIPS_G0,  # tips that reached a force, by the reporter's group
    EV_TIPS_G1,
    EV_TIPS_POLICE,  # tips that reached the police (directly or through a leader, ODD 7.26)
    EV_TIPS_RELAYED,  # tips a leader in a police-community forum passed on (ODD 7.26)
) = range(N_EVENTS, N_EVENTS + 7)
N_EVENTS += 7
# --- accept: reintegration and acceptance, weapons, local partners (ODD 7.19-7.21) ---
(
    EV_PREDATIONS,  # armed-group members preying on residents (abusiveness)
    EV_WEAPONS_COLLECTED,  # weapons handed in at DDR sites
    EV_WEAPONS_DESTROYED,  # ... of which destroyed at once
    EV_WEAPONS_HIDDEN,  # weapons disarming fighters hid in a cache instead
    EV_WEAPONS_SEIZED,  # cached weapons found through tips and seized
    EV_WEAPONS_RAIDED,  # stored weapons carried off in raids
    EV_ARMING_FAILED,  # joins and re-armings that found no weapon at hand
    EV_TIPS_PARTNERS,  # tips that reached a force through a local partner
    EV_RELAPSES_F0,  # relapses by the ex-combatant's faction, one counter per faction
    EV_RELAPSES_F1,
    EV_RELAPSES_F2,
    EV_RELAPSES_F3,
) = range(N_EVENTS, N_EVENTS + 12)
N_EVENTS += 12
MAX_FACTIONS = 4  # armed_groups.factions is at most this (per-faction counters and planes)
# --- zones: checkpoints, protection sites and displacement (ODD 7.22-7.23) ---
(
    EV_COMBATANT_MOVES,
    EV_CHECKPOINT_STOPS,
    EV_CHECKPOINT_DETECTIONS,
    EV_CHECKPOINT_DETENTIONS,
    EV_RESIDENTS_SLOWED,
    EV_FLED,
    EV_DISPLACED_RETURNS,
    EV_DISPLACED_DEATHS,
    EV_ATTACKS_NEAR_CHECKPOINTS,
) = range(N_EVENTS, N_EVENTS + 9)
N_EVENTS += 9
# meta: [top of the free-slot stack, next unique id, 1 + highest slot ever used, refugees
# abroad, next row of the tip table] (loops over slots stop at META_HIGH: slots above it were
# never alive)
META_FREE_TOP, META_NEXT_UID, META_HIGH, META_ABROAD, META_TIP_NEXT = 0, 1, 2, 3, 4
N_META = 5
# --- accept: units and officers on the map when presence was last computed (ODD 7.21) ---
META_UNITS, META_OFFICERS = N_META, N_META + 1
N_META += 2

# columns of the int table (Agents.i)
(
    I_KIND,
    I_ALIVE,
    I_X,
    I_Y,
    I_STATE,
    I_JAIL,
    I_UID,
    I_VCLASS,
    I_EMPLOYED,
    I_AGE,
    I_DEATH_AGE,
    I_GROUP,
    I_FACTION,
    I_EX_COMBATANT,
    I_DISPLACED,
    I_LEADER,
    I_INFORMANT,
    I_ROLE,
    I_HOME,
    I_COMMUNITY,
) = range(20)
N_INT = 20
# --- communities: police-community forums (ODD 7.26) ---
I_DIALOGUE = N_INT  # an officer who meets community leaders
N_INT += 1
# columns of the float table (Agents.f)
(
    F_HARDSHIP,
    F_RISK,
    F_TRUST_POLICE,
    F_DIALOGUE,
    F_TRUST_PK,
    F_AGGRESSION,
    F_TRUST_PK0,
    F_TRUST_POLICE0,
    F_PROFESSIONALISM,
    F_FEAR,
    F_PROT_OWN,
    F_PROT_OTHER,
    F_INTEL,
    F_INTEL_POLICE,
) = range(14)
N_FLOAT = 14
# --- accept: residents' acceptance of ex-combatants and record of each faction (ODD 7.19) ---
F_ACCEPTANCE = N_FLOAT
F_RECORD0, F_RECORD1, F_RECORD2, F_RECORD3 = range(N_FLOAT + 1, N_FLOAT + 5)
N_FLOAT += 5

INT_COLUMNS = {
    "kind": I_KIND,  # RESIDENT / POLICE / PEACEKEEPER / COMBATANT
    "alive": I_ALIVE,  # slot in use
    "x": I_X,  # column, -1 when off the grid (jailed, paper mode)
    "y": I_Y,  # row
    "state": I_STATE,  # QUIESCENT / ACTIVE / JAILED (residents)
    "jail": I_JAIL,  # remaining jail term
    "group": I_GROUP,  # communal group (Model II)
    "age": I_AGE,
    "death_age": I_DEATH_AGE,
    "uid": I_UID,  # unique id (slots are reused, uids are not)
    "vclass": I_VCLASS,  # vision class (index into Geometry.offsets)
    "faction": I_FACTION,  # combatants' faction; ex-combatants': the one they fought for
    "employed": I_EMPLOYED,
    "ex_combatant": I_EX_COMBATANT,
    "displaced": I_DISPLACED,
    "leader": I_LEADER,  # community leader
    "informant": I_INFORMANT,  # ticks during which armed groups know of the resident's tip
    "role": I_ROLE,  # peacekeeper role
    "home": I_HOME,  # flat cell of a unit's post / site, or its partner's slot
    "community": I_COMMUNITY,  # community-policing officer
    "meets_leaders": I_DIALOGUE,  # officer who meets community leaders (ODD 7.26)
}
FLOAT_COLUMNS = {
    "hardship": F_HARDSHIP,  # h ~ U(0, 1)
    "risk": F_RISK,  # risk aversion R ~ U(0, 1)
    "aggression": F_AGGRESSION,  # combatants' per-tick attack propensity
    "trust_pk": F_TRUST_PK,
    "trust_police": F_TRUST_POLICE,
    "trust_pk0": F_TRUST_PK0,  # the base level trust in peacekeepers relaxes to (long memory)
    "trust_police0": F_TRUST_POLICE0,
    "dialogue": F_DIALOGUE,  # grievance reduction from dialogue, decays
    "professionalism": F_PROFESSIONALISM,  # police conduct
    "fear": F_FEAR,  # residents' fear of retaliation for reporting
    "protection_own": F_PROT_OWN,  # remembered protection of one's own group by the force
    "protection_other": F_PROT_OTHER,  # ... and of the other group
    "intel": F_INTEL,  # combatants: freshness of the tips the mission holds on them
    "intel_police": F_INTEL_POLICE,  # ... the police hold on them
    # --- accept ---
    "acceptance": F_ACCEPTANCE,  # residents: acceptance of ex-combatants (ODD 7.19)
    "record0": F_RECORD0,  # residents: what they remember faction 0 did to residents
    "record1": F_RECORD1,
    "record2": F_RECORD2,
    "record3": F_RECORD3,
}
BOOL_COLUMNS = frozenset({"alive", "employed", "ex_combatant", "displaced", "leader", "community",
                          "meets_leaders"})
# columns of the peacekeeping layer, zeroed when a slot is (re)used
LAYER_INT_COLUMNS = (
    I_FACTION, I_EMPLOYED, I_EX_COMBATANT, I_DISPLACED, I_LEADER, I_INFORMANT, I_ROLE,
    I_COMMUNITY,
    I_DIALOGUE,  # communities
)
LAYER_FLOAT_COLUMNS = (
    F_AGGRESSION, F_TRUST_PK, F_TRUST_POLICE, F_TRUST_PK0, F_TRUST_POLICE0, F_DIALOGUE,
    F_PROFESSIONALISM, F_FEAR, F_PROT_OWN, F_PROT_OTHER, F_INTEL, F_INTEL_POLICE,
    F_ACCEPTANCE, F_RECORD0, F_RECORD1, F_RECORD2, F_RECORD3,  # --- accept ---
)

# cell layers of the peacekeeping layer: planes of Layers.f
LAYER_NAMES = (
    "violence",  # V: violence against civilians + battle violence (ODD 7.13)
    "violence_civilian",  # attacks on civilians and harm by security forces, decaying and spreading
    "violence_battle",  # clashes, decaying and spreading
    "infrastructure",
    "market",
    "market_near",  # markets within economy.access_radius (static)
    "access",  # share of those markets that are calm (ODD 7.13)
    "intel",  # freshness of the mission's actionable tips, at the cells they point to (ODD 7.16)
    "warning",  # intel within information.warning_radius (warned settlements)
    "deter",  # deterrence-weighted units in combatants' vision (ODD 7.9)
    "interdict",  # interdiction capacity of the units in combatants' vision
    "interrupt",  # interdiction capacity within protection.interrupt_radius
    "sec_police",  # professionalism-weighted police in combatants' vision
    "n_police",  # police in combatants' vision
    "police_arrest",  # sum of (arrest_base + professionalism) of the police in combatants' vision
    "comb_seen",  # combatants in residents' vision
    "pk_reach",  # units within the mission's tip reach
    "police_reach",  # officers within information.report_reach
    "community_reach",  # community officers within information.community_reach
    "engage",
    "leader_engaged",
    "leader_n",
    "leader_trust",
    "ddr_reach",
    "mentor",
    "protect_ev",  # attacks interrupted this tick, victims of group 0 (seen: box sums)
    "protect_ev1",  # ... victims of group 1
    "victim_ev",  # unprotected attacks this tick, victims of group 0
    "victim_ev1",  # ... victims of group 1
    "harm_ev",  # harm by security forces this tick
    "retaliation_ev",  # attacks on known informants this tick (seen within vision)
    "retaliation_heard",  # the same, heard of within information.hear_radius
    "programme",
    # --- communities ---
    "relay",  # leaders in a police-community forum within trust.leader_radius (ODD 7.26)
    "reported",  # violence residents and leaders told the mission, since the last review (7.27)
    "voice_trust",  # trust in peacekeepers of engaged leaders, summed since the last review
    "voice_n",  # ... and how many leader-ticks that sum holds
    "community",  # the community most residents near a cell belong to, at set-up (ODD 7.25)
)
N_LAYERS = len(LAYER_NAMES)
(
    L_VIOLENCE,
    L_VIOLENCE_CIV,
    L_VIOLENCE_BATTLE,
    L_INFRASTRUCTURE,
    L_MARKET,
    L_MARKET_NEAR,
    L_ACCESS,
    L_INTEL,
    L_WARNING,
    L_DETER,
    L_INTERDICT,
    L_INTERRUPT,
    L_SEC_POLICE,
    L_N_POLICE,
    L_POLICE_ARREST,
    L_COMB_SEEN,
    L_PK_REACH,
    L_POLICE_REACH,
    L_COMMUNITY_REACH,
    L_ENGAGE,
    L_LEADER_ENGAGED,
    L_LEADER_N,
    L_LEADER_TRUST,
    L_DDR_REACH,
    L_MENTOR,
    L_PROTECT_EV,
    L_PROTECT_EV1,
    L_VICTIM_EV,
    L_VICTIM_EV1,
    L_HARM_EV,
    L_RETALIATION_EV,
    L_RETALIATION_HEARD,
    L_PROGRAMME,
    L_RELAY,
    L_REPORTED,
    L_VOICE_TRUST,
    L_VOICE_N,
    L_COMMUNITY,
) = range(N_LAYERS)
# --- accept: reintegration and acceptance, weapons, local partners (ODD 7.19-7.21) ---
ACCEPT_LAYER_NAMES = (
    "faction_ev0",  # attacks and predation by faction 0 this tick, at the victim (box sums:
    "faction_ev1",  # ... seen within residents' vision)
    "faction_ev2",
    "faction_ev3",
    "accept0",  # acceptance an ex-combatant of faction 0 meets here (mean over residents
    "accept1",  # within reintegration.radius; computed in step 8)
    "accept2",
    "accept3",
    "accept_n",  # residents (not ex-combatants) within reintegration.radius
    "cache",  # weapons in armed-group caches
    "store",  # weapons stored at DDR sites
    "store_near",  # stored weapons within combatants' vision
    "partner_site",  # 1 where a local partner organisation works
    "partner",  # its capacity
    "partner_reach",  # partners' capacity within partners.radius
)
(
    L_FACTION_EV0,
    L_FACTION_EV1,
    L_FACTION_EV2,
    L_FACTION_EV3,
    L_ACCEPT0,
    L_ACCEPT1,
    L_ACCEPT2,
    L_ACCEPT3,
    L_ACCEPT_N,
    L_CACHE,
    L_STORE,
    L_STORE_NEAR,
    L_PARTNER_SITE,
    L_PARTNER,
    L_PARTNER_REACH,
) = range(N_LAYERS, N_LAYERS + len(ACCEPT_LAYER_NAMES))
LAYER_NAMES = LAYER_NAMES + ACCEPT_LAYER_NAMES
N_LAYERS = len(LAYER_NAMES)
# --- zones: protection sites, roads (ODD 7.23-7.24) ---
ZONES_LAYER_NAMES = (
    "displaced_near",  # displaced residents within sites.radius (patrols' priority, ODD 7.23)
    "road",  # road quality on road cells, 0 elsewhere (ODD 7.24)
)
L_DISPLACED_NEAR, L_ROAD = range(N_LAYERS, N_LAYERS + len(ZONES_LAYER_NAMES))
LAYER_NAMES = LAYER_NAMES + ZONES_LAYER_NAMES
N_LAYERS = len(LAYER_NAMES)
# --- events: where this tick's events happened, one count per event at its cell (cleared when
# the next tick starts, so they can be read after a step; no rule reads them: the trainer app's
# event feed does; ODD 7.28)
SITE_LAYER_NAMES = (
    "site_attack",  # attacks on civilians, at the victim's cell
    "site_killed",  # civilians killed by an attack
    "site_protected",  # attacks interrupted by units nearby
    "site_interdict",  # interdictions, at the combatant's cell
    "site_tipped",  # ... of a combatant on whom the mission held tips
    "site_harm",  # bystanders harmed by an interdiction
    "site_harm_killed",  # ... and killed
    "site_arrest",  # police arrests of combatants
    "site_abuse",  # abuses by police (arrests of protesters or combatants), at the abuse cell
    "site_crossfire",  # bystanders hit in clashes between rival factions (ODD 7.25)
    "site_crossfire_killed",  # ... and killed
    "site_predation",  # residents preyed on by armed-group members (ODD 7.19)
)
(
    L_SITE_ATTACK,
    L_SITE_KILLED,
    L_SITE_PROTECTED,
    L_SITE_INTERDICT,
    L_SITE_TIPPED,
    L_SITE_HARM,
    L_SITE_HARM_KILLED,
    L_SITE_ARREST,
    L_SITE_ABUSE,
    L_SITE_CROSSFIRE,
    L_SITE_CROSSFIRE_KILLED,
    L_SITE_PREDATION,
) = range(N_LAYERS, N_LAYERS + len(SITE_LAYER_NAMES))
LAYER_NAMES = LAYER_NAMES + SITE_LAYER_NAMES
N_LAYERS = len(LAYER_NAMES)

# the event planes cleared at the end of every tick
EVENT_LAYERS = (L_PROTECT_EV, L_PROTECT_EV1, L_VICTIM_EV, L_VICTIM_EV1, L_HARM_EV,
                L_RETALIATION_EV, L_RETALIATION_HEARD,
                L_FACTION_EV0, L_FACTION_EV1, L_FACTION_EV2, L_FACTION_EV3)  # --- accept
# the event-site planes, cleared when a tick starts (--- events)
SITE_LAYERS = (L_SITE_ATTACK, L_SITE_KILLED, L_SITE_PROTECTED, L_SITE_INTERDICT, L_SITE_TIPPED,
               L_SITE_HARM, L_SITE_HARM_KILLED, L_SITE_ARREST, L_SITE_ABUSE, L_SITE_CROSSFIRE,
               L_SITE_CROSSFIRE_KILLED, L_SITE_PREDATION)

# --- districts: where this tick's clashes happened (outputs only, ODD 7.14) ---
# The violence and event planes above spread or box-sum what happened, so the cell of each
# clash is kept here as it happens (attacks: site_attack above); layer_tick clears the plane
# when a tick starts, so after the tick it holds its clashes (read by
# sim.engine.metrics.layer_metrics).
DISTRICT_LAYER_NAMES = (
    "clash_at",  # clashes with security forces this tick, at the combatant's cell
)
(L_CLASH_AT,) = range(N_LAYERS, N_LAYERS + len(DISTRICT_LAYER_NAMES))
LAYER_NAMES = LAYER_NAMES + DISTRICT_LAYER_NAMES
N_LAYERS = len(LAYER_NAMES)
# rows of the per-district table layer_metrics fills (run.district_series)
D_ATTACKS, D_CLASHES, D_UNITS = range(3)
N_DISTRICT_ROWS = 3

# scratch planes of Layers.work: occupancy by who stands where, and the box sums' buffers
(
    W_TMP,
    W_PK,
    W_DETER,
    W_INTERDICT,
    W_POLICE,
    W_POLICE_PROF,
    W_POLICE_ARREST,
    W_ENGAGE,
    W_DDR,
    W_MENTOR,
    W_COMMUNITY,
    W_LEADERS,
    W_LEADER_TRUST,
    W_ENGAGED,
    W_COMBATANTS,
    W_NEAR,
    W_TARGET,
    W_CHECKPOINT,  # --- zones: checkpoint units on the cell (ODD 7.22)
    W_DISPLACED,  # --- zones: displaced residents on the cell (ODD 7.23)
    W_DIALOGUE,  # communities: officers who meet leaders (ODD 7.26)
    W_FORUM,  # communities: leaders who take part in a forum
    W_FACTION,  # one plane per faction from here on
) = range(22)


def n_work_planes(factions: int) -> int:
    """Scratch planes a layer table needs for ``factions`` factions."""
    return W_FACTION + factions


# census indices (sim.engine.metrics.census)
(C_QUIESCENT, C_ACTIVE, C_JAILED, C_POLICE, C_PEACEKEEPERS, C_GROUP0, C_GROUP1, C_COMBATANTS,
 C_DETAINED) = range(9)
N_CENSUS = 9

# the tip table (Layers.tips): one row per tip, a ring buffer (ODD 7.16)
T_ALIVE, T_TARGET, T_UID, T_X, T_Y, T_AGE, T_FORCE = range(7)
N_TIP = 7

# --- accept: scalar state of the layer (Layers.scalars): faction stocks and abusiveness, and
# running totals (ODD 7.19-7.21)
S_STOCK0 = 0  # weapons each faction holds off the map: S_STOCK0 + faction
S_ABUSIVENESS0 = MAX_FACTIONS  # each faction's abusiveness: S_ABUSIVENESS0 + faction
S_STORED = 2 * MAX_FACTIONS  # weapons in DDR stores (all cells)
S_CACHED = S_STORED + 1  # weapons in caches (all cells)
S_PARTNER_TOTAL = S_STORED + 2  # partners' summed capacity
# --- events: which event-site planes (SITE_LAYERS, one flag each, S_SITE0 + plane -
# L_SITE_ATTACK) were written since they were last cleared: layer_tick clears only those when
# a tick starts (sim.engine.fields.site_event sets them)
S_SITE0 = S_STORED + 3
N_SITE_FLAGS = len(SITE_LAYERS)
assert tuple(range(L_SITE_ATTACK, L_SITE_ATTACK + N_SITE_FLAGS)) == SITE_LAYERS
N_SCALARS = S_SITE0 + N_SITE_FLAGS


class Layers(NamedTuple):
    """Cell layers and per-tick presence/event fields, as the kernels see them."""

    f: np.ndarray  # float64 [N_LAYERS, width, height]
    comb_own: np.ndarray  # float64 [faction, width, height]: combatants in combatants' vision
    work: np.ndarray  # float64 [plane, width, height]: scratch planes (W_* above)
    col: np.ndarray  # float64 [height]: scratch row of the box sums
    tips: np.ndarray  # int64 [capacity, N_TIP]: the tips held by the forces (T_* above)
    markets: np.ndarray  # int64 [markets]: flat cells of the settlements/markets
    warned: np.ndarray  # int64 [markets]: scratch: the warned ones this tick
    scalars: np.ndarray  # float64 [N_SCALARS]: stocks, abusiveness, totals (S_* above)
    # --- zones: protection sites (ODD 7.23) and roads (ODD 7.24) ---
    sites: np.ndarray  # int64 [sites]: flat cells of the protection sites
    site_of: np.ndarray  # int64 [cells]: the site whose area holds the cell, -1 outside
    site_load: np.ndarray  # int64 [sites]: scratch: displaced residents a site holds
    site_aid: np.ndarray  # float64 [sites]: scratch: humanitarian aid a site's security allows
    roads: np.ndarray  # int64 [road cells]: flat cells of the road network
    road_nbr: np.ndarray  # int64 [road cells, 4]: the road neighbours (rows of roads), -1 none
    road_tmp: np.ndarray  # float64 [road cells]: scratch of the diffusion along roads


class Agents(NamedTuple):
    """Per-agent state as the kernels see it: ``i[slot, I_*]`` and ``f[slot, F_*]``."""

    i: np.ndarray  # int32 [capacity, N_INT]
    f: np.ndarray  # float64 [capacity, N_FLOAT]


class Grid(NamedTuple):
    """Cell fields, indexed ``[x, y]`` like Mesa's grids."""

    occ: np.ndarray  # int32: agent slot on the cell, -1 if empty
    fields: np.ndarray  # int32 [1 + vision class, x, y]: the cop field, then the active fields
    cop_field: np.ndarray  # fields[0]: cops in residents' vision of the cell (cell excluded)
    active_field: np.ndarray  # fields[1:]: actives in vision of the cell, per vision class
    economy: np.ndarray  # float64: E in [0, 1] (peacekeeping layer)
    abuse_ev: np.ndarray  # float64: police abuses seen this tick, by cell
    # --- zones: read by the core's moves and grievance (zeros without the layer) ---
    control: np.ndarray  # float64: checkpoints controlling the cell (ODD 7.22)
    aid: np.ndarray  # float64: humanitarian aid reaching a displaced resident there (ODD 7.23)
    # the core's arrest scans: 1 where an active resident stands (whom a cop may arrest, ODD
    # 7.3), kept in step with the active fields, so a scan reads a byte per cell, not a row
    active: np.ndarray  # int8


class Geometry(NamedTuple):
    """Neighbourhoods as offset lists. Classes ``0 .. n_vision - 1`` are the vision classes
    (each with an active field); the classes after them are only scanned (the birth
    neighbourhood, the interdiction's harm box: ``Params.birth_class``, ``harm_class``)."""

    offsets: np.ndarray  # int32 [class, i, 2]: offsets (dx, dy) per class
    n_off: np.ndarray  # int32 [class]: number of offsets per class
    track: np.ndarray  # bool [class]: keep an active field for this class (someone reads it)
    flat: np.ndarray  # int64 [class, i]: the offsets as flat-index steps, dx * height + dy
    reach: np.ndarray  # int64 [class]: max(|dx|, |dy|) over the class's offsets
    runs: np.ndarray  # int64 [class, run, 3]: the offsets as runs (dx, first dy, length)
    n_runs: np.ndarray  # int64 [class]: runs per class
    n_vision: int  # vision classes (rows 1.. of Grid.fields)
    width: int
    height: int
    torus: bool
