"""The shipped examples run as documented."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_models_in_the_loop_example_runs(tmp_path):
    proc = subprocess.run([sys.executable, str(EXAMPLES / "models_in_the_loop.py")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    reports = tmp_path / "reports"
    for stem in ("demo-minilm", "minilm-vs-bag-of-words"):
        for suffix in (".json", ".html", ".pdf"):
            assert (reports / f"{stem}{suffix}").stat().st_size > 0
    single = json.loads((reports / "demo-minilm.json").read_text())
    assert single["model"]["fingerprint"] and single["input"]["n"] == 296
    comparison = json.loads((reports / "minilm-vs-bag-of-words.json").read_text())
    assert comparison["kind"] == "simreport-comparison" and len(comparison["results"]) == 2
