"""Optimisation files: which strategy levers to search, over which futures, for which objectives.

``peacesim optimize FILE`` (:mod:`sim.experiments.optimize`) searches the levers a file names
for the Pareto front of its objectives with NSGA-II or NSGA-III (pymoo). The file is TOML,
validated like every configuration file (:mod:`sim.config.base`): unknown keys, values out of
the scenario schema's bounds, fewer than two objectives, a population NSGA cannot use, an
objective the runs would not have, ... are one clear message each, exit 2, before anything
runs. Keys (paths relative to the file):

* ``name``, ``description``; ``context``: the scenario file the mission is in;
  ``strategy`` (optional): a strategy file whose values the levers not searched keep;
  ``ticks`` (default: the context's ``run.ticks``); ``seed``: root of the replicate seeds
  and (by default) of the algorithm; ``[set]``: dotted-key values for every run;
* ``[levers]``: ``roles = ["patrol", "engagement", ...]`` (role shares searched on the
  simplex: the roles listed share the whole force, the others get none) and dotted keys of
  the strategy file's tables with ``[low, high]`` bounds inside the schema's, e.g.
  ``"strategy.restraint" = [0.5, 1.0]``, ``"mission.drawdown_start" = [52, 104]`` (whole
  numbers for integer parameters);
* ``[[objectives]]``: ``outcome`` (a run summary key), ``aggregate`` over the futures
  (``"mean"``, ``"median"`` or a percentile ``"p90"``), ``direction`` (``"lower"`` or
  ``"higher"``; default: the outcome's better direction in ``sim/experiments/outcomes.py``);
* ``[futures]``: the fixed sample of futures every candidate meets, with the same seeds
  (common random numbers): ``[[futures.factors]]`` (``key`` with ``range`` or ``levels``,
  as in experiment files), ``kind`` (``latin_hypercube`` | ``full_factorial``), ``n``
  (hypercube points), ``seed`` (hypercube sampling), ``replicates`` per future;
* ``[algorithm]``: ``name`` (``nsga2`` | ``nsga3``), ``population``, ``generations``,
  ``seed``, ``partitions`` (NSGA-III's Das-Dennis reference directions; default: as many as
  the population allows).

Encoding (:meth:`Optimization.decode`). The search runs on the unit box: one variable in
[0, 1] per listed role and per lever. Role shares are the role variables divided by their
sum (all zero: equal shares), rounded to 4 decimals with the largest share taking the
rounding remainder, so every decoded point's shares sum to 1 within 1e-9 (the schema allows
1e-6). Other levers map linearly onto ``[low, high]`` and are rounded to 4 significant
digits (whole numbers for integer parameters). The simulation runs exactly the decoded,
rounded values, so a front member's strategy file reproduces its runs.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

import numpy as np
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
    deep_merge,
    flatten,
    format_validation_error,
    read_toml,
    short_repr,
)
from sim.config.experiment import (
    Factor,
    _param_kind,
    check_set_table,
    design_points_of,
    param_key_problem,
    replicate_seeds,
    resolve_path,
)
from sim.config.scenario import (
    ROLE_NAMES,
    STRATEGY_SECTIONS,
    Scenario,
    apply_strategy,
    build_scenario,
    check_run_length,
    check_value,
    load_strategy,
    planned_exit_tick,
    read_scenario_file,
)


class OptimizeError(ScenarioError):
    """An optimisation file that cannot be run; the message says where and why (exit 2)."""


#: significant digits of a decoded real-valued lever; decimals of a decoded role share
LEVER_DIGITS, SHARE_DECIMALS = 4, 4
MAX_FUTURES = 10_000
#: corner x future scenarios built at load (beyond it: the corners with the first futures)
MAX_CHECKED = 400
_AGGREGATE = re.compile(r"^(mean|median|p([1-9][0-9]?))$")


# --------------------------------------------------------------------------- schema


def lever_problem(key: str) -> str | None:
    """Why ``key`` cannot be searched as a lever (None if it can)."""
    if key.startswith("strategy.roles"):
        return "list role shares under levers.roles = [...] (they are searched together, " \
               "on the simplex)"
    problem = param_key_problem(key)
    if problem is not None:
        return problem
    if key.split(".")[0] not in STRATEGY_SECTIONS:
        return (f"not a lever: a strategy sets only {', '.join(STRATEGY_SECTIONS)} keys; "
                "the context's parameters can be futures ([[futures.factors]]) instead")
    if key == "strategy.name" or _param_kind(key) == "other":
        return "not a number: only numeric parameters can be searched"
    return None


def _check_bounds(key: str, value: Any) -> tuple[float, float]:
    if not (isinstance(value, list) and len(value) == 2 and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
        raise ValueError(f"{key} = {short_repr(value)}: give bounds as [low, high]")
    lo, hi = value
    if not all(math.isfinite(v) for v in (lo, hi)) or not lo < hi:
        raise ValueError(f"{key} = {short_repr(value)}: low must be below high")
    integer = _param_kind(key) == "int"
    if integer and not all(isinstance(v, int) or float(v).is_integer() for v in (lo, hi)):
        raise ValueError(f"{key} = {short_repr(value)}: {key} is a whole number; give whole "
                         "bounds")
    for end in (lo, hi):
        problem = check_value(key, int(end) if integer else float(end))
        if problem is not None:
            raise ValueError(f"{key} = {short_repr(value)}: {end!r} is outside what the "
                             f"scenario schema allows ({problem})")
    return (int(lo), int(hi)) if integer else (float(lo), float(hi))


def check_levers(value: dict[str, Any]) -> dict[str, Any]:
    """A validator of ``[levers]``: ``roles`` a list of at least two distinct role names,
    every other (dotted) key a numeric strategy parameter with bounds inside the schema's."""
    if not value:
        raise ValueError("name at least one lever, e.g. roles = [\"patrol\", \"engagement\"] "
                         "or \"strategy.restraint\" = [0.5, 1.0]")
    flat = {k: v for k, v in value.items() if k == "roles"}
    flat.update(flatten({k: v for k, v in value.items() if k != "roles"}))
    for key, v in flat.items():
        if key == "roles":
            if not (isinstance(v, list) and all(isinstance(r, str) for r in v)):
                raise ValueError(f"roles = {short_repr(v)}: give a list of role names "
                                 f"({', '.join(ROLE_NAMES)})")
            bad = [r for r in v if r not in ROLE_NAMES]
            if bad:
                raise ValueError(f"roles: {short_repr(bad[0])} is not a role; roles: "
                                 f"{', '.join(ROLE_NAMES)}")
            if len(set(v)) != len(v) or len(v) < 2:
                raise ValueError(f"roles = {short_repr(v)}: list at least two distinct roles "
                                 "(one role alone always gets the whole force)")
            continue
        problem = lever_problem(key)
        if problem is not None:
            close = difflib.get_close_matches(key, _lever_keys(), n=3) if \
                "did you mean" in problem or "not a scenario parameter" in problem else []
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ValueError(f"{short_repr(key)}: {problem.split('; did you mean')[0]}{hint}")
        _check_bounds(key, v)
    return flat


