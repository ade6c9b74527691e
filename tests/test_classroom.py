"""The classroom app's model side, without Solara: event sites and the event feed, cell
inspection, lever help, the pictures (map frames, colour bars, charts), the seeds behind the
compare page, and the exercise the trainer page plays (actions from this week on, the ghost,
bookmarks, rewind, exports)."""

from __future__ import annotations

import base64
import concurrent.futures as cf
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.config.scenario import ScenarioError, planned_exit_tick
from sim.engine import layout as K
from sim.model.exercise import ExerciseError
from sim.viz import components as C
from sim.viz.ensemble import Ensemble, band
from sim.viz.feed import (
    Before,
    _table_items,
    cell_at,
    district_id,
    district_name,
    district_names,
    district_of_id,
    inspect_cell,
    snapshot,
    week_items,
)
from sim.viz.help import LEVER_HELP, event_help, tooltip, what_am_i_looking_at
from sim.viz.live import EXPORTS, ExerciseRun, lever_values, replayed_run, write_export
from sim.viz.trainer import TrainerModel, settings_from_files

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"width = 50": "width = 24", "height = 50": "height = 24", "ticks = 260": "ticks = 40",
         "drawdown_start = 156": "drawdown_start = 20", "drawdown_ticks = 52":
         "drawdown_ticks = 6", "exit_window = 52": "exit_window = 10"}


def small_context(folder: Path) -> str:
    """The baseline on a 24 x 24 map for 40 weeks, drawing down from week 20 to 25."""
    text = (ROOT / "scenarios" / "baseline.toml").read_text()
    for old, new in SMALL.items():
        assert re.search(rf"^{re.escape(old)}\b", text, re.M), old
        text = re.sub(rf"^{re.escape(old)}\b", new, text, flags=re.M)
    path = folder / "small.toml"
    path.write_text(text)
    return str(path)


@pytest.fixture
def small(tmp_path: Path):
    return settings_from_files(small_context(tmp_path))


# ------------------------------------------------------------------ event sites and feed


def test_event_sites_add_up_to_the_counters(small) -> None:
    m = TrainerModel(small)
    lay = m.layer.lay
    pairs = ((lay.site_attack, K.EV_ATTACKS), (lay.site_protected, K.EV_INTERRUPTED),
             (lay.site_interdict, K.EV_INTERDICTIONS), (lay.site_harm, K.EV_HARMED),
             (lay.site_arrest, K.EV_COMBATANT_ARRESTS), (lay.site_abuse, K.EV_ABUSES))
    seen = 0
    for _ in range(30):
        m.step()
        for plane, ev in pairs:
            assert plane.sum() == m.events[ev]
        assert lay.site_killed.sum() + lay.site_harm_killed.sum() \
            + lay.site_crossfire_killed.sum() == m.events[K.EV_CASUALTIES]
        assert (lay.site_tipped <= lay.site_interdict).all()
        seen += int(m.events[K.EV_ATTACKS])
    assert seen > 0  # the test saw attacks


def test_feed_reports_crossfire_and_predation_where_they_happened(tmp_path) -> None:
    """Rival factions' crossfire (ODD 7.25) and predation (7.19) have their own site planes,
    which add up to the counters, and feed lines that name their districts truly."""
    path = Path(small_context(tmp_path))
    text = path.read_text()
    assert re.search(r"^factions = 1\b", text, re.M)
    text = re.sub(r"^factions = 1\b", "factions = 3\nrivalry = 0.6\np_crossfire = 0.8\n"
                  "abusiveness = 0.4", text, flags=re.M)
    path.write_text(text)
    m = TrainerModel(settings_from_files(str(path)))
    lay = m.layer.lay
    seen = {"crossfire": 0, "predation": 0}
    for _ in range(25):
        before = snapshot(m)
        m.step()
        assert lay.site_crossfire.sum() == m.events[K.EV_CROSSFIRE]
        assert lay.site_predation.sum() == m.events[K.EV_PREDATIONS]
        assert (lay.site_crossfire_killed <= lay.site_crossfire).all()
        assert lay.site_killed.sum() + lay.site_harm_killed.sum() \
            + lay.site_crossfire_killed.sum() == m.events[K.EV_CASUALTIES]
        for item in week_items(m, before):
            if item.kind == "crossfire":
                n = int(re.search(r"hit (\d+) bystander", item.text).group(1))
                assert n == _district_sum(m, lay.site_crossfire, item.district)
                k = _district_sum(m, lay.site_crossfire_killed, item.district)
                assert (f", {k} killed" in item.text) == (k > 0)
                seen["crossfire"] += 1
            elif item.kind == "predation":
                n = int(re.search(r"preyed on (\d+) resident", item.text).group(1))
                assert n == _district_sum(m, lay.site_predation, item.district)
                seen["predation"] += 1
    assert seen["crossfire"] > 0 and seen["predation"] > 0, seen


