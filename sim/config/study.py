"""Sensitivity study files: the schema and every rule a study must meet before it runs.

A study (``experiments/sobol_baseline.toml``, ``experiments/morris_screening.toml``) names
one context (and strategy) or one of the project's test functions, the uncertain factors
with their distributions, the method and its sample size, and the outputs analysed. Every
check is a validator of :class:`StudySpec` (validated with the context ``{"base": folder of
the file, "source": its path}``), reported in the one message format of
:mod:`sim.config.base`. :func:`load_study` returns the checked :class:`Study` that
:mod:`sim.sensitivity.study` samples, runs and analyses.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import (
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
    check_name,
    flatten,
    format_validation_error,
    read_toml,
    short_repr,
)
from sim.config.experiment import (
    META_COLUMNS,
    ExperimentError,
    _file_sha256,
    _param_kind,
    check_param_key,
    check_set_table,
    resolve_path,
)
from sim.config.scenario import (
    ROLE_NAMES,
    apply_strategy,
    build_scenario,
    check_run_length,
    other_kind,
    read_scenario_file,
)
from sim.sensitivity.testfunctions import FUNCTION_FACTORS, FUNCTIONS

METHODS = ("sobol", "morris")
EXTRA_ANALYSES = ("pawn", "delta")
DISTS = ("unif", "logunif", "triang", "norm", "truncnorm", "lognorm")
#: number of values in ``bounds`` for each distribution (SALib's conventions)
DIST_ARITY = {"unif": 2, "logunif": 2, "triang": 3, "norm": 2, "truncnorm": 4, "lognorm": 2}
DIST_MEANING = {
    "unif": "[low, high]",
    "logunif": "[low, high], both > 0",
    "triang": "[low, high, peak as a fraction of the range in [0, 1]]",
    "norm": "[mean, standard deviation > 0]",
    "truncnorm": "[low, high, mean, standard deviation > 0]",
    "lognorm": "[mean of ln x, standard deviation of ln x > 0]",
}
FUNCTION_CONTEXT = "function"
#: keys that only change the analysis: editing them and resuming re-analyses the stored runs
ANALYSIS_KEYS = ("name", "description", "also", "outputs", "bootstrap", "conf_level")
SEED_FACTOR = "seed_stream"  # name of the seed pseudo-factor


class SensitivityError(ExperimentError):
    """A study file that cannot be run (CLI: exit 2)."""


# --------------------------------------------------------------------------- schema


class SAFactor(StrictModel):
    """An uncertain factor: a scenario key (or a test function's argument) and its law."""

    key: str = Field(description="Dotted scenario key, e.g. strategy.restraint")
    dist: Literal["unif", "logunif", "triang", "norm", "truncnorm", "lognorm"] = Field(
        "unif", description="Distribution (SALib's names); `bounds` as in DIST_MEANING")
    bounds: list[float] = Field(min_length=2, max_length=4, description="See `dist`")
    name: str | None = Field(None, max_length=100,
                             description="Label in tables and plots (default: the key)")
    rescale: bool = Field(False, description="For a role share strategy.roles.<role>: the "
                          "context's other roles are scaled in proportion so the shares still "
                          "sum to 1 (a share of the same force, not a bigger force)")

    @field_validator("bounds")
    @classmethod
    def _bounds_fit_the_law(cls, b: list[float], info: ValidationInfo) -> list[float]:
        dist = info.data.get("dist")
        if dist is None:
            return b  # the distribution itself is wrong: reported on its own
        arity = DIST_ARITY[dist]
        if len(b) != arity:
            raise ValueError(f"dist = {dist!r} takes {arity} values: {DIST_MEANING[dist]}")
        if dist in ("unif", "logunif", "triang", "truncnorm") and not b[0] < b[1]:
            raise ValueError(f"low ({b[0]}) must be below high ({b[1]}); bounds are "
                             f"{DIST_MEANING[dist]}")
        if dist == "logunif" and b[0] <= 0:
            raise ValueError("logunif needs low > 0")
        if dist == "triang" and not 0 <= b[2] <= 1:
            raise ValueError(f"the peak ({b[2]}) is a fraction of the range, in [0, 1]")
        if dist in ("norm", "lognorm") and b[1] <= 0:
            raise ValueError("the standard deviation must be > 0")
        if dist == "truncnorm" and b[3] <= 0:
            raise ValueError("the standard deviation must be > 0")
        return b

    @model_validator(mode="after")
    def _rescale_a_role(self) -> SAFactor:
        prefix, _, role = self.key.rpartition(".")
        if self.rescale and (prefix != "strategy.roles" or role not in ROLE_NAMES):
            raise ValueError(f"rescale = true: {self.key!r} is not a role share (use "
                             f"strategy.roles.<{'|'.join(ROLE_NAMES)}>)")
        return self

    def support(self) -> tuple[float, float] | None:
        """The range sampled values can take, when it is bounded."""
        if self.dist in ("unif", "logunif", "triang", "truncnorm"):
            return self.bounds[0], self.bounds[1]
        return None


class StudySpec(StrictModel):
    """A sensitivity study file as written, and every rule it must meet."""

    name: str | None = None
    description: str = ""
    method: Literal["sobol", "morris"] = Field(description="Sampling design and main analysis")
    also: list[Literal["pawn", "delta"]] = Field(
        default_factory=list, description="Further analyses of the same sample")
    N: int = Field(ge=2, le=1_048_576, description="Sobol: base samples (a power of two); "
                   "Morris: trajectories")
    second_order: bool = Field(False, description="Sobol: also second-order indices "
                               "(N (2D + 2) runs instead of N (D + 2))")
    num_levels: int = Field(4, ge=2, le=100, description="Morris: grid levels (even)")
    replicates: int = Field(1, ge=1, le=1000, description="Runs per sample row (averaged)")
    seed: int = Field(1, ge=0, description="Root of the sampling and model seeds")
    seed_policy: Literal["common", "independent"] = "common"
    context: str | None = Field(None, description="Scenario file (relative to this file)")
    strategy: str | None = Field(None, description="Strategy file laid over the context")
    function: str | None = Field(None, description="One of the project's test functions "
                                 f"instead of the model ({', '.join(FUNCTIONS)})")
    set: dict[str, Any] = Field(default_factory=dict, description="Fixed dotted-key values")
    ticks: int | None = Field(None, ge=1, le=1_000_000)
    outputs: list[str] = Field(min_length=1, description="Summary keys analysed")
    dummy: str = Field("dummy", min_length=1, max_length=100,
                       description="Name of the dummy factor (no effect)")
    seed_factor: bool = Field(True, description="Add the seed pseudo-factor (a noise "
                              "reference; only changes the random numbers of its rows)")
    bootstrap: int = Field(1000, ge=10, le=100_000, description="Bootstrap resamples for CIs")
    conf_level: float = Field(0.95, gt=0.5, lt=1.0)
    factors: list[SAFactor] = Field(min_length=1, max_length=1000)
    _context_path: Path | None = PrivateAttr(None)
    _strategy_path: Path | None = PrivateAttr(None)
    _data: dict[str, Any] = PrivateAttr(default_factory=dict)
    _ticks: int = PrivateAttr(0)
    _roles: dict[str, float] = PrivateAttr(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _path_safe(cls, value: str | None) -> str | None:
        return None if value is None else check_name(value)

    @field_validator("function")
    @classmethod
    def _registered(cls, value: str | None) -> str | None:
        if value is not None and value not in FUNCTIONS:
            raise ValueError(f"not one of the project's test functions; use one of "
                             f"{', '.join(FUNCTIONS)}")
        return value

    @field_validator("context", "strategy")
    @classmethod
    def _exists(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            resolve_path(Path((info.context or {}).get("base", ".")), value)
        return value

    @field_validator("set")
    @classmethod
    def _settable(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_set_table(value)

    @field_validator("outputs")
    @classmethod
    def _distinct_outputs(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a key is listed twice")
        for key in value:  # each names a plot file
            try:
                check_name(key)
            except ValueError:
                raise ValueError(f"{short_repr(key)} is not a summary key (they are names of "
                                 "letters, digits, '.', '_', '-')") from None
        return value

    @model_validator(mode="after")
    def _method(self) -> StudySpec:
        if self.method == "sobol" and self.N & (self.N - 1):
            lo = 1 << (self.N.bit_length() - 1)
            raise ValueError(f"N = {self.N}: Sobol' sampling needs a power of two (e.g. {lo} "
                             f"or {2 * lo}); the sequence loses its balance properties "
                             "otherwise")
        if self.method == "sobol" and self.N < 4:
            raise ValueError(f"N = {self.N}: at least 4 base samples (the convergence check "
                             "halves N)")
        if self.method == "morris":
            if self.num_levels % 2:
                raise ValueError(f"num_levels = {self.num_levels}: Morris needs an even "
                                 "number of levels")
            if self.N < 4:
                raise ValueError(f"N = {self.N}: at least 4 trajectories")
        elif self.num_levels != 4:
            raise ValueError("num_levels: only for method = 'morris'")
        if self.second_order and self.method != "sobol":
            raise ValueError("second_order: only for method = 'sobol'")
        if (self.context is None) == (self.function is None):
            raise ValueError("give either `context` (a scenario file) or `function` (a test "
                             "function), not both or neither")
        if self.function is not None and (self.strategy is not None or self.set
                                          or self.ticks is not None):
            raise ValueError("strategy, set and ticks apply to the model, not to `function`")
        return self

    @model_validator(mode="after")
    def _factors(self) -> StudySpec:
        labels: list[str] = []
        keys: list[str] = []
        for i, f in enumerate(self.factors):
            where = f"factors[{i}]"
            if self.function is not None:
                known = FUNCTION_FACTORS[self.function]
                if f.key not in known:
                    raise ValueError(f"{where}.key = {f.key!r}: not an argument of "
                                     f"{self.function} (allowed: {', '.join(known)})")
            else:
                try:
                    check_param_key(f.key)
                except ValueError as exc:
                    raise ValueError(f"{where}.key = {f.key!r}: {exc}") from None
                if _param_kind(f.key) == "other":
                    raise ValueError(f"{where}.key = {f.key!r}: not a numeric parameter")
                if f.key in flatten(self.set):
                    raise ValueError(f"set key {f.key!r} is also a factor")
            label = f.name or f.key
            if f.key in META_COLUMNS or label in META_COLUMNS:
                raise ValueError(f"{where}: {label!r} names a bookkeeping column of the store "
                                 f"({', '.join(META_COLUMNS)}); choose another name")
            if f.key in keys or label in labels:
                raise ValueError(f"{where}.key = {f.key!r}: factor given twice")
            labels.append(label)
            keys.append(f.key)
        rescaled = [f.key for f in self.factors if f.rescale]
        if rescaled and self.function is not None:
            raise ValueError("rescale applies to the model's role shares, not to `function`")
        if len(rescaled) > 1:
            raise ValueError(f"rescale = true on {', '.join(rescaled)}: at most one role share "
                             "can be rescaled (the others would fight over the remainder)")
        if rescaled:
            roles = [k for k in keys + list(flatten(self.set))
                     if k.startswith("strategy.roles.") and k != rescaled[0]]
            if roles:
                raise ValueError(f"{rescaled[0]} is rescaled, so the other role shares follow "
                                 f"it; {', '.join(roles)} cannot also be set or varied")
        if self.dummy in labels or self.dummy in keys or self.dummy in META_COLUMNS:
            raise ValueError(f"dummy = {self.dummy!r}: clashes with a factor; name the dummy "
                             "something else")
        if self.seed_factor and (SEED_FACTOR in labels or SEED_FACTOR in keys):
            raise ValueError(f"a factor is named {SEED_FACTOR!r}, the name of the seed factor; "
                             "rename it or set seed_factor = false")
        return self

    @model_validator(mode="after")
    def _model_runs(self, info: ValidationInfo) -> StudySpec:
        """The context (with its strategy and ``set``) is a valid scenario, and so is every
        bounded factor at each end of its range, for a run of the study's length."""
        if self.context is None:
            return self
        base = Path((info.context or {}).get("base", "."))
        study = (info.context or {}).get("source", "<study>")
        ctx_path = resolve_path(base, self.context)
        try:
            data = read_scenario_file(ctx_path)
        except ScenarioError as exc:
            raise ValueError(f"context = {self.context!r}:\n{exc}") from None
        label = str(ctx_path.resolve())
        if self.strategy is not None:
            s_path = resolve_path(base, self.strategy)
            try:
                data = apply_strategy(data, s_path, ctx_path)
            except ScenarioError as exc:
                raise ValueError(f"strategy = {self.strategy!r}:\n{exc}") from None
            label += f" with strategy {s_path.resolve()}"
            self._strategy_path = s_path
        label += f" (study {study})"
        fixed = flatten(self.set)
        try:
            sc = build_scenario(data, label, fixed, override_label="from the study")
            ticks = self.ticks or sc.run.ticks
            check_run_length(sc, ticks, label)
        except ScenarioError as exc:
            raise ValueError(str(exc)) from None
        roles = {r: float(getattr(sc.strategy.roles, r)) for r in ROLE_NAMES}
        for i, f in enumerate(self.factors):
            if f.rescale and sum(v for r, v in roles.items()
                                 if f"strategy.roles.{r}" != f.key) <= 0:
                raise ValueError(f"factors[{i}]: {f.key} is rescaled, but the context gives "
                                 "no other role a share to scale")
        for i, f in enumerate(self.factors):
            sup = f.support()
            if sup is None:
                continue
            for v in sup:
                value = cast(v, _param_kind(f.key))
                try:
                    end = build_scenario(data, label, rescaled_roles(
                        {**fixed, f.key: value}, self.factors, roles))
                    check_run_length(end, ticks, label)
                except ScenarioError as exc:
                    detail = str(exc).splitlines()[-1].strip()
                    raise ValueError(f"factors[{i}].bounds = {f.bounds}: {f.key} = {value} is "
                                     f"not allowed ({detail})") from None
        self._context_path, self._data, self._ticks = ctx_path, data, ticks
        self._roles = roles
        return self


def rescaled_roles(overrides: dict[str, Any], factors: list[SAFactor],
                   roles: dict[str, float]) -> dict[str, Any]:
    """The overrides with the other role shares scaled in proportion to the context's
    (``roles``) when a rescaled role factor is among them, so the shares still sum to 1."""
    out = dict(overrides)
    for f in factors:
        if not f.rescale or f.key not in out:
            continue
        share = float(out[f.key])
        others = {r: v for r, v in roles.items() if f"strategy.roles.{r}" != f.key}
        total = sum(others.values())
        for r, v in others.items():
            out[f"strategy.roles.{r}"] = v * (1.0 - share) / total
    return out


def cast(value: float, kind: str) -> Any:
    """A sampled value as the parameter's type (integers rounded)."""
    return int(round(value)) if kind == "int" else float(value)


# --------------------------------------------------------------------------- checked form


@dataclass(frozen=True)
class Study:
    """A checked study: spec, the SALib problem (factors + dummy), and what a run needs."""

    path: Path
    sha256: str  # of the file
    runs_sha256: str  # of what decides the runs (not the analysis settings): the store's id
    spec: StudySpec
    name: str
    names: list[str]  # factor labels, then the dummy (and the seed factor)
    keys: list[str]  # scenario keys (or function arguments), then the pseudo-factors' names
    kinds: list[str]  # "int" | "float" per factor; then "dummy" (and "seed")
    problem: dict[str, Any]  # SALib problem: names, bounds, dists, outputs
    context: str  # label of the model (context name, or "function")
    strategy: str  # label of the strategy (or the function's name)
    data: dict[str, Any]  # scenario data (context with strategy laid over), {} for functions
    source: str
    ticks: int
    roles: dict[str, float]  # the context's role shares (for a rescaled role factor)

    @property
    def n_factors(self) -> int:
        """Factors including the pseudo-factors (D)."""
        return len(self.names)

    @property
    def model_factors(self) -> int:
        """Factors the model reads (the pseudo-factors come last)."""
        return sum(k in ("int", "float") for k in self.kinds)

    @property
    def seed_column(self) -> int | None:
        return self.kinds.index("seed") if "seed" in self.kinds else None

    @property
    def references(self) -> list[str]:
        """Names of the noise references: the dummy, then the seed factor if any."""
        return [n for n, k in zip(self.names, self.kinds, strict=True) if k in ("dummy", "seed")]

    @property
    def block(self) -> int:
        """Rows per base sample (Saltelli block) or per Morris trajectory."""
        d = self.n_factors
        if self.spec.method == "sobol":
            return (2 * d + 2) if self.spec.second_order else (d + 2)
        return d + 1

    @property
    def rows(self) -> int:
        return self.spec.N * self.block

    @property
    def runs(self) -> int:
        return self.rows * self.spec.replicates


def _label(text: str, what: str, source: str) -> str:
    try:
        return check_name(text)
    except ValueError:
        raise SensitivityError(f"{source}: {what} {short_repr(text)} cannot name the study's "
                               "folders; use letters, digits, '.', '_' or '-'") from None


def load_study(path: str | Path) -> Study:
    """Read and check a study file; raises :class:`SensitivityError` (exit 2) on any problem,
    before anything runs: every rule is a validator of :class:`StudySpec`."""
    from sim.config.base import canonical_json

    path = Path(path)
    source = str(path)
    try:
        raw = read_toml(path)
    except ScenarioError as exc:
        raise SensitivityError(str(exc)) from None
    wrong = other_kind(source, raw, "study")
    if wrong is not None:
        raise SensitivityError(wrong)
    if not raw:
        raise SensitivityError(f"{source}: says nothing: an empty study file; set method, N, "
                               "context (or function), outputs and [[factors]]")
    try:
        spec = StudySpec.model_validate(
            raw, context={"base": path.resolve().parent, "source": source})
    except ValidationError as exc:
        raise SensitivityError(format_validation_error(exc, source, StudySpec,
                                                       "sensitivity study")) from None
    name = spec.name or _label(path.stem, "the file's stem (no `name` given)", source)
    names = [f.name or f.key for f in spec.factors]
    keys = [f.key for f in spec.factors]
    kinds = ["float" if spec.function is not None else _param_kind(f.key)
             for f in spec.factors]
    names.append(spec.dummy)
    keys.append(spec.dummy)
    kinds.append("dummy")
    if spec.seed_factor:
        names.append(SEED_FACTOR)
        keys.append(SEED_FACTOR)
        kinds.append("seed")
    if spec.function is not None:
        data: dict[str, Any] = {}
        context, strategy = FUNCTION_CONTEXT, spec.function
        study_source = f"function {spec.function} (study {path})"
        ticks = 0
    else:
        assert spec._context_path is not None
        data = spec._data
        context = _label(str(data.get("name") or spec._context_path.stem), "context name",
                         source)
        strategy = "as_in_context"
        study_source = str(spec._context_path.resolve())
        if spec._strategy_path is not None:
            strategy = _label(spec._strategy_path.stem, "strategy file stem", source)
            study_source += f" with strategy {spec._strategy_path.resolve()}"
        study_source += f" (study {path})"
        ticks = spec._ticks
    pseudo = len(names) - len(spec.factors)
    problem = {
        "names": names,
        "bounds": [list(f.bounds) for f in spec.factors] + [[0.0, 1.0]] * pseudo,
        "dists": [f.dist for f in spec.factors] + ["unif"] * pseudo,
        "outputs": list(spec.outputs),
    }
    runs = {k: v for k, v in spec.model_dump(mode="json").items() if k not in ANALYSIS_KEYS}
    runs_sha = hashlib.sha256(canonical_json({"study": runs, "data": data}).encode()).hexdigest()
    return Study(path=path, sha256=_file_sha256(path), runs_sha256=runs_sha, spec=spec,
                 name=name, names=names, keys=keys, kinds=kinds, problem=problem,
                 context=context, strategy=strategy, data=data, source=study_source,
                 ticks=ticks, roles=dict(spec._roles))
