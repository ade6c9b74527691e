"""The classroom app in a real browser (Playwright driving Debian's chromium): projector
layouts at 1280x720, 1024x768 and 1920x1080, tooltips on every lever, text of at least 14 px,
presenter mode, an inject changing the run from its week on, a bookmark and a rewind, every
export written and the exercise log replayed bit for bit by ``peacesim replay``, the compare
page's seeds and bands, and the play rates of both pages.

Screenshots and the measured rates go to ``results/ui/classroom/`` (git-ignored). The rates
are written, not asserted: on a shared, busy machine they say more about the machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.viz.help import LEVER_HELP, tooltip
from sim.viz.live import EXPORT_DIR_ENV
from sim.viz.trainer import SCENARIO_ENV, SCENARIOS_DIR_ENV, build_scenario, settings_from_files

pytestmark = pytest.mark.browser

APP = "sim.viz.app"
TIMEOUT_MS = 90_000
PLAY_S = 12  # seconds of play for a rate
SMALL = {"width = 50": "width = 24", "height = 50": "height = 24", "ticks = 260": "ticks = 30",
         "drawdown_start = 156": "drawdown_start = 20", "drawdown_ticks = 52":
         "drawdown_ticks = 6", "exit_window = 52": "exit_window = 10"}

#: every visible text node's font size in px, with its text (canvas text is the app's own)
FONT_SIZES = """() => {
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const node = walker.currentNode;
        const text = node.textContent.trim();
        const el = node.parentElement;
        if (!text || !el || el.closest("style, script, noscript, .v-tooltip__content")) continue;
        const r = el.getBoundingClientRect();
        const cs = getComputedStyle(el);
        if (r.width === 0 || r.height === 0 || cs.visibility === "hidden") continue;
        if (el.closest("[style*='display: none']")) continue;
        out.push([parseFloat(cs.fontSize), text.slice(0, 40)]);
    }
    return out;
}"""
WEEK = "() => parseInt(document.querySelector('.peacesim-week').textContent.slice(5))"
#: scroll the page and every scrolled box of it back to the top
TO_TOP = """() => { window.scrollTo(0, 0);
    document.querySelectorAll("*").forEach(e => { if (e.scrollTop) e.scrollTop = 0; }); }"""


@pytest.fixture
def classroom(tmp_path: Path, scenarios_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped scenarios for the pickers, exports into a folder of the test's; the app
    opens on the baseline (50 x 50)."""
    folder = tmp_path / "scenarios"
    shutil.copytree(scenarios_dir / "strategies", folder / "strategies")
    shutil.copy(scenarios_dir / "baseline.toml", folder)
    monkeypatch.setenv(SCENARIOS_DIR_ENV, str(folder))
    monkeypatch.delenv(SCENARIO_ENV, raising=False)
    monkeypatch.setenv(EXPORT_DIR_ENV, str(tmp_path / "exports"))
    return tmp_path


