"""Experiment files: the shipped ones, design expansion, seed policy, and bad files (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.config.experiment import (
    ExperimentError,
    design_points,
    expand,
    load_experiment,
    replicate_seeds,
    scenario_inputs,
)
from sim.config.scenario import build_scenario, read_toml

ROOT = Path(__file__).resolve().parents[1]
SC = ROOT / "scenarios"
STRATS = SC / "strategies"


def write_experiment(folder: Path, body: str, name: str = "exp.toml") -> Path:
    """An experiment file whose scenario paths are absolute (tests run anywhere)."""
    path = folder / name
    path.write_text(body.replace("@SC", str(SC)).replace("@ST", str(STRATS)))
    return path


BASE = (
    'contexts = ["@SC/baseline.toml", "@SC/liberia.toml"]\n'
    'strategies = ["@ST/protection_first.toml", {name = "restrained", '
    'file = "@ST/integrated.toml", set = {"strategy.restraint" = 0.95}}]\n'
    "replications = 3\n"
    "seed = 11\n"
)


def test_shipped_experiments_validate():
    sizes = {}
    for path in sorted((ROOT / "experiments").glob("*.toml")):
        if "method" in read_toml(path):  # a sensitivity study (tests/test_sensitivity.py)
            with pytest.raises(ExperimentError, match="peacesim sensitivity"):
                load_experiment(path)
            continue
        if "targets" in read_toml(path):  # a calibration file (tests/test_calibrate.py)
            with pytest.raises(ExperimentError, match="peacesim calibrate"):
                load_experiment(path)
            continue
        if "levers" in read_toml(path):  # an optimisation (tests/test_optimize.py)
            with pytest.raises(ExperimentError, match="peacesim optimize"):
                load_experiment(path)
            continue
        exp = load_experiment(path)
        sizes[path.stem] = len(expand(exp))
    assert sizes["strategy_comparison"] == 7 * 4 * 30
    comparison = load_experiment(ROOT / "experiments" / "strategy_comparison.toml")
    # every strategy but `partial`, which differs from the mixed posture only in a context with
    # two communities (ODD 7.25), and the comparison has none
    assert {s.name for s in comparison.strategies} == \
        {p.stem for p in STRATS.glob("*.toml")} - {"partial"}
    assert [c.name for c in comparison.contexts] == ["baseline", "sierra_leone", "somalia",
                                                     "liberia"]
    drawdown = load_experiment(ROOT / "experiments" / "drawdown.toml")
    assert drawdown.factor_keys == ["mission.drawdown_start", "police.professionalism"]
    assert sizes["drawdown"] == 3 * 2 * 3 * 2 * 20
    assert sizes["quick"] <= 100  # a demo, not a study


def test_expand_full_factorial_and_precedence(tmp_path):
    path = write_experiment(tmp_path, BASE + """
ticks = 30
[set]
"world.width" = 20
"world.height" = 20
"strategy.restraint" = 0.5
"mission.exit_window" = 26     # the window before the drawdown fits before week 50
[[factors]]
key = "armed_groups.aggression"
levels = [0.02, 0.08]
[[factors]]
key = "mission.drawdown_start"
range = [50, 100]
n = 3
""")
    exp = load_experiment(path)
    points = design_points(exp)
    assert points == [{"armed_groups.aggression": a, "mission.drawdown_start": d}
                      for a in (0.02, 0.08) for d in (50, 75, 100)]
    assert all(isinstance(p["mission.drawdown_start"], int) for p in points)
    design = expand(exp)
    assert len(design) == 2 * 2 * 6 * 3
    assert list(design["run_id"]) == list(range(len(design)))
    assert set(design["ticks"]) == {30}
    # later wins: experiment set < strategy set < factor values
    data, _, overrides = scenario_inputs(exp, "liberia", "restrained", points[4])
    sc = build_scenario(data, "x", overrides)
    assert sc.strategy.restraint == 0.95  # the strategy's own set beats the experiment's
    assert sc.strategy.name == "integrated" and sc.world.width == 20
    assert sc.armed_groups.aggression == 0.08 and sc.mission.drawdown_start == 75
    data, _, overrides = scenario_inputs(exp, "baseline", "protection_first")
    assert build_scenario(data, "x", overrides).strategy.restraint == 0.5


def test_latin_hypercube_strata_and_types(tmp_path):
    path = write_experiment(tmp_path, BASE + """
