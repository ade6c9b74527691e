"""Pattern-oriented validation (``sim.evidence.patterns``, ``peacesim patterns``).

The framework is tested on synthetic patterns over tiny worlds whose verdicts are known: one
whose criterion must hold (more residents at a higher density) and one that must fail (the
reverse). Statistics are checked on hand-made data; the CLI's exit codes, the report's one
section and one figure per pattern, resume, failed runs and the registry's designs are
checked too. The shipped registry's ``--quick`` run is a slow test.
"""

from __future__ import annotations

import json
import math
import time
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.config.scenario import build_scenario, read_toml
from sim.evidence import patterns as P
from sim.evidence.pattern_report import format_table, table_rows, write_report

TINY = {"world.width": 10, "world.height": 10}


def _design(name: str = "tiny_density", reps: int = 3) -> P.Design:
    return P.Design(
        name=name, scenario="epstein_model1.toml",
        arms=(P.Arm("sparse", {"residents.density": 0.3}, 0.3, "density"),
              P.Arm("dense", {"residents.density": 0.7}, 0.7, "density")),
        replications=reps, ticks=5, set=TINY, metrics=("active",),
        quick={"replications": 2, "ticks": 3})


def _pattern(name: str, sign: int, design: P.Design | None = None,
             **extra: object) -> P.Pattern:
    """More residents where the density is higher: holds with sign +1, fails with -1."""

    def evaluate(runs: P.Runs) -> P.Evaluation:
        w = runs.wide("residents_initial", ["sparse", "dense"])
        diff = P.bootstrap(w, lambda d: float(sign * (d["dense"] - d["sparse"]).mean()))
        checks = [P.check_positive("residents, dense minus sparse", diff)]
        assert runs.series is not None and not runs.series.empty  # the kept metric arrived
        return P.Evaluation(P.verdict(checks), checks,
                            P.arm_curves(runs, "residents_initial"), xlabel="density",
                            ylabel="residents")

    fields: dict = dict(
        name=name, title=f"synthetic {name}", citations=("none (a test)",),
        claim="more residents at a higher density", design=design or _design(),
        statistic="initial residents", criterion="difference > 0", mechanism="placement",
        empirical=P.Empirical("shape", "rising", x=(0.3, 0.7), y=(0.3, 0.7)),
        evaluate=evaluate, requires_summary=("residents_initial",),
        requires_metrics=("active",))
    fields.update(extra)
    return P.Pattern(**fields)


def _run(patterns, out: Path, **kw) -> P.PatternRun:
    return P.run_patterns(patterns, out, workers=0, progress=False, **kw)


# --------------------------------------------------------------------------- statistics


def test_t_interval_matches_the_textbook():
    s = P.t_ci([1.0, 2.0, 3.0, 4.0])
    assert s.value == pytest.approx(2.5)
    half = 3.182446 * np.std([1, 2, 3, 4], ddof=1) / 2  # t(0.975, 3)
    assert (s.low, s.high) == pytest.approx((2.5 - half, 2.5 + half), rel=1e-5)
    assert math.isnan(P.t_ci([1.0]).low) and math.isnan(P.t_ci([]).value)


def test_paired_bootstrap_keeps_pairs_together():
    rng = np.random.default_rng(3)
    base = rng.normal(0, 10, 30)  # large between-replication noise ...
    w = pd.DataFrame({"a": base, "b": base + 1.0})  # ... and an exact paired difference
    s = P.bootstrap(w, lambda d: float((d["b"] - d["a"]).mean()))
    assert s.value == pytest.approx(1.0) and s.low == pytest.approx(1.0)
    assert s.high == pytest.approx(1.0)
    unpaired = P.bootstrap(w, lambda d: float(d["b"].mean() - d["a"].sample(
        frac=1, replace=True, random_state=0).mean()))
    assert unpaired.high - unpaired.low > 1.0  # unpaired, the noise would swamp it


def test_checks_report_by_how_much_they_fail():
    c = P.check_positive("x", P.Stat(0.4, -0.1, 0.9))
    assert not c.holds and "-0.1" in c.note and "short of 0" in c.note
    assert P.check_positive("x", P.Stat(0.4, 0.1, 0.9)).holds
    b = P.check_below("r", P.Stat(0.9, 0.7, 1.2), 1.0)
    assert not b.holds and "1.2" in b.note
    assert P.check_below("r", P.Stat(0.8, 0.7, 0.95), 1.0).holds
    assert P.verdict([]) == "fails"  # no evidence is not a pass


