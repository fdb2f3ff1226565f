"""The HTML report in a real headless Chromium, with the network switched off.

The report must be self-contained: plotly.js is inlined, so the heatmap has to draw from a
file:// URL with every other request refused. Chromium is the system one (Debian's
``chromium`` at /usr/bin/chromium, or $SIMREPORT_CHROMIUM); Playwright drives it and never
downloads a browser of its own. Without Playwright, a plain ``chromium --headless --dump-dom``
run still checks that the heatmap is drawn.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import CHROMIUM, CHROMIUM_ARGS, refuse_network
from simreport.pictures import decode_picture

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason=f"no Chromium at {CHROMIUM}")


def _simreport(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "simreport.cli", *args], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict[str, Path]:
    """The demo report (HTML and JSON) written by the CLI."""
    prefix = tmp_path_factory.mktemp("browser") / "demo"
    _simreport("demo", "-o", str(prefix), "--format", "json,html", "--quiet")
    return {"html": prefix.with_suffix(".html"), "json": prefix.with_suffix(".json")}


# ----------------------------------------------------------------------------- playwright


class Watched:
    """A page and everything it did that a self-contained report must not do."""

    def __init__(self, page):
        self.page = page
        self.blocked: list[str] = []  # requests refused because they would leave the machine
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []

    def assert_quiet(self) -> None:
        assert self.blocked == [], f"the report tried to reach the network: {self.blocked}"
        assert self.page_errors == [], f"uncaught errors in the page: {self.page_errors}"
        assert self.console_errors == [], f"console errors: {self.console_errors}"
        assert self.dialogs == [], f"the page opened dialogs: {self.dialogs}"


@pytest.fixture
def open_report(browser):
    """open_report(path) -> Watched: the report loaded from file:// with the network refused."""
    contexts = []

    def opener(path: Path) -> Watched:
        context = browser.new_context(viewport={"width": 1280, "height": 1000}, service_workers="block")
        contexts.append(context)
        page = context.new_page()
        watched = Watched(page)

        refuse_network(context, watched.blocked)
        page.on("console", lambda m: watched.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: watched.page_errors.append(str(e)))

        def dialog(d):
            watched.dialogs.append(f"{d.type}: {d.message}")
            d.dismiss()

        page.on("dialog", dialog)
        page.goto(path.resolve().as_uri(), wait_until="load")
        page.wait_for_selector("#simreport-heatmap .main-svg", state="attached", timeout=15_000)
        return watched

    yield opener
    for context in contexts:
        context.close()


def hover_text(page, x: float, y: float, expect: str = "") -> str:
    """Move the mouse to (x, y) and return the heatmap's hover label once it contains ``expect``."""
    page.mouse.move(x, y)
    page.wait_for_function(
        """(expect) => {
            const label = document.querySelector('#simreport-heatmap g.hovertext');
            return label !== null && label.textContent.includes(expect);
        }""", arg=expect, timeout=5_000)
    return page.eval_on_selector("#simreport-heatmap g.hovertext", "e => e.textContent")


def test_heatmap_draws_offline(demo, open_report):
    watched = open_report(demo["html"])
    page = watched.page
    plot = page.locator("#simreport-heatmap")
    assert plot.locator(".main-svg").count() >= 1
    assert plot.locator("g.heatmaplayer").count() == 1
    assert plot.locator("g.hm").count() == 1
    # plotly draws the heatmap as one raster image inside the layer
    href = page.eval_on_selector("#simreport-heatmap g.hm image", "e => e.getAttribute('href')")
    assert href and href.startswith("data:image/png")
    size = page.eval_on_selector("#simreport-heatmap g.hm image", "e => e.getBBox().width * e.getBBox().height")
    assert size > 100 * 100, "the heatmap image is (almost) empty"
    watched.assert_quiet()


def test_heatmap_hover_shows_similarity(demo, open_report):
    watched = open_report(demo["html"])
    page = watched.page
    area = page.locator("#simreport-heatmap .nsewdrag").first
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    # off the diagonal: the diagonal (each record with itself) is blanked and has no hover label
    text = hover_text(page, box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.3, "similarity")
    assert "similarity" in text
    assert len(re.findall(r"#\d+", text)) >= 2, f"the hover label names no records: {text!r}"
    watched.assert_quiet()


def test_embedded_results_match_json_file(demo, open_report):
    watched = open_report(demo["html"])
    embedded = watched.page.evaluate("JSON.parse(document.getElementById('simreport-results').textContent)")
    assert embedded == json.loads(demo["json"].read_text(encoding="utf-8"))
    # the drawn trace holds the shown matrix (plotly keeps it on the plot element as .data)
    drawn = watched.page.evaluate(
        "(() => { const t = document.getElementById('simreport-heatmap').data[0];"
        " return {type: t.type, rows: t.z.length, cols: t.z[0].length}; })()")
    shown = len(embedded["heatmap"]["indices"])
    assert drawn == {"type": "heatmap", "rows": shown, "cols": shown}
    # the page decodes the compact picture (16-bit codes) to the same numbers as Python does
    z = watched.page.evaluate("document.getElementById('simreport-heatmap').data[0].z")
    expected = decode_picture(embedded["heatmap"]["values"])
    assert np.array_equal(np.array(z, dtype=np.float64), expected, equal_nan=True)  # the blank diagonal is NaN
    watched.assert_quiet()


# ----------------------------------------------------------------------------- without playwright


@needs_chromium
def test_heatmap_in_dumped_dom(demo, tmp_path):
    """Plain headless Chromium (no Playwright): the DOM after scripts ran holds the drawn heatmap.

    Every host name resolves to nothing and the proxy is a closed port, so nothing leaves the machine.
    """
    done = subprocess.run(
        [CHROMIUM, "--headless", *CHROMIUM_ARGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
         "--virtual-time-budget=10000", "--dump-dom", demo["html"].resolve().as_uri()],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    start = dom.index('id="simreport-heatmap"')
    plot = dom[start:dom.index('id="simreport-heatmap-figure"', start)]
    assert 'class="main-svg"' in plot
    assert 'class="heatmaplayer' in plot and 'class="hm"' in plot
