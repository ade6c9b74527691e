"""Scenario files: the one place where parameters are declared, documented and validated.

A scenario is a TOML file with one table per section (``[world]``, ``[unrest]``, ...).
Every field below carries its meaning, unit and allowed range; the ODD parameter table in
``docs/ODD.md`` is generated from (and tested against) this schema.
"""

from __future__ import annotations

import copy
import functools
import itertools
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from sim.config.base import (
    Problem,
    ScenarioError,
    StrictModel,
    allowed_keys,
    as_tuple,
    check_name,
    deep_merge,
    documented,
    exact_choice,
    flatten,
    format_problems,
    one_problem,
    parse_value,
    problem_line,
    problems_of,
    read_toml,
    short_repr,
)

__all__ = [
    "EVENT_KINDS", "RENAMED_KEYS", "ROLE_NAMES", "STRATEGY_SECTIONS", "Event", "Scenario",
    "ScenarioDeprecation", "ScenarioError", "apply_set", "apply_strategy", "event_problems",
    "scenario_after_events", "scenario_from_dump", "set_key_problem", "settlement_count",
    "build_scenario", "check_run_length", "deep_merge", "load_scenario", "load_strategy",
    "parse_value", "planned_exit_tick", "read_scenario_file", "read_toml",
]

_f = documented  # the documented-field helper (sim.config.base.documented)


class _Section(StrictModel):
    """A table of a scenario file."""


class World(_Section):
    """Space: a ``width x height`` grid of cells, one agent per cell."""

    width: int = _f(40, "Grid width", "cells", ge=3, le=2000)
    height: int = _f(40, "Grid height", "cells", ge=3, le=2000)
    torus: bool = _f(True, "Edges wrap around (Epstein scenarios use a torus)")
    vision_shape: Literal["von_neumann", "moore", "lateral", "radius"] = _f(
        "von_neumann",
        "Shape of every vision neighbourhood: von_neumann (diamond, Mesa's example), "
        "moore (square), lateral (v cells N/S/E/W only, Epstein's paper), "
        "radius (Euclidean disc, NetLogo's Rebellion)",
    )
    population: int = _f(
        0, "People the grid's residents stand for, so that outcomes can be given per 100,000 "
        "people and per month beside data (0: the residents themselves)", "people",
        ge=0, le=10_000_000_000,
    )
    placement: Literal["exact", "per_cell"] = _f(
        "exact",
        "exact: round(density x cells) agents of each kind on distinct random cells "
        "(Epstein, NetLogo); per_cell: each cell independently holds a resident, a cop or "
        "nothing with the densities as probabilities (Mesa's example)",
    )


class Run(_Section):
    """Length, seed and outcome definitions of one run."""

    ticks: int = _f(300, "Number of ticks to simulate", "ticks", ge=0, le=1_000_000)
    seed: int = _f(1, "Root seed (numpy SeedSequence entropy)", ge=0)
    outburst_share: float = _f(
        0.02,
        "An outburst is a maximal run of ticks in which the share of residents that are "
        "active exceeds this value",
        "share of residents",
        gt=0.0,
        le=1.0,
    )
    # --- districts: per-district series (outputs only, ODD 7.14) ---
    district_series: bool = _f(
        False,
        "Also record, every tick, attacks on civilians, clashes and peacekeeping units in "
        "each of the economy.districts x economy.districts districts (columns attacks_d<i>, "
        "clashes_d<i>, units_d<i>; peacekeeping model only)",
    )


class Residents(_Section):
    """The general population (Epstein's 'agents')."""

    density: float = _f(0.7, "Initial residents per cell", "agents/cell", ge=0.0, le=1.0)
    vision: int = _f(7, "Vision radius of residents", "cells", ge=1, le=50)
    groups: Literal[1, 2] = _f(1, "Number of communal groups (2 for Epstein Model II)")
    group_share: float = _f(
        0.5, "Share of residents in group 0 (two-group runs)", "share", ge=0.0, le=1.0
    )
    p_clone: float = _f(
        0.0,
        "Per-tick probability that a resident reproduces onto an empty neighbouring cell "
        "(Model II)",
        "1/tick",
        ge=0.0,
        le=1.0,
    )
    max_age: int = _f(
        0,
        "Age of death is drawn U{0..max_age}; 0 means residents do not age (Model I)",
        "ticks",
        ge=0,
        le=100_000,
    )


class Police(_Section):
    """Cops of the central authority (Model I) or the local police (peacekeeping model)."""

    density: float = _f(0.04, "Initial police per cell", "agents/cell", ge=0.0, le=1.0)
    vision: int = _f(7, "Vision radius of police", "cells", ge=1, le=50)
    ramp_to: float | None = _f(
        None,
        "Police density reached at the end of the ramp; none keeps density constant",
        "agents/cell",
        ge=0.0,
        le=1.0,
    )
    ramp_start: int = _f(0, "Tick at which the police ramp starts", "tick", ge=0)
    ramp_ticks: int = _f(
        0, "Duration of the police ramp (0 = one step at ramp_start)", "ticks", ge=0
    )
    professionalism: float = _f(
        0.4, "Mean initial professionalism (conduct, human-rights training)", "-", ge=0.0, le=1.0
    )
    target: float | None = _f(
        None, "Police density the force grows toward (re-establishment); none: no growth",
        "agents/cell", ge=0.0, le=1.0,
    )
    recruitment: float = _f(
        0.0, "Share of the gap to the target recruited per tick", "1/tick", ge=0.0, le=1.0
    )
    mentoring_gain: float = _f(
        0.02, "Professionalism gain per tick of joint patrol with a mentor", "1/tick",
        ge=0.0, le=1.0,
    )
    professionalism_decay: float = _f(
        0.002, "Professionalism lost per tick without mentoring", "1/tick", ge=0.0, le=1.0
    )
    community_share: float = _f(
        0.2, "Share of officers in community policing: residents can hand them tips from "
        "farther away (information.community_reach)", "share",
        ge=0.0, le=1.0,
    )
    p_arrest_combatant: float = _f(
        0.01, "Arrest hazard of a combatant per unit of officer weight in vision: p = 1 - "
        "exp(-p_arrest_combatant x sum(arrest_base + prof.) x (1 + tip_gain x tips))",
        "1/tick", ge=0.0, le=50.0,
    )
    arrest_base: float = _f(
        0.5, "Combatant arrests: each officer in vision weighs arrest_base + its "
        "professionalism in the arrest hazard", "-", ge=0.0, le=10.0,
    )
    professionalism_sd: float = _f(
        0.1, "Standard deviation of officers' initial professionalism around professionalism "
        "(clipped to [0, 1])", "-", ge=0.0, le=1.0,
    )
    # --- communities: police capacity and dialogue (ODD 7.26) ---
    equipment: float = _f(
        0.0, "Equipment and infrastructure budget of the police (0-1: vehicles, radios, "
        "stations): raises each officer's weight in combatant arrests and the professionalism "
        "gained under mentoring", "-", ge=0.0, le=1.0,
    )
    equipment_arrest_gain: float = _f(
        1.0, "An officer's weight in combatant arrests, arrest_base + professionalism, x (1 + "
        "equipment_arrest_gain x equipment)", "-", ge=0.0, le=10.0,
    )
    equipment_training_gain: float = _f(
        1.0, "Professionalism gained under mentoring, mentoring_gain (1 - p), x (1 + "
        "equipment_training_gain x equipment)", "-", ge=0.0, le=10.0,
    )
    leader_dialogue: float = _f(
        0.0, "Share of officers who meet community leaders regularly (police-community "
        "forums): a leader within dialogue_radius of one takes part and passes on to the "
        "police what residents within trust.leader_radius tell it", "share", ge=0.0, le=1.0,
    )
    dialogue_radius: int = _f(
        5, "Reach of a dialogue officer: leaders within it take part in its forum", "cells",
        ge=0, le=50,
    )


class Peacekeepers(_Section):
    """Peacekeepers; in the Epstein scenarios they act as even-handed cops (Model II)."""

    density: float = _f(0.0, "Peacekeepers per cell once deployed", "agents/cell", ge=0.0, le=1.0)
    vision: int = _f(7, "Vision radius of peacekeepers", "cells", ge=1, le=50)
    act_as_cops: bool = _f(
        True, "Peacekeepers count as cops for arrest risk and arrest actives (Model II)"
    )


class LegitimacySchedule(_Section):
    """How the regime's legitimacy L changes over time."""

    kind: Literal["constant", "linear", "step"] = _f(
        "constant",
        "constant: L stays at unrest.legitimacy; linear: L moves by `rate` per tick from "
        "`start_tick` until it reaches `target`; step: L jumps to `target` at `start_tick`",
    )
    start_tick: int = _f(0, "Tick at which the change starts (or the jump happens)", "tick", ge=0)
    target: float = _f(0.0, "Legitimacy at the end of the change", "-", ge=0.0, le=1.0)
    rate: float = _f(0.01, "Change of L per tick (linear schedule)", "1/tick", gt=0.0, le=1.0)


class Unrest(_Section):
    """Epstein's civil-violence rules (Model I rebellion, Model II inter-group violence)."""

    mode: Literal["rebellion", "intergroup"] = _f(
        "rebellion",
        "rebellion: actives protest against the regime (Model I); intergroup: actives kill "
        "a random member of the other group in vision (Model II)",
    )
    legitimacy: float = _f(0.82, "Regime legitimacy L", "-", ge=0.0, le=1.0)
    legitimacy_schedule: LegitimacySchedule = Field(default_factory=LegitimacySchedule)
    threshold: float = _f(0.1, "Activation threshold T: active iff G - N > T", "-", ge=0.0, le=1.0)
    arrest_constant: float = _f(2.3, "k in P = 1 - exp(-k r(C/A))", "-", ge=0.0, le=100.0)
    arrest_ratio: Literal["floor", "round", "exact"] = _f(
        "floor",
        "r(C/A): floor (NetLogo), round half-to-even (Mesa's example), exact (the paper)",
    )
    max_jail_term: int = _f(30, "Jail terms are drawn U{0..J_max}", "ticks", ge=0, le=1_000_000)
    jail: Literal["off_grid", "on_cell"] = _f(
        "off_grid",
        "off_grid: jailed residents leave the grid and return to a random empty cell "
        "(the paper); on_cell: they stay on their cell (Mesa's example)",
    )
    legitimacy_trust_weight: float = _f(
        0.0, "u in L_i = (1 - u) L + u trust_police_i; 0 is Epstein", "-", ge=0.0, le=1.0
    )
    movement: bool = _f(True, "Agents move to a random empty cell within vision each tick")
    move_first: bool = _f(
        False, "Move before acting (NetLogo order) instead of after (Mesa's order)"
    )


# --------------------------------------------------------------------------- peacekeeping


def _check_abusiveness(value: float | list[float]) -> float | list[float]:
    values = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        raise ValueError("give one value per faction (an empty list has none)")
    if any(not 0.0 <= v <= 1.0 for v in values):
        raise ValueError("each value must lie in [0, 1]")
    return value


