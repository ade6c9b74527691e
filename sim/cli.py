"""The ``peacesim`` command line: parse arguments, call the library, report plainly.

No model logic lives here. User mistakes (bad scenario files, bad options) exit with status 2
and a one-paragraph message; unexpected failures exit with status 1 and a one-line message,
with the traceback only when ``PEACESIM_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
DEBUG_ENV = "PEACESIM_DEBUG"
# commands reserved for later; calling one says so instead of "invalid choice"
PLANNED: tuple[str, ...] = ()


class UsageError(Exception):
    """A mistake in how the command was called; reported without a traceback, exit 2."""


def _version() -> str:
    from sim import __version__

    return __version__


def _set_pair(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` from ``--set``; the value is read as TOML (bare words are strings)."""
    from sim.config.scenario import parse_value

    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise argparse.ArgumentTypeError(
            f"expected KEY=VALUE with a dotted key, e.g. --set world.width=100; got {text!r}"
        )
    return key, parse_value(value.strip())


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value}")
    return value


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def _add_runner_options(p: argparse.ArgumentParser, what: str, default_out: str,
                        resume_does: str) -> None:
    """Executor, output folder, resume and retry options shared by sweeps and studies."""
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=_non_negative, metavar="N",
        help="worker processes (default: one per CPU; 0 runs everything in this process)",
    )
    where.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786 (needs peacesim[dask])",
    )
    where.add_argument(
        "--dask-local", type=_positive, metavar="N",
        help="start a local Dask cluster of N single-threaded worker processes",
    )
    p.add_argument(
        "--out", type=Path, metavar="DIR",
        help=f"{what} folder (new or empty; default: {default_out})",
    )
    p.add_argument("--resume", action="store_true",
                   help=f"continue the {what} in --out DIR: {resume_does}")
    p.add_argument(
        "--retries", type=_non_negative, default=1, metavar="K",
        help="retry a run that raised up to K times (default 1; invalid parameters are not "
        "retried)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed so docs and tests can inspect it)."""
    parser = argparse.ArgumentParser(
        prog="peacesim",
        description="PeaceSim: agent-based peacekeeping simulation (Epstein 2002 on Mesa 3).",
    )
    parser.add_argument("--version", action="version", version=f"peacesim {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "run",
        help="run one scenario and write its results folder",
        description="Run one scenario; writes timeseries (parquet, csv), summary.json, "
        "manifest.json and plots/ into a results folder and prints that folder last.",
    )
    p.add_argument("scenario", metavar="SCENARIO", help="scenario TOML file")
    p.add_argument("--seed", type=_non_negative, help="root seed (default: the file's run.seed)")
    p.add_argument(
        "--ticks", type=_non_negative, help="ticks to simulate (default: the file's run.ticks)"
    )
    p.add_argument(
        "--strategy",
        metavar="FILE",
        help="strategy file laid over the scenario (e.g. scenarios/strategies/integrated.toml)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        type=_set_pair,
        action="append",
        default=[],
        help="override a parameter, e.g. --set unrest.legitimacy=0.7 (repeatable)",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (must be new or empty; default: results/<name>-seed<S>-<time>)",
    )
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    p.add_argument("--quiet", action="store_true", help="print only the output folder")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser(
        "validate",
        help="check scenario files without running them",
        description="Validate scenario files; exit status 0 if all are valid, 2 otherwise.",
    )
    p.add_argument("files", metavar="FILE", nargs="+", help="scenario TOML files")
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser(
        "sweep",
        help="run an experiment file: every context x strategy x design point x replication",
        description="Run an experiment (experiments/*.toml) into a sweep folder: per-run "
        "summaries and time series as partitioned Parquet, a manifest and failures.jsonl. "
        "Prints the folder last. Exit status 0 if every run finished, 1 if some failed.",
    )
    p.add_argument("experiment", metavar="EXPERIMENT", help="experiment TOML file")
    _add_runner_options(p, "sweep", "results/sweeps/<name>-<time>",
                        "keep finished runs, redo missing, failed or corrupt ones")
    p.add_argument("--quiet", action="store_true", help="no progress bar; print only the folder")
    p.set_defaults(handler=cmd_sweep)

    p = sub.add_parser(
        "compare",
        help="compare the strategies of a sweep: report.md, figures/, tables/",
        description="Write report.md (means and 95% CIs, paired differences against a "
        "reference strategy, ranking, Pareto set, time-series envelopes, post-exit relapse), "
        "figures/ and tables/ into the sweep folder; prints the report's path.",
    )
    p.add_argument("sweep_dir", metavar="SWEEP_DIR", type=Path, help="folder of a sweep")
    p.add_argument(
        "--reference", metavar="STRATEGY",
        help="strategy the others are compared with (default: the experiment's "
        "report.reference, else its first strategy)",
    )
    p.set_defaults(handler=cmd_compare)

    p = sub.add_parser(
        "sensitivity",
        help="global sensitivity analysis (SALib Sobol' or Morris) of a study file",
        description="Sample a sensitivity study (experiments/sobol_baseline.toml, "
        "experiments/morris_screening.toml), run every sample row on the sweep runner "
        "(resumable store, failures recorded, process pool or Dask), analyse with SALib and "
        "write indices (CSV, Parquet), plots and report.md into the study folder. Prints the "
        "report's path last. Exit status 0 when analysed, 1 if runs failed, 2 for bad input.",
    )
    p.add_argument("study", metavar="EXPERIMENT", help="sensitivity study TOML file")
    _add_runner_options(p, "study", "results/sensitivity/<name>-<time>",
                        "keep finished runs, redo missing, failed or corrupt ones, then "
                        "analyse")
    p.add_argument("--quiet", action="store_true", help="no progress bar; print only the report")
    p.set_defaults(handler=cmd_sensitivity)

    p = sub.add_parser(
        "calibrate",
        help="fit scenario parameters to observed statistics or event data (ABC-SMC, pyabc)",
        description="Calibrate a scenario with ABC-SMC (docs/calibration.md): priors on "
        "dotted-key parameters, targets given as numbers or computed from ACLED/UCDP event "
        "data, simulations on a process pool or Dask, resumable. Writes posterior.parquet, "
        "generations.csv, pairs.png, marginals.png, ppc.png/ppc.csv, report.md and "
        "manifest.json into the output folder; prints the report's path last. Exit status 0 "
        "when done, 1 if simulations kept failing, 2 for bad input.",
    )
    p.add_argument("calibration", metavar="FILE", help="calibration TOML file")
    _add_runner_options(p, "calibration", "results/calibration/<name>-<time>",
                        "continue from the last complete generation")
    p.add_argument("--quiet", action="store_true", help="no progress; print only the report")
    p.set_defaults(handler=cmd_calibrate)

    p = sub.add_parser(
        "viz",
        help="trainer app in the browser: live map, strategy levers, two strategies compared",
        description="Serve the trainer app (a Mesa SolaraViz app, sim/app.py) on HOST:PORT and "
        "open it in a browser. Pages: the trainer page (map, levers, live charts) and "
        "compare (two strategies on the same context and seed). Needs the viz extra: "
        "pip install -e '.[viz]'. Stop with Ctrl+C.",
    )
    p.add_argument(
        "scenario", metavar="SCENARIO", nargs="?",
        help="peacekeeping context to open with (default: scenarios/baseline.toml)",
    )
    p.add_argument("--host", default="localhost",
                   help="address to serve on (default localhost; 0.0.0.0 for the room's network)")
    p.add_argument("--port", type=_non_negative, default=8765,
                   help="port to serve on (default 8765; 0 picks a free one)")
    p.add_argument("--no-open", action="store_true", help="do not open a browser")
    p.set_defaults(handler=cmd_viz)

    # parsed by sim.bench.bench itself: main() hands it everything after the word "bench"
    p = sub.add_parser(
        "bench", help="performance benchmark (see: peacesim bench --help)", add_help=False
    )
    p.set_defaults(handler=lambda args: cmd_bench([]))
    return parser


# --------------------------------------------------------------------------- commands


def _print_summary(result: Any) -> None:
    """A few headline numbers; tolerant of missing keys so a report never fails a run."""
    s, sc = result.summary, result.scenario

    def get(key: str) -> Any:
        value = s.get(key)
        return "?" if value is None else value

    share = s.get("mean_share_active")
    share_txt = f"{share:.3f}" if isinstance(share, int | float) else "?"
    print(f"scenario      {sc.name}  (seed {result.seed}, {result.ticks} ticks, "
          f"{sc.world.width}x{sc.world.height} grid)")
    print(f"residents     {get('residents_initial')} at start, {get('residents_final')} at end")
    print(f"peak active   {get('peak_active')} at tick {get('peak_active_tick')}; "
          f"mean share active {share_txt}")
    print(f"arrests       {get('arrests_total')};  outbursts {get('outbursts')}")
    if "casualties_total" in s:
        ratio = s.get("relapse_ratio")
        ratio_txt = "no exit" if ratio is None else f"{ratio:.2f}"
        print(f"casualties    {get('casualties_total')} civilians;  attacks "
              f"{get('attacks_total')};  clashes {get('clashes_total')}")
        print(f"armed groups  {get('combatants_final')} fighters at end;  recruits "
              f"{get('recruits_total')}, disarmed {get('disarmed_total')}, relapses "
              f"{get('relapses_total')}")
        print(f"trust         peacekeepers {s['final_trust_pk']:.2f}, police "
              f"{s['final_trust_police']:.2f};  economy {s['final_economy']:.2f}")
        print(f"mission       {get('troop_weeks')} troop-weeks;  exit at tick "
              f"{get('exit_tick')};  post-exit violence ratio {ratio_txt}")
    if "killings_total" in s:
        extinct = s.get("extinct_group")
        fate = "no group extinct" if extinct is None else (
            f"group {extinct} extinct at tick {get('extinction_tick')}"
        )
        print(f"killings      {get('killings_total')};  {fate}")


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        raise UsageError(
            f"--out {out}: folder is not empty; choose a new or empty folder "
            "(or leave out --out for a fresh folder under results/)"
        )


def cmd_run(args: argparse.Namespace) -> int:
    """``peacesim run``: load, run, write, report."""
    from sim.config.scenario import load_scenario
    from sim.io import runner, store

    overrides = dict(args.overrides)
    scenario = load_scenario(args.scenario, overrides or None, strategy=args.strategy)
    if args.out is not None:
        _check_out(args.out)  # before the run: do not waste a long run on a bad folder
    seed = scenario.run.seed if args.seed is None else args.seed
    ticks = scenario.run.ticks if args.ticks is None else args.ticks
    if not args.quiet:
        print(f"running {scenario.name}: seed {seed}, {ticks} ticks ...", file=sys.stderr)
    result = runner.run(scenario, seed=seed, ticks=ticks, keep_model=True)
    out = args.out if args.out is not None else store.default_out_dir(scenario, seed)
    extra = {"overrides": overrides, "strategy_file": args.strategy,
             "command": ["peacesim", *args.argv]}
    store.write_run(result, out, scenario_path=args.scenario, plots=not args.no_plots,
                    extra=extra)
    if not args.quiet:
        _print_summary(result)
    print(out)
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """``peacesim validate``: report every file, fail if any is invalid."""
    from sim.config.scenario import ScenarioError, load_scenario

    status = EXIT_OK
    for f in args.files:
        try:
            load_scenario(f)
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = EXIT_USAGE
        else:
            print(f"OK {f}")
    return status


def _runner_options(args: argparse.Namespace, what: str) -> dict[str, Any]:
    """The options of :func:`_add_runner_options` as keyword arguments of ``run_sweep`` and
    ``run_study``."""
    if args.resume and args.out is None:
        raise UsageError(f"--resume needs --out DIR: the folder of the {what} to continue")
    return {"out": args.out, "workers": args.workers, "scheduler": args.scheduler,
            "dask_local": args.dask_local, "resume": args.resume, "retries": args.retries,
            "progress": not args.quiet, "quiet": args.quiet,
            "command": ["peacesim", *args.argv]}


def cmd_sweep(args: argparse.Namespace) -> int:
    """``peacesim sweep``: run or resume an experiment's sweep."""
    from sim.experiments.store import StoreError
    from sim.experiments.sweep import SweepError, run_sweep

    try:
        stats = run_sweep(args.experiment, **_runner_options(args, "sweep"))
    except (SweepError, StoreError) as exc:
        raise UsageError(str(exc)) from None
    if not args.quiet:
        failed = len(stats.failed)
        print(f"sweep finished: {stats.done} run(s) done now, {stats.skipped} already done, "
              f"{failed} failed" + (f" (tracebacks in {stats.out / 'failures.jsonl'}; "
                                    "rerun with --resume to retry them)" if failed else ""),
              file=sys.stderr)
    print(stats.out)
    return EXIT_FAILURE if stats.failed else EXIT_OK


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """``peacesim sensitivity``: sample, run, analyse a study."""
    from sim.experiments.store import StoreError
    from sim.experiments.sweep import SweepError
    from sim.sensitivity.study import IncompleteStudy, run_study

    try:
        res = run_study(args.study, **_runner_options(args, "study"))
    except (SweepError, StoreError) as exc:
        raise UsageError(str(exc)) from None
    except IncompleteStudy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if not args.quiet:
        print(f"sensitivity study finished in {res.seconds:.1f} s: {res.stats.done} run(s) "
              f"now, {res.stats.skipped} from before; indices, plots and report in {res.out}",
              file=sys.stderr)
    print(res.out / "report.md")
    return EXIT_OK


def cmd_calibrate(args: argparse.Namespace) -> int:
    """``peacesim calibrate``: run or resume an ABC-SMC calibration."""
    import importlib.util

    if importlib.util.find_spec("pyabc") is None:
        raise UsageError("calibration needs pyabc (the analysis extra): "
                         "pip install -e '.[analysis]'")
    from sim.calibration import CalibrationFailed, calibrate
    from sim.experiments.sweep import SweepError

    try:
        res = calibrate(args.calibration, **_runner_options(args, "calibration"))
    except SweepError as exc:
        raise UsageError(str(exc)) from None
    except CalibrationFailed as exc:
        print(f"error: {exc}; complete generations are kept: fix the cause and rerun with "
              f"--out {args.out or 'DIR'} --resume", file=sys.stderr)
        return EXIT_FAILURE
    print(res.paths["report"])
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    """``peacesim compare``: write the comparison report of a sweep."""
    from sim.experiments.compare import compare
    from sim.experiments.store import StoreError

    try:
        report = compare(args.sweep_dir, reference=args.reference)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    print(report)
    return EXIT_OK


def cmd_viz(args: argparse.Namespace) -> int:
    """``peacesim viz``: check the scenario, then run the solara server on :mod:`sim.viz.app`."""
    import importlib.util
    import subprocess

    missing = [m for m in ("solara", "solara_assets") if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(
            f"the trainer app needs the viz extra ({', '.join(missing)} not installed); "
            "install it with: pip install -e '.[viz]'  (make venv installs it too)"
        )
    env = dict(os.environ)
    if args.scenario is not None:
        from sim.viz.trainer import SCENARIO_ENV, settings_from_files

        settings_from_files(args.scenario)  # a bad file fails here, with the usual message
        env[SCENARIO_ENV] = str(Path(args.scenario).resolve())
    # --no-check-version: solara is pinned on purpose (solara-assets), and offline the check
    # only costs time
    cmd = [sys.executable, "-m", "solara", "run", "sim.viz.app", "--host", args.host,
           "--port", str(args.port), "--production", "--no-check-version",
           "--no-open" if args.no_open else "--open"]
    where = f"http://{args.host}:{args.port}/" if args.port else "a free port"
    print(f"PeaceSim trainer app on {where} (Ctrl+C stops it)", file=sys.stderr)
    return subprocess.call(cmd, env=env)


def cmd_bench(argv: list[str]) -> int:
    """``peacesim bench``: hand over to :mod:`sim.bench.bench` (imported only now)."""
    try:
        from sim.bench import bench
    except ImportError as exc:  # keep the rest of the CLI usable if the benchmark is broken
        print(f"error: peacesim bench is unavailable: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return int(bench.main(argv) or 0)


# --------------------------------------------------------------------------- entry point


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] == "bench":
        return cmd_bench(argv[1:])
    if argv and argv[0] in PLANNED:
        raise UsageError(f"'{argv[0]}' is planned but not implemented yet")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors: argparse already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    args.argv = argv
    return int(args.handler(args))


def main(argv: list[str] | None = None) -> int:
    """Run the ``peacesim`` command; returns the exit status (the console script exits with it)."""
    from sim.config.scenario import ScenarioError

    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return _dispatch(argv)
    except (ScenarioError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            raise
        lines = str(exc).strip().splitlines()
        detail = f": {lines[0]}" if lines else ""
        print(f"error: {type(exc).__name__}{detail}", file=sys.stderr)
        print(f"(rerun with {DEBUG_ENV}=1 for the traceback)", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    raise SystemExit(main())
