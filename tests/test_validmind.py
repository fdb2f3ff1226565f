"""The ValidMind test, run with the real validmind package and real ValidMind dataset and
model objects, offline: ``vm.tests.run_test`` with no platform connection (inputs created
with logging off, no generated description)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import validmind as vm

import simreport
from conftest import planted_embeddings
from simreport.integrations import validmind as sr_vm


def _inputs(x: np.ndarray, assign: str = "predict"):
    texts = [f"text {i}" for i in range(len(x))]
    frame = pd.DataFrame({"text": texts, "target": np.zeros(len(x), dtype=int)})
    table = dict(zip(texts, x, strict=True))
    model = vm.init_model(input_id="embedder", predict_fn=lambda row: table[row["text"]], __log=False)
    dataset = vm.init_dataset(frame, input_id="corpus", text_column="text", target_column="target", __log=False)
    if assign == "values":
        dataset.assign_predictions(model, prediction_values=list(x))
    return dataset, model, texts


def test_run_test_gives_simreports_numbers_inside_validmind(tmp_path):
    x, planted = planted_embeddings()
    dataset, model, texts = _inputs(x)  # predictions not assigned: the test assigns them
    pdf = tmp_path / "cosine.pdf"
    out = vm.tests.run_test(sr_vm.TEST_ID, inputs={"dataset": dataset, "model": model},
                            params={"pdf_path": str(pdf)}, generate_description=False, show=False)
    direct = simreport.run_test(x, labels=texts)
    results = out.raw_data.results
    assert results["stats"]["pairs"] == direct.stats["pairs"] == 120 * 119 // 2
    assert results["stats"]["mean"] == pytest.approx(direct.stats["mean"], abs=1e-12)
    assert results["summary"] == direct.summary
    assert out.passed is (direct.status == "pass")
    titles = [t.title for t in out.tables]
    assert titles[:3] == ["Checks (simreport)", "Pairwise similarity statistics",
                          "Pairs at or above each similarity threshold"]
    checks = out.tables[0].data
    assert list(checks["id"]) == [f.id for f in direct.findings]
    assert list(checks["status"]) == [f.status for f in direct.findings]
    dup = next(t.data for t in out.tables if t.title == "Near-duplicate pairs")
    assert {(int(i), int(j)) for i, j in zip(dup["i"], dup["j"], strict=True)} == set(planted)
    assert set(dup["label_i"]) <= set(texts)
    assert [f.title for f in out.figures] == ["Similarity of all pairs", "Heatmap of cosine similarity"]
    assert sum(out.figures[0].figure.data[0].y) == direct.stats["pairs"]
    heat = out.figures[1].figure.data[0]
    assert len(heat.z) == len(heat.x) == 120 and isinstance(heat.z[5][6], float)  # every record
    assert pdf.read_bytes()[:5] == b"%PDF-" and out.raw_data.pdf_path == str(pdf)
    assert out.raw_data.report_id.startswith("SR-")
    assert results["report"]["model"] == "embedder" and results["report"]["dataset"] == "corpus"


def test_pass_flag_is_true_only_when_every_check_passes():
    clean = np.random.default_rng(0).normal(size=(120, 64)) + 0.5
    dataset, model, _ = _inputs(clean, assign="values")
    tables, figures, passed, raw = sr_vm.CosineSimilarityTest(dataset, model)
    assert raw.status == "pass" and passed is True
    assert "Near-duplicate pairs" not in tables
    x, _ = planted_embeddings()
    dataset, model, _ = _inputs(x, assign="values")
    _, _, passed, raw = sr_vm.CosineSimilarityTest(dataset, model, thresholds={"near_duplicate_share": {"warn": 0.0}})
    assert raw.status != "pass" and passed is False


def test_thresholds_and_options_reach_the_engine():
    x, _ = planted_embeddings()
    dataset, model, _ = _inputs(x, assign="values")
    out = vm.tests.run_test(sr_vm.TEST_ID, inputs={"dataset": dataset, "model": model}, generate_description=False,
                            show=False, params={"near_duplicate_threshold": 0.5,
                                                "thresholds": {"mean_similarity": {"warn": 0.0, "fail": 0.9}}})
    results = out.raw_data.results
    assert results["near_duplicates"]["threshold"] == 0.5
    assert {k: results["parameters"]["thresholds"]["mean_similarity"][k] for k in ("warn", "fail")} == {
        "warn": 0.0, "fail": 0.9}
    assert out.passed is False  # the mean similarity now warns


def test_the_function_carries_validminds_decorations():
    assert "embeddings" in sr_vm.CosineSimilarityTest.__tags__
    assert "feature_extraction" in sr_vm.CosineSimilarityTest.__tasks__
    assert "### Purpose" in sr_vm.CosineSimilarityTest.__doc__
