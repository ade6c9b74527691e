"""``peacesim bench``: our engine against Mesa's own Epstein example, same configuration.

Why: the engine exists to be fast with the same random-sequential semantics as Mesa's
example, so the claim is checked by running both in one process on one configuration
(``scenarios/epstein_mesa_example.toml``, Mesa's defaults) and printing ms per tick and the
ratio. Targets: >= 30x at 40x40, >= 100x at 100x100, and a per-agent cost of our engine that
stays flat (max/min <= 1.5) from 40x40 to 400x400.

Numba compile (or cache load) is excluded: one model is built and stepped before any timing
and that warm-up is reported on its own. Only ticks are timed (``time.perf_counter``), never
model construction. Missing a target is reported, not an error (exit status 0).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "epstein_mesa_example.toml"
COMPARE_SIZES = (40, 100)
SCALING_SIZES = (40, 100, 200, 400)
TARGET_SPEEDUP = {40: 30.0, 100: 100.0}
TARGET_FLATNESS = 1.5
SKIP = 5  # untimed ticks before the per-agent scaling measurements


@dataclass
class Timing:
    """ms per tick of one engine at one size (median over repetitions)."""

    engine: str
    size: int
    agents: int
    ticks: int
    reps: int
    ms_per_tick: float
    ms_per_tick_all: list[float]

    @property
    def ns_per_agent_tick(self) -> float:
        return self.ms_per_tick * 1e6 / max(self.agents, 1)


def _scenario(size: int, path: Path) -> Any:
    from sim.scenario import load_scenario

    return load_scenario(path, {"world.width": size, "world.height": size})


def warm_up(path: Path, seed: int) -> dict[str, Any]:
    """Build and step one small model so compilation / cache loading is out of the timings."""
    from sim import kernels as K
    from sim.model import PeaceSimModel

    sc = _scenario(40, path)
    t0 = time.perf_counter()
    model = PeaceSimModel(sc, seed=seed)
    model.step()
    first = time.perf_counter() - t0
    for _ in range(3):
        model.step()
    stats = K.tick.stats
    hits, misses = sum(stats.cache_hits.values()), sum(stats.cache_misses.values())
    how = "cache load" if hits and not misses else "compile" if misses else "already loaded"
    return {"seconds": first, "how": how, "cache_hits": hits, "cache_misses": misses}


def time_ours(size: int, ticks: int, reps: int, seed: int, path: Path, skip: int = 0) -> Timing:
    """Median ms/tick of our engine over ``reps`` fresh models (construction not timed).

    ``skip`` untimed ticks first: tick 1 (everyone decides at once from a quiet start) costs
    several ordinary ticks, so per-agent costs are compared after it.
    """
    from sim.model import PeaceSimModel

    sc = _scenario(size, path)
    per_tick: list[float] = []
    agents = 0
    for r in range(reps):
        model = PeaceSimModel(sc, seed=seed + r)
        agents = len(model.agents)  # Mesa views, one per live agent
        for _ in range(skip):
            model.step()
        t0 = time.perf_counter()
        for _ in range(ticks):
            model.step()
        per_tick.append((time.perf_counter() - t0) * 1e3 / ticks)
        del model
    return Timing("peacesim", size, agents, ticks, reps, statistics.median(per_tick), per_tick)


def time_mesa(size: int, ticks: int, reps: int, seed: int) -> Timing:
    """Median ms/tick of Mesa's own Epstein example (its defaults, our grid size)."""
    from mesa.examples.advanced.epstein_civil_violence.model import (
        EpsteinCivilViolence,
        EpsteinScenario,
    )

    per_tick: list[float] = []
    agents = 0
    for r in range(reps):
        model = EpsteinCivilViolence(
            width=size, height=size, scenario=EpsteinScenario(rng=seed + r)
        )
        agents = len(model.agents)
        t0 = time.perf_counter()
        for _ in range(ticks):
            model.step()
        per_tick.append((time.perf_counter() - t0) * 1e3 / ticks)
        del model
    return Timing("mesa", size, agents, ticks, reps, statistics.median(per_tick), per_tick)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="peacesim bench",
        description="Time our engine against Mesa's Epstein example on the same configuration.",
    )
    p.add_argument(
        "--scenario",
        type=Path,
        default=SCENARIO,
        help="scenario file (default: Mesa's example defaults)",
    )
    p.add_argument(
        "--ticks",
        type=int,
        default=200,
        help="ticks per repetition for our engine at 40x40 and 100x100; larger "
        "grids use proportionally fewer (min 20) (default 200)",
    )
    p.add_argument(
        "--mesa-ticks",
        type=int,
        nargs=2,
        default=(50, 10),
        metavar=("T40", "T100"),
        help="ticks for the comparison at 40x40 and 100x100 (default 50 10)",
    )
    p.add_argument("--reps", type=int, default=5, help="repetitions for our engine (median)")
    p.add_argument(
        "--mesa-reps",
        type=int,
        default=2,
        help="repetitions for Mesa at each size (median) (default 2)",
    )
    p.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=list(SCALING_SIZES),
        help="grid sizes for our engine alone (default 40 100 200 400)",
    )
    p.add_argument("--seed", type=int, default=1, help="first seed (repetition r uses seed+r)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="short run: 10/3 Mesa ticks, 1 Mesa rep, 50 ticks and 3 reps for ours",
    )
    p.add_argument("--no-mesa", action="store_true", help="skip Mesa (scaling table only)")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the numbers as JSON")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table and verdicts; always exit 0 (it is a report)."""
    args = _parser().parse_args(argv)
    if args.quick:
        args.mesa_ticks, args.mesa_reps, args.ticks, args.reps = (10, 3), 1, 50, 3

    def out(line: str = "") -> None:
        print(line, flush=True)

    out(f"peacesim bench: {args.scenario.name}, seed {args.seed}, Python {sys.version.split()[0]}")
    warm = warm_up(args.scenario, args.seed)
    out(
        f"warm-up (compile or cache load): {warm['seconds']:.2f} s for the first model "
        f"construction + step ({warm['how']}; numba cache hits {warm['cache_hits']}, "
        f"misses {warm['cache_misses']})"
    )

    # --- our engine against Mesa's example: same configuration, same ticks from tick 0
    compare: list[dict[str, Any]] = []
    if not args.no_mesa:
        out("")
        out("Same configuration, same ticks (from a fresh model), ms per tick (median):")
        out(
            f"{'grid':>9} {'agents':>7} {'ticks':>5} {'Mesa ms':>10} {'ours ms':>9} "
            f"{'speed-up':>9} {'target':>7}  verdict"
        )
        for size, ticks in zip(COMPARE_SIZES, args.mesa_ticks, strict=True):
            mesa = time_mesa(size, ticks, args.mesa_reps, args.seed)
            ours = time_ours(size, ticks, args.reps, args.seed, args.scenario)
            ratio = mesa.ms_per_tick / ours.ms_per_tick
            target = TARGET_SPEEDUP[size]
            compare.append(
                {
                    "size": size,
                    "ticks": ticks,
                    "mesa": asdict(mesa),
                    "ours": asdict(ours),
                    "speedup": ratio,
                    "target": target,
                    "pass": ratio >= target,
                }
            )
            out(
                f"{size:>4}x{size:<4} {ours.agents:>7} {ticks:>5} {mesa.ms_per_tick:>10.2f} "
                f"{ours.ms_per_tick:>9.3f} {ratio:>8.1f}x {target:>6.0f}x  "
                f"{_verdict(ratio >= target)}"
            )

    # --- our engine alone: per-agent cost against grid size
    out("")
    out(f"Our engine alone (after {SKIP} untimed ticks; ms per tick median, ns per agent-tick):")
    out(f"{'grid':>9} {'agents':>7} {'ticks':>5} {'reps':>4} {'ms/tick':>9} {'ns/agent':>9}")
    scaling: list[Timing] = []
    for size in args.sizes:
        ticks = args.ticks if size <= 100 else max(20, round(args.ticks * (100 / size) ** 2))
        reps = args.reps if size <= 100 else max(1, min(args.reps, 3))
        t = time_ours(size, ticks, reps, args.seed, args.scenario, skip=SKIP)
        scaling.append(t)
        out(
            f"{size:>4}x{size:<4} {t.agents:>7} {ticks:>5} {reps:>4} {t.ms_per_tick:>9.3f} "
            f"{t.ns_per_agent_tick:>9.0f}"
        )
    per_agent = [t.ns_per_agent_tick for t in scaling]
    flatness = max(per_agent) / min(per_agent) if per_agent else float("nan")
    flat_ok = flatness <= TARGET_FLATNESS
    out(
        f"flatness (max/min ns per agent-tick): {flatness:.2f} "
        f"(target <= {TARGET_FLATNESS})  {_verdict(flat_ok)}"
    )

    rss = _peak_rss_mb()
    out("")
    out(f"peak RSS: {rss:.0f} MB")
    missed = [
        f"{c['size']}x{c['size']} speed-up {c['speedup']:.1f}x < {c['target']:.0f}x"
        for c in compare
        if not c["pass"]
    ]
    if not flat_ok:
        missed.append(f"flatness {flatness:.2f} > {TARGET_FLATNESS}")
    out("all targets met" if not missed else "targets missed: " + "; ".join(missed))

    if args.json:
        report = {
            "scenario": str(args.scenario),
            "seed": args.seed,
            "warm_up": warm,
            "compare": compare,
            "scaling": [asdict(t) | {"ns_per_agent_tick": t.ns_per_agent_tick} for t in scaling],
            "flatness": flatness,
            "flatness_target": TARGET_FLATNESS,
            "flatness_pass": flat_ok,
            "peak_rss_mb": rss,
            "missed": missed,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
        out(f"wrote {args.json}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
