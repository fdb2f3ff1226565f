"""simreport run --engine torch [--device] [--precision]: the report says what ran; bad
combinations are clear errors; torch stays unimported by `simreport --help`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import planted_embeddings


def _emb(tmp_path):
    x, _ = planted_embeddings(n=400, d=32)
    path = tmp_path / "emb.npy"
    np.save(path, x)
    return path


def test_run_engine_torch_screen_same_counts_and_labelled(tmp_path, cli):
    path = _emb(tmp_path)
    base = cli("run", str(path), "--quiet", "--format", "json", "-o", str(tmp_path / "base"))
    assert base.returncode == 0, base.stderr
    out = cli("run", str(path), "--engine", "torch", "--precision", "screen", "--tile-size", "150",
              "--format", "json,html", "-o", str(tmp_path / "screen"))
    assert out.returncode == 0, out.stderr
    a = json.loads((tmp_path / "base.json").read_text())
    b = json.loads((tmp_path / "screen.json").read_text())
    engine = b["stats"]["engine"]
    assert engine["engine"] == "torch" and engine["device"] == "cpu"
    assert engine["precision"] in ("screen", "exact")  # exact where the CPU lacks bfloat16 (then a note)
    if engine["precision"] == "exact":
        assert "bfloat16" in engine["note"] and "note:" in out.stderr
    assert b["parameters"]["precision"] == "screen" and b["parameters"]["runner"] == "torch"
    assert a["stats"]["threshold_counts"] == b["stats"]["threshold_counts"]
    assert a["near_duplicates"]["pairs"] == b["near_duplicates"]["pairs"]
    assert [(p["i"], p["j"]) for p in a["most_similar"]] == [(p["i"], p["j"]) for p in b["most_similar"]]
    assert a["opposed"]["pairs"] == b["opposed"]["pairs"]
    assert a["summary"] == b["summary"]
    assert a["stats"]["engine"]["engine"] == "threads"
    html = (tmp_path / "screen.html").read_text()
    assert "All-pairs engine" in html
    if engine["precision"] == "screen":
        assert "Screening precision" in html and "percentile (screened)" in html


def test_device_and_precision_errors_exit_2(tmp_path, cli):
    path = _emb(tmp_path)
    out = cli("run", str(path), "--precision", "screen", "--format", "json", "-o", str(tmp_path / "a"))
    assert out.returncode == 2 and "need the torch engine" in out.stderr
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    out = cli("run", str(path), "--engine", "torch", "--device", "cuda", "--format", "json",
              "-o", str(tmp_path / "b"), env=env)
    assert out.returncode == 2 and "no CUDA device" in out.stderr
    assert not (tmp_path / "b.json").exists()


def test_help_does_not_import_torch():
    code = ("import sys\nfrom simreport.cli import main\n"
            "try:\n    main(['run', '--help'])\nexcept SystemExit:\n    pass\n"
            "assert 'torch' not in sys.modules, 'torch imported by --help'\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "--precision" in out.stdout and "--device" in out.stdout


@pytest.mark.cuda
@pytest.mark.parametrize("precision", ["exact", "screen"])
def test_run_on_cuda_same_report_numbers(tmp_path, cli, precision):
    """The whole CLI run on the GPU: the same counts, pairs and findings as the CPU engine."""
    path = _emb(tmp_path)
    base = cli("run", str(path), "--quiet", "--format", "json", "-o", str(tmp_path / "base"))
    assert base.returncode == 0, base.stderr
    out = cli("run", str(path), "--engine", "torch", "--device", "cuda", "--precision", precision,
              "--tile-size", "128", "--format", "json,html", "-o", str(tmp_path / "gpu"))
    assert out.returncode == 0, out.stderr
    a = json.loads((tmp_path / "base.json").read_text())
    b = json.loads((tmp_path / "gpu.json").read_text())
    assert b["stats"]["engine"]["device"].startswith("cuda")
    assert b["stats"]["engine"]["precision"] == precision
    assert a["stats"]["threshold_counts"] == b["stats"]["threshold_counts"]
    assert a["near_duplicates"]["pairs"] == b["near_duplicates"]["pairs"]
    assert [(p["i"], p["j"]) for p in a["most_similar"]] == [(p["i"], p["j"]) for p in b["most_similar"]]
    assert a["opposed"]["pairs"] == b["opposed"]["pairs"] and a["summary"] == b["summary"]
    assert "cuda" in (tmp_path / "gpu.html").read_text()
