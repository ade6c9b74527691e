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
DEFAULT_RESULTS = Path("results")  # where `peacesim run` writes without --out
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
    tls = p.add_argument_group(
        "TLS for --scheduler",
        "Anyone who can reach a Dask scheduler can run any code on its workers: secure a "
        "cluster that others can reach with TLS (a tls:// address; see docs/cluster.md). "
        "Without these options Dask's own configuration (distributed.comm.tls) applies.")
    tls.add_argument("--tls-ca-file", metavar="PEM",
                     help="certificate of the CA that signed the cluster's certificates")
    tls.add_argument("--tls-cert", metavar="PEM", help="this client's certificate")
    tls.add_argument("--tls-key", metavar="PEM",
                     help="this client's private key (if not appended to --tls-cert)")


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
        help="output folder (new or empty; default: "
        "results/<scenario>[-<strategy>]-seed<S>-<time>)",
    )
    p.add_argument(
        "--overwrite", action="store_true",
        help="replace --out DIR if it holds a previous run (never any other folder); the old "
        "run is deleted only once the new one is written",
    )
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    p.add_argument("--quiet", action="store_true", help="print only the output folder")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser(
        "replay",
        help="re-run a training exercise's log and write its results folder",
        description="Re-run an exercise log (JSON, saved by the trainer app or "
        "sim.model.exercise.Exercise.save): its scenario and seed with the instructor's "
        "injects and lever changes as events, for the weeks the exercise ran. Writes the same "
        "outputs as 'peacesim run' (timeseries, summary, manifest, events.csv, plots) and "
        "prints the folder last. Exit status 0 when the time series is the exercise's bit for "
        "bit (its digest is in the log), 1 if it is not, 2 for a bad log or options.",
    )
    p.add_argument("log", metavar="LOG", help="exercise log (JSON)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="output folder (new or empty; default: "
                   "results/<scenario>-replay-seed<S>-<time>)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace --out DIR if it holds a previous run (never any other folder)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    p.add_argument("--debrief", action="store_true",
                   help="also write the one-page debrief (debrief.png, debrief.pdf) with every "
                   "inject and lever change marked")
    p.add_argument("--animation", choices=("gif", "mp4"),
                   help="also write the map over the exercise as map.gif or map.mp4 (MP4 "
                   "needs imageio-ffmpeg, part of the viz extra)")
    p.add_argument("--layer", choices=("violence", "economy", "trust"), default="violence",
                   help="the map layer of --animation (default violence)")
    p.add_argument("--quiet", action="store_true", help="print only the output folder")
    p.set_defaults(handler=cmd_replay)

    p = sub.add_parser(
        "validate",
        help="check scenario, strategy, experiment, study, calibration and optimisation files "
        "without running them",
        description="Validate configuration files: scenarios, strategies, experiments, "
        "sensitivity studies, calibration files and optimisations, each recognised by its "
        "content. Prints 'OK FILE (kind)' for each valid file and the problems of each invalid "
        "one; exit status 0 if all are valid, 2 otherwise. Scenarios are checked for a run of "
        "their own run.ticks. A calibration's run statistics are checked when it starts (a "
        "one-tick probe run): validate never runs the model.",
    )
    p.add_argument("files", metavar="FILE", nargs="+",
                   help="scenario, strategy, experiment, study, calibration or optimisation "
                   "TOML files")
    p.add_argument(
        "--strategy", metavar="FILE",
        help="strategy file laid over each scenario file, as in 'peacesim run --strategy'",
    )
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
        help="compare the strategies of a sweep: report.md, report.html, figures/, tables/",
        description="Write report.md and a self-contained report.html (headline per context, "
        "glossary, means and 95%% CIs, paired differences against a reference strategy, "
        "cost-effectiveness, trade-offs with confidence, distributions, time-series "
        "envelopes, post-exit relapse), figures/ and tables/ into the sweep folder; prints "
        "the Markdown report's path.",
    )
    p.add_argument("sweep_dir", metavar="SWEEP_DIR", type=Path, help="folder of a sweep")
    p.add_argument(
        "--reference", metavar="STRATEGY",
        help="strategy the others are compared with (default: the experiment's "
        "report.reference, else its first strategy)",
    )
    p.add_argument("--outcome", dest="outcomes", metavar="KEY", action="append",
                   help="key outcome to report (repeatable; default: the experiment's "
                   "report.outcomes, else civilian casualties, troop-weeks, economy, ...)")
    p.add_argument("--headline", metavar="KEY",
                   help="outcome the headline ranks strategies by (default casualties_total)")
    p.set_defaults(handler=cmd_compare)

    p = sub.add_parser(
        "discover",
        help="scenario discovery on a sweep: under which conditions does an outcome occur?",
        description="PRIM (peeling trajectory, coverage/density trade-off, box limits, "
        "quasi-p-values, a chosen box) and a CART tree over the sweep's uncertain factors, "
        "for the runs whose OUTCOME is above or below a threshold (EMA Workbench). Writes "
        "report.md, report.html, boxes.csv, tables and figures into SWEEP_DIR/discovery/ "
        "(or --out) and prints the report's path.",
    )
    p.add_argument("sweep_dir", metavar="SWEEP_DIR", type=Path, help="folder of a sweep")
    p.add_argument("--outcome", required=True, metavar="KEY",
                   help="summary key that defines the runs of interest, e.g. casualties_total")
    side = p.add_mutually_exclusive_group(required=True)
    side.add_argument("--above", type=float, metavar="X", help="runs of interest: OUTCOME > X")
    side.add_argument("--below", type=float, metavar="X", help="runs of interest: OUTCOME < X")
    p.add_argument("--strategy", metavar="NAME", help="only the runs of this strategy")
    p.add_argument("--context", metavar="NAME", help="only the runs of this context")
    p.add_argument("--box", type=_non_negative, metavar="N",
                   help="pick box N of the peeling trajectory (default: the documented rule)")
    p.add_argument("--min-density", type=float, default=0.0, metavar="D",
                   help="default rule: only boxes at least this dense (0-1; default 0)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="output folder (default: SWEEP_DIR/discovery)")
    p.set_defaults(handler=cmd_discover)

    p = sub.add_parser(
        "sensitivity",
        help="global sensitivity analysis (SALib Sobol' or Morris) of a study file",
        description="Sample a sensitivity study (experiments/sobol_baseline.toml, "
        "experiments/morris_screening.toml), run every sample row on the sweep runner "
        "(resumable store, failures recorded, process pool or Dask), analyse with SALib and "
        "write indices (CSV, Parquet), plots and report.md into the study folder. Prints the "
        "report's path last. Exit status 0 when analysed, 1 if runs failed or no output "
        "could be analysed (constant over the sample), 2 for bad input.",
    )
    p.add_argument("study", metavar="EXPERIMENT", help="sensitivity study TOML file")
    _add_runner_options(p, "study", "results/sensitivity/<name>-<time>",
                        "keep finished runs, redo missing, failed or corrupt ones, then "
                        "analyse")
    p.add_argument("--quiet", action="store_true", help="no progress bar; print only the report")
    p.set_defaults(handler=cmd_sensitivity)

    p = sub.add_parser(
        "patterns",
        help="pattern-oriented validation: run the empirical patterns, write validation.md",
        description="Run the empirical patterns the model should reproduce (sim/evidence/"
        "patterns.py) on the sweep runner, print a table (pattern, statistic, model value with "
        "CI, criterion, holds?) and write validation.md, figures/, patterns.csv and "
        "patterns.json into the output folder. Exit status 0 when every pattern holds, 1 "
        "otherwise (a pattern the model cannot evaluate yet counts as not holding), 2 for bad "
        "input.",
    )
    p.add_argument("--quick", action="store_true",
                   help="fewer replications, shorter runs and smaller maps (minutes, not hours)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="run only these patterns")
    _add_runner_options(p, "patterns run", "results/patterns/validation-<time>",
                        "keep finished runs, redo missing, failed or corrupt ones, then "
                        "evaluate")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar; print only the table and the report's path")
    p.set_defaults(handler=cmd_patterns)

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
        "optimize",
        help="search strategy levers for the Pareto front of the mission's objectives "
        "(NSGA-II/III, pymoo)",
        description="Search the levers an optimisation file names (role shares, cultural "
        "competence, restraint, force density, drawdown timing, ...) for the Pareto front "
        "of its objectives (civilian casualties, post-exit relapse, trust, troop-weeks, ...) "
        "over a fixed sample of futures with common seeds, on a process pool or Dask; "
        "resumable. Writes front.csv, evaluations.parquet, strategies/front_NN.toml, figures, "
        "report.md and report.html into the output folder and prints the report's path "
        "last. Exit status 0 when done, 1 if simulations failed, 2 for bad input.",
    )
    p.add_argument("optimization", metavar="FILE", help="optimisation TOML file")
    _add_runner_options(p, "optimisation", "results/optimize/<name>-<time>",
                        "replay the search from the stored runs and run what is missing")
    p.add_argument("--quiet", action="store_true", help="no progress; print only the report")
    p.set_defaults(handler=cmd_optimize)

    p = sub.add_parser(
        "viz",
        help="trainer app in the browser: live map, strategy levers, two strategies compared",
        description="Serve the trainer app (a Mesa SolaraViz app, sim/viz/app.py) on HOST:PORT and "
        "open it in a browser. Pages: the trainer page (map, levers, live charts) and "
        "compare (two strategies on the same context and seed). Needs the viz extra: "
        "pip install -e '.[viz]'. Stop with Ctrl+C.",
    )
    p.add_argument(
        "scenario", metavar="SCENARIO", nargs="?",
        help="peacekeeping context to open with (default: scenarios/baseline.toml)",
    )
    p.add_argument("--host", default="localhost",
                   help="address to serve on (default localhost: this machine only; 0.0.0.0 "
                   "lets anyone on the network open the app and drive the model, no password)")
    p.add_argument("--port", type=_non_negative, default=8765,
                   help="port to serve on (default 8765; 0 picks a free one)")
    p.add_argument("--no-open", action="store_true", help="do not open a browser")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="a host name (or address) the app may be opened under, as typed in the "
                   "browser, e.g. trainer-pc.local; repeatable. On localhost the app answers "
                   "only to localhost, 127.0.0.1 and [::1] plus these names; on 0.0.0.0 or a "
                   "LAN address it answers to any name unless names are given here")
    p.set_defaults(handler=cmd_viz)

    p = sub.add_parser(
        "data", help="event data (ACLED, UCDP GED) and deployments (Geo-PKO): statistics",
        description="Work with real-world data files; see docs/data.md.",
    )
    data = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    p = data.add_parser(
        "summarise", help="statistics of a data file, as the model reports them",
        description="Read an ACLED or UCDP GED export (or Geo-PKO deployments), select a "
        "region and period, and print events and fatalities per month (civilian, battle), "
        "per 100,000 people with --population, the trend after a mission's exit with --exit "
        "and the share of events per model district with --districts. Exit status 2 for "
        "bad data or options.",
    )
    p.add_argument("file", metavar="FILE", help="CSV file")
    p.add_argument("--format", required=True, metavar="{acled,ucdp-ged,geo-pko}",
                   help="the file's format")
    p.add_argument("--region", action="append", metavar="SPEC",
                   help="admin1=NAME[,NAME], admin2=NAME[,NAME], country=NAME (geo-pko: "
                   "mission=, location=, country=) or box=LAT_MIN,LAT_MAX,LON_MIN,LON_MAX; "
                   "repeatable: names of one kind widen, other kinds and a box narrow")
    p.add_argument("--start", metavar="DATE", help="first day, YYYY-MM-DD or YYYY-MM")
    p.add_argument("--end", metavar="DATE", help="last day (included), YYYY-MM-DD or YYYY-MM")
    p.add_argument("--population", type=float, metavar="N",
                   help="people in the region, for rates per 100,000 people")
    p.add_argument("--exit", metavar="DATE", help="a mission's exit (its month is the exit "
                   "month): fatalities per month 12 months after vs before")
    p.add_argument("--districts", type=_positive, metavar="K",
                   help="share of events in each of the model's K x K districts laid over "
                   "--box (or the --region box)")
    p.add_argument("--box", metavar="LAT_MIN,LAT_MAX,LON_MIN,LON_MAX",
                   help="the area the model's grid covers, for --districts (write "
                   "--box=-12,-10,-20,-18 when it starts with a minus)")
    p.add_argument("--json", action="store_true", help="print a JSON object instead")
    p.set_defaults(handler=cmd_data_summarise)

    # parsed by sim.bench.bench itself: main() hands it everything after the word "bench"
    p = sub.add_parser(
        "bench", help="performance benchmark (see: peacesim bench --help)", add_help=False
    )
    p.set_defaults(handler=lambda args: cmd_bench([]))
    return parser


