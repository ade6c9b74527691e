"""Robust strategy search: the Pareto front of a mission's objectives over its strategy levers.

``peacesim optimize FILE`` (or :func:`optimize` from Python) searches the levers that an
optimisation file names (:mod:`sim.config.optimize`) with NSGA-II or NSGA-III from pymoo,
through its ask-and-tell interface: the algorithm asks for a generation of candidates, this
module simulates them on the sweep runner's executors and tells it their objectives.

Evaluation. A candidate is a point of the unit box, decoded into lever values
(:meth:`~sim.config.optimize.Optimization.decode`). It runs in every future of the file's
fixed sample with the file's replicate seeds, the same for every candidate (common random
numbers: candidates differ by their levers, not by their luck). Per future, an outcome is the
mean over the replicates; per objective, the futures' values are aggregated by the mean, the
median or a percentile. A candidate lacking an objective's value in some future (a relapse
ratio without an exit), or whose levers make an invalid scenario, is *infeasible*: pymoo ranks
it below every feasible one (a constraint violation), and it never enters the front.

Runs. Each generation is a design (candidate x future x replicate) executed by
:func:`sim.experiments.sweep.execute_design` into the optimisation folder, which is a sweep
store: one summary file per run named by its content key, written as runs finish. Identical
candidates share their runs.

Resume. Nothing but the runs needs saving: the algorithm is seeded, so given the same
objectives it asks for the same candidates. ``--resume`` replays the search from the start,
reading every stored run instead of running it again, and runs only what is missing; a
search killed at any point (even SIGKILL) and resumed ends with exactly the front of an
uninterrupted one. ``evaluations.parquet`` is rewritten after every generation.

The front. Every distinct feasible candidate evaluated that no other beats on all
objectives at once. The knee (balanced point) is the member nearest the ideal point once each
objective is scaled from its best to its worst value on the front.

Outputs in the folder: ``front.csv`` (levers and objectives per member),
``evaluations.parquet`` (every candidate), ``generations.csv``, ``strategies/front_NN.toml``
(strategy files that ``peacesim validate`` accepts and ``peacesim run --strategy`` runs),
``figures/`` (parallel coordinates, objective pairs, convergence), ``report.md`` and a
self-contained ``report.html``, ``manifest.json``.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config.optimize import (
    Optimization,
    OptimizeError,
    load_optimization,
    reference_directions,
)
from sim.config.scenario import ScenarioError, build_scenario
from sim.experiments import outcomes as oc
from sim.experiments.front import (
    OptimizeResult,
    front_mask,
    knee_index,
    minimised,
    nondominated,
)
from sim.experiments.store import (
    DESIGN,
    MANIFEST,
    StoreError,
    model_version,
    read_manifest,
    read_summaries,
    run_key,
)
from sim.experiments.sweep import (
    SweepError,
    TLSFiles,
    _silent,
    claim_out,
    execute_design,
    open_pool,
)
from sim.io.manifest import canonical_json
from sim.io.store import atomic_path, write_json

KIND = "peacesim-optimization"
FILE_COPY = "optimize.toml"
#: a run's id: generation x this + its row in the generation's design
RUN_ID_STRIDE = 10_000_000
#: runs keep their summary only (no per-tick series)
KEEP = {"summary_keys": None, "metrics": [], "every": 1, "burn_in": 0}


class OptimizeFailed(RuntimeError):
    """Simulations failed for good (CLI: exit 1); finished runs stay stored: fix the cause
    and ``--resume``."""


# --------------------------------------------------------------------------- algorithm


def default_partitions(n_obj: int, population: int) -> int:
    """NSGA-III: the most Das-Dennis partitions whose reference directions still fit the
    population (one candidate per direction at least)."""
    p = 1
    while reference_directions(n_obj, p + 1) <= population:
        p += 1
    return p


def make_algorithm(opt: Optimization) -> tuple[Any, Any]:
    """(algorithm set up on the problem, problem): NSGA-II or NSGA-III on the unit box with
    one inequality constraint (missing objectives), seeded with the file's seed."""
    from pymoo.core.problem import Problem

    alg = opt.spec.algorithm
    n_obj = len(opt.objectives)
    problem = Problem(n_var=opt.n_var, n_obj=n_obj, n_ieq_constr=1,
                      xl=np.zeros(opt.n_var), xu=np.ones(opt.n_var))
    if alg.name == "nsga3":
        from pymoo.algorithms.moo.nsga3 import NSGA3
        from pymoo.util.ref_dirs import get_reference_directions

        p = alg.partitions or default_partitions(n_obj, alg.population)
        dirs = get_reference_directions("das-dennis", n_obj, n_partitions=p)
        algorithm = NSGA3(ref_dirs=dirs, pop_size=alg.population)
    else:
        from pymoo.algorithms.moo.nsga2 import NSGA2

        algorithm = NSGA2(pop_size=alg.population)
    algorithm.setup(problem, termination=("n_gen", alg.generations), seed=opt.seed,
                    verbose=False)
    return algorithm, problem


