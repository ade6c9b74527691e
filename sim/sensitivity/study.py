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
import io
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config.base import flatten as _flatten
from sim.config.scenario import ScenarioError, build_scenario, check_run_length
from sim.config.study import (  # noqa: F401 (the study schema lives in sim.config.study)
    ANALYSIS_KEYS,
    DIST_ARITY,
    DIST_MEANING,
    DISTS,
    EXTRA_ANALYSES,
    FUNCTION_CONTEXT,
    METHODS,
    SEED_FACTOR,
    SAFactor,
    SensitivityError,
    Study,
    StudySpec,
    load_study,
    rescaled_roles,
)
from sim.config.study import cast as _cast
from sim.experiments.store import (
    init_store,
    model_version,
    read_summaries,
    run_key,
)
from sim.experiments.sweep import (
    SweepStats,
    TLSFiles,
    _silent,
    claim_out,
    execute_design,
    write_session_status,
)
from sim.io.store import atomic_write_bytes
from sim.sensitivity.testfunctions import call_function


class IncompleteStudy(RuntimeError):
    """Runs failed, so the indices cannot be computed yet (CLI: exit 1); the finished runs
    are stored: fix the cause and resume."""


def _build(data: dict[str, Any], source: str, overrides: dict[str, Any]) -> Any:
    try:
        return build_scenario(data, source, overrides, override_label="from the study")
    except ScenarioError as exc:
        raise SensitivityError(str(exc)) from None


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
        overrides = rescaled_roles({**fixed, **dict(zip(factor_keys, vals, strict=True))},
                                   study.spec.factors, study.roles)
        if study.spec.function is not None:
            cells[(study.context, study.strategy, p)] = {"function": study.spec.function,
                                                         "overrides": overrides}
            params: Any = {"function": study.spec.function, "values": overrides}
        else:
            cells[(study.context, study.strategy, p)] = {"data": study.data,
                                                         "source": study.source,
                                                         "overrides": overrides}
            try:
                scenario = build_scenario(study.data, study.source, overrides)
                check_run_length(scenario, study.ticks, study.source)
                params = scenario.model_dump(mode="json")
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
    tls: TLSFiles | None = None,
    resume: bool = False,
    retries: int = 1,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
    command: list[str] | None = None,
) -> StudyResult:
    """Sample, run (or, with ``resume``, finish) and analyse a study into ``out``.

    The folder is checked and locked before anything runs, as for sweeps
    (:func:`sim.experiments.sweep.claim_out`); ``log`` and ``progress`` as there (the library
    prints nothing by default). A script calling this with a process pool must do so under
    ``if __name__ == "__main__":``.
    """
    from sim.sensitivity.report import write_outputs

    t0 = time.perf_counter()
    log = log or _silent
    study = load_study(path)
    with claim_out(out, resume=resume, what="study", name=study.name,
                   root="results/sensitivity", store_id=study.runs_sha256,
                   command=command) as out:
        log(f"checking {study.name} (the first run after an install compiles the model: "
            "~1 min)")
        probe(study)
        x = sample(study)
        design, cells = plan(study, x)
        keep = keep_spec(study)
        executor = scheduler or (f"dask-local {dask_local}" if dask_local else
                                 f"workers {workers if workers is not None else 'auto'}")
        init_store(out, study.path, study.runs_sha256, design,
                   {"experiment_name": study.name, "kind": "sensitivity",
                    "description": study.spec.description, "model_version": model_version(),
                    "runs": len(design), "method": study.spec.method, "N": study.spec.N,
                    "replicates": study.spec.replicates, "seed": study.spec.seed,
                    "seed_policy": study.spec.seed_policy, "factors": study.keys,
                    "keep": keep, "command": command, "executor": executor}, resume)
        atomic_write_bytes(out / "study.toml", study.path.read_bytes())  # as analysed last
        log(f"{study.spec.method} study: {study.model_factors} factors + "
            f"{' and '.join(study.references)}, N = "
            f"{study.spec.N}, {study.rows} sample rows x {study.spec.replicates} replicate(s)")
        stats = execute_design(design, cells, keep, out, study.keys, workers=workers,
                               scheduler=scheduler, dask_local=dask_local, tls=tls,
                               resume=resume, retries=retries, progress=progress, log=log,
                               desc=study.name)
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
    value_half, value_full, change, conf_full, within_ci. ``notes``: output -> remarks.
    ``skipped``: output -> why it has no indices (constant over the sample, or undefined in
    some rows); every other output is analysed.
    """

    indices: pd.DataFrame
    second_order: pd.DataFrame
    convergence: pd.DataFrame
    noise_share: dict[str, float | None]
    notes: dict[str, list[str]]
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def analysed(self) -> list[str]:
        """Outputs that have indices, in the study's order."""
        return [o for o in self.notes if o not in self.skipped]


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
    skipped: dict[str, str] = {}
    noise_share: dict[str, float | None] = {}
    main = _SOBOL if spec.method == "sobol" else _MORRIS
    for j, output in enumerate(spec.outputs):
        yj = y[:, j]
        noise_share[output] = None
        if not np.all(np.isfinite(yj)):
            bad = int((~np.isfinite(yj)).sum())
            skipped[output] = (f"undefined (None/NaN) in {bad} of {len(yj)} sample rows: its "
                               "indices cannot be computed, not analysed")
            notes[output].append(skipped[output])
            continue
        if np.ptp(yj) == 0:
            skipped[output] = (f"constant ({yj[0]:.6g}) over the whole sample: no variance to "
                               "apportion, so its indices are undefined; not analysed")
            notes[output].append(skipped[output])
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
                    noise_share=noise_share, notes=notes, skipped=skipped)


def convergence(indices: pd.DataFrame, n: int, method: str) -> pd.DataFrame:
    """How far each main index moved from N/2 to N, beside its CI half-width at N."""
    columns = ["output", "factor", "index", "value_half", "value_full", "change",
               "conf_full", "within_ci"]
    main = indices[indices["method"] == method]
    if main.empty:  # no output could be analysed
        return pd.DataFrame({c: pd.Series(dtype=object if c in columns[:3] else float)
                             for c in columns})
    half = main[main["n"] == n // 2].set_index(["output", "factor", "index"])
    full = main[main["n"] == n].set_index(["output", "factor", "index"])
    df = pd.DataFrame({"value_half": half["value"], "value_full": full["value"],
                       "conf_full": full["conf"]}).reset_index()
    df["change"] = (df["value_full"] - df["value_half"]).abs()
    df["within_ci"] = np.where(np.isfinite(df["conf_full"]),
                               df["change"] <= df["conf_full"], np.nan)
    return df[columns]
