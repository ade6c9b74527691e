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
* ``[report]``: ``reference`` strategy, ``outcomes``, ``envelope_by`` (a factor key);
* ``[robustness]``: ``thresholds = {casualties_total = {below = 40}, final_trust_pk =
  {above = 0.4}}``, what counts as good enough (strictly below / above) in the report's
  robustness section (the share of futures meeting them: satisficing).

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
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim.config.base import (
    ScenarioError,
    StrictModel,
    as_tuple,
    check_name,
    flatten,
    format_validation_error,
    read_toml,
    short_repr,
    submodel,
)
from sim.config.scenario import (
    Scenario,
    apply_strategy,
    build_scenario,
    check_run_length,
    check_value,
    load_strategy,
    other_kind,
    read_scenario_file,
)

if TYPE_CHECKING:
    import pandas as pd


class ExperimentError(ScenarioError):
    """An experiment file that cannot be run; the message says where and why (CLI: exit 2)."""


#: per-tick columns kept by default (those that exist in the run's model)
#: design and bookkeeping columns of a summary row in the sweep store (everything else is a
#: model outcome); factor names may not take them
META_COLUMNS = ("run_id", "key", "context", "strategy", "point", "replicate", "seed", "ticks",
                "attempt", "elapsed_s", "worker", "ts_rows")
#: scenario keys a factor or ``set`` may not touch (the experiment owns them)
RESERVED_KEYS = {"run.seed": "seed / seed_policy", "run.ticks": "ticks"}
#: design points and runs an experiment may ask for (beyond that it is a typo, not a plan)
MAX_POINTS = 1_000_000
MAX_RUNS = 10_000_000
#: design cells (context x strategy x point) whose scenarios are all built at load; larger
#: designs check every factor level on its own and the first cells
MAX_CHECKED_CELLS = 50_000


# --------------------------------------------------------------------------- parameters


_PARAM_KEYS: list[str] = sorted(Scenario().flat())


def _param_kind(key: str) -> str:
    """'int', 'float' or 'other': how values sampled for ``key`` must be rounded."""
    model: Any = Scenario
    ann: Any = None
    for part in key.split("."):
        fld = model.model_fields[part]
        ann = fld.annotation
        model = submodel(ann)
    args = set(typing.get_args(ann)) - {type(None)} or {ann}
    if args == {int}:
        return "int"
    if args == {float}:
        return "float"
    return "other"