def test_spearman_and_undefined_cases():
    assert P.spearman([0, 1, 2, 3], [1, 2, 5, 9]) == pytest.approx(1.0)
    assert P.spearman([0, 1, 2, 3], [9, 5, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(P.spearman([0, 1, 2], [4, 4, 4]))


def test_waiting_times_between_outbursts():
    active = np.array([0, 60, 70, 0, 0, 0, 55, 0, 0, 80, 90, 0])
    # outbursts at 1-2, 6, 9-10: waits 6 - 3 = 3 and 9 - 7 = 2; censored ends left out
    assert P.waiting_times(active, 50).tolist() == [3.0, 2.0]
    assert P.waiting_times(np.zeros(10), 50).tolist() == []
    assert P.waiting_times(np.array([60, 60, 0, 0, 60]), 50).tolist() == [2.0]


def test_district_helpers():
    nb = P.district_neighbours(3)  # ids bx * 3 + by
    assert sorted(nb[4]) == [1, 3, 5, 7] and sorted(nb[0]) == [1, 3]
    assert P.monthly(np.arange(10)).tolist() == [6, 22]
    # 2x2 districts, 3 months: district 0 violent in month 0; neighbours 1 and 2 are calm
    # and next to it; district 1 turns violent in month 1, district 2 does not
    attacks = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]])
    events, opps = P.contagion_counts(attacks, 2)
    # month 0: districts 1, 2 exposed (1 turns violent); month 1: districts 0, 3 exposed
    assert (events, opps) == (1, 4)
    units = np.array([[1, 0], [0, 2], [0, 0]])
    a = np.array([[1, 3], [1, 0], [2, 2]])  # with units: 1 + 0; without: 3 + 1 + 2 + 2
    assert P.presence_rates(a, units) == (1.0, 2, 8.0, 4)


def test_window_and_half_sums():
    s = pd.DataFrame({"tick": np.arange(11), "c": np.arange(11.0)})
    assert P.window_sum(s, "c", after=3, length=2) == 4 + 5  # the ticks after, not the exit
    assert P.window_sum(s, "c", after=9, length=5) == 10  # cut at the end of the run
    assert math.isnan(P.window_sum(s, "c", after=10, length=3))
    early, late = P.half_sums(s, ["c"])  # ticks 1-5 and 6-10 (tick 0 is the set-up)
    assert (early["c"], late["c"]) == (15.0, 40.0)


def _made_up_runs(design: P.Design, series_of, summary_of=lambda arm, rep: {}) -> P.Runs:
    """Runs of ``design`` with per-tick series and summary entries made up per arm and
    replicate: the evaluation functions tested on data whose answer is known."""
    summaries, series = [], []
    for arm in design.arms:
        for rep in range(design.replications):
            summaries.append({"arm": arm.name, "replicate": rep, **summary_of(arm.name, rep)})
            s = series_of(arm.name, rep)
            series.append(s.assign(arm=arm.name, replicate=rep))
    return P.Runs(design, pd.DataFrame(summaries), pd.concat(series, ignore_index=True))


def test_relapse_is_deaths_after_exit_against_the_same_weeks_without_a_mission():
    pattern = P.collier_fortna_relapse()
    d = replace(pattern.design, replications=6,
                set={**pattern.design.set, "mission.exit_window": 4})
    ticks = np.arange(0, 40)
    exit_at = {"base": 10, "larger": 10, "longer": 20}
    # without a mission 2 battle deaths and 1 civilian death a week; after an exit the
    # base mission leaves half of that, the larger a quarter, the longer nothing
    share = {"base": 0.5, "larger": 0.25, "longer": 0.0}

    def series_of(arm: str, rep: int) -> pd.DataFrame:
        if arm == "no mission":
            return pd.DataFrame({"tick": ticks, "battle_deaths": 2.0,
                                 "civilian_casualties": 1.0})
        after = ticks > exit_at[arm]
        f = np.where(after, share[arm], 5.0)  # violent before the exit: not in the window
        return pd.DataFrame({"tick": ticks, "battle_deaths": 2.0 * f,
                             "civilian_casualties": 1.0 * f})

    def summary_of(arm: str, rep: int) -> dict:
        no_exit = arm == "longer" and rep == 5  # one replication never exits: left out
        return {"exit_tick": None if arm == "no mission" or no_exit else exit_at[arm],
                "relapse_ratio_battle": 1.0, "relapse_ratio_civilian": 1.0}

    runs = _made_up_runs(d, series_of, summary_of)
    table, dropped = P.relapse_table(runs, ("base", "larger", "longer"), 4)
    assert dropped == 1 and list(table.index) == [0, 1, 2, 3, 4]
    assert table.loc[0, "battle:base"] == 4 * 2 * 0.5 and table.loc[0, "battle:base:ref"] == 8
    assert P.relapse_ratio(table, "battle", "larger") == pytest.approx(0.25)
    ev = pattern.evaluate(runs)
    assert ev.status == "holds", [c.note for c in ev.checks]
    assert [c.stat.value for c in ev.checks] == pytest.approx([0.5, 0.25, 0.5])
    # missions after which more fighters die than without one fail, and say by how much
    share.update(base=1.5, larger=1.5, longer=1.5)
    bad = pattern.evaluate(_made_up_runs(d, series_of, summary_of))
    assert bad.status == "fails" and "beyond 1" in bad.checks[0].note


