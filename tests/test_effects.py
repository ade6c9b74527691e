"""MODEL.md section 6, effects 1-8: each shown on the baseline scenario with common seeds.

Every arm runs the same seeds (common random numbers), so each comparison is a paired
difference; a test asserts that the mean difference lies in the expected direction by more
than ``Z`` standard errors. Fixed seeds make the tests deterministic; the margin keeps them
away from knife edges. ``python tests/test_effects.py`` prints the effect-size table.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from sim import load_scenario, run

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
STRATEGIES = ROOT / "scenarios" / "strategies"
SEEDS = tuple(range(1, 9))
Z = 3.0  # standard errors
pytestmark = pytest.mark.slow

NO_EXIT = {"mission.drawdown_start": None}


@cache
def outcome(metric: str, overrides: tuple, strategy: str | None = None,
            ticks: int = 156, seeds: tuple = SEEDS) -> np.ndarray:
    """``metric`` of the run summary for every seed in ``seeds`` (cached across tests)."""
    sc = load_scenario(BASELINE, overrides=dict(overrides),
                       strategy=None if strategy is None else STRATEGIES / strategy)
    return np.array([_summary(sc, s, ticks)[metric] for s in seeds], dtype=float)


_RUNS: dict = {}


def _summary(sc, seed: int, ticks: int) -> dict:
    key = (sc.model_dump_json(), seed, ticks)
    if key not in _RUNS:
        _RUNS[key] = run(sc, seed=seed, ticks=ticks).summary
    return _RUNS[key]


def paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean and standard error of the paired difference a - b."""
    d = np.asarray(a) - np.asarray(b)
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))


def _o(metric, strategy=None, ticks=156, seeds=SEEDS, **overrides):
    items = tuple(sorted({**NO_EXIT, **overrides}.items())) if ticks == 156 else \
        tuple(sorted(overrides.items()))
    return outcome(metric, items, strategy, ticks, tuple(seeds))


# --------------------------------------------------------------------------- the effects


def effect_1():
    """More peacekeepers -> fewer civilian casualties, with diminishing returns."""
    c0 = _o("casualties_total", **{"peacekeepers.density": 0.0})
    c1 = _o("casualties_total", **{"peacekeepers.density": 0.02})
    c2 = _o("casualties_total", **{"peacekeepers.density": 0.04})
    return {
        "casualties: none - 0.02": paired(c0, c1),
        "casualties: 0.02 - 0.04": paired(c1, c2),
        "diminishing: (none - 0.02) - (0.02 - 0.04)": paired(c0 - c1, c1 - c2),
    }


def effect_2():
    """Police alongside troops reduce civilian casualties more than troops alone."""
    alone = _o("casualties_total", **{"police.density": 0.0, "police.target": None})
    both = _o("casualties_total", **{"police.density": 0.02})
    return {"casualties: troops alone - troops with police": paired(alone, both)}


def effect_3():
    """Engagement with higher cultural competence -> more trust in peacekeepers, more tips."""
    low = {"strategy.cultural_competence": 0.1}
    high = {"strategy.cultural_competence": 0.9}
    s = "community_engagement.toml"
    return {
        "final trust_pk: high - low competence": paired(
            _o("final_trust_pk", s, **high), _o("final_trust_pk", s, **low)),
        "tips: high - low competence": paired(
            _o("tips_total", s, **high), _o("tips_total", s, **low)),
    }


def effect_4():
    """Low restraint -> lower trust, fewer tips, more recruitment.

    A robust posture (a large force on patrol) interdicts often, so restraint matters; the
    recruitment effect runs through trust and is the noisiest, hence 24 seeds.
    """
    force = {"peacekeepers.density": 0.05}
    low = {**force, "strategy.restraint": 0.1}
    high = {**force, "strategy.restraint": 0.95}
    s = "protection_first.toml"
    seeds = range(1, 25)

    def o(metric, arm):
        return _o(metric, s, seeds=seeds, **arm)

    return {
        "final trust_pk: high - low restraint": paired(
            o("final_trust_pk", high), o("final_trust_pk", low)),
        "tips: high - low restraint": paired(o("tips_total", high), o("tips_total", low)),
        "recruits: low - high restraint": paired(
            o("recruits_total", low), o("recruits_total", high)),
    }


