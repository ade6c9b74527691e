"""Debrief exports: series CSV, a map view PNG, GIF and MP4 of the map over the exercise,
and the one-page debrief with every inject and lever change marked."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from sim.config.scenario import build_scenario, read_toml
from sim.model.exercise import Exercise
from sim.viz import exports
from sim.viz.exports import ExportError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def exercise() -> Exercise:
    data = read_toml(ROOT / "scenarios" / "baseline.toml")
    data["world"].update(width=20, height=20)
    data["events"] = [{"tick": 2, "kind": "reinforce_armed_group", "fighters": 3,
                       "note": "scripted in the scenario"}]
    ex = Exercise(build_scenario(data, "baseline.toml"))
    ex.step(3)
    ex.apply({"kind": "attack", "settlement": 0, "attackers": 6})
    ex.step(4)
    ex.bookmark("mid")
    ex.apply({"kind": "set", "values": {"strategy.restraint": 0.3}})
    ex.step(3)
    ex.apply({"kind": "withdraw_units", "share": 0.5, "note": "contributor leaves"})
    ex.step(2)
    ex.apply({"kind": "legitimacy_shock", "delta": -0.2})  # the last week: acts on tick 13
    return ex


def test_series_csv_has_a_row_per_week(exercise, tmp_path):
    path = exports.series_csv(exercise, tmp_path / "series.csv")
    table = pd.read_csv(path)
    assert len(table) == exercise.week + 1 == 13
    assert list(table["tick"]) == list(range(13))
    pd.testing.assert_frame_equal(table, exercise.timeseries(), check_dtype=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["series.csv"]


def test_events_csv_lists_every_event(exercise, tmp_path):
    table = pd.read_csv(exports.events_csv(exercise.events(), tmp_path / "events.csv"))
    assert list(table["kind"]) == ["reinforce_armed_group", "attack", "set", "withdraw_units",
                                   "legitimacy_shock"]


def test_map_png_is_the_map_view_at_this_week(exercise, tmp_path):
    path = exports.map_png(exercise.model, tmp_path / "map.png", layer="trust", cell_px=10)
    img = np.asarray(Image.open(path))
    assert img.shape[1] == 200 and img.shape[0] > 200  # 20 cells of 10 px, with a caption
    bare = exports.map_view(exercise.model, "trust", cell_px=10, caption=False)
    assert np.array_equal(img[-200:, :200, :3], bare)
    with pytest.raises(ExportError, match="layer = 'heat': choose one of violence"):
        exports.map_png(exercise.model, tmp_path / "x.png", layer="heat")


def test_gif_has_a_frame_per_shown_week(exercise, tmp_path):
    import imageio.v3 as iio

    res = exports.animation(exercise, tmp_path / "map.gif", every=5)
    assert res.weeks == [0, 5, 10, 12] and res.frames == 4
    frames = iio.imread(res.path, index=None)
    assert frames.shape[0] == 4
    assert not np.array_equal(frames[0], frames[-1])  # the map changes over the weeks
    every_week = exports.animation(exercise.log(), tmp_path / "all.gif", layer="economy")
    assert every_week.frames == 13


def test_the_animation_shows_the_logged_history(exercise, tmp_path):
    """The frames are the maps of the exercise's history: the last one is the map of the
    exercise's own model at its last week (exactly before the GIF's palette)."""
    import imageio.v3 as iio

    from sim.model.exercise import history

    *_, last = history(exercise.log(), every=100)
    assert last.steps == exercise.week
    now = exports.map_view(exercise.model, "violence", 6)
    assert np.array_equal(exports.map_view(last, "violence", 6), now)
    path = exports.animation(exercise, tmp_path / "a.gif", every=100, cell_px=6).path
    frame = iio.imread(path, index=None)[-1][..., :3].astype(int)
    shown = exports.captioned(exports.map_view(exercise.model, "violence", 6, caption=False),
                              f"Week {exercise.week}")
    assert frame.shape == shown.shape
    assert np.abs(frame - shown).mean() < 2.0  # a GIF has at most 256 colours


def test_mp4_is_written_with_ffmpeg(exercise, tmp_path):
    ok, why = exports.mp4_support()
    assert ok, why  # imageio-ffmpeg is in the viz extra and the lock files
    import imageio

    res = exports.animation(exercise, tmp_path / "map.mp4", every=2)
    reader = imageio.get_reader(res.path, format="FFMPEG")
    try:
        assert reader.count_frames() == res.frames == 7
        w, h = reader.get_meta_data()["size"]
        assert w % 16 == 0 and h % 16 == 0
    finally:
        reader.close()


def test_without_ffmpeg_mp4_says_so_and_writes_nothing(exercise, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # not installed
    ok, why = exports.mp4_support()
    assert not ok and "imageio-ffmpeg" in why and "GIF works without it" in why
    with pytest.raises(ExportError, match="MP4 needs the imageio-ffmpeg package"):
        exports.animation(exercise, tmp_path / "map.mp4")
    assert list(tmp_path.iterdir()) == []
    assert exports.animation(exercise, tmp_path / "map.gif", every=6).frames == 3


def test_the_debrief_marks_every_inject_and_lever_change(exercise, tmp_path):
    records = exercise.events()
    fig, head, marks = exports.debrief_figure(exercise.timeseries(), records, "Exercise 1")
    assert [t for t, _ in marks] == [2, 4, 8, 11, 13]
    assert len(fig.axes) == 5  # four charts and the casualties' cumulative axis
    for ax in fig.axes[:4]:
        gids = [line.get_gid() for line in ax.get_lines() if line.get_gid()]
        assert gids == [f"mark-{i}" for i in range(1, 6)], ax.get_title()
        xs = [line.get_xdata()[0] for line in ax.get_lines() if line.get_gid()]
        assert xs == [2, 4, 8, 11, 13]
        assert ax.get_xlim()[1] >= 13  # the last action, after the last week, is shown
    texts = [t.get_text() for t in fig.texts]
    assert texts[0] == "Exercise 1" and texts[1].startswith("Over 12 weeks, ")
    assert "4 injects and 1 lever change" in head
    for i, record in enumerate(records, start=1):
        assert any(t.startswith(f"{i}. {record['text'][:40]}") for t in texts), record
    out = exports.debrief(exercise, tmp_path / "debrief.png", pdf=tmp_path / "debrief.pdf")
    assert [p.name for p in out.paths] == ["debrief.png", "debrief.pdf"]
    assert Image.open(out.paths[0]).size[0] > 1000
    assert out.paths[1].read_bytes().startswith(b"%PDF")
    assert out.marks == marks


def test_the_headline_says_what_happened_in_plain_words():
    ts = pd.DataFrame({"tick": [0, 1, 2, 3], "civilian_casualties": [0, 2, 0, 1],
                       "trust_pk_mean": [0.4, 0.41, 0.38, 0.35],
                       "combatants": [10, 12, 12, 9], "peacekeepers": [20, 20, 10, 10]})
    assert exports.headline(ts, []) == (
        "Over 3 weeks, 3 civilians were killed; trust in peacekeepers went from 0.40 to 0.35, "
        "armed fighters from 10 to 9, peacekeeping units from 20 to 10. No injects or lever "
        "changes.")
    text = exports.headline(ts, [{"tick": 2, "kind": "withdraw_units", "text": "w"}])
    assert text.endswith("1 inject and 0 lever changes (marked below); 1 of the deaths came "
                         "from week 2 on.")


def test_the_debrief_needs_the_peacekeeping_outcomes(tmp_path):
    ts = pd.DataFrame({"tick": [0, 1], "active": [0, 1]})
    with pytest.raises(ExportError, match="lacks civilian_casualties"):
        exports.debrief(ts, tmp_path / "d.png", records=[])
    with pytest.raises(ExportError, match=r"\.png or \.pdf"):
        exports.debrief(ts.assign(**{c: 0 for _, _, lines in exports.PANELS
                                     for c, _, _ in lines}), tmp_path / "d.svg", records=[])
    assert list(tmp_path.iterdir()) == []


def test_peacesim_replay_writes_the_exports(exercise, tmp_path, capsys, monkeypatch):
    import imageio.v3 as iio

    from sim.cli import main

    log = exercise.save(tmp_path / "x.json")
    out = tmp_path / "o"
    code = main(["replay", str(log), "--out", str(out), "--no-plots", "--quiet", "--debrief",
                 "--animation", "gif", "--layer", "economy"])
    assert code == 0, capsys.readouterr().err
    assert (out / "debrief.pdf").read_bytes().startswith(b"%PDF")
    assert Image.open(out / "debrief.png").size[0] > 1000
    assert iio.imread(out / "map.gif", index=None).shape[0] == exercise.week + 1
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    code = main(["replay", str(log), "--out", str(tmp_path / "m"), "--animation", "mp4"])
    err = capsys.readouterr().err
    assert code == 2 and "--animation mp4: MP4 needs the imageio-ffmpeg package" in err
    assert not (tmp_path / "m").exists()