def test_collateral_harm_pattern_reads_early_harm_and_later_violence():
    pattern = P.condra_shapiro_2012()
    d = replace(pattern.design, replications=5)
    ticks = np.arange(0, 21)

    def series_of(low: int):
        def f(arm: str, rep: int) -> pd.DataFrame:
            harmful = arm == "low restraint"
            rng = np.random.default_rng(rep)
            noise = rng.integers(0, 2, len(ticks)).astype(float)
            late = (ticks > 10).astype(float) * (low if harmful else 0)
            return pd.DataFrame({"tick": ticks,
                                 "harmed_by_security": (ticks <= 10) * float(harmful),
                                 "recruits": noise + late, "attacks": noise + late,
                                 "clashes": noise})
        return f

    ev = pattern.evaluate(_made_up_runs(d, series_of(1)))
    assert ev.status == "holds", [c.note for c in ev.checks]
    assert [c.stat.value for c in ev.checks] == pytest.approx([10.0, 10.0, 10.0])
    assert "0 [0, 0]" in ev.notes[1]  # the knock-out arms: no harm, no difference
    ev = pattern.evaluate(_made_up_runs(d, series_of(0)))  # harm followed by nothing
    assert ev.status == "fails" and ev.checks[0].holds and not ev.checks[2].holds


def test_registry_reads_what_model_2_reports():
    """Every pattern's statistic is one the model reports, except the two that need what
    the model lacks: per-district series (FHN 2019, Beardsley 2011). A renamed summary key or per-tick column fails here."""
    probed: dict[str, tuple[set[str], set[str]]] = {}

    def probe(design: P.Design) -> tuple[set[str], set[str]]:
        if design.name not in probed:
            probed[design.name] = P.probe_outputs(design)
        return probed[design.name]

    lacking = {p.name: P.missing_inputs(p, p.design.resolved(True), probe)
               for p in P.all_patterns()}
    assert {k: v for k, v in lacking.items() if v} == {
        "fjelde2019_local_presence": ["per-tick column attacks_d{i} (one per district)",
                                      "per-tick column units_d{i} (one per district)"],
        "beardsley2011_contagion": ["per-tick column attacks_d{i} (one per district)",
                                    "per-tick column clashes_d{i} (one per district)"],
    }


# --------------------------------------------------------------------------- designs


def test_quick_settings_apply_to_the_design():
    d = P.Design(name="x", scenario="baseline.toml", arms=(P.Arm("a", {"k.v": 1}),),
                 replications=10, ticks=100, set={"s": 1},
                 quick={"replications": 2, "ticks": 10, "set": {"t": 2},
                        "arm_set": {"a": {"k.w": 3}}})
    q = d.resolved(quick=True)
    assert (q.replications, q.ticks) == (2, 10)
    assert dict(q.set) == {"s": 1, "t": 2} and dict(q.arms[0].set) == {"k.v": 1, "k.w": 3}
    assert d.resolved(quick=False).ticks == 100


