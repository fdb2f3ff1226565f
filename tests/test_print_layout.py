"""The printed documents as a reader holds them (issue 9), measured on real PDFs:

- no text on any page, record and tick labels of every figure included, prints under 7 pt
  (sizes read from the PDF's text matrices; the heatmap rasters carry no text of their own);
- no page is filled less than a third, except the document's last;
- a heading is never the last text of its page, and a heading followed by a figure or a
  table is printed on the same page as that figure's or table's caption.

Documents: the demo, a planted n = 2,000 run (cluster view, overview), 60 labelled records
(every record label drawn), a comparison of 50 labelled records (difference map with
labels, shared histograms, joint chart) and 500 clustered records with 100 near-duplicate
pairs (a table of flagged clusters longer than a page).
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

import simreport
from simreport.compare import compare_embeddings
from simreport.cosine_test import TestOptions
from simreport.demo import load_demo
from simreport.inputs import from_array
from simreport.render.documents import template_and_context
from simreport.render.environment import make_environment

pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
                                reason="poppler-utils missing")

SMALLEST_PT = 7.0
TOP_MM, BOTTOM_MM = 18, 20  # the @page margins of print.css (header and footer sit in them)
SIDE_MM = 16  # the left and right @page margins
NAMES = ["demo", "planted 2000", "60 labelled records", "comparison of 50 records", "clustered 500"]
UNBROKEN = "unbroken labels and values"


def _texts(n: int, seed: int) -> list[str]:
    words = "model risk vector text record similar review bank claim policy account branch loan".split()
    rng = np.random.default_rng(seed)
    return [f"{' '.join(rng.choice(words, 4))} number {k}" for k in range(n)]


def _documents() -> dict:
    planted = np.random.default_rng(1).standard_normal((2000, 64)).astype(np.float32)
    planted[1999] = -planted[7]  # one opposed pair
    planted[1998] = planted[10]  # one identical vector
    small = np.random.default_rng(2).standard_normal((60, 16)).astype(np.float32)
    a = from_array(small[:50], _texts(50, 3))
    b = from_array((small[:50] + 0.3 * np.random.default_rng(4).standard_normal((50, 16))).astype(np.float32),
                   _texts(50, 3))
    return {
        "demo": simreport.run_test(load_demo()),
        "planted 2000": simreport.run_test(planted),
        "60 labelled records": simreport.run_test(small, texts=_texts(60, 5)),
        "comparison of 50 records": compare_embeddings(a, b, TestOptions(), names=["A model", "B model"]),
        "clustered 500": simreport.run_test(_clustered(500)),
        UNBROKEN: _unbroken(),
    }


def _clustered(n: int):
    """64 clusters and 100 planted near-duplicate pairs (benchmarks/bench_everyday.py's input): the
    cluster view lists more flagged clusters than a page holds."""
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((64, 384)).astype(np.float32)
    x = centres[rng.integers(0, 64, n)] * 0.35 + rng.standard_normal((n, 384)).astype(np.float32)
    x[1:200:2] = x[0:200:2] + 0.01 * rng.standard_normal((100, 384)).astype(np.float32)
    return x


def _unbroken():
    """Near-duplicate and opposed pairs whose labels, and a title, are long words without a space."""
    x = np.random.default_rng(6).standard_normal((40, 16)).astype(np.float32)
    x[1], x[3], x[5] = x[0], x[2] * 1.001, -x[4]
    texts = [f"record{k}_" + "".join(chr(97 + (k * 7 + m) % 26) for m in range(150)) for k in range(40)]
    return simreport.run_test(x, texts=texts, title="T" * 120)


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("printed")
    out = {}
    for name, document in _documents().items():
        path = folder / (name.replace(" ", "_") + ".pdf")
        document.to_pdf(path)
        out[name] = (document, path)
    return out


def text_sizes(path) -> list[tuple[float, int, str]]:
    """(printed size in pt, page, text) of every piece of text: the font size times the scale of
    the text and transformation matrices, so rotated and scaled (SVG) text counts as printed."""
    out = []
    for number, page in enumerate(PdfReader(path).pages, 1):
        def visit(text, cm, tm, font, size, number=number):
            if text.strip():
                a, b = tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3]
                c, d = tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3]
                out.append((size * math.sqrt(abs(a * d - b * c)), number, text.strip()))
        page.extract_text(visitor_text=visit)
    return out


def page_fill(path, tmp_path) -> list[float]:
    """Per page: the lowest non-white row inside the printable area, as a share of its height."""
    subprocess.run(["pdftoppm", "-r", "20", "-gray", "-png", str(path), str(tmp_path / "p")], check=True)
    out = []
    for image in sorted(tmp_path.glob("p-*.png"), key=lambda p: int(p.stem.split("-")[1])):
        pixels = np.asarray(Image.open(image).convert("L"))
        mm = pixels.shape[0] / 297.0
        body = pixels[round(TOP_MM * mm): pixels.shape[0] - round(BOTTOM_MM * mm)]
        rows = np.flatnonzero((body < 200).any(axis=1))
        out.append(0.0 if rows.size == 0 else (rows[-1] + 1) / body.shape[0])
    return out


class Headings(HTMLParser):
    """('h', text) for h2-h4 and ('caption', text) for figure and table captions, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[str, str]] = []
        self._open: str | None = None
        self._text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "nav"):
            self._skip += 1
        elif tag in ("h2", "h3", "h4", "caption", "figcaption") and not self._skip:
            self._open, self._text = tag, []

    def handle_endtag(self, tag):
        if tag in ("script", "style", "nav"):
            self._skip -= 1
        elif tag == self._open:
            kind = "caption" if tag in ("caption", "figcaption") else "h"
            self.items.append((kind, " ".join("".join(self._text).split())))
            self._open = None

    def handle_data(self, data):
        if self._open:
            self._text.append(data)