def _number_or_list(value: Any) -> Any:
    def number(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    if number(value) or (isinstance(value, list) and all(number(v) for v in value)):
        return value
    raise ValueError("must be a number in [0, 1] or a list of them, one per faction")


#: a faction quality given once for all factions or per faction (armed_groups.abusiveness)
Abusiveness = Annotated[float | list[float], BeforeValidator(_number_or_list),
                        AfterValidator(_check_abusiveness)]


class ArmedGroups(_Section):
    """Armed-group members (ODD 7.9-7.10). Density 0 switches the layer off."""

    density: float = _f(0.0, "Initial combatants per cell", "agents/cell", ge=0.0, le=1.0)
    factions: int = _f(1, "Number of factions", "-", ge=1, le=4)
    vision: int = _f(5, "Vision radius of combatants", "cells", ge=1, le=50)
    aggression: float = _f(
        0.05, "Mean per-tick propensity to attack a resident in vision", "1/tick", ge=0.0, le=1.0
    )
    cohesion: float = _f(
        0.5, "Faction cohesion: resists disarmament (DDR uptake x (1 - cohesion))", "-",
        ge=0.0, le=1.0,
    )
    risk_constant: float = _f(
        1.0, "k_c in the perceived risk P_c = 1 - exp(-k_c S_v / B_v)", "-", ge=0.0, le=100.0
    )
    p_lethal: float = _f(0.3, "Probability that an attack kills its victim", "-", ge=0.0, le=1.0)
    p_clash: float = _f(
        0.03, "Per-tick probability that a combatant with security forces in vision clashes",
        "1/tick", ge=0.0, le=1.0,
    )
    p_battle_death: float = _f(
        0.2, "Probability that a clash kills the combatant (half that for the unit)", "-",
        ge=0.0, le=1.0,
    )
    p_retaliate: float = _f(
        0.5, "Probability that an attacker picks a known informant in vision first", "-",
        ge=0.0, le=1.0,
    )
    reinforcement: float = _f(
        0.5, "Fighters joining per tick from outside the region (Poisson), near the faction's "
        "stronghold on the edge of the map", "agents/tick", ge=0.0, le=100.0,
    )
    stronghold_radius: int = _f(
        4, "Reach around a stronghold where reinforcements appear", "cells", ge=0, le=100
    )
    recruit_rate: float = _f(
        0.03, "r0: recruitment probability scale, r0 G (1 - E) (1 - rho trust_pk)", "1/tick",
        ge=0.0, le=1.0,
    )
    trust_damping: float = _f(
        0.8, "rho: how much trust in peacekeepers blocks recruitment", "-", ge=0.0, le=1.0
    )
    legitimacy_damping: float = _f(
        0.3, "a_C: recruitment x (1 - a_C M), M the mission's legitimacy (share of residents "
        "who trust it)", "-", ge=0.0, le=1.0,
    )
    aggression_min: float = _f(
        0.5, "A new combatant's aggression is aggression x U(aggression_min, aggression_min + 1)"
        ", capped at 1", "-", ge=0.0, le=10.0,
    )
    unit_death_share: float = _f(
        0.5, "A clash kills the unit or officer it hits with p_battle_death x this", "-",
        ge=0.0, le=1.0,
    )
    stronghold_tries: int = _f(
        20, "Random cells tried near the stronghold for each arriving fighter (none free: "
        "the fighter does not arrive)", "-", ge=1, le=10_000,
    )
    # --- communities: rival factions (ODD 7.25) ---
    rivalry: float = _f(
        0.0, "Per-tick probability that a fighter with a fighter of another faction in vision "
        "engages it, x (1 - P_c) (the risk it perceives from security forces, as for an "
        "attack); every two factions are rivals; 0: factions never fight each other",
        "1/tick", ge=0.0, le=1.0,
    )
    p_crossfire: float = _f(
        0.3, "Probability that a clash between rival fighters hits a bystander, a uniformly "
        "random non-jailed resident within crossfire_radius of the fighter who engaged (who "
        "dies with p_lethal)", "-", ge=0.0, le=1.0,
    )
    crossfire_radius: int = _f(
        1, "Reach (square) around a rival clash within which bystanders can be hit", "cells",
        ge=0, le=50,
    )
    # --- accept: reintegration and acceptance (ODD 7.19) ---
    abusiveness: Abusiveness = _f(
        0.0, "How much a faction preys on civilians (looting, extortion, assault): a member "
        "preys on a resident in vision with probability abusiveness x (1 - P_c) per tick, "
        "which residents see and remember against the faction (ODD 7.19). One number for "
        "every faction, or a list with one value per faction (length armed_groups.factions)"
        "; each in [0, 1]", "1/tick",
    )

    @model_validator(mode="after")
    def _abusiveness_per_faction(self) -> ArmedGroups:
        value = self.abusiveness
        if isinstance(value, list) and len(value) != self.factions:
            raise ValueError(
                f"abusiveness = {value} has {len(value)} values: give one per faction "
                f"(armed_groups.factions = {self.factions}) or a single number")
        return self

    def abusiveness_of(self, faction: int) -> float:
        """The abusiveness of ``faction`` (a single number applies to every faction)."""
        value = self.abusiveness
        return float(value[faction] if isinstance(value, list) else value)


class DDR(_Section):
    """Disarmament, demobilisation and reintegration (ODD 7.10, 7.12)."""

    rate: float = _f(
        0.1, "ddr_rate: per-tick disarmament probability near a DDR unit", "1/tick", ge=0.0, le=1.0
    )
    radius: int = _f(4, "Reach of a DDR site", "cells", ge=1, le=50)
    relapse_rate: float = _f(
        0.05, "Per-tick relapse scale for unemployed ex-combatants", "1/tick", ge=0.0, le=1.0
    )
    reintegration_support: float = _f(
        0.0, "Reintegration support (0-1): damps relapse, puts ex-combatants first for jobs",
        "-", ge=0.0, le=1.0,
    )
    economy_weight: float = _f(
        0.5, "w_E: weight of the local economy in disarmament, ddr.rate x (1 - w_E + w_E E)",
        "-", ge=0.0, le=1.0,
    )
    job_priority: float = _f(
        2.0, "Ex-combatants' programme-job probability x (1 + job_priority x "
        "reintegration_support)", "-", ge=0.0, le=100.0,
    )
    # --- accept: weapons (ODD 7.20) ---
    destroy_share: float = _f(
        0.5, "Share of the weapons handed in at DDR sites that are destroyed at once; the "
        "rest are stored at the site, where armed groups may raid them (ODD 7.20)", "share",
        ge=0.0, le=1.0,
    )


class Roles(_Section):
    """Shares of the peacekeeping force by role; they must sum to 1 (roles left out are 0)."""

    patrol: float = _f(0.0, "Mobile patrols biased toward recent violence", "share", ge=0, le=1)
    static: float = _f(0.0, "Fixed posts at settlements and markets", "share", ge=0, le=1)
    rapid_response: float = _f(
        0.0, "Units that rush to the worst reported violence", "share", ge=0, le=1
    )
    engagement: float = _f(0.0, "Community engagement in settlements", "share", ge=0, le=1)
    ddr: float = _f(0.0, "Disarmament sites", "share", ge=0, le=1)
    police_mentoring: float = _f(0.0, "Joint patrols with police", "share", ge=0, le=1)
    # --- zones: checkpoints ---
    checkpoint: float = _f(
        0.0, "Checkpoints on road and market approaches: they stop or detect fighters moving "
        "through and slow residents and trade (ODD 7.22)", "share", ge=0, le=1,
    )

    @model_validator(mode="after")
    def _sum_to_one(self) -> Roles:
        total = sum(getattr(self, r) for r in ROLE_NAMES)
        if abs(total - 1.0) > 1e-6:
            shares = ", ".join(f"{r}={getattr(self, r):g}" for r in ROLE_NAMES)
            raise ValueError(f"role shares must sum to 1 (got {total:.6g}: {shares})")
        return self


ROLE_NAMES = ("patrol", "static", "rapid_response", "engagement", "ddr", "police_mentoring",
              "checkpoint")


class Strategy(_Section):
    """How the mission uses its force (ODD 7.7-7.9, 7.11, 7.15); strategy files set this table."""

    name: str = _f("default", "Strategy name used in reports and folder names (letters, "
                   "digits, '.', '_', '-')")
    roles: Roles = Field(
        default_factory=lambda: Roles(patrol=0.5, static=0.2, rapid_response=0.1,
                                      engagement=0.1, ddr=0.05, police_mentoring=0.05)
    )
    cultural_competence: float = _f(
        0.5, "Training: scales trust gained through engagement and de-escalation", "-",
        ge=0.0, le=1.0,
    )
    restraint: float = _f(
        0.8, "Use-of-force discipline; civilians harmed per interdiction = 1 - restraint", "-",
        ge=0.0, le=1.0,
    )
    transparency: float = _f(
        0.3, "Information campaigns: trust gains x (1 + t), losses x (1 - t/2)", "-",
        ge=0.0, le=1.0,
    )
    early_warning: float = _f(
        0.3, "Mobile reporting: tips travel farther (information.mobile_reach x e) and faster "
        "(delay x (1 - e))", "-", ge=0.0, le=1.0
    )
    local_partners: float = _f(
        0.0, "Investment in local partner organisations (0-1): while units are deployed, "
        "each partner's capacity grows by partners.build_rate x local_partners x (1 - "
        "capacity) a tick; partners carry engagement, reintegration and early warning and "
        "keep working after the exit at the capacity built (ODD 7.21)", "-",
        ge=0.0, le=1.0,
    )
    p_interdict: float = _f(
        0.005, "Interdiction hazard of a combatant per unit of interdiction capacity in vision: "
        "p = 1 - exp(-p_interdict x capacity x (1 + tip_gain x tips))", "1/tick",
        ge=0.0, le=50.0,
    )
    rr_speed: int = _f(6, "Cells a rapid-response unit moves per tick", "cells/tick", ge=1, le=50)
    engagement_radius: int = _f(4, "Reach of a community meeting", "cells", ge=1, le=50)
    patrol_samples: int = _f(
        6, "Cells in vision a patrol samples each tick; it moves to the empty one with the most "
        "violence against civilians + fresh tips held", "-", ge=1, le=1000,
    )
    patrol_jitter: float = _f(
        0.001, "Random tie-break added to a patrol's score of a cell, x U(0, 1)", "-",
        ge=0.0, le=1.0,
    )
    step_samples: int = _f(
        12, "Cells within reach a unit heading for a target samples each tick; it moves to the "
        "empty one closest to the target", "-", ge=1, le=1000,
    )
    post_speed: int = _f(
        3, "Cells a posted unit (static, engagement, DDR) moves per tick toward its post",
        "cells/tick", ge=1, le=50,
    )
    mentor_speed: int = _f(
        3, "Cells a mentoring unit moves per tick toward its police partner", "cells/tick",
        ge=1, le=50,
    )
    mentor_radius: int = _f(
        2, "Reach of a mentoring unit: officers within it are on a joint patrol", "cells",
        ge=0, le=50,
    )
    mentor_pairing_interval: int = _f(
        13, "Ticks between re-pairings of mentors whose police partner is gone", "ticks",
        ge=1, le=10_000,
    )
    hot_threshold: float = _f(
        0.001, "Least heat (violence against civilians + fresh tips held) that sends rapid "
        "response to a cell; below it they patrol", "-", ge=0.0, le=1000.0,
    )
    harm_radius: int = _f(
        1, "Reach (square) within which an interdiction without restraint harms a bystander",
        "cells", ge=0, le=50,
    )
    transparency_loss_share: float = _f(
        0.5, "Trust losses x (1 - transparency_loss_share x transparency)", "-", ge=0.0, le=1.0
    )
    adaptive: bool = _f(
        False, "Review every review_interval ticks: move posted units (static, engagement, DDR) "
        "toward districts where violence rose and trust fell since the last review",
    )
    review_interval: int = _f(13, "Ticks between adaptive reviews", "ticks", ge=1, le=10_000)
    adapt_share: float = _f(
        0.25, "Share of posted units an adaptive review may move", "-", ge=0.0, le=1.0
    )
    # --- communities: partiality (ODD 7.25) ---
    partiality: float = _f(
        0.0, "How far the force favours one community (two-group contexts; with one group it "
        "changes nothing): units near an attack on a resident of the other community bring "
        "their capacity x (1 - partiality) to interrupting it, and a posted unit is posted "
        "at a settlement of the favoured community with probability partiality; 0: "
        "impartial", "-", ge=0.0, le=1.0,
    )
    favoured_group: Literal[0, 1] = _f(
        0, "The community a partial force favours (strategy.partiality)"
    )

    @field_validator("name")
    @classmethod
    def _path_safe_name(cls, value: str) -> str:
        return check_name(value)


def _check_schedule(value: list[tuple[int, float]] | None) -> Any:
    if value is None:
        return value
    if not value:
        raise ValueError("give at least one [ticks after drawdown_start, share kept] pair")
    offsets = [t for t, _ in value]
    shares = [k for _, k in value]
    if any(t < 0 for t in offsets) or any(b <= a for a, b in itertools.pairwise(offsets)):
        raise ValueError("tick offsets must be >= 0 and strictly increasing")
    if any(not 0.0 <= k <= 1.0 for k in shares):
        raise ValueError("shares kept must lie in [0, 1]")
    if any(b > a for a, b in itertools.pairwise(shares)):
        raise ValueError("shares kept must not increase (a drawdown only removes units)")
    return value


#: one step of an explicit drawdown: [ticks after drawdown_start, share of the force kept]
SchedulePair = Annotated[tuple[int, float], BeforeValidator(as_tuple)]
#: the whole schedule, checked where it is declared (so a strategy file's check has it too)
DrawdownSchedule = Annotated[list[SchedulePair] | None, AfterValidator(_check_schedule)]


class Mission(_Section):
    """Mission timeline (ODD 7.14)."""

    deploy_tick: int = _f(0, "Tick at which the peacekeepers are deployed", "tick", ge=0)
    drawdown_start: int | None = _f(
        None, "Tick at which the drawdown starts, after deploy_tick (peacekeeping model only); "
        "none: the mission stays. Allowed with peacekeepers.density = 0 (a no-mission "
        "counterfactual of a context that draws down): there is nobody to withdraw",
        "tick", ge=1,
    )
    drawdown_ticks: int = _f(
        0, "Duration of the drawdown (0 = abrupt exit at drawdown_start)", "ticks", ge=0
    )
    drawdown_schedule: DrawdownSchedule = _f(
        None, "Explicit drawdown instead of drawdown_ticks: [ticks after drawdown_start, share "
        "of the deployed force kept from then on] pairs, e.g. [[0, 0.75], [26, 0.5], [52, 0]]",
    )
    replace_losses: bool = _f(
        True, "Units killed in clashes are replaced the next tick by new units of the same "
        "role (up to the force the drawdown schedule keeps); false: losses are not replaced",
    )
    exit_window: int = _f(
        52, "Ticks before the drawdown and after the exit over which violence is compared; "
        "the window before must fit (exit_window <= drawdown_start), and a run that reaches "
        "the drawdown must last until the window after the exit ends",
        "ticks", ge=1, le=10_000,
    )

    @model_validator(mode="after")
    def _schedule_needs_start(self) -> Mission:
        if self.drawdown_schedule is not None and self.drawdown_start is None:
            raise ValueError("drawdown_schedule needs drawdown_start (the offsets count from it)")
        return self

    def timeline_problem(self) -> str | None:
        """Why the drawdown does not fit the mission's timeline (None if it does): it must
        come after deployment, and the exit window must fit before it. Checked by
        :class:`Scenario` for the peacekeeping model, the one that draws down."""
        start = self.drawdown_start
        if start is None:
            return None
        if start <= self.deploy_tick:
            return (f"mission.drawdown_start = {start} must come after mission.deploy_tick = "
                    f"{self.deploy_tick}: a mission cannot draw down before it is deployed")
        if self.exit_window > start:
            return (f"mission.exit_window = {self.exit_window} does not fit before "
                    f"mission.drawdown_start = {start} (violence is compared over the "
                    "exit_window ticks before the drawdown): use exit_window <= drawdown_start")
        return None


def planned_exit_tick(mission: Mission) -> int | None:
    """Tick at which the schedule removes the last peacekeeper (None: the mission stays):
    abrupt, ``drawdown_start``; linear, ``drawdown_start + drawdown_ticks - 1``; explicit,
    ``drawdown_start`` + the last offset when its share kept is 0."""
    start = mission.drawdown_start
    if start is None:
        return None
    if mission.drawdown_schedule is not None:
        offset, share = mission.drawdown_schedule[-1]
        return start + offset if share == 0 else None
    return start + max(mission.drawdown_ticks - 1, 0)


class Trust(_Section):
    """Residents' trust in peacekeepers and police (ODD 7.11)."""

    initial_pk: float = _f(0.4, "Mean initial trust in peacekeepers", "-", ge=0.0, le=1.0)
    initial_police: float = _f(0.3, "Mean initial trust in police", "-", ge=0.0, le=1.0)
    memory: float = _f(
        0.98, "mu: share of trust kept each tick; the rest relaxes to the resident's base level",
        "-", ge=0.0, le=1.0,
    )
    base_rate: float = _f(
        0.01, "lambda: the base level trust relaxes to moves toward trust by this share per "
        "tick (long memory: what is seen for months is kept)", "1/tick", ge=0.0, le=1.0,
    )
    engagement_gain: float = _f(
        0.05, "Trust gain per tick within reach of engagement (x competence)", "1/tick",
        ge=0.0, le=1.0,
    )
    protection_gain: float = _f(
        0.05, "Trust gain when one sees peacekeepers stop violence nearby", "-", ge=0.0, le=1.0
    )
    victimization_loss: float = _f(
        0.05, "Trust loss when one sees an unprotected attack nearby", "-", ge=0.0, le=1.0
    )
    harm_loss: float = _f(
        0.4, "Trust loss when one sees peacekeepers harm civilians", "-", ge=0.0, le=1.0
    )
    abuse_loss: float = _f(
        0.1, "Loss of trust in police when one sees police abuse", "-", ge=0.0, le=1.0
    )
    mentoring_transfer: float = _f(
        0.03, "Per-tick pull of trust in police toward trust in peacekeepers near joint patrols",
        "1/tick", ge=0.0, le=1.0,
    )
    tip_threshold: float = _f(
        0.5, "Residents report combatants they see if their trust exceeds this", "-",
        ge=0.0, le=1.0,
    )
    p_tip: float = _f(0.2, "Per-tick reporting probability at full trust, scaled by "
                      "(trust - threshold) / (1 - threshold); 0 cuts the information "
                      "channel entirely", "1/tick", ge=0.0, le=1.0)
    leader_share: float = _f(0.02, "Share of residents who are community leaders", "share",
                             ge=0.0, le=1.0)
    leader_radius: int = _f(4, "Reach of a leader's influence", "cells", ge=1, le=50)
    leader_influence: float = _f(
        0.05, "Pull of nearby leaders' trust on a resident's trust per tick", "1/tick",
        ge=0.0, le=1.0,
    )
    de_escalation: float = _f(
        0.3, "Grievance reduction from dialogue with competent engagement units", "-",
        ge=0.0, le=1.0,
    )
    dialogue_competence: float = _f(
        0.5, "Cultural competence above which engagement opens dialogue: dialogue = "
        "de_escalation (2 competence - 1)", "-", ge=0.0, le=1.0,
    )
    dialogue_memory: float = _f(
        0.9, "Share of a resident's dialogue (grievance reduction) kept per tick", "-",
        ge=0.0, le=1.0,
    )
    informant_memory: int = _f(
        10, "Ticks during which armed groups know who reported them", "ticks", ge=0, le=10_000
    )
    perception_memory: float = _f(
        0.95, "Share kept per tick of a resident's memory of how often the force protected "
        "its own group and the other group", "-", ge=0.0, le=1.0,
    )
    partiality_loss: float = _f(
        0.1, "Trust loss per tick x (protection of the other group remembered - protection of "
        "one's own), when positive (impartiality)", "1/tick", ge=0.0, le=1.0,
    )
    legitimacy_threshold: float = _f(
        0.5, "Mission legitimacy M is the share of residents whose trust in peacekeepers "
        "exceeds this", "-", ge=0.0, le=1.0,
    )
    legitimacy_reporting: float = _f(
        0.5, "a_R: reporting x (1 - a_R + a_R M): where most trust the mission, reporting is "
        "the norm", "-", ge=0.0, le=1.0,
    )
    initial_sd: float = _f(
        0.1, "Standard deviation of residents' initial trust around initial_pk and "
        "initial_police (clipped to [0, 1])", "-", ge=0.0, le=1.0,
    )
    # --- communities: community feedback (ODD 7.27) ---
    leader_voice: float = _f(
        5.0, "Weight of what a leader reached by engagement tells the mission for its "
        "adaptive review, in residents' voices (a leader speaks for the people around it, "
        "whatever its own trust)", "-", ge=0.0, le=100.0,
    )
    report_other_group: float = _f(
        0.5, "Weight a resident gives violence against the other community when it tells the "
        "mission what it saw (1: the same as against its own; two-group contexts)", "-",
        ge=0.0, le=1.0,
    )


class Economy(_Section):
    """Livelihoods and infrastructure (ODD 7.12, 7.13)."""

    initial: float = _f(0.4, "Initial economy level E", "-", ge=0.0, le=1.0)
    base: float = _f(0.2, "Economy target with no infrastructure, market access or markets",
                     "-", ge=0.0, le=1.0)
    w_infrastructure: float = _f(0.4, "Weight of infrastructure in the economy target", "-",
                                 ge=0.0, le=1.0)
    w_access: float = _f(
        0.3, "Weight of market access in the economy target: the share of markets within "
        "access_radius that are calm (exp(-V / calm_scale))", "-", ge=0.0, le=1.0)
    w_violence: float = _f(
        0.8, "Weight of recent violence within violence_radius cells (down) in the economy "
        "target", "-",
        ge=0.0, le=10.0,
    )
    market_bonus: float = _f(0.2, "Extra target on market cells", "-", ge=0.0, le=1.0)
    rate: float = _f(0.05, "Relaxation rate toward the target", "1/tick", ge=0.0, le=1.0)
    diffusion: float = _f(0.1, "Share spread to neighbours per tick", "1/tick", ge=0.0, le=1.0)
    hardship_weight: float = _f(
        0.0, "w in H = (1 - w) h + w (1 - E_cell); 0 is Epstein", "-", ge=0.0, le=1.0
    )
    markets: float = _f(0.03, "Share of cells that are settlements/markets", "share",
                        ge=0.0, le=1.0)
    districts: int = _f(4, "Districts per side (districts x districts blocks)", "-", ge=1, le=20)
    programme_rate: float = _f(
        0.0, "Per-tick probability that an unemployed resident finds programme work", "1/tick",
        ge=0.0, le=1.0,
    )
    job_loss: float = _f(0.01, "Per-tick job loss scale, x (1 - E)", "1/tick", ge=0.0, le=1.0)
    employment_relief: float = _f(
        0.5, "Hardship reduction for the employed", "-", ge=0.0, le=1.0
    )
    infrastructure_initial: float = _f(0.3, "Initial infrastructure level", "-", ge=0.0, le=1.0)
    build_rate: float = _f(0.02, "Infrastructure growth under programmes", "1/tick",
                           ge=0.0, le=1.0)
    damage_rate: float = _f(0.05, "Infrastructure damage by violence", "1/tick", ge=0.0, le=1.0)
    calm_scale: float = _f(
        0.5, "Violence scale of calm: infrastructure growth and a market's access x "
        "exp(-V / calm_scale)", "-",
        gt=0.0, le=100.0,
    )
    violence_radius: int = _f(
        3, "Reach (square) of the violence that lowers a cell's economy target", "cells",
        ge=0, le=50,
    )
    access_radius: int = _f(
        5, "Reach (square) of the markets a cell trades with", "cells", ge=0, le=50
    )
    programme_radius: int = _f(
        3, "Reach (square) of programmes around settlements and markets", "cells", ge=0, le=50
    )


class Violence(_Section):
    """The violence layer V (ODD 7.9, 7.11, 7.13)."""

    decay: float = _f(0.2, "Share of violence that fades per tick", "1/tick", ge=0.0, le=1.0)
    spread: float = _f(0.1, "Share that spreads to neighbours per tick", "1/tick", ge=0.0, le=1.0)
    per_attack: float = _f(1.0, "Violence added by an attack", "-", ge=0.0, le=100.0)
    per_clash: float = _f(2.0, "Violence added by a clash", "-", ge=0.0, le=100.0)
    # --- accept: reintegration and acceptance (ODD 7.19) ---
    per_predation: float = _f(
        0.5, "Violence against civilians added where an armed-group member preys on a "
        "resident (armed_groups.abusiveness)", "-", ge=0.0, le=100.0,
    )
    flee_threshold: float = _f(
        0.5, "Residents move away from cells whose violence exceeds this", "-", ge=0.0,
        le=1000.0,
    )
    flee_samples: int = _f(
        8, "Cells in vision a fleeing resident samples; it moves to the calmest empty one if "
        "calmer than its own", "-", ge=1, le=1000,
    )
    return_share: float = _f(
        0.5, "A displaced resident is no longer displaced once V < return_share x "
        "flee_threshold", "-", ge=0.0, le=1.0,
    )


class RoleWeights(_Section):
    """A weight per peacekeeper role (not shares: they need not sum to 1)."""

    patrol: float = _f(1.0, "Mobile patrols", "-", ge=0.0, le=100.0)
    static: float = _f(1.0, "Fixed posts", "-", ge=0.0, le=100.0)
    rapid_response: float = _f(1.0, "Rapid response", "-", ge=0.0, le=100.0)
    engagement: float = _f(0.25, "Community engagement", "-", ge=0.0, le=100.0)
    ddr: float = _f(0.25, "Disarmament sites", "-", ge=0.0, le=100.0)
    police_mentoring: float = _f(0.5, "Joint patrols with police", "-", ge=0.0, le=100.0)
    checkpoint: float = _f(1.0, "Checkpoints", "-", ge=0.0, le=100.0)  # --- zones


class Protection(_Section):
    """What each role of the force does to armed groups (ODD 7.9): one explicit channel for
    each effect of presence (deterrence, interdiction, interrupting an attack)."""

    deterrence: RoleWeights = Field(
        default_factory=RoleWeights,
        description="Each role's weight in the security S_v a combatant perceives in vision",
    )
    interdiction: RoleWeights = Field(
        default_factory=lambda: RoleWeights(patrol=1.0, static=0.5, rapid_response=1.5,
                                            engagement=0.1, ddr=0.1, police_mentoring=0.5,
                                            checkpoint=0.5),
        description="Each role's capacity to interdict combatants in vision and to "
        "interrupt attacks",
    )
    police_deterrence: float = _f(
        1.0, "Weight of an officer of professionalism q in S_v is police_deterrence x q", "-",
        ge=0.0, le=100.0,
    )
    interrupt_rate: float = _f(
        0.5, "An attack is interrupted (the victim survives, a protection event) with "
        "probability 1 - exp(-interrupt_rate x interdiction capacity within interrupt_radius "
        "of the victim)", "-", ge=0.0, le=100.0,
    )
    interrupt_radius: int = _f(
        2, "Reach (square) within which units can interrupt an attack on a resident", "cells",
        ge=0, le=50,
    )


class Information(_Section):
    """Tips: what residents tell the security forces and what the forces do with it (ODD
    7.16). Whether and how often residents report is in [trust] (tip_threshold, p_tip)."""

    report_reach: int = _f(
        3, "A tip reaches the force only if a unit (police tips: an officer) is within this "
        "many cells of the reporter; otherwise it is lost", "cells", ge=0, le=100,
    )
    mobile_reach: int = _f(
        15, "Extra reach of tips to the mission at strategy.early_warning = 1 (mobile "
        "reporting): report_reach + round(mobile_reach x early_warning)", "cells",
        ge=0, le=1000,
    )
    community_reach: int = _f(
        6, "Reach of community-policing officers as recipients of tips (they are known in "
        "the neighbourhood)", "cells", ge=0, le=100,
    )
    report_delay: int = _f(
        2, "Ticks a tip takes to become actionable without early warning; round(report_delay "
        "x (1 - early_warning)) with it", "ticks", ge=0, le=100,
    )
    tip_noise: int = _f(
        2, "A tip gives the combatant's cell give or take this many cells in each direction",
        "cells", ge=0, le=100,
    )
    tip_lifetime: float = _f(
        4.0, "Freshness of a tip exp(-age / tip_lifetime) once actionable", "ticks",
        gt=0.0, le=10_000.0,
    )
    min_freshness: float = _f(
        0.05, "A tip whose freshness falls below this is forgotten", "-", gt=0.0, le=1.0
    )
    tip_gain: float = _f(
        1.0, "Interdiction and arrest hazards x (1 + tip_gain x the freshness of the tips the "
        "force holds on the combatant), no cap", "-", ge=0.0, le=100.0,
    )
    warning_radius: int = _f(
        4, "A settlement within this many cells of where fresh tips point is warned; static "
        "posts nearby move to protect it", "cells", ge=0, le=100,
    )
    warning_threshold: float = _f(
        0.5, "Freshness of tips within warning_radius that makes a settlement warned", "-",
        ge=0.0, le=1000.0,
    )
    respond_radius: int = _f(
        10, "A static unit moves to a warned settlement within this many cells of its post",
        "cells", ge=0, le=1000,
    )
    p_exposure: float = _f(
        0.5, "Probability that the armed group learns who reported it (the reporter becomes a "
        "known informant for trust.informant_memory ticks)", "-", ge=0.0, le=1.0,
    )
    fear_gain: float = _f(
        0.5, "Fear after seeing retaliation against an informant: fear += fear_gain seen(n) "
        "(1 - fear); reporting x (1 - fear)", "-", ge=0.0, le=1.0,
    )
    hear_radius: int = _f(
        10, "Reach (square) within which residents hear of retaliation", "cells", ge=0, le=100
    )
    fear_hear_gain: float = _f(
        0.15, "Fear after hearing of retaliation nearby (not seen)", "-", ge=0.0, le=1.0
    )
    fear_decay: float = _f(0.05, "Share of fear that fades per tick", "1/tick", ge=0.0, le=1.0)
    capacity_per_cell: float = _f(
        0.5, "Tips kept at once per cell of the map (the oldest are dropped first)", "-",
        gt=0.0, le=100.0,
    )


class Detention(_Section):
    """Interdicted or arrested combatants are detained, not deleted (ODD 7.9)."""

    release_rate: float = _f(
        1.0 / 26.0, "Per-tick probability that a detainee is released (mean detention 1 / "
        "release_rate ticks)", "1/tick", ge=0.0, le=1.0,
    )
    rejoin_share: float = _f(
        0.5, "Share of released detainees who rejoin their faction; the others return as "
        "unemployed ex-combatants", "-", ge=0.0, le=1.0,
    )


class Population(_Section):
    """Births, deaths and migration keep a population over decades (ODD 7.17). Defaults: a
    crude birth rate of ~35 and death rate of ~10 per 1,000 a year, weekly."""

    birth_rate: float = _f(
        0.00067, "Per-resident per-tick probability of a birth onto an empty neighbouring cell",
        "1/tick", ge=0.0, le=1.0,
    )
    death_rate: float = _f(
        0.00019, "Per-tick probability of a natural death (residents and combatants)", "1/tick",
        ge=0.0, le=1.0,
    )
    emigration_rate: float = _f(
        0.01, "Per-tick probability that a displaced resident leaves the region (a refugee "
        "abroad)", "1/tick", ge=0.0, le=1.0,
    )
    return_rate: float = _f(
        0.02, "Per-tick probability that a refugee abroad returns, x exp(-mean violence / "
        "violence.flee_threshold), onto a calm empty cell", "1/tick", ge=0.0, le=1.0,
    )
    return_tries: int = _f(
        10, "Random cells tried for a returning refugee; none calm and empty: not this tick",
        "-", ge=1, le=10_000,
    )


# --- communities: two communal groups in a peacekeeping context (ODD 7.25) ---
class Communities(_Section):
    """Two communal groups in a peacekeeping context (``residents.groups = 2``): where they
    live, their own grievances and histories of trust, and whom factions recruit (ODD 7.25).
    Group g's offsets are added at set-up (and for children and returnees)."""

    segregation: float = _f(
        0.0, "Share of residents who live in their community's part of the map (group 0 west "
        "of x = residents.group_share x width, group 1 east of it); the others anywhere", "-",
        ge=0.0, le=1.0,
    )
    hardship_group0: float = _f(
        0.0, "Offset added to the base hardship h ~ U(0, 1) of group 0's residents (clipped "
        "to [0, 1]): the community's own grievances", "-", ge=-1.0, le=1.0,
    )
    hardship_group1: float = _f(
        0.0, "Offset added to the base hardship of group 1's residents", "-", ge=-1.0, le=1.0,
    )
    trust_pk_group0: float = _f(
        0.0, "Offset added to trust.initial_pk for group 0's residents (the community's "
        "history with foreign forces)", "-", ge=-1.0, le=1.0,
    )
    trust_pk_group1: float = _f(
        0.0, "Offset added to trust.initial_pk for group 1's residents", "-", ge=-1.0, le=1.0,
    )
    trust_police_group0: float = _f(
        0.0, "Offset added to trust.initial_police for group 0's residents (the community's "
        "history with the state's police)", "-", ge=-1.0, le=1.0,
    )
    trust_police_group1: float = _f(
        0.0, "Offset added to trust.initial_police for group 1's residents", "-",
        ge=-1.0, le=1.0,
    )
    recruit_own_group: bool = _f(
        True, "A faction recruits only residents of its own community (faction f belongs to "
        "group f mod 2, the group it does not prey on): a resident joins a faction of its own "
        "group, or none; off: any faction",
    )


# --- accept: reintegration and acceptance, weapons, local partners (ODD 7.19-7.21) ---


class Reintegration(_Section):
    """Residents' acceptance of ex-combatants, and their memory of what each faction did
    (ODD 7.19)."""

    initial: float = _f(
        0.5, "Residents' initial acceptance of ex-combatants, and the level it relaxes to",
        "-", ge=0.0, le=1.0,
    )
    relax: float = _f(
        0.02, "Share of the gap to the initial level that acceptance closes per tick", "1/tick",
        ge=0.0, le=1.0,
    )
    programme_gain: float = _f(
        0.02, "Acceptance gain per tick x ddr.reintegration_support (community sensitisation "
        "of reintegration programmes), x (1 - acceptance)", "1/tick", ge=0.0, le=1.0,
    )
    dialogue_gain: float = _f(
        0.05, "Acceptance gain per tick x the resident's dialogue (engagement units, partners)"
        ", x (1 - acceptance)", "1/tick", ge=0.0, le=1.0,
    )
    partner_gain: float = _f(
        0.05, "Acceptance gain per tick x the capacity of local partners within reach (at most "
        "1), x (1 - acceptance)", "1/tick", ge=0.0, le=1.0,
    )
    record_gain: float = _f(
        0.2, "A faction's record in a resident's memory after seeing its members attack or "
        "prey on residents: record += record_gain seen(n) (1 - record)", "-", ge=0.0, le=1.0,
    )
    record_memory: float = _f(
        0.99, "Share of a resident's record of each faction kept per tick", "-", ge=0.0,
        le=1.0,
    )
    radius: int = _f(
        3, "The acceptance an ex-combatant meets is the mean over the residents (not "
        "ex-combatants) within this many cells", "cells", ge=0, le=50,
    )
    relapse_weight: float = _f(
        0.8, "Relapse x (1 - relapse_weight x acceptance met): rejected ex-combatants re-arm "
        "more", "-", ge=0.0, le=1.0,
    )
    hiring_weight: float = _f(
        0.8, "An ex-combatant's programme-job chance x (1 - hiring_weight + hiring_weight x "
        "acceptance met)", "-", ge=0.0, le=1.0,
    )


class Weapons(_Section):
    """Weapons: faction stocks, caches, DDR stores, seizures and raids (ODD 7.20)."""

    stock: int = _f(
        30, "Weapons each faction holds off the map (at its stronghold) at the start",
        "weapons", ge=0, le=1_000_000,
    )
    caches: int = _f(
        3, "Caches each faction has hidden near its stronghold at the start", "-", ge=0,
        le=1000,
    )
    cache_size: int = _f(10, "Weapons in each initial cache", "weapons", ge=0, le=1_000_000)
    cache_radius: int = _f(
        8, "Initial caches lie within this many cells of their faction's stronghold", "cells",
        ge=0, le=1000,
    )
    supply: float = _f(
        2.0, "Weapons reaching each faction's stock per tick from outside (Poisson; 0: an "
        "effective embargo)", "weapons/tick", ge=0.0, le=1000.0,
    )
    hand_in: float = _f(
        0.8, "Probability that a fighter who disarms hands in a weapon; otherwise he hides it "
        "in a cache where he stands", "-", ge=0.0, le=1.0,
    )
    reach: int = _f(
        3, "A cache within this many cells of a resident who joins or re-arms is at hand",
        "cells", ge=0, le=100,
    )
    find_radius: int = _f(
        2, "A force's tip pointing within this many cells of a cache can lead to it", "cells",
        ge=0, le=100,
    )
    p_find: float = _f(
        0.2, "Per tick, a fresh tip near a cache leads its force to the cache with probability "
        "p_find x the tip's freshness; the weapons are seized", "1/tick", ge=0.0, le=1.0,
    )
    p_raid: float = _f(
        0.2, "Per tick, a fighter with a weapon store in vision raids it with probability "
        "p_raid x (1 - the risk it perceives at the store)", "1/tick", ge=0.0, le=1.0,
    )
    raid_size: int = _f(
        10, "Weapons a raid carries off (at most what the store holds)", "weapons", ge=1,
        le=1_000_000,
    )


class Partners(_Section):
    """Local partner organisations at settlements (ODD 7.21); the mission's investment in
    them is strategy.local_partners."""

    share: float = _f(
        0.3, "Share of settlements (markets) where a partner organisation works", "share",
        ge=0.0, le=1.0,
    )
    initial_capacity: float = _f(
        0.0, "Capacity of every partner at the start (civil society before the mission)", "-",
        ge=0.0, le=1.0,
    )
    build_rate: float = _f(
        0.02, "While units are deployed, capacity += build_rate x strategy.local_partners x "
        "(1 - capacity) per tick", "1/tick", ge=0.0, le=1.0,
    )
    decay: float = _f(
        0.005, "Share of its capacity a partner loses per tick (staff and funding)", "1/tick",
        ge=0.0, le=1.0,
    )
    radius: int = _f(5, "Reach of a partner organisation", "cells", ge=0, le=100)
    trust_gain: float = _f(
        0.03, "While units are deployed, trust in peacekeepers += trust_gain x partner "
        "capacity within reach (at most 1) x (1 - trust) per tick", "1/tick", ge=0.0, le=1.0,
    )
    dialogue: float = _f(
        0.2, "Dialogue (grievance reduction) partners open: dialogue = max(dialogue, this x "
        "partner capacity within reach, at most 1)", "-", ge=0.0, le=1.0,
    )


# --- zones: checkpoints, protection sites and displacement, roads ---


class Checkpoints(_Section):
    """Checkpoints (ODD 7.22): units of the role ``checkpoint`` hold a post on a road or
    market approach and control movement through the cells within ``radius`` of them."""

    radius: int = _f(
        2, "Reach (square) of a checkpoint's control: moves from or into these cells pass "
        "through it", "cells", ge=0, le=50,
    )
    approach: int = _f(
        2, "A checkpoint's post is a cell 1..approach cells from a random settlement (a road "
        "cell there when there are roads)", "cells", ge=1, le=50,
    )
    stop_rate: float = _f(
        0.5, "A fighter's move through K controlling checkpoints is stopped (it stays) with "
        "probability 1 - exp(-stop_rate K)", "1/checkpoint", ge=0.0, le=50.0,
    )
    detect_rate: float = _f(
        0.3, "A fighter moving through K controlling checkpoints is detected with probability "
        "1 - exp(-detect_rate K): the mission files a fresh tip on it (its cell, no delay)",
        "1/checkpoint", ge=0.0, le=50.0,
    )
    detain_share: float = _f(
        0.2, "Share of detected fighters held at the checkpoint (detained)", "-",
        ge=0.0, le=1.0,
    )
    slow_rate: float = _f(
        0.3, "A resident's move through K controlling checkpoints is refused (it stays) with "
        "probability 1 - exp(-slow_rate K)", "1/checkpoint", ge=0.0, le=50.0,
    )
    trade_cost: float = _f(
        1.0, "Market access of a controlled cell x (1 - trade_cost x the probability that a "
        "resident's move there is refused): trade passes the checkpoint no easier than "
        "people", "-", ge=0.0, le=1.0,
    )


class Sites(_Section):
    """Protection sites for displaced people (ODD 7.23): where residents fleeing violence go,
    what protection units guard, and where humanitarian aid reaches the displaced."""

    count: int = _f(
        0, "Protection sites on the map (0: none; residents fleeing violence go to the calmest "
        "cell nearby)", "-", ge=0, le=1000,
    )
    placement: int = _f(
        2, "A site is placed on a random cell within this many cells of a random settlement "
        "(distinct settlements while there are enough)", "cells", ge=0, le=50,
    )
    radius: int = _f(
        2, "Reach (square) of a site's area: a displaced resident within it is at the site",
        "cells", ge=0, le=50,
    )
    capacity: int = _f(
        60, "Displaced residents a site takes in; a full site is passed over for the next "
        "nearest", "residents", ge=1, le=1_000_000,
    )
    flee_speed: int = _f(
        3, "Cells a displaced resident heading for a site moves per tick", "cells/tick",
        ge=1, le=50,
    )
    post_share: float = _f(
        0.5, "Share of static posts at protection sites (the others at settlements)", "-",
        ge=0.0, le=1.0,
    )
    patrol_priority: float = _f(
        0.05, "A patrol's score of a cell + patrol_priority x the displaced residents within "
        "radius of it", "1/resident", ge=0.0, le=100.0,
    )
    aid: float = _f(
        0.5, "Humanitarian aid at a calm site: a displaced resident's hardship x (1 - aid x "
        "exp(-V_site / aid_calm_scale))", "-", ge=0.0, le=1.0,
    )
    aid_calm_scale: float = _f(
        1.0, "Violence summed over a site's area at which aid access falls to 1/e", "-",
        gt=0.0, le=1000.0,
    )


class Roads(_Section):
    """Roads (ODD 7.24): a network linking settlements, built at set-up; rapid response moves
    faster on them, the economy spreads along them, violence damages them and programmes
    rebuild them."""

    links: int = _f(
        0, "Each settlement is linked by road to its nearest `links` settlements within "
        "max_length (0: no roads)", "-", ge=0, le=20,
    )
    max_length: int = _f(
        15, "Settlements farther apart than this (Chebyshev) are not linked", "cells",
        ge=1, le=4000,
    )
    initial_quality: float = _f(0.6, "Road quality at set-up", "-", ge=0.0, le=1.0)
    rr_bonus: int = _f(
        4, "Extra reach of a rapid-response unit standing on a road: + round(rr_bonus x "
        "quality)", "cells/tick", ge=0, le=50,
    )
    diffusion: float = _f(
        0.3, "Economy carried along roads per tick: a road cell's E moves by diffusion x "
        "quality toward the mean of its road neighbours", "1/tick", ge=0.0, le=1.0,
    )
    damage_rate: float = _f(
        0.05, "Road damage by violence: quality -= damage_rate min(V, 1) quality", "1/tick",
        ge=0.0, le=1.0,
    )
    rebuild_rate: float = _f(
        0.02, "Road rebuilding where programmes run: quality += rebuild_rate (1 - quality) "
        "exp(-V / economy.calm_scale)", "1/tick", ge=0.0, le=1.0,
    )


class Mechanisms(_Section):
    """Knock-out switches for each link of the information chain and of direct harm (ODD 9,
    mediation): all on by default."""

    information: bool = _f(
        True, "Tips reach the forces and are acted on (off: interdiction, arrests and unit "
        "movement without information)",
    )
    trust_recruitment: bool = _f(
        True, "Trust in peacekeepers and mission legitimacy damp recruitment (off: they do "
        "not)",
    )
    collateral_harm: bool = _f(
        True, "Interdictions without restraint harm bystanders (off: they never do)"
    )
    # --- communities: switches (ODD 7.25-7.27) ---
    rival_clashes: bool = _f(
        True, "Fighters of rival factions engage each other (armed_groups.rivalry; off: they "
        "never do)",
    )
    police_dialogue: bool = _f(
        True, "Leaders who take part in police-community forums pass residents' tips on to "
        "the police (police.leader_dialogue; off: they do not)",
    )
    community_feedback: bool = _f(
        True, "The adaptive review reads what leaders and residents tell the mission (off: it "
        "reads the violence on the map and every resident's trust, as an omniscient "
        "observer)",
    )
    # --- accept: reintegration and acceptance, weapons, local partners ---
    acceptance: bool = _f(
        True, "Residents' acceptance of ex-combatants shapes their relapse and hiring, and "
        "ex-combatants re-arm with their own faction (off: relapse and hiring ignore it, a "
        "relapse joins a random faction)",
    )
    weapons: bool = _f(
        True, "Joining and re-arming need a weapon at hand; weapons are handed in, hidden, "
        "stored, destroyed, seized and raided (off: no weapons economy, every disarmed "
        "fighter's weapon counts as collected)",
    )
    partners: bool = _f(
        True, "Local partner organisations build capacity and act on the map (off: they do "
        "nothing and strategy.local_partners has no effect)",
    )
    # --- zones ---
    checkpoints: bool = _f(
        True, "Checkpoints control movement and trade around them (off: a checkpoint is a "
        "post with its role's weights only)",
    )
    protection_sites: bool = _f(
        True, "Residents fleeing violence head for protection sites, units prioritise the "
        "sites and the displaced, aid follows security (off: flight as without sites)",
    )
    roads: bool = _f(
        True, "Roads speed rapid response and carry the economy, and are damaged and rebuilt "
        "(off: the roads do nothing)",
    )


# --------------------------------------------------------------------------- events (ODD 7.28)

#: the kinds of event a scenario or an instructor can inject
EVENT_KINDS = ("attack", "abuse_scandal", "withdraw_units", "reinforce_armed_group",
               "legitimacy_shock", "programme_change", "set")
#: kinds that need the peacekeeping layer (settlements, armed groups, units, trust, economy)
PEACEKEEPING_EVENTS = ("attack", "abuse_scandal", "withdraw_units", "reinforce_armed_group",
                       "programme_change")
#: keys every event takes
EVENT_COMMON_KEYS = ("tick", "kind", "note")
#: per kind: the keys it needs, groups of which exactly one is needed, the optional ones
EVENT_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "attack": (("attackers",), ("settlement", "district"), ("faction", "aggression", "radius")),
    "abuse_scandal": (("district", "trust_loss"), (), ("target",)),
    "withdraw_units": (("share",), (), ("role",)),
    "reinforce_armed_group": (("fighters",), (), ("faction",)),
    "legitimacy_shock": (("delta",), (), ()),
    "programme_change": ((), ("programme_rate", "factor"), ()),
    "set": (("values",), (), ()),
}
#: defaults of the optional keys, used when an event leaves them out
EVENT_DEFAULTS = {"faction": 0, "aggression": 1.0, "radius": 2, "target": "peacekeepers"}

