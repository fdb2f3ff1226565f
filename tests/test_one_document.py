"""One document: the HTML and the PDF carry the same sections, tables and figures in the same order."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest

import simreport
from simreport.compare import compare_embeddings
from simreport.cosine_test import TestOptions
from simreport.demo import load_demo
from simreport.inputs import from_array
from simreport.render.documents import template_and_context
from simreport.render.environment import make_environment


class Outline(HTMLParser):
    """Headings (h1-h4), table captions and figures, in document order."""

    WATCHED = {"h1", "h2", "h3", "h4", "caption"}

    def __init__(self) -> None:
        super().__init__()
        self.items: list[str] = []
        self._open: str | None = None
        self._text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in self.WATCHED and not self._skip:
            self._open, self._text = tag, []
        elif tag == "table" and not self._skip:
            self.items.append("table")
        elif tag in ("figure",) or (tag == "div" and ("class", "plot") in attrs):
            self.items.append("figure")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
        elif tag == self._open:
            self.items.append(f"{tag}: " + " ".join("".join(self._text).split()))
            self._open = None

    def handle_data(self, data):
        if self._open:
            self._text.append(data)


def outline(html: str) -> list[str]:
    parser = Outline()
    parser.feed(html)
    return parser.items


def pdf_html(document) -> str:
    """The HTML WeasyPrint lays out for the PDF (the same call as render_pdf)."""
    template, context = template_and_context(document, "pdf")
    context["fragment"] = False
    context["dom_prefix"] = "simreport"
    return make_environment(None).get_template(template).render(report=context)


def documents():
    planted = np.random.default_rng(4).standard_normal((700, 24)).astype(np.float32)
    planted[699] = -planted[3]
    planted[698] = planted[10]
    demo = load_demo()
    rng = np.random.default_rng(0)
    other = from_array((demo.matrix + 0.03 * rng.standard_normal(demo.matrix.shape)).astype(np.float32), demo.labels)
    return {
        "demo": simreport.run_test(demo),
        "above the display cap": simreport.run_test(planted, display_cap=120),
        "comparison": compare_embeddings(demo, other, TestOptions(), names=["A model", "B model"]),
    }


@pytest.fixture(scope="module")
def rendered():
    return {name: (doc, doc.to_html(), pdf_html(doc)) for name, doc in documents().items()}


@pytest.mark.parametrize("name", ["demo", "above the display cap", "comparison"])
def test_html_and_pdf_have_the_same_headings_tables_and_figures(rendered, name):
    _, html, pdf = rendered[name]
    in_html, in_pdf = outline(html), outline(pdf)
    assert sum(item.startswith("h2") for item in in_html) >= 8
    assert in_html == in_pdf


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils missing")
def test_the_pdf_prints_every_heading_in_order(rendered, tmp_path):
    document, html, _ = rendered["above the display cap"]
    document.to_pdf(tmp_path / "r.pdf")
    text = " ".join(subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    position = 0
    for item in outline(html):
        if item.startswith(("h2: ", "h3: ")):
            heading = re.sub(r"^(Pass|Warning|Fail|Not assessed|Not informative) ", "", item.split(": ", 1)[1])
            heading = heading.split(" at the ")[0]  # the at-the-limit tag is laid out beside the title
            found = text.find(heading, position)
            assert found >= 0, f"{heading!r} missing or out of order in the PDF"
            position = found + len(heading)


def test_the_comparison_has_contents_findings_and_actions_and_sign_off(rendered):
    _, html, _ = rendered["comparison"]
    items = outline(html)
    for heading in ("h2: Contents", "h2: Findings and actions", "h2: Review and sign-off"):
        assert heading in items
    assert re.search(r"Comparison outcome: <strong>\w+", html)


def _svg_signature(svg: str) -> tuple:
    """What a static figure draws: its kind, title, colour-bar title and whether cluster sizes are drawn."""
    label = re.search(r'aria-label="([^"]*)"', svg).group(1)
    if label != "Heatmap of cosine similarity":
        return ("chart", label)
    title = re.search(r'font-weight="bold"[^>]*>([^<]*)<', svg)
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    return ("map", title.group(1) if title else "", texts[-1], "records per cluster" in svg)


def _plotly_signature(spec: dict) -> tuple:
    heat = spec["data"][0]
    assert heat["type"] == "heatmap"
    return ("map", spec["layout"]["title"]["text"], heat["colorbar"]["title"]["text"],
            any(t["type"] == "bar" and t.get("name") == "records per cluster" for t in spec["data"][1:]))


def figures_drawn(html: str) -> list[tuple]:
    """Every figure in document order, as what it draws (plotly specs read from their JSON)."""
    import json

    out = []
    pattern = re.compile(r'<svg xmlns="http://www.w3.org/2000/svg".*?</svg>'
                         r'|<script type="application/json" id="[^"]*-figure">(.*?)</script>', re.S)
    for match in pattern.finditer(html):
        out.append(_plotly_signature(json.loads(match.group(1))) if match.group(1) is not None
                   else _svg_signature(match.group(0)))
    return out


@pytest.mark.parametrize("name", ["demo", "above the display cap", "comparison"])
def test_html_and_pdf_draw_the_same_figures(rendered, name):
    """Figure by figure the same drawing: the same kind, title and colour-bar title, and the
    cluster sizes drawn as bars in both (the PDF's bar strip, the HTML's plotly bar trace)."""
    _, html, pdf = rendered[name]
    in_html, in_pdf = figures_drawn(html), figures_drawn(pdf)
    assert len(in_pdf) >= 3 and any(f[0] == "map" for f in in_pdf)
    if name == "above the display cap":
        assert any(f[0] == "map" and f[3] for f in in_pdf), "the cluster view draws its cluster sizes"
    assert in_html == in_pdf