def _district_sum(model, plane: np.ndarray, name: str) -> int:
    xs, ys = np.nonzero(plane)
    return int(sum(plane[x, y] for x, y in zip(xs, ys, strict=True)
                   if district_name(model, x, y) == name))


def test_feed_lines_are_read_from_the_tick(small) -> None:
    """Every attack line names a district where the site planes hold that many attacks and
    deaths, and says truly whether a unit stood within reach."""
    m = TrainerModel(small)
    lay = m.layer.lay
    reach = m.scenario_config.protection.interrupt_radius
    lines = 0
    for _ in range(30):
        before = snapshot(m)
        m.step()
        for item in week_items(m, before):
            assert item.week == m.steps
            if item.kind != "attack":
                continue
            lines += 1
            n = int(re.match(r"(\d+) attacks? on civilians", item.text).group(1))
            assert n == _district_sum(m, lay.site_attack, item.district)
            killed = _district_sum(m, lay.site_killed, item.district)
            assert (f"{killed} killed" in item.text) == (killed > 0)
            ag = m.arrays
            units = np.flatnonzero(ag.alive & (ag.kind == K.PEACEKEEPER) & (ag.x >= 0))
            xs, ys = np.nonzero(lay.site_attack)
            sites = [(x, y) for x, y in zip(xs, ys, strict=True)
                     if district_name(m, x, y) == item.district]
            if not units.size:  # after the exit
                assert "no peacekeeping unit in the area" in item.text
                continue
            near = min(max(abs(int(ag.x[u]) - x), abs(int(ag.y[u]) - y))
                       for u in units for x, y in sites)
            assert ("a unit was within reach" in item.text) == (near <= reach)
    assert lines > 0


def test_feed_reports_withdrawals_injects_and_the_exit(small) -> None:
    run = ExerciseRun(small)
    for _ in range(3):
        run.step()
    def units() -> int:
        ag = run.model.arrays
        return int((ag.alive & (ag.kind == K.PEACEKEEPER)).sum())

    before = units()
    run.apply({"kind": "withdraw_units", "share": 0.5, "note": "a contributor leaves"})
    feed = run.model.feed
    assert feed.latest(1)[0].kind == "inject"  # listed at once, before the next step
    assert "a contributor leaves" in feed.latest(1)[0].text
    left = units()
    run.step()
    kinds = {i.kind for i in feed.items}
    assert "inject" in kinds
    sc = run.model.scenario_config
    while run.steps <= planned_exit_tick(sc.mission) + 1:
        run.step()
    words = [i.text for i in feed.items]
    assert "the drawdown has begun" in words and "the last peacekeeping units have left" in words
    withdrawn = [i for i in feed.items if i.kind == "withdrawal"]
    assert withdrawn and all(re.match(r"\d+ units? withdrawn", i.text) for i in withdrawn)
    assert before > left


def test_feed_tells_relapse_from_recruitment(small) -> None:
    m = TrainerModel(small)
    m.step()
    before = snapshot(m)
    ag = m.arrays
    res = np.flatnonzero(ag.alive & (ag.kind == K.RESIDENT) & (ag.x >= 0))[:3]
    ag.i[res[0], K.I_EX_COMBATANT] = 1  # an ex-combatant and two residents take up arms
    before = Before(before.week, before.kind, before.alive, before.uid, before.x, before.y,
                    ag.i[: before.kind.size, K.I_EX_COMBATANT].copy())
    ag.i[res, K.I_KIND] = K.COMBATANT
    items = _table_items(m, 2, before, 0, 0)
    relapse = [i for i in items if i.kind == "relapse"]
    recruit = [i for i in items if i.kind == "recruit"]
    assert len(relapse) == 1 and relapse[0].district == district_name(m, ag.x[res[0]],
                                                                        ag.y[res[0]])
    assert sum(int(i.text.split()[0]) for i in recruit) == 2