def _lever_keys() -> list[str]:
    return [k for k in Scenario().flat() if lever_problem(k) is None]


class ObjectiveSpec(StrictModel):
    """One objective: a run outcome aggregated over the futures, minimised or maximised."""

    outcome: str = Field(description="Run summary key, e.g. casualties_total")
    aggregate: str = Field("mean", description="Over the futures: mean, median or pNN "
                           "(a percentile, e.g. p90)")
    direction: Literal["lower", "higher"] | None = Field(
        None, description="Which way is better (default: the outcome's, from outcomes.py)")

    @field_validator("aggregate")
    @classmethod
    def _aggregate(cls, value: str) -> str:
        if not _AGGREGATE.match(value):
            raise ValueError("use \"mean\", \"median\" or a percentile \"p1\" to \"p99\" "
                             "(e.g. \"p90\")")
        return value

    @model_validator(mode="after")
    def _known_direction(self) -> ObjectiveSpec:
        from sim.config import outcomes as oc

        if self.direction is None and oc.better(self.outcome) not in ("lower", "higher"):
            if self.outcome in oc.SUMMARY:
                raise ValueError(f"outcome = {self.outcome!r} has no better direction; set "
                                 "direction = \"lower\" or \"higher\"")
            close = difflib.get_close_matches(self.outcome, list(oc.SUMMARY), n=3)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            raise ValueError(f"outcome = {self.outcome!r}: not a listed outcome; {hint}(an "
                             "outcome the model reports but outcomes.py does not list needs "
                             "direction = \"lower\" or \"higher\")")
        return self

    @property
    def better(self) -> str:
        from sim.config import outcomes as oc

        return self.direction or oc.better(self.outcome)

    @property
    def column(self) -> str:
        """Its column in front.csv and evaluations.parquet."""
        return self.outcome if self.aggregate == "mean" else f"{self.outcome}_{self.aggregate}"

    def reduce(self, values: np.ndarray) -> float:
        """The aggregate of per-future values (NaN if there are none)."""
        v = np.asarray(values, dtype=float)
        if not len(v) or np.isnan(v).any():
            return math.nan
        if self.aggregate == "mean":
            return float(v.mean())
        q = 50 if self.aggregate == "median" else int(self.aggregate[1:])
        return float(np.percentile(v, q))


