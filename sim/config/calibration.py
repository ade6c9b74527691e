"""Calibration files: which scenario parameters ABC fits, with which priors, to which targets.

A calibration file (``experiments/calibrate_*.toml``, docs/calibration.md) is validated like
every configuration file (:mod:`sim.config.base`): unknown keys are errors, types are
strict, and every rule is a validator of :class:`CalibrationSpec` (validated with the
context ``{"base": folder of the file, "source": its path}``), reported one line per
problem naming the file, the dotted key, the value and what is allowed (CLI: exit 2, before
anything runs). Keys (paths are relative to the calibration file):

* ``name`` (names the output folder; default: the file's stem), ``description``;
  ``scenario`` (a scenario file) and optionally ``strategy`` (a strategy file laid over
  it); ``ticks`` (default: the scenario's ``run.ticks``), ``replicates`` (runs per
  particle, their statistics averaged), ``seed``;
* ``[set]``: dotted-key values for every run;
* ``[abc]``: ``population`` (particles per generation), ``generations`` (at most this many)
  and/or ``min_epsilon`` (stop once the acceptance threshold is below it),
  ``max_simulations`` (stop after a generation that brings the total to at least this),
  ``p`` (order of the distance's norm: 1 or 2), ``ppc_draws`` (posterior draws simulated for
  the predictive check);
* ``[parameters]``: ``"dotted.key" = { uniform = [low, high] }``, ``loguniform = [low, high]``,
  ``normal = [mean, sd]`` or ``truncnormal = [low, high, mean, sd]``; the prior's support
  must lie inside the parameter's allowed range (the scenario schema's bounds);
* ``[[targets]]``: ``statistic`` and ``observed = number`` (a run statistic's observed
  value), or ``data = "events.csv"`` with ``format`` (``acled`` | ``ucdp-ged``) and
  optionally ``region``, ``start``, ``end``, ``population``: the ``statistic`` of those
  events (:func:`sim.calibration.statistics.data_statistic`), compared with the run statistic
  that the table :data:`sim.calibration.statistics.DATA_TO_MODEL` maps it to, or with
  ``model_statistic``; ``holdout = true`` leaves a target out of the fit and reports it as an
  out-of-sample check; ``name`` labels it (default: the statistic).

Whether a run statistic exists is checked against a one-tick probe run of the scenario
(:func:`sim.calibration.abc.probe_statistics`) when the calibration starts, not here:
reading and checking a calibration file never imports the simulation engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from sim.config.base import (
    ScenarioError,
    StrictModel,
    check_name,
    flatten,
    format_validation_error,
    read_toml,
    short_repr,
    submodel,
)
from sim.config.experiment import (
    ExperimentError,
    _file_sha256,
    _param_kind,
    check_set_table,
    param_key_problem,
    resolve_path,
)
from sim.config.scenario import (
    Scenario,
    apply_strategy,
    build_scenario,
    check_run_length,
    file_kind,
    other_kind,
    read_scenario_file,
)


class CalibrationError(ExperimentError):
    """A calibration file that cannot be run; the message says where and why (CLI: exit 2)."""


#: prior name -> (number of values, what they mean)
PRIORS: dict[str, tuple[int, str]] = {
    "uniform": (2, "[low, high]"),
    "loguniform": (2, "[low, high], both > 0"),
    "normal": (2, "[mean, standard deviation > 0]"),
    "truncnormal": (4, "[low, high, mean, standard deviation > 0]"),
}
EVENT_FORMATS = ("acled", "ucdp-ged")
#: what a calibration file sets itself instead of a scenario key
OWN_KEYS = {"run.seed": "seed", "run.ticks": "ticks"}
#: targets and fitted parameters one file may have (beyond that it is a typo, not a plan)
MAX_TARGETS = 1000
MAX_PARAMETERS = 100
WHAT = "calibration file"


# --------------------------------------------------------------------------- parameters


def _field_of(key: str) -> Any:
    """The scenario schema's field of a dotted parameter key."""
    model: Any = Scenario
    fld = None
    for part in key.split("."):
        fld = model.model_fields[part]
        model = submodel(fld.annotation)
    return fld