# --------------------------------------------------------------------------- evaluation


def candidate_label(decoded: dict[str, Any]) -> str:
    """A candidate's name in the store: a hash of its decoded lever values (identical
    candidates share their runs)."""
    return "c" + hashlib.sha256(canonical_json(decoded).encode()).hexdigest()[:12]


@dataclass
class Generation:
    """One generation's candidates and the runs that evaluate them."""

    number: int  #: 1 for the first generation
    x: np.ndarray
    decoded: list[dict[str, Any]]
    labels: list[str]
    invalid: dict[int, str]  #: candidate -> why its levers make no valid scenario
    design: pd.DataFrame
    cells: dict[tuple[str, str, int], dict[str, Any]]


def plan_generation(opt: Optimization, number: int, x: np.ndarray, version: str
                    ) -> Generation:
    """The design of one generation: candidate x future x replicate, with content keys."""
    context = opt.name
    rows: list[dict[str, Any]] = []
    cells: dict[tuple[str, str, int], dict[str, Any]] = {}
    decoded = [opt.decode(xi) for xi in x]
    labels = [candidate_label(d) for d in decoded]
    invalid: dict[int, str] = {}
    params: dict[tuple[str, int], Any] = {}
    for i, (d, label) in enumerate(zip(decoded, labels, strict=True)):
        for f in range(len(opt.futures)):
            overrides = opt.overrides(d, f)
            if (label, f) not in params:
                try:
                    params[(label, f)] = build_scenario(opt.base_data, opt.source, overrides
                                                        ).model_dump(mode="json")
                except ScenarioError as exc:
                    params[(label, f)] = None
                    invalid.setdefault(i, str(exc).splitlines()[-1].strip())
            if params[(label, f)] is None:
                invalid.setdefault(i, "invalid scenario")
                continue
            cells[(context, label, f)] = {"data": opt.base_data, "source": opt.source,
                                          "overrides": overrides}
            for r, seed in enumerate(opt.seeds):
                rows.append({"key": run_key(params[(label, f)], seed, opt.ticks, KEEP,
                                            version),
                             "context": context, "strategy": label, "point": f,
                             "replicate": r, "seed": seed, "ticks": opt.ticks,
                             **opt.futures[f], "generation": number, "candidate": i})
    cols = ["key", "context", "strategy", "point", "replicate", "seed", "ticks",
            *opt.factor_keys, "generation", "candidate"]
    design = pd.DataFrame(rows, columns=cols)
    design.insert(0, "run_id", number * RUN_ID_STRIDE + np.arange(len(design), dtype=np.int64))
    for col in ("run_id", "point", "replicate", "seed", "ticks", "generation", "candidate"):
        design[col] = design[col].astype(np.int64)
    return Generation(number, x, decoded, labels, invalid, design, cells)


def objective_values(opt: Optimization, gen: Generation, runs: pd.DataFrame
                     ) -> tuple[np.ndarray, list[str]]:
    """(values, notes): each candidate's objectives in their own units (NaN where missing)
    and, for an infeasible candidate, why."""
    n, m = len(gen.labels), len(opt.objectives)
    values = np.full((n, m), np.nan)
    notes = [""] * n
    for i in range(n):
        if i in gen.invalid:
            notes[i] = f"invalid scenario: {gen.invalid[i]}"
            continue
        mine = runs[runs["candidate"] == i]
        for j, obj in enumerate(opt.objectives):
            if obj.outcome not in mine:
                per_future = np.full(len(opt.futures), np.nan)
            else:
                v = pd.to_numeric(mine[obj.outcome], errors="coerce")
                per_future = (v.groupby(mine["point"]).mean()
                              .reindex(range(len(opt.futures))).to_numpy(dtype=float))
            values[i, j] = obj.reduce(per_future)
        missing = [o.outcome for j, o in enumerate(opt.objectives) if np.isnan(values[i, j])]
        if missing:
            notes[i] = (f"no value of {', '.join(missing)} in some future"
                        + (" (the mission did not leave)" if any(
                            oc.outcome(k).after_exit for k in missing) else ""))
    return values, notes




# --------------------------------------------------------------------------- folder


def _check_resume_folder(opt: Optimization, out: Path) -> None:
    """A clear refusal when ``--resume`` points at something else than this optimisation."""
    if not (out / MANIFEST).is_file():
        return  # claim_out says what is wrong
    manifest = read_manifest(out)
    if manifest.get("kind") != KIND:
        raise OptimizeError(f"--resume {out}: the folder holds a {manifest.get('kind', 'run')} "
                            "folder, not an optimisation; start a new folder")
    if manifest.get("experiment_sha256") != opt.sha256:
        raise OptimizeError(
            f"--resume {out}: the folder holds an optimisation of a different file (sha256 "
            f"{str(manifest.get('experiment_sha256'))[:12]}..., now {opt.sha256[:12]}...); "
            "start a new folder")


