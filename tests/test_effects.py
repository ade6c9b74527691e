"""MODEL.md section 6, effects 1-8 and 11-13 on Model 2.0, and the mediation table of ODD 9.

Every arm of a comparison runs the same seeds (common random numbers), so each comparison is
a paired difference; a test asserts that the mean difference lies in the expected direction
by more than ``Z`` standard errors. Fixed seeds make the tests deterministic; the margin
keeps them away from knife edges. An expected effect the model does not show robustly at that
margin is not asserted: it is listed in ``NOT_SHOWN`` with the measured numbers, and if it
does not show, its effect's test is an expected failure (as ``xfail(strict=False)``) once the
other rows have been asserted. A knock-out that must remove an effect entirely is asserted to
give the same runs (``EXACT_ZERO``). Effects 9-10 (Epstein) are in
``tests/test_epstein_results.py``; effects 14-16 are not covered here.

The mediation table says how much of the casualty effect of four strategy levers flows
through information (tips), through trust damping recruitment, and directly: each lever's
paired effect with everything on, with each channel knocked out and with both knocked out,
on common seeds, with bootstrap standard errors over the seeds.

``python tests/test_effects.py [--out FILE] [--jobs N]`` prints both tables in Markdown
(for docs/ODD.md section 9) and writes them to FILE if given.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from effect_rows import Expected, Row, Z, check, cli, paired, table

from sim import load_scenario, run

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
STRATEGIES = ROOT / "scenarios" / "strategies"
TICKS = 260  # five years of weeks, the baseline's length
pytestmark = pytest.mark.slow

#: most comparisons keep the mission in place for the whole run (no drawdown, no exit)
NO_EXIT = {"mission.drawdown_start": None}


# --------------------------------------------------------------------------- runs and outcomes


_RUNS: dict[tuple[str, int, int], dict[str, float]] = {}


def _outcomes(result: Any, ticks: int) -> dict[str, float]:
    """The run summary's numbers plus counts over the second half of the run (``*_late``:
    what follows from earlier events, effect 13)."""
    out = {k: (np.nan if v is None else float(v)) for k, v in result.summary.items()
           if v is None or isinstance(v, int | float)}
    ts = result.timeseries
    late = ts[ts["tick"] > ticks // 2]
    for column in ("recruits", "attacks", "civilian_casualties"):
        out[f"{column}_late"] = float(late[column].sum())
    return out


def _run(sc: Any, seed: int, ticks: int) -> dict[str, float]:
    key = (sc.model_dump_json(), seed, ticks)
    if key not in _RUNS:
        _RUNS[key] = _outcomes(run(sc, seed=seed, ticks=ticks), ticks)
    return _RUNS[key]


@cache
def outcome(metric: str, overrides: tuple, strategy: str | None, ticks: int,
            seeds: tuple[int, ...]) -> np.ndarray:
    """``metric`` of every seed's run (runs are cached across metrics and tests)."""
    sc = load_scenario(BASELINE, overrides=dict(overrides),
                       strategy=None if strategy is None else STRATEGIES / strategy)
    return np.array([_run(sc, s, ticks)[metric] for s in seeds], dtype=float)


def _o(metric: str, strategy: str | None = None, ticks: int = TICKS,
       seeds: Iterable[int] = range(1, 13), exit_: bool = False, **overrides: Any) -> np.ndarray:
    """Per-seed ``metric`` on the baseline with ``overrides`` (and no exit unless ``exit_``)."""
    items = overrides if exit_ else {**NO_EXIT, **overrides}
    return outcome(metric, tuple(sorted(items.items())), strategy, ticks, tuple(seeds))


# --------------------------------------------------------------------------- the effects


def effect_1() -> dict[str, Row]:
    """More peacekeepers -> fewer civilian casualties, with diminishing returns: the second
    equal step of force (0.02 -> 0.04 units per cell) saves fewer lives than the first."""
    c0, c2, c4 = (_o("casualties_total", **{"peacekeepers.density": d})
                  for d in (0.0, 0.02, 0.04))
    return {
        "casualties: none - 0.02 units/cell": paired(c0, c2),
        "casualties: 0.02 - 0.04 units/cell": paired(c2, c4),
        "diminishing: (none - 0.02) - (0.02 - 0.04)": paired(c0 - c2, c2 - c4),
    }


def effect_2() -> dict[str, Row]:
    """Police alongside troops reduce civilian casualties more than troops alone."""
    alone = _o("casualties_total", **{"police.density": 0.0, "police.target": None})
    both = _o("casualties_total")
    return {"casualties: troops alone - troops with police": paired(alone, both)}


