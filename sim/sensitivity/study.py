"""Global sensitivity analysis with SALib: sample -> evaluate -> analyse, on the sweep runner.

A sensitivity study (``experiments/sobol_baseline.toml``, ``experiments/morris_screening.toml``)
names one context (and strategy), the uncertain factors with their bounds (and optionally
distributions), the method and its sample size, the summary keys analysed, replicates per
sample row and the seed policy. :func:`run_study` builds the SALib ``ProblemSpec``, samples
it, turns every sample row x replicate into a run of the sweep store (so resume, failures,
progress and the executors -- process pool or Dask -- are those of ``peacesim sweep``),
reads the outputs back in sample order, and analyses them (:mod:`sim.sensitivity.report`
writes the tables, figures and report).

Noise. A stochastic model adds variance that no factor explains, which inflates
total-order indices. Every study therefore carries a *dummy* factor that the model never
reads: its indices are the noise floor, and a factor whose index (minus its CI) is not
above the dummy's (plus its CI) is flagged. Two seed policies:

* ``common`` (common random numbers, the default): every row of one base sample (a Saltelli
  block A, AB_1..AB_D, [BA_1..BA_D,] B; a Morris trajectory) shares its seeds, so the
  differences the estimators take are between runs that drew the same random numbers. The
  dummy's rows are then the very same runs as their base rows (one content key, run once),
  so its indices are exactly zero.
* ``independent``: each row has its own seeds; the dummy's total index then measures how
  much of the output variance is noise.

Under common random numbers a zero dummy is a floor that any factor clears: in an
agent-based model even a negligible change of a parameter sends the run down another path,
so a factor with no real effect still shows the run-to-run noise. The study therefore also
carries, by default (``seed_factor = true``), a *seed factor*: a pseudo-factor whose value
picks the random stream of its row (within the block's common numbers, so only the rows
where it changes draw other numbers). Its indices measure what a change of random numbers
alone does: the noise share of the variance (Sobol') or the noise's elementary effect
(Morris). A factor is *above the noise floor* when its index minus CI exceeds both the
dummy's and the seed factor's index plus CI; both comparisons are kept in the tables.

Replicates (``replicates = R``) run each row R times (seeds ``r = 0..R-1`` of its block or
row) and analyse the mean, dividing the noise variance by R; with R >= 2 the report also
gives the noise share (within-row variance / R over the variance of the row means).

Re-analysis. Runs store their whole summary, and the store is identified by what decides
the runs (sample, seeds, model, factors), not by the analysis settings (``outputs``,
``also``, ``bootstrap``, ``conf_level``): edit those and ``--resume`` analyses the existing
sample again (e.g. add ``also = ["delta"]``) without running anything.

Convergence. The first half of a Saltelli sample (or of the Morris trajectories) is itself
a valid sample of half the size, so every index is also estimated at N/2 and the report
gives how far it moved between N/2 and N, beside its bootstrap CI at N.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.config.experiment import (
    ExperimentError,
    _check_key,
    _file_sha256,
    _flatten,
    _param_kind,
    _resolve_file,
    format_experiment_error,
)
from sim.config.scenario import ScenarioError, apply_strategy, build_scenario, read_toml
from sim.experiments.store import (
    META_COLUMNS,
    init_store,
    model_version,
    read_summaries,
    run_key,
)
from sim.experiments.sweep import (
    SweepStats,
    _log,
    check_out,
    default_sweep_dir,
    execute_design,
    write_session_status,
)
from sim.io.manifest import canonical_json
from sim.io.store import atomic_write_bytes
from sim.sensitivity.names import SEED_FACTOR
from sim.sensitivity.testfunctions import FUNCTION_FACTORS, call_function, resolve

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


class SensitivityError(ExperimentError):
    """A study file that cannot be run (CLI: exit 2)."""


class IncompleteStudy(RuntimeError):
    """Runs failed, so the indices cannot be computed yet (CLI: exit 1); the finished runs
    are stored: fix the cause and resume."""


# --------------------------------------------------------------------------- schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SAFactor(_Strict):
    """An uncertain factor: a scenario key (or a test function's argument) and its law."""

    key: str = Field(description="Dotted scenario key, e.g. strategy.restraint")
    bounds: list[float] = Field(min_length=2, max_length=4, description="See `dist`")
    dist: Literal["unif", "logunif", "triang", "norm", "truncnorm", "lognorm"] = Field(
        "unif", description="Distribution (SALib's names); `bounds` as in DIST_MEANING")
    name: str | None = Field(None, description="Label in tables and plots (default: the key)")


class StudySpec(_Strict):
    """A sensitivity study file as written."""

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
    function: str | None = Field(None, description="Test function instead of the model "
                                 "(ishigami, ishigami_noisy or module:callable)")
    set: dict[str, Any] = Field(default_factory=dict, description="Fixed dotted-key values")
    ticks: int | None = Field(None, ge=1, le=1_000_000)
    outputs: list[str] = Field(min_length=1, description="Summary keys analysed")
    dummy: str = Field("dummy", description="Name of the dummy factor (no effect)")
    seed_factor: bool = Field(True, description="Add the seed pseudo-factor (a noise "
                              "reference; only changes the random numbers of its rows)")
    bootstrap: int = Field(1000, ge=10, le=100_000, description="Bootstrap resamples for CIs")
    conf_level: float = Field(0.95, gt=0.5, lt=1.0)
    factors: list[SAFactor] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_model(self) -> StudySpec:
        if (self.context is None) == (self.function is None):
            raise ValueError("give either `context` (a scenario file) or `function` (a test "
                             "function), not both or neither")
        return self


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


def _err(source: str, text: str) -> SensitivityError:
    return SensitivityError(f"{source}: {text}")


def _check_bounds(f: SAFactor, where: str, source: str) -> None:
    b = f.bounds
    arity = DIST_ARITY[f.dist]
    if len(b) != arity:
        raise _err(source, f"{where}.bounds = {b}: dist = {f.dist!r} takes {arity} values: "
                   f"{DIST_MEANING[f.dist]}")
    if not all(math.isfinite(v) for v in b):
        raise _err(source, f"{where}.bounds = {b}: values must be finite numbers")
    if f.dist in ("unif", "logunif", "triang", "truncnorm") and not b[0] < b[1]:
        raise _err(source, f"{where}.bounds = {b}: low ({b[0]}) must be below high ({b[1]}); "
                   f"bounds are {DIST_MEANING[f.dist]}")
    if f.dist == "logunif" and b[0] <= 0:
        raise _err(source, f"{where}.bounds = {b}: logunif needs low > 0")
    if f.dist == "triang" and not 0 <= b[2] <= 1:
        raise _err(source, f"{where}.bounds = {b}: the peak ({b[2]}) is a fraction of the "
                   "range, in [0, 1]")
    if f.dist in ("norm", "lognorm") and b[1] <= 0:
        raise _err(source, f"{where}.bounds = {b}: the standard deviation must be > 0")
    if f.dist == "truncnorm" and b[3] <= 0:
        raise _err(source, f"{where}.bounds = {b}: the standard deviation must be > 0")


def _support(f: SAFactor) -> tuple[float, float] | None:
    """The range sampled values can take, when it is bounded."""
    b = f.bounds
    if f.dist in ("unif", "logunif", "triang", "truncnorm"):
        return b[0], b[1]
    return None


def load_study(path: str | Path) -> Study:
    """Read and check a study file; raises :class:`SensitivityError` (exit 2) on any problem,
    before anything runs."""
    path = Path(path)
    source = str(path)
    raw = read_toml(path)
    if "contexts" in raw and "method" not in raw:
        raise SensitivityError(f"{source}: a sweep experiment (it lists `contexts`), not a "
                               f"sensitivity study; run it with: peacesim sweep {path}")
    try:
        spec = StudySpec.model_validate(raw)
    except ValidationError as exc:
        raise SensitivityError(format_experiment_error(exc, source, StudySpec,
                                                       "sensitivity study")) from None
    name = spec.name or path.stem
    if spec.method == "sobol" and spec.N & (spec.N - 1):
        lo = 1 << (spec.N.bit_length() - 1)
        raise _err(source, f"N = {spec.N}: Sobol' sampling needs a power of two (e.g. {lo} or "
                   f"{2 * lo}); the sequence loses its balance properties otherwise")
    if spec.method == "sobol" and spec.N < 4:
        raise _err(source, f"N = {spec.N}: at least 4 base samples (the convergence check "
                   "halves N)")
    if spec.method == "morris":
        if spec.num_levels % 2:
            raise _err(source, f"num_levels = {spec.num_levels}: Morris needs an even number "
                       "of levels")
        if spec.N < 4:
            raise _err(source, f"N = {spec.N}: at least 4 trajectories")
    elif spec.num_levels != 4:
        raise _err(source, "num_levels: only for method = 'morris'")
    if spec.second_order and spec.method != "sobol":
        raise _err(source, "second_order: only for method = 'sobol'")
    base = path.resolve().parent
    names: list[str] = []
    keys: list[str] = []
    kinds: list[str] = []
    if spec.function is not None:
        try:
            resolve(spec.function)
        except ValueError as exc:
            raise _err(source, str(exc)) from None
        if spec.strategy is not None or spec.set or spec.ticks is not None:
            raise _err(source, "strategy, set and ticks apply to the model, not to `function`")
    for i, f in enumerate(spec.factors):
        where = f"factors[{i}]"
        if spec.function is not None:
            known = FUNCTION_FACTORS.get(spec.function)
            if known is not None and f.key not in known:
                raise _err(source, f"{where}.key = {f.key!r}: not an argument of "
                           f"{spec.function} (allowed: {', '.join(known)})")
            kind = "float"
        else:
            try:
                _check_key(f.key, f"{where}.key", source)
            except ExperimentError as exc:
                raise SensitivityError(str(exc)) from None
            kind = _param_kind(f.key)
            if kind == "other":
                raise _err(source, f"{where}.key = {f.key!r}: not a numeric parameter")
        _check_bounds(f, where, source)
        label = f.name or f.key
        if f.key in META_COLUMNS or label in META_COLUMNS:
            raise _err(source, f"{where}: {label!r} names a bookkeeping column of the store "
                       f"({', '.join(META_COLUMNS)}); choose another name")
        if f.key in keys or label in names:
            raise _err(source, f"{where}.key = {f.key!r}: factor given twice")
        names.append(label)
        keys.append(f.key)
        kinds.append(kind)
    if spec.dummy in names or spec.dummy in keys or spec.dummy in META_COLUMNS:
        raise _err(source, f"dummy = {spec.dummy!r}: clashes with a factor; name the dummy "
                   "something else")
    if len(set(spec.outputs)) != len(spec.outputs):
        raise _err(source, f"outputs = {spec.outputs}: a key is listed twice")
    names.append(spec.dummy)
    keys.append(spec.dummy)
    kinds.append("dummy")
    if spec.seed_factor:
        if SEED_FACTOR in names or SEED_FACTOR in keys:
            raise _err(source, f"a factor is named {SEED_FACTOR!r}, the name of the seed "
                       "factor; rename it or set seed_factor = false")
        names.append(SEED_FACTOR)
        keys.append(SEED_FACTOR)
        kinds.append("seed")

    if spec.function is not None:
        data: dict[str, Any] = {}
        context, strategy = FUNCTION_CONTEXT, spec.function.replace(":", "_")
        study_source = f"function {spec.function} (study {path})"
        ticks = 0
    else:
        assert spec.context is not None
        ctx_path = _resolve_file(base, spec.context, "context", source)
        data = read_toml(ctx_path)
        context = str(data.get("name") or ctx_path.stem)
        strategy = "as_in_context"
        study_source = str(ctx_path.resolve())
        if spec.strategy is not None:
            s_path = _resolve_file(base, spec.strategy, "strategy", source)
            try:
                data = apply_strategy(data, s_path)
            except ScenarioError as exc:
                raise _err(source, f"strategy: {exc}") from None
            strategy = s_path.stem
            study_source += f" with strategy {s_path.resolve()}"
        study_source += f" (study {path})"
        fixed = _flatten(spec.set)
        for key in fixed:
            try:
                _check_key(key, "set key", source)
            except ExperimentError as exc:
                raise SensitivityError(str(exc)) from None
            if key in keys:
                raise _err(source, f"set key {key!r} is also a factor")
        sc = _build(data, study_source, fixed)
        ticks = spec.ticks or sc.run.ticks
        # every bounded factor at its low and high end must give a valid scenario
        for i, f in enumerate(spec.factors):
            sup = _support(f)
            if sup is None:
                continue
            for v in sup:
                value = _cast(v, kinds[i])
                try:
                    build_scenario(data, study_source, {**fixed, f.key: value})
                except ScenarioError as exc:
                    detail = str(exc).splitlines()[-1].strip()
                    raise _err(source, f"factors[{i}].bounds = {f.bounds}: {f.key} = {value} "
                               f"is not allowed ({detail})") from None
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
                 ticks=ticks)


