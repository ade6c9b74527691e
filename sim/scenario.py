"""Scenario files: the one place where parameters are declared, documented and validated.

A scenario is a TOML file with one table per section (``[world]``, ``[unrest]``, ...).
Every field below carries its meaning, unit and allowed range; the ODD parameter table in
``docs/ODD.md`` is generated from (and tested against) this schema.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ScenarioError(ValueError):
    """A scenario (or override) that cannot be used; the message says where and why."""


def _f(default: Any, description: str, unit: str = "-", **constraints: Any) -> Any:
    """A documented field: ``unit`` goes into the JSON schema for the ODD parameter table."""
    return Field(default, description=description, json_schema_extra={"unit": unit}, **constraints)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


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


class Peacekeepers(_Section):
    """Peacekeepers; in the Epstein scenarios they act as even-handed cops (Model II)."""

    density: float = _f(0.0, "Peacekeepers per cell once deployed", "agents/cell", ge=0.0, le=1.0)
    vision: int = _f(7, "Vision radius of peacekeepers", "cells", ge=1, le=50)
    deploy_tick: int = _f(0, "Tick at which the peacekeepers are deployed", "tick", ge=0)
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
    movement: bool = _f(True, "Agents move to a random empty cell within vision each tick")
    move_first: bool = _f(
        False, "Move before acting (NetLogo order) instead of after (Mesa's order)"
    )


class Scenario(_Section):
    """A complete, validated scenario. Build with :func:`load_scenario`."""

    name: str = _f("scenario", "Short name used in output folder names")
    description: str = _f("", "One line saying what this scenario is for")
    world: World = Field(default_factory=World)
    run: Run = Field(default_factory=Run)
    residents: Residents = Field(default_factory=Residents)
    police: Police = Field(default_factory=Police)
    peacekeepers: Peacekeepers = Field(default_factory=Peacekeepers)
    unrest: Unrest = Field(default_factory=Unrest)

    @model_validator(mode="after")
    def _populations_fit(self) -> Scenario:
        police_max = max(self.police.density, self.police.ramp_to or 0.0)
        total = self.residents.density + police_max + self.peacekeepers.density
        if total > 1.0 + 1e-12:
            raise ValueError(
                "residents.density + police.density (or police.ramp_to) + "
                f"peacekeepers.density = {total:.4g} exceeds 1 (one agent per cell)"
            )
        return self

    def get(self, dotted: str) -> Any:
        """Value at a dotted key such as ``"world.width"``."""
        obj: Any = self
        for part in dotted.split("."):
            obj = getattr(obj, part)
        return obj

    def flat(self) -> dict[str, Any]:
        """All parameters as ``{dotted_key: value}``."""
        return _flatten(self.model_dump())


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def parameter_table() -> list[dict[str, Any]]:
    """One row per scenario parameter: key, meaning, unit, default, allowed range."""
    rows: list[dict[str, Any]] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            ann = field.annotation
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                walk(ann, f"{prefix}{name}.")
                continue
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            rows.append(
                {
                    "key": f"{prefix}{name}",
                    "meaning": field.description or "",
                    "unit": extra.get("unit", "-"),
                    "default": field.get_default(call_default_factory=True),
                    "range": _allowed(field),
                }
            )

    walk(Scenario, "")
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
    if lo is None and hi is None:
        return "any"
    return f"{lo_op}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{hi_op}"


# --------------------------------------------------------------------------- loading


def parse_value(text: str) -> Any:
    """Parse a ``--set`` value as TOML (numbers, booleans, arrays); bare words are strings."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _set_dotted(data: dict[str, Any], key: str, value: Any, source: str) -> None:
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        nxt = node.setdefault(part, {})
        if not isinstance(nxt, dict):
            raise ScenarioError(f"{source}: override '{key}': '{part}' is not a section")
        node = nxt
    node[parts[-1]] = value


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` on top of ``base`` (tables merged key by key, other values replaced)."""
    out = copy.deepcopy(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file, turning every failure into a :class:`ScenarioError` naming the file."""
    p = Path(path)
    if not p.exists():
        raise ScenarioError(f"{p}: file not found")
    if p.is_dir():
        raise ScenarioError(f"{p}: is a folder, expected a TOML file")
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{p}: malformed TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{p}: not a UTF-8 text file ({exc.reason})") from None
    except OSError as exc:
        raise ScenarioError(f"{p}: cannot be read: {exc.strerror}") from None


def format_validation_error(
    exc: ValidationError,
    source: str,
    model: type[BaseModel],
    override_keys: set[str] | frozenset[str] = frozenset(),
) -> str:
    """One line per problem: file, dotted key, the bad value and what is allowed.

    Keys that came from overrides (``--set``) are marked as such, not blamed on the file.
    """
    lines = [f"{source}: invalid scenario ({exc.error_count()} problem(s))"]
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        key = ".".join(loc) if loc else "(top level)"
        if key in override_keys:
            key += " (from --set)"
        value = err.get("input")
        etype = err["type"]
        if etype == "extra_forbidden":
            allowed = _allowed_keys(model, loc[:-1])
            lines.append(
                f"  {key}: unknown key (value {value!r}); allowed keys here: {', '.join(allowed)}"
            )
        elif etype == "missing":
            lines.append(f"  {key}: required key is missing")
        elif not loc:
            lines.append(f"  {err['msg'].removeprefix('Value error, ')}")
        else:
            lines.append(f"  {key} = {value!r}: {err['msg']}")
    return "\n".join(lines)


def _allowed_keys(model: type[BaseModel], loc: list[str]) -> list[str]:
    cur: Any = model
    for part in loc:
        field = getattr(cur, "model_fields", {}).get(part)
        if field is None or not (
            isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
        ):
            return []
        cur = field.annotation
    return sorted(getattr(cur, "model_fields", {}))


def build_scenario(
    data: dict[str, Any],
    source: str = "<scenario>",
    overrides: dict[str, Any] | None = None,
) -> Scenario:
    """Validate a scenario dictionary, with dotted-key overrides applied on top."""
    data = copy.deepcopy(data)
    for key, value in (overrides or {}).items():
        _set_dotted(data, key, value, source)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(
            format_validation_error(exc, source, Scenario, set(overrides or {}))
        ) from None


def load_scenario(
    path: str | Path,
    overrides: dict[str, Any] | None = None,
) -> Scenario:
    """Read and validate a scenario file.

    ``overrides`` maps dotted keys to values, e.g. ``{"world.width": 100}``; unknown keys
    are errors just as in the file.
    """
    return build_scenario(read_toml(path), str(path), overrides)


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


if __name__ == "__main__":  # python -m sim.scenario > table.md
    print(parameter_table_markdown(), end="")