# --------------------------------------------------------------------------- commands


def _mission_text(s: dict[str, Any]) -> str:
    """How the mission ended, in words: its exit tick, or that it stayed or never came."""
    if s.get("exit_tick") is not None:
        ratio = s.get("relapse_ratio")
        ratio_txt = "not defined" if ratio is None else f"{ratio:.2f}"
        return f"exit at tick {s['exit_tick']};  post-exit violence ratio {ratio_txt}"
    if not s.get("troop_weeks"):
        return "no mission (no peacekeepers deployed)"
    return "mission stays to the end (no exit)"


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
        print(f"casualties    {get('casualties_total')} civilians;  attacks "
              f"{get('attacks_total')};  clashes {get('clashes_total')}")
        print(f"armed groups  {get('combatants_final')} fighters at end;  recruits "
              f"{get('recruits_total')}, disarmed {get('disarmed_total')}, relapses "
              f"{get('relapses_total')}")
        print(f"trust         peacekeepers {s['final_trust_pk']:.2f}, police "
              f"{s['final_trust_police']:.2f};  economy {s['final_economy']:.2f}")
        print(f"mission       {get('troop_weeks')} troop-weeks;  {_mission_text(s)}")
    events = getattr(result, "events", None)
    if events:
        kinds = sorted({e["kind"] for e in events})
        print(f"events        {len(events)} applied ({', '.join(kinds)}); see events.csv")
    if "killings_total" in s:
        extinct = s.get("extinct_group")
        fate = "no group extinct" if extinct is None else (
            f"group {extinct} extinct at tick {get('extinction_tick')}"
        )
        print(f"killings      {get('killings_total')};  {fate}")