def _build(data: dict[str, Any], source: str, overrides: dict[str, Any]) -> Any:
    try:
        return build_scenario(data, source, overrides)
    except ScenarioError as exc:
        raise SensitivityError(str(exc).replace("(from --set)", "(from the study)")) from None


def _cast(value: float, kind: str) -> Any:
    return int(round(value)) if kind == "int" else float(value)


# --------------------------------------------------------------------------- sample


def problem_spec(study: Study) -> Any:
    """The SALib ``ProblemSpec`` of the study (factors, then the dummy)."""
    from SALib import ProblemSpec

    return ProblemSpec(copy.deepcopy(study.problem))


def sample(study: Study) -> np.ndarray:
    """The SALib sample, one row per model evaluation (before integer rounding)."""
    sp = problem_spec(study)
    spec = study.spec
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # SALib's advice on N, handled above
        if spec.method == "sobol":
            sp.sample_sobol(spec.N, calc_second_order=spec.second_order, scramble=True,
                            seed=spec.seed)
        else:
            sp.sample_morris(spec.N, num_levels=spec.num_levels, seed=spec.seed)
    x = np.asarray(sp.samples, dtype=float)
    if x.shape[0] != study.rows:
        raise SensitivityError(f"{study.path}: SALib returned {x.shape[0]} rows, expected "
                               f"{study.rows}")
    return x


