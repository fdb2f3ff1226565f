"""Labels are data, never markup: hostile labels through the CLI and the API, in HTML, PDF and JSON.

Twelve random vectors of dimension 16 with four planted near-duplicate pairs, (0, 1), (2, 3),
(4, 5) and (6, 7), so that the eight hostile labels on rows 0-7 all reach the near-duplicate
table and the heatmap (which shows all twelve rows, with tick labels).
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import simreport
from conftest import refuse_network
from simreport.render import figures, shipped_templates
from simreport.render import pdf as pdf_render
from simreport.results import Result

HOSTILE = [
    "<script>alert(1)</script>",
    "</script><script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=2">',
    "{{ 7*7 }}",
    "{% raw %}",
    "\"quotes' & ampersands",
    '<img src="https://example.invalid/x.png">',
    "<b>bold</b> &amp; &lt;x&gt; %{z} <br> x",  # entities must stay literal; plotly markup too
]
LABELS = HOSTILE + [f"plain {k}" for k in range(8, 12)]
PLANTED_PAIRS = [(0, 1), (2, 3), (4, 5), (6, 7)]



def planted() -> np.ndarray:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((12, 16)).astype(np.float32)
    for i, j in PLANTED_PAIRS:
        x[j] = x[i] + rng.standard_normal(16).astype(np.float32) * 0.01
    return x


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, dict[str, Path]]:
    """The same data and labels written twice: by the CLI (labels file) and by the Python API."""
    root = tmp_path_factory.mktemp("escaping")
    x = planted()
    np.save(root / "x.npy", x)
    (root / "labels.txt").write_text("\n".join(LABELS) + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "simreport.cli", "run", str(root / "x.npy"), "-o",
                           str(root / "cli"), "--format", "json,html,pdf", "--labels", str(root / "labels.txt"),
                           "--quiet"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = simreport.run_test(x, labels=list(LABELS))
    (root / "api.json").write_text(result.to_json(), encoding="utf-8")
    result.to_html(root / "api.html")
    result.to_pdf(root / "api.pdf")
    return {source: {fmt: root / f"{source}.{fmt}" for fmt in ("json", "html", "pdf")} for source in ("cli", "api")}


SOURCES = pytest.mark.parametrize("source", ["cli", "api"])


def test_planted_pairs_are_the_near_duplicates(reports):
    data = json.loads(reports["api"]["json"].read_text(encoding="utf-8"))
    assert sorted((p["i"], p["j"]) for p in data["near_duplicates"]["top"]) == PLANTED_PAIRS
    assert sorted(data["heatmap"]["indices"]) == list(range(12))


# ----------------------------------------------------------------------------- (a) HTML text


class Elements(HTMLParser):
    """Every start tag, the text of each <script>, and the text of each label cell."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self.label_cells: list[str] = []
        self._in: tuple[str, dict] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "script" or (tag == "td" and "label" in (attrs.get("class") or "").split()):
            self._in, self._text = (tag, attrs), []

    def handle_data(self, data):
        if self._in is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._in is not None and tag == self._in[0]:
            text = "".join(self._text)
            if tag == "script":
                self.scripts.append((self._in[1], text))
            else:
                self.label_cells.append(text)
            self._in = None


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser


@SOURCES
def test_html_keeps_labels_out_of_markup(reports, source):
    html = reports[source]["html"].read_text(encoding="utf-8")
    # the raw markup of the labels is nowhere in the file, not even inside a script
    for raw in ("<script>alert", "</script><script>window", "<img src=x", '<img src="https://example.invalid',
                "<b>bold</b>", 'onerror="window'):
        assert raw not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html and "{% raw %}" in html  # placed as text, never evaluated as a template
    doc = parse(html)
    # no label became an element or an attribute
    assert not [attrs for tag, attrs in doc.tags if tag == "img"]
    assert not [(tag, attrs) for tag, attrs in doc.tags if any(k.startswith("on") for k in attrs)]
    # scripts: plotly.js and the drawing code (no attributes), and the two JSON islands; no label broke out
    json_scripts = {attrs.get("id"): text for attrs, text in doc.scripts if attrs.get("type") == "application/json"}
    assert {"simreport-heatmap-figure", "simreport-results"} <= set(json_scripts)
    for attrs, text in doc.scripts:
        assert set(attrs) <= {"type", "id"}
        if attrs.get("type") != "application/json":
            assert "__pwned" not in text and "alert(1)" not in text
    for text in json_scripts.values():
        json.loads(text)
    # the near-duplicate table shows every hostile label, as text
    for label in HOSTILE:
        assert label in doc.label_cells


