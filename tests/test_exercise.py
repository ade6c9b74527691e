"""An instructor's exercise: injects and lever changes from the current week on, bookmarks,
rewind by deterministic re-simulation, the exercise log and ``peacesim replay``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.config.scenario import build_scenario, read_toml
from sim.model.exercise import Exercise, ExerciseError, read_log, replay
from sim.model.model import PeaceSimModel

ROOT = Path(__file__).resolve().parents[1]


def small(name: str = "baseline", **tables: dict):
    data = read_toml(ROOT / "scenarios" / f"{name}.toml")
    data["world"].update(width=20, height=20)
    for table, values in tables.items():
        data.setdefault(table, {}).update(values)
    return build_scenario(data, f"{name}.toml")


def state(model: PeaceSimModel) -> list[np.ndarray]:
    """Everything the next tick reads, copied."""
    out = [model.arrays.i.copy(), model.arrays.f.copy(), model.cells.economy.copy(),
           model.cells.occ.copy(), model.rng_state.copy(), model.event_rng.copy(),
           model.meta.copy()]
    if model.layer is not None:
        out += [model.layer.lay.f.copy(), model.layer.lay.tips.copy()]
    return out


def same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def drive(ex: Exercise) -> None:
    """Injects, a lever change, a bookmark, a branch that is rewound, more actions."""
    ex.step(4)
    ex.apply({"kind": "attack", "settlement": 1, "attackers": 5, "note": "market day"})
    ex.step(3)
    ex.bookmark("before the withdrawal")
    ex.apply({"kind": "withdraw_units", "share": 0.5})
    ex.step(5)
    ex.apply({"kind": "set", "values": {"strategy.restraint": 0.2}})
    ex.step(4)
    ex.rewind("before the withdrawal")
    ex.apply({"kind": "set", "values": {"strategy.cultural_competence": 0.95,
                                        "strategy.roles": {"engagement": 0.5, "patrol": 0.5}}})
    ex.step(2)
    ex.apply({"kind": "abuse_scandal", "district": 2, "trust_loss": 0.5})
    ex.apply({"kind": "reinforce_armed_group", "fighters": 4})
    ex.step(6)
    ex.apply({"kind": "legitimacy_shock", "delta": -0.3})  # at the last week: acts next tick


def test_an_exercise_log_replays_bit_for_bit_through_the_cli(tmp_path, capsys):
    ex = Exercise(small())
    drive(ex)
    assert ex.week == 15
    path = ex.save(tmp_path / "exercise.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exercise.json"]  # atomic: no temp
    out = tmp_path / "replayed"
    code = main(["replay", str(path), "--out", str(out), "--no-plots"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.strip().splitlines()[-1] == str(out)
    assert "reproduced bit for bit" in captured.err
    replayed = pd.read_parquet(out / "timeseries.parquet")
    pd.testing.assert_frame_equal(replayed, ex.timeseries(), check_exact=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["reproduced"] is True and manifest["exercise_log"] == str(path)
    kinds = [e["kind"] for e in manifest["parameters"]["events"]]
    assert kinds == ["attack", "set", "abuse_scandal", "reinforce_armed_group",
                     "legitimacy_shock"]  # the rewound branch is not replayed
    table = pd.read_csv(out / "events.csv")
    assert list(table["kind"]) == kinds[:-1]  # the last acts after the exercise's last week
    assert table["text"].iloc[0].endswith("(market day)")


def test_the_log_holds_the_history_and_what_was_rewound(tmp_path):
    ex = Exercise(small())
    drive(ex)
    log = json.loads(ex.save(tmp_path / "x.json").read_text())
    assert log["format"] == "peacesim-exercise" and log["version"] == 1
    assert log["seed"] == 1 and log["week"] == 15
    assert log["scenario"]["world"]["width"] == 20
    assert [(a["kind"], a.get("tick", a.get("week"))) for a in log["actions"]] == [
        ("attack", 5), ("bookmark", 7), ("set", 8), ("abuse_scandal", 10),
        ("reinforce_armed_group", 10), ("legitimacy_shock", 16)]
    (rewound,) = log["rewinds"]
    assert rewound["to"] == "before the withdrawal" and rewound["week"] == 7
    assert rewound["left_week"] == 16
    assert [a["kind"] for a in rewound["discarded"]] == ["withdraw_units", "set"]
    assert [e["kind"] for e in log["events"]] == ["attack", "set", "abuse_scandal",
                                                   "reinforce_armed_group", "legitimacy_shock"]
    assert ex.bookmarks() == {"before the withdrawal": 7}


def test_rewind_returns_to_the_bookmarked_state_exactly():
    ex = Exercise(small())
    ex.step(3)
    ex.apply({"kind": "attack", "district": 4, "attackers": 3})  # at week 3, acts on tick 4
    ex.bookmark("b")
    marked = state(ex.model)
    series = ex.timeseries()
    ex.step(4)
    ex.apply({"kind": "withdraw_units", "share": 0.9})
    ex.step(2)
    model = ex.rewind("b")
    assert model is ex.model and ex.week == 3
    assert same(state(model), marked)
    pd.testing.assert_frame_equal(ex.timeseries(), series, check_exact=True)
    # and the future from there is the one the bookmark had
    ex.step(4)
    again = Exercise(small())
    again.step(3)
    again.apply({"kind": "attack", "district": 4, "attackers": 3})
    again.step(4)
    assert same(state(ex.model), state(again.model))
    ex.rewind("b")  # the bookmark stays: rewind to it again
    assert ex.week == 3 and len(ex.rewinds) == 2


def test_an_action_takes_effect_now_and_from_this_week_on():
    ex = Exercise(small())
    ex.step(5)
    before = int(ex.model.arrays.alive.sum())
    logged = ex.apply({"kind": "reinforce_armed_group", "fighters": 6})
    assert logged == {"week": 5, "tick": 6, "kind": "reinforce_armed_group", "fighters": 6}
    assert int(ex.model.arrays.alive.sum()) == before + 6  # on the map before the next step
    assert ex.events()[-1]["text"].startswith("week 6: 6 of 6 fighters")
    assert len(ex.timeseries()) == 6  # the week's row is what the week was


def test_bad_actions_are_refused_and_change_nothing():
    ex = Exercise(small())
    ex.step(2)
    cases = [
        ({"kind": "attack", "settlement": 99, "attackers": 3}, "settlement = 99: the map has"),
        ({"kind": "withdraw_units", "share": 2}, "share = 2: Input should be less than"),
        ({"kind": "set", "values": {"world.width": 5}}, "world.width = 5: the map is built"),
        ({"kind": "set", "values": {"mission.drawdown_start": 2}},
         "cannot start the drawdown in the past"),
        ({"kind": "legitimacy_shock", "delta": 0.1, "tick": 9}, "tick and week are filled in"),
        ({"kind": "nap"}, "kind = 'nap'"),
        ("attack", "expected a table of keys"),
    ]
    for action, expected in cases:
        with pytest.raises(ExerciseError) as exc:
            ex.apply(action)  # type: ignore[arg-type]
        assert expected in str(exc.value), str(exc.value)
    assert ex.actions == [] and ex.events() == []
    ex.bookmark("x")
    with pytest.raises(ExerciseError, match="name = 'x' is taken"):
        ex.bookmark("x")
    with pytest.raises(ExerciseError, match="no bookmark 'y'"):
        ex.rewind("y")


def test_an_exercise_resumes_from_its_log_and_uses_the_apps_model_class(tmp_path):
    class AppModel(PeaceSimModel):
        pass

    ex = Exercise(small(), seed=7)
    ex.step(3)
    ex.bookmark("start")
    ex.apply({"kind": "programme_change", "factor": 4.0})
    ex.step(3)
    ex.apply({"kind": "abuse_scandal", "district": 0, "trust_loss": 0.2})
    path = ex.save(tmp_path / "log.json")
    back = Exercise.from_log(path, factory=lambda sc, seed: AppModel(sc, seed))
    assert isinstance(back.model, AppModel) and back.week == 6 and back.seed == 7
    assert same(state(back.model), state(ex.model))
    assert isinstance(back.rewind("start"), AppModel)


def test_an_epstein_exercise_replays_too():
    data = read_toml(ROOT / "scenarios" / "epstein_model1.toml")
    data["world"].update(width=15, height=15)
    ex = Exercise(build_scenario(data, "e.toml"))
    ex.step(5)
    ex.apply({"kind": "legitimacy_shock", "delta": -0.3})
    ex.step(5)
    ex.apply({"kind": "set", "values": {"unrest.threshold": 0.05}})
    ex.step(5)
    pd.testing.assert_frame_equal(replay(ex.log()).timeseries, ex.timeseries(),
                                  check_exact=True)
    with pytest.raises(ExerciseError, match="only with model = \"peacekeeping\""):
        ex.apply({"kind": "withdraw_units", "share": 0.5})


def test_peacesim_replay_refuses_bad_logs_with_exit_status_2(tmp_path, capsys):
    ex = Exercise(small())
    ex.step(3)
    ex.apply({"kind": "legitimacy_shock", "delta": 0.05})
    ex.step(2)
    good = ex.log()
    bad = {
        "notjson.json": "{ not json",
        "other.json": json.dumps({"format": "something else"}),
        "version.json": json.dumps({**good, "version": 9}),
        "order.json": json.dumps({**good, "actions": [{**good["actions"][0], "tick": 9}]}),
        "week.json": json.dumps({**good, "actions": [{**good["actions"][0], "week": 1}]}),
        "action.json": json.dumps({**good, "actions": [{"kind": "attack", "tick": 2}]}),
        "scenario.json": json.dumps({**good, "scenario": {**good["scenario"],
                                                          "world": {"width": 1}}}),
    }
    for name, text in bad.items():
        path = tmp_path / name
        path.write_text(text)
        assert main(["replay", str(path), "--out", str(tmp_path / "o")]) == 2, name
        err = capsys.readouterr().err
        assert err.startswith(f"error: {path}") and "Traceback" not in err, err
        assert not (tmp_path / "o").exists()
    assert main(["replay", str(tmp_path / "missing.json")]) == 2
    assert "file not found" in capsys.readouterr().err
    # a log whose digest does not match what it replays: the results are written, exit 1
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps({**good, "timeseries_sha256": "0" * 64}))
    assert main(["replay", str(path), "--out", str(tmp_path / "t"), "--no-plots"]) == 1
    assert "differs from the exercise's" in capsys.readouterr().err
    assert json.loads((tmp_path / "t" / "manifest.json").read_text())["reproduced"] is False
    assert read_log(tmp_path / "tampered.json")["week"] == 5


def test_the_trainer_levers_can_be_sent_whole_as_a_lever_change():
    """The app may send every lever (``TrainerSettings.overrides()``) after moving one:
    only the levers that moved change the world."""
    from sim.viz.trainer import build_scenario as trainer_scenario
    from sim.viz.trainer import settings_from_files

    settings = settings_from_files(str(ROOT / "scenarios" / "baseline.toml"))
    ex = Exercise(trainer_scenario(settings))
    ex.step(3)
    before = ex.model.arrays.role.copy()
    ex.apply({"kind": "set", "values": settings.replace(restraint=0.3).overrides()})
    assert ex.model.params.strategy_restraint == 0.3
    assert np.array_equal(ex.model.arrays.role, before)  # the roles did not move: no re-roling
    (record,) = ex.events()
    assert record["text"] == "week 4: set strategy.restraint 0.8 -> 0.3"
    ex.step(2)
    pd.testing.assert_frame_equal(replay(ex.log()).timeseries, ex.timeseries(),
                                  check_exact=True)