def schema_bounds(key: str) -> tuple[float, float, bool, bool]:
    """(low, high, low included, high included) allowed by the scenario schema for ``key``."""
    lo, hi, lo_in, hi_in = -math.inf, math.inf, True, True
    for m in _field_of(key).metadata:
        if getattr(m, "ge", None) is not None:
            lo, lo_in = float(m.ge), True
        if getattr(m, "gt", None) is not None:
            lo, lo_in = float(m.gt), False
        if getattr(m, "le", None) is not None:
            hi, hi_in = float(m.le), True
        if getattr(m, "lt", None) is not None:
            hi, hi_in = float(m.lt), False
    return lo, hi, lo_in, hi_in


def _fmt_range(lo: float, hi: float, lo_in: bool, hi_in: bool) -> str:
    return f"{'[' if lo_in else '('}{lo:g}, {hi:g}{']' if hi_in else ')'}"


def _own_key_problem(key: str) -> str | None:
    if key in OWN_KEYS:
        return f"the calibration file's top-level `{OWN_KEYS[key]}` sets this"
    return None


def check_fitted_key(key: str) -> str:
    """A validator of ``[parameters]`` keys: a numeric scenario parameter the file may fit."""
    problem = _own_key_problem(key) or param_key_problem(key)
    if problem is not None:
        raise ValueError(problem)
    if _param_kind(key) not in ("int", "float"):
        raise ValueError("not numeric; only numeric parameters can be calibrated")
    return key


def prior_problem(key: str, kind: str, args: list[float]) -> str | None:
    """Why the prior ``kind(args)`` (valid on its own) does not fit parameter ``key``'s
    allowed range, or None: its support must lie inside the range."""
    lo, hi, lo_in, hi_in = schema_bounds(key)
    allowed = _fmt_range(lo, hi, lo_in, hi_in)
    if kind == "normal":
        if math.isfinite(lo) or math.isfinite(hi):
            return (f"a normal prior reaches values outside {key}'s allowed range {allowed}; "
                    "use truncnormal = [low, high, mean, sd] with low and high inside it")
        return None
    plo, phi = args[0], args[1]
    if plo < lo or (plo == lo and not lo_in) or phi > hi or (phi == hi and not hi_in):
        return f"the prior reaches outside {key}'s allowed range {allowed}"
    return None


# --------------------------------------------------------------------------- checked parts


@dataclass(frozen=True)
class Prior:
    """A checked prior of one parameter."""

    key: str
    kind: str  # one of PRIORS
    args: tuple[float, ...]
    integer: bool  # the parameter is a whole number: sampled values are rounded
    unit: str
    meaning: str

    @property
    def support(self) -> tuple[float, float]:
        """Where the prior density is positive."""
        if self.kind in ("uniform", "loguniform", "truncnormal"):
            return self.args[0], self.args[1]
        return -math.inf, math.inf

    def describe(self) -> str:
        return f"{self.kind}({', '.join(f'{a:g}' for a in self.args)})"


@dataclass(frozen=True)
class Target:
    """A checked target: which run statistic is compared with which observed value."""

    name: str
    statistic: str  # as written (a run statistic, or a data statistic)
    model_statistic: str  # the run statistic simulated
    observed: float
    holdout: bool
    source: str  # "given" or a description of the data selection


# --------------------------------------------------------------------------- schema


REGION_RULE = ("\"admin1=NAME\", \"admin2=A,B\", \"country=NAME\" or \"box=lat_min,lat_max,"
               "lon_min,lon_max\", a list of these, or a table of them")


def _region_shape(value: Any) -> bool:
    """A region as the event-data reader takes it: text, a list of texts, or a table whose
    values are texts or lists (of names, or the box's four numbers)."""
    def atom(v: Any) -> bool:
        return isinstance(v, str) or (isinstance(v, int | float) and not isinstance(v, bool))

    if isinstance(value, str):
        return True
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, str) for v in value)
    if isinstance(value, dict):
        return bool(value) and all(
            isinstance(v, str) or (isinstance(v, list) and bool(v) and all(map(atom, v)))
            for v in value.values())
    return False


def _day_text(value: Any) -> Any:
    """A TOML date (``start = 2016-01-01``) as the text ``"2016-01-01"``; a date and time is
    refused (a period bound is a day or a month)."""
    if isinstance(value, datetime):
        raise ValueError("a day (YYYY-MM-DD) or a month (YYYY-MM), not a time of day")
    if isinstance(value, date):
        return value.isoformat()
    return value


