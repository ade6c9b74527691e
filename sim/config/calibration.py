"""Calibration files: which scenario parameters ABC fits, with which priors, to which targets.

A calibration file (``experiments/calibrate_*.toml``, docs/calibration.md) is validated like
a scenario or an experiment: unknown keys are errors and every message names the file, the
key, the value and what is allowed (CLI: exit 2, before anything runs). Keys (paths are
relative to the calibration file):

* ``name``, ``description``; ``scenario`` (a scenario file) and optionally ``strategy`` (a
  strategy file laid over it); ``ticks`` (default: the scenario's ``run.ticks``),
  ``replicates`` (runs per particle, their statistics averaged), ``seed``;
* ``[set]``: dotted-key values for every run;
* ``[abc]``: ``population`` (particles per generation), ``generations`` (at most this many)
  and/or ``min_epsilon`` (stop once the acceptance threshold is below it),
  ``max_simulations`` (stop after a generation that brings the total to at least this),
  ``p`` (order of the distance's norm: 1 or 2), ``ppc_draws`` (posterior draws simulated for
  the predictive check);
* ``[parameters]``: ``"dotted.key" = { uniform = [low, high] }``, ``loguniform = [low, high]``,
  ``normal = [mean, sd]`` or ``truncnormal = [low, high, mean, sd]``; the prior's support
  must lie inside the parameter's allowed range;
* ``[[targets]]``: ``statistic`` and ``observed = number`` (a run statistic's observed
  value), or ``data = "events.csv"`` with ``format`` (``acled`` | ``ucdp-ged``) and
  optionally ``region``, ``start``, ``end``, ``population``: the ``statistic`` of those
  events (:func:`sim.calibration.statistics.data_statistic`), compared with the run statistic
  that the table :data:`sim.calibration.statistics.DATA_TO_MODEL` maps it to, or with
  ``model_statistic``; ``holdout = true`` leaves a target out of the fit and reports it as an
  out-of-sample check; ``name`` labels it (default: the statistic).

Whether a run statistic exists is checked against a one-tick probe run of the scenario
(:func:`sim.calibration.abc.probe_statistics`), not here.
"""

from __future__ import annotations

import copy
import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.config.experiment import (
    RESERVED_KEYS,
    ExperimentError,
    _check_key,
    _flatten,
    _param_kind,
    _resolve_file,
    _submodel,
    format_experiment_error,
)
from sim.config.scenario import Scenario, ScenarioError, apply_strategy, build_scenario, read_toml


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
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


# --------------------------------------------------------------------------- schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AbcSpec(_Strict):
    """How the ABC-SMC sampler runs."""

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


class PriorSpec(_Strict):
    """One parameter's prior: exactly one of the keys."""

    uniform: list[float] | None = None
    loguniform: list[float] | None = None
    normal: list[float] | None = None
    truncnormal: list[float] | None = None


class TargetSpec(_Strict):
    """One statistic with its observed value (given, or computed from event data)."""

    name: str | None = Field(None, description="Label in tables and plots (default: the "
                             "statistic)")
    statistic: str = Field(description="A run statistic (with `observed`) or an event-data "
                           "statistic (with `data`)")
    observed: float | None = Field(None, description="The observed value")
    data: str | None = Field(None, description="Event data file (CSV), relative to this file")
    format: Literal["acled", "ucdp-ged"] | None = Field(None, description="Format of `data`")
    region: Any = Field(None, description="Region of the events, e.g. \"admin1=Northern\"")
    start: str | None = Field(None, description="First day (YYYY-MM-DD) or month (YYYY-MM)")
    end: str | None = Field(None, description="Last day or month, included")
    population: float | None = Field(None, gt=0, description="People in the region, for "
                                     "per-100k statistics")
    model_statistic: str | None = Field(None, description="Run statistic the data statistic "
                                        "is compared with (default: from the mapping table)")
    holdout: bool = Field(False, description="Leave out of the fit; report as out-of-sample")


class CalibrationSpec(_Strict):
    """A calibration file as written."""

    name: str | None = None
    description: str = ""
    scenario: str
    strategy: str | None = None
    ticks: int | None = Field(None, ge=1, le=1_000_000)
    replicates: int = Field(1, ge=1, le=1000)
    seed: int = Field(1, ge=0)
    set: dict[str, Any] = Field(default_factory=dict)
    abc: AbcSpec = Field(default_factory=lambda: AbcSpec(generations=6))
    parameters: dict[str, PriorSpec] = Field(min_length=1)
    targets: list[TargetSpec] = Field(min_length=1)