def effect_5():
    """DDR with employment -> fewer combatants and fewer relapses than DDR without it."""
    s = "ddr_focus.toml"
    common = {"ddr.relapse_rate": 0.3}
    without = {**common, "economy.programme_rate": 0.0, "ddr.reintegration_support": 0.0}
    with_jobs = {**common, "economy.programme_rate": 0.03, "ddr.reintegration_support": 0.7}
    return {
        "mean combatants: without - with employment": paired(
            _o("combatants_mean", s, **without), _o("combatants_mean", s, **with_jobs)),
        "relapses: without - with employment": paired(
            _o("relapses_total", s, **without), _o("relapses_total", s, **with_jobs)),
    }


def effect_6():
    """Police mentoring -> higher professionalism, more trust in police, less abuse."""
    s = "policing_handover.toml"
    none = {"strategy.roles.police_mentoring": 0.0, "strategy.roles.patrol": 0.8}
    return {
        "final professionalism: mentoring - none": paired(
            _o("final_professionalism", s), _o("final_professionalism", s, **none)),
        "final trust_police: mentoring - none": paired(
            _o("final_trust_police", s), _o("final_trust_police", s, **none)),
        "abuses: none - mentoring": paired(
            _o("abuses_total", s, **none), _o("abuses_total", s)),
    }


ABRUPT_WEAK = {"mission.drawdown_start": 130, "mission.drawdown_ticks": 0,
               "police.target": None, "strategy.roles.police_mentoring": 0.0,
               "strategy.roles.patrol": 0.55}
GRADUAL_TRAINED = {"mission.drawdown_start": 78, "mission.drawdown_ticks": 52,
                   "police.target": 0.035, "police.recruitment": 0.03,
                   "strategy.roles.police_mentoring": 0.3, "strategy.roles.patrol": 0.25}


def effect_7():
    """Abrupt exit with weak police -> violence rises after exit; gradual handover to
    trained police -> less relapse."""
    seeds = range(1, 17)  # a ratio of two noisy means: more replications
    abrupt = _o("relapse_ratio", ticks=260, seeds=seeds, **ABRUPT_WEAK)
    gradual = _o("relapse_ratio", ticks=260, seeds=seeds, **GRADUAL_TRAINED)
    after = _o("violence_after_exit", ticks=260, seeds=seeds, **ABRUPT_WEAK)
    before = _o("violence_before_exit", ticks=260, seeds=seeds, **ABRUPT_WEAK)
    return {
        "violence after - before exit (abrupt, weak police)": paired(after, before),
        "relapse ratio: abrupt/weak - gradual/trained": paired(abrupt, gradual),
    }


def effect_8():
    """Economic recovery follows security; violence erodes the economy."""
    secure = _o("final_economy", **{"peacekeepers.density": 0.04})
    insecure = _o("final_economy", **{"peacekeepers.density": 0.0})
    # without a mission the armed group's violence runs its course
    calm = _o("final_economy", **{"armed_groups.aggression": 0.02, "peacekeepers.density": 0.0})
    violent = _o("final_economy", **{"armed_groups.aggression": 0.15,
                                     "peacekeepers.density": 0.0})
    return {
        "final economy: 0.04 peacekeepers - none": paired(secure, insecure),
        "final economy: low - high aggression": paired(calm, violent),
    }


EFFECTS = {i: globals()[f"effect_{i}"] for i in range(1, 9)}


@pytest.mark.parametrize("number", sorted(EFFECTS))
def test_expected_effect(number):
    for label, (mean, se) in EFFECTS[number]().items():
        assert mean - Z * se > 0, f"effect {number}: {label}: {mean:.4g} +- {se:.3g}"


if __name__ == "__main__":
    print("| effect | comparison | mean difference | SE | mean/SE |\n|---|---|---|---|---|")
    for number, fn in EFFECTS.items():
        for label, (mean, se) in fn().items():
            ratio = mean / se if se > 0 else float("inf")
            print(f"| {number} | {label} | {mean:.4g} | {se:.3g} | {ratio:.1f} |")
