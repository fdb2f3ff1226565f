"""Results, findings, heatmap view and the PDF document, through the Python API."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

import simreport
from conftest import planted_embeddings
from simreport import findings
from simreport.demo import load_demo
from simreport.pictures import decode_picture
from simreport.results import Result


@pytest.fixture(scope="module")
def demo_result() -> Result:
    return simreport.run_test(load_demo(), title="Demo under test")


def test_results_json_has_the_documented_keys(demo_result):
    data = json.loads(demo_result.to_json())
    for key in ("schema_version", "tool", "input", "parameters", "stats", "near_duplicates", "findings", "created"):
        assert key in data
    assert data["tool"]["name"] == "simreport"
    assert set(data["input"]) >= {"path", "sha256", "array_sha256", "n", "dim"}
    assert data["input"]["n"] == 296 and data["input"]["dim"] == 384
    stats = data["stats"]
    assert stats["pairs"] == 296 * 295 // 2
    assert set(stats["quantiles"]) == {"p01", "p05", "p25", "p50", "p75", "p95", "p99"}
    assert len(stats["histogram"]["edges"]) == len(stats["histogram"]["counts"]) + 1
    assert max(np.diff(stats["histogram"]["edges"])) <= 0.001 + 1e-9
    assert {r["threshold"] for r in stats["threshold_counts"]} >= {0.8, 0.9, 0.95, 0.98, 0.99}
    nd = data["near_duplicates"]
    assert set(nd) >= {"threshold", "pairs", "items", "top"}
    assert set(nd["top"][0]) == {"i", "j", "label_i", "label_j", "similarity"}
    for f in data["findings"]:
        assert set(f) >= {"id", "title", "status", "value", "threshold", "message"}
        assert f["status"] in ("pass", "warn", "fail")


def test_demo_planted_duplicates_are_found(demo_result):
    nd = demo_result.near_duplicates
    pairs = {(p["i"], p["j"]) for p in nd["top"]}
    # exact duplicate texts and near-identical records planted in the demo (see demo/PLANTED.md)
    assert {(137, 226), (259, 263), (59, 148), (4, 55), (83, 108), (13, 75)} <= pairs
    assert demo_result.identical_rows["rows"] == 3
    assert nd["top"][0]["label_i"] == nd["top"][0]["label_j"]


def test_json_round_trip_is_lossless(demo_result):
    again = Result.from_json(demo_result.to_json())
    assert again.to_json() == demo_result.to_json()
    assert again.findings == demo_result.findings


def test_source_date_epoch_gives_byte_identical_json(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    x, _ = planted_embeddings()
    first = simreport.run_test(x).to_json()
    second = simreport.run_test(x.copy()).to_json()
    assert first == second
    data = json.loads(first)
    assert data["created"] == "2023-11-14T22:13:20Z"
    assert data["duration_seconds"] is None


def test_unsupported_schema_version_is_rejected(demo_result):
    data = demo_result.to_dict()
    data["schema_version"] = "9.0"
    with pytest.raises(ValueError, match="schema version"):
        Result.from_dict(data)


def test_every_finding_has_a_message_with_its_number(demo_result):
    for f in demo_result.findings:
        assert f.status in f.message
        assert any(ch.isdigit() for ch in f.message)
    statuses = {f.id: f.status for f in demo_result.findings}
    assert statuses["mean_similarity"] == "pass"
    # 12 of 296 records have a near-duplicate with a different text (the model's finding); the 3 repeated
    # texts (6 records) are the data's finding, and their identical vectors are not blamed on the model
    assert statuses["near_duplicate_share"] == "warn"
    assert statuses["duplicate_texts"] == "warn"
    assert statuses["identical_rows"] == "pass"
    assert demo_result.status == "warn"


@pytest.mark.parametrize("value,expected", [(0.4, "pass"), (0.6, "warn"), (0.8, "fail")])
def test_judge_higher_is_worse(value, expected):
    assert findings.judge(value, 0.5, 0.7, "higher") == expected


@pytest.mark.parametrize("value,expected", [(0.1, "pass"), (0.03, "warn"), (0.01, "fail")])
def test_judge_lower_is_worse(value, expected):
    assert findings.judge(value, 0.05, 0.02, "lower") == expected


def test_threshold_overrides_change_the_outcome():
    x, _ = planted_embeddings()
    base = simreport.run_test(x)
    # 6 of 120 = 5%, exactly at the fail limit: at the limit counts as reached (it used to pass as a warning)
    at_limit = {f.id: f for f in base.findings}["near_duplicate_share"]
    assert at_limit.status == "fail" and at_limit.at_limit == "fail" and "at the fail limit" in at_limit.message
    relaxed = simreport.run_test(x, thresholds={"near_duplicate_share": {"warn": 0.1, "fail": 0.2}})
    finding = {f.id: f for f in relaxed.findings}["near_duplicate_share"]
    assert finding.status == "pass" and finding.threshold == 0.2 and finding.warn_threshold == 0.1
    assert relaxed.parameters["thresholds"]["near_duplicate_share"] == {"warn": 0.1, "fail": 0.2, "margin": 0.001}


def test_bad_threshold_overrides_are_rejected():
    with pytest.raises(ValueError, match="unknown finding"):
        findings.merge_thresholds({"nope": {"warn": 1}})
    with pytest.raises(ValueError, match="warn threshold"):
        findings.merge_thresholds({"mean_similarity": {"warn": 0.9, "fail": 0.8}})


def test_heatmap_subset_keeps_near_duplicates_and_says_so():
    x, planted = planted_embeddings(n=120)
    result = simreport.run_test(x, display_cap=40)
    heat = result.heatmap
    assert heat["selection"] == "subset" and len(heat["indices"]) == 40
    for i, j in planted:
        assert i in heat["indices"] and j in heat["indices"]
    assert "40 of 120" in heat["description"]
    assert result.overview is not None and result.overview["grid"] == 120
    full = simreport.run_test(x)
    assert full.heatmap["selection"] == "all" and sorted(full.heatmap["indices"]) == list(range(120))
    values = decode_picture(full.heatmap["values"])
    assert np.isnan(np.diag(values)).all()  # the diagonal (always 1) is blanked in the picture
    off = ~np.eye(len(values), dtype=bool)
    assert np.allclose(values[off], values.T[off])
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    idx = full.heatmap["indices"]
    assert np.abs(values - (unit[idx] @ unit[idx].T))[off].max() < 5e-5  # 16-bit codes: a picture, not a statistic


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils missing")
def test_pdf_has_sections_numbers_and_a_visible_first_page(demo_result, tmp_path):
    pdf = tmp_path / "demo.pdf"
    demo_result.to_pdf(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    for heading in ("Summary", "Purpose", "Test Mechanism", "Signs of High Risk", "Strengths", "Limitations",
                    "Statistics", "Near-duplicate pairs", "Heatmap", "Appendix"):
        assert heading in text
    assert "43,660" in text and "296" in text
    assert f"{demo_result.stats['mean']:.3f}" in text
    assert demo_result.input["array_sha256"] in text.replace("\n", "").replace(" ", "")
    assert "Page 1 of" in text
    from pypdf import PdfReader

    assert len(PdfReader(pdf).pages) >= 4
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True)
    page = np.asarray(Image.open(next(tmp_path.glob("page*.png"))).convert("L"), dtype=np.float64)
    assert (page < 200).mean() > 0.02  # ink on the page
    assert page.std() > 10


def test_cluster_view_block_means_match_brute_force():
    from simreport import clusters
    from simreport.engine import normalise_rows

    rng = np.random.default_rng(3)
    centres = rng.standard_normal((6, 16))
    x = (centres[rng.integers(0, 6, 400)] + rng.standard_normal((400, 16)) * 0.7).astype(np.float32)
    unit = normalise_rows(x)
    view = clusters.build_cluster_view(unit, 12, seed=2)
    sim = (unit @ unit.T).astype(np.float64)
    assert sum(view.sizes) == 400 and sorted(view.order) == list(range(len(view.sizes)))
    for row, a in enumerate(view.order):
        for col, b in enumerate(view.order):
            ra, rb = np.flatnonzero(view.assignment == a), np.flatnonzero(view.assignment == b)
            block = sim[np.ix_(ra, rb)]
            expected = block[np.triu_indices(len(ra), 1)].mean() if a == b else block.mean()
            assert view.mean[row, col] == pytest.approx(expected, abs=1e-6)
    again = clusters.build_cluster_view(unit, 12, seed=2)
    assert again.order == view.order and (again.assignment == view.assignment).all()


def test_cluster_centres_beyond_the_fit_rows_come_from_a_sample_and_every_record_is_assigned(monkeypatch):
    """Beyond clusters.FIT_ROWS records the k-means centres are fitted on a seeded sample; every
    record is then assigned to its nearest centre (no cluster left empty), the view's means stay
    exact for that grouping, and the report says so in plain words. Up to FIT_ROWS nothing changes."""
    from simreport import clusters
    from simreport.engine import normalise_rows

    rng = np.random.default_rng(4)
    centres = rng.standard_normal((5, 16))
    x = (centres[rng.integers(0, 5, 600)] + rng.standard_normal((600, 16)) * 0.6).astype(np.float32)
    unit = normalise_rows(x)
    whole = clusters.spherical_kmeans(unit, 20, seed=1, fit_rows=600)
    assert whole[2] == 600
    labels, iterations, fitted = clusters.spherical_kmeans(unit, 20, seed=1, fit_rows=150)
    assert fitted == 150 and 1 <= iterations <= 12 and labels.shape == (600,)
    assert np.bincount(labels, minlength=20).min() >= 1 and labels.max() == 19
    assert (clusters.spherical_kmeans(unit, 20, seed=1, fit_rows=150)[0] == labels).all()  # seeded
    assert not (whole[0] == labels).all()  # another grouping: fitted on fewer rows
    sums = np.stack([unit[labels == c].sum(axis=0) for c in range(20)])
    nearest = (unit @ (sums / np.linalg.norm(sums, axis=1, keepdims=True)).T).argmax(axis=1)
    assert (nearest == labels).mean() > 0.9  # assigned to (nearly always) the nearest of the fitted centres

    monkeypatch.setattr(clusters, "FIT_ROWS", 150)
    result = simreport.run_test(x, display_cap=20)
    assert result.clusters["fitted_on"] == 150 and sum(result.clusters["sizes"]) == 600
    assert ("the cluster centres were fitted on a seeded sample of 150 records, then every record was assigned to "
            "its nearest centre") in result.clusters["description"]
    monkeypatch.undo()
    result = simreport.run_test(x, display_cap=20)
    assert result.clusters["fitted_on"] == 600 and "sample" not in result.clusters["description"]


def test_scipy_is_imported_whole_before_the_tile_threads_start():
    """The cluster view's thread (scipy's hierarchy) and the tile threads (numba's start imports
    scipy.linalg) must not import scipy at the same time: that can deadlock inside scipy's
    package import and fail the run with KeyError: 'scipy' (5 of 30 fresh runs in a new virtual
    environment did). In a fresh process whose passes use the compiled kernel (engine.NUMPY_ROWS
    set to 0: the small runs here would reduce their tiles with numpy, which loads no numba, and
    then the side thread imports scipy while the tiles run), scipy's hierarchy is imported by the
    time the tile pass starts, whenever a cluster view is built (and not for a run without one)."""
    import subprocess
    import sys

    probe = (
        "import sys, numpy as np, simreport.runners as r, simreport.engine as e\n"
        "e.NUMPY_ROWS = 0\n"
        "from simreport.cosine_test import TestOptions, cosine_similarity_test\n"
        "from simreport.inputs import from_array\n"
        "real = r.run_all_pairs\n"
        "def run_all_pairs(*a, **k):\n"
        "    print('hierarchy' if 'scipy.cluster.hierarchy' in sys.modules else 'none')\n"
        "    return real(*a, **k)\n"
        "r.run_all_pairs = run_all_pairs\n"
        "x = np.random.default_rng(0).standard_normal((RECORDS, 8)).astype(np.float32)\n"
        "cosine_similarity_test(from_array(x), TestOptions(display_cap=40))\n")
    for n, expected in ((60, "hierarchy"), (30, "none")):
        done = subprocess.run([sys.executable, "-c", probe.replace("RECORDS", str(n))], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert done.stdout.split("\n")[0] == expected, (n, done.stdout)


def test_large_n_report_has_cluster_view_records_view_and_overview(tmp_path):
    x, planted = planted_embeddings(n=400, d=16)
    result = simreport.run_test(x, display_cap=50)
    assert result.clusters["k"] == 50 and sum(result.clusters["sizes"]) == 400
    assert "50 clusters" in result.clusters["description"]
    html = result.to_html(tmp_path / "r.html")
    assert 'id="simreport-clusters"' in html and 'id="simreport-heatmap"' in html
    assert len(html.encode()) < 8_000_000
    result.to_pdf(tmp_path / "r.pdf")
    text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Cluster view" in text and "Overview: all records in input order" in text and "50 of 400" in text