def cmd_run(args: argparse.Namespace) -> int:
    """``peacesim run``: load, check the output folder, run, write, report."""
    from sim.config.scenario import check_run_length, load_scenario
    from sim.io import runner, store

    overrides = dict(args.overrides)
    scenario = load_scenario(args.scenario, overrides or None, strategy=args.strategy)
    replace = False
    try:  # before the run: never compute a long run only to find it cannot be written
        if args.out is not None:
            store.check_run_out(args.out, overwrite=args.overwrite)
            replace = args.overwrite and args.out.is_dir() and any(args.out.iterdir())
        else:
            if args.overwrite:
                raise UsageError("--overwrite goes with --out DIR (the folder to replace)")
            store.check_writable(DEFAULT_RESULTS)
    except store.OutputFolderError as exc:
        raise UsageError(str(exc)) from None
    seed = scenario.run.seed if args.seed is None else args.seed
    ticks = scenario.run.ticks if args.ticks is None else args.ticks
    check_run_length(scenario, ticks, args.scenario)
    if not args.quiet:
        print(f"running {scenario.name}: seed {seed}, {ticks} ticks ...", file=sys.stderr)
    result = runner.run(scenario, seed=seed, ticks=ticks, keep_model=True)
    strategy = Path(args.strategy).stem if args.strategy else None
    extra = {"overrides": overrides, "strategy_file": args.strategy,
             "command": ["peacesim", *args.argv]}
    write = store.replace_run if replace else store.write_run
    out = args.out if args.out is not None else store.default_out_dir(
        scenario, seed, DEFAULT_RESULTS, strategy=strategy)
    write(result, out, scenario_path=args.scenario, plots=not args.no_plots, extra=extra)
    if not args.quiet:
        _print_summary(result)
    print(out)
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    """``peacesim replay``: re-run an exercise log, write it like a run, check the digest."""
    from sim.io import store
    from sim.io.recorder import timeseries_digest
    from sim.model.exercise import read_log, replay

    log = read_log(args.log)  # a bad log: ExerciseError, exit 2
    exports = None
    if args.debrief or args.animation:
        from sim.viz import exports

        if args.animation == "mp4" and not exports.mp4_support()[0]:
            raise UsageError(f"--animation mp4: {exports.mp4_support()[1]}")
        if log["scenario_object"].model != "peacekeeping":
            raise UsageError("--debrief and --animation show the peacekeeping model's outcomes "
                             f"and map; {args.log} runs the {log['scenario_object'].model} "
                             "model")
    try:
        if args.out is not None:
            store.check_run_out(args.out, overwrite=args.overwrite)
            replace = args.overwrite and args.out.is_dir() and any(args.out.iterdir())
        else:
            if args.overwrite:
                raise UsageError("--overwrite goes with --out DIR (the folder to replace)")
            store.check_writable(DEFAULT_RESULTS)
            replace = False
    except store.OutputFolderError as exc:
        raise UsageError(str(exc)) from None
    if not args.quiet:
        print(f"replaying {args.log}: {log['scenario_object'].name}, seed {log['seed']}, "
              f"{log['week']} weeks, {sum(a.get('kind') != 'bookmark' for a in log['actions'])}"
              " action(s) ...", file=sys.stderr)
    result = replay(log)
    digest = timeseries_digest(result.timeseries)
    expected = log.get("timeseries_sha256")
    reproduced = None if not isinstance(expected, str) else digest == expected
    extra = {"exercise_log": str(args.log), "exercise_log_sha256": store._file_sha256(args.log),
             "timeseries_sha256": digest, "reproduced": reproduced,
             "command": ["peacesim", *args.argv]}
    out = args.out if args.out is not None else store.default_out_dir(
        result.scenario, result.seed, DEFAULT_RESULTS, strategy="replay")
    write = store.replace_run if replace else store.write_run
    write(result, out, plots=not args.no_plots, extra=extra)
    if exports is not None and args.debrief:
        exports.debrief(result, out / "debrief.png", pdf=out / "debrief.pdf",
                        title=f"Exercise debrief: {result.scenario.name}, seed {result.seed}")
    if exports is not None and args.animation:
        exports.animation(log, out / f"map.{args.animation}", layer=args.layer,
                          every=max(1, log["week"] // 200))
    if not args.quiet:
        _print_summary(result)
    if reproduced is False:
        print(f"error: the replayed time series differs from the exercise's (sha256 {digest}, "
              f"the log says {expected}); the results are in {out}", file=sys.stderr)
        print(out)
        return EXIT_FAILURE
    if not args.quiet:
        print("time series reproduced bit for bit" if reproduced else
              "the log holds no digest of the exercise's time series: nothing to compare",
              file=sys.stderr)
    print(out)
    return EXIT_OK


def validate_file(path: str, strategy: str | None = None) -> str:
    """Check one configuration file of any kind; returns its kind, raises
    :class:`~sim.config.scenario.ScenarioError` with every problem otherwise. Reads and
    validates only: the simulation engine is never imported."""
    from sim.config.scenario import (
        ScenarioError,
        check_run_length,
        file_kind,
        load_scenario,
        load_strategy,
        read_toml,
    )

    data = read_toml(path)
    from sim.config.optimize import is_optimize_file

    kind = "optimization" if is_optimize_file(data) else file_kind(data)
    if strategy is not None and kind != "scenario":
        raise ScenarioError(f"{path}: a {kind} file; --strategy applies to scenario files only")
    if kind == "scenario":
        sc = load_scenario(path, strategy=strategy)
        source = path if strategy is None else f"{path} with strategy {strategy}"
        check_run_length(sc, sc.run.ticks, source)
    elif kind == "strategy":
        load_strategy(path)
    elif kind == "experiment":
        from sim.config.experiment import load_experiment

        load_experiment(path)
    elif kind == "optimization":
        from sim.config.optimize import load_optimization

        load_optimization(path)
    elif kind == "study":
        from sim.config.study import load_study

        load_study(path)
    else:
        from sim.config.calibration import load_calibration

        load_calibration(path)
    return kind


def cmd_validate(args: argparse.Namespace) -> int:
    """``peacesim validate``: report every file, fail if any is invalid."""
    from sim.config.scenario import ScenarioError

    status = EXIT_OK
    for f in args.files:
        try:
            kind = validate_file(f, args.strategy)
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = EXIT_USAGE
        else:
            print(f"OK {f} ({kind})")
    return status


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr)


def _runner_options(args: argparse.Namespace, what: str) -> dict[str, Any]:
    """The options of :func:`_add_runner_options` as keyword arguments of ``run_sweep`` and
    ``run_study``."""
    from sim.experiments.sweep import TLSFiles

    if args.resume and args.out is None:
        raise UsageError(f"--resume needs --out DIR: the folder of the {what} to continue")
    tls = None
    given = {"--tls-ca-file": args.tls_ca_file, "--tls-cert": args.tls_cert,
             "--tls-key": args.tls_key}
    if any(v is not None for v in given.values()):
        if args.scheduler is None:
            raise UsageError(f"{', '.join(k for k, v in given.items() if v)}: only with "
                             "--scheduler (a local Dask cluster secures itself)")
        missing = [k for k in ("--tls-ca-file", "--tls-cert") if given[k] is None]
        if missing:
            raise UsageError(f"TLS needs {' and '.join(missing)} as well (and --tls-key "
                             "unless the key is appended to the certificate file)")
        tls = TLSFiles(ca_file=args.tls_ca_file, cert=args.tls_cert, key=args.tls_key)
    return {"out": args.out, "workers": args.workers, "scheduler": args.scheduler,
            "dask_local": args.dask_local, "tls": tls, "resume": args.resume,
            "retries": args.retries, "progress": not args.quiet,
            "log": None if args.quiet else _stderr, "command": ["peacesim", *args.argv]}


def _runner_errors() -> tuple[type[Exception], ...]:
    """Exceptions of sweeps and studies that are the user's to fix (exit 2)."""
    from sim.experiments.store import StoreError
    from sim.experiments.sweep import SweepError
    from sim.io.store import OutputFolderError

    return SweepError, StoreError, OutputFolderError


def cmd_sweep(args: argparse.Namespace) -> int:
    """``peacesim sweep``: run or resume an experiment's sweep."""
    from sim.experiments.sweep import run_sweep

    try:
        stats = run_sweep(args.experiment, **_runner_options(args, "sweep"))
    except _runner_errors() as exc:
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
    from sim.sensitivity.study import IncompleteStudy, run_study

    try:
        res = run_study(args.study, **_runner_options(args, "study"))
    except _runner_errors() as exc:
        raise UsageError(str(exc)) from None
    except IncompleteStudy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    skipped = res.analysis.skipped
    for output, why in skipped.items():
        print(f"warning: output {output!r} is {why}", file=sys.stderr)
    if skipped and not res.analysis.analysed:
        print(f"error: no output of the study could be analysed (see {res.out / 'report.md'}); "
              "choose outputs that vary over the sample", file=sys.stderr)
        print(res.out / "report.md")
        return EXIT_FAILURE
    if not args.quiet:
        analysed = (f"; analysed: {', '.join(res.analysis.analysed)}" if skipped else "")
        print(f"sensitivity study finished in {res.seconds:.1f} s: {res.stats.done} run(s) "
              f"now, {res.stats.skipped} from before{analysed}; indices, plots and report in "
              f"{res.out}", file=sys.stderr)
    print(res.out / "report.md")
    return EXIT_OK


def cmd_patterns(args: argparse.Namespace) -> int:
    """``peacesim patterns``: run and evaluate the empirical patterns."""
    from sim.evidence.pattern_report import format_table, write_report
    from sim.evidence.patterns import PatternError, all_patterns, run_patterns, select
    from sim.experiments.store import StoreError
    from sim.experiments.sweep import SweepError

    opts = _runner_options(args, "patterns run")
    opts["log"] = opts["log"] or (lambda m: None)
    try:
        chosen = select(all_patterns(), args.only)
        res = run_patterns(chosen, quick=args.quick, **opts)
    except (PatternError, SweepError, StoreError) as exc:
        raise UsageError(str(exc)) from None
    write_report(res)
    print(format_table(res))
    print(res.out / "validation.md")
    return EXIT_OK if res.all_hold else EXIT_FAILURE


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


def cmd_optimize(args: argparse.Namespace) -> int:
    """``peacesim optimize``: run or resume a robust strategy search."""
    from sim.experiments.optimize import OptimizeFailed, optimize

    try:
        res = optimize(args.optimization, **_runner_options(args, "optimisation"))
    except OptimizeFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if not args.quiet:
        print(f"front: {len(res.front)} member(s) in {res.paths['front']}; strategy files in "
              f"{res.out / 'strategies'}; also {res.paths['report_html']}", file=sys.stderr)
    print(res.paths["report"])
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    """``peacesim compare``: write the comparison report of a sweep."""
    from sim.experiments.compare import compare
    from sim.experiments.store import StoreError

    try:
        res = compare(args.sweep_dir, reference=args.reference, outcomes=args.outcomes,
                      headline=args.headline)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    print(f"also {res.report_html} (self-contained)", file=sys.stderr)
    print(res.report_md)
    return EXIT_OK


def cmd_discover(args: argparse.Namespace) -> int:
    """``peacesim discover``: PRIM and CART on a sweep's uncertain factors."""
    from sim.experiments.discovery import DiscoveryError, discover
    from sim.experiments.store import StoreError

    try:
        res = discover(args.sweep_dir, args.outcome, above=args.above, below=args.below,
                       strategy=args.strategy, context=args.context, box=args.box,
                       min_density=args.min_density, out=args.out)
    except (DiscoveryError, StoreError) as exc:
        raise UsageError(str(exc)) from None
    print(res.summary, file=sys.stderr)
    print(res.report_md)
    return EXIT_OK


def cmd_data_summarise(args: argparse.Namespace) -> int:
    """``peacesim data summarise``: statistics of an event or deployment file."""
    import json

    from sim.evidence import DataError, format_summary, summarise_file

    try:
        stats = summarise_file(args.file, args.format, region=args.region, start=args.start,
                               end=args.end, population=args.population, exit_date=args.exit,
                               districts=args.districts, box=args.box)
    except DataError as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(stats, indent=2, allow_nan=False) if args.json else format_summary(stats))
    return EXIT_OK


def cmd_viz(args: argparse.Namespace) -> int:
    """``peacesim viz``: check the scenario, then serve :mod:`sim.viz.app` in this process.

    In this process, not a child: a signal that stops ``peacesim viz`` stops the server.
    """
    import importlib.util

    missing = [m for m in ("solara", "solara_assets") if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(
            f"the trainer app needs the viz extra ({', '.join(missing)} not installed); "
            "install it with: pip install -e '.[viz]'  (make venv installs it too)"
        )
    from sim.viz.server import ServeError, serve

    if args.scenario is not None:
        from sim.viz.trainer import SCENARIO_ENV, settings_from_files

        settings_from_files(args.scenario)  # a bad file fails here, with the usual message
        os.environ[SCENARIO_ENV] = str(Path(args.scenario).resolve())
    try:
        serve(args.host, args.port, open_browser=not args.no_open, allow_hosts=args.allow_host,
              log=lambda message: print(message, file=sys.stderr, flush=True))
    except ServeError as exc:
        raise UsageError(str(exc)) from None
    except KeyboardInterrupt:
        # the server has stopped; a thread the app left (a page still rendering) must not keep
        # the process alive, so exit now, as SIGTERM does
        print("interrupted", file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(130)
    return 0


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
