"""The compact picture form (16-bit codes) and the sizes of the documents it keeps small."""

from __future__ import annotations

import json

import numpy as np
import pytest

import simreport
from simreport.pictures import MISSING, decode_picture, encode_picture
from simreport.results import report_id_of


def test_symmetric_picture_keeps_the_upper_triangle_within_half_a_step():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 8))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    values = x @ x.T
    picture = encode_picture(values)
    assert picture["layout"] == "upper" and picture["shape"] == [40, 40]
    back = decode_picture(json.loads(json.dumps(picture)))
    assert np.abs(back - values).max() <= picture["scale"] / 2 + 1e-12
    assert np.array_equal(back, back.T)
    assert picture["offset"] == pytest.approx(values.min())


def test_missing_cells_and_asymmetric_matrices_round_trip():
    values = np.array([[0.5, np.nan, -0.25], [0.1, 0.9, 0.3], [np.nan, 0.2, 1.0]])
    picture = encode_picture(values)
    assert picture["layout"] == "full"
    back = decode_picture(picture)
    assert np.array_equal(np.isnan(back), np.isnan(values))
    assert np.nanmax(np.abs(back - values)) <= picture["scale"] / 2 + 1e-12
    constant = decode_picture(encode_picture(np.full((3, 3), 0.25)))
    assert np.array_equal(constant, np.full((3, 3), 0.25))
    empty = encode_picture(np.full((2, 2), np.nan))
    assert np.isnan(decode_picture(empty)).all()
    assert set(np.frombuffer(__import__("base64").b64decode(empty["data"]), dtype="<u2")) == {MISSING}


def test_older_list_form_is_still_read():
    assert np.array_equal(decode_picture([[1.0, None], [0.5, 1.0]]), np.array([[1.0, np.nan], [0.5, 1.0]]),
                          equal_nan=True)
    with pytest.raises(ValueError, match="encoding"):
        decode_picture({"encoding": "png"})


def test_results_at_500_records_stay_small_and_statistics_keep_full_precision(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 384)).astype(np.float32)
    result = simreport.run_test(x)
    text = result.to_json()
    assert len(text.encode("utf-8")) <= 400_000
    data = json.loads(text)
    assert data["stats"]["mean"] == result.stats["mean"] and isinstance(data["stats"]["std"], float)
    assert data["heatmap"]["values"]["encoding"] == "uint16-base64"
    assert data["clusters"]["mean"]["encoding"] == "uint16-base64"
    assert data["overview"]["max"]["encoding"] == "uint16-base64"
    html = result.to_html()
    assert len(html.encode("utf-8")) <= 2_000_000


def test_the_json_is_serialised_once_and_every_document_carries_those_bytes(tmp_path):
    import hashlib
    import re
    import subprocess
    import sys

    from pypdf import PdfReader

    rng = np.random.default_rng(3)
    np.save(tmp_path / "e.npy", rng.standard_normal((400, 16)).astype(np.float32))
    labels = [f"<b>rec & 'quote' {k}</b>" for k in range(400)]  # characters the HTML embedding escapes
    (tmp_path / "labels.txt").write_text("\n".join(labels) + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "simreport", "run", str(tmp_path / "e.npy"), "-o",
                           str(tmp_path / "r"), "--labels", str(tmp_path / "labels.txt"), "--quiet"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    written = (tmp_path / "r.json").read_bytes()
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    embedded = re.search(r'id="simreport-results">(.*?)</script>', html, re.S).group(1)
    assert "<b>" not in embedded and "\\u003cb\\u003e" in embedded
    for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("'", "\\u0027")):
        embedded = embedded.replace(escaped, char)
    assert embedded.encode("utf-8") == written
    reader = PdfReader(tmp_path / "r.pdf")
    assert reader.attachments["simreport-results.json"][0] == written
    digest = hashlib.sha256(written).hexdigest()[:16].upper()
    report_id = "SR-" + "-".join(digest[k:k + 4] for k in range(0, 16, 4))
    assert report_id in html and report_id in reader.pages[0].extract_text().replace("\x00", "")


COUNTING_PROGRAM = """
import sys
from simreport import results
real = results.ReportDocument.to_json
def counted(self, *args, **kwargs):
    sys.stderr.write(f"to_json {type(self).__name__}\\n")  # the program leaves by os._exit: no atexit
    return real(self, *args, **kwargs)
results.ReportDocument.to_json = counted
sys.argv = ["simreport", *sys.argv[1:]]
from simreport.cli import entry
entry()
"""


@pytest.mark.parametrize("command", ["run", "compare"])
def test_a_command_serialises_its_json_once_outcome_line_included(tmp_path, command):
    """One serialisation per run: the files, the report ID, the PDF's attachment and the outcome
    line (--summary-json) all use the same bytes."""
    import subprocess
    import sys

    np.save(tmp_path / "e.npy", np.random.default_rng(4).standard_normal((150, 16)).astype(np.float32))
    inputs = [str(tmp_path / "e.npy")] * (2 if command == "compare" else 1)
    done = subprocess.run([sys.executable, "-c", COUNTING_PROGRAM, command, *inputs, "-o", str(tmp_path / "r"),
                           "--format", "json,html,pdf", "--quiet", "--summary-json"],
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    if command == "run":
        assert lines == ["to_json Result"], done.stderr
    else:  # the comparison's own JSON once (each model's context still serialises that model's results for its ID)
        assert lines.count("to_json Comparison") == 1 and set(lines) == {"to_json Comparison", "to_json Result"}, lines
    written = (tmp_path / "r.json").read_bytes()
    assert json.loads(done.stdout)["report_id"] == report_id_of(written, "SC" if command == "compare" else "SR")


def test_bars_are_one_path_with_a_rectangle_each():
    """Bar charts (histograms, the cluster strip, the comparison's neighbours in common) are drawn
    as one SVG path, a closed rectangle per bar that has a height; an empty chart draws no path."""
    import re

    from simreport.render.figures import bars_path, histogram_svg

    # (x, bottom, width, height): each bar stands on its bottom edge
    assert bars_path([(1.0, 6.0, 3.0, 4.0), (5.0, 6.0, 0.5, 0.0), (7.125, 1.75, 2.0, 0.25)]) == (
        '<path d="M1.00 2.00h3.00v4.00h-3.00zM7.12 1.50h2.00v0.25h-2.00z" fill="#4a6fa5"/>')
    assert bars_path([(0.0, 0.0, 1.0, 0.0)]) == "" and bars_path([]) == ""
    counts = [0, 3, 0, 7, 1, 0]
    svg = histogram_svg(counts, [k / 10 for k in range(7)], [], "similarity", rebin=1)
    assert "<rect" not in svg.split('aria-label="similarity histogram">')[1].split("<line")[0]
    (d,) = re.findall(r'<path d="([^"]*)" fill="#4a6fa5"/>', svg)
    heights = [float(h) for h in re.findall(r"v([0-9.]+)h", d)]
    assert len(heights) == 3 and heights[1] == max(heights)  # one bar per non-empty bin, the tallest for 7
    assert heights[0] / heights[1] == pytest.approx(3 / 7, abs=1e-3)