def test_registry_designs_are_valid_scenarios():
    """Every arm of every registry design builds, except parameters a pattern declares the
    model does not have yet; names are unique and shared designs are identical."""
    pats = P.all_patterns()
    assert len({p.name for p in pats}) == len(pats) >= 12
    by_design: dict[str, dict] = {}
    for p in pats:
        for quick in (False, True):
            d = p.design.resolved(quick)
            spec = by_design.setdefault(f"{d.name}:{quick}", d.spec())
            assert spec == d.spec(), p.name
            data = read_toml(P.SCENARIOS / d.scenario)
            for arm in d.arms:
                over = {k: v for k, v in {**d.set, **arm.set}.items()
                        if k not in p.requires_params}
                build_scenario(data, p.name, over)
        assert p.citations and p.claim and p.criterion and p.mechanism


def test_spec_toml_round_trips():
    text = P.spec_toml(P.all_patterns(), quick=True)
    data = tomllib.loads(text)
    assert data["quick"] is True
    hks = data["patterns"]["hks2013_troops"]
    assert hks["design"] == "troops_and_police" and hks["replications"] == 4
    assert hks["set"]["mission.drawdown_start"] == "none"


def test_unknown_pattern_names_are_refused():
    with pytest.raises(P.PatternError, match="no_such.*known patterns: hks2013_troops"):
        P.select(P.all_patterns(), ["hks2013_troops", "no_such"])
    assert [p.name for p in P.select(P.all_patterns(), ["bennett2008_accuracy"])] == [
        "bennett2008_accuracy"]


# --------------------------------------------------------------------------- running


def test_a_pattern_that_must_hold_holds_and_one_that_must_fail_fails(tmp_path):
    res = _run([_pattern("rises", +1), _pattern("falls", -1)], tmp_path / "out")
    by = {r.pattern.name: r for r in res.results}
    assert by["rises"].evaluation.status == "holds"
    assert by["falls"].evaluation.status == "fails"
    note = by["falls"].evaluation.checks[0].note
    assert "-40" in note and "short of 0" in note  # says by how much
    assert res.runs_done == 6  # the shared design ran once for both patterns
    assert res.holding == 1 and not res.all_hold
    rows = table_rows(res)
    assert [r["holds"] for r in rows] == ["holds", "FAILS"]
    table = format_table(res)
    assert table.splitlines()[0].split() == ["pattern", "statistic", "value", "criterion",
                                             "holds"]
    assert "1 of 2 patterns hold" in table


def test_missing_outputs_are_reported_not_skipped(tmp_path):
    lacking = _pattern("needs_more", +1, requires_summary=("no_such_key",),
                       requires_metrics=("attacks_d{i}",))
    no_param = _pattern("needs_param", +1, requires_params=("armed_groups.no_such_parameter",),
                        design=_design("other"))
    res = _run([lacking, no_param, _pattern("rises", +1)], tmp_path / "out")
    by = {r.pattern.name: r.evaluation for r in res.results}
    assert by["needs_more"].status == "cannot be evaluated" and not by["needs_more"].holds
    assert by["needs_more"].missing == ["summary key no_such_key",
                                        "per-tick column attacks_d{i} (one per district)"]
    assert by["needs_param"].missing == ["parameter armed_groups.no_such_parameter"]
    assert res.holding == 1
    write_report(res)
    text = (res.out / "validation.md").read_text()
    assert "**1 of 3 patterns hold.**" in text
    assert "- `needs_more`: summary key no_such_key" in text


def test_report_has_one_section_and_one_figure_per_pattern(tmp_path):
    pats = [_pattern("rises", +1), _pattern("falls", -1),
            _pattern("needs_more", +1, requires_summary=("no_such_key",))]
    res = _run(pats, tmp_path / "out")
    files = write_report(res)
    text = (res.out / "validation.md").read_text()
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    assert len(sections) == 3
    for p in pats:
        fig = res.out / "figures" / f"{p.name}.png"
        assert fig in files and fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert text.count(f"](figures/{p.name}.png)") == 1
    assert "**Verdict: fails.**" in text and "**Verdict: holds.**" in text
    assert "**Verdict: cannot be evaluated**" in text
    csv = pd.read_csv(res.out / "patterns.csv")
    assert set(csv["pattern"]) == {p.name for p in pats}
    data = json.loads((res.out / "patterns.json").read_text())
    assert data["holding"] == 1 and len(data["results"]) == 3