# --------------------------------------------------------------------------- resolved form


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


# --------------------------------------------------------------------------- checks


def _field_of(key: str) -> Any:
    model: Any = Scenario
    fld = None
    for part in key.split("."):
        fld = model.model_fields[part]
        model = _submodel(fld.annotation)
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


def _check_scenario_key(key: str, where: str, source: str) -> None:
    if key in RESERVED_KEYS:
        own = "seed" if key == "run.seed" else "ticks"
        raise CalibrationError(f"{source}: {where} = {key!r}: the calibration file's top-level "
                               f"`{own}` sets this")
    _check_key(key, where, source)


def _check_prior(key: str, spec: PriorSpec, source: str) -> Prior:
    where = f"parameters.{key!r}" if "." in key else f"parameters.{key}"
    _check_scenario_key(key, "parameters key", source)
    kind_of = _param_kind(key)
    if kind_of not in ("int", "float"):
        raise CalibrationError(f"{source}: {where}: {key} is not numeric; only numeric "
                               "parameters can be calibrated")
    given = {k: v for k, v in spec.model_dump().items() if v is not None}
    if len(given) != 1:
        raise CalibrationError(
            f"{source}: {where} = {given or {}}: give exactly one prior, one of "
            + "; ".join(f"{k} = {m}" for k, (_, m) in PRIORS.items()))
    kind, args = next(iter(given.items()))
    arity, meaning = PRIORS[kind]
    if len(args) != arity or not all(math.isfinite(a) for a in args):
        raise CalibrationError(f"{source}: {where}.{kind} = {args}: expected {arity} finite "
                               f"numbers, {meaning}")
    if kind in ("uniform", "loguniform", "truncnormal") and not args[0] < args[1]:
        raise CalibrationError(f"{source}: {where}.{kind} = {args}: low must be below high")
    if kind == "loguniform" and args[0] <= 0:
        raise CalibrationError(f"{source}: {where}.loguniform = {args}: both bounds must be "
                               "> 0")
    if kind in ("normal", "truncnormal") and args[-1] <= 0:
        raise CalibrationError(f"{source}: {where}.{kind} = {args}: the standard deviation "
                               "must be > 0")
    lo, hi, lo_in, hi_in = schema_bounds(key)
    allowed = _fmt_range(lo, hi, lo_in, hi_in)
    if kind == "normal" and (math.isfinite(lo) or math.isfinite(hi)):
        raise CalibrationError(
            f"{source}: {where}.normal = {args}: a normal prior reaches values outside "
            f"{key}'s allowed range {allowed}; use truncnormal = [low, high, mean, sd] with "
            "low and high inside it")
    if kind != "normal":
        plo, phi = args[0], args[1]
        below = plo < lo or (plo == lo and not lo_in)
        above = phi > hi or (phi == hi and not hi_in)
        if below or above:
            raise CalibrationError(
                f"{source}: {where}.{kind} = {args}: the prior reaches outside {key}'s "
                f"allowed range {allowed}")
    fld = _field_of(key)
    extra = fld.json_schema_extra if isinstance(fld.json_schema_extra, dict) else {}
    return Prior(key=key, kind=kind, args=tuple(float(a) for a in args),
                 integer=kind_of == "int", unit=str(extra.get("unit", "-")),
                 meaning=fld.description or "")