def test_district_names_follow_the_model_districts(small) -> None:
    m = TrainerModel(small)
    names = district_names(m)
    assert names[0] == "A1" and names[-1] == "D4" and len(set(names)) == 16
    for x in range(m.width):
        for y in range(m.height):
            d = int(m.layer.lay.district[x, y])
            assert district_of_id(m, d) == district_name(m, x, y)
            assert district_id(m, district_name(m, x, y)) == d
    assert district_name(m, 0, m.height - 1) == "A1"  # north-west, as the map is drawn
    assert district_name(m, m.width - 1, 0) == "D4"
    with pytest.raises(ValueError, match="districts A1 to D4"):
        district_id(m, "E1")


def test_inspecting_a_cell(small) -> None:
    m = TrainerModel(small)
    m.step()
    ag = m.arrays
    r = int(np.flatnonzero(ag.alive & (ag.kind == K.RESIDENT) & (ag.x >= 0))[0])
    report = inspect_cell(m, int(ag.x[r]), int(ag.y[r]))
    occupant = dict(report.occupant)
    assert occupant["who"] == "resident"
    assert occupant["trust in peacekeepers"] == f"{ag.trust_pk[r]:.2f}"
    layers = dict(report.layers)
    assert layers["economy"] == f"{m.cells.economy[ag.x[r], ag.y[r]]:.2f}"
    empty = np.argwhere(m.cells.occ < 0)[0]
    assert inspect_cell(m, *empty).occupant == []
    with pytest.raises(ValueError, match="off the map"):
        inspect_cell(m, m.width, 0)
    # a click on the map image: top left is the north-west cell
    assert cell_at(m, 0, 0, 480, 480) == (0, m.height - 1)
    assert cell_at(m, 479, 479, 480, 480) == (m.width - 1, 0)


# ------------------------------------------------------------------ help


def test_every_lever_help_says_what_unit_and_effect() -> None:
    odd = (ROOT / "docs" / "ODD.md").read_text()
    for name, h in LEVER_HELP.items():
        text = tooltip(name)
        what, unit, effect = text.split("\n")
        assert what.startswith("What it is: ") and len(what) > 20, name
        assert unit.startswith("Unit: ") and len(unit) > 7, name
        assert effect.startswith("Effect: ") and len(effect) > 30, name
        for row in h.odd:  # the help quotes the ODD's measured effects, as they stand
            assert row in odd, (name, row)
    assert "no unit, from 0 to 1" in tooltip("restraint")
    assert "Use-of-force discipline" in tooltip("restraint")  # the schema's description
    assert "per map cell" in tooltip("pk_density")
    assert "week" in tooltip("drawdown_start")
    assert "weight" in tooltip("patrol")
    with pytest.raises(KeyError, match="no entry"):
        tooltip("weather")
    assert "fighters placed around the target" in event_help("attackers")


def test_what_am_i_looking_at_names_every_symbol_and_layer() -> None:
    text = " ".join(t for _, t in what_am_i_looking_at(C.LEGEND, C.LAYERS))
    for _, _, meaning in C.LEGEND:
        assert meaning in text
    for layer in C.LAYERS.values():
        assert layer.meaning in text


# ------------------------------------------------------------------ pictures


def test_map_frame_and_its_picture(small) -> None:
    m = TrainerModel(small)
    m.step()
    frame = C.map_frame(m, "economy")
    p = frame.payload()
    glyph = np.frombuffer(base64.b64decode(p["glyph"]), np.uint8).reshape(m.height, m.width)
    assert (glyph == frame.glyph).all()
    ag = m.arrays
    on = ag.alive & (ag.x >= 0)
    assert (glyph > 0).sum() == on.sum()  # one glyph per agent on the map
    pol = np.flatnonzero(on & (ag.kind == K.POLICE))
    assert (glyph[m.height - 1 - ag.y[pol], ag.x[pol]] == C.G_SQUARE).all()
    towns = np.frombuffer(base64.b64decode(p["settlement"]), np.uint8).reshape(m.height, m.width)
    assert towns.sum() == len(m.layer.market_cells)
    img = C.render_frame(frame, 10)
    police = np.array([int(C.POLICE_COLOUR[i:i + 2], 16) for i in (1, 3, 5)])
    a = pol[0]
    cell = img[(m.height - 1 - ag.y[a]) * 10:(m.height - ag.y[a]) * 10,
               ag.x[a] * 10:(ag.x[a] + 1) * 10]
    assert (cell == police).all(axis=2).any()
    assert C.LAYERS["economy"][0] == "Economy"  # (title, colour map) as before


