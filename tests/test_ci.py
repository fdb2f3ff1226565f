"""CI gating and the outcome line: --fail-on (exit 4 after every file is written), the one-line
outcome on stdout, --summary-json, --mlflow from the command line, and the example GitHub
Actions workflow and GitLab CI job, whose simreport commands are run here as written."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "ci"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("gate")
    # 16 random dimensions: many strongly opposed pairs, so opposed_pairs fails (and only it)
    np.save(folder / "fail.npy", np.random.default_rng(0).normal(size=(100, 16)))
    np.save(folder / "pass.npy", np.random.default_rng(0).normal(size=(120, 64)) + 0.5)
    return {"fail": folder / "fail.npy", "pass": folder / "pass.npy"}


def _files(prefix: Path) -> list[str]:
    return sorted(p.name for p in prefix.parent.glob(prefix.name + ".*"))


def test_fail_on_exits_4_after_writing_every_file(inputs, tmp_path):
    prefix = tmp_path / "out" / "r"
    proc = run_cli("run", str(inputs["fail"]), "-o", str(prefix), "--fail-on", "fail", "--format", "json,pdf")
    assert proc.returncode == 4, proc.stderr
    assert _files(prefix) == ["r.json", "r.pdf"]
    line = proc.stdout.strip()
    assert "\n" not in line and line.startswith("simreport: FAIL (5 pass, 0 warn, 1 fail); report SR-")
    assert f"files {prefix}.json, {prefix}.pdf" in line and line.endswith("exit 4 (--fail-on fail)")
    data = json.loads((tmp_path / "out" / "r.json").read_text())
    assert data["summary"]["status"] == "fail"
    assert "ci" not in data["configuration"]  # the gate does not change what the report says


@pytest.mark.parametrize("level, code", [("never", 0), ("warn", 4), ("fail", 4)])
def test_levels_on_a_failing_run(inputs, tmp_path, level, code):
    proc = run_cli("run", str(inputs["fail"]), "-o", str(tmp_path / "r"), "--format", "json", "--fail-on", level)
    assert proc.returncode == code, proc.stderr
    assert proc.stdout.startswith("simreport: FAIL")


def test_a_warning_gates_only_at_warn(inputs, tmp_path):
    warn = ["--threshold", "mean_similarity.warn=0.0"]  # the mean now warns, nothing fails
    at_fail = run_cli("run", str(inputs["pass"]), "-o", str(tmp_path / "a"), "--format", "json", "--fail-on", "fail",
                      *warn)
    at_warn = run_cli("run", str(inputs["pass"]), "-o", str(tmp_path / "b"), "--format", "json", "--fail-on", "warn",
                      *warn)
    assert at_fail.returncode == 0 and at_fail.stdout.startswith("simreport: WARN (5 pass, 1 warn, 0 fail)")
    assert at_warn.returncode == 4 and "exit 4 (--fail-on warn)" in at_warn.stdout


def test_fail_on_from_the_configuration_and_the_flag_over_it(inputs, tmp_path):
    (tmp_path / "simreport.toml").write_text('[ci]\nfail_on = "fail"\n')
    from_file = run_cli("run", str(inputs["fail"]), "-o", "r", "--format", "json", cwd=tmp_path)
    assert from_file.returncode == 4
    flag = run_cli("run", str(inputs["fail"]), "-o", "r", "--format", "json", "--fail-on", "never", cwd=tmp_path)
    assert flag.returncode == 0
    shown = run_cli("config", cwd=tmp_path)  # config alone shows the configuration
    assert shown.returncode == 0 and '[ci]\nfail_on = "fail"' in shown.stdout
    (tmp_path / "simreport.toml").write_text('[ci]\nfail_on = "sometimes"\n')
    bad = run_cli("run", str(inputs["fail"]), "-o", "r", "--format", "json", cwd=tmp_path)
    assert bad.returncode == 2 and "ci.fail_on" in bad.stderr and "never, warn, fail" in bad.stderr


def test_summary_json(inputs, tmp_path):
    proc = run_cli("run", str(inputs["fail"]), "-o", str(tmp_path / "r"), "--format", "json,html", "--summary-json",
                   "--fail-on", "fail", "--quiet")
    assert proc.returncode == 4
    data = json.loads(proc.stdout)
    result = json.loads((tmp_path / "r.json").read_text())
    assert data["status"] == "fail" and data["counts"] == result["summary"]["counts"]
    assert data["files"] == [str(tmp_path / "r.json"), str(tmp_path / "r.html")]
    assert data["gated"] is True and data["exit_code"] == 4 and data["fail_on"] == "fail"
    assert data["findings"]["opposed_pairs"] == "fail" and data["findings"]["mean_similarity"] == "pass"
    from simreport import load_result

    assert data["report_id"] == load_result(tmp_path / "r.json").report_id()


def test_compare_gates_on_the_worst_of_the_comparison_and_both_models(inputs, tmp_path):
    proc = run_cli("compare", str(inputs["fail"]), str(inputs["fail"]), "-o", str(tmp_path / "c"), "--format", "json",
                   "--fail-on", "fail", "--summary-json")
    assert proc.returncode == 4, proc.stderr
    data = json.loads(proc.stdout)
    assert data["kind"] == "comparison" and data["gate_status"] == "fail"
    # a failing model compared with itself: none of the comparison's own checks could be assessed
    assert data["comparison_status"] == "na" and set(data["models"].values()) == {"fail"}
    line = run_cli("compare", str(inputs["fail"]), str(inputs["fail"]), "-o", str(tmp_path / "d"), "--format",
                   "json").stdout
    assert line.startswith("simreport: FAIL (comparison NOT INFORMATIVE: 0 pass, 0 warn, 0 fail; models ")


def test_mlflow_flag_logs_the_written_files(inputs, tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 asks for this opt-in to a folder store
    uri = (tmp_path / "mlruns").as_uri()
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_ALLOW_FILE_STORE": "true"}
    proc = subprocess.run([sys.executable, "-m", "simreport.cli", "run", str(inputs["fail"]), "-o",
                           str(tmp_path / "r"), "--format", "json,pdf", "--summary-json", "--mlflow"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    run_id = json.loads(proc.stdout)["mlflow_run_id"]
    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    run = client.get_run(run_id)
    assert run.data.tags["simreport.status"] == "fail" and run.data.tags["simreport.finding.opposed_pairs"] == "fail"
    assert {a.path for a in client.list_artifacts(run_id, "simreport")} == {"simreport/r.json", "simreport/r.pdf"}
    again = subprocess.run([sys.executable, "-m", "simreport.cli", "run", str(inputs["pass"]), "-o",
                            str(tmp_path / "p"), "--format", "json", "--summary-json", f"--mlflow={run_id}"],
                           capture_output=True, text=True, env=env, timeout=600)
    # the same run with other parameters: MLflow refuses to overwrite them; the files stay written
    assert again.returncode == 1 and "MLflow" in again.stderr and (tmp_path / "p.json").is_file()
    assert json.loads(again.stdout)["status"] == "pass"
    fresh = client.create_run(run.info.experiment_id).info.run_id
    into = subprocess.run([sys.executable, "-m", "simreport.cli", "run", str(inputs["pass"]), "-o",
                           str(tmp_path / "q"), "--format", "json", "--summary-json", f"--mlflow={fresh}"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert into.returncode == 0, into.stderr
    assert json.loads(into.stdout)["mlflow_run_id"] == fresh
    assert client.get_run(fresh).data.tags["simreport.status"] == "pass"


# ----------------------------------------------------------------------------- the CI examples


def _github_commands(doc: dict) -> tuple[list[str], dict]:
    job = next(iter(doc["jobs"].values()))
    gate = next(s for s in job["steps"] if "simreport run" in s.get("run", ""))
    keep = next(s for s in job["steps"] if "upload-artifact" in s.get("uses", ""))
    return [c for c in gate["run"].splitlines() if c.strip()], keep


def _gitlab_commands(doc: dict) -> tuple[list[str], dict]:
    job = doc["embedding-validation"]
    return list(job["script"]), job["artifacts"]


def _shim(folder: Path) -> dict:
    """`simreport` on PATH as the installed console script would be (this checkout's code)."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    (bin_dir / "simreport").write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m simreport.cli "$@"\n')
    (bin_dir / "simreport").chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.parametrize("example", ["github-actions.yml", "gitlab-ci.yml"])
