"""Every shipped scenario and strategy file validates and runs; contexts cross strategies."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import ScenarioError, load_scenario, run
from sim.cli import main
from sim.config.scenario import ROLE_NAMES, Strategy, check_run_length, load_strategy

ROOT = Path(__file__).resolve().parents[1]
#: the shipped scenarios, with the contexts in which single mechanisms bind
#: (scenarios/contexts/, measured by tests/test_effects_contexts.py)
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml")) + \
    sorted((ROOT / "scenarios" / "contexts").glob("*.toml"))
STRATEGIES = sorted((ROOT / "scenarios" / "strategies").glob("*.toml"))
CONTEXTS = [p for p in SCENARIOS if load_scenario(p).model == "peacekeeping"]
SMALL = {"world.width": 20, "world.height": 20}


def test_the_promised_files_exist():
    names = {p.stem for p in SCENARIOS}
    assert {"epstein_model1", "epstein_legitimacy_gradual", "epstein_legitimacy_jump",
            "epstein_mesa_example", "epstein_model2", "epstein_model2_peacekeepers",
            "baseline", "sierra_leone", "somalia", "liberia", "two_communities",
            "arms_embargo", "road_network", "biased_feedback"} <= names
    assert {p.stem for p in STRATEGIES} == {
        "protection_first", "community_engagement", "ddr_focus", "policing_handover",
        "integrated", "minimal_presence", "partial", "checkpoints"}


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_file_validates_and_runs_20_ticks(path):
    sc = load_scenario(path)
    check_run_length(sc, sc.run.ticks, str(path))  # its own run length fits its drawdown
    res = run(sc, seed=1, ticks=20)
    assert len(res.timeseries) == 21
    assert res.timeseries["tick"].tolist() == list(range(21))


@pytest.mark.parametrize("path", STRATEGIES, ids=lambda p: p.stem)
def test_every_strategy_file_validates_on_its_own_and_is_no_scenario(path):
    data = load_strategy(path)
    assert Strategy.model_validate(data["strategy"]).name == path.stem
    with pytest.raises(ScenarioError, match="looks like a strategy file"):
        load_scenario(path)  # it used to run the Epstein model with the strategy ignored


@pytest.mark.parametrize("context", CONTEXTS, ids=lambda p: p.stem)
@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda p: p.stem)
def test_any_strategy_combines_with_any_context(context, strategy):
    sc = load_scenario(context, overrides=SMALL, strategy=strategy)
    expected = Strategy.model_validate(load_strategy(strategy)["strategy"])
    assert sc.strategy.name == expected.name
    # the strategy's role shares replace the context's, whole
    assert [getattr(sc.strategy.roles, r) for r in ROLE_NAMES] == \
        [getattr(expected.roles, r) for r in ROLE_NAMES]
    res = run(sc, seed=2, ticks=10)
    assert res.summary["troop_weeks"] >= 0


def test_context_files_comment_every_parameter():
    for path in CONTEXTS:
        text = path.read_text(encoding="utf-8")
        if path.stem != "baseline":
            assert "UNCALIBRATED" in text, f"{path.name} must say it is uncalibrated"
        for line in text.splitlines():
            stripped = line.strip()
            if "=" in stripped and not stripped.startswith("#"):
                assert "#" in line or stripped.startswith(("name", "description", "model")), \
                    f"{path.name}: no comment saying why for '{stripped}'"


def test_role_shares_must_sum_to_one_not_normalised(tmp_path, capsys):
    bad = tmp_path / "bad_strategy.toml"
    bad.write_text('[strategy]\nname = "x"\n[strategy.roles]\npatrol = 0.6\nstatic = 0.3\n')
    with pytest.raises(ScenarioError, match="must sum to 1"):
        load_scenario(ROOT / "scenarios" / "baseline.toml", strategy=bad)
    code = main(["run", str(ROOT / "scenarios" / "baseline.toml"), "--strategy", str(bad),
                 "--ticks", "1", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "bad_strategy.toml" in err and "strategy.roles" in err and "0.9" in err
    assert "Traceback" not in err


def test_strategy_file_may_not_change_the_context(tmp_path):
    bad = tmp_path / "sneaky.toml"
    bad.write_text('[armed_groups]\ndensity = 0.0\n')
    with pytest.raises(ScenarioError, match="a strategy file may set only"):
        load_scenario(ROOT / "scenarios" / "baseline.toml", strategy=bad)


def test_one_role_share_on_the_command_line_keeps_the_others():
    sc = load_scenario(ROOT / "scenarios" / "baseline.toml",
                       overrides={"strategy.roles.patrol": 0.45, "strategy.roles.static": 0.25})
    assert sc.strategy.roles.rapid_response == 0.1  # the defaults in force stay
    with pytest.raises(ScenarioError, match="must sum to 1"):
        load_scenario(ROOT / "scenarios" / "baseline.toml",
                      overrides={"strategy.roles.patrol": 0.9})


def test_cli_runs_a_context_with_a_strategy(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["run", str(ROOT / "scenarios" / "liberia.toml"), "--strategy",
                 str(ROOT / "scenarios" / "strategies" / "integrated.toml"), "--ticks", "15",
                 "--set", "world.width=20", "--set", "world.height=20", "--out", str(out)])
    assert code == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(out)
    assert (out / "timeseries.parquet").exists() and (out / "plots").is_dir()