# ----------------------------------------------------------------------------- (a) in Chromium


@pytest.fixture
def open_page(browser):
    """open_page(path) -> (page, check): the report from file:// with the network refused.

    ``check()`` asserts that no label ran as script: nothing set ``window.__pwned``, no dialog
    opened, no request left the machine, no error was logged.
    """
    contexts = []

    def opener(path: Path):
        context = browser.new_context(viewport={"width": 1280, "height": 1000}, service_workers="block")
        contexts.append(context)
        blocked, dialogs, errors = [], [], []

        def dialog(d):
            dialogs.append(f"{d.type}: {d.message}")
            d.dismiss()

        refuse_network(context, blocked)
        page = context.new_page()
        page.on("dialog", dialog)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(path.resolve().as_uri(), wait_until="load")
        page.wait_for_selector("#simreport-heatmap .main-svg", state="attached", timeout=15_000)

        def check():
            assert page.evaluate("typeof window.__pwned") == "undefined"
            assert dialogs == [], dialogs
            assert blocked == [], f"the report tried to reach the network: {blocked}"
            assert errors == [], errors

        return page, check

    yield opener
    for context in contexts:
        context.close()


def hover_until(page, plot: str, x: float, y: float, want: list[str]) -> list[str]:
    """Hover at (x, y); once the plot's hover label holds every text in ``want``, its lines."""
    page.mouse.move(x, y)
    page.wait_for_function(
        """([plot, want]) => {
            const label = document.querySelector(plot + ' g.hovertext');
            return label !== null && want.every(w => label.textContent.includes(w));
        }""", arg=[plot, want], timeout=5_000)
    return page.eval_on_selector_all(plot + " g.hovertext text tspan", "e => e.map(t => t.textContent)")


def cell_centre(page, plot: str, row: int, col: int, m: int) -> tuple[float, float]:
    """Viewport point of cell (row, col) of an m x m heatmap whose y axis runs top to bottom."""
    area = page.locator(plot + " .nsewdrag").first
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    return box["x"] + box["width"] * (col + 0.5) / m, box["y"] + box["height"] * (row + 0.5) / m


@SOURCES
def test_browser_shows_labels_as_text(reports, source, open_page):
    page, check = open_page(reports[source]["html"])
    # the near-duplicate table: each hostile label is the literal text of a cell
    cells = page.eval_on_selector_all("#near-duplicates table.pairs td.label", "e => e.map(c => c.innerText)")
    for label in HOSTILE:
        assert label in cells
    assert "49" not in cells
    assert page.locator("#near-duplicates img, #near-duplicates script, #near-duplicates b").count() == 0

    # the results island parses back to the labels
    embedded = page.evaluate("JSON.parse(document.getElementById('simreport-results').textContent)")
    shown = embedded["heatmap"]
    assert [LABELS[k] for k in shown["indices"]] == shown["labels"]

    # heatmap ticks: the truncated '#row label' names, as plain text (no tspan/link markup)
    ticks = page.eval_on_selector_all("#simreport-heatmap .ytick text", "e => e.map(t => t.textContent)")
    assert set(ticks) == set(figures.axis_names(shown["indices"], shown["labels"]))
    assert page.locator("#simreport-heatmap .ytick text a, #simreport-heatmap .ytick text tspan").count() == 0

    # hover over each planted pair's cell: both full labels, each whole on its line, as text
    order, plot = shown["indices"], "#simreport-heatmap"
    for i, j in PLANTED_PAIRS:
        want = [f"#{i} {LABELS[i]}", f"#{j} {LABELS[j]}"]
        x, y = cell_centre(page, plot, order.index(i), order.index(j), len(order))
        lines = hover_until(page, plot, x, y, want)
        assert any(line.endswith(want[0]) for line in lines), lines
        assert any(line.endswith(want[1]) for line in lines), lines
        value = [line for line in lines if "similarity" in line]
        assert len(value) == 1 and float(re.findall(r"-?\d+\.\d+", value[0])[-1]) >= 0.99, lines
    check()


