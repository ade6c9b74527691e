"""MODEL.md section 6, effect 15: checkpoints cut armed movement and attacks nearby at a cost
to trade and the economy (ODD 7.22), paired on common seeds.

Two comparisons on the baseline (no exit), every arm on the same seeds:

* *with vs without*: the strategy ``strategies/checkpoints.toml`` (a fifth of the force at
  checkpoints, taken from patrols and static posts) against the same force with the
  baseline's own mixed posture and no checkpoints;
* *control on vs off*: the same strategy with ``mechanisms.checkpoints`` on and off, so the
  same units stand at the same posts and only their control of movement and trade differs;
  this is where "nearby" is defined (attacks on residents, and the economy, on the cells
  checkpoints control) in both arms.

A row is shown when its mean paired difference exceeds ``Z`` standard errors in the
expected direction. Rows the model does not show at that margin are listed in
``NOT_SHOWN`` with the measured numbers (not asserted; no parameter was tuned to make them
show); if one of them does not show, the test is an expected failure after the other rows
have been asserted.

``python tests/test_effects_checkpoints.py [--jobs N]`` prints the rows as ODD section 9
lists them.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from effect_rows import Expected, Row, check, cli, paired, table

from sim import load_scenario, run

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
STRATEGY = ROOT / "scenarios" / "strategies" / "checkpoints.toml"
TICKS = 260
SEEDS = tuple(range(1, 41))
pytestmark = pytest.mark.slow

#: the arms: (strategy file or None for the baseline's own, overrides)
ARMS: dict[str, tuple[Path | None, dict]] = {
    "with": (STRATEGY, {}),
    "without": (None, {}),
    "control off": (STRATEGY, {"mechanisms.checkpoints": False}),
}
OUTCOMES = ("combatant_moves_total", "attacks_total", "casualties_total",
            "attacks_near_checkpoints_total", "mean_market_access", "mean_economy",
            "mean_economy_near_checkpoints")

_RUNS: dict[tuple[str, int], dict[str, float]] = {}


def one_run(arm: str, seed: int) -> dict[str, float]:
    """The outcomes of one arm's run on one seed (cached)."""
    if (arm, seed) not in _RUNS:
        strategy, overrides = ARMS[arm]
        sc = load_scenario(BASELINE, overrides={"mission.drawdown_start": None, **overrides},
                           strategy=strategy)
        summary = run(sc, seed=seed, ticks=TICKS).summary
        _RUNS[arm, seed] = {k: float(summary[k]) for k in OUTCOMES}
    return _RUNS[arm, seed]


def o(metric: str, arm: str) -> np.ndarray:
    return np.array([one_run(arm, s)[metric] for s in SEEDS])


def effect_15() -> dict[str, Row]:
    """Each row is oriented so that the expected effect is positive."""
    rows = {}
    for metric, what in (("combatant_moves_total", "armed movement (fighters' moves)"),
                         ("attacks_total", "attacks")):
        rows[f"{what}: without - with checkpoints"] = paired(o(metric, "without"),
                                                             o(metric, "with"))
    rows["market access: without - with checkpoints"] = paired(
        o("mean_market_access", "without"), o("mean_market_access", "with"))
    rows["economy (map mean): without - with checkpoints"] = paired(
        o("mean_economy", "without"), o("mean_economy", "with"))
    for metric, what in (("combatant_moves_total", "armed movement (fighters' moves)"),
                         ("attacks_near_checkpoints_total", "attacks near checkpoints"),
                         ("attacks_total", "attacks"),
                         ("casualties_total", "civilian casualties")):
        rows[f"{what}: control off - on"] = paired(o(metric, "control off"),
                                                   o(metric, "with"))
    for metric, what in (("mean_market_access", "market access"),
                         ("mean_economy_near_checkpoints", "economy near checkpoints"),
                         ("mean_economy", "economy (map mean)")):
        rows[f"{what}: control off - on"] = paired(o(metric, "control off"),
                                                   o(metric, "with"))
    return rows


#: rows the model does not show at Z standard errors: what was measured (seeds 1-40,
#: 2026-12-02, branch zones merged with main). "attacks: without - with checkpoints" was
#: here before the merge (10.3 +- 8.8, 1.2 SE); on the merged model it shows (26.1 +- 5.9,
#: 4.4 SE) and is asserted.
NOT_SHOWN: dict[str, str] = {
    "economy (map mean): without - with checkpoints": (
        "no cost on the map's mean economy: -0.0063 +- 0.0038 (slightly higher with "
        "checkpoints); the cost shows in market access (0.0353, 106 SE)"),
    "economy (map mean): control off - on": (
        "the map's mean economy is higher with control: -0.0144 +- 0.0038 (3.8 SE the "
        "other way): the violence checkpoints prevent outweighs the trade they hold up, "
        "except on the cells they control (economy near checkpoints 0.029 lower, 6.1 SE)"),
}


def test_effect_15_checkpoints_cut_armed_movement_and_attacks_at_a_cost_to_trade() -> None:
    check(15, effect_15(), Expected(NOT_SHOWN))


def _runs(args: tuple[str, int]) -> tuple[str, int, dict[str, float]]:
    arm, seed = args
    return arm, seed, one_run(arm, seed)


def text(jobs: int) -> str:
    """The rows of effect 15 as ODD section 9 lists them, from runs on ``jobs`` processes."""
    work = [(arm, s) for s in SEEDS for arm in ARMS]
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as ex:
        for arm, seed, out in ex.map(_runs, work):
            _RUNS[arm, seed] = out
    return table({15: effect_15()}, lambda _: Expected(NOT_SHOWN))


def main(argv: list[str] | None = None) -> int:
    """Print the rows of effect 15 as ODD section 9 lists them."""
    return cli(__doc__.splitlines()[0], text, argv)


if __name__ == "__main__":
    raise SystemExit(main())