#: a cell of the map, [x, y]
CellXY = Annotated[tuple[int, int], BeforeValidator(as_tuple)]


def _event_keys_text(kind: str) -> str:
    need, one_of, optional = EVENT_KEYS[kind]
    parts = list(need)
    if one_of:
        parts.insert(0, " or ".join(one_of))
    text = ", ".join(parts)
    extra = [*optional, "note"]
    return f"{text}, and optionally {', '.join(extra)}" if text else ", ".join(extra)


class Event(_Section):
    """One event at the start of a tick (ODD 7.28): ``tick``, ``kind`` and the keys of its
    kind (an attack on a settlement, an abuse scandal in a district, a withdrawal of units,
    reinforcements of an armed group, a legitimacy shock, a change of programmes, or dotted
    scenario keys set from that tick on)."""

    tick: int = _f(..., "Tick at the start of which the event happens (ticks count from 1; "
                   "its effect shows in that tick's row)", "tick", ge=1, le=1_000_000)
    kind: Literal["attack", "abuse_scandal", "withdraw_units", "reinforce_armed_group",
                  "legitimacy_shock", "programme_change", "set"] = _f(
        ..., "What happens: attack | abuse_scandal | withdraw_units | reinforce_armed_group | "
        "legitimacy_shock | programme_change | set")
    note: str = _f("", "Free text shown in the event table and the debrief (e.g. 'market "
                   "attack in the north')", max_length=200)
    settlement: int | CellXY | None = _f(
        None, "attack: the settlement attacked, by its number (0, 1, ... in the order of "
        "their cells) or by its cell [x, y]")
    district: int | None = _f(
        None, "attack, abuse_scandal: a district, numbered 0 .. economy.districts^2 - 1 (x "
        "block x districts + y block); an attack picks one of its settlements at random",
        "-", ge=0, le=399)
    attackers: int | None = _f(
        None, "attack: fighters placed around the target, who then attack through the "
        "ordinary rule (ODD 7.9)", "agents", ge=1, le=10_000)
    faction: int | None = _f(
        None, "attack, reinforce_armed_group: the faction (0 .. armed_groups.factions - 1; "
        "default 0)", "-", ge=0, le=3)
    aggression: float | None = _f(
        None, "attack: the attackers' aggression (default 1: they attack unless deterred)",
        "1/tick", ge=0.0, le=1.0)
    radius: int | None = _f(
        None, "attack: reach (square) around the target where attackers are placed "
        "(default 2; farther out when it is full)", "cells", ge=0, le=50)
    trust_loss: float | None = _f(
        None, "abuse_scandal: share of their trust that residents of the district lose, "
        "damped by transparency like every loss (ODD 7.11)", "-", gt=0.0, le=1.0)
    target: Literal["peacekeepers", "police"] | None = _f(
        None, "abuse_scandal: whose abuse, so whose trust falls (default peacekeepers)")
    share: float | None = _f(
        None, "withdraw_units: share of the units (of the role, if given) withdrawn; the "
        "force the mission keeps falls by as many", "share", gt=0.0, le=1.0)
    role: Literal["patrol", "static", "rapid_response", "engagement", "ddr",
                  "police_mentoring"] | None = _f(
        None, "withdraw_units: withdraw only units of this role")
    fighters: int | None = _f(
        None, "reinforce_armed_group: fighters arriving near the faction's stronghold",
        "agents", ge=1, le=10_000)
    delta: float | None = _f(
        None, "legitimacy_shock: change of the regime's legitimacy L from this tick on "
        "(L stays in [0, 1])", "-", ge=-1.0, le=1.0)
    programme_rate: float | None = _f(
        None, "programme_change: economy.programme_rate from this tick on", "1/tick",
        ge=0.0, le=1.0)
    factor: float | None = _f(
        None, "programme_change: economy.programme_rate x factor from this tick on (capped "
        "at 1)", "-", ge=0.0, le=100.0)
    values: dict[str, Any] | None = _f(
        None, "set: dotted scenario keys and their values from this tick on, e.g. "
        "{\"strategy.restraint\" = 0.4}")

    @model_validator(mode="after")
    def _keys_of_kind(self) -> Event:
        kind = self.kind
        need, one_of, optional = EVENT_KEYS[kind]
        allowed = {*EVENT_COMMON_KEYS, *need, *one_of, *optional}
        # a key given as null (JSON; a dump of a scenario) is a key left out
        given = {k for k in self.model_fields_set if getattr(self, k) is not None}
        problems = []
        for key in sorted(given - allowed, key=list(type(self).model_fields).index):
            problems.append(f"{key} = {short_repr(getattr(self, key))} is not a key of "
                            f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} event")
        a = "an" if kind[0] in "aeiou" else "a"
        problems += [f"{a} {kind} event needs {key}" for key in need if key not in given]
        if one_of and sum(k in given for k in one_of) != 1:
            problems.append(f"{a} {kind} event needs exactly one of {' or '.join(one_of)}")
        if self.delta == 0.0 and "delta" in given:
            problems.append("delta = 0 changes nothing; give a change in [-1, 1]")
        cell = self.settlement
        if isinstance(cell, tuple) and min(cell) < 0:
            problems.append(f"settlement = {list(cell)}: cell coordinates are >= 0")
        if isinstance(cell, int) and cell < 0:
            problems.append(f"settlement = {cell}: settlements are numbered from 0")
        if self.values is not None and not self.values:
            problems.append("values is empty; give at least one dotted key")
        if problems:
            raise ValueError("; ".join(problems) + f" ({kind} takes "
                             f"{_event_keys_text(kind)})")
        return self

    def options(self) -> dict[str, Any]:
        """The keys given, with the defaults of the optional keys left out."""
        out = self.model_dump(exclude_none=True, mode="json")
        _, _, optional = EVENT_KEYS[self.kind]
        for key in optional:
            if key in EVENT_DEFAULTS and key not in out:
                out[key] = EVENT_DEFAULTS[key]
        if not out.get("note"):
            out.pop("note", None)
        return out

    def get(self, key: str) -> Any:
        """The value of ``key``, or its default (:data:`EVENT_DEFAULTS`) when left out."""
        value = getattr(self, key)
        return EVENT_DEFAULTS.get(key) if value is None else value