def _init_folder(opt: Optimization, out: Path, resume: bool, info: dict[str, Any]) -> None:
    """Write (or, resuming, extend) ``manifest.json``; copy the file on a new start."""
    import platform
    import sys

    import sim
    from sim.io.manifest import PACKAGES, git_state, package_versions

    session = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "resume": resume,
               "model_version": model_version(), **info}
    if resume:
        manifest = read_manifest(out)
        if manifest.get("model_version") != model_version():
            session["note"] = (f"model version changed from {manifest.get('model_version')}: "
                               "the search is replayed with the new model (earlier runs have "
                               "other keys and are not reused)")
        manifest["model_version"] = model_version()
        manifest.setdefault("sessions", []).append(session)
    else:
        manifest = {
            "kind": KIND, "created": session["started"],
            "experiment_file": str(opt.path), "experiment_sha256": opt.sha256,
            "name": opt.name, "description": opt.spec.description,
            "context_file": str(opt.context_path),
            "strategy_file": None if opt.strategy_path is None else str(opt.strategy_path),
            "ticks": opt.ticks, "seed": opt.spec.seed, "algorithm_seed": opt.seed,
            "algorithm": opt.spec.algorithm.model_dump(),
            "variables": opt.variables, "factors": opt.factor_keys,
            "futures": list(opt.futures), "replicate_seeds": list(opt.seeds),
            "objectives": [o.model_dump() | {"column": o.column, "better": o.better}
                           for o in opt.objectives],
            "design": "optimisation", "seed_policy": "common",
            "replications": len(opt.seeds), "model_version": model_version(),
            "peacesim_version": sim.__version__, "python_version": platform.python_version(),
            "platform": platform.platform(), "executable": sys.executable,
            "packages": package_versions((*PACKAGES, "pymoo", "dask", "distributed")),
            "git": git_state(), "sessions": [session],
        }
        shutil.copyfile(opt.path, out / FILE_COPY)
    write_json(out / MANIFEST, manifest)


def _record_timing(out: Path, timing: dict[str, float]) -> None:
    """This session's timing into its entry of ``manifest.json`` (the report sums them)."""
    manifest = read_manifest(out)
    sessions = manifest.setdefault("sessions", [{}])
    sessions[-1]["timing"] = {k: round(v, 3) for k, v in timing.items()
                              if isinstance(v, float | int) and math.isfinite(v)}
    write_json(out / MANIFEST, manifest)


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)


def probe(opt: Optimization) -> None:
    """Run the base scenario one tick (this compiles the kernels before workers start) and
    check that every objective's outcome is a key of a run's summary."""
    from sim.io.runner import run

    sc = build_scenario(opt.base_data, opt.source, opt.overrides(opt.decode(
        np.full(opt.n_var, 0.5)), 0))
    summary = run(sc, seed=0, ticks=1).summary
    keys = set(summary) | {"casualties_per_100k", "stabilised"}
    for i, o in enumerate(opt.objectives):
        if o.outcome not in keys:
            import difflib

            close = difflib.get_close_matches(o.outcome, sorted(keys), n=3)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            raise OptimizeError(f"{opt.path}: objectives[{i}].outcome = {o.outcome!r}: not a "
                                f"key of a run's summary; {hint}available: "
                                f"{', '.join(sorted(summary))}")


# --------------------------------------------------------------------------- driver


