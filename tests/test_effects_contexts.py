"""Weapons, roads and community feedback (ODD 7.20, 7.24, 7.27) in the contexts where they
bind by their own design, paired on common seeds.

On the baseline none of the three has a measurable effect, because none of them binds there:
weapons are never scarce (no arming ever fails), there are no roads, and the mission is not
adaptive. Each context under ``scenarios/contexts/`` is a documented difference from
``baseline.toml`` (or ``two_communities.toml``) that makes its mechanism bind, and nothing
else; no parameter was tuned to make a row show.

* **Weapons** (``arms_embargo.toml``: a leaky embargo, a small reserve, one cache): with
  ``strategies/ddr_focus.toml`` (many weapons collected), collected weapons destroyed
  (``ddr.destroy_share`` 1) against stored (0); and the context as shipped with
  ``mechanisms.weapons`` on against off (nobody needs a weapon).
* **Roads** (``road_network.toml``: a large sparse region, ~64 settlements linked by roads):
  ``mechanisms.roads`` on against off, and roads rebuilt by programmes
  (``roads.rebuild_rate`` as shipped) against not rebuilt (0).
* **Community feedback** (``biased_feedback.toml``: two communities, low trust, an adaptive
  mission partial to community 0): the review reading what residents and leaders tell it
  (``mechanisms.community_feedback`` on) against the omniscient reading of the map (off);
  the same with an impartial force (``strategy.partiality`` 0) for contrast.

A row is shown when its mean paired difference exceeds ``Z`` standard errors in the
expected direction; rows are oriented so that the expected effect is positive. Rows the
design expects but the model does not show at that margin are listed in ``NOT_SHOWN`` with
the measured numbers (the test is an expected failure once the other rows have been
asserted); rows with no expected direction are in ``MEASURED`` and never asserted.

``python tests/test_effects_contexts.py [--jobs N]`` prints the rows as ODD section 9
lists them.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from effect_rows import Expected, Row, check, cli, paired, table

import sim.engine.layout as K
from sim import load_scenario
from sim.io.recorder import summarise, timeseries
from sim.model.model import PeaceSimModel

ROOT = Path(__file__).resolve().parents[1]
CONTEXTS = ROOT / "scenarios" / "contexts"
DDR_FOCUS = ROOT / "scenarios" / "strategies" / "ddr_focus.toml"
pytestmark = pytest.mark.slow

#: the arms: name -> (context file, strategy file or None, overrides)
ARMS: dict[str, tuple[Path, Path | None, dict]] = {
    "store": (CONTEXTS / "arms_embargo.toml", DDR_FOCUS, {"ddr.destroy_share": 0.0}),
    "destroy": (CONTEXTS / "arms_embargo.toml", DDR_FOCUS, {"ddr.destroy_share": 1.0}),
    "weapons on": (CONTEXTS / "arms_embargo.toml", None, {}),
    "weapons off": (CONTEXTS / "arms_embargo.toml", None, {"mechanisms.weapons": False}),
    "roads on": (CONTEXTS / "road_network.toml", None, {}),
    "roads off": (CONTEXTS / "road_network.toml", None, {"mechanisms.roads": False}),
    "not rebuilt": (CONTEXTS / "road_network.toml", None, {"roads.rebuild_rate": 0.0}),
    # a diagnostic bound, not a context: rapid response twice as fast on every move, no roads
    "fast response": (CONTEXTS / "road_network.toml", None,
                      {"mechanisms.roads": False, "strategy.rr_speed": 12}),
    "feedback": (CONTEXTS / "biased_feedback.toml", None, {"run.district_series": True}),
    "omniscient": (CONTEXTS / "biased_feedback.toml", None,
                   {"run.district_series": True, "mechanisms.community_feedback": False}),
    "impartial feedback": (CONTEXTS / "biased_feedback.toml", None,
                           {"run.district_series": True, "strategy.partiality": 0.0}),
    "impartial omniscient": (CONTEXTS / "biased_feedback.toml", None,
                             {"run.district_series": True, "strategy.partiality": 0.0,
                              "mechanisms.community_feedback": False}),
}
#: the seeds of each mechanism's arms (as few as give a clear answer)
SEEDS = {"weapons": tuple(range(1, 21)), "roads": tuple(range(1, 21)),
         "feedback": tuple(range(1, 41))}
MECHANISM = {"store": "weapons", "destroy": "weapons", "weapons on": "weapons",
             "weapons off": "weapons", "roads on": "roads", "roads off": "roads",
             "not rebuilt": "roads", "fast response": "roads", "feedback": "feedback",
             "omniscient": "feedback", "impartial feedback": "feedback",
             "impartial omniscient": "feedback"}
SUMMARY_KEYS = ("casualties_total", "attacks_total", "recruits_total", "combatants_mean",
                "weapons_raided_total", "arming_failed_total", "weapons_destroyed_total",
                "attacks_interrupted_total", "mean_economy", "final_road_quality",
                "casualties_group1_total", "mean_trust_pk_group1_mission",
                "tips_per_capita_group1")

_RUNS: dict[tuple[str, int], dict[str, float]] = {}


def _observe(model: PeaceSimModel, out: dict[str, float]) -> None:
    """Per-tick observations of the road context: rapid-response units standing on a road."""
    ai = model.arrays.i[: model.meta[K.META_HIGH]]
    rr = (ai[:, K.I_ALIVE] != 0) & (ai[:, K.I_KIND] == K.PEACEKEEPER) \
        & (ai[:, K.I_ROLE] == K.RAPID_RESPONSE) & (ai[:, K.I_X] >= 0)
    road = model.layer.lay.f[K.L_ROAD]
    out["rr_weeks"] += int(rr.sum())
    out["rr_on_road"] += int((road[ai[rr, K.I_X], ai[rr, K.I_Y]] > 0).sum())


def _roads_end(model: PeaceSimModel, out: dict[str, float]) -> None:
    """The economy at the end on road cells that are not settlements, and at settlements;
    the share of the map's cells that are roads."""
    economy = model.cells.economy.ravel()
    markets = model.layer.market_cells
    roads = np.setdiff1d(model.layer.lay.roads, markets)
    out["economy_on_roads"] = float(economy[roads].mean())
    out["economy_at_settlements"] = float(economy[markets].mean())
    out["road_cell_share"] = model.layer.lay.roads.size / economy.size
    out["rr_on_road_share"] = out["rr_on_road"] / max(out["rr_weeks"], 1.0)