class Scenario(_Section):
    """A complete, validated scenario. Build with :func:`load_scenario`."""

    name: str = _f("scenario", "Short name used in output folder names (letters, digits, "
                   "'.', '_', '-')")
    description: str = _f("", "One line saying what this scenario is for")
    model: Literal["epstein", "peacekeeping"] = _f(
        "epstein",
        "epstein: the civil-violence core only (Models I and II); peacekeeping: adds armed "
        "groups, peacekeeper roles, police, trust, livelihoods and the mission timeline",
    )
    world: World = Field(default_factory=World)
    run: Run = Field(default_factory=Run)
    residents: Residents = Field(default_factory=Residents)
    police: Police = Field(default_factory=Police)
    peacekeepers: Peacekeepers = Field(default_factory=Peacekeepers)
    unrest: Unrest = Field(default_factory=Unrest)
    armed_groups: ArmedGroups = Field(default_factory=ArmedGroups)
    ddr: DDR = Field(default_factory=DDR)
    strategy: Strategy = Field(default_factory=Strategy)
    mission: Mission = Field(default_factory=Mission)
    trust: Trust = Field(default_factory=Trust)
    economy: Economy = Field(default_factory=Economy)
    violence: Violence = Field(default_factory=Violence)
    protection: Protection = Field(default_factory=Protection)
    information: Information = Field(default_factory=Information)
    detention: Detention = Field(default_factory=Detention)
    population: Population = Field(default_factory=Population)
    # --- accept: reintegration and acceptance, weapons, local partners ---
    reintegration: Reintegration = Field(default_factory=Reintegration)
    weapons: Weapons = Field(default_factory=Weapons)
    partners: Partners = Field(default_factory=Partners)
    mechanisms: Mechanisms = Field(default_factory=Mechanisms)
    # --- communities ---
    communities: Communities = Field(default_factory=Communities)
    checkpoints: Checkpoints = Field(default_factory=Checkpoints)  # --- zones
    sites: Sites = Field(default_factory=Sites)  # --- zones
    roads: Roads = Field(default_factory=Roads)  # --- zones
    events: list[Event] = Field(
        default_factory=list, description="Events at given ticks (ODD 7.28): [[events]] "
        "tables, each with tick, kind (attack, abuse_scandal, withdraw_units, "
        "reinforce_armed_group, legitimacy_shock, programme_change, set) and the keys of its "
        "kind", json_schema_extra={"unit": "-"})

    @model_validator(mode="after")
    def _populations_fit(self) -> Scenario:
        police_max = max(self.police.density, self.police.ramp_to or 0.0)
        police_max = max(police_max, self.police.target or 0.0)
        total = (
            self.residents.density + police_max + self.peacekeepers.density
            + self.armed_groups.density
        )
        if total > 1.0 + 1e-12:
            raise ValueError(
                "residents.density + police.density (or its ramp/target) + "
                f"peacekeepers.density + armed_groups.density = {total:.4g} exceeds 1 "
                "(one agent per cell)"
            )
        return self

    @field_validator("name")
    @classmethod
    def _path_safe_name(cls, value: str) -> str:
        return check_name(value)

    # --- communities: the [communities] table describes two groups ---
    @model_validator(mode="after")
    def _communities_need_two_groups(self) -> Scenario:
        given = sorted(self.communities.model_fields_set)
        if given and self.residents.groups != 2:
            raise ValueError(
                f"communities.{given[0]}: the [communities] table describes two communal "
                f"groups; it needs residents.groups = 2 (got {self.residents.groups})")
        return self

    @model_validator(mode="after")
    def _peacekeeping_only(self) -> Scenario:
        if self.model == "peacekeeping":
            problem = self.mission.timeline_problem()
            if problem is not None:
                raise ValueError(problem)
            return self
        given = [t for t in PEACEKEEPING_TABLES if t in self.model_fields_set]
        given += [f"mission.{k}" for k in PEACEKEEPING_MISSION_KEYS
                  if k in self.mission.model_fields_set]
        if given:
            raise ValueError(
                f"{', '.join(given)}: only with model = \"peacekeeping\" (the {self.model} "
                "model has no armed groups, strategy, drawdown, trust or economy; these "
                "values would be ignored)")
        return self

    # --- districts: per-district series need the peacekeeping model's district map ---
    @model_validator(mode="after")
    def _district_series_need_districts(self) -> Scenario:
        if self.run.district_series and self.model != "peacekeeping":
            raise ValueError(
                f"run.district_series = true: only with model = \"peacekeeping\" (the "
                f"{self.model} model has no districts); allowed: false")
        return self

    @model_validator(mode="after")
    def _events_fit(self) -> Scenario:
        if self.events:
            problems = event_problems(self, self.events)
            if problems:
                raise ValueError("\n".join(problems))
        return self

    def get(self, dotted: str) -> Any:
        """Value at a dotted key such as ``"world.width"``."""
        obj: Any = self
        for part in dotted.split("."):
            obj = getattr(obj, part)
        return obj

    def flat(self) -> dict[str, Any]:
        """All parameters as ``{dotted_key: value}``."""
        return flatten(self.model_dump())