[design]
kind = "latin_hypercube"
n = 8
[[factors]]
key = "armed_groups.aggression"
range = [0.0, 0.8]
[[factors]]
key = "armed_groups.factions"
range = [1, 4]
[[factors]]
key = "unrest.jail"
levels = ["off_grid", "on_cell"]
""")
    exp = load_experiment(path)
    points = design_points(exp)
    assert len(points) == 8 and points == design_points(load_experiment(path))  # seeded
    aggression = np.array([p["armed_groups.aggression"] for p in points])
    # one sample in each of the 8 equal strata of the range
    assert sorted((aggression / 0.1).astype(int)) == list(range(8))
    assert all(isinstance(p["armed_groups.factions"], int) and 1 <= p["armed_groups.factions"]
               <= 4 for p in points)
    assert sorted(p["unrest.jail"] for p in points).count("on_cell") == 4
    assert len(expand(exp)) == 2 * 2 * 8 * 3


def test_seed_policy(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, BASE))
    d = expand(exp)
    per_cell = d.groupby(["context", "strategy"])["seed"].apply(tuple)
    assert len(set(per_cell)) == 1  # common: the same seeds in every cell
    expected = [int(c.generate_state(1, np.uint64)[0] >> np.uint64(1))
                for c in np.random.SeedSequence(11).spawn(3)]
    assert list(per_cell.iloc[0]) == expected
    assert len(set(per_cell.iloc[0])) == 3

    ind = load_experiment(write_experiment(tmp_path, BASE + 'seed_policy = "independent"\n',
                                           "ind.toml"))
    di = expand(ind)
    assert di["seed"].nunique() == len(di)  # every run its own stream
    # stable under reordering: seeds depend on names, not positions
    assert replicate_seeds(11, 3, "independent", "liberia", "restrained", 0) == \
        di[(di.context == "liberia") & (di.strategy == "restrained")]["seed"].tolist()


# each case: experiment body (after the common header) and fragments the message must hold
BAD = {
    "unknown top-level key": (
        BASE + "replicatoins = 4\n", ["replicatoins", "unknown key", "replications"]),
    "unknown key in a factor": (
        BASE + "[[factors]]\nkey = 'armed_groups.aggression'\nlevels = [0.1]\nstep = 2\n",
        ["factors[0].step", "unknown key", "levels", "range"]),
    "missing scenario file": (
        BASE.replace("liberia.toml", "atlantis.toml"),
        ["contexts[1].file", "atlantis.toml", "file not found"]),
    "empty strategy list": (
        'contexts = ["@SC/baseline.toml"]\nstrategies = []\n',
        ["strategies", "empty", "at least one"]),
    "unknown factor key": (
        BASE + "[[factors]]\nkey = 'armed_groups.agression'\nlevels = [0.1]\n",
        ["factors[0].key", "armed_groups.agression", "not a scenario parameter",
         "did you mean armed_groups.aggression"]),
    "invalid value in set": (
        BASE + "[set]\n'world.width' = -3\n",
        ["world.width", "set", "-3", "greater than or equal to 3"]),
    "reserved key": (BASE + "[set]\n'run.ticks' = 3\n", ["run.ticks", "ticks"]),
    "duplicate names": (
        'contexts = ["@SC/baseline.toml", "@SC/baseline.toml"]\n'
        'strategies = ["@ST/integrated.toml"]\n', ["contexts[1]", "used twice"]),
    "levels and range": (
        BASE + "[[factors]]\nkey = 'armed_groups.aggression'\nlevels = [0.1]\n"
               "range = [0.0, 1.0]\n", ["factors[0]", "either `levels`"]),
    "bad reference": (BASE + "[report]\nreference = 'nobody'\n",
                      ["report.reference", "nobody", "protection_first, restrained"]),
    "wrong type": (BASE.replace("replications = 3", "replications = 'many'"),
                   ["replications = 'many'", "integer"]),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_experiment_files(case, tmp_path, capsys):
    body, fragments = BAD[case]
    path = write_experiment(tmp_path, body)
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and fragments[0] in err
    assert not (tmp_path / "out").exists()  # nothing written for a bad file


def test_bad_file_subprocess_exit_2_without_traceback(tmp_path):
    path = write_experiment(tmp_path, BAD["missing scenario file"][0])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "sweep", str(path)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "atlantis.toml" in proc.stderr
    assert proc.stdout == ""
