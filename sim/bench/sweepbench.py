"""Benchmark of the sweep machinery (not of the model): ``python -m sim.bench.sweepbench``.

Measures what the experiments issue asks of it:

1. **speed-up**: one sweep of ~1-second runs (the baseline context with the integrated
   strategy, ticks chosen so a run takes ``--target`` seconds) on one worker process and on
   two; speed-up = wall time with one / wall time with two (target >= 1.7x);
   Beside it, the throughput of two bare model processes at once relative to one: the
   ceiling the machine allows at that moment (on a shared machine, below 2);
2. **overhead**: how much longer than the sum of the run times (measured inside the
   workers) the one-worker sweep took: scheduling, pickling, storage and waiting. Reported
   end to end (including starting the pool) and in steady state (from the first result on),
   plus the coordinator's CPU time as a share of the run time (target < 5%);
3. **coordinator memory**: peak resident memory of a fresh coordinator process sweeping
   100, 1,000 and 10,000 tiny runs (10x10 map, 2 ticks) on two workers (target: within 50 MB
   of each other).

The numbers depend on the machine and on what else it runs; they are printed as a table (and
written as JSON with ``--json``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"


def _experiment(folder: Path, name: str, reps: int, ticks: int, size: int | None = None,
                metrics: str = '"default"') -> Path:
    size_set = f'"world.width" = {size}\n"world.height" = {size}\n' if size else ""
    path = folder / f"{name}.toml"
    path.write_text(
        f'name = "{name}"\n'
        f'contexts = ["{SCENARIOS / "baseline.toml"}"]\n'
        f'strategies = ["{SCENARIOS / "strategies" / "integrated.toml"}"]\n'
        f"replications = {reps}\nseed = 1\nticks = {ticks}\n"
        f"[output]\nmetrics = {metrics}\n[set]\n{size_set}"
    )
    return path


def calibrate(target: float) -> int:
    """Ticks for which a baseline x integrated run takes about ``target`` seconds here."""
    from sim.config.scenario import load_scenario
    from sim.experiments.sweep import warm_worker
    from sim.io.runner import run

    warm_worker()
    sc = load_scenario(SCENARIOS / "baseline.toml",
                       strategy=SCENARIOS / "strategies" / "integrated.toml")
    t0 = time.perf_counter()
    run(sc, seed=1, ticks=260)
    per_tick = (time.perf_counter() - t0) / 260
    return max(20, min(5000, round(target / per_tick)))


def speedup(runs: int, target: float) -> dict[str, Any]:
    """One sweep on one worker and on two (same experiment, fresh folders)."""
    from sim.experiments.sweep import run_sweep

    ticks = calibrate(target)
    out: dict[str, Any] = {"runs": runs, "ticks": ticks}
    with tempfile.TemporaryDirectory() as tmp:
        exp = _experiment(Path(tmp), "speed", runs, ticks)
        for workers in (1, 2):
            s = run_sweep(exp, Path(tmp) / f"w{workers}", workers=workers)
            assert s.done == runs and not s.failed
            mean_run = s.run_time_s / runs
            out[f"workers_{workers}"] = {
                "wall_s": s.pool_s,
                "first_result_s": s.first_result_s,
                "run_time_sum_s": s.run_time_s,
                "mean_run_s": mean_run,
                "coordinator_cpu_s": s.coordinator_cpu_s,
                # wall time beyond the run time per worker, as a share of the run time
                "overhead_total": s.pool_s * workers / s.run_time_s - 1,
                # from the first result on (one worker: pool start excluded)
                "overhead_steady": (s.pool_s - s.first_result_s) * workers
                / (s.run_time_s - mean_run) - 1,
                "coordinator_cpu_share": s.coordinator_cpu_s / s.run_time_s,
            }
    w1, w2 = out["workers_1"], out["workers_2"]
    out["machine_parallelism"] = machine_parallelism(ticks)
    out["speedup"] = w1["wall_s"] / w2["wall_s"]
    # throughput from the first result on: pool start-up excluded
    out["speedup_steady"] = (w1["wall_s"] - w1["first_result_s"]) / (
        w2["wall_s"] - w2["first_result_s"])
    return out


def _bare_child(ticks: int, runs: int) -> None:
    """Run in a fresh process: ``runs`` runs without any sweep machinery; print s/run."""
    from sim.config.scenario import load_scenario
    from sim.io.runner import run

    sc = load_scenario(SCENARIOS / "baseline.toml",
                       strategy=SCENARIOS / "strategies" / "integrated.toml")
    run(sc, seed=0, ticks=2)
    t0 = time.perf_counter()
    for seed in range(runs):
        run(sc, seed=seed, ticks=ticks)
    print(json.dumps({"s_per_run": (time.perf_counter() - t0) / runs}))


def machine_parallelism(ticks: int, runs: int = 4) -> float:
    """Throughput of two bare model processes at once relative to one: the best speed-up
    this machine allows right now (below 2 when other work shares the CPUs)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "sim.bench.sweepbench", "--bare-child", str(ticks), str(runs)]

    def per_run(procs: list[subprocess.Popen]) -> list[float]:
        return [json.loads(p.communicate()[0].strip().splitlines()[-1])["s_per_run"]
                for p in procs]

    (alone,) = per_run([subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)])
    pair = per_run([subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
                    for _ in range(2)])
    return 2 * alone / (sum(pair) / 2)