def _feedback_end(model: PeaceSimModel, ts, out: dict[str, float]) -> None:
    """Where the units stood against where the attacks were, by community: each district
    weighted by the share of its cells that belong to community 1, over the weeks units were
    deployed."""
    lay = model.layer.lay
    nd = model.scenario_config.economy.districts ** 2
    district = lay.district.ravel().astype(np.int64)
    g1 = np.bincount(district, weights=(lay.community.ravel() == 1).astype(float),
                     minlength=nd) / np.bincount(district, minlength=nd)
    units = np.stack([ts[f"units_d{i}"].to_numpy() for i in range(nd)], 1).astype(float)
    attacks = np.stack([ts[f"attacks_d{i}"].to_numpy() for i in range(nd)], 1).astype(float)
    live = units.sum(1) > 0
    share = units[live] / units[live].sum(1, keepdims=True)
    out["unit_share_group1"] = float((share * g1).sum(1).mean())
    out["attack_share_group1"] = float((attacks[live] * g1).sum() / max(attacks[live].sum(), 1))
    out["units_moved"] = float(model.layer.units_moved)


def one_run(arm: str, seed: int) -> dict[str, float]:
    """The outcomes of one arm's run on one seed (cached); the run as ``sim.run`` makes it,
    with a look at the model after every tick (roads) and at the end."""
    if (arm, seed) not in _RUNS:
        context, strategy, overrides = ARMS[arm]
        sc = load_scenario(context, overrides=overrides, strategy=strategy)
        model = PeaceSimModel(sc, seed=seed)
        out: dict[str, float] = {"rr_weeks": 0.0, "rr_on_road": 0.0}
        for _ in range(sc.run.ticks):
            model.step()
            if MECHANISM[arm] == "roads":
                _observe(model, out)
        ts = timeseries(model)
        summary = summarise(ts, model.scenario_config, seed)
        for key in SUMMARY_KEYS:
            out[key] = float("nan") if summary.get(key) is None else float(summary[key])
        out["joins_total"] = float(ts["recruits"].sum() + ts["relapses"].sum()
                                   + ts["rejoined"].sum())
        if MECHANISM[arm] == "roads":
            _roads_end(model, out)
        if MECHANISM[arm] == "feedback":
            _feedback_end(model, ts, out)
        _RUNS[arm, seed] = out
    return _RUNS[arm, seed]


def o(metric: str, arm: str) -> np.ndarray:
    return np.array([one_run(arm, s)[metric] for s in SEEDS[MECHANISM[arm]]])