def effect_3() -> dict[str, Row]:
    """Engagement with higher cultural competence -> more trust in peacekeepers, more tips."""
    s = "community_engagement.toml"
    hi = {"strategy.cultural_competence": 0.9}
    lo = {"strategy.cultural_competence": 0.1}
    return {
        "mean trust_pk (mission): high - low competence": paired(
            _o("mean_trust_pk_mission", s, **hi), _o("mean_trust_pk_mission", s, **lo)),
        "tips: high - low competence": paired(_o("tips_total", s, **hi),
                                              _o("tips_total", s, **lo)),
    }


def effect_4() -> dict[str, Row]:
    """Low restraint (harm to civilians per interdiction) -> lower trust, fewer tips, more
    recruitment; shown with a robust posture (protection first), which interdicts often."""
    s = "protection_first.toml"
    seeds = range(1, 17)
    hi = {"strategy.restraint": 0.95}
    lo = {"strategy.restraint": 0.1}

    def o(metric: str, arm: dict) -> np.ndarray:
        return _o(metric, s, seeds=seeds, **arm)

    return {
        "mean trust_pk (mission): high - low restraint": paired(
            o("mean_trust_pk_mission", hi), o("mean_trust_pk_mission", lo)),
        "tips: high - low restraint": paired(o("tips_total", hi), o("tips_total", lo)),
        "recruits: low - high restraint": paired(o("recruits_total", lo),
                                                 o("recruits_total", hi)),
    }


def effect_5() -> dict[str, Row]:
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


def effect_6() -> dict[str, Row]:
    """Police mentoring -> higher professionalism, more trust in police, less abuse."""
    s = "policing_handover.toml"
    none = {"strategy.roles.police_mentoring": 0.0, "strategy.roles.patrol": 0.8}
    return {
        "final professionalism: mentoring - none": paired(
            _o("final_professionalism", s), _o("final_professionalism", s, **none)),
        "final trust_police: mentoring - none": paired(
            _o("final_trust_police", s), _o("final_trust_police", s, **none)),
        "abuses: none - mentoring": paired(_o("abuses_total", s, **none),
                                           _o("abuses_total", s)),
    }


ABRUPT_WEAK = {"mission.drawdown_start": 130, "mission.drawdown_ticks": 0,
               "police.target": None, "strategy.roles.police_mentoring": 0.0,
               "strategy.roles.patrol": 0.55}
GRADUAL_TRAINED = {"mission.drawdown_start": 78, "mission.drawdown_ticks": 52,
                   "police.target": 0.035, "police.recruitment": 0.03,
                   "strategy.roles.police_mentoring": 0.3, "strategy.roles.patrol": 0.25}


def effect_7() -> dict[str, Row]:
    """Abrupt exit with weak police -> violence against civilians rises after exit; gradual
    handover to trained police -> less relapse (the civilian relapse ratio, a ratio of two
    noisy means: more replications). Both exits lie before tick 130; 200 ticks cover the
    year after."""
    def o(metric: str, arm: dict) -> np.ndarray:
        return _o(metric, ticks=200, seeds=range(1, 21), exit_=True, **arm)

    return {
        "civilian violence after - before exit (abrupt, weak police)": paired(
            o("violence_civilian_after_exit", ABRUPT_WEAK),
            o("violence_civilian_before_exit", ABRUPT_WEAK)),
        "civilian relapse ratio: abrupt/weak - gradual/trained": paired(
            o("relapse_ratio_civilian", ABRUPT_WEAK), o("relapse_ratio_civilian", GRADUAL_TRAINED)),
    }


def effect_8() -> dict[str, Row]:
    """Economic recovery follows security; violence erodes the economy."""
    secure = _o("final_economy", **{"peacekeepers.density": 0.04})
    insecure = _o("final_economy", **{"peacekeepers.density": 0.0})
    # without a mission the armed group's violence runs its course
    calm = _o("final_economy", **{"armed_groups.aggression": 0.02, "peacekeepers.density": 0.0})
    violent = _o("final_economy", **{"armed_groups.aggression": 0.15,
                                     "peacekeepers.density": 0.0})
    return {
        "final economy: 0.04 units/cell - none": paired(secure, insecure),
        "final economy: low - high aggression (no mission)": paired(calm, violent),
    }


