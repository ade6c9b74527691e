"""End to end: the trainer app served by solara, driven in headless chromium by Playwright.

Each test opens a page, moves a slider, presses Step several times and checks the week label
and that the map and chart canvases changed; screenshots go to results/ui/. The page must load
with nothing from outside this machine (solara-assets serves the front end). The classroom
features (help, feed, injects, rewind, exports, layouts, play rates) are tested in
test_classroom_browser.py.
"""

from __future__ import annotations

import re
import shutil
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest

from sim.viz.trainer import SCENARIO_ENV, SCENARIOS_DIR_ENV

pytestmark = pytest.mark.browser

APP = "sim.viz.app"  # the module, as peacesim viz serves it (not the file: solara
# would run it as __main__)
TIMEOUT_MS = 30_000
BROKEN = """name = "broken"
model = "peacekeeping"

[world]
width = 2
"""


@pytest.fixture
def scenario_dir(tmp_path: Path, scenarios_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The pickers list baseline, an invalid file and all shipped strategies."""
    folder = tmp_path / "scenarios"
    shutil.copytree(scenarios_dir / "strategies", folder / "strategies")
    shutil.copy(scenarios_dir / "baseline.toml", folder)
    (folder / "broken.toml").write_text(BROKEN)
    monkeypatch.setenv(SCENARIOS_DIR_ENV, str(folder))
    monkeypatch.delenv(SCENARIO_ENV, raising=False)
    return folder


class Traffic:
    """Requests the page makes that leave this machine, and responses that failed."""

    def __init__(self, page) -> None:
        self.outside: list[str] = []
        self.failed: list[str] = []
        page.on("request", self._request)
        page.on("response", self._response)

    def _request(self, request) -> None:
        host = urlparse(request.url).hostname
        if host not in (None, "127.0.0.1", "localhost") and request.url.startswith("http"):
            self.outside.append(request.url)

    def _response(self, response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.status} {response.url}")


def open_page(page, url: str) -> Traffic:
    traffic = Traffic(page)
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(url)
    page.locator(".peacesim-week", has_text="Week 0").first.wait_for(timeout=TIMEOUT_MS)
    return traffic


def slider(page, label: str):
    """The vuetify slider whose label starts with ``label`` (its label shows the value)."""
    box = page.locator(".v-input__slider").filter(
        has=page.locator("label", has_text=label)).last
    return box, box.locator("label")


def click_left_end(page, box) -> None:
    """Click the slider's track near its left end (the browser's own way to move it)."""
    box.scroll_into_view_if_needed()
    track = box.locator(".v-slider").bounding_box()
    page.mouse.click(track["x"] + 1, track["y"] + track["height"] / 2)


def step(page, times: int) -> None:
    button = page.get_by_role("button", name="Step")
    for i in range(1, times + 1):
        button.click()
        week_is(page, i)


def pick(page, label: str, item: str) -> None:
    page.locator(".v-select").filter(has=page.locator("label", has_text=label)).click()
    page.locator(".menuable__content__active .v-list-item", has_text=item).click()


#: true once the week label shows at least the given week (it may have passed it already)
PLAYED_TO = """week => [...document.querySelectorAll(".peacesim-week")].some(
    e => parseInt(e.textContent.slice(5)) >= week)"""


def week_is(page, week: int) -> None:
    """Wait until the sidebar's label reads ``Week <week>``."""
    page.locator(".peacesim-week", has_text=re.compile(rf"^Week {week}$")).first.wait_for(
        timeout=TIMEOUT_MS)


def week_of(page) -> int:
    return int(page.locator(".peacesim-week").first.inner_text().split()[1])


def play_for(page, seconds: float, ui_results: Path, name: str, ticks_at_least: int = 3) -> float:
    """Press Play, wait ``seconds`` and until the model has played ``ticks_at_least`` ticks,
    press Pause; the ticks played. The ticks per second seen in the time label go to
    results/ui/play_rate_<name>.txt, not asserted: the machine may be busy (on a loaded
    2-core machine the compare page played 1 tick in 3 s)."""
    start_tick = week_of(page)
    page.get_by_role("button", name="▶").click()
    start = time.monotonic()
    page.wait_for_timeout(seconds * 1000)
    page.wait_for_function(PLAYED_TO, arg=start_tick + ticks_at_least, timeout=TIMEOUT_MS)
    page.get_by_role("button", name="❚❚").click()
    elapsed = time.monotonic() - start
    page.get_by_role("button", name="Step").wait_for(timeout=TIMEOUT_MS)
    ticks = week_of(page) - start_tick
    rate = ticks / elapsed
    (ui_results / f"play_rate_{name}.txt").write_text(
        f"{name}: {ticks:.0f} ticks in {elapsed:.1f} s = {rate:.1f} ticks/s\n")
    return ticks