def weapons() -> dict[str, Row]:
    """Under the embargo: destroying collected weapons (DDR focus) and the weapons economy
    itself. Each row oriented so that the expected effect is positive."""
    rows = {}
    for metric, what in (("weapons_raided_total", "weapons raided"),
                         ("joins_total", "joins (recruits, relapses, rejoined)"),
                         ("recruits_total", "recruits"),
                         ("combatants_mean", "mean fighters"),
                         ("attacks_total", "attacks"),
                         ("casualties_total", "civilian casualties")):
        rows[f"{what}: store - destroy"] = paired(o(metric, "store"), o(metric, "destroy"))
    rows["joins without a weapon: destroy - store"] = paired(
        o("arming_failed_total", "destroy"), o("arming_failed_total", "store"))
    for metric, what in (("joins_total", "joins (recruits, relapses, rejoined)"),
                         ("recruits_total", "recruits"),
                         ("attacks_total", "attacks"),
                         ("casualties_total", "civilian casualties")):
        rows[f"{what}: weapons off - on"] = paired(o(metric, "weapons off"),
                                                   o(metric, "weapons on"))
    rows["joins without a weapon (weapons on)"] = paired(
        o("arming_failed_total", "weapons on"), o("arming_failed_total", "weapons off"))
    return rows


def roads() -> dict[str, Row]:
    """Roads on the large sparse map: on against off, and rebuilt against not."""
    rows = {}
    rows["final road quality: on - off"] = paired(o("final_road_quality", "roads on"),
                                                  o("final_road_quality", "roads off"))
    for metric, what in (("casualties_total", "civilian casualties"),
                         ("attacks_total", "attacks")):
        rows[f"{what}: off - on"] = paired(o(metric, "roads off"), o(metric, "roads on"))
    rows["attacks interrupted: on - off"] = paired(o("attacks_interrupted_total", "roads on"),
                                                   o("attacks_interrupted_total", "roads off"))
    rows["economy on road cells (end): on - off"] = paired(
        o("economy_on_roads", "roads on"), o("economy_on_roads", "roads off"))
    rows["economy at settlements (end): on - off"] = paired(
        o("economy_at_settlements", "roads on"), o("economy_at_settlements", "roads off"))
    rows["economy (map mean): on - off"] = paired(o("mean_economy", "roads on"),
                                                  o("mean_economy", "roads off"))
    rows["share of rapid-response unit-weeks on a road - share of cells that are road"] = \
        paired(o("rr_on_road_share", "roads on"), o("road_cell_share", "roads on"))
    rows["civilian casualties, roads off: rr_speed 6 - 12 (every move twice as fast)"] = \
        paired(o("casualties_total", "roads off"), o("casualties_total", "fast response"))
    rows["final road quality: rebuilt - not rebuilt"] = paired(
        o("final_road_quality", "roads on"), o("final_road_quality", "not rebuilt"))
    rows["civilian casualties: not rebuilt - rebuilt"] = paired(
        o("casualties_total", "not rebuilt"), o("casualties_total", "roads on"))
    rows["economy (map mean): rebuilt - not rebuilt"] = paired(
        o("mean_economy", "roads on"), o("mean_economy", "not rebuilt"))
    return rows


def feedback() -> dict[str, Row]:
    """The adaptive review on what people tell it against the omniscient reading."""
    rows = {}
    rows["units' share in community 1's districts: omniscient - feedback"] = paired(
        o("unit_share_group1", "omniscient"), o("unit_share_group1", "feedback"))
    rows["mean trust_pk (mission), community 1: omniscient - feedback"] = paired(
        o("mean_trust_pk_group1_mission", "omniscient"),
        o("mean_trust_pk_group1_mission", "feedback"))
    rows["tips per resident, community 1: omniscient - feedback"] = paired(
        o("tips_per_capita_group1", "omniscient"), o("tips_per_capita_group1", "feedback"))
    rows["casualties, community 1: feedback - omniscient"] = paired(
        o("casualties_group1_total", "feedback"), o("casualties_group1_total", "omniscient"))
    rows["civilian casualties: feedback - omniscient"] = paired(
        o("casualties_total", "feedback"), o("casualties_total", "omniscient"))
    rows["units moved by reviews: omniscient - feedback"] = paired(
        o("units_moved", "omniscient"), o("units_moved", "feedback"))
    rows["units' share in community 1's districts, impartial: omniscient - feedback"] = paired(
        o("unit_share_group1", "impartial omniscient"),
        o("unit_share_group1", "impartial feedback"))
    rows["mean trust_pk (mission), community 1, impartial: omniscient - feedback"] = paired(
        o("mean_trust_pk_group1_mission", "impartial omniscient"),
        o("mean_trust_pk_group1_mission", "impartial feedback"))
    return rows


