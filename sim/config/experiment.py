"""Experiment files: which contexts, strategies, uncertain factors and replications a sweep runs.

An experiment is a TOML file (``experiments/*.toml``) validated like a scenario: unknown keys
are errors, and every message names the file, the dotted key, the value and what is allowed.
:func:`load_experiment` reads and checks it (every context file exists and crosses every
strategy file); :func:`design_points` and :func:`expand` turn it into a design, one row per
run. Nothing here runs the model: the design is plain data that any executor can consume.

Keys (top level unless a table is named; paths are relative to the experiment file):

* ``name``, ``description``; ``contexts`` (scenario files) and ``strategies`` (strategy
  files): a list of paths, or of tables ``{name, file, set}`` where ``set`` holds dotted-key
  values, so a strategy can also be given by lever values alone;
* ``replications``, ``seed`` (root), ``seed_policy`` (``common`` | ``independent``),
  ``ticks`` (default: each context's ``run.ticks``), ``burn_in`` (ticks left out of the kept
  series and of the ``avg_<metric>`` summary columns);
* ``[set]``: dotted-key values for every run;
* ``[[factors]]``: ``key`` with ``levels = [...]`` or ``range = [low, high]`` (plus ``n``
  evenly spaced levels in a full factorial); integer parameters are rounded;
* ``[design]``: ``kind`` (``full_factorial`` | ``latin_hypercube``), ``n`` (hypercube
  points), ``seed`` (hypercube sampling);
* ``[output]``: ``summary_keys`` (default all), ``metrics`` (per-tick columns: a list,
  ``"default"`` or ``"all"``), ``every`` (keep every k-th tick);
* ``[report]``: ``reference`` strategy, ``outcomes``, ``envelope_by`` (a factor key).

A run's scenario is, later winning: the context file, the strategy file's tables, the
experiment's ``set``, the context's ``set``, the strategy's ``set``, the factor values.

Seed policy. Each replication ``r`` gets its seed from ``numpy.random.SeedSequence``:

* ``common`` (default): ``SeedSequence(seed).spawn(replications)[r]``, the same for every
  context, strategy and design point. Runs that differ only in strategy then start from the
  same random numbers (common random numbers), so their difference can be estimated from
  paired runs with far less noise.
* ``independent``: ``SeedSequence([seed, h(context), h(strategy), point]).spawn(...)[r]``,
  with ``h`` a stable hash of the name: every cell of the design has its own streams, and
  reordering or extending the file does not change the seeds of the other cells.

The 64-bit state word is halved (``>> 1``) so seeds fit a signed 64-bit column.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import itertools
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sim.config.scenario import (
    Scenario,
    ScenarioError,
    apply_strategy,
    build_scenario,
    read_toml,
)


class ExperimentError(ScenarioError):
    """An experiment file that cannot be run; the message says where and why (CLI: exit 2)."""


#: per-tick columns kept by default (those that exist in the run's model)
DEFAULT_METRICS = (
    "violence_mean", "civilian_casualties", "combatants", "economy_mean", "trust_pk_mean",
    "trust_police_mean", "peacekeepers", "police", "active", "jailed",
)
#: scenario keys a factor or ``set`` may not touch (the experiment owns them)
RESERVED_KEYS = {"run.seed": "seed / seed_policy", "run.ticks": "ticks"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


# --------------------------------------------------------------------------- schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ArmSpec(_Strict):
    """A context or a strategy: a file, and/or dotted-key values laid over it."""

    name: str | None = Field(None, description="Label in reports and folder names "
                             "(default: the file's `name`, or its stem)")
    file: str | None = Field(None, description="Scenario or strategy TOML file, relative to "
                             "the experiment file's folder")
    set: dict[str, Any] = Field(default_factory=dict, description="Dotted-key values, e.g. "
                                "{\"strategy.restraint\" = 0.9}")


class Factor(_Strict):
    """An uncertain factor (or lever) varied by the design."""

    key: str = Field(description="Dotted scenario key, e.g. armed_groups.aggression")
    levels: list[Any] | None = Field(None, min_length=1, description="Explicit values")
    range: tuple[float, float] | None = Field(None, description="[low, high] (continuous)")
    n: int | None = Field(None, ge=2, le=1000, description="Full factorial: evenly spaced "
                          "levels across `range`")


class Design(_Strict):
    """How factor values are combined into design points."""

    kind: Literal["full_factorial", "latin_hypercube"] = "full_factorial"
    n: int | None = Field(None, ge=1, le=1_000_000, description="Latin hypercube: points")
    seed: int | None = Field(None, ge=0, description="Latin hypercube sampling seed "
                             "(default: the experiment seed)")


class Output(_Strict):
    """What each run keeps."""

    summary_keys: list[str] | None = Field(None, description="Summary keys kept (default all)")
    metrics: list[str] | Literal["default", "all"] = Field(
        "default", description="Per-tick columns kept: a list, 'default' or 'all'; [] keeps "
        "no time series")
    every: int = Field(1, ge=1, le=100_000, description="Keep every k-th tick")


class ReportSpec(_Strict):
    """Defaults for ``peacesim compare``."""

    reference: str | None = Field(None, description="Strategy the others are compared with")
    outcomes: list[str] | None = Field(None, description="Summary keys reported")
    envelope_by: str | None = Field(None, description="Factor key: one panel per level in "
                                    "the time-series envelopes")


class ExperimentSpec(_Strict):
    """An experiment file as written."""

    name: str | None = None
    description: str = ""
    contexts: list[ArmSpec] = Field(min_length=1)
    strategies: list[ArmSpec] = Field(min_length=1)
    factors: list[Factor] = Field(default_factory=list)
    design: Design = Field(default_factory=Design)
    replications: int = Field(1, ge=1, le=1_000_000)
    seed: int = Field(1, ge=0)
    seed_policy: Literal["common", "independent"] = "common"
    ticks: int | None = Field(None, ge=1, le=1_000_000)
    burn_in: int = Field(0, ge=0)
    set: dict[str, Any] = Field(default_factory=dict)
    output: Output = Field(default_factory=Output)
    report: ReportSpec = Field(default_factory=ReportSpec)

    @field_validator("contexts", "strategies", mode="before")
    @classmethod
    def _files_as_tables(cls, value: Any) -> Any:
        # a bare string is a file: ["a.toml", {name = "b", set = {...}}]
        if isinstance(value, list):
            return [{"file": v} if isinstance(v, str) else v for v in value]
        return value


# --------------------------------------------------------------------------- resolved form


@dataclass(frozen=True)
class Arm:
    """A resolved context or strategy: its name, file and flattened dotted-key values."""

    name: str
    file: Path | None
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    """A checked experiment: the spec plus resolved files and per-pair base data."""

    path: Path
    sha256: str
    spec: ExperimentSpec
    name: str
    contexts: list[Arm]
    strategies: list[Arm]
    #: (context, strategy) -> scenario data with the strategy file laid over the context
    base_data: dict[tuple[str, str], dict[str, Any]]
    #: (context, strategy) -> ticks of its runs
    ticks: dict[tuple[str, str], int]
    #: factor key -> "int" | "float" | "other" (how sampled values are rounded)
    factor_kinds: dict[str, str]

    @property
    def factor_keys(self) -> list[str]:
        return [f.key for f in self.spec.factors]


# --------------------------------------------------------------------------- errors


def _loc_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _submodel(arg)
        if found is not None:
            return found
    return None


def _allowed_here(loc: tuple[Any, ...], root: type[BaseModel]) -> list[str]:
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int):
            continue
        fld = model.model_fields.get(part) if model else None
        model = _submodel(fld.annotation) if fld else None
        if model is None:
            return []
    return sorted(model.model_fields) if model else []


def format_experiment_error(exc: ValidationError, source: str,
                            root: type[BaseModel] | None = None,
                            what: str = "experiment") -> str:
    """One line per problem: file, key (``factors[0].range``), the bad value, what is allowed
    (``root``: the file's schema, default :class:`ExperimentSpec`)."""
    root = root or ExperimentSpec
    lines = [f"{source}: invalid {what} ({exc.error_count()} problem(s))"]
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = _loc_text(loc)
        value = err.get("input")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(_allowed_here(loc[:-1], root))
            lines.append(f"  {key}: unknown key (value {value!r}); allowed keys here: {allowed}")
        elif err["type"] == "missing":
            lines.append(f"  {key}: required key is missing")
        elif err["type"] == "too_short" and loc and loc[-1] in ("contexts", "strategies"):
            lines.append(f"  {key} = {value!r}: the list is empty; give at least one "
                         f"{'scenario' if loc[-1] == 'contexts' else 'strategy'} file")
        else:
            lines.append(f"  {key} = {value!r}: {msg}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- parameters


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


_PARAM_KEYS: list[str] = sorted(Scenario().flat())


def _param_kind(key: str) -> str:
    """'int', 'float' or 'other': how values sampled for ``key`` must be rounded."""
    model: Any = Scenario
    ann: Any = None
    for part in key.split("."):
        fld = model.model_fields[part]
        ann = fld.annotation
        model = _submodel(ann)
    args = set(typing.get_args(ann)) - {type(None)} or {ann}
    if args == {int}:
        return "int"
    if args == {float}:
        return "float"
    return "other"


def _check_key(key: str, where: str, source: str) -> None:
    if key in RESERVED_KEYS:
        raise ExperimentError(
            f"{source}: {where} = {key!r}: set this with the experiment's "
            f"{RESERVED_KEYS[key]} instead"
        )
    if key not in _PARAM_KEYS:
        close = difflib.get_close_matches(key, _PARAM_KEYS, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else (
            "; see the parameter table in docs/ODD.md")
        raise ExperimentError(f"{source}: {where} = {key!r}: not a scenario parameter{hint}")


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _resolve_file(base: Path, text: str, where: str, source: str) -> Path:
    path = Path(text)
    if not path.is_absolute():
        path = base / path
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "file not found"
        raise ExperimentError(
            f"{source}: {where} = {text!r}: {what} (looked for {path.resolve()}; paths are "
            "relative to the experiment file's folder)"
        )
    return path


def _arm_name(spec: ArmSpec, path: Path | None, data: dict[str, Any] | None,
              where: str, source: str) -> str:
    name = spec.name
    if name is None and data is not None:
        name = data.get("name") if where.startswith("contexts") else \
            (data.get("strategy") or {}).get("name")
    if name is None and path is not None:
        name = path.stem
    if name is None:
        raise ExperimentError(f"{source}: {where}: needs a name or a file")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ExperimentError(
            f"{source}: {where}.name = {name!r}: use letters, digits, '.', '_' or '-' "
            "(it names folders and table rows)"
        )
    return name


def _arms(specs: list[ArmSpec], kind: str, base: Path, source: str,
          need_file: bool) -> tuple[list[Arm], dict[str, dict[str, Any]]]:
    arms: list[Arm] = []
    data_of: dict[str, dict[str, Any]] = {}
    for i, spec in enumerate(specs):
        where = f"{kind}[{i}]"
        if spec.file is None and need_file:
            raise ExperimentError(f"{source}: {where}.file: required key is missing "
                                  "(a context is a scenario file)")
        path = None if spec.file is None else _resolve_file(base, spec.file, f"{where}.file",
                                                            source)
        data = read_toml(path) if path is not None else None
        overrides = _flatten(spec.set)
        for key in overrides:
            _check_key(key, f"{where}.set key", source)
        name = _arm_name(spec, path, data, where, source)
        if name in data_of:
            raise ExperimentError(f"{source}: {where}: the name {name!r} is used twice; give "
                                  "each entry its own `name`")
        data_of[name] = data or {}
        arms.append(Arm(name=name, file=path, overrides=overrides))
    return arms, data_of


def _check_factors(spec: ExperimentSpec, source: str) -> dict[str, str]:
    kinds: dict[str, str] = {}
    lhs = spec.design.kind == "latin_hypercube"
    for i, f in enumerate(spec.factors):
        where = f"factors[{i}]"
        _check_key(f.key, f"{where}.key", source)
        if f.key in kinds:
            raise ExperimentError(f"{source}: {where}.key = {f.key!r}: factor given twice")
        kind = _param_kind(f.key)
        kinds[f.key] = kind
        if (f.levels is None) == (f.range is None):
            raise ExperimentError(f"{source}: {where}: give either `levels` (a list of "
                                  "values) or `range` ([low, high]), not both or neither")
        if f.range is not None:
            lo, hi = f.range
            if not lo < hi:
                raise ExperimentError(f"{source}: {where}.range = {list(f.range)}: low must "
                                      "be below high")
            if kind == "other":
                raise ExperimentError(f"{source}: {where}.range: {f.key} is not numeric; "
                                      "list its values in `levels`")
            if not lhs and f.n is None:
                raise ExperimentError(f"{source}: {where}: a full factorial needs `n` "
                                      "(number of levels across the range) or `levels`")
        if f.n is not None and (lhs or f.range is None):
            raise ExperimentError(f"{source}: {where}.n: only for `range` in a full "
                                  "factorial (a latin hypercube samples the range)")
        if f.levels is not None and len({repr(v) for v in f.levels}) != len(f.levels):
            raise ExperimentError(f"{source}: {where}.levels = {f.levels!r}: values repeat")
    if lhs and spec.design.n is None:
        raise ExperimentError(f"{source}: design.n: a latin hypercube needs the number of "
                              "points")
    if lhs and not spec.factors:
        raise ExperimentError(f"{source}: design.kind = 'latin_hypercube': needs at least "
                              "one [[factors]] entry")
    if not lhs and spec.design.n is not None:
        raise ExperimentError(f"{source}: design.n: only for design.kind = 'latin_hypercube'")
    return kinds


def scenario_inputs(
    exp: Experiment, context: str, strategy: str, point: dict[str, Any] | None = None
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """(scenario data, source label, dotted overrides) of one design cell: what a worker
    needs to build the scenario. Later wins: experiment ``set`` < context ``set`` <
    strategy ``set`` < factor values."""
    ctx = next(a for a in exp.contexts if a.name == context)
    strat = next(a for a in exp.strategies if a.name == strategy)
    overrides: dict[str, Any] = {}
    overrides.update(_flatten(exp.spec.set))
    overrides.update(ctx.overrides)
    overrides.update(strat.overrides)
    overrides.update(point or {})
    source = f"{ctx.file}" + (f" with strategy {strat.file}" if strat.file else "") + \
        f" (experiment {exp.path})"
    return exp.base_data[(context, strategy)], source, overrides


def _build(data: dict[str, Any], source: str, overrides: dict[str, Any]) -> Scenario:
    try:
        return build_scenario(data, source, overrides)
    except ScenarioError as exc:
        raise ExperimentError(str(exc).replace("(from --set)", "(from the experiment)")) \
            from None


def load_experiment(path: str | Path) -> Experiment:
    """Read and check an experiment file; raises :class:`ExperimentError` (exit 2) on any
    problem, before anything runs."""
    path = Path(path)
    source = str(path)
    raw = read_toml(path)
    if "method" in raw and "contexts" not in raw:
        raise ExperimentError(f"{source}: a sensitivity study (it sets `method`), not a sweep "
                              f"experiment; run it with: peacesim sensitivity {path}")
    if "targets" in raw and "parameters" in raw and "contexts" not in raw:
        raise ExperimentError(f"{source}: a calibration file (it has `parameters` and "
                              f"`targets`), not a sweep experiment; run it with: peacesim "
                              f"calibrate {path}")
    try:
        spec = ExperimentSpec.model_validate(raw)
    except ValidationError as exc:
        raise ExperimentError(format_experiment_error(exc, source)) from None
    for key in _flatten(spec.set):
        _check_key(key, "set key", source)
    base = path.resolve().parent
    contexts, ctx_data = _arms(spec.contexts, "contexts", base, source, need_file=True)
    strategies, _ = _arms(spec.strategies, "strategies", base, source, need_file=False)
    kinds = _check_factors(spec, source)
    names = [s.name for s in strategies]
    if spec.report.reference is not None and spec.report.reference not in names:
        raise ExperimentError(f"{source}: report.reference = {spec.report.reference!r}: not "
                              f"a strategy of this experiment ({', '.join(names)})")
    if spec.report.envelope_by is not None and spec.report.envelope_by not in kinds:
        raise ExperimentError(f"{source}: report.envelope_by = {spec.report.envelope_by!r}: "
                              "not a factor key of this experiment")
    exp_name = spec.name or path.stem
    if not _NAME.match(exp_name):
        raise ExperimentError(f"{source}: name = {exp_name!r}: use letters, digits, '.', '_' "
                              "or '-' (it names the sweep folder)")

    base_data: dict[tuple[str, str], dict[str, Any]] = {}
    ticks: dict[tuple[str, str], int] = {}
    exp = Experiment(path=path, sha256=_file_sha256(path), spec=spec, name=exp_name,
                     contexts=contexts, strategies=strategies, base_data=base_data,
                     ticks=ticks, factor_kinds=kinds)
    for ctx in contexts:
        for strat in strategies:
            data = copy.deepcopy(ctx_data[ctx.name])
            if strat.file is not None:
                try:
                    data = apply_strategy(data, strat.file)
                except ScenarioError as exc:
                    raise ExperimentError(f"{source}: strategy {strat.name!r}: {exc}") from None
            base_data[(ctx.name, strat.name)] = data
            sc = _build(*scenario_inputs(exp, ctx.name, strat.name))
            ticks[(ctx.name, strat.name)] = spec.ticks or sc.run.ticks
            if spec.burn_in >= ticks[(ctx.name, strat.name)]:
                raise ExperimentError(
                    f"{source}: burn_in = {spec.burn_in}: must be below the number of ticks "
                    f"({ticks[(ctx.name, strat.name)]} for {ctx.name} x {strat.name})"
                )
    return exp


# --------------------------------------------------------------------------- design


def _round(value: float, kind: str) -> Any:
    return int(round(value)) if kind == "int" else float(value)


def design_points(exp: Experiment) -> list[dict[str, Any]]:
    """Factor values of every design point (one empty point when there are no factors).

    Full factorial: every combination of levels, the last factor varying fastest. Latin
    hypercube: ``design.n`` points from :class:`scipy.stats.qmc.LatinHypercube` seeded with
    ``design.seed`` (default: the experiment seed); levels are sampled as equal strata.
    """
    factors = exp.spec.factors
    if not factors:
        return [{}]
    if exp.spec.design.kind == "full_factorial":
        axes = []
        for f in factors:
            kind = exp.factor_kinds[f.key]
            if f.levels is not None:
                axes.append(list(f.levels))
            else:
                assert f.range is not None and f.n is not None
                vals = [_round(v, kind) for v in np.linspace(f.range[0], f.range[1], f.n)]
                axes.append(list(dict.fromkeys(vals)))  # integer rounding may repeat
        return [dict(zip([f.key for f in factors], combo, strict=True))
                for combo in itertools.product(*axes)]
    from scipy.stats import qmc

    seed = exp.spec.design.seed if exp.spec.design.seed is not None else exp.spec.seed
    n = exp.spec.design.n or 1
    unit = qmc.LatinHypercube(d=len(factors), rng=np.random.default_rng(seed)).random(n)
    points = []
    for row in unit:
        point: dict[str, Any] = {}
        for f, u in zip(factors, row, strict=True):
            kind = exp.factor_kinds[f.key]
            if f.levels is not None:
                point[f.key] = f.levels[min(int(u * len(f.levels)), len(f.levels) - 1)]
            elif kind == "int":
                assert f.range is not None
                lo, hi = int(np.ceil(f.range[0])), int(np.floor(f.range[1]))
                point[f.key] = min(lo + int(u * (hi - lo + 1)), hi)
            else:
                assert f.range is not None
                point[f.key] = float(f.range[0] + u * (f.range[1] - f.range[0]))
        points.append(point)
    return points


def _name_hash(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def replicate_seeds(root: int, n: int, policy: str, context: str = "", strategy: str = "",
                    point: int = 0) -> list[int]:
    """Seeds of replications ``0..n-1`` of one design cell (see the module docstring)."""
    entropy: list[int] = [root]
    if policy == "independent":
        entropy += [_name_hash(context), _name_hash(strategy), point]
    children = np.random.SeedSequence(entropy).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


def expand(exp: Experiment) -> pd.DataFrame:
    """The design, one row per run: ``run_id, context, strategy, point, replicate, seed,
    ticks`` and one column per factor (named by its dotted key).

    ``run_id`` follows context, strategy, point, replicate order; runs are best *executed*
    replicate-major (see ``sim.experiments.sweep``) so that a partial sweep covers every arm.
    """
    points = design_points(exp)
    reps = exp.spec.replications
    common = replicate_seeds(exp.spec.seed, reps, "common")
    cols: dict[str, list[Any]] = {k: [] for k in ("context", "strategy", "point", "replicate",
                                                  "seed", "ticks", *exp.factor_keys)}
    for ctx in exp.contexts:  # built by columns: a design of a million runs stays small
        for strat in exp.strategies:
            ticks = exp.ticks[(ctx.name, strat.name)]
            for p, values in enumerate(points):
                seeds = common if exp.spec.seed_policy == "common" else replicate_seeds(
                    exp.spec.seed, reps, "independent", ctx.name, strat.name, p)
                cols["context"] += [ctx.name] * reps
                cols["strategy"] += [strat.name] * reps
                cols["point"] += [p] * reps
                cols["replicate"] += range(reps)
                cols["seed"] += seeds
                cols["ticks"] += [ticks] * reps
                for k in exp.factor_keys:
                    cols[k] += [values[k]] * reps
    df = pd.DataFrame(cols)
    df.insert(0, "run_id", np.arange(len(df), dtype=np.int64))
    for col in ("point", "replicate", "seed", "ticks"):
        df[col] = df[col].astype(np.int64)
    return df


def keep_spec(exp: Experiment) -> dict[str, Any]:
    """What every run keeps, as plain data for the worker (and the content key)."""
    out = exp.spec.output
    return {
        "summary_keys": None if out.summary_keys is None else list(out.summary_keys),
        "metrics": out.metrics if isinstance(out.metrics, str) else list(out.metrics),
        "every": out.every,
        "burn_in": exp.spec.burn_in,
    }