def row_seeds(study: Study, x: np.ndarray) -> np.ndarray:
    """Seeds of each sample row's replicates, shape (rows, replicates).

    ``common``: rows of one base sample / trajectory share ``SeedSequence([seed, block])``'s
    streams, or ``SeedSequence([seed, block, q])``'s with the seed factor, ``q`` being its
    value in the row scaled to 32 bits (so only rows where it changed draw other numbers);
    ``independent``: each row has ``SeedSequence([seed, block, 1 + offset])``'s.
    """
    spec = study.spec
    col = study.seed_column
    out = np.empty((study.rows, spec.replicates), dtype=np.int64)
    for row in range(study.rows):
        block, offset = divmod(row, study.block)
        if spec.seed_policy == "independent":
            entropy = [spec.seed, block, 1 + offset]
        elif col is None:
            entropy = [spec.seed, block]
        else:
            entropy = [spec.seed, block, int(min(x[row, col], 1.0 - 2.0**-33) * 2**32)]
        children = np.random.SeedSequence(entropy).spawn(spec.replicates)
        out[row] = [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
                    for c in children]
    return out


def keep_spec(study: Study) -> dict[str, Any]:
    """What each run keeps: its whole summary (so other outputs can be analysed later from
    the same runs), no time series."""
    return {"summary_keys": None, "metrics": [], "every": 1, "burn_in": 0}