def optimize(
    file: str | Path,
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
) -> OptimizeResult:
    """Run (or, with ``resume``, finish) the search of an optimisation file into ``out``
    (default ``results/optimize/<name>-<time>``) and write the front, its strategy files,
    figures and report there.

    Raises :class:`~sim.config.optimize.OptimizeError` (bad file or folder, exit 2) and
    :class:`OptimizeFailed` (simulations failed for good, exit 1). Like any code that starts
    worker processes, a script calling this with a process pool must do so under
    ``if __name__ == "__main__":``.
    """
    t0, cpu0 = time.perf_counter(), time.process_time()
    log = log or _silent
    opt = load_optimization(file)
    try:
        import pymoo  # noqa: F401
    except ImportError:
        raise OptimizeError("optimisation needs pymoo (the analysis extra): "
                            "pip install -e '.[analysis]'") from None
    if resume and out is not None:
        _check_resume_folder(opt, Path(out))
    executor = ("serial" if workers == 0 and not (scheduler or dask_local) else
                scheduler or (f"dask-local {dask_local}" if dask_local else
                              f"process pool {workers or 'auto'}"))
    try:
        with claim_out(out, resume=resume, what="optimisation", name=opt.name,
                       root="results/optimize", store_id=opt.sha256,
                       command=command) as folder:
            log(f"checking {opt.name} (the first run after an install compiles the model: "
                "~1 min)")
            probe(opt)
            _init_folder(opt, folder, resume, {"command": command, "executor": executor})
            timing: dict[str, float] = {"setup_s": time.perf_counter() - t0}
            with open_pool(workers, scheduler, dask_local, tls=tls, log=log) as pool:
                evaluations, gens = _search(opt, folder, pool, retries, progress, log, timing)
            timing["total_s"] = time.perf_counter() - t0
            timing["coordinator_cpu_s"] = time.process_time() - cpu0
            timing["load_average"] = os.getloadavg()[0] if hasattr(os, "getloadavg") \
                else math.nan
            _record_timing(folder, timing)
            from sim.experiments import optimize_report as report

            result = report.write_outputs(opt, folder, evaluations, gens, timing)
    except (StoreError, SweepError) as exc:
        raise OptimizeError(str(exc)) from None
    log(f"optimisation finished in {timing['total_s']:.0f} s: {len(result.front)} front "
        f"member(s); {result.paths['report']}")
    return result


def _search(opt: Optimization, out: Path, pool: Any, retries: int, progress: bool,
            log: Callable[[str], None], timing: dict[str, float]
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ask, run, tell, generation after generation; returns (evaluations, generations)."""
    from pymoo.core.evaluator import Evaluator
    from pymoo.problems.static import StaticProblem

    algorithm, problem = make_algorithm(opt)
    version = model_version()
    total = opt.spec.algorithm.generations
    evals: list[pd.DataFrame] = []
    designs: list[pd.DataFrame] = []
    gen_rows: list[dict[str, Any]] = []
    timing.update(runs_now=0, runs_before=0, worker_s=0.0, search_s=0.0)
    for g in range(total):
        t_gen = time.perf_counter()
        pop = algorithm.ask()
        gen = plan_generation(opt, g + 1, pop.get("X"), version)
        designs.append(gen.design)  # before running: a killed session leaves a store
        _write_parquet(pd.concat(designs, ignore_index=True), out / DESIGN)
        stats = execute_design(gen.design, gen.cells, KEEP, out, opt.factor_keys,
                               resume=True, retries=retries, progress=progress,
                               desc=f"generation {g + 1}/{total}", pool=pool)
        if stats.failed:
            raise OptimizeFailed(
                f"{len(stats.failed)} simulation(s) of generation {g + 1} failed for good "
                f"(tracebacks in {out / 'failures.jsonl'}); finished runs are stored: fix "
                f"the cause and rerun with --out {out} --resume")
        runs = read_summaries(out, gen.design)
        values, notes = objective_values(opt, gen, runs)
        feasible = ~np.isnan(values).any(axis=1)
        f = np.where(feasible[:, None], minimised(opt, values), 0.0)
        g_cv = np.where(feasible, 0.0, 1.0)[:, None]
        Evaluator().eval(StaticProblem(problem, F=f, G=g_cv), pop)
        algorithm.tell(infills=pop)
        ev = pd.DataFrame({"generation": g + 1, "candidate": np.arange(len(gen.labels)),
                           "label": gen.labels, "feasible": feasible, "note": notes})
        for name in opt.variables:
            ev[name] = [d[name] for d in gen.decoded]
        for j, o in enumerate(opt.objectives):
            ev[o.column] = values[:, j]
        evals.append(ev)
        evaluations = pd.concat(evals, ignore_index=True)
        _write_parquet(evaluations, out / "evaluations.parquet")
        wall = time.perf_counter() - t_gen
        timing["runs_now"] += stats.done
        timing["runs_before"] += stats.skipped
        timing["worker_s"] += stats.run_time_s
        timing["search_s"] += wall
        front_size = int(front_mask(opt, evaluations).sum())
        gen_rows.append({"generation": g + 1, "candidates": len(gen.labels),
                         "infeasible": int((~feasible).sum()), "runs": stats.distinct,
                         "runs_now": stats.done, "runs_stored_before": stats.skipped,
                         "front_so_far": front_size, "wall_s": wall})
        log(f"generation {g + 1}/{total}: {len(gen.labels)} candidates, {stats.done} run(s) "
            f"now, {stats.skipped} stored before; front so far {front_size} member(s); "
            f"{wall:.1f} s")
    return pd.concat(evals, ignore_index=True), pd.DataFrame(gen_rows)


__all__ = ["KIND", "OptimizeFailed", "OptimizeResult", "candidate_label", "default_partitions",
           "front_mask", "knee_index", "make_algorithm", "nondominated", "objective_values",
           "optimize", "plan_generation"]