HIGH_TRUST = {"trust.initial_pk": 0.7}
LOW_TRUST = {"trust.initial_pk": 0.3}
#: knock-outs of the information channel: no reports at all, or reports the forces never use
NO_TIPS = {"trust.p_tip": 0.0}
TIPS_UNUSED = {"mechanisms.information": False}


def effect_11() -> dict[str, Row]:
    """Trust -> information -> protection: where residents start out trusting the mission
    (initial trust 0.7 rather than 0.3, a property of the context) they report more, units
    interdict more and fewer civilians die; with tips knocked out (no reports, or reports
    never acted on) part of that benefit disappears (a quarter to a third; the rest flows
    through recruitment). The benefit lost is a difference of paired differences on the
    same seeds."""
    seeds = range(1, 61)

    def o(metric: str, *arms: dict) -> np.ndarray:
        return _o(metric, seeds=seeds, **{k: v for a in arms for k, v in a.items()})

    def saved(*knockout: dict) -> np.ndarray:  # per seed: casualties low - high trust
        return o("casualties_total", LOW_TRUST, *knockout) - o("casualties_total", HIGH_TRUST,
                                                              *knockout)

    return {
        "tips: high - low initial trust": paired(o("tips_total", HIGH_TRUST),
                                                 o("tips_total", LOW_TRUST)),
        "interdictions: high - low initial trust": paired(
            o("interdictions_total", HIGH_TRUST), o("interdictions_total", LOW_TRUST)),
        "casualties: low - high initial trust": paired(o("casualties_total", LOW_TRUST),
                                                       o("casualties_total", HIGH_TRUST)),
        "benefit of trust lost without reports (p_tip = 0)": paired(saved(), saved(NO_TIPS)),
        "benefit of trust lost with tips unused (information off)": paired(
            saved(), saved(TIPS_UNUSED)),
    }


#: a violent context (aggression 0.15): armed groups attack often, so informants are targeted
VIOLENT = {"armed_groups.aggression": 0.15}
NO_FEAR = {"information.fear_gain": 0.0, "information.fear_hear_gain": 0.0}


def effect_12() -> dict[str, Row]:
    """Retaliation silences: residents who see or hear of attacks on informants report less
    for a while (fear). Knocking fear out (no fear from seeing or hearing of retaliation)
    gives more reports and, through them, more interdictions; whether that saves lives is
    the third row (not shown at 3 SE: see ``NOT_SHOWN``)."""
    seeds = range(1, 61)

    def o(metric: str, arm: dict) -> np.ndarray:
        return _o(metric, seeds=seeds, **{**VIOLENT, **arm})

    return {
        "tips: fear off - on": paired(o("tips_total", NO_FEAR), o("tips_total", {})),
        "interdictions: fear off - on": paired(o("interdictions_total", NO_FEAR),
                                               o("interdictions_total", {})),
        "casualties: fear on - off": paired(o("casualties_total", {}),
                                            o("casualties_total", NO_FEAR)),
    }


LOW_RESTRAINT = {"strategy.restraint": 0.2}
HIGH_RESTRAINT = {"strategy.restraint": 0.95}
NO_HARM = {"mechanisms.collateral_harm": False}
EFFECT_13_SEEDS = range(1, 17)


def effect_13() -> dict[str, Row]:
    """Collateral harm feeds the insurgency (Condra & Shapiro 2012): with low restraint,
    interdictions harm bystanders, and recruitment and attacks in the second half of the run
    rise; with ``mechanisms.collateral_harm`` off, restraint makes no difference at all (the
    same runs, seed by seed: those rows are asserted to be exactly 0, see ``EXACT_ZERO``)."""
    def o(metric: str, *arms: dict) -> np.ndarray:
        return _o(metric, seeds=EFFECT_13_SEEDS, **{k: v for a in arms for k, v in a.items()})

    rows = {}
    for metric, what in (("recruits_late", "late recruits"), ("attacks_late", "late attacks"),
                         ("casualties_total", "casualties")):
        rows[f"{what}: low - high restraint"] = paired(o(metric, LOW_RESTRAINT),
                                                       o(metric, HIGH_RESTRAINT))
        rows[f"{what}, collateral harm off: low - high restraint"] = paired(
            o(metric, LOW_RESTRAINT, NO_HARM), o(metric, HIGH_RESTRAINT, NO_HARM))
    return rows


EFFECTS: dict[int, Callable[[], dict[str, Row]]] = {
    i: globals()[f"effect_{i}"] for i in (1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13)
}