def wait_until_changed(locator, before: bytes, timeout_s: float = 15) -> bytes:
    """The element's screenshot once it differs from ``before`` (images arrive async)."""
    deadline = time.monotonic() + timeout_s
    while True:
        now = locator.screenshot()
        if now != before or time.monotonic() > deadline:
            return now
        time.sleep(0.2)


def test_trainer_page(solara_server, solara_app, page_session, scenario_dir, ui_results) -> None:
    page = page_session
    with solara_app(APP):
        try:
            traffic = open_page(page, solara_server.base_url + "/")
            map_img, chart = page.locator("canvas.peacesim-map"), page.locator(
                "canvas.peacesim-chart")
            map_img.wait_for(timeout=TIMEOUT_MS)
            chart.wait_for(timeout=TIMEOUT_MS)
            map0, chart0 = map_img.screenshot(), chart.screenshot()

            box, label = slider(page, "restraint:")
            assert label.inner_text() == "restraint: 0.80"
            click_left_end(page, box)
            page.get_by_text("restraint: 0.00").wait_for(timeout=TIMEOUT_MS)

            step(page, 3)
            assert wait_until_changed(map_img, map0) != map0
            assert wait_until_changed(chart, chart0) != chart0
            week_is(page, 3)

            page.get_by_role("button", name="economy").click()
            map3 = map_img.screenshot()
            page.screenshot(path=str(ui_results / "trainer.png"))

            # bad input: the invalid file's validation message, and the app goes on
            pick(page, "Context", "broken.toml")
            page.get_by_text("world.width = 2: Input should be greater than or equal to 3") \
                .wait_for(timeout=TIMEOUT_MS)
            page.screenshot(path=str(ui_results / "trainer_invalid_file.png"))
            button = page.get_by_role("button", name="Step")
            button.click()
            week_is(page, 4)
            assert wait_until_changed(map_img, map3) != map3
            assert play_for(page, 3, ui_results, "trainer") >= 3
            assert week_of(page) > 4
            assert not traffic.outside, traffic.outside
            assert not traffic.failed, traffic.failed
        finally:
            page.goto("about:blank")


def test_compare_page(solara_server, solara_app, page_session, scenario_dir, ui_results) -> None:
    page = page_session
    with solara_app(APP):
        try:
            traffic = open_page(page, solara_server.base_url + "/compare")
            maps, chart = page.locator("canvas.peacesim-map"), page.locator(
                "canvas.peacesim-chart")
            chart.wait_for(timeout=TIMEOUT_MS)
            assert maps.count() == 2
            before = [maps.nth(0).screenshot(), maps.nth(1).screenshot(), chart.screenshot()]

            page.get_by_text("Levers of B").click()
            box, label = slider(page, "restraint:")
            old = label.inner_text()
            click_left_end(page, box)
            page.get_by_text("restraint: 0.00").wait_for(timeout=TIMEOUT_MS)
            assert old != "restraint: 0.00"

            step(page, 3)
            after = [wait_until_changed(maps.nth(0), before[0]),
                     wait_until_changed(maps.nth(1), before[1]),
                     wait_until_changed(chart, before[2])]
            assert all(a != b for a, b in zip(after, before, strict=True))
            page.screenshot(path=str(ui_results / "compare.png"))
            assert play_for(page, 3, ui_results, "compare") >= 3
            assert not traffic.outside, traffic.outside
            assert not traffic.failed, traffic.failed
        finally:
            page.goto("about:blank")


WS_STATE = """url => new Promise(resolve => {
    const ws = new WebSocket(url);
    ws.onopen = () => { ws.close(); resolve("open"); };
    ws.onerror = () => resolve("refused");
    setTimeout(() => resolve("no answer"), 20000);
})"""


def test_foreign_pages_cannot_reach_the_app(solara_server, solara_app, page_session,
                                            foreign_site, rebind_name, scenario_dir) -> None:
    """What a browser does for an attacker's page: DNS rebinding (a name of the attacker's that
    resolves to 127.0.0.1; here chromium's resolver rules) gets 403, and another site's page
    cannot open the app's websocket (which would let it drive the model); the same script on
    the app's own page can. (Against solara without the guard: 200, and the websocket opens.)"""
    page = page_session
    port = solara_server.port
    kernel_ws = (f"ws://127.0.0.1:{port}/jupyter/api/kernels/{uuid.uuid4()}/channels"
                 f"?session_id={uuid.uuid4()}")
    with solara_app(APP):
        try:
            response = page.goto(f"http://{rebind_name}:{port}/")
            assert response is not None and response.status == 403
            assert "is not a name of this app" in page.content()

            page.goto(foreign_site)
            assert page.evaluate(WS_STATE, kernel_ws) == "refused"

            open_page(page, solara_server.base_url + "/")
            assert page.evaluate(WS_STATE, kernel_ws) == "open"
        finally:
            page.goto("about:blank")