def test_resume_reuses_finished_runs(tmp_path):
    out = tmp_path / "out"
    first = _run([_pattern("rises", +1)], out)
    again = _run([_pattern("rises", +1)], out, resume=True)
    assert first.runs_done == 6 and again.runs_done == 0 and again.runs_skipped == 6
    v1 = first.results[0].evaluation.checks[0].stat
    v2 = again.results[0].evaluation.checks[0].stat
    assert (v1.value, v1.low, v1.high) == (v2.value, v2.low, v2.high)


def test_failed_runs_make_the_pattern_not_hold(tmp_path, monkeypatch):
    monkeypatch.setenv("PEACESIM_SWEEP_FAIL", "0")  # run 0 raises on every attempt
    res = _run([_pattern("rises", +1)], tmp_path / "out", retries=0)
    ev = res.results[0].evaluation
    assert ev.status == "runs failed" and not ev.holds
    assert "1 of 6 runs have no result" in ev.notes[0]


# --------------------------------------------------------------------------- CLI


def _cli(capsys, monkeypatch, pats, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(P, "all_patterns", lambda: list(pats))
    code = main(["patterns", "--workers", "0", "--quiet", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_exit_0_when_all_hold(tmp_path, capsys, monkeypatch):
    code, out, err = _cli(capsys, monkeypatch, [_pattern("rises", +1)],
                          "--out", str(tmp_path / "o"))
    assert code == 0, err
    assert out.strip().splitlines()[-1] == str(tmp_path / "o" / "validation.md")
    assert "1 of 1 patterns hold" in out


def test_cli_exit_1_when_a_pattern_fails(tmp_path, capsys, monkeypatch):
    code, out, _ = _cli(capsys, monkeypatch, [_pattern("rises", +1), _pattern("falls", -1)],
                        "--out", str(tmp_path / "o"))
    assert code == 1 and "FAILS" in out


def test_cli_quick_and_only(tmp_path, capsys, monkeypatch):
    code, out, err = _cli(capsys, monkeypatch, [_pattern("rises", +1), _pattern("falls", -1)],
                          "--quick", "--only", "rises", "--out", str(tmp_path / "o"))
    assert code == 0, err
    data = json.loads((tmp_path / "o" / "patterns.json").read_text())
    assert [r["pattern"] for r in data["results"]] == ["rises"]
    assert data["results"][0]["design"]["replications"] == 2  # the quick design ran


@pytest.mark.parametrize("args, message", [
    (["--only", "nope"], "no such pattern"),
    (["--resume"], "--resume needs --out"),
])
def test_cli_bad_input_exits_2(tmp_path, capsys, monkeypatch, args, message):
    code, _, err = _cli(capsys, monkeypatch, [_pattern("rises", +1)], *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_cli_refuses_a_non_empty_folder(tmp_path, capsys, monkeypatch):
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "x").write_text("keep me")
    code, _, err = _cli(capsys, monkeypatch, [_pattern("rises", +1)], "--out",
                        str(tmp_path / "o"))
    assert code == 2 and "not empty" in err
    assert (tmp_path / "o" / "x").read_text() == "keep me"


# --------------------------------------------------------------------------- the registry


@pytest.mark.slow
def test_quick_run_of_every_pattern(tmp_path, capsys):
    """``peacesim patterns --quick`` runs every shipped pattern; each gets a verdict, a
    section and a figure (whether it holds depends on the model, not on this test)."""
    t0 = time.perf_counter()
    code = main(["patterns", "--quick", "--workers", "2", "--quiet", "--out",
                 str(tmp_path / "q")])
    seconds = time.perf_counter() - t0
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    data = json.loads((tmp_path / "q" / "patterns.json").read_text())
    assert len(data["results"]) == len(P.all_patterns())
    for r in data["results"]:
        assert r["status"] in ("holds", "fails", "cannot be evaluated"), r
        assert (tmp_path / "q" / "figures" / f"{r['pattern']}.png").is_file()
    assert code == (0 if data["holding"] == len(data["results"]) else 1)
    assert seconds < 600, seconds  # the budget is 5 minutes on 2 free cores


def test_designs_sharing_a_name_must_be_identical(tmp_path):
    other = P.Design(name="tiny_density", scenario="epstein_model1.toml",
                     arms=(P.Arm("sparse", {"residents.density": 0.2}),), replications=2,
                     ticks=3, set=TINY)
    with pytest.raises(P.PatternError, match="tiny_density"):
        _run([_pattern("rises", +1), _pattern("other", +1, design=other)], tmp_path / "o")