class AbcSpec(StrictModel):
    """How the ABC-SMC sampler runs, and when it stops."""

    population: int = Field(200, ge=10, le=100_000, description="Particles per generation")
    generations: int | None = Field(None, ge=1, le=1000, description="At most this many "
                                    "generations")
    min_epsilon: float | None = Field(None, gt=0, description="Stop once the acceptance "
                                      "threshold (distance on standardised statistics) is "
                                      "at or below this")
    max_simulations: int | None = Field(None, ge=1, description="Stop after the generation "
                                        "that brings the number of particles simulated to "
                                        "at least this (each particle runs `replicates` runs)")
    p: Literal[1, 2] = Field(2, description="Order of the distance's norm (1: sum of absolute "
                             "standardised differences, 2: Euclidean)")
    ppc_draws: int = Field(40, ge=5, le=10_000, description="Posterior draws simulated for the "
                           "posterior predictive check (each with `replicates` runs)")

    @model_validator(mode="after")
    def _some_stop(self) -> AbcSpec:
        if self.generations is None and self.min_epsilon is None and \
                self.max_simulations is None:
            raise ValueError("give `generations`, `min_epsilon` and/or `max_simulations`: "
                             "when to stop")
        return self


class PriorSpec(StrictModel):
    """One parameter's prior: exactly one of the keys, with its values."""

    uniform: list[float] | None = Field(None, description="[low, high]")
    loguniform: list[float] | None = Field(None, description="[low, high], both > 0")
    normal: list[float] | None = Field(None, description="[mean, sd > 0]; only for "
                                       "parameters without bounds")
    truncnormal: list[float] | None = Field(None, description="[low, high, mean, sd > 0]")

    @field_validator("uniform", "loguniform", "normal", "truncnormal")
    @classmethod
    def _values_fit_the_law(cls, args: list[float] | None,
                            info: ValidationInfo) -> list[float] | None:
        if args is None:
            return None
        kind = str(info.field_name)
        arity, meaning = PRIORS[kind]
        if len(args) != arity:
            raise ValueError(f"expected {arity} numbers: {meaning}")
        if kind != "normal" and not args[0] < args[1]:
            raise ValueError(f"low must be below high ({meaning})")
        if kind == "loguniform" and args[0] <= 0:
            raise ValueError("both bounds must be > 0")
        if kind in ("normal", "truncnormal") and args[-1] <= 0:
            raise ValueError("the standard deviation must be > 0")
        return args

    @model_validator(mode="after")
    def _exactly_one(self) -> PriorSpec:
        given = self.given()
        if len(given) != 1:
            raise ValueError(f"give exactly one prior ({len(given)} given: "
                             f"{', '.join(given) or 'none'}), one of "
                             + "; ".join(f"{k} = {m}" for k, (_, m) in PRIORS.items()))
        return self

    def given(self) -> dict[str, list[float]]:
        """The priors the table names (exactly one once validated)."""
        return {k: v for k in PRIORS if (v := getattr(self, k)) is not None}