def _check_target(i: int, spec: TargetSpec, base: Path, source: str) -> Target:
    from sim.calibration.statistics import DATA_TO_MODEL, data_statistic

    where = f"targets[{i}]"
    name = spec.name or spec.statistic
    if not _NAME.match(name):
        raise CalibrationError(f"{source}: {where}.name = {name!r}: use letters, digits, '.', "
                               "'_' or '-' (it names table columns)")
    data_keys = ("format", "region", "start", "end", "population")
    if spec.data is None:
        if spec.observed is None:
            raise CalibrationError(f"{source}: {where}: give `observed = <number>` or `data = "
                                   "\"<events file>\"` with `format`")
        if not math.isfinite(spec.observed):
            raise CalibrationError(f"{source}: {where}.observed = {spec.observed}: must be a "
                                   "finite number")
        stray = [k for k in (*data_keys, "model_statistic") if getattr(spec, k) is not None]
        if stray:
            raise CalibrationError(f"{source}: {where}.{stray[0]}: only for a target computed "
                                   "from event data (`data = ...`)")
        return Target(name=name, statistic=spec.statistic, model_statistic=spec.statistic,
                      observed=float(spec.observed), holdout=spec.holdout, source="given")
    if spec.observed is not None:
        raise CalibrationError(f"{source}: {where}: give `observed` or `data`, not both")
    if spec.format is None:
        raise CalibrationError(f"{source}: {where}.format: required with `data`; one of "
                               f"{', '.join(EVENT_FORMATS)}")
    model_stat = spec.model_statistic or DATA_TO_MODEL.get(spec.statistic)
    if model_stat is None:
        known = ", ".join(sorted(DATA_TO_MODEL))
        raise CalibrationError(
            f"{source}: {where}.statistic = {spec.statistic!r}: no run statistic is mapped to "
            f"this event-data statistic; name one with `model_statistic`, or use one of: "
            f"{known}")
    path = _resolve_file(base, spec.data, f"{where}.data", source)
    try:
        value, what = data_statistic(path, spec.format, spec.statistic, region=spec.region,
                                     start=spec.start, end=spec.end,
                                     population=spec.population)
    except ValueError as exc:
        raise CalibrationError(f"{source}: {where}: {exc}") from None
    return Target(name=name, statistic=spec.statistic, model_statistic=model_stat,
                  observed=value, holdout=spec.holdout, source=what)


def load_calibration(path: str | Path) -> Calibration:
    """Read and check a calibration file (everything but the run statistics' existence,
    which needs a probe run); raises :class:`CalibrationError` on any problem."""
    path = Path(path)
    source = str(path)
    raw = read_toml(path)
    try:
        spec = CalibrationSpec.model_validate(raw)
    except ValidationError as exc:
        raise CalibrationError(format_experiment_error(exc, source, CalibrationSpec,
                                                       "calibration file")) from None
    base = path.resolve().parent
    scenario_file = _resolve_file(base, spec.scenario, "scenario", source)
    strategy_file = None if spec.strategy is None else _resolve_file(
        base, spec.strategy, "strategy", source)
    data = read_toml(scenario_file)
    if strategy_file is not None:
        data = apply_strategy(data, strategy_file)
    overrides = _flatten(spec.set)
    for key in overrides:
        _check_scenario_key(key, "set key", source)
    priors = [_check_prior(k, v, source) for k, v in spec.parameters.items()]
    for p in priors:
        if p.key in overrides:
            raise CalibrationError(f"{source}: parameters.{p.key!r}: also fixed in [set]; a "
                                   "parameter is either fitted or set")
    try:
        sc = build_scenario(copy.deepcopy(data), f"{scenario_file} (calibration {source})",
                            overrides)
    except ScenarioError as exc:
        raise CalibrationError(str(exc).replace("(from --set)", "(from [set])")) from None
    targets = [_check_target(i, t, base, source) for i, t in enumerate(spec.targets)]
    names = [t.name for t in targets]
    for i, n in enumerate(names):
        if n in names[:i]:
            raise CalibrationError(f"{source}: targets[{i}]: the name {n!r} is used twice; "
                                   "give each target its own `name`")
    if all(t.holdout for t in targets):
        raise CalibrationError(f"{source}: targets: every target has holdout = true; at least "
                               "one must be fitted")
    name = spec.name or path.stem
    if not _NAME.match(name):
        raise CalibrationError(f"{source}: name = {name!r}: use letters, digits, '.', '_' or "
                               "'-' (it names the output folder)")
    return Calibration(path=path, sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                       spec=spec, name=name, scenario_file=scenario_file,
                       strategy_file=strategy_file, data=data, overrides=overrides,
                       ticks=spec.ticks or sc.run.ticks, priors=priors, targets=targets)


def prior_of(cal: Calibration, key: str) -> Prior:
    return next(p for p in cal.priors if p.key == key)


__all__ = ["Calibration", "CalibrationError", "Prior", "Target", "load_calibration",
           "prior_of", "schema_bounds"]