#: expected effects the model does not show robustly at Z standard errors: (effect, row) ->
#: what was measured. Not asserted (the science rule: no parameter or rule is tuned to make
#: them show); the lead decides what to do about them.
NOT_SHOWN: dict[tuple[int, str], str] = {
    (11, "benefit of trust lost without reports (p_tip = 0)"): (
        "positive on every seed set tried but near 3 SE: on model2 2de2d98 (seeds 1-60) "
        "10.2 +- 2.9 (3.6 SE) of the 37 lives trust saves; on ce3e6a2 8.7 +- 2.9 (3.0 SE, "
        "seeds 1-60) and 9.8 +- 3.3 (2.9 SE, seeds 1-40). With tips unused (information "
        "off) 15.9 +- 2.9 (5.4 SE), asserted on those commits"),
    (11, "benefit of trust lost with tips unused (information off)"): (
        "shown on Model 2.0 (I) (15.9 +- 2.9, 5.4 SE, seeds 1-60), smaller once the Model 2.0 "
        "(II) mechanisms were merged (main 83a66c0 and 2c5e4ee, seeds 1-60: 7.7 +- 3.08, 2.5 "
        "SE). Knock-outs of the (II) mechanisms active in the baseline, one by one (2c5e4ee, "
        "seeds 1-60): acceptance off 14.6 +- 2.4, weapons off 13.9 +- 2.5, protection sites "
        "and roads off the same runs (the baseline has none), all four off 8.4 +- 2.2: no "
        "single mechanism takes the share measurably (each difference from 7.7 is under 2 SE "
        "of a difference), so what moved it is not identified"),
    (12, "casualties: fear on - off"): (
        "not measurable: +2.3 +- 6.2 casualties (0.4 SE) on model2 2de2d98, +5.3 +- 5.7 "
        "(0.9 SE) on ce3e6a2, seeds 1-60 in the violent context: the extra tips and "
        "interdictions without fear do not measurably save lives"),
}


#: rows a knock-out must reduce to nothing: the same runs seed by seed (mean and SE 0)
EXACT_ZERO: set[tuple[int, str]] = {
    (13, f"{what}, collateral harm off: low - high restraint")
    for what in ("late recruits", "late attacks", "casualties")
}


def expected(number: object) -> Expected:
    """What the design expects of effect ``number``'s rows (``NOT_SHOWN``, ``EXACT_ZERO``)."""
    return Expected.of(number, not_shown=NOT_SHOWN, exact_zero=EXACT_ZERO)


@pytest.mark.parametrize("number", sorted(EFFECTS))
def test_expected_effect(number: int) -> None:
    """Every row of the effect shows it, except the rows of ``NOT_SHOWN`` (an expected
    failure if they do not show either) and the knock-outs of ``EXACT_ZERO`` (exactly 0)."""
    check(number, EFFECTS[number](), expected(number))


# --------------------------------------------------------------------------- mediation

#: knock-out states: everything on, information off, trust -> recruitment off, both off.
#: Information is knocked out by ``trust.p_tip = 0`` (no reports at all: no tips, and no
#: informants to retaliate against), the switch that cuts the channel entirely.
KNOCKOUTS: dict[str, dict[str, Any]] = {
    "on": {},
    "no_information": dict(NO_TIPS),
    "no_recruitment": {"mechanisms.trust_recruitment": False},
    "neither": {**NO_TIPS, "mechanisms.trust_recruitment": False},
}


def engagement_share(share: float) -> dict[str, float]:
    """The baseline's role shares with ``engagement`` set to ``share`` and every other role
    scaled in proportion (so the shares still sum to 1)."""
    roles = load_scenario(BASELINE).strategy.roles.model_dump()
    scale = (1.0 - share) / (1.0 - roles["engagement"])
    return {f"strategy.roles.{r}": share if r == "engagement" else v * scale
            for r, v in roles.items()}


#: each lever: (label of the comparison, high setting, low setting), on the baseline
LEVERS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "engagement share": ("0.4 vs 0.05", engagement_share(0.4), engagement_share(0.05)),
    "cultural competence": ("0.9 vs 0.1", {"strategy.cultural_competence": 0.9},
                            {"strategy.cultural_competence": 0.1}),
    "restraint": ("0.95 vs 0.2", {"strategy.restraint": 0.95}, {"strategy.restraint": 0.2}),
    "early warning": ("0.9 vs 0.1", {"strategy.early_warning": 0.9},
                      {"strategy.early_warning": 0.1}),
}
MEDIATION_SEEDS = range(1, 21)
BOOTSTRAP = 2000