def param_key_problem(key: str) -> str | None:
    """Why ``key`` cannot be set by an experiment or study (None if it can)."""
    if key in RESERVED_KEYS:
        return f"set this with the experiment's {RESERVED_KEYS[key]} instead"
    if key not in _PARAM_KEYS:
        close = difflib.get_close_matches(key, _PARAM_KEYS, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else (
            "; see the parameter table in docs/ODD.md")
        return f"not a scenario parameter{hint}"
    return None


def check_param_key(key: str) -> str:
    """A validator: ``key`` is a scenario parameter an experiment may set."""
    problem = param_key_problem(key)
    if problem is not None:
        raise ValueError(problem)
    return key


def check_set_table(value: dict[str, Any]) -> dict[str, Any]:
    """A validator of ``set`` tables: every dotted key a settable parameter, every value of
    its type and within its bounds."""
    problems = []
    for key, v in flatten(value).items():
        problem = param_key_problem(key)
        if problem is None:
            problem = check_value(key, v)
            if problem is not None:
                problem = f"{short_repr(key)} = {short_repr(v)}: {problem}"
        else:
            problem = f"{short_repr(key)}: {problem}"
        if problem is not None:
            problems.append(problem)
    if problems:
        raise ValueError("; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)"
                                                   if len(problems) > 5 else ""))
    return value


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def resolve_path(base: Path, text: str, owner: str = "experiment") -> Path:
    """``text`` relative to ``base`` (the folder of the ``owner`` file: experiment, study,
    calibration); the file must exist."""
    if "\0" in text:
        raise ValueError("not a path (it holds a NUL character)")
    path = Path(text)
    if not path.is_absolute():
        path = base / path
    try:
        if path.is_file():
            return path
        what = "is a folder" if path.is_dir() else "file not found"
        where = short_repr(str(path.resolve()), 200)
    except (OSError, RuntimeError) as exc:
        raise ValueError(f"cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    raise ValueError(f"{what} (looked for {where}; paths are relative to the {owner} "
                     "file's folder)")


def _context_base(info: ValidationInfo) -> Path:
    ctx = info.context or {}
    return Path(ctx.get("base", "."))


# --------------------------------------------------------------------------- schema


class ArmSpec(StrictModel):
    """A context or a strategy: a file, and/or dotted-key values laid over it."""

    name: str | None = Field(None, description="Label in reports and folder names "
                             "(default: the file's `name`, or its stem)")
    file: str | None = Field(None, description="Scenario or strategy TOML file, relative to "
                             "the experiment file's folder")
    set: dict[str, Any] = Field(default_factory=dict, description="Dotted-key values, e.g. "
                                "{\"strategy.restraint\" = 0.9}")
    _path: Path | None = PrivateAttr(None)
    _data: dict[str, Any] | None = PrivateAttr(None)
    _label: str = PrivateAttr("")

    @field_validator("name")
    @classmethod
    def _path_safe(cls, value: str | None) -> str | None:
        return None if value is None else check_name(value)

    @field_validator("file")
    @classmethod
    def _exists(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            resolve_path(_context_base(info), value)
        return value

    @field_validator("set")
    @classmethod
    def _settable(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_set_table(value)

    def _default_name(self, data: dict[str, Any] | None) -> str | None:
        """The name the file gives itself, if any."""
        return None

    @model_validator(mode="after")
    def _load(self, info: ValidationInfo) -> ArmSpec:
        if self.file is not None:
            self._path = resolve_path(_context_base(info), self.file)
            try:
                self._data = self._read_file(self._path)
            except ScenarioError as exc:
                raise ValueError(f"file = {self.file!r}:\n{exc}") from None
        name = self.name or self._default_name(self._data)
        if name is None and self._path is not None:
            name = self._path.stem
        if name is None:
            raise ValueError("needs a name or a file")
        try:
            self._label = check_name(name)
        except ValueError:
            raise ValueError(f"name {name!r} (from the file) cannot name a folder; give the "
                             "entry a `name` of letters, digits, '.', '_' or '-'") from None
        return self

    def _read_file(self, path: Path) -> dict[str, Any]:
        """The file's data, checked for its kind (scenario or strategy)."""
        return read_toml(path)


class ContextSpec(ArmSpec):
    """A context: a scenario file (required), and dotted-key values laid over it."""

    file: str = Field(description="Scenario TOML file, relative to the experiment file's "
                      "folder (a context is a scenario file)")

    def _read_file(self, path: Path) -> dict[str, Any]:
        return read_scenario_file(path)

    def _default_name(self, data: dict[str, Any] | None) -> str | None:
        name = (data or {}).get("name")
        return name if isinstance(name, str) else None


class StrategySpec(ArmSpec):
    """A strategy: a strategy file and/or lever values."""

    def _read_file(self, path: Path) -> dict[str, Any]:
        return load_strategy(path)

    def _default_name(self, data: dict[str, Any] | None) -> str | None:
        table = (data or {}).get("strategy")
        name = table.get("name") if isinstance(table, dict) else None
        return name if isinstance(name, str) else None


class Factor(StrictModel):
    """An uncertain factor (or lever) varied by the design."""

    key: str = Field(description="Dotted scenario key, e.g. armed_groups.aggression")
    levels: list[Any] | None = Field(None, min_length=1, max_length=100_000,
                                     description="Explicit values")
    range: Annotated[tuple[float, float] | None, BeforeValidator(as_tuple)] = Field(
        None, description="[low, high] (continuous)")
    n: int | None = Field(None, ge=2, le=1000, description="Full factorial: evenly spaced "
                          "levels across `range`")

    @field_validator("key")
    @classmethod
    def _settable(cls, value: str) -> str:
        return check_param_key(value)

    @model_validator(mode="after")
    def _levels_or_range(self) -> Factor:
        if (self.levels is None) == (self.range is None):
            raise ValueError("give either `levels` (a list of values) or `range` ([low, "
                             "high]), not both or neither")
        kind = _param_kind(self.key)
        if self.range is not None:
            lo, hi = self.range
            if not lo < hi:
                raise ValueError(f"range = {list(self.range)}: low must be below high")
            if kind == "other":
                raise ValueError(f"range: {self.key} is not numeric; list its values in "
                                 "`levels`")
            if kind == "int" and math.floor(hi) < math.ceil(lo):
                raise ValueError(f"range = {list(self.range)}: holds no whole number, and "
                                 f"{self.key} is an integer")
            for end in (lo, hi):
                value = int(round(end)) if kind == "int" else float(end)
                problem = check_value(self.key, value)
                if problem is not None:
                    raise ValueError(f"range = {list(self.range)}: {self.key} = {value!r} is "
                                     f"not allowed ({problem})")
        if self.levels is not None:
            if len({repr(v) for v in self.levels}) != len(self.levels):
                raise ValueError(f"levels = {short_repr(self.levels)}: values repeat")
            for i, value in enumerate(self.levels):
                problem = check_value(self.key, value)
                if problem is not None:
                    raise ValueError(f"levels[{i}] = {short_repr(value)}: not allowed for "
                                     f"{self.key} ({problem})")
        return self


class Design(StrictModel):
    """How factor values are combined into design points."""

    kind: Literal["full_factorial", "latin_hypercube"] = "full_factorial"
    n: int | None = Field(None, ge=1, le=MAX_POINTS, description="Latin hypercube: points")
    seed: int | None = Field(None, ge=0, description="Latin hypercube sampling seed "
                             "(default: the experiment seed)")


class Output(StrictModel):
    """What each run keeps."""

    summary_keys: list[str] | None = Field(None, description="Summary keys kept (default all)")
    metrics: list[str] | Literal["default", "all"] = Field(
        "default", description="Per-tick columns kept: a list, 'default' or 'all'; [] keeps "
        "no time series")
    every: int = Field(1, ge=1, le=100_000, description="Keep every k-th tick")


class ReportSpec(StrictModel):
    """Defaults for ``peacesim compare``."""

    reference: str | None = Field(None, description="Strategy the others are compared with")
    outcomes: list[str] | None = Field(None, description="Summary keys reported")
    envelope_by: str | None = Field(None, description="Factor key: one panel per level in "
                                    "the time-series envelopes")


class Threshold(StrictModel):
    """A level an outcome must pass to be good enough: ``{below = 40}`` or ``{above = 0.4}``
    (strictly below or above)."""

    above: float | None = Field(None, description="Good enough when the outcome is above")
    below: float | None = Field(None, description="Good enough when the outcome is below")

    @model_validator(mode="after")
    def _one_side(self) -> Threshold:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of `above` or `below`, e.g. {below = 40}")
        return self

    @property
    def side(self) -> str:
        return "above" if self.above is not None else "below"

    @property
    def value(self) -> float:
        return float(self.above if self.above is not None else self.below)  # type: ignore


def check_outcome_keys(value: dict[str, Any]) -> dict[str, Any]:
    """A validator: every key names an outcome that runs report (a listed summary key or
    ``avg_<metric>``); runs that lack one are handled where it is used."""
    from sim.config.outcomes import known_outcome, known_outcomes

    for key in value:
        if not known_outcome(key):
            close = difflib.get_close_matches(key, known_outcomes(), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else (
                "; outcomes are listed in sim/experiments/outcomes.py")
            raise ValueError(f"{short_repr(key)}: not an outcome of the model{hint}")
    return value


class RobustnessSpec(StrictModel):
    """What ``peacesim compare`` counts as good enough in its robustness section."""

    thresholds: dict[str, Threshold] = Field(
        default_factory=dict, description="Outcome key -> {above = x} or {below = x}; the "
        "report gives the share of futures in which each strategy meets them")

    @field_validator("thresholds")
    @classmethod
    def _known(cls, value: dict[str, Threshold]) -> dict[str, Threshold]:
        return check_outcome_keys(value)


class ExperimentSpec(StrictModel):
    """An experiment file as written, and every rule it must meet (validated with the
    context ``{"base": folder of the file, "source": its path}``)."""

    name: str | None = None
    description: str = ""
    contexts: list[ContextSpec] = Field(min_length=1)
    strategies: list[StrategySpec] = Field(min_length=1)
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
    robustness: RobustnessSpec = Field(default_factory=RobustnessSpec)
    _base_data: dict[tuple[str, str], dict[str, Any]] = PrivateAttr(default_factory=dict)
    _ticks: dict[tuple[str, str], int] = PrivateAttr(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _path_safe(cls, value: str | None) -> str | None:
        return None if value is None else check_name(value)

    @field_validator("contexts", "strategies", mode="before")
    @classmethod
    def _files_as_tables(cls, value: Any) -> Any:
        # a bare string is a file: ["a.toml", {name = "b", set = {...}}]
        if isinstance(value, list):
            return [{"file": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("set")
    @classmethod
    def _settable(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_set_table(value)

    @model_validator(mode="after")
    def _names_and_design(self) -> ExperimentSpec:
        for kind, arms in (("contexts", self.contexts), ("strategies", self.strategies)):
            seen: set[str] = set()
            for i, arm in enumerate(arms):
                if arm._label in seen:
                    raise ValueError(f"{kind}[{i}]: the name {arm._label!r} is used twice; "
                                     "give each entry its own `name`")
                seen.add(arm._label)
        keys = [f.key for f in self.factors]
        for i, key in enumerate(keys):
            if key in keys[:i]:
                raise ValueError(f"factors[{i}].key = {key!r}: factor given twice")
        lhs = self.design.kind == "latin_hypercube"
        for i, f in enumerate(self.factors):
            if f.range is not None and not lhs and f.n is None:
                raise ValueError(f"factors[{i}]: a full factorial needs `n` (number of levels "
                                 "across the range) or `levels`")
            if f.n is not None and (lhs or f.range is None):
                raise ValueError(f"factors[{i}].n: only for `range` in a full factorial (a "
                                 "latin hypercube samples the range)")
        if lhs and self.design.n is None:
            raise ValueError("design.n: a latin hypercube needs the number of points")
        if lhs and not self.factors:
            raise ValueError("design.kind = 'latin_hypercube': needs at least one [[factors]] "
                             "entry")
        if not lhs and self.design.n is not None:
            raise ValueError("design.n: only for design.kind = 'latin_hypercube'")
        points = self.n_points()
        cells = points * len(self.contexts) * len(self.strategies)
        if points > MAX_POINTS or cells * self.replications > MAX_RUNS:
            runs = cells * self.replications
            raise ValueError(f"the design has {points:,} point(s) and {runs:,} run(s); at most "
                             f"{MAX_POINTS:,} points and {MAX_RUNS:,} runs")
        names = [s._label for s in self.strategies]
        if self.report.reference is not None and self.report.reference not in names:
            raise ValueError(f"report.reference = {self.report.reference!r}: not a strategy of "
                             f"this experiment ({', '.join(names)})")
        if self.report.envelope_by is not None and self.report.envelope_by not in \
                [f.key for f in self.factors]:
            raise ValueError(f"report.envelope_by = {self.report.envelope_by!r}: not a factor "
                             "key of this experiment")
        return self

    def n_points(self) -> int:
        """Design points (1 without factors)."""
        if not self.factors:
            return 1
        if self.design.kind == "latin_hypercube":
            return self.design.n or 1
        return math.prod(len(f.levels) if f.levels is not None else (f.n or 1)
                         for f in self.factors)

    @model_validator(mode="after")
    def _every_cell_runs(self, info: ValidationInfo) -> ExperimentSpec:
        """Every context x strategy x design point must be a valid scenario whose run is long
        enough (checked now, not when its runs fail)."""
        source = (info.context or {}).get("source", "<experiment>")
        for ctx in self.contexts:
            for strat in self.strategies:
                data = copy.deepcopy(ctx._data or {})
                if strat._path is not None:
                    try:
                        data = apply_strategy(data, strat._path, ctx._path)
                    except ScenarioError as exc:
                        raise ValueError(f"contexts {ctx._label!r} x strategies "
                                         f"{strat._label!r}: {exc}") from None
                elif strat.set and data.get("model", "epstein") != "peacekeeping":
                    raise ValueError(
                        f"strategies {strat._label!r}: its lever values steer a peacekeeping "
                        f"mission; context {ctx._label!r} has model = "
                        f"{data.get('model', 'epstein')!r}")
                self._base_data[(ctx._label, strat._label)] = data
        points = design_points_of(self, {f.key: _param_kind(f.key) for f in self.factors})
        cells = len(points) * len(self.contexts) * len(self.strategies)
        checked = points if cells <= MAX_CHECKED_CELLS else points[:1]
        for ctx in self.contexts:
            for strat in self.strategies:
                data = self._base_data[(ctx._label, strat._label)]
                label = (f"{ctx._path}" + (f" with strategy {strat._path}" if strat._path
                                           else "") + f" (experiment {source})")
                overrides = {**flatten(self.set), **flatten(ctx.set), **flatten(strat.set)}
                for p, point in enumerate(checked):
                    try:
                        sc = build_scenario(data, label, {**overrides, **point},
                                            override_label="from the experiment")
                        ticks = self.ticks or sc.run.ticks
                        check_run_length(sc, ticks, label)
                    except ScenarioError as exc:
                        where = f"design point {p} ({_point_text(point)})" if point else \
                            "the base scenario"
                        raise ValueError(f"{ctx._label} x {strat._label}, {where}:\n{exc}"
                                         ) from None
                    if p == 0:
                        self._ticks[(ctx._label, strat._label)] = ticks
                        if self.burn_in >= ticks:
                            raise ValueError(
                                f"burn_in = {self.burn_in}: must be below the number of ticks "
                                f"({ticks} for {ctx._label} x {strat._label})")
        return self


def _point_text(point: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {v!r}" for k, v in point.items())


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


def format_experiment_error(exc: ValidationError, source: str,
                            root: type[StrictModel] | None = None,
                            what: str = "experiment") -> str:
    """The one message format (:func:`sim.config.base.format_validation_error`) for an
    experiment (``root``: the file's schema, default :class:`ExperimentSpec`)."""
    return format_validation_error(exc, source, root or ExperimentSpec, what)


# --------------------------------------------------------------------------- loading


def scenario_inputs(
    exp: Experiment, context: str, strategy: str, point: dict[str, Any] | None = None
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """(scenario data, source label, dotted overrides) of one design cell: what a worker
    needs to build the scenario. Later wins: experiment ``set`` < context ``set`` <
    strategy ``set`` < factor values."""
    ctx = next(a for a in exp.contexts if a.name == context)
    strat = next(a for a in exp.strategies if a.name == strategy)
    overrides: dict[str, Any] = {}
    overrides.update(flatten(exp.spec.set))
    overrides.update(ctx.overrides)
    overrides.update(strat.overrides)
    overrides.update(point or {})
    source = f"{ctx.file}" + (f" with strategy {strat.file}" if strat.file else "") + \
        f" (experiment {exp.path})"
    return exp.base_data[(context, strategy)], source, overrides


def load_experiment(path: str | Path) -> Experiment:
    """Read and check an experiment file; raises :class:`ExperimentError` (exit 2) on any
    problem, before anything runs: every rule is a validator of :class:`ExperimentSpec`."""
    path = Path(path)
    source = str(path)
    try:
        raw = read_toml(path)
    except ScenarioError as exc:
        raise ExperimentError(str(exc)) from None
    wrong = other_kind(source, raw, "experiment")
    if wrong is not None:
        raise ExperimentError(wrong)
    if "contexts" not in raw and "strategies" not in raw and not raw:
        raise ExperimentError(f"{source}: says nothing: an empty experiment file; list "
                              "contexts = [...] and strategies = [...]")
    try:
        spec = ExperimentSpec.model_validate(
            raw, context={"base": path.resolve().parent, "source": source})
    except ValidationError as exc:
        raise ExperimentError(format_experiment_error(exc, source)) from None
    contexts = [Arm(c._label, c._path, flatten(c.set)) for c in spec.contexts]
    strategies = [Arm(s._label, s._path, flatten(s.set)) for s in spec.strategies]
    return Experiment(path=path, sha256=_file_sha256(path), spec=spec,
                      name=spec.name or _stem_name(path, source),
                      contexts=contexts, strategies=strategies,
                      base_data=spec._base_data, ticks=spec._ticks,
                      factor_kinds={f.key: _param_kind(f.key) for f in spec.factors})


def _stem_name(path: Path, source: str) -> str:
    try:
        return check_name(path.stem)
    except ValueError:
        raise ExperimentError(f"{source}: name: the file's stem {path.stem!r} cannot name the "
                              "sweep folder; set name = \"...\" (letters, digits, '.', '_', "
                              "'-')") from None


# --------------------------------------------------------------------------- design


def _round(value: float, kind: str) -> Any:
    return int(round(value)) if kind == "int" else float(value)


def design_points(exp: Experiment) -> list[dict[str, Any]]:
    """Factor values of every design point (one empty point when there are no factors).

    Full factorial: every combination of levels, the last factor varying fastest. Latin
    hypercube: ``design.n`` points from :class:`scipy.stats.qmc.LatinHypercube` seeded with
    ``design.seed`` (default: the experiment seed); levels are sampled as equal strata.
    """
    return design_points_of(exp.spec, exp.factor_kinds)


def design_points_of(spec: ExperimentSpec, kinds: dict[str, str]) -> list[dict[str, Any]]:
    """:func:`design_points` of a spec (``kinds``: factor key -> int | float | other)."""
    factors = spec.factors
    if not factors:
        return [{}]
    if spec.design.kind == "full_factorial":
        axes = []
        for f in factors:
            kind = kinds[f.key]
            if f.levels is not None:
                axes.append(list(f.levels))
            else:
                assert f.range is not None and f.n is not None
                vals = [_round(v, kind) for v in np.linspace(f.range[0], f.range[1], f.n)]
                axes.append(list(dict.fromkeys(vals)))  # integer rounding may repeat
        return [dict(zip([f.key for f in factors], combo, strict=True))
                for combo in itertools.product(*axes)]
    from scipy.stats import qmc

    seed = spec.design.seed if spec.design.seed is not None else spec.seed
    n = spec.design.n or 1
    unit = qmc.LatinHypercube(d=len(factors), rng=np.random.default_rng(seed)).random(n)
    points = []
    for row in unit:
        point: dict[str, Any] = {}
        for f, u in zip(factors, row, strict=True):
            kind = kinds[f.key]
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
    import pandas as pd

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