class FuturesSpec(StrictModel):
    """The fixed sample of futures every candidate meets."""

    kind: Literal["latin_hypercube", "full_factorial"] = "latin_hypercube"
    n: int | None = Field(None, ge=1, le=MAX_FUTURES, description="Latin hypercube points")
    seed: int | None = Field(None, ge=0, description="Sampling seed (default: the file's)")
    replicates: int = Field(1, ge=1, le=1000, description="Runs per future (common seeds)")
    factors: list[Factor] = Field(default_factory=list)

    @model_validator(mode="after")
    def _design(self) -> FuturesSpec:
        keys = [f.key for f in self.factors]
        for i, k in enumerate(keys):
            if k in keys[:i]:
                raise ValueError(f"factors[{i}].key = {k!r}: factor given twice")
        lhs = self.kind == "latin_hypercube"
        if not self.factors and self.n not in (None, 1):
            raise ValueError(f"n = {self.n}: without factors there is one future (the context "
                             "itself); add [[futures.factors]] or drop n")
        if self.factors and lhs and self.n is None:
            raise ValueError("n: a latin hypercube needs the number of futures")
        if not lhs and self.n is not None:
            raise ValueError("n: only for kind = 'latin_hypercube'")
        for i, f in enumerate(self.factors):
            if f.range is not None and not lhs and f.n is None:
                raise ValueError(f"factors[{i}]: a full factorial needs `n` or `levels`")
            if f.n is not None and (lhs or f.range is None):
                raise ValueError(f"factors[{i}].n: only for `range` in a full factorial")
        return self

    def points(self, seed: int) -> list[dict[str, Any]]:
        """Factor values of every future (one empty future without factors)."""
        spec = SimpleNamespace(factors=self.factors, seed=seed, design=SimpleNamespace(
            kind=self.kind, n=self.n, seed=self.seed))
        return design_points_of(spec, {f.key: _param_kind(f.key) for f in self.factors})  # type: ignore[arg-type]


class AlgorithmSpec(StrictModel):
    """The evolutionary algorithm (pymoo)."""

    name: Literal["nsga2", "nsga3"] = "nsga2"
    population: int = Field(ge=4, le=10_000, description="Candidates per generation")
    generations: int = Field(ge=1, le=10_000, description="Generations, the first included")
    seed: int | None = Field(None, ge=0, description="Algorithm seed (default: the file's)")
    partitions: int | None = Field(None, ge=1, le=100, description="NSGA-III: Das-Dennis "
                                   "partitions of the reference directions")

    @model_validator(mode="after")
    def _population(self) -> AlgorithmSpec:
        if self.population % 2:
            raise ValueError(f"population = {self.population}: NSGA makes offspring in pairs "
                             "(simulated binary crossover) and keeps the population size; use "
                             f"an even population, e.g. {self.population + 1}")
        if self.partitions is not None and self.name != "nsga3":
            raise ValueError("partitions: only for name = \"nsga3\" (reference directions)")
        return self


def reference_directions(n_obj: int, partitions: int) -> int:
    """Number of Das-Dennis reference directions: C(partitions + n_obj - 1, n_obj - 1)."""
    return math.comb(partitions + n_obj - 1, n_obj - 1)