#: scales of the casualty effect: lives saved, or the log ratio log(1 + C_low) - log(1 + C_high)
#: (relative: a channel that removes a share of casualties removes the same log amount
#: whatever the level of violence the other knock-outs leave)
SCALES: dict[str, Callable[[np.ndarray], np.ndarray]] = {"count": lambda c: c,
                                                         "log": np.log1p}


def lives_saved(lever: str, knockout: str, seeds: Iterable[int] = MEDIATION_SEEDS,
                scale: str = "count") -> np.ndarray:
    """Per seed: civilian casualties with the lever low minus with it high (positive: the
    lever saves lives), in knock-out state ``knockout``, on ``scale`` (``SCALES``)."""
    _, high, low = LEVERS[lever]
    ko = KNOCKOUTS[knockout]
    f = SCALES[scale]
    return (f(_o("casualties_total", seeds=seeds, **{**low, **ko}))
            - f(_o("casualties_total", seeds=seeds, **{**high, **ko})))


def _shares(t: Mapping[str, float]) -> dict[str, float]:
    """Shares of the total effect ``t["on"]``: lost when information is knocked out, lost
    when trust -> recruitment is knocked out, left with both out (direct), and the rest
    (the two channels' interaction: the shares need not add up in a non-linear model)."""
    total = t["on"]
    info = (total - t["no_information"]) / total
    recruitment = (total - t["no_recruitment"]) / total
    direct = t["neither"] / total
    return {"information": info, "recruitment": recruitment, "direct": direct,
            "interaction": 1.0 - info - recruitment - direct}


def mediation(effects: Mapping[str, np.ndarray], bootstrap: int = BOOTSTRAP,
              seed: int = 0) -> dict[str, Any]:
    """Totals and shares with standard errors from paired per-seed effects in each knock-out
    state (the same seeds in every state). Totals: mean and SE of the per-seed effects.
    Shares: of the means, SEs from a bootstrap over seeds (the same resampled seeds in every
    state). Shares are None when the total is within ``Z`` SEs of zero (not meaningful)."""
    arrays = {k: np.asarray(effects[k], dtype=float) for k in KNOCKOUTS}
    n = {len(a) for a in arrays.values()}
    if len(n) != 1:
        raise ValueError(f"knock-out states have different numbers of seeds: {sorted(n)}")
    n_seeds = n.pop()
    totals = {k: (float(a.mean()), float(a.std(ddof=1) / np.sqrt(n_seeds)))
              for k, a in arrays.items()}
    mean, se = totals["on"]
    out: dict[str, Any] = {"totals": totals, "shares": None}
    if abs(mean) <= Z * se or mean == 0.0:
        return out
    point = _shares({k: v[0] for k, v in totals.items()})
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_seeds, size=(bootstrap, n_seeds))
    boot = {k: a[draws].mean(axis=1) for k, a in arrays.items()}
    with np.errstate(divide="ignore", invalid="ignore"):
        resampled = _shares(boot)
    out["shares"] = {k: (v, float(np.nanstd(resampled[k], ddof=1))) for k, v in point.items()}
    return out


def mediation_rows(lever: str, seeds: Iterable[int] = MEDIATION_SEEDS) -> dict[str, Any]:
    """The mediation of one lever's effect on civilian casualties, on each scale."""
    return {scale: mediation({k: lives_saved(lever, k, seeds, scale) for k in KNOCKOUTS})
            for scale in SCALES}


def test_mediation_shares_are_relative_to_the_total_with_everything_on() -> None:
    """Constructed per-seed effects: total 10, 4 left without information, 7 without
    recruitment, 2 without both -> 60 % through information, 30 % through recruitment, 20 %
    direct, -10 % interaction; noise-free effects have zero standard errors; a total within
    noise gives no shares; mismatched seeds are refused."""
    ones = np.ones(8)
    exact = mediation({"on": 10 * ones, "no_information": 4 * ones,
                       "no_recruitment": 7 * ones, "neither": 2 * ones})
    assert exact["totals"]["neither"] == (2.0, 0.0)
    expected = {"information": 0.6, "recruitment": 0.3, "direct": 0.2, "interaction": -0.1}
    for channel, share in expected.items():
        assert exact["shares"][channel][0] == pytest.approx(share)
        assert exact["shares"][channel][1] == pytest.approx(0.0, abs=1e-12)
    rng = np.random.default_rng(1)
    noisy = mediation({k: v * ones + rng.normal(0.0, 1.0, 8) for k, v in
                       {"on": 10, "no_information": 4, "no_recruitment": 7, "neither": 2}.items()})
    assert all(se > 0 for _, se in noisy["shares"].values())
    assert sum(v for v, _ in noisy["shares"].values()) == pytest.approx(1.0)
    null = mediation({k: rng.normal(0.0, 1.0, 8) for k in KNOCKOUTS})
    assert null["shares"] is None
    with pytest.raises(ValueError, match="different numbers of seeds"):
        mediation({"on": ones, "no_information": ones, "no_recruitment": ones,
                   "neither": np.ones(7)})