@pytest.fixture
def small_context(classroom: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app opens on the baseline shrunk to 24 x 24 and 30 weeks (whole runs are quick)."""
    text = (classroom / "scenarios" / "baseline.toml").read_text()
    for old, new in SMALL.items():
        text = re.sub(rf"^{re.escape(old)}\b", new, text, flags=re.M)
    path = classroom / "scenarios" / "small.toml"
    path.write_text(text)
    monkeypatch.setenv(SCENARIO_ENV, str(path))
    return path


@pytest.fixture(scope="session")
def shots(ui_results: Path) -> Path:
    """Where these tests put their screenshots and rates."""
    folder = ui_results / "classroom"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_page(page, url: str, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.goto(url)
    page.locator(".peacesim-week").first.wait_for(timeout=TIMEOUT_MS)
    page.locator("canvas.peacesim-map").first.wait_for(timeout=TIMEOUT_MS)
    page.locator("canvas.peacesim-chart").first.wait_for(timeout=TIMEOUT_MS)


def week_is(page, week: int) -> None:
    page.locator(".peacesim-week", has_text=re.compile(rf"^Week {week}$")).first.wait_for(
        timeout=TIMEOUT_MS)


def step(page, times: int) -> None:
    button = page.get_by_role("button", name="Step")
    for _ in range(times):
        now = page.evaluate(WEEK)
        button.click()
        week_is(page, now + 1)


def pick(page, label: str, item: str) -> None:
    field = page.locator(".v-select").filter(has=page.locator("label", has_text=label)).first
    field.scroll_into_view_if_needed()
    field.click()
    page.locator(".menuable__content__active .v-list-item", has_text=item).first.click()


def type_into(page, label: str, text: str) -> None:
    field = page.locator(".v-text-field").filter(
        has=page.locator("label", has_text=label)).first.locator("input")
    field.scroll_into_view_if_needed()
    field.fill(text)
    field.press("Enter")


def box(page, selector: str, index: int = 0) -> dict:
    found = page.locator(selector).nth(index)
    found.wait_for(timeout=TIMEOUT_MS)
    return found.bounding_box()


def play_rate(page, name: str, shots: Path, seconds: float = PLAY_S) -> float:
    """Press Play, let it run ``seconds``, pause; the weeks per second the week label
    advanced, written to ``play_rate_<name>.txt`` with the machine's load."""
    start_week = page.evaluate(WEEK)
    page.get_by_role("button", name="▶").first.click()
    start = time.monotonic()
    page.wait_for_timeout(seconds * 1000)
    end_week = page.evaluate(WEEK)
    elapsed = time.monotonic() - start
    page.get_by_role("button", name="❚❚").first.click()
    page.get_by_role("button", name="Step").first.wait_for(timeout=TIMEOUT_MS)
    rate = (end_week - start_week) / elapsed
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    (shots / f"play_rate_{name}.txt").write_text(
        f"{name}: {end_week - start_week} weeks in {elapsed:.1f} s = {rate:.1f} weeks/s "
        f"(50 x 50, in chromium; load average {load} on {os.cpu_count()} cores)\n")
    return rate


def small_fonts(page) -> list:
    return [(size, text) for size, text in page.evaluate(FONT_SIZES) if size < 14]


# ------------------------------------------------------------------ trainer page


def test_home_layout_help_presenter_and_play_rate(solara_server, solara_app, page_session,
                                                  classroom, shots) -> None:
    page = page_session
    with solara_app(APP):
        try:
            open_page(page, solara_server.base_url + "/", 1280, 720)
            assert box(page, "canvas.peacesim-map")["width"] >= 800  # the map fills the main area
            assert page.evaluate("""() => { const d = document.querySelector(
                ".v-navigation-drawer__content"); return d.scrollWidth <= d.clientWidth; }""")
            assert page.locator(".peacesim-week").first.inner_text() == "Week 0"
            assert page.get_by_text(re.compile(r"^Time: ")).count() == 0
            # Mesa's developer controls: folded under "Advanced"
            assert not page.get_by_text("Play Interval (ms)").is_visible()
            page.get_by_text("Advanced (developer controls)").click()
            page.get_by_text("Play Interval (ms)").wait_for(timeout=TIMEOUT_MS)
            assert page.get_by_text("Render Interval (steps)").is_visible()
            assert page.get_by_text("Use Threads").is_visible()
            page.get_by_text("Advanced (developer controls)").click()
            # every lever has its tooltip, in words
            levers = page.locator(".peacesim-lever")
            names = set()
            for i in range(levers.count()):
                lever = levers.nth(i)
                name = next(c for c in lever.get_attribute("class").split()
                            if c.startswith("peacesim-lever-")).removeprefix("peacesim-lever-")
                names.add(name)
                lever.scroll_into_view_if_needed()
                lever.hover()
                tip = page.locator(".v-tooltip__content.menuable__content__active")
                tip.wait_for(timeout=TIMEOUT_MS)
                text = tip.inner_text()
                assert text.replace("\n", " ") == tooltip(name).replace("\n", " "), name
                page.mouse.move(1270, 700)
                tip.wait_for(state="hidden", timeout=TIMEOUT_MS)
            assert names == set(LEVER_HELP) - {"seeds"}  # (seeds: the compare page's)
            # a colour bar for each layer, and the help panel
            for layer, title in (("economy", "economy"), ("trust", "trust in peacekeepers"),
                                 ("violence", "recent violence")):
                page.get_by_role("button", name=layer, exact=True).first.click()
                page.locator(".peacesim-colourbar", has_text=f"Background: {title}").wait_for(
                    timeout=TIMEOUT_MS)
            page.get_by_text("What am I looking at?").click()
            page.get_by_text("One cell is a patch of ground").wait_for(timeout=TIMEOUT_MS)
            step(page, 3)
            page.evaluate(TO_TOP)
            assert not small_fonts(page), small_fonts(page)[:10]  # text of 14 px or more
            page.screenshot(path=str(shots / "home_1280x720.png"))
            assert play_rate(page, "home", shots) > 0
            # presenter mode: no sidebar or title bar, the controls above the map
            page.get_by_role("button", name="Presenter mode").click()
            page.locator(".v-navigation-drawer").wait_for(state="hidden", timeout=TIMEOUT_MS)
            # the controls are re-rendered above the map: wait for them (is_visible does not)
            page.get_by_role("button", name="▶").first.wait_for(state="visible",
                                                                timeout=TIMEOUT_MS)
            b = box(page, "canvas.peacesim-map")
            assert b["width"] >= 800 and 0 <= b["y"] < 100  # at the top: presenting the map
            page.screenshot(path=str(shots / "presenter_1280x720.png"))
            page.get_by_role("button", name="Leave presenter mode").click()
            page.locator(".v-navigation-drawer").wait_for(timeout=TIMEOUT_MS)
            # 1920 x 1080: the map and, beside it, the charts and the feed
            page.set_viewport_size({"width": 1920, "height": 1080})
            page.wait_for_timeout(1500)
            page.evaluate(TO_TOP)
            m, c = box(page, "canvas.peacesim-map"), box(page, "canvas.peacesim-chart")
            assert c["x"] >= m["x"] + m["width"] and c["y"] + c["height"] <= 1080
            assert m["y"] + m["height"] <= 1080 and m["width"] >= 800
            page.screenshot(path=str(shots / "home_1920x1080.png"))
        finally:
            page.goto("about:blank")


def test_inject_bookmark_rewind_exports_and_replay(solara_server, solara_app, page_session,
                                                   small_context, classroom, shots,
                                                   repo_root) -> None:
    page = page_session
    with solara_app(APP):
        try:
            open_page(page, solara_server.base_url + "/", 1280, 900)
            step(page, 4)
            type_into(page, "bookmark name", "start")
            page.get_by_role("button", name="Bookmark week 4").click()
            rewind = page.get_by_role("button", name="Rewind to start (week 4)")
            rewind.wait_for(timeout=TIMEOUT_MS)
            headline = page.locator(".peacesim-headline").first.inner_text()
            # an attack on district C2 from week 5 on
            pick(page, "District (a settlement in it)", "C2")
            clicked = time.monotonic()
            page.get_by_role("button", name="Inject", exact=True).click()
            feed = page.locator(".peacesim-feed")
            feed.get_by_text(re.compile(r"Week 5 - instructor: attack on .*district C2")
                             ).wait_for(timeout=TIMEOUT_MS)
            shown = time.monotonic() - clicked  # the inject on screen (feed, map) after ...
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            (shots / "inject_latency.txt").write_text(
                f"inject: on screen {shown:.2f} s after the click (load average {load})\n")
            step(page, 4)
            page.get_by_text("Dotted grey: the run without your last change").wait_for(
                timeout=TIMEOUT_MS)
            page.evaluate(TO_TOP)
            page.screenshot(path=str(shots / "inject_ghost.png"))
            # every export, written to the exercise's folder
            exports = Path(os.environ[EXPORT_DIR_ENV])
            for label in ("Exercise log (JSON)", "Series (CSV)", "Map (PNG)",
                          "Animation (GIF)", "Animation (MP4)", "Debrief (PNG + PDF)"):
                page.get_by_role("button", name=label).click()
                status = page.locator(".peacesim-export-status")
                status.filter(has_text=re.compile(re.escape(label) + ": (written|.*ffmpeg)")
                              ).wait_for(timeout=TIMEOUT_MS * 2)
            folder = next(exports.iterdir())
            files = {p.name for p in folder.iterdir()}
            assert {"exercise.json", "series.csv", "events.csv", "feed.txt",
                    "map_week8_violence.png", "animation_violence.gif", "debrief.png",
                    "debrief.pdf"} <= files, files
            from sim.viz.exports import mp4_support

            assert ("animation_violence.mp4" in files) == mp4_support()[0]
            # the run changed from the inject's week on, not before
            ts = pd.read_csv(folder / "series.csv")
            settings = settings_from_files(str(small_context))
            from sim import run

            plain = run(build_scenario(settings), seed=settings.seed, ticks=8).timeseries
            cols = ["civilian_casualties", "combatants", "trust_pk_mean", "attacks"]
            assert np.array_equal(ts[cols].to_numpy()[:5], plain[cols].to_numpy()[:5])
            assert not np.array_equal(ts[cols].to_numpy()[5:], plain[cols].to_numpy()[5:])
            # peacesim replay reproduces the exercise bit for bit
            replay = subprocess.run(
                [sys.executable, "-c", "import sys; from sim.cli import main; sys.exit(main())",
                 "replay", str(folder / "exercise.json"), "--out",
                 str(classroom / "replayed"), "--no-plots"],
                cwd=repo_root, capture_output=True, text=True, timeout=600)
            assert replay.returncode == 0, replay.stderr
            assert "time series reproduced bit for bit" in replay.stderr
            # back to the bookmark: the week and the world as they were
            rewind.click()
            week_is(page, 4)
            page.locator(".peacesim-headline", has_text=headline).first.wait_for(
                timeout=TIMEOUT_MS)
            # the charts re-render after the headline: wait for the ghost's note to go
            # (a timeout here means it stayed after the rewind)
            page.get_by_text("Dotted grey: the run without").wait_for(
                state="hidden", timeout=TIMEOUT_MS)
        finally:
            page.goto("about:blank")


# ------------------------------------------------------------------ compare page


def test_compare_layout_and_play_rate(solara_server, solara_app, page_session, classroom,
                                      shots) -> None:
    page = page_session
    with solara_app(APP):
        try:
            open_page(page, solara_server.base_url + "/compare", 1024, 768)
            note = page.locator(".peacesim-seed-note")
            assert "Only one seed shown" in note.inner_text()
            step(page, 3)
            # everything of the compare page in view: both maps and every chart
            page.evaluate(TO_TOP)
            for sel, i in (("canvas.peacesim-map", 0), ("canvas.peacesim-map", 1),
                           ("canvas.peacesim-chart", 0), (".peacesim-seed-note", 0)):
                b = box(page, sel, i)
                assert b["y"] >= 0 and b["y"] + b["height"] <= 768, (sel, i, b)
                assert b["x"] >= 0 and b["x"] + b["width"] <= 1024, (sel, i, b)
            assert not small_fonts(page), small_fonts(page)[:10]
            page.screenshot(path=str(shots / "compare_1024x768.png"))
            assert play_rate(page, "compare", shots) > 0
            page.set_viewport_size({"width": 1920, "height": 1080})
            page.wait_for_timeout(1500)
            page.evaluate(TO_TOP)
            for sel, i in (("canvas.peacesim-map", 0), ("canvas.peacesim-map", 1),
                           ("canvas.peacesim-chart", 0)):
                b = box(page, sel, i)
                assert b["y"] + b["height"] <= 1080, (sel, i, b)
            page.screenshot(path=str(shots / "compare_1920x1080.png"))
        finally:
            page.goto("about:blank")


def test_compare_seeds_fill_in_the_bands(solara_server, solara_app, page_session,
                                         small_context, shots) -> None:
    page = page_session
    with solara_app(APP):
        try:
            open_page(page, solara_server.base_url + "/compare", 1920, 1080)
            step(page, 10)
            chart = page.locator("canvas.peacesim-chart").first
            version = int(chart.get_attribute("data-version"))
            type_into(page, "seeds", "3")
            page.get_by_role("button", name="Run 3 seeds").click()
            note = page.locator(".peacesim-seed-note")
            note.filter(has_text="mean of 3 seeds").wait_for(timeout=TIMEOUT_MS * 4)
            page.wait_for_function(
                "v => parseInt(document.querySelector('canvas.peacesim-chart')"
                ".dataset.version) > v", arg=version, timeout=TIMEOUT_MS)
            page.evaluate(TO_TOP)
            page.screenshot(path=str(shots / "compare_seeds_1920x1080.png"))
        finally:
            page.goto("about:blank")