def test_colour_bars_run_from_light_to_dark() -> None:
    for layer in C.LAYERS:
        bar = C.colour_bar(layer)
        light = [sum(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in bar]
        assert light == sorted(light, reverse=True), layer
    trust = C.trust_bar()
    assert trust[0].lower() > trust[-1].lower()  # white-ish to dark blue


def test_chart_text_is_at_least_14_px_and_marks_are_labelled(small) -> None:
    m = TrainerModel(small)
    chart = C.trend_chart(m)
    chart.png(C.series(m))
    sizes = [t.get_fontsize() * C.CHART_DPI / 72 for t in chart.fig.findobj(
        lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text") and a.get_text())]
    assert sizes and min(sizes) >= 14
    labels = [t.get_text() for t in chart.fig.findobj(lambda a: hasattr(a, "get_text"))]
    assert "drawdown" in labels and "exit" in labels


def test_chart_payload_draws_lines_ghosts_and_shading(small) -> None:
    m = TrainerModel(small)
    for _ in range(5):
        m.step()
    chart = C.trend_chart(m)
    url, frame = chart.payload(C.series(m))
    assert url.startswith("data:image/png;base64,")
    lines = frame["lines"]
    assert len(lines) == sum(len(p.lines) for p in C.TREND_PANELS)
    for line in lines:
        x0, y0, w, h = line["clip"]
        xs = np.array(line["p"][::2])
        assert (xs >= x0 - 1).all() and (xs <= x0 + w + 1).all()
    ghost = {k: v + 1 for k, v in C.series(m).items()}
    ghost["tick"] = C.series(m)["tick"]
    _, with_ghost = chart.payload(C.series(m), ghost)
    greys = [ln for ln in with_ghost["lines"] if ln["c"] == C.GHOST_COLOUR]
    assert len(greys) == len(lines)
    # the difference B - A is shaded where B is better (blue) or worse (vermillion)
    fig = C.ChartFigure(C.compare_panels(("casualties_cum",)), 10, columns=1)
    t = np.arange(6.0)
    d = np.array([0.0, -2.0, -1.0, 1.0, 3.0, 0.0])  # fewer deaths, then more
    data = {"tick": t, "a.casualties_cum": t, "b.casualties_cum": t + d, "d.casualties_cum": d}
    _, f = fig.payload(data)
    colours = [fill["c"] for fill in f["fills"]]
    assert colours == [C.BETTER_COLOUR, C.WORSE_COLOUR]
    assert f["fills"][0]["a"] == 0.35


def test_bands_are_the_95_percent_interval_of_the_mean() -> None:
    runs = [np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([5.0, 9.0])]
    b = band(runs)
    assert b.mean.tolist() == [3.0, 5.0]
    half = 4.302652729749464 * np.array([2.0, np.std([2.0, 4.0, 9.0], ddof=1)]) / np.sqrt(3)
    assert np.allclose(b.high - b.mean, half) and np.allclose(b.mean - b.low, half)
    one = band(runs[:1])
    assert (one.low == one.high).all()


def test_seeds_run_in_the_background_paired(small, tmp_path: Path) -> None:
    from sim.viz.trainer import PairSettings

    pair = PairSettings(small, small.replace(restraint=0.2))
    progress = []
    with cf.ThreadPoolExecutor(2) as pool:
        ens = Ensemble(pair, 2, executor=pool, on_progress=lambda: progress.append(1)).start()
        cf.wait(ens._futures)
    assert ens.seeds == [small.seed, small.seed + 1] and len(progress) == 4
    assert ens.complete_seeds() == ens.seeds and ens.error is None
    bands = ens.bands()
    diffs = [ens.results[("b", s)]["casualties_cum"] - ens.results[("a", s)]["casualties_cum"]
             for s in ens.seeds]
    assert np.allclose(bands["d.casualties_cum"].mean, np.mean(diffs, axis=0))
    first = TrainerModel(small)
    for _ in range(first.scenario_config.run.ticks):
        first.step()
    assert np.array_equal(ens.results[("a", small.seed)]["casualties_cum"],
                          C.series(first)["casualties_cum"])  # the same run as the page's
    with pytest.raises(ValueError, match="from 1 to 50"):
        Ensemble(pair, 0)


# ------------------------------------------------------------------ the exercise


def test_an_inject_changes_the_run_from_its_week_on_and_leaves_a_ghost(small) -> None:
    run = ExerciseRun(small)
    for _ in range(6):
        run.step()
    logged = run.apply({"kind": "attack", "district": 5, "attackers": 12})
    assert logged["tick"] == 7
    for _ in range(6):
        run.step()
    assert run.ghost_ready(120)
    plain = TrainerModel(small)
    for _ in range(12):
        plain.step()
    live, ghost, ref = C.series(run.model), run.ghost_series(), C.series(plain)
    for key in ("casualties_cum", "combatants", "trust_pk"):
        assert np.array_equal(ghost[key], ref[key])  # the world without the inject, exactly
        assert np.array_equal(live[key][:7], ref[key][:7])  # the past as the room saw it
    assert not np.array_equal(live["combatants"][7:], ref["combatants"][7:])
    assert "attack" in run.ghost_label


def test_lever_changes_from_this_week_on(small) -> None:
    new = small.replace(restraint=0.1, roles=(1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0))
    values = lever_values(small, new)
    assert values == {"strategy.roles": {"patrol": 0.5, "static": 0.0, "rapid_response": 0.0,
                                         "engagement": 0.0, "ddr": 0.0,
                                         "police_mentoring": 0.5, "checkpoint": 0.0},
                      "strategy.restraint": 0.1}
    run = ExerciseRun(small)
    for _ in range(4):
        run.step()
    model = run.model
    run.change_levers(new)
    assert run.model is model and run.steps == 4  # the same world, the same week
    assert run.model.scenario_config.strategy.restraint == 0.1
    assert run.actions()[-1]["kind"] == "set" and run.settings == new
    assert run.change_levers(new) is None  # nothing changed: no action
    with pytest.raises(ExerciseError):
        run.apply({"kind": "withdraw_units", "share": 2.0})
    assert len(run.actions()) == 1  # a refused action changes nothing


def test_bookmark_rewind_and_a_replay_with_new_levers(small) -> None:
    run = ExerciseRun(small)
    for _ in range(3):
        run.step()
    run.apply({"kind": "reinforce_armed_group", "fighters": 5})
    for _ in range(2):
        run.step()
    run.bookmark("before the scandal")
    at_mark = C.series(run.model)
    run.apply({"kind": "abuse_scandal", "district": 3, "trust_loss": 0.4})
    for _ in range(4):
        run.step()
    model = run.rewind("before the scandal")
    assert model.steps == 5 and run.ghost is None
    now = C.series(model)
    assert all(np.array_equal(now[k], at_mark[k]) for k in at_mark)
    assert [a["kind"] for a in run.actions()] == ["reinforce_armed_group", "bookmark"]
    again = replayed_run(small.replace(transparency=0.9), run.actions(), 8)
    assert again.steps == 8 and again.bookmarks() == {"before the scandal": 5}
    assert again.model.scenario_config.strategy.transparency == 0.9
    with pytest.raises(ScenarioError, match="week 4"):
        bad = small.replace(context=small.context)
        replayed_run(bad, [{"kind": "attack", "district": 99, "attackers": 2, "tick": 4}], 6)


def test_exports_are_written_and_the_log_replays_bit_for_bit(small, tmp_path: Path,
                                                             repo_root: Path) -> None:
    from sim.viz.exports import mp4_support

    run = ExerciseRun(small)
    for _ in range(4):
        run.step()
    run.apply({"kind": "legitimacy_shock", "delta": -0.3})
    for _ in range(3):
        run.step()
    written = []
    for what in EXPORTS:
        if what.endswith("(MP4)") and not mp4_support()[0]:
            continue
        written += write_export(run, what, tmp_path / "out", "trust")
    names = {p.name for p in written}
    assert {"exercise.json", "series.csv", "events.csv", "feed.txt", "map_week7_trust.png",
            "animation_trust.gif", "debrief.png", "debrief.pdf"} <= names
    assert all(p.stat().st_size > 0 for p in written)
    replay = subprocess.run(
        [sys.executable, "-c", "import sys; from sim.cli import main; sys.exit(main())",
         "replay", str(tmp_path / "out" / "exercise.json"), "--out", str(tmp_path / "rp"),
         "--no-plots"], cwd=repo_root, capture_output=True, text=True, timeout=600)
    assert replay.returncode == 0, replay.stderr
    assert "reproduced bit for bit" in replay.stderr
    with pytest.raises(ValueError, match="choose one of"):
        write_export(run, "Everything", tmp_path)