def headings_and_captions(document) -> list[tuple[str, str]]:
    template, context = template_and_context(document, "pdf")
    context["fragment"], context["dom_prefix"] = False, "simreport"
    parser = Headings()
    parser.feed(make_environment(None).get_template(template).render(report=context))
    return parser.items


FOOTER = re.compile(r"Page \d+ of \d+|simreport cosine-similarity test")


def _key(text: str) -> str:
    """What pdftotext prints of a heading: the status word and at-the-limit tag laid out apart."""
    text = re.sub(r"^(Pass|Warning|Fail|Not assessed|Not informative) ", "", text).split(" at the ")[0]
    return " ".join(text.split())[:40]


@pytest.mark.parametrize("name", NAMES)
def test_no_text_prints_under_7_pt(printed, name):
    _, path = printed[name]
    sizes = text_sizes(path)
    small = sorted({(round(s, 2), page, text[:30]) for s, page, text in sizes if s < SMALLEST_PT - 0.01})
    assert not small, f"text under {SMALLEST_PT} pt in the {name} PDF (size, page, text): {small[:12]}"
    tick = [s for s, _, text in sizes if re.fullmatch(r"-?[01]\.[05]|0\.0", text)]
    assert tick, "the colour-bar ticks were not found: the measurement did not see the figures"
    if "labelled" in name or "comparison" in name:  # the record labels themselves were measured
        labels = [s for s, _, text in sizes if re.match(r"#\d+ ", text)]
        assert len(labels) >= 25 and min(labels) >= SMALLEST_PT


WORD = re.compile(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">(.*?)</word>')


def words_outside_the_sides(path, tmp_path) -> list[tuple[int, float, float, str]]:
    """(page, left, right in mm, word) of every word pdftotext places in a side margin of its page."""
    boxes = tmp_path / "boxes.html"
    subprocess.run(["pdftotext", "-bbox", str(path), str(boxes)], check=True)
    out = []
    for number, page in enumerate(re.findall(r"<page (.*?)</page>", boxes.read_text(), re.S), 1):
        width = float(re.search(r'width="([\d.]+)"', page).group(1))
        for x0, x1, word in re.findall(WORD, page):
            left, right = float(x0) * 25.4 / 72, float(x1) * 25.4 / 72
            if left < SIDE_MM - 0.5 or right > width * 25.4 / 72 - SIDE_MM + 0.5:
                out.append((number, round(left, 1), round(right, 1), word[:30]))
    return out


@pytest.mark.parametrize("name", NAMES + [UNBROKEN])
def test_no_text_prints_in_the_side_margins(printed, name, tmp_path):
    _, path = printed[name]
    outside = words_outside_the_sides(path, tmp_path)
    assert not outside, f"{name}: words in a side margin (page, left mm, right mm, word): {outside[:8]}"
    if name == UNBROKEN:  # the long labels were printed, broken across lines inside their cells
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
        assert "record1_" in text and "T" * 40 in text


@pytest.mark.parametrize("name", NAMES)
def test_no_page_is_under_a_third_full(printed, name, tmp_path):
    _, path = printed[name]
    fill = page_fill(path, tmp_path)
    assert len(fill) >= 8
    thin = [(page, round(share, 2)) for page, share in enumerate(fill[:-1], 1) if share < 1 / 3]
    assert not thin, f"{name}: pages filled under a third (page, share): {thin}"


@pytest.mark.parametrize("name", NAMES)
def test_headings_stay_with_what_follows_them(printed, name):
    document, path = printed[name]
    pages = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    flat = [" ".join(p.split()) for p in pages]
    joined = "\f".join(flat)
    starts = np.cumsum([0] + [len(p) + 1 for p in flat])

    def page_of(position: int) -> int:
        return int(np.searchsorted(starts, position, side="right"))

    items = headings_and_captions(document)
    checked = 0
    position = [m.end() for m in re.finditer(r"\.{5,} ?\d+", joined)][-1]  # after the contents list
    for k, (kind, text) in enumerate(items):
        if kind != "h":
            continue
        found = joined.find(_key(text), position)
        assert found >= 0, f"heading {text!r} not found in order in the PDF"
        position = found + len(_key(text))
        page = page_of(found)
        local = found - int(starts[page - 1])
        after = FOOTER.sub(" ", flat[page - 1][local + len(_key(text)):]).strip()
        assert after, f"{name}: heading {text!r} is the last text of page {page}"
        if k + 1 < len(items) and items[k + 1][0] == "caption":
            caption = _key(items[k + 1][1])
            at = joined.find(caption, position)
            assert at >= 0, f"caption {caption!r} not found after {text!r}"
            assert page_of(at) == page, (f"{name}: heading {text!r} on page {page}, its figure or table "
                                         f"({caption!r}) on page {page_of(at)}")
            checked += 1
    assert checked >= 3