def _memory_child(runs: int, folder: Path) -> None:
    """Run in a fresh process: sweep ``runs`` tiny runs, print peak RSS as JSON."""
    from sim.experiments.sweep import run_sweep

    exp = _experiment(folder, f"mem{runs}", runs, ticks=2, size=10)
    t0 = time.perf_counter()
    s = run_sweep(exp, folder / "out", workers=2)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"runs": runs, "done": s.done, "failed": len(s.failed),
                      "peak_rss_mb": peak_kb / 1024, "wall_s": time.perf_counter() - t0}))


def memory(sizes: list[int]) -> list[dict[str, Any]]:
    """Peak coordinator memory for sweeps of each size, each in a fresh process."""
    rows = []
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            proc = subprocess.run(
                [sys.executable, "-m", "sim.bench.sweepbench", "--memory-child", str(n), tmp],
                capture_output=True, text=True, env=env, check=False)
            if proc.returncode != 0:
                raise RuntimeError(f"memory child for {n} runs failed:\n{proc.stderr}")
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the results."""
    p = argparse.ArgumentParser(prog="python -m sim.bench.sweepbench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=40, help="runs in the speed-up sweep (40)")
    p.add_argument("--target", type=float, default=1.0, help="seconds per run (1.0)")
    p.add_argument("--memory-sizes", default="100,1000,10000",
                   help="sweep sizes for the memory test (100,1000,10000)")
    p.add_argument("--skip-speedup", action="store_true")
    p.add_argument("--skip-memory", action="store_true")
    p.add_argument("--json", type=Path, help="also write the results to this file")
    p.add_argument("--memory-child", nargs=2, metavar=("RUNS", "DIR"), help=argparse.SUPPRESS)
    p.add_argument("--bare-child", nargs=2, metavar=("TICKS", "RUNS"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.bare_child:
        _bare_child(int(args.bare_child[0]), int(args.bare_child[1]))
        return 0
    if args.memory_child:
        _memory_child(int(args.memory_child[0]), Path(args.memory_child[1]))
        return 0
    results: dict[str, Any] = {"cpus": os.cpu_count(), "load_1min": os.getloadavg()[0]}
    if not args.skip_speedup:
        sp = speedup(args.runs, args.target)
        results["speedup"] = sp
        w1, w2 = sp["workers_1"], sp["workers_2"]
        print(f"speed-up sweep: {sp['runs']} runs of {sp['ticks']} ticks "
              f"(mean run {w1['mean_run_s']:.2f} s on one worker, {w2['mean_run_s']:.2f} s "
              "on two)")
        print(f"  wall time      1 worker {w1['wall_s']:.1f} s, 2 workers {w2['wall_s']:.1f} s")
        print(f"  speed-up       {sp['speedup']:.2f}x end to end, {sp['speedup_steady']:.2f}x "
              "in steady state (target >= 1.7x)")
        print(f"  machine        two bare model processes at once: "
              f"{sp['machine_parallelism']:.2f}x the throughput of one (the ceiling now; "
              "below 2 means other work shares the CPUs)")
        print(f"  overhead       {w1['overhead_total']:.1%} end to end (incl. pool start "
              f"{w1['first_result_s'] - w1['mean_run_s']:.1f} s), "
              f"{w1['overhead_steady']:.1%} in steady state (1 worker; target < 5%)")
        print(f"  coordinator    CPU {w1['coordinator_cpu_share']:.2%} of run time "
              f"(1 worker), {w2['coordinator_cpu_share']:.2%} (2 workers)")
    if not args.skip_memory:
        sizes = [int(s) for s in args.memory_sizes.split(",")]
        rows = memory(sizes)
        results["memory"] = rows
        print("coordinator peak memory (fresh process, 2 workers, tiny runs):")
        for r in rows:
            print(f"  {r['runs']:>6} runs  {r['peak_rss_mb']:7.1f} MB  ({r['wall_s']:.0f} s, "
                  f"{r['failed']} failed)")
        spread = max(r["peak_rss_mb"] for r in rows) - min(r["peak_rss_mb"] for r in rows)
        results["memory_spread_mb"] = spread
        print(f"  spread {spread:.1f} MB (target: within 50 MB)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