class TargetSpec(StrictModel):
    """One statistic with its observed value (given, or computed from event data)."""

    name: str | None = Field(None, description="Label in tables and plots (default: the "
                             "statistic)")
    statistic: str = Field(description="A run statistic (with `observed`) or an event-data "
                           "statistic (with `data`)")
    observed: float | None = Field(None, description="The observed value")
    data: str | None = Field(None, description="Event data file (CSV), relative to this file")
    format: Literal["acled", "ucdp-ged"] | None = Field(None, description="Format of `data`")
    region: Any = Field(None, description="Region of the events: \"admin1=Northern\", "
                        "\"admin2=A,B\", \"country=X\" or a box \"box=lat_min,lat_max,"
                        "lon_min,lon_max\"; a list of these, or a table {admin2 = \"A\", box = "
                        "[lat_min, lat_max, lon_min, lon_max]}")
    start: Annotated[str | None, BeforeValidator(_day_text)] = Field(
        None, description="First day (YYYY-MM-DD, also as a TOML date) or month (YYYY-MM)")
    end: Annotated[str | None, BeforeValidator(_day_text)] = Field(
        None, description="Last day or month, included")
    population: float | None = Field(None, gt=0, description="People in the region, for "
                                     "per-100k statistics")
    model_statistic: str | None = Field(None, description="Run statistic the data statistic "
                                        "is compared with (default: from the mapping table)")
    holdout: bool = Field(False, description="Leave out of the fit; report as out-of-sample")
    _resolved: Target | None = PrivateAttr(None)

    @field_validator("name")
    @classmethod
    def _path_safe(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return check_name(value)
        except ValueError:
            raise ValueError("use 1-100 letters, digits, '.', '_' or '-', starting with a "
                             "letter or digit (it names table columns)") from None

    @field_validator("statistic", "model_statistic")
    @classmethod
    def _statistic_name(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                check_name(value)
            except ValueError:
                raise ValueError("not a statistic (statistics are names of letters, digits, "
                                 "'.', '_', '-', e.g. casualties_total)") from None
        return value

    @field_validator("data")
    @classmethod
    def _exists(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            resolve_path(_base(info), value, "calibration")
        return value

    @field_validator("region", mode="before")
    @classmethod
    def _region(cls, value: Any) -> Any:
        if value is None:
            return None
        if not _region_shape(value):
            raise ValueError(f"expected {REGION_RULE}")
        from sim.evidence.tables import DataError, parse_region

        try:
            parse_region(value)
        except DataError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("start", "end")
    @classmethod
    def _month_or_day(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            from sim.evidence.tables import DataError, parse_date

            try:
                parse_date(value, end=info.field_name == "end", what=str(info.field_name))
            except DataError:
                raise ValueError("expected YYYY-MM-DD or YYYY-MM (e.g. 2019-03-15, "
                                 "2019-03)") from None
        return value

    @model_validator(mode="after")
    def _observed_or_data(self, info: ValidationInfo) -> TargetSpec:
        name = self.name or self.statistic
        given = self.model_dump(exclude_unset=True)
        data_keys = ("format", "region", "start", "end", "population")
        if self.data is None:
            if self.observed is None:
                raise ValueError("give `observed = <number>`, or `data = \"<events file>\"` "
                                 "with `format`")
            stray = [k for k in (*data_keys, "model_statistic") if getattr(self, k) is not None]
            if stray:
                raise_at("target", [((k,), "only for a target computed from event data "
                                     "(`data = ...`)", getattr(self, k)) for k in stray])
            self._resolved = Target(name=name, statistic=self.statistic,
                                    model_statistic=self.statistic,
                                    observed=float(self.observed), holdout=self.holdout,
                                    source="given")
            return self
        from sim.calibration.statistics import DATA_TO_MODEL, data_statistic

        if self.observed is not None:
            raise_at("target", [(("observed",), "give `observed` or `data`, not both",
                                 self.observed)])
        if self.format is None:
            raise_at("target", [(("format",), "required with `data`: one of "
                                 f"{', '.join(EVENT_FORMATS)}", given)])
        model_stat = self.model_statistic or DATA_TO_MODEL.get(self.statistic)
        if model_stat is None:
            raise_at("target", [(("statistic",), "no run statistic is mapped to this "
                                 "event-data statistic; name one with `model_statistic`, or "
                                 f"use one of: {', '.join(sorted(DATA_TO_MODEL))}",
                                 self.statistic)])
        path = resolve_path(_base(info), self.data, "calibration")
        cache = (info.context or {}).get("events")
        try:
            value, what = data_statistic(path, self.format, self.statistic,
                                         region=self.region, start=self.start, end=self.end,
                                         population=self.population, cache=cache)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        self._resolved = Target(name=name, statistic=self.statistic,
                                model_statistic=model_stat, observed=value,
                                holdout=self.holdout, source=what)
        return self


def raise_at(title: str, problems: list[tuple[tuple[str | int, ...], str, Any]]) -> NoReturn:
    """Raise, from a validator, one error per ``(key path, message, value)``: pydantic adds
    the validated table's place (``targets[2]``) in front of each key path. A value that is
    a table is not shown (the key was not given: the message says what belongs there)."""
    raise ValidationError.from_exception_data(title, [
        InitErrorDetails(type=PydanticCustomError("value_error", msg), loc=loc, input=value)
        for loc, msg, value in problems])


FittedKey = Annotated[str, AfterValidator(check_fitted_key)]


class CalibrationSpec(StrictModel):
    """A calibration file as written, and every rule it must meet."""

    name: str | None = Field(None, description="Names the output folder (default: the file's "
                             "stem)")
    description: str = ""
    scenario: str = Field(description="Scenario file, relative to this file")
    strategy: str | None = Field(None, description="Strategy file laid over the scenario")
    ticks: int | None = Field(None, ge=1, le=1_000_000, description="Ticks per run "
                              "(default: the scenario's run.ticks)")
    replicates: int = Field(1, ge=1, le=1000, description="Runs per particle (their "
                            "statistics averaged)")
    seed: int = Field(1, ge=0, description="Root of the proposals' and runs' seeds")
    set: dict[str, Any] = Field(default_factory=dict, description="Dotted-key values for "
                                "every run")
    abc: AbcSpec = Field(default_factory=lambda: AbcSpec(generations=6))
    parameters: dict[FittedKey, PriorSpec] = Field(min_length=1, max_length=MAX_PARAMETERS,
                                                   description="Dotted key -> its prior")
    targets: list[TargetSpec] = Field(min_length=1, max_length=MAX_TARGETS)
    _scenario_path: Path | None = PrivateAttr(None)
    _strategy_path: Path | None = PrivateAttr(None)
    _data: dict[str, Any] = PrivateAttr(default_factory=dict)
    _ticks: int = PrivateAttr(0)

    @field_validator("name")
    @classmethod
    def _path_safe(cls, value: str | None) -> str | None:
        return None if value is None else check_name(value)

    @field_validator("scenario", "strategy")
    @classmethod
    def _exists(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            resolve_path(_base(info), value, "calibration")
        return value

    @field_validator("set")
    @classmethod
    def _settable(cls, value: dict[str, Any]) -> dict[str, Any]:
        own = [((k,), p, v) for k, v in flatten(value).items()
               if (p := _own_key_problem(k)) is not None]
        if own:
            raise_at("set", own)
        return check_set_table(value)

    @field_validator("parameters")
    @classmethod
    def _priors_in_bounds(cls, value: dict[str, PriorSpec]) -> dict[str, PriorSpec]:
        problems = []
        for key, prior in value.items():
            (kind, args), = prior.given().items()
            problem = prior_problem(key, kind, args)
            if problem is not None:
                problems.append(((key, kind), problem, args))
        if problems:
            raise_at("parameters", problems)
        return value

    @model_validator(mode="after")
    def _targets_and_set(self) -> CalibrationSpec:
        fixed = flatten(self.set)
        for key in self.parameters:
            if key in fixed:
                raise ValueError(f"parameters.{key}: also fixed in [set] ({key} = "
                                 f"{short_repr(fixed[key])}); a parameter is either fitted "
                                 "or set")
        names: list[str] = []
        for i, t in enumerate(self.targets):
            name = t.name or t.statistic
            if name in names:
                raise ValueError(f"targets[{i}]: the name {name!r} is used twice; give each "
                                 "target its own `name`")
            names.append(name)
        if all(t.holdout for t in self.targets):
            raise ValueError("targets: every target has holdout = true; at least one must be "
                             "fitted")
        return self

    @model_validator(mode="after")
    def _scenario_runs(self, info: ValidationInfo) -> CalibrationSpec:
        """The scenario (with its strategy and ``[set]``) is valid for a run of the file's
        length, and each parameter's prior reaches values that make a valid scenario."""
        base = _base(info)
        source = (info.context or {}).get("source", "<calibration>")
        path = resolve_path(base, self.scenario, "calibration")
        try:
            data = read_scenario_file(path)
        except ScenarioError as exc:
            raise ValueError(f"scenario = {self.scenario!r}:\n{exc}") from None
        label = str(path)
        if self.strategy is not None:
            s_path = resolve_path(base, self.strategy, "calibration")
            try:
                data = apply_strategy(data, s_path, path)
            except ScenarioError as exc:
                raise ValueError(f"strategy = {self.strategy!r}:\n{exc}") from None
            label += f" with strategy {s_path}"
            self._strategy_path = s_path
        label += f" (calibration {source})"
        fixed = flatten(self.set)
        try:
            sc = build_scenario(data, label, fixed, override_label="from [set]")
            ticks = self.ticks or sc.run.ticks
            check_run_length(sc, ticks, label)
        except ScenarioError as exc:
            raise ValueError(str(exc)) from None
        for key, prior in self.parameters.items():
            (kind, args), = prior.given().items()
            problem = _no_valid_value(data, label, fixed, key, kind, args, ticks)
            if problem is not None:
                raise ValueError(f"parameters.{key}.{kind} = {args}: no value of the prior "
                                 f"tried makes a valid scenario ({problem})")
        self._scenario_path, self._data, self._ticks = path, data, ticks
        return self


def _base(info: ValidationInfo) -> Path:
    return Path((info.context or {}).get("base", "."))


def _no_valid_value(data: dict[str, Any], label: str, fixed: dict[str, Any], key: str,
                    kind: str, args: list[float], ticks: int) -> str | None:
    """None if one of a few values of the prior (low end, middle, high end) makes a valid
    scenario with the others at their scenario values, else why the middle one does not (a
    prior on a table the scenario's model does not read, say). The sampler restricts the
    prior to valid scenarios; this catches priors with nothing left."""
    if kind == "normal":
        values = [args[0]]
    else:
        lo, hi = args[0], args[1]
        values = [(lo + hi) / 2, lo, hi]
    problem = None
    for v in values:
        value: Any = int(round(v)) if _param_kind(key) == "int" else float(v)
        try:
            sc = build_scenario(data, label, {**fixed, key: value},
                                override_label="from [parameters]")
            check_run_length(sc, ticks, label)
        except ScenarioError as exc:
            problem = problem or str(exc).splitlines()[-1].strip()
            continue
        return None
    return problem


# --------------------------------------------------------------------------- resolved form


@dataclass(frozen=True)
class Calibration:
    """A checked calibration file with everything resolved."""

    path: Path
    sha256: str
    spec: CalibrationSpec
    name: str
    scenario_file: Path
    strategy_file: Path | None
    data: dict[str, Any]  # scenario data (strategy laid over)
    overrides: dict[str, Any]  # the file's [set], flattened
    ticks: int
    priors: list[Prior]
    targets: list[Target]

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.priors]

    @property
    def fitted(self) -> list[Target]:
        return [t for t in self.targets if not t.holdout]

    @property
    def holdout(self) -> list[Target]:
        return [t for t in self.targets if t.holdout]

    @property
    def source(self) -> str:
        return f"{self.scenario_file} (calibration {self.path})"


def _prior(key: str, spec: PriorSpec) -> Prior:
    (kind, args), = spec.given().items()
    fld = _field_of(key)
    extra = fld.json_schema_extra if isinstance(fld.json_schema_extra, dict) else {}
    return Prior(key=key, kind=kind, args=tuple(float(a) for a in args),
                 integer=_param_kind(key) == "int", unit=str(extra.get("unit", "-")),
                 meaning=fld.description or "")


# --------------------------------------------------------------------------- loading


def load_calibration(path: str | Path) -> Calibration:
    """Read and check a calibration file (everything but the run statistics' existence,
    which needs a probe run); raises :class:`CalibrationError` (exit 2) on any problem,
    before anything runs: every rule is a validator of :class:`CalibrationSpec`."""
    path = Path(path)
    source = str(path)
    try:
        raw = read_toml(path)
    except ScenarioError as exc:
        raise CalibrationError(str(exc)) from None
    wrong = other_kind(source, raw, "calibration")
    if wrong is not None:
        raise CalibrationError(wrong)
    if not raw:
        raise CalibrationError(f"{source}: says nothing: an empty calibration file; set "
                               "scenario, [parameters] and [[targets]] (docs/calibration.md)")
    if "scenario" not in raw and ("model" in raw or file_kind(raw) == "strategy"):
        kind, key = ("scenario", "model") if "model" in raw else ("strategy", "strategy")
        raise CalibrationError(f"{source}: a {kind} file (it sets `{key}`), not a calibration "
                               f"file; name it in one ({kind} = \"{path.name}\"), next to "
                               "[parameters] and [[targets]] (docs/calibration.md)")
    try:
        spec = CalibrationSpec.model_validate(
            raw, context={"base": path.resolve().parent, "source": source, "events": {}})
    except ValidationError as exc:
        raise CalibrationError(format_validation_error(exc, source, CalibrationSpec, WHAT)
                               ) from None
    name = spec.name or _stem_name(path, source)
    assert spec._scenario_path is not None
    targets = [t._resolved for t in spec.targets]
    assert all(t is not None for t in targets)
    return Calibration(path=path, sha256=_file_sha256(path), spec=spec, name=name,
                       scenario_file=spec._scenario_path, strategy_file=spec._strategy_path,
                       data=spec._data, overrides=flatten(spec.set), ticks=spec._ticks,
                       priors=[_prior(k, v) for k, v in spec.parameters.items()],
                       targets=[t for t in targets if t is not None])


def _stem_name(path: Path, source: str) -> str:
    try:
        return check_name(path.stem)
    except ValueError:
        raise CalibrationError(f"{source}: name: the file's stem {path.stem!r} cannot name the "
                               "output folder; set name = \"...\" (letters, digits, '.', '_', "
                               "'-')") from None


def prior_of(cal: Calibration, key: str) -> Prior:
    """The prior of parameter ``key``."""
    return next(p for p in cal.priors if p.key == key)


__all__ = ["Calibration", "CalibrationError", "CalibrationSpec", "Prior",
           "Target", "load_calibration", "prior_of", "schema_bounds"]