EFFECTS: dict[str, Callable[[], dict[str, Row]]] = {
    "weapons": weapons, "roads": roads, "feedback": feedback}

#: rows the design expects that the model does not show at Z standard errors: what was
#: measured (2026-12-02, branch contexts; weapons and roads on seeds 1-20, feedback 1-40)
NOT_SHOWN: dict[tuple[str, str], str] = {
    ("weapons", "attacks: store - destroy"): (
        "3.3 +- 4.7: the extra joins (+29, mean fighters +1.3 of 13-14) do not add "
        "measurable attacks"),
    ("weapons", "civilian casualties: store - destroy"): (
        "1.9 +- 2.1"),
    ("roads", "civilian casualties: off - on"): (
        "-3.5 +- 5.4: rapid-response units stand on a road in 13 % of their weeks, no "
        "more than the roads' share of the map, and even twice their speed on every move "
        "saves no measurable lives here"),
    ("roads", "attacks: off - on"): (
        "-5.7 +- 16.6"),
    ("roads", "attacks interrupted: on - off"): (
        "-0.05 +- 1.9"),
    ("roads", "economy (map mean): on - off"): (
        "-0.0005 +- 0.0022: trade along roads moves economy from settlements (-0.038, 5.7 "
        "SE) onto the roads without raising the map's mean"),
    ("roads", "civilian casualties: not rebuilt - rebuilt"): (
        "-4.1 +- 5.2"),
    ("roads", "economy (map mean): rebuilt - not rebuilt"): (
        "-0.0024 +- 0.0013"),
    ("feedback", "casualties, community 1: feedback - omniscient"): (
        "0.85 +- 2.1: the units the review sends elsewhere cost community 1 trust, not "
        "measurable lives"),
    ("feedback", "civilian casualties: feedback - omniscient"): (
        "3.0 +- 3.2"),
}
#: rows with no expected direction (or a contrast): printed, never asserted
MEASURED: set[tuple[str, str]] = {
    ("weapons", "mean fighters: store - destroy"),
    ("roads", "economy on road cells (end): on - off"),
    ("roads", "economy at settlements (end): on - off"),
    ("roads", "share of rapid-response unit-weeks on a road - share of cells that are road"),
    ("roads", "civilian casualties, roads off: rr_speed 6 - 12 (every move twice as fast)"),
    ("feedback", "tips per resident, community 1: omniscient - feedback"),
    ("feedback", "units moved by reviews: omniscient - feedback"),
    ("feedback", "units' share in community 1's districts, impartial: omniscient - feedback"),
    ("feedback", "mean trust_pk (mission), community 1, impartial: omniscient - feedback"),
}


def expected(name: object) -> Expected:
    """What the design expects of context ``name``'s rows (``NOT_SHOWN``, ``MEASURED``)."""
    return Expected.of(name, not_shown=NOT_SHOWN, measured=MEASURED)


def test_weapons_matter_where_they_are_scarce() -> None:
    check("weapons", weapons(), expected("weapons"))


def test_roads_where_settlements_are_linked_by_roads() -> None:
    check("roads", roads(), expected("roads"))


def test_community_feedback_biases_an_adaptive_partial_mission() -> None:
    check("feedback", feedback(), expected("feedback"))


def _runs(args: tuple[str, int]) -> tuple[str, int, dict[str, float]]:
    arm, seed = args
    return arm, seed, one_run(arm, seed)


def text(jobs: int) -> str:
    """The rows as ODD section 9 lists them, from runs on ``jobs`` worker processes."""
    work = [(arm, s) for arm in ARMS for s in SEEDS[MECHANISM[arm]]]
    work.sort(key=lambda j: MECHANISM[j[0]] != "roads")  # the slow runs first
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as ex:
        for arm, seed, out in ex.map(_runs, work):
            _RUNS[arm, seed] = out
    return table({name: effects() for name, effects in EFFECTS.items()}, expected)


def main(argv: list[str] | None = None) -> int:
    """Print the rows as ODD section 9 lists them."""
    return cli(__doc__.splitlines()[0], text, argv)


if __name__ == "__main__":
    raise SystemExit(main())