def plan(study: Study, x: np.ndarray) -> tuple[pd.DataFrame, dict[tuple[str, str, int],
                                                                   dict[str, Any]]]:
    """The sweep-store design (one row per sample row x replicate, ``point`` = sample row)
    and each row's task data. Runs identical in parameters and seed share a content key and
    run once (under common random numbers, a dummy row repeats its base row)."""
    keep = keep_spec(study)
    version = model_version()
    seeds = row_seeds(study, x)
    reps = study.spec.replicates
    m = study.model_factors
    factor_keys = study.keys[:m]
    values = [[_cast(v, k) for v, k in zip(row[:m], study.kinds[:m], strict=True)]
              for row in x]
    fixed = _flatten(study.spec.set)
    cells: dict[tuple[str, str, int], dict[str, Any]] = {}
    keys: list[str] = []
    for p, vals in enumerate(values):
        overrides = {**fixed, **dict(zip(factor_keys, vals, strict=True))}
        if study.spec.function is not None:
            cells[(study.context, study.strategy, p)] = {"function": study.spec.function,
                                                         "overrides": overrides}
            params: Any = {"function": study.spec.function, "values": overrides}
        else:
            cells[(study.context, study.strategy, p)] = {"data": study.data,
                                                         "source": study.source,
                                                         "overrides": overrides}
            try:
                params = build_scenario(study.data, study.source, overrides).model_dump(
                    mode="json")
            except ScenarioError as exc:
                raise SensitivityError(
                    f"{study.path}: sample row {p} is not a valid scenario: "
                    f"{str(exc).splitlines()[-1].strip()} (a distribution without bounds "
                    "can leave a parameter's allowed range: use truncnorm or narrower "
                    "bounds)") from None
        for r in range(reps):
            keys.append(run_key(params, int(seeds[p, r]), study.ticks, keep, version))
    rows = np.repeat(np.arange(study.rows), reps)
    design = pd.DataFrame({
        "run_id": np.arange(study.runs, dtype=np.int64),
        "key": keys,
        "context": study.context,
        "strategy": study.strategy,
        "point": rows.astype(np.int64),
        "replicate": np.tile(np.arange(reps), study.rows).astype(np.int64),
        "seed": seeds.reshape(-1),
        "ticks": np.int64(study.ticks),
    })
    for j, key in enumerate(study.keys):
        col = x[rows, j]
        design[key] = col if study.kinds[j] != "int" else np.rint(col).astype(np.int64)
    return design, cells