#: tables the Epstein model does not read: setting one there is a mistake, not a no-op
PEACEKEEPING_TABLES = ("armed_groups", "ddr", "strategy", "trust", "economy", "violence",
                       "protection", "information", "detention", "population", "mechanisms",
                       "communities", "reintegration", "weapons", "partners",
                       "checkpoints", "sites", "roads")
#: keys of [mission] only the peacekeeping model reads (the Epstein model reads deploy_tick)
PEACEKEEPING_MISSION_KEYS = ("drawdown_start", "drawdown_ticks", "drawdown_schedule",
                             "exit_window")


# --------------------------------------------------------------------------- events (ODD 7.28)


def settlement_count(sc: Scenario) -> int:
    """How many settlements/markets the map has: ``economy.markets`` of the cells, at least
    one (the layer draws their cells at set-up; events name them by their number)."""
    return max(1, round(sc.economy.markets * sc.world.width * sc.world.height))


_AT_SETUP = "is read only when the world is built (ODD 5): a set event cannot change it"
_GEOMETRY = "fixes a neighbourhood built with the world (ODD 2): a set event cannot change it"
#: what a ``set`` event cannot change, and why (a key, or a table and all its keys)
SET_FIXED: dict[str, str] = {
    "name": "names the scenario, not the world",
    "description": "describes the scenario, not the world",
    "model": "the model is chosen when the world is built",
    "world": "the map is built once, with the world",
    "run": "the run's length, seed and outcome window are not parameters of the world",
    "events": "a set event cannot add events",
    "strategy.name": "names the strategy in reports, not a parameter of the world",
    "residents.density": _AT_SETUP + " (births, deaths and migration change the population)",
    "residents.groups": _AT_SETUP,
    "residents.max_age": _AT_SETUP + " (ages of death are drawn at birth)",
    "residents.vision": _GEOMETRY,
    "police.vision": _GEOMETRY,
    "peacekeepers.vision": _GEOMETRY,
    "armed_groups.vision": _GEOMETRY,
    "strategy.harm_radius": _GEOMETRY,
    "peacekeepers.act_as_cops": _GEOMETRY + " (which vision fields are kept)",
    "armed_groups.density": _AT_SETUP + "; use a reinforce_armed_group event to add fighters",
    "armed_groups.factions": _AT_SETUP,
    "economy.initial": _AT_SETUP,
    "economy.infrastructure_initial": _AT_SETUP,
    "economy.markets": _AT_SETUP + " (settlements are placed once)",
    "economy.districts": _AT_SETUP,
    "information.capacity_per_cell": _AT_SETUP + " (the size of the tip table)",
    "trust.initial_sd": _AT_SETUP,
    "trust.leader_share": _AT_SETUP + " (leaders are chosen once)",
    "mission.deploy_tick": _AT_SETUP + " (use peacekeepers.density to change the force "
    "after deployment)",
    "unrest.jail": _AT_SETUP + " (where the jailed are held)",
    # --- accept, communities: what their set-up places or draws once (ODD 5, 7.20, 7.21, 7.25)
    "weapons.stock": _AT_SETUP + " (use weapons.supply to feed the stocks later)",
    "weapons.caches": _AT_SETUP + " (caches are hidden once)",
    "weapons.cache_size": _AT_SETUP + " (caches are hidden once)",
    "weapons.cache_radius": _AT_SETUP + " (caches are hidden once)",
    "partners.share": _AT_SETUP + " (partners' sites are chosen once)",
    "partners.initial_capacity": _AT_SETUP,
    "mechanisms.weapons": _AT_SETUP + " (stocks and caches are laid out with the world)",
    "mechanisms.partners": _AT_SETUP + " (partners' sites are laid out with the world)",
    "communities.segregation": _AT_SETUP + " (where residents live)",
    "communities.hardship_group0": _AT_SETUP,
    "communities.hardship_group1": _AT_SETUP,
    "communities.trust_pk_group0": _AT_SETUP + " (use an abuse_scandal event to move trust)",
    "communities.trust_pk_group1": _AT_SETUP + " (use an abuse_scandal event to move trust)",
    "communities.trust_police_group0": _AT_SETUP + " (use an abuse_scandal event to move "
    "trust)",
    "communities.trust_police_group1": _AT_SETUP + " (use an abuse_scandal event to move "
    "trust)",
}
#: tables a set event replaces whole (their keys must be given together)
SET_WHOLE_TABLES = ("strategy.roles",)