@pytest.mark.parametrize("outcome, code", [("fail", 4), ("pass", 0)])
def test_ci_examples_run_gate_and_keep_the_pdf(inputs, tmp_path, example, outcome, code):
    doc = yaml.safe_load((EXAMPLES / example).read_text())
    commands, keep = (_github_commands if example.startswith("github") else _gitlab_commands)(doc)
    assert any("--fail-on fail" in c for c in commands)
    # the repository the job checks out: its embeddings and labels
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    x = np.load(inputs[outcome])
    np.save(repo / "data" / "embeddings.npy", x)
    (repo / "data" / "labels.txt").write_text("".join(f"record {i}\n" for i in range(len(x))))
    env = _shim(tmp_path)
    code_seen = 0
    for command in commands:  # as the runner does: each line in a shell, the job stops at the first failure
        done = subprocess.run(["bash", "-e", "-c", command], cwd=repo, env=env, capture_output=True, text=True,
                              timeout=600)
        code_seen = done.returncode
        if code_seen:
            break
    assert code_seen == code, done.stderr
    reports = repo / "reports"
    assert (reports / "embeddings.pdf").read_bytes()[:5] == b"%PDF-"  # kept even when the gate fails
    summary = json.loads((reports / "summary.json").read_text())
    assert summary["status"] == outcome and summary["gated"] is (code == 4)
    if example.startswith("github"):
        assert keep["if"] == "always()" and keep["with"]["path"].rstrip("/") == "reports"
    else:
        assert keep["when"] == "always" and [p.rstrip("/") for p in keep["paths"]] == ["reports"]
