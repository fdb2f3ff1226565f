"""Demo data shipped with simreport: 296 short texts and their all-MiniLM-L6-v2 embeddings.

The texts were written for simreport; ``build_demo_data.py`` regenerates the
embeddings (it needs the optional model packages; loading the demo does not).
"""

from __future__ import annotations

import csv
from pathlib import Path

from simreport.inputs import Embeddings, array_sha256, check_embeddings, file_sha256

DEMO_DIR = Path(__file__).resolve().parent
TEXTS = DEMO_DIR / "demo_texts.csv"
EMBEDDINGS = DEMO_DIR / "demo_embeddings.npy"


def demo_texts() -> list[str]:
    """The demo texts, in row order."""
    with open(TEXTS, encoding="utf-8", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


def load_demo() -> Embeddings:
    """The demo embeddings with the texts as labels."""
    import numpy as np

    matrix = check_embeddings(np.load(EMBEDDINGS, allow_pickle=False), EMBEDDINGS.name)
    return Embeddings(matrix=matrix, labels=demo_texts(), source=f"simreport demo ({EMBEDDINGS.name})",
                      file_sha256=file_sha256(EMBEDDINGS), array_sha256=array_sha256(matrix),
                      source_dtype="float32", label_source=f"file {TEXTS.name}, column text")  # the texts