@functools.cache
def _table_keys() -> frozenset[str]:
    """Dotted keys of the scenario's tables (``strategy``, ``strategy.roles``, ...)."""
    out: set[str] = set()

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            ann = field.annotation
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                out.add(f"{prefix}{name}")
                walk(ann, f"{prefix}{name}.")

    walk(Scenario, "")
    return frozenset(out)


_SET_KEYS: set[str] = set()


def set_key_problem(key: str) -> str | None:
    """Why a ``set`` event cannot change the dotted ``key`` (None if it can): unknown keys,
    and keys the world reads only when it is built (:data:`SET_FIXED`)."""
    import difflib

    parts = key.split(".")
    for i in range(len(parts), 0, -1):
        why = SET_FIXED.get(".".join(parts[:i]))
        if why is not None:
            return why
    if not _SET_KEYS:
        _SET_KEYS.update(k for k in Scenario().flat() if k != "events")
    if key not in _SET_KEYS and key not in SET_WHOLE_TABLES:
        close = difflib.get_close_matches(key, sorted(_SET_KEYS), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else (
            "; see the parameter table in docs/ODD.md")
        return f"not a scenario parameter{hint}"
    return None


def set_values_flat(values: dict[str, Any]) -> dict[str, Any]:
    """A set event's values as ``{dotted key: value}``: nested tables (``{strategy =
    {restraint = 0.4}}``) are flattened, except the tables set whole (``strategy.roles``)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict) and key not in SET_WHOLE_TABLES:
            inner = set_values_flat({f"{key}.{k}": v for k, v in value.items()})
            out.update(inner)
        else:
            out[key] = value
    return out


def _set_problems(sc: Scenario, values: dict[str, Any], tick: int | None
                  ) -> tuple[list[str], Scenario | None]:
    """(problems, the scenario in force after the set event)."""
    flat = set_values_flat(values)
    problems = []
    current = sc.flat()
    for key, value in flat.items():
        if key in current and current[key] == value and type(current[key]) is type(value):
            continue  # unchanged (a lever panel may send every lever): nothing to refuse
        why = set_key_problem(key)
        if why is None and key not in SET_WHOLE_TABLES and key in _table_keys():
            why = "a table: give its keys (e.g. strategy.restraint), not the table"
        why = why or check_value(key, value)
        if why is None and key == "mission.drawdown_start" and tick is not None \
                and value is not None and value < tick:
            why = (f"a set event at tick {tick} cannot start the drawdown in the past: use "
                   f"{tick} or later (or none: the mission stays)")
        if why is not None:
            problems.append(f"{key} = {short_repr(value)}: {why}")
    if problems:
        return problems, None
    data = sc.model_dump(exclude_unset=True)
    data.pop("events", None)
    if any(k.startswith("strategy.roles") for k in flat):
        data.setdefault("strategy", {})["roles"] = sc.strategy.roles.model_dump()
    for key, value in flat.items():
        if key in SET_WHOLE_TABLES:
            table, name = key.rsplit(".", 1)
            data.setdefault(table, {})[name] = copy.deepcopy(value)
        else:
            _set_dotted(data, key, copy.deepcopy(value), "<set>")
    try:
        return [], Scenario.model_validate(data)
    except ValidationError as exc:
        return [problem_line(p).strip() for p in problems_of(exc, Scenario)], None


def apply_set(sc: Scenario, values: dict[str, Any], tick: int | None = None,
              source: str = "set event") -> Scenario:
    """The scenario in force after a ``set`` event that gives ``values`` (dotted keys) at
    ``tick``: every key checked like the file's own (type, range, the cross-key rules) and
    refused where the world reads it only when it is built (:func:`set_key_problem`). The
    result has no events (the schedule is the model's). Raises :class:`ScenarioError`."""
    problems, out = _set_problems(sc, values, tick)
    if out is None:
        raise ScenarioError(f"{source}: " + "; ".join(problems))
    return out


def event_problems(sc: Scenario, events: list[Event], first: int = 0) -> list[str]:
    """What is wrong with ``events`` in the scenario ``sc`` beyond each event on its own:
    kinds the model cannot run, districts, settlements and factions the world does not
    have, and each ``set`` event's values, checked against the scenario in force at its
    tick (set events applied in tick order). One line per problem, naming the key."""
    out: list[str] = []
    w, h = sc.world.width, sc.world.height
    n_districts = sc.economy.districts ** 2
    n_settlements = settlement_count(sc)
    factions = sc.armed_groups.factions
    stage: Scenario | None = sc
    for i in sorted(range(len(events)), key=lambda i: events[i].tick):
        ev = events[i]
        where = f"events[{first + i}]"
        if ev.kind in PEACEKEEPING_EVENTS and sc.model != "peacekeeping":
            out.append(f"{where}.kind = {ev.kind!r}: only with model = \"peacekeeping\" (the "
                       f"{sc.model} model has no settlements, armed groups, units or "
                       "programmes); allowed here: legitimacy_shock, set")
            continue
        if ev.district is not None and ev.district >= n_districts:
            out.append(f"{where}.district = {ev.district}: the map has {n_districts} districts "
                       f"(economy.districts = {sc.economy.districts} per side): use 0-"
                       f"{n_districts - 1}")
        cell = ev.settlement
        if isinstance(cell, int) and cell >= n_settlements:
            out.append(f"{where}.settlement = {cell}: the map has {n_settlements} settlements "
                       f"(economy.markets x cells): use 0-{n_settlements - 1}, or a cell [x, y]")
        if isinstance(cell, tuple) and not (cell[0] < w and cell[1] < h):
            out.append(f"{where}.settlement = {list(cell)}: outside the {w}x{h} map (x in "
                       f"0-{w - 1}, y in 0-{h - 1})")
        if ev.faction is not None and ev.faction >= factions:
            out.append(f"{where}.faction = {ev.faction}: there are {factions} faction(s) "
                       f"(armed_groups.factions): use 0-{factions - 1}")
        if ev.kind == "set" and ev.values is not None and stage is not None:
            problems, stage = _set_problems(stage, ev.values, ev.tick)
            out += [f"{where}.values: {p}" for p in problems]
    return out


def scenario_after_events(sc: Scenario) -> Scenario:
    """The scenario in force after every ``set`` event (in tick order); ``sc`` itself when
    there are none."""
    out = sc
    for ev in sorted(sc.events, key=lambda e: e.tick):
        if ev.kind == "set" and ev.values is not None:
            out = apply_set(out, ev.values, ev.tick)
    return out


def scenario_from_dump(data: dict[str, Any], source: str) -> Scenario:
    """A scenario from its full dump (``Scenario.model_dump(mode="json")``, as a manifest or
    an exercise log holds it). The Epstein model's dump carries the peacekeeping tables at
    their defaults, which a file may not set, and a one-group world's dump the
    ``[communities]`` table: they are dropped (a value other than the default is an
    error)."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: the scenario must be a table, got {short_repr(data)}")
    data = copy.deepcopy(data)
    if data.get("model", "epstein") != "peacekeeping":
        defaults = Scenario().model_dump(mode="json")
        for table in PEACEKEEPING_TABLES:
            if table in data and data.pop(table) != defaults[table]:
                raise ScenarioError(f"{source}: {table}: only with model = \"peacekeeping\"")
        mission = data.get("mission")
        if isinstance(mission, dict):
            for key in PEACEKEEPING_MISSION_KEYS:
                if key in mission and mission.pop(key) != defaults["mission"][key]:
                    raise ScenarioError(f"{source}: mission.{key}: only with model = "
                                        "\"peacekeeping\"")
    residents = data.get("residents")
    groups = residents.get("groups", 1) if isinstance(residents, dict) else 1
    # communities: a table only two groups may set
    if groups != 2 and data.get("communities") == Communities().model_dump(mode="json"):
        del data["communities"]
    return build_scenario(data, source)


def parameter_table() -> list[dict[str, Any]]:
    """One row per scenario parameter: key, meaning, unit, default, allowed range."""
    rows: list[dict[str, Any]] = []

    def walk(instance: BaseModel, prefix: str) -> None:
        for name, field in type(instance).model_fields.items():
            value = getattr(instance, name)
            if isinstance(value, BaseModel):
                walk(value, f"{prefix}{name}.")
                continue
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            rows.append(
                {
                    "key": f"{prefix}{name}",
                    "meaning": field.description or "",
                    "unit": extra.get("unit", "-"),
                    "default": value,
                    "range": _allowed(field),
                }
            )

    walk(Scenario(), "")
    return rows


def _allowed(field: Any) -> str:
    import typing

    ann = field.annotation
    if typing.get_origin(ann) is Literal:
        return " | ".join(str(a) for a in typing.get_args(ann))
    lo = hi = None
    lo_op, hi_op = "[", "]"
    for m in field.metadata:
        for attr, op in (("ge", "["), ("gt", "(")):
            if getattr(m, attr, None) is not None:
                lo, lo_op = getattr(m, attr), op
        for attr, op in (("le", "]"), ("lt", ")")):
            if getattr(m, attr, None) is not None:
                hi, hi_op = getattr(m, attr), op
    if ann is bool:
        return "true | false"
    if any(typing.get_origin(a) is list for a in (ann, *typing.get_args(ann))):
        return "list (see meaning)"
    if lo is None and hi is None:
        return "any"
    return f"{lo_op}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{hi_op}"


# --------------------------------------------------------------------------- loading


def _set_dotted(data: dict[str, Any], key: str, value: Any, source: str) -> None:
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        nxt = node.setdefault(part, {})
        if not isinstance(nxt, dict):
            raise ScenarioError(f"{source}: override '{key}': '{part}' is not a section")
        node = nxt
    node[parts[-1]] = value


def build_scenario(
    data: dict[str, Any],
    source: str = "<scenario>",
    overrides: dict[str, Any] | None = None,
    override_label: str = "from --set",
) -> Scenario:
    """Validate a scenario dictionary, with dotted-key overrides applied on top (keys that
    came from overrides are marked ``override_label`` in messages, not blamed on the file)."""
    data = copy.deepcopy(data)
    overrides = _renamed(data, overrides, source)
    if any(k.startswith("strategy.roles.") for k in overrides or {}):
        # one share set on the command line adjusts the roles in force, it does not
        # silently zero the others
        strategy = data.setdefault("strategy", {})
        if isinstance(strategy, dict) and "roles" not in strategy:
            strategy["roles"] = Strategy().roles.model_dump()
    for key, value in (overrides or {}).items():
        _set_dotted(data, key, value, source)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        marks = dict.fromkeys(overrides or {}, override_label)
        problems: list[Problem] = []
        for p in problems_of(exc, Scenario, marks):
            if p.key == "(top level)" and "\n" in p.message:  # one line per problem
                problems += [Problem(p.key, line, show_value=False)
                             for line in p.message.splitlines()]
            else:
                problems.append(p)
        raise ScenarioError(format_problems(source, "scenario", problems)) from None


class ScenarioDeprecation(UserWarning):
    """A scenario key that was renamed: the value is used under its new name."""


#: keys renamed since earlier versions: old dotted key -> (new dotted key, what changed)
RENAMED_KEYS: dict[str, tuple[str, str]] = {
    "economy.w_security": (
        "economy.w_access", "the economy no longer reads where troops stand; the weight now "
        "applies to access to calm markets, which security gives through less violence"),
    "strategy.tip_boost": (
        "information.tip_gain", "tips now raise interdiction and arrests by the freshness of "
        "the tips held on each combatant, without the old cap"),
}


def _renamed(data: dict[str, Any], overrides: dict[str, Any] | None,
             source: str) -> dict[str, Any] | None:
    """Move values given under a renamed key (:data:`RENAMED_KEYS`) to the new key, with a
    :class:`ScenarioDeprecation` warning that says what changed (in ``data`` in place; the
    overrides are returned renamed). Both names given is an error."""
    import warnings

    def pop(node: dict[str, Any], key: str) -> tuple[bool, Any]:
        *path, last = key.split(".")
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
            if not isinstance(node, dict):
                return False, None
        if last in node:
            return True, node.pop(last)
        return False, None

    def has(node: dict[str, Any], key: str) -> bool:
        *path, last = key.split(".")
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
            if not isinstance(node, dict):
                return False
        return last in node

    out = dict(overrides) if overrides else overrides
    for old, (new, why) in RENAMED_KEYS.items():
        for where, found, value in (("file", *pop(data, old)),
                                    ("--set", old in (out or {}),
                                     (out or {}).pop(old, None))):
            if not found:
                continue
            if has(data, new) or new in (out or {}):
                raise ScenarioError(f"{source}: {old} and {new} are both given; {old} is the "
                                    f"old name of {new}: keep only {new}")
            warnings.warn(f"{source}: {old} is now {new} ({why}); the value {value!r} is used "
                          f"as {new}", ScenarioDeprecation, stacklevel=3)
            if where == "file":
                _set_dotted(data, new, value, source)
            else:
                out[new] = value
    return out


def check_run_length(scenario: Scenario, ticks: int, source: str = "<scenario>") -> None:
    """A run that reaches the drawdown must last until the exit window after the exit ends,
    or its post-exit violence (and relapse ratio) would be measured over a cut window.

    Called where the tick count is final (``peacesim run``, the runner, experiments and
    studies at load): ``--ticks`` and an experiment's ``ticks`` replace ``run.ticks``."""
    for i, ev in enumerate(scenario.events):
        if ev.tick > ticks:
            raise ScenarioError(one_problem(
                source, "run", f"events[{i}].tick", value=ev.tick, show_value=True, message=
                f"after the run's last tick ({ticks}): the {ev.kind} event would never "
                "happen; use a tick within the run, or a longer run"))
    if any(ev.kind == "set" for ev in scenario.events):
        scenario = scenario_after_events(scenario)  # the drawdown in force at the end
    mission = scenario.mission
    start = mission.drawdown_start
    if scenario.model != "peacekeeping" or start is None or start > ticks:
        return  # no drawdown within the run: the mission stays throughout
    exit_at = planned_exit_tick(mission)
    if exit_at is None:
        return  # an explicit schedule that keeps a share: no exit, no window after it
    need = exit_at + mission.exit_window
    if ticks < need:
        raise ScenarioError(one_problem(
            source, "run", "ticks", value=ticks, show_value=True, message=
            f"the run ends before the post-exit window: the drawdown starts at tick "
            f"{start}, the last peacekeeper leaves at tick {exit_at}, and violence after the "
            f"exit is compared over mission.exit_window = {mission.exit_window} ticks, so the "
            f"run needs at least {need} ticks (or a later drawdown_start, or a shorter "
            "exit_window)"))


#: tables a strategy file may set (how the mission uses its force, not the context)
STRATEGY_SECTIONS = ("strategy", "mission", "peacekeepers", "police", "ddr", "economy",
                     "protection", "checkpoints", "sites")
#: keys that say a file is an experiment, a study or a calibration rather than a scenario or
#: strategy
EXPERIMENT_KEYS = ("contexts", "strategies")
STUDY_KEYS = ("method",)
CALIBRATION_KEYS = ("parameters", "targets")
#: each kind of file: what it is called, how it is recognised, the command that runs it
KINDS: dict[str, tuple[str, str, str | None]] = {
    "scenario": ("a scenario", "", "peacesim run"),
    "strategy": ("a strategy file", "", None),
    "experiment": ("a sweep experiment", "it lists `contexts`/`strategies`", "peacesim sweep"),
    "study": ("a sensitivity study", "it sets `method`", "peacesim sensitivity"),
    "calibration": ("a calibration file", "it has `parameters`/`targets`",
                    "peacesim calibrate"),
    "optimization": ("an optimisation", "it has `levers` and `objectives`",
                     "peacesim optimize"),
}


def file_kind(data: dict[str, Any]) -> str:
    """What a file's content says it is: ``scenario``, ``strategy``, ``experiment``,
    ``study`` or ``calibration`` (experiments list ``contexts``; studies set ``method``;
    calibration files have ``parameters`` or ``targets``; optimisations have ``levers`` and
    ``objectives``; strategy files hold only the tables of :data:`STRATEGY_SECTIONS`, with a
    ``[strategy]`` table, and no ``model``)."""
    if "levers" in data and "objectives" in data:
        return "optimization"
    if any(k in data for k in STUDY_KEYS) and "contexts" not in data:
        return "study"
    if any(k in data for k in EXPERIMENT_KEYS):
        return "experiment"
    if any(k in data for k in CALIBRATION_KEYS):
        return "calibration"
    if data and "strategy" in data and set(data) <= set(STRATEGY_SECTIONS):
        return "strategy"
    return "scenario"


def other_kind(path: str | Path, data: dict[str, Any], expected: str) -> str | None:
    """The one message for a file given to the wrong command: when ``data`` is plainly an
    experiment, study or calibration file (:func:`file_kind`) but ``expected`` is another
    kind, what it is and the command that runs it; None otherwise."""
    kind = file_kind(data)
    if kind == expected or kind not in ("experiment", "study", "calibration", "optimization"):
        return None
    name, sign, command = KINDS[kind]
    return (f"{path}: {name} ({sign}), not {KINDS[expected][0]}; run it with: {command} "
            f"{path}")


def _says_nothing(data: dict[str, Any]) -> bool:
    return set(data) <= {"name", "description"}


def read_scenario_file(path: str | Path) -> dict[str, Any]:
    """A scenario file's data, refusing files that are something else (a strategy, an
    experiment, a study) or that say nothing (empty, or only a name): run with every
    default, they would give results for a scenario nobody wrote."""
    data = read_toml(path)
    if file_kind(data) == "strategy":
        raise ScenarioError(
            f"{path}: looks like a strategy file (it sets only "
            f"{', '.join(f'[{t}]' for t in sorted(data))} and no model), not a scenario; "
            "give it with --strategy, or under strategies = [...] in an experiment")
    wrong = other_kind(path, data, "scenario")
    if wrong is not None:
        raise ScenarioError(wrong)
    if _says_nothing(data):
        raise ScenarioError(
            f"{path}: says nothing: no model and no parameter tables (an empty or truncated "
            "file would run with every default); set model = \"epstein\" or "
            "\"peacekeeping\" and the tables that describe the scenario")
    return data


def _field_type(section: type[BaseModel], key: str) -> Any:
    fld = section.model_fields[key]
    return Annotated[fld.annotation, *fld.metadata] if fld.metadata else fld.annotation


_ADAPTERS: dict[tuple[type[BaseModel], str], TypeAdapter[Any]] = {}


def field_adapter(section: type[BaseModel], key: str) -> TypeAdapter[Any]:
    """A validator of one field on its own: its type and bounds, strictly (no cross-field
    rules). Strategy files and factor levels are checked with it."""
    found = _ADAPTERS.get((section, key))
    if found is None:
        found = TypeAdapter(_field_type(section, key), config=StrictModel.model_config)
        _ADAPTERS[(section, key)] = found
    return found


def check_value(dotted: str, value: Any) -> str | None:
    """Why ``value`` is not allowed for the scenario key ``dotted`` on its own (type, bounds,
    64-bit integers), or None if it is. ``dotted`` must be a scenario parameter key."""
    parts = dotted.split(".")
    model: type[BaseModel] = Scenario
    for part in parts[:-1]:
        sub = model.model_fields[part].annotation
        assert isinstance(sub, type) and issubclass(sub, BaseModel)
        model = sub
    sub = model.model_fields[parts[-1]].annotation
    try:
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            sub.model_validate(value)  # a whole table, e.g. strategy.roles
        else:
            field_adapter(model, parts[-1]).validate_python(value)
            StrictModel._fits_64_bits(value)
            exact_choice(sub, value)
    except ValidationError as exc:
        return "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
    except ValueError as exc:
        return str(exc)
    return None


def _section_model(name: str) -> type[BaseModel]:
    sub = Scenario.model_fields[name].annotation
    assert isinstance(sub, type) and issubclass(sub, BaseModel)
    return sub


def strategy_problems(data: dict[str, Any]) -> list[Problem]:
    """What is wrong with a strategy file's tables on their own: tables other than
    :data:`STRATEGY_SECTIONS`, unknown keys, values of the wrong type or out of bounds, role
    shares that do not sum to 1, a strategy name that cannot name a folder. Rules that
    involve the context (drawdown after deployment, populations fit) are checked when the
    strategy is laid over one."""
    problems: list[Problem] = []
    if not data:
        problems.append(Problem("(top level)", "says nothing: an empty strategy file; set "
                                "[strategy] (and [mission], [police], ... if it changes them)",
                                show_value=False))
    for table, content in data.items():
        if table not in STRATEGY_SECTIONS:
            problems.append(Problem(table, "a strategy file may set only "
                                    f"{', '.join(f'[{t}]' for t in STRATEGY_SECTIONS)}",
                                    show_value=False))
            continue
        if not isinstance(content, dict):
            problems.append(Problem(table, "must be a table", content))
            continue
        section = _section_model(table)
        for key, value in content.items():
            if key not in section.model_fields:
                problems.append(Problem(
                    f"{table}.{key}", f"unknown key (value {short_repr(value)}); allowed keys "
                    f"here: {', '.join(allowed_keys(Scenario, [table]))}", show_value=False))
                continue
            sub = section.model_fields[key].annotation
            try:
                if isinstance(sub, type) and issubclass(sub, BaseModel):
                    sub.model_validate(value)  # a whole table, e.g. strategy.roles
                else:
                    field_adapter(section, key).validate_python(value)
                    StrictModel._fits_64_bits(value)
                    exact_choice(sub, value)
                    if table == "strategy" and key == "name":
                        check_name(value)
            except ValidationError as exc:
                problems += problems_of(exc, sub if isinstance(sub, type) and
                                        issubclass(sub, BaseModel) else None,
                                        prefix=(table, key))
            except ValueError as exc:
                problems.append(Problem(f"{table}.{key}", str(exc), value))
    return problems


def load_strategy(path: str | Path) -> dict[str, Any]:
    """Read and check a strategy file on its own (see :func:`strategy_problems`)."""
    data = read_toml(path)
    wrong = other_kind(path, data, "strategy")
    if wrong is not None:
        raise ScenarioError(wrong)
    if "model" in data:
        raise ScenarioError(
            f"{path}: looks like a scenario (context) file, not a strategy file (a strategy "
            f"sets only {', '.join(f'[{t}]' for t in STRATEGY_SECTIONS)} tables); give it "
            "as the scenario, or under contexts = [...] in an experiment")
    problems = strategy_problems(data)
    if problems:
        raise ScenarioError(format_problems(str(path), "strategy", problems))
    return data


def apply_strategy(data: dict[str, Any], strategy_path: str | Path,
                   context: str | Path | None = None) -> dict[str, Any]:
    """A context's data with a strategy file's tables on top (its role shares replace the
    context's whole ``strategy.roles`` table, so shares are never mixed). A strategy steers
    a peacekeeping mission: an Epstein context is refused."""
    sdata = load_strategy(strategy_path)
    model = data.get("model", "epstein")
    if model != "peacekeeping":
        where = f"{context}: " if context is not None else ""
        raise ScenarioError(
            f"{where}model = {model!r}: a strategy ({strategy_path}) steers a peacekeeping "
            "mission and applies only to contexts with model = \"peacekeeping\"")
    merged = deep_merge(data, sdata)
    roles = sdata.get("strategy", {}).get("roles") if isinstance(sdata.get("strategy"), dict) \
        else None
    if roles is not None:
        merged["strategy"]["roles"] = copy.deepcopy(roles)
    return merged


def load_scenario(
    path: str | Path,
    overrides: dict[str, Any] | None = None,
    strategy: str | Path | None = None,
) -> Scenario:
    """Read and validate a scenario file, optionally crossed with a strategy file.

    ``overrides`` maps dotted keys to values, e.g. ``{"world.width": 100}``; unknown keys
    are errors just as in the file. ``strategy`` is a file under ``scenarios/strategies/``
    whose tables are laid over the context's. The run length is checked by
    :func:`check_run_length` once the number of ticks is final.
    """
    data = read_scenario_file(path)
    source = str(path)
    if strategy is not None:
        data = apply_strategy(data, strategy, path)
        source = f"{path} with strategy {strategy}"
    return build_scenario(data, source, overrides)


def _fmt(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, BaseModel):
        return "(table)"
    return str(value)


def parameter_table_markdown() -> str:
    """The ODD parameter table (docs/ODD.md embeds it; a test keeps the two identical)."""
    lines = [
        "| key | meaning | unit | default | range |",
        "|---|---|---|---|---|",
    ]
    for row in parameter_table():
        meaning = row["meaning"].replace("|", "/")
        rng = row["range"].replace("|", "/")
        lines.append(
            f"| `{row['key']}` | {meaning} | {row['unit']} | {_fmt(row['default'])} | {rng} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m sim.config.scenario > table.md
    print(parameter_table_markdown(), end="")