@pytest.fixture(scope="module")
def clustered(tmp_path_factory) -> tuple[Result, dict[str, Path]]:
    """More records than the display cap: the report adds the cluster view, whose examples are labels."""
    root = tmp_path_factory.mktemp("clusters")
    result = simreport.run_test(planted(), labels=list(LABELS), display_cap=4)
    assert result.clusters is not None
    result.to_html(root / "r.html")
    result.to_pdf(root / "r.pdf")
    return result, {"html": root / "r.html", "pdf": root / "r.pdf"}


def test_cluster_view_shows_labels_as_text(clustered, open_page):
    result, paths = clustered
    clusters = result.clusters
    examples = {label for group in clusters["examples"] for label in group}
    assert set(HOSTILE) <= examples | set(LABELS[k] for k in result.heatmap["indices"])

    doc = parse(paths["html"].read_text(encoding="utf-8"))
    assert not [attrs for tag, attrs in doc.tags if tag == "img"]
    assert not [(tag, attrs) for tag, attrs in doc.tags if any(k.startswith("on") for k in attrs)]

    page, check = open_page(paths["html"])
    plot = "#simreport-clusters"
    assert page.locator(plot + " g.heatmaplayer").count() == 1
    names = figures.cluster_names(clusters, 60)
    m = len(names)
    for k in range(m):  # the diagonal: each cluster's name and examples
        x, y = cell_centre(page, plot, k, k, m)
        lines = hover_until(page, plot, x, y, [names[k]])
        assert any(line.endswith(names[k]) for line in lines), lines
    check()

    text = squeeze(pdf_text(paths["pdf"]))
    for label in examples:
        assert squeeze(label) in text, label


# ----------------------------------------------------------------------------- (b) PDF


def pdf_text(path: Path) -> str:
    """The PDF's text: pdftotext (poppler-utils) when present, else pypdf with NULs dropped."""
    if shutil.which("pdftotext"):
        done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.decode("utf-8")
    pypdf = pytest.importorskip("pypdf")
    return "\n".join((page.extract_text() or "").replace("\x00", "") for page in pypdf.PdfReader(path).pages)


def squeeze(text: str) -> str:
    """Whitespace removed: table cells wrap long labels over several lines."""
    return "".join(text.split())


@SOURCES
def test_pdf_shows_labels_as_text(reports, source):
    text = squeeze(pdf_text(reports[source]["pdf"]))
    for label in HOSTILE:
        assert squeeze(label) in text, label
    assert "{{7*7}}" in text
    # the heatmap's axis labels (truncated '#row label' names) are text too
    assert squeeze("#0 <script>alert(1)</script>") in text
    assert squeeze("#6 <img src=\"https://exampl\u2026") in text


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a socket or resolve a name in this process is recorded and fails."""
    attempts: list[str] = []

    def refuse(name):
        def blocked(*args, **kwargs):
            attempts.append(f"{name}{args[1:2] if name == 'connect' else args[:1]}")
            raise OSError(f"network is off in this test ({name})")
        return blocked

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    return attempts


@pytest.fixture
def fetched(monkeypatch):
    """Every URL the PDF renderer's fetcher is asked for, and whether it was refused."""
    seen: list[tuple[str, str]] = []
    original = pdf_render.local_fetcher

    def recording(allowed_dirs):
        fetcher = original(allowed_dirs)
        fetch = fetcher.fetch

        def recorded(url, headers=None):
            try:
                response = fetch(url, headers)
            except pdf_render.RefusedURL:
                seen.append((url, "refused"))
                raise
            seen.append((url, "fetched"))
            return response

        fetcher.fetch = recorded
        return fetcher

    monkeypatch.setattr(pdf_render, "local_fetcher", recording)
    return seen