# --------------------------------------------------------------------------- evaluate


def outputs_in_sample_order(study: Study, out: Path, design: pd.DataFrame
                            ) -> tuple[np.ndarray, np.ndarray]:
    """(Y, within-row variance) in sample order, shape (rows, outputs): replicate means.

    Raises :class:`IncompleteStudy` if runs are missing (failed): the indices need every
    row; fix the cause and ``--resume``."""
    res = read_summaries(out, design)
    missing = sorted(set(design["run_id"]) - set(res["run_id"]))
    if missing:
        rows = sorted(set(design.loc[design["run_id"].isin(missing), "point"]))
        raise IncompleteStudy(
            f"{out}: {len(missing)} run(s) of {len(design)} have no result (sample rows "
            f"{rows[:10]}{' ...' if len(rows) > 10 else ''}); see {out / 'failures.jsonl'}, "
            f"fix the cause and rerun with --out {out} --resume")
    res = res.sort_values(["point", "replicate"], kind="stable")
    reps = study.spec.replicates
    y = np.empty((study.rows, len(study.spec.outputs)))
    var = np.zeros_like(y)
    for j, name in enumerate(study.spec.outputs):
        vals = pd.to_numeric(res[name], errors="coerce").to_numpy(dtype=float)
        vals = vals.reshape(study.rows, reps)
        y[:, j] = vals.mean(axis=1)
        if reps > 1:
            var[:, j] = vals.var(axis=1, ddof=1)
    return y, var


