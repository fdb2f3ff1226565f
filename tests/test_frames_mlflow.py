"""pandas tables and flat metrics of a result and a comparison, and logging to a real MLflow
file store."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import simreport
from conftest import planted_embeddings
from simreport.compare import compare_models


@pytest.fixture(scope="module")
def result():
    x, _ = planted_embeddings()
    return simreport.run_test(x, labels=[f"rec {i}" for i in range(len(x))], title="Frames")


@pytest.fixture(scope="module")
def comparison():
    x, _ = planted_embeddings()
    rng = np.random.default_rng(1)
    return compare_models(x, x + 0.5 * rng.standard_normal(x.shape).astype(np.float32), names=["old", "new"])


def test_metrics_are_flat_numbers_matching_the_json(result):
    m = result.metrics()
    assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in m.values())
    assert m["mean"] == result.stats["mean"] and m["pairs"] == 120 * 119 // 2
    assert m["p99"] == result.stats["quantiles"]["p99"]
    assert m["near_duplicate.pairs"] == result.near_duplicates["pairs"] == 3
    assert m["pairs_at.0.95"] == next(r["pairs"] for r in result.stats["threshold_counts"] if r["threshold"] == 0.95)
    for f in result.findings:
        assert m[f"finding.{f.id}.level"] == {"na": -1, "pass": 0, "warn": 1, "fail": 2}[f.status]
        assert m[f"finding.{f.id}.value"] == pytest.approx(f.value)
    assert m["outcome.level"] == {"pass": 0, "warn": 1, "fail": 2}[result.status]
    assert m["outcome.pass"] + m["outcome.warn"] + m["outcome.fail"] + m["outcome.na"] == len(result.findings)


def test_frames_of_a_result(result):
    f = result.findings_frame()
    assert list(f["id"]) == [x.id for x in result.findings]
    assert list(f.columns[:4]) == ["id", "title", "status", "value"]
    assert f.set_index("id").loc["near_duplicate_share", "fail_threshold"] == pytest.approx(0.05)
    p = result.pairs_frame()
    nd = result.pairs_frame("near_duplicate")
    assert {(int(i), int(j)) for i, j in zip(nd["i"], nd["j"], strict=True)} == {(3, 40), (10, 11), (25, 90)}
    assert set(p["list"]) >= {"near_duplicate", "most_similar"}
    assert nd["label_i"].iloc[0].startswith("rec ")
    with pytest.raises(ValueError, match="which must be one of"):
        result.pairs_frame("nearest")
    t = result.threshold_frame()
    assert list(t["threshold"]) == [r["threshold"] for r in result.stats["threshold_counts"]]
    row = t[t["threshold"] == 0.95].iloc[0]
    assert row["pairs"] == 3 and row["share_of_pairs"] == pytest.approx(3 / (120 * 119 / 2))
    assert row["share_of_items"] == pytest.approx(6 / 120)


def test_frames_of_a_comparison(comparison):
    m = comparison.metrics()
    assert m["correlation.pearson"] == pytest.approx(comparison.correlation)
    assert m["a.mean"] == comparison.a.stats["mean"] and m["b.mean"] == comparison.b.stats["mean"]
    assert "finding.similarity_agreement.value" in m and "a.finding.mean_similarity.level" in m
    f = comparison.findings_frame()
    assert set(f["model"]) == {"comparison", "old", "new"}
    assert len(f) == len(comparison.findings) + len(comparison.a.findings) + len(comparison.b.findings)
    p = comparison.pairs_frame()
    assert set(p["model"]) >= {"old", "new"}
    t = comparison.threshold_frame()
    assert list(t["model"].unique()) == ["old", "new"]


def test_import_simreport_loads_no_heavy_optional_library():
    code = ("import sys, simreport; heavy = [m for m in ('pandas', 'mlflow', 'validmind', 'torch') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.fixture
def mlflow_store(tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 asks for this opt-in to a folder store
    uri = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    yield mlflow
    mlflow.set_tracking_uri(None)


def _artifacts(client, run_id: str, path: str) -> set[str]:
    return {a.path for a in client.list_artifacts(run_id, path)}


def test_log_to_mlflow_file_store(result, mlflow_store, tmp_path):
    mlflow = mlflow_store
    run_id = result.log_to_mlflow()
    client = mlflow.tracking.MlflowClient()
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["mean"] == pytest.approx(result.stats["mean"])
    assert run.data.metrics["near_duplicate.pairs"] == 3
    for f in result.findings:
        assert run.data.tags[f"simreport.finding.{f.id}"] == f.status
        assert run.data.metrics[f"finding.{f.id}.value"] == pytest.approx(f.value)
    assert run.data.tags["simreport.status"] == result.status
    assert run.data.tags["simreport.report_id"] == result.report_id()
    assert run.data.params["near_duplicate_threshold"] == "0.95"
    assert run.data.params["thresholds.mean_similarity.fail"] == "0.7"
    assert run.data.params["input.array_sha256"] == result.input["array_sha256"]
    assert _artifacts(client, run_id, "simreport") == {"simreport/report.json", "simreport/report.html",
                                                      "simreport/report.pdf"}
    local = client.download_artifacts(run_id, "simreport/report.json", str(tmp_path))
    assert json.loads(open(local, encoding="utf-8").read())["summary"] == result.summary
    pdf = client.download_artifacts(run_id, "simreport/report.pdf", str(tmp_path))
    assert open(pdf, "rb").read(5) == b"%PDF-"


def test_log_to_mlflow_into_a_given_or_active_run(comparison, mlflow_store):
    mlflow = mlflow_store
    with mlflow.start_run() as active:
        assert comparison.log_to_mlflow(formats=["json"]) == active.info.run_id
        assert mlflow.active_run().info.run_id == active.info.run_id  # the caller's run stays open
    existing = mlflow.tracking.MlflowClient().create_run(
        mlflow.tracking.MlflowClient().get_experiment_by_name("Default").experiment_id).info.run_id
    assert comparison.log_to_mlflow(existing, formats=["json"]) == existing
    run = mlflow.tracking.MlflowClient().get_run(existing)
    assert run.data.metrics["correlation.pearson"] == pytest.approx(comparison.correlation)
    assert run.data.tags["simreport.kind"] == "simreport-comparison"
    assert run.data.tags["simreport.a.status"] == comparison.a.status
    assert run.data.params["a.name"] == "old"