def test_pdf_render_fetches_nothing_from_labels(tmp_path, no_network, fetched):
    result = simreport.run_test(planted(), labels=list(LABELS))
    result.to_pdf(tmp_path / "r.pdf")
    assert (tmp_path / "r.pdf").stat().st_size > 1000
    assert fetched, "the PDF was rendered without simreport's fetcher"
    assert all(url.startswith(("data:", "file:")) for url, _ in fetched), fetched
    assert not [url for url, _ in fetched if "example.invalid" in url or url.rstrip("/").rsplit("/", 1)[-1] == "x"]
    assert no_network == []


def test_pdf_fetcher_refuses_remote_and_outside_files(tmp_path, no_network):
    fetcher = pdf_render.local_fetcher([shipped_templates()])
    outside = tmp_path / "outside.css"
    outside.write_text("p {}", encoding="utf-8")
    climb = shipped_templates().as_uri() + "/.." * len(shipped_templates().parts) + str(outside)
    for url in ("https://example.invalid/x.png", "http://example.invalid/x.png", "ftp://example.invalid/x",
                "file:///etc/passwd", outside.as_uri(), climb):
        with pytest.raises(pdf_render.RefusedURL):
            fetcher.fetch(url)
    inside = shipped_templates() / "css" / "report.css"
    for url in (inside.as_uri(), "data:text/plain,ok"):
        response = fetcher.fetch(url)
        assert response.read()
        response.close()
    assert no_network == []


def test_pdf_render_refuses_a_remote_image_in_a_template(tmp_path, no_network, fetched):
    """Even markup that does ask for a remote image (a user template, not a label) fetches nothing."""
    partial = tmp_path / "templates" / "partials"
    partial.mkdir(parents=True)
    cover = (shipped_templates() / "partials" / "cover.html.j2").read_text(encoding="utf-8")
    (partial / "cover.html.j2").write_text('<img src="https://example.invalid/x.png" alt="logo">\n' + cover,
                                           encoding="utf-8")
    result = simreport.run_test(planted(), labels=list(LABELS))
    result.to_pdf(tmp_path / "r.pdf", templates=tmp_path / "templates")
    assert ("https://example.invalid/x.png", "refused") in fetched
    assert not [url for url, outcome in fetched if outcome == "fetched" and not url.startswith(("data:", "file:"))]
    assert no_network == []


# ----------------------------------------------------------------------------- (c) JSON


@SOURCES
def test_results_json_round_trips_labels(reports, source):
    text = reports[source]["json"].read_text(encoding="utf-8")
    data = json.loads(text)
    heat = data["heatmap"]
    assert [LABELS[k] for k in heat["indices"]] == heat["labels"]
    for pair in data["near_duplicates"]["top"] + data["most_similar"] + data["opposed"]["lowest"]:
        assert (pair["label_i"], pair["label_j"]) == (LABELS[pair["i"]], LABELS[pair["j"]])
    assert Result.from_json(text).to_json() == text
    # the copy inside the HTML report is the same data
    doc = parse(reports[source]["html"].read_text(encoding="utf-8"))
    embedded = next(t for a, t in doc.scripts if a.get("id") == "simreport-results")
    assert json.loads(embedded) == data


def test_cli_and_api_agree_on_labels(reports):
    cli = json.loads(reports["cli"]["json"].read_text(encoding="utf-8"))
    api = json.loads(reports["api"]["json"].read_text(encoding="utf-8"))
    assert cli["heatmap"]["labels"] == api["heatmap"]["labels"]
    assert cli["near_duplicates"]["top"] == api["near_duplicates"]["top"]