def test_early_warning_acts_only_through_information() -> None:
    """The model's structure, seen through the mediation: early warning only changes how far
    and how fast tips travel, so with information knocked out (``trust.p_tip = 0``) high and
    low early warning give the same runs, seed by seed: the totals without information and
    without both are exactly 0."""
    seeds = range(1, 5)
    for knockout in ("no_information", "neither"):
        np.testing.assert_array_equal(lives_saved("early warning", knockout, seeds), 0.0)


# --------------------------------------------------------------------------- the tables


def _fmt(mean: float, se: float, digits: int = 3) -> str:
    return f"{mean:.{digits}g} ± {se:.2g}" if se > 0 else f"{mean:.{digits}g}"


def effects_table(results: Mapping[int, dict[str, Row]]) -> str:
    """Markdown: one row per comparison, with mean/SE and whether it is asserted."""
    return table(results, expected)


def mediation_table(rows: Mapping[str, dict[str, Any]]) -> str:
    """Markdown: each lever's effect on civilian casualties (lives saved by raising it) in
    the four knock-out states, and the shares of the total (with everything on)."""
    head = ["lever (high vs low)", "total effect", "without information",
            "without trust → recruitment", "without both", "through information",
            "through recruitment", "direct", "interaction"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for lever, res in rows.items():
        cells = [f"{lever} ({LEVERS[lever][0]})"]
        cells += [_fmt(*res["totals"][k]) for k in KNOCKOUTS]
        if res["shares"] is None:
            cells += ["n/a (total within 3 SE of 0)"] + [""] * 3
        else:
            cells += [f"{100 * v:.0f} % ± {100 * se:.0f}" for v, se in res["shares"].values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _effect(number: int) -> dict[str, Row]:
    return EFFECTS[number]()


def tables(jobs: int) -> str:
    """The effects table and the mediation table, computed on ``jobs`` worker processes."""
    with ProcessPoolExecutor(max_workers=jobs,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        meds = {lever: pool.submit(mediation_rows, lever) for lever in LEVERS}
        effs = {n: pool.submit(_effect, n) for n in EFFECTS}
        effects = {n: f.result() for n, f in effs.items()}
        mediated = {lever: f.result() for lever, f in meds.items()}
    seeds = MEDIATION_SEEDS
    return (
        "### Expected effects (MODEL.md section 6), paired on common seeds\n\n"
        f"Baseline scenario ({BASELINE.name}, 50 x 50 cells), {TICKS} weekly ticks and no "
        "exit unless stated; seeds and contexts per effect in tests/test_effects.py. "
        "Mean difference and standard error of the paired difference over seeds.\n\n"
        + effects_table(effects)
        + "\n\n### Mediation of the casualty effect of strategy levers\n\n"
        f"Baseline scenario, {TICKS} ticks, no exit, seeds {seeds.start}-{seeds.stop - 1}. "
        "Effect = civilian casualties with the lever low minus high (lives saved), mean ± SE "
        "over seeds (positive: raising the lever saves lives). Information knocked out: "
        "trust.p_tip = 0 (no reports); trust → recruitment knocked out: "
        "mechanisms.trust_recruitment = false. Share through a channel = (total - total "
        "without it) / total; direct = total without both / total; interaction = the rest "
        "(the channels do not add up: knocking trust → recruitment out raises the level of "
        f"violence). Share SEs: bootstrap over seeds ({BOOTSTRAP} draws); no shares when the "
        "total is within 3 SE of 0.\n\n"
        + mediation_table({lever: m["count"] for lever, m in mediated.items()})
        + "\n\nThe same on the relative scale: effect = log(1 + casualties, lever low) - "
        "log(1 + casualties, lever high).\n\n"
        + mediation_table({lever: m["log"] for lever, m in mediated.items()}) + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    """Print (and with --out write) the effects table and the mediation table."""
    return cli(__doc__.splitlines()[0], tables, argv)


if __name__ == "__main__":
    sys.exit(main())