def probe(study: Study) -> None:
    """One short run (compiling the kernels before workers start) that checks every output
    is a summary key of this model."""
    if study.spec.function is not None:
        x0 = {k: float(np.mean(f.bounds[:2])) for k, f in zip(study.keys, study.spec.factors,
                                                                strict=False)}
        got = call_function(study.spec.function, x0, 0)
    else:
        from sim.io.runner import run

        got = run(_build(study.data, study.source, _flatten(study.spec.set)), seed=0,
                  ticks=1).summary
    for k in study.spec.outputs:
        if k not in got:
            raise SensitivityError(f"{study.path}: outputs: {k!r} is not an output of "
                                   f"{study.context}; available: {', '.join(got)}")


@dataclass
class StudyResult:
    """What a study produced: folder, run statistics, sample, outputs and analysis."""

    out: Path
    stats: SweepStats
    x: np.ndarray
    y: np.ndarray
    analysis: Analysis
    files: list[Path]
    seconds: float


def run_study(
    path: str | Path,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    resume: bool = False,
    retries: int = 1,
    progress: bool = True,
    quiet: bool = False,
    command: list[str] | None = None,
) -> StudyResult:
    """Sample, run (or, with ``resume``, finish) and analyse a study into ``out``.

    A script calling this with a process pool must do so under
    ``if __name__ == "__main__":``.
    """
    from sim.sensitivity.report import write_outputs

    t0 = time.perf_counter()
    log = _log(quiet)
    study = load_study(path)
    check_out(out, resume, "study")
    log(f"checking {study.name} (the first run after an install compiles the model: ~1 min)")
    probe(study)
    x = sample(study)
    design, cells = plan(study, x)
    out = Path(out) if out is not None else default_sweep_dir(study.name, "results/sensitivity")
    keep = keep_spec(study)
    init_store(out, study.path, study.runs_sha256, design,
               {"experiment_name": study.name, "kind": "sensitivity",
                "description": study.spec.description, "model_version": model_version(),
                "runs": len(design), "method": study.spec.method, "N": study.spec.N,
                "replicates": study.spec.replicates, "seed": study.spec.seed,
                "seed_policy": study.spec.seed_policy, "factors": study.keys,
                "keep": keep, "command": command,
                "executor": scheduler or (f"dask-local {dask_local}" if dask_local else
                                          f"workers {workers if workers is not None else 'auto'}")},
               resume)
    atomic_write_bytes(out / "study.toml", study.path.read_bytes())  # as analysed last
    log(f"{study.spec.method} study: {study.model_factors} factors + "
        f"{' and '.join(study.references)}, N = "
        f"{study.spec.N}, {study.rows} sample rows x {study.spec.replicates} replicate(s)")
    stats = execute_design(design, cells, keep, out, study.keys, workers=workers,
                           scheduler=scheduler, dask_local=dask_local, resume=resume,
                           retries=retries, progress=progress, log=log, desc=study.name)
    write_session_status(stats)
    y, within = outputs_in_sample_order(study, out, design)
    analysis = analyse(study, x, y, within)
    seconds = time.perf_counter() - t0
    files = write_outputs(study, out, x, y, analysis, stats, seconds)
    return StudyResult(out=out, stats=stats, x=x, y=y, analysis=analysis, files=files,
                       seconds=seconds)


# --------------------------------------------------------------------------- analyse


@dataclass
class Analysis:
    """Indices in long form plus what the report states about them.

    ``indices``: output, method, n (base samples or trajectories), factor, index, value,
    conf (half-width of the bootstrap CI), low, high, above_dummy, above_seed, above_noise
    (None for the references and for indices without a noise test). ``second_order``:
    output, n, factor_a, factor_b, value, conf. ``convergence``: output, factor, index,
    value_half, value_full, change, conf_full, within_ci. ``notes``: output -> remarks
    (constant or undefined outputs).
    """

    indices: pd.DataFrame
    second_order: pd.DataFrame
    convergence: pd.DataFrame
    noise_share: dict[str, float | None]
    notes: dict[str, list[str]]


