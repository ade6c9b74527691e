"""The configuration layer (sim/config): strict types, cross-field rules, file kinds, names
that become paths, factor levels checked at load, the test-function registry, capped error
lists, and ``peacesim validate`` for every kind of file. None of these needs the engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main
from sim.config.base import MAX_LINES, ScenarioError, read_toml
from sim.config.experiment import ExperimentError, load_experiment
from sim.config.scenario import build_scenario, check_run_length, load_scenario, load_strategy
from sim.config.study import SensitivityError, load_study

ROOT = Path(__file__).resolve().parents[1]
SC = ROOT / "scenarios"
ST = SC / "strategies"
BASELINE = SC / "baseline.toml"
EPSTEIN = SC / "epstein_model1.toml"


def write(folder: Path, text: str, name: str = "file.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def validate(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["validate", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --------------------------------------------------------------------------- strict types


@pytest.mark.parametrize(("text", "fragments"), [
    ('[world]\nwidth = "40"\n', ["world.width = '40'", "valid integer"]),
    ('[world]\ntorus = "no"\n', ["world.torus = 'no'", "valid boolean"]),
    ("[unrest]\nlegitimacy = true\n", ["unrest.legitimacy = True", "valid number"]),
    ("[unrest]\nlegitimacy = nan\n", ["unrest.legitimacy = nan", "finite number"]),
    ("[run]\nseed = 18446744073709551616\n", ["run.seed", "64-bit integer"]),
    ("[world]\nwidth = 40.0\n", ["world.width = 40.0", "valid integer"]),
    ("[residents]\ngroups = 2.0\n", ["residents.groups = 2.0", "1 or 2"]),
    ("[residents]\ngroups = true\n", ["residents.groups = True", "1 or 2"]),
])
def test_file_values_are_strictly_typed(tmp_path, text, fragments):
    path = write(tmp_path, 'model = "epstein"\n' + text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def test_an_integer_is_a_real_number():
    sc = build_scenario({"unrest": {"legitimacy": 1}, "police": {"density": 0}})
    assert sc.unrest.legitimacy == 1.0 and isinstance(sc.unrest.legitimacy, float)


# --------------------------------------------------------------------------- cross-field rules


def test_drawdown_must_come_after_deployment():
    with pytest.raises(ScenarioError,
                       match="drawdown_start = 10 must come after mission.deploy_tick = 20"):
        load_scenario(BASELINE, {"mission.deploy_tick": 20, "mission.drawdown_start": 10,
                                 "mission.exit_window": 5})


def test_exit_window_must_fit_before_the_drawdown():
    with pytest.raises(ScenarioError, match="mission.exit_window = 52 does not fit before"):
        load_scenario(BASELINE, {"mission.drawdown_start": 30})
    assert load_scenario(BASELINE, {"mission.drawdown_start": 52}).mission.exit_window == 52


@pytest.mark.parametrize(("mission", "exit_at"), [
    ({"drawdown_start": 100, "drawdown_ticks": 0}, 100),
    ({"drawdown_start": 100, "drawdown_ticks": 20}, 119),
    ({"drawdown_start": 100, "drawdown_schedule": [[0, 0.5], [30, 0.0]]}, 130),
])
def test_run_length_must_hold_the_window_after_the_exit(mission, exit_at):
    sc = build_scenario({"model": "peacekeeping", "mission": {**mission, "exit_window": 10}})
    check_run_length(sc, exit_at + 10)  # just long enough
    check_run_length(sc, 99)  # ends before the drawdown: the mission stays
    with pytest.raises(ScenarioError, match=f"at least {exit_at + 10} ticks"):
        check_run_length(sc, exit_at + 9)


def test_a_schedule_that_keeps_a_share_has_no_exit_to_wait_for():
    sc = build_scenario({"model": "peacekeeping", "mission": {
        "drawdown_start": 60, "drawdown_schedule": [[0, 0.5]]}})
    check_run_length(sc, 61)


def test_cli_run_refuses_a_run_that_cuts_the_post_exit_window(tmp_path, capsys):
    code = main(["run", str(BASELINE), "--ticks", "200", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "at least 259 ticks" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_the_runner_checks_the_run_length_too():
    from sim.io.runner import run

    with pytest.raises(ScenarioError, match="post-exit window"):
        run(load_scenario(BASELINE), ticks=200)


@pytest.mark.parametrize("text", [
    "[armed_groups]\ndensity = 0.05\n",
    "[strategy]\nrestraint = 0.9\n",
    "[mission]\ndrawdown_start = 10\n",
    "[economy]\nmarkets = 0.1\n",
])
def test_peacekeeping_tables_need_the_peacekeeping_model(tmp_path, text):
    path = write(tmp_path, 'model = "epstein"\n' + text)
    key = text.splitlines()[0].strip("[]")
    with pytest.raises(ScenarioError, match='only with model = "peacekeeping"') as info:
        load_scenario(path)
    assert key in str(info.value)


def test_epstein_files_may_deploy_peacekeepers():
    assert load_scenario(SC / "epstein_model2_peacekeepers.toml").mission.deploy_tick == 0


def test_a_strategy_needs_a_peacekeeping_context(capsys):
    with pytest.raises(ScenarioError, match="applies only to contexts with model"):
        load_scenario(EPSTEIN, strategy=ST / "integrated.toml")
    assert main(["run", str(EPSTEIN), "--strategy", str(ST / "integrated.toml")]) == 2
    assert "epstein" in capsys.readouterr().err


# --------------------------------------------------------------------------- file kinds


@pytest.mark.parametrize("text", ["", "# only a comment\n", 'name = "x"\ndescription = "y"\n'])
def test_a_file_that_says_nothing_is_refused(tmp_path, text):
    with pytest.raises(ScenarioError, match="says nothing"):
        load_scenario(write(tmp_path, text))


def test_a_strategy_file_is_not_a_scenario(tmp_path):
    with pytest.raises(ScenarioError, match="looks like a strategy file.*--strategy"):
        load_scenario(ST / "ddr_focus.toml")
    exp = write(tmp_path, f'contexts = ["{ST / "integrated.toml"}"]\n'
                          f'strategies = ["{ST / "integrated.toml"}"]\n', "exp.toml")
    with pytest.raises(ExperimentError, match=r"(?s)contexts\[0\].*looks like a strategy file"):
        load_experiment(exp)


def test_a_scenario_is_not_a_strategy(tmp_path):
    with pytest.raises(ScenarioError, match="looks like a scenario"):
        load_scenario(BASELINE, strategy=SC / "liberia.toml")


@pytest.mark.parametrize(("text", "fragments"), [
    ("[strategy]\nrestraint = 1.5\n", ["strategy.restraint = 1.5", "less than or equal"]),
    ("[strategy]\nrestrain = 0.5\n", ["strategy.restrain", "unknown key", "restraint"]),
    ("[strategy.roles]\npatrol = 0.5\n", ["strategy.roles", "must sum to 1"]),
    ('[strategy]\nname = "../x"\n', ["strategy.name = '../x'", "names folders"]),
    ("[world]\nwidth = 20\n", ["world", "a strategy file may set only"]),
    ("", ["says nothing"]),
])
def test_strategy_files_have_their_own_schema(tmp_path, text, fragments):
    with pytest.raises(ScenarioError) as info:
        load_strategy(write(tmp_path, text))
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


# --------------------------------------------------------------------------- names and paths


def test_names_that_become_paths_cannot_escape(tmp_path):
    with pytest.raises(ScenarioError, match=r"name \(from --set\) = '../../..'"):
        load_scenario(BASELINE, {"name": "../../.."})
    ctx = write(tmp_path, BASELINE.read_text().replace('name = "baseline"',
                                                       'name = "../../.."'), "ctx.toml")
    with pytest.raises(ScenarioError, match="names folders"):
        load_scenario(ctx)
    bad = {
        f'name = "../../.."\ncontexts = ["{BASELINE}"]\nstrategies = ["{ST / "integrated.toml"}"]':
            "name = '../../..'",
        f'contexts = ["{BASELINE}"]\nstrategies = [{{name = "a/b", set = {{}}}}]':
            "strategies[0].name = 'a/b'",
    }
    for text, fragment in bad.items():
        with pytest.raises(ExperimentError) as info:
            load_experiment(write(tmp_path, text + "\n", "exp.toml"))
        assert fragment in str(info.value), str(info.value)
    study = write(tmp_path, ishigami_study().replace('name = "fn"', 'name = "../../.."'),
                  "study.toml")
    with pytest.raises(SensitivityError, match="name = '../../..'"):
        load_study(study)


def test_an_unnameable_file_stem_needs_a_name(tmp_path):
    text = f'contexts = ["{BASELINE}"]\nstrategies = ["{ST / "integrated.toml"}"]\n'
    path = write(tmp_path, text, "my experiment.toml")
    with pytest.raises(ExperimentError, match="set name"):
        load_experiment(path)


# --------------------------------------------------------------------------- experiments


def experiment(levels: str, key: str = "world.width") -> str:
    return (f'contexts = ["{BASELINE}"]\nstrategies = ["{ST / "integrated.toml"}"]\n'
            f'ticks = 5\n[[factors]]\nkey = "{key}"\nlevels = {levels}\n')


@pytest.mark.parametrize(("levels", "fragment"), [
    ("[12, [2, 5]]", "levels[1] = [2, 5]: not allowed for world.width"),
    ("[12, nan]", "levels[1] = nan"),
    ("[0, 18446744073709551616]", "64-bit integer"),
    ("[12, 2]", "levels[1] = 2: not allowed for world.width (Input should be greater"),
    ('[12, "wide"]', "valid integer"),
])
def test_factor_levels_are_checked_when_the_experiment_loads(tmp_path, levels, fragment):
    key = "police.ramp_start" if "1844" in levels else "world.width"
    path = write(tmp_path, experiment(levels, key), "exp.toml")
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    message = str(info.value)
    assert str(path) in message and "factors[0]" in message and fragment in message, message


def test_every_design_point_is_built_at_load(tmp_path):
    # each level is fine on its own; together with the context's densities it is not
    path = write(tmp_path, experiment("[0.1, 0.5]", "armed_groups.density"), "exp.toml")
    with pytest.raises(ExperimentError, match=r"(?s)design point 1 \(armed_groups.density = 0.5\)"
                                              ".*exceeds 1"):
        load_experiment(path)


def test_a_design_too_large_to_be_meant_is_refused(tmp_path):
    levels = "[" + ", ".join(str(0.001 * i) for i in range(1000)) + "]"
    text = experiment(levels, "armed_groups.aggression") + \
        f'[[factors]]\nkey = "strategy.restraint"\nlevels = {levels}\n'
    with pytest.raises(ExperimentError, match="1,000,000 point"):
        load_experiment(write(tmp_path, text.replace("ticks = 5", "ticks = 5\nreplications = 20"),
                              "exp.toml"))


# --------------------------------------------------------------------------- studies


def ishigami_study(function: str = "ishigami") -> str:
    factors = "".join(f'[[factors]]\nkey = "x{i}"\nbounds = [-3.0, 3.0]\n' for i in (1, 2, 3))
    return (f'name = "fn"\nmethod = "sobol"\nfunction = "{function}"\nN = 8\n'
            f'outputs = ["Y"]\n{factors}')


@pytest.mark.parametrize("function", ["builtins:print", "os:system", "sim.cli:main", "nope"])
def test_study_functions_come_from_the_registry(tmp_path, function):
    path = write(tmp_path, ishigami_study(function), "study.toml")
    with pytest.raises(SensitivityError) as info:
        load_study(path)
    assert "ishigami, ishigami_noisy" in str(info.value) and function in str(info.value)


def test_a_study_checks_its_run_length(tmp_path):
    text = (f'method = "morris"\nN = 4\ncontext = "{BASELINE}"\nticks = 200\n'
            'outputs = ["casualties_total"]\n[[factors]]\nkey = "strategy.restraint"\n'
            "bounds = [0.3, 1.0]\n")
    with pytest.raises(SensitivityError, match="at least 259 ticks"):
        load_study(write(tmp_path, text, "study.toml"))


# --------------------------------------------------------------------------- messages


def test_error_lists_are_capped(tmp_path):
    path = write(tmp_path, "".join(f"k{i} = {i}\n" for i in range(200_000)))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    lines = str(info.value).splitlines()
    assert lines[0] == f"{path}: invalid scenario (200000 problems)"
    assert len(lines) == 22 and lines[-1] == "  ... and 199980 more"
    assert len(str(info.value)) < 20_000


@pytest.mark.parametrize("depth", [17, 300, 5000])
@pytest.mark.parametrize("kind", ["array", "table"])
def test_deep_nesting_is_one_line(tmp_path, depth, kind):
    inner = ("[" * depth + "1" + "]" * depth) if kind == "array" else \
        ("{a = " * depth + "1" + "}" * depth)
    path = write(tmp_path, f"x = {inner}\n")
    with pytest.raises(ScenarioError) as info:
        read_toml(path)
    assert len(str(info.value).splitlines()) == 1 and "at most 16 levels" in str(info.value)


def test_big_and_binary_files_are_one_line(tmp_path):
    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * (5 * 2**20))
    binary = tmp_path / "bin.toml"
    binary.write_bytes(bytes(range(256)))
    for path, fragment in ((big, "larger than 4 MiB"), (binary, "UTF-8")):
        with pytest.raises(ScenarioError, match=fragment) as info:
            read_toml(path)
        assert len(str(info.value).splitlines()) == 1


def test_a_corrupt_manifest_on_resume_is_one_line(tmp_path, capsys):
    exp = write(tmp_path, experiment("[12]").replace("ticks = 5", "ticks = 2"), "exp.toml")
    store = tmp_path / "store"
    store.mkdir()
    (store / "manifest.json").write_text("{not json")
    (store / "design.parquet").write_bytes(b"PAR1")
    code = main(["sweep", str(exp), "--out", str(store), "--resume", "--workers", "0",
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "manifest.json: corrupt or truncated" in err and "new folder" in err
    assert len(err.strip().splitlines()) == 1
    (store / "manifest.json").write_text(json.dumps([1, 2]))
    assert main(["sweep", str(exp), "--out", str(store), "--resume", "--workers", "0",
                 "--quiet"]) == 2
    assert "not a peacesim manifest" in capsys.readouterr().err


# --------------------------------------------------------------------------- peacesim validate


def test_validate_recognises_every_kind(capsys):
    files = [BASELINE, ST / "integrated.toml", ROOT / "experiments" / "quick.toml",
             ROOT / "experiments" / "morris_screening.toml"]
    code, out, err = validate(capsys, *map(str, files))
    assert code == 0, err
    assert out.splitlines() == [f"OK {files[0]} (scenario)", f"OK {files[1]} (strategy)",
                                f"OK {files[2]} (experiment)", f"OK {files[3]} (study)"]


def test_validate_with_a_strategy(capsys, tmp_path):
    code, out, _ = validate(capsys, str(BASELINE), "--strategy", str(ST / "integrated.toml"))
    assert code == 0 and out.startswith(f"OK {BASELINE} (scenario)")
    code, _, err = validate(capsys, str(EPSTEIN), "--strategy", str(ST / "integrated.toml"))
    assert code == 2 and "peacekeeping" in err
    code, _, err = validate(capsys, str(ROOT / "experiments" / "quick.toml"), "--strategy",
                            str(ST / "integrated.toml"))
    assert code == 2 and "scenario files only" in err


def test_validate_reports_every_bad_file_and_exits_2(capsys, tmp_path):
    bad_exp = write(tmp_path, experiment("[12, [2, 5]]"), "exp.toml")
    bad_study = write(tmp_path, ishigami_study("builtins:print"), "study.toml")
    code, out, err = validate(capsys, str(bad_exp), str(BASELINE), str(bad_study))
    assert code == 2 and out.splitlines() == [f"OK {BASELINE} (scenario)"]
    assert str(bad_exp) in err and str(bad_study) in err and "Traceback" not in err
    assert all(len(block.splitlines()) <= MAX_LINES for block in err.split("error: "))


def test_validate_imports_no_engine(tmp_path):
    files = [str(p) for p in (BASELINE, ROOT / "experiments" / "quick.toml",
                              ROOT / "experiments" / "sobol_baseline.toml",
                              ST / "integrated.toml")]
    code = ("import sys; from sim.cli import main; "
            f"rc = main(['validate', *{files!r}]); "
            "heavy = sorted(m for m in ('numba', 'mesa', 'pandas') if m in sys.modules); "
            "print(rc, heavy)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.stdout.strip().splitlines()[-1] == "0 []", proc.stdout + proc.stderr


def test_validate_odd_paths_are_clear_errors(capsys, tmp_path):
    for path in ("x" * 5000, str(tmp_path), "/dev/null", str(tmp_path / "missing.toml")):
        code, _, err = validate(capsys, path)
        assert code == 2 and err.startswith("error: ") and len(err.splitlines()) == 1, err
    exp = write(tmp_path, f'contexts = ["{"y" * 5000}.toml"]\nstrategies = [{{name = "a"}}]\n',
                "exp.toml")
    code, _, err = validate(capsys, str(exp))
    assert code == 2 and "cannot be read" in err and len(err) < 2000


# --------------------------------------------------------------------------- renamed keys


def test_a_renamed_key_maps_to_its_new_name_with_a_deprecation_warning():
    """Model 2.0 renamed economy.w_security (the economy no longer reads where troops stand)
    and strategy.tip_boost: old files keep working, never with a silent change of meaning."""
    from sim.config.scenario import ScenarioDeprecation, ScenarioError, build_scenario

    with pytest.warns(ScenarioDeprecation, match="economy.w_security.*economy.w_access"):
        sc = build_scenario({"model": "peacekeeping", "economy": {"w_security": 0.25}})
    assert sc.economy.w_access == 0.25
    with pytest.warns(ScenarioDeprecation, match="information.tip_gain"):
        sc = build_scenario({"model": "peacekeeping"}, overrides={"strategy.tip_boost": 3.0})
    assert sc.information.tip_gain == 3.0
    with pytest.raises(ScenarioError):  # both names: which one is meant?
        build_scenario({"model": "peacekeeping",
                        "economy": {"w_security": 0.25, "w_access": 0.1}})