class OptimizeSpec(StrictModel):
    """An optimisation file as written (validated with the context ``{"base": folder of the
    file, "source": its path}``)."""

    name: str | None = None
    description: str = ""
    context: str = Field(description="Scenario file (the context), relative to this file")
    strategy: str | None = Field(None, description="Strategy file the search starts from")
    ticks: int | None = Field(None, ge=1, le=1_000_000)
    seed: int = Field(1, ge=0)
    set: dict[str, Any] = Field(default_factory=dict)
    levers: dict[str, Any]
    objectives: list[ObjectiveSpec]
    futures: FuturesSpec = Field(default_factory=FuturesSpec)
    algorithm: AlgorithmSpec
    _base: dict[str, Any] = PrivateAttr(default_factory=dict)
    _context_path: Path | None = PrivateAttr(None)
    _strategy_path: Path | None = PrivateAttr(None)
    _strategy_data: dict[str, Any] = PrivateAttr(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _path_safe(cls, value: str | None) -> str | None:
        return None if value is None else check_name(value)

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

    @field_validator("levers")
    @classmethod
    def _levers(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_levers(value)

    @field_validator("objectives")
    @classmethod
    def _two_or_more(cls, value: list[ObjectiveSpec]) -> list[ObjectiveSpec]:
        if len(value) < 2:
            raise ValueError(f"{len(value)} objective(s): a Pareto front needs at least 2 "
                             "[[objectives]] that pull against each other")
        cols = [o.column for o in value]
        for i, c in enumerate(cols):
            if c in cols[:i]:
                raise ValueError(f"objectives[{i}]: {c} is listed twice")
        return value

    @model_validator(mode="after")
    def _files_and_fit(self, info: ValidationInfo) -> OptimizeSpec:
        base = Path((info.context or {}).get("base", "."))
        self._context_path = resolve_path(base, self.context)
        try:
            data = read_scenario_file(self._context_path)
        except ScenarioError as exc:
            raise ValueError(f"context = {self.context!r}:\n{exc}") from None
        if data.get("model", "epstein") != "peacekeeping":
            raise ValueError(f"context = {self.context!r}: model = "
                             f"{data.get('model', 'epstein')!r}; strategy levers steer a "
                             "peacekeeping mission (model = \"peacekeeping\")")
        if self.strategy is not None:
            self._strategy_path = resolve_path(base, self.strategy)
            try:
                self._strategy_data = load_strategy(self._strategy_path)
                data = apply_strategy(data, self._strategy_path, self._context_path)
            except ScenarioError as exc:
                raise ValueError(f"strategy = {self.strategy!r}:\n{exc}") from None
        self._base = data
        levers = [k for k in self.levers if k != "roles"]
        for i, f in enumerate(self.futures.factors):
            if f.key in levers or (f.key.startswith("strategy.roles") and "roles" in
                                   self.levers):
                raise ValueError(f"futures.factors[{i}].key = {f.key!r}: also a lever; a "
                                 "parameter is either searched or uncertain, not both")
        n_obj = len(self.objectives)
        alg = self.algorithm
        if alg.name == "nsga3":
            p = alg.partitions
            if p is None:
                if reference_directions(n_obj, 1) > alg.population:
                    raise ValueError(f"algorithm.population = {alg.population}: NSGA-III needs "
                                     f"at least one candidate per reference direction "
                                     f"({reference_directions(n_obj, 1)} for {n_obj} "
                                     "objectives)")
            elif reference_directions(n_obj, p) > alg.population:
                raise ValueError(
                    f"algorithm.partitions = {p}: gives {reference_directions(n_obj, p)} "
                    f"reference directions for {n_obj} objectives, more than the population "
                    f"({alg.population}); NSGA-III needs a population of at least as many")
        points = self.futures.points(self.seed)
        if len(points) > MAX_FUTURES:
            raise ValueError(f"futures: {len(points):,} futures; at most {MAX_FUTURES:,}")
        self._check_scenarios(points, info)
        return self

    def _check_scenarios(self, points: list[dict[str, Any]], info: ValidationInfo) -> None:
        """Both corners of the lever box (every lever at its low / high bound, roles in equal
        shares) in every future make valid scenarios whose run fits; objectives measured
        after the exit need an exit inside the run."""
        source = f"{self.context} (optimisation {(info.context or {}).get('source', '')})"
        levers = {k: v for k, v in self.levers.items() if k != "roles"}
        roles = self.levers.get("roles")
        shares = {}
        if roles:
            shares = {f"strategy.roles.{r}": (1 / len(roles) if r in roles else 0.0)
                      for r in ROLE_NAMES}
        after = [o for o in self.objectives if _after_exit(o.outcome)]
        checked = 0
        for corner, side in (("low", 0), ("high", 1)):
            values = {k: _check_bounds(k, v)[side] for k, v in levers.items()}
            for p, point in enumerate(points):
                if checked >= MAX_CHECKED and p:
                    break
                checked += 1
                where = f"the levers' {corner} corner" + (f", future {p}" if point else "")
                overrides = {**flatten(self.set), **shares, **values, **point}
                try:
                    sc = build_scenario(self._base, source, overrides,
                                        override_label="from the optimisation file")
                    ticks = self.ticks or sc.run.ticks
                    check_run_length(sc, ticks, source)
                except ScenarioError as exc:
                    raise ValueError(f"{where}:\n{exc}") from None
                if after:
                    exit_at = planned_exit_tick(sc.mission)
                    start = sc.mission.drawdown_start
                    fits = (exit_at is not None and start is not None
                            and exit_at + sc.mission.exit_window <= ticks)
                    if not fits:
                        o = after[0]
                        why = ("the mission never draws down (mission.drawdown_start is not "
                               "set)" if start is None else
                               f"the mission does not leave within the {ticks} ticks (drawdown "
                               f"from tick {start}" + (f", exit at tick {exit_at}"
                                                       if exit_at is not None else "")
                               + f", exit window {sc.mission.exit_window})")
                        raise ValueError(
                            f"objectives: {o.outcome!r} is measured after the mission leaves, "
                            f"and at {where} {why}; set mission.drawdown_start (in [set], the "
                            "strategy file, or as a lever with bounds) so that the exit and "
                            "its window fit in the run, or drop the objective")


def _after_exit(outcome: str) -> bool:
    from sim.config import outcomes as oc

    return oc.outcome(outcome).after_exit


# --------------------------------------------------------------------------- resolved form


@dataclass(frozen=True)
class Lever:
    """A searched parameter: dotted key, bounds, integer or real."""

    key: str
    low: float
    high: float
    integer: bool

    def decode(self, u: float) -> int | float:
        """The value at ``u`` in [0, 1], rounded (see the module docstring)."""
        v = self.low + min(max(float(u), 0.0), 1.0) * (self.high - self.low)
        if self.integer:
            return int(min(max(round(v), self.low), self.high))
        v = float(f"{v:.{LEVER_DIGITS}g}")
        return min(max(v, self.low), self.high)


def decode_shares(u: np.ndarray) -> list[float]:
    """Role shares from role variables in [0, 1]: normalised to sum 1, rounded to
    :data:`SHARE_DECIMALS` decimals, the largest share taking the remainder."""
    u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
    total = float(u.sum())
    raw = u / total if total > 1e-12 else np.full(len(u), 1.0 / len(u))
    shares = [round(float(x), SHARE_DECIMALS) for x in raw]
    big = int(np.argmax(raw))
    shares[big] = round(1.0 - sum(s for i, s in enumerate(shares) if i != big), 12)
    return shares


@dataclass(frozen=True)
class Optimization:
    """A checked optimisation file and everything resolved from it."""

    path: Path
    sha256: str
    spec: OptimizeSpec
    name: str
    context_path: Path
    strategy_path: Path | None
    base_data: dict[str, Any]  #: context with the strategy file laid over it
    source: str  #: label of the scenario in messages
    ticks: int
    roles: tuple[str, ...]
    levers: tuple[Lever, ...]
    objectives: tuple[ObjectiveSpec, ...]
    futures: tuple[dict[str, Any], ...]
    seeds: tuple[int, ...]  #: replicate seeds, the same in every future and for every candidate

    @property
    def n_var(self) -> int:
        return len(self.roles) + len(self.levers)

    @property
    def variables(self) -> list[str]:
        """Names of the decoded values: role shares (``strategy.roles.<role>``), levers."""
        return [f"strategy.roles.{r}" for r in self.roles] + [lv.key for lv in self.levers]

    @property
    def set_overrides(self) -> dict[str, Any]:
        return flatten(self.spec.set)

    @property
    def factor_keys(self) -> list[str]:
        return [f.key for f in self.spec.futures.factors]

    @property
    def seed(self) -> int:
        a = self.spec.algorithm.seed
        return self.spec.seed if a is None else a

    def decode(self, x: Any) -> dict[str, Any]:
        """Dotted-key values of a point ``x`` of the unit box (see the module docstring):
        every role share when roles are searched (unlisted roles 0), then the levers."""
        x = np.asarray(x, dtype=float)
        out: dict[str, Any] = {}
        k = len(self.roles)
        if k:
            shares = dict(zip(self.roles, decode_shares(x[:k]), strict=True))
            out.update({f"strategy.roles.{r}": shares.get(r, 0.0) for r in ROLE_NAMES})
        for lv, u in zip(self.levers, x[k:], strict=True):
            out[lv.key] = lv.decode(u)
        return out

    def overrides(self, decoded: dict[str, Any], future: int) -> dict[str, Any]:
        """A run's dotted-key values: ``[set]``, the candidate's levers, the future's factor
        values (later wins)."""
        return {**self.set_overrides, **decoded, **self.futures[future]}

    def strategy_data(self, decoded: dict[str, Any], name: str) -> dict[str, Any]:
        """A strategy file's tables for a candidate: the base strategy file, the ``[set]``
        values of strategy tables, the levers; named ``name``."""
        data = copy.deepcopy(self.spec._strategy_data)
        tables: dict[str, Any] = {}
        for key, value in {**self.set_overrides, **decoded}.items():
            if key.split(".")[0] not in STRATEGY_SECTIONS:
                continue
            node = tables
            parts = key.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = value
        if self.roles:
            data.setdefault("strategy", {}).pop("roles", None)  # replaced whole, never mixed
        data = deep_merge(data, tables)
        data.setdefault("strategy", {})
        data["strategy"] = {"name": name, **{k: v for k, v in data["strategy"].items()
                                             if k != "name"}}
        return {t: data[t] for t in ("strategy", *STRATEGY_SECTIONS) if t in data}

    def context_only_set(self) -> dict[str, Any]:
        """``[set]`` values outside the strategy tables (a front member's file cannot carry
        them: ``peacesim run`` needs them as ``--set``)."""
        return {k: v for k, v in self.set_overrides.items()
                if k.split(".")[0] not in STRATEGY_SECTIONS}


def format_optimize_error(exc: ValidationError, source: str) -> str:
    return format_validation_error(exc, source, OptimizeSpec, "optimisation file")


def is_optimize_file(data: dict[str, Any]) -> bool:
    """What an optimisation file says it is: it has ``levers`` and ``objectives``."""
    return "levers" in data and "objectives" in data


def load_optimization(path: str | Path) -> Optimization:
    """Read and check an optimisation file; :class:`OptimizeError` (exit 2) on any problem,
    before anything runs."""
    path = Path(path)
    source = str(path)
    try:
        raw = read_toml(path)
    except ScenarioError as exc:
        raise OptimizeError(str(exc)) from None
    if not raw:
        raise OptimizeError(f"{source}: says nothing: an empty optimisation file; give "
                            "context, [levers], [[objectives]] and [algorithm]")
    try:
        spec = OptimizeSpec.model_validate(
            raw, context={"base": path.resolve().parent, "source": source})
    except ValidationError as exc:
        raise OptimizeError(format_optimize_error(exc, source)) from None
    name = spec.name
    if name is None:
        try:
            name = check_name(path.stem)
        except ValueError:
            raise OptimizeError(f"{source}: name: the file's stem {path.stem!r} cannot name a "
                                "folder; set name = \"...\"") from None
    assert spec._context_path is not None
    roles = tuple(spec.levers.get("roles") or ())
    levers = []
    for key, bounds in spec.levers.items():
        if key == "roles":
            continue
        lo, hi = _check_bounds(key, bounds)
        levers.append(Lever(key, lo, hi, _param_kind(key) == "int"))
    probe = build_scenario(spec._base, source, {**flatten(spec.set), **(
        {f"strategy.roles.{r}": (1 / len(roles) if r in roles else 0.0) for r in ROLE_NAMES}
        if roles else {})})
    label = f"{spec._context_path}" + (f" with strategy {spec._strategy_path}"
                                       if spec._strategy_path else "") + \
        f" (optimisation {path})"
    return Optimization(
        path=path, sha256=hashlib.sha256(path.read_bytes()).hexdigest(), spec=spec,
        name=name, context_path=spec._context_path, strategy_path=spec._strategy_path,
        base_data=spec._base, source=label, ticks=spec.ticks or probe.run.ticks,
        roles=roles, levers=tuple(levers), objectives=tuple(spec.objectives),
        futures=tuple(spec.futures.points(spec.seed)),
        seeds=tuple(replicate_seeds(spec.seed, spec.futures.replicates, "common")))


__all__ = ["AlgorithmSpec", "FuturesSpec", "Lever", "ObjectiveSpec", "OptimizeError",
           "OptimizeSpec", "Optimization", "decode_shares", "is_optimize_file",
           "load_optimization", "reference_directions"]