#: index -> (its key, its CI key in SALib's result) for each method
_SOBOL = {"S1": ("S1", "S1_conf"), "ST": ("ST", "ST_conf")}
_MORRIS = {"mu_star": ("mu_star", "mu_star_conf"), "mu": ("mu", None),
           "sigma": ("sigma", None)}
_DELTA = {"delta": ("delta_raw", "delta_raw_conf"), "S1": ("S1", "S1_conf")}
_PAWN = {k: (k, None) for k in ("median", "mean", "minimum", "maximum", "CV")}
#: bootstrap resamples of the delta method: it fits kernel densities per resample and
#: factor (~5-15 s per output for 340 rows), so its CIs use fewer resamples than Sobol's
DELTA_RESAMPLES = 20
#: indices tested against the dummy
NOISE_TESTED = {("sobol", "S1"), ("sobol", "ST"), ("morris", "mu_star"), ("delta", "delta")}


def _salib_analyse(study: Study, method: str, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    from SALib.analyze import delta, morris, pawn, sobol

    spec = study.spec
    problem = {k: study.problem[k] for k in ("names", "bounds", "dists")}
    problem["num_vars"] = len(problem["names"])
    seed = spec.seed
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if method == "sobol":
            return sobol.analyze(problem, y, calc_second_order=spec.second_order,
                                 num_resamples=spec.bootstrap, conf_level=spec.conf_level,
                                 seed=seed)
        if method == "morris":
            return morris.analyze(problem, x, y, num_resamples=spec.bootstrap,
                                  conf_level=spec.conf_level, num_levels=spec.num_levels,
                                  seed=seed)
        if method == "delta":
            with contextlib.redirect_stdout(io.StringIO()):  # SALib prints binning notices
                return delta.analyze(problem, x, y,
                                     num_resamples=min(spec.bootstrap, DELTA_RESAMPLES),
                                     conf_level=spec.conf_level, seed=seed)
        return pawn.analyze(problem, x, y, S=10, seed=seed)


def _rows(study: Study, output: str, method: str, n: int, res: dict[str, Any],
          wanted: dict[str, tuple[str, str | None]]) -> list[dict[str, Any]]:
    rows = []
    for index, (key, conf_key) in wanted.items():
        vals = np.asarray(res[key], dtype=float)
        confs = (np.asarray(res[conf_key], dtype=float) if conf_key else
                 np.full(len(vals), np.nan))
        for f, v, c in zip(study.names, vals, confs, strict=True):
            rows.append({"output": output, "method": method, "n": n, "factor": f,
                         "index": index, "value": float(v), "conf": float(c),
                         "low": float(v - c) if conf_key else np.nan,
                         "high": float(v + c) if conf_key else np.nan})
    return rows


def _mark_noise(df: pd.DataFrame, dummy: str, seed: str | None) -> pd.DataFrame:
    """above_dummy / above_seed: the index's lower CI bound above the upper CI bound of the
    dummy's / the seed factor's; above_noise: above both."""
    df = df.copy()
    refs = {"above_dummy": dummy, "above_seed": seed}
    for col in (*refs, "above_noise"):
        df[col] = pd.Series([None] * len(df), dtype=object)
    for (_output, method, _n, index), grp in df.groupby(["output", "method", "n", "index"]):
        if (method, index) not in NOISE_TESTED:
            continue
        floors = {}
        for col, name in refs.items():
            d = grp[grp["factor"] == name]
            if name is not None and not d.empty:
                floors[col] = float(np.nan_to_num(d["high"].iloc[0], nan=d["value"].iloc[0]))
        if not floors:
            continue
        for i in grp.index:
            if df.at[i, "factor"] in (dummy, seed):
                continue
            low = df.at[i, "low"]
            low = df.at[i, "value"] if not np.isfinite(low) else low
            flags = {col: bool(np.isfinite(low) and low > f) for col, f in floors.items()}
            for col, flag in flags.items():
                df.at[i, col] = flag
            df.at[i, "above_noise"] = all(flags.values())
    return df


def analyse(study: Study, x: np.ndarray, y: np.ndarray,
            within_var: np.ndarray | None = None) -> Analysis:
    """Indices of every output at N and N/2 (convergence), the dummy as the noise floor,
    extra analyses (pawn, delta) on the full sample."""
    spec = study.spec
    half_rows = (spec.N // 2) * study.block
    records: list[dict[str, Any]] = []
    second: list[dict[str, Any]] = []
    notes: dict[str, list[str]] = {o: [] for o in spec.outputs}
    noise_share: dict[str, float | None] = {}
    main = _SOBOL if spec.method == "sobol" else _MORRIS
    for j, output in enumerate(spec.outputs):
        yj = y[:, j]
        noise_share[output] = None
        if not np.all(np.isfinite(yj)):
            bad = int((~np.isfinite(yj)).sum())
            notes[output].append(f"undefined (None/NaN) in {bad} of {len(yj)} sample rows: "
                                 "not analysed")
            continue
        if np.ptp(yj) == 0:
            notes[output].append(f"constant ({yj[0]:.6g}) over the sample: no variance to "
                                 "apportion, not analysed")
            continue
        if within_var is not None and spec.replicates > 1:
            total = float(np.var(yj, ddof=1))
            share = float(np.mean(within_var[:, j]) / spec.replicates / total)
            noise_share[output] = share
        for n, rows in ((spec.N // 2, half_rows), (spec.N, study.rows)):
            res = _salib_analyse(study, spec.method, x[:rows], yj[:rows])
            records += _rows(study, output, spec.method, n, res, main)
            if spec.method == "sobol" and spec.second_order:
                s2, s2c = np.asarray(res["S2"]), np.asarray(res["S2_conf"])
                for a in range(study.n_factors):
                    for b in range(a + 1, study.n_factors):
                        second.append({"output": output, "n": n, "factor_a": study.names[a],
                                       "factor_b": study.names[b], "value": float(s2[a, b]),
                                       "conf": float(s2c[a, b])})
        for extra in spec.also:
            res = _salib_analyse(study, extra, x, yj)
            records += _rows(study, output, extra, spec.N, res,
                             _DELTA if extra == "delta" else _PAWN)
    indices = _mark_noise(pd.DataFrame.from_records(
        records, columns=["output", "method", "n", "factor", "index", "value", "conf",
                          "low", "high"]), spec.dummy,
        SEED_FACTOR if spec.seed_factor else None)
    return Analysis(indices=indices,
                    second_order=pd.DataFrame.from_records(
                        second, columns=["output", "n", "factor_a", "factor_b", "value",
                                         "conf"]),
                    convergence=convergence(indices, spec.N, spec.method),
                    noise_share=noise_share, notes=notes)


def convergence(indices: pd.DataFrame, n: int, method: str) -> pd.DataFrame:
    """How far each main index moved from N/2 to N, beside its CI half-width at N."""
    main = indices[indices["method"] == method]
    half = main[main["n"] == n // 2].set_index(["output", "factor", "index"])
    full = main[main["n"] == n].set_index(["output", "factor", "index"])
    df = pd.DataFrame({"value_half": half["value"], "value_full": full["value"],
                       "conf_full": full["conf"]}).reset_index()
    df["change"] = (df["value_full"] - df["value_half"]).abs()
    df["within_ci"] = np.where(np.isfinite(df["conf_full"]),
                               df["change"] <= df["conf_full"], np.nan)
    return df[["output", "factor", "index", "value_half", "value_full", "change",
               "conf_full", "within_ci"]]
