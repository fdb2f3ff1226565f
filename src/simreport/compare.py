"""Comparing two models on the same records: each model's own test, side by side, and how
much the two agree.

Each model gets the full single-model test (:func:`~simreport.cosine_test.cosine_similarity_test`).
The second model's heatmap is then redrawn on the first model's records in the first
model's order, so the two pictures line up cell by cell. How much the two agree over all
n(n-1)/2 pairs is the agreement pass (:mod:`simreport.agreement`). This module aligns the
pictures, judges the comparison's findings and builds the :class:`~simreport.results.Comparison`.

Findings flag a model that is much more crowded or much less discriminating than the
other, and models that disagree about which records are similar.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from simreport.agreement import JOINT_BINS, measure_agreement
from simreport.cosine_test import TestOptions, cosine_similarity_test, masked_diagonal, picture_values, report_block
from simreport.engine import normalise_rows, total_tiles
from simreport.findings import (
    COMPARE_CHECKS,
    comparison_summary,
    evaluate_comparison,
    merge_thresholds,
    split_thresholds,
)
from simreport.inputs import Embeddings, InputError
from simreport.models import EmbeddingSettings, cache_file
from simreport.prepare import prepare_data
from simreport.results import Comparison, Result, Stopwatch, created_timestamp
from simreport.version import __version__


def merge_compare_thresholds(overrides: dict[str, dict[str, float]] | None,
                             base: dict[str, dict[str, float]] | None = None) -> dict[str, dict[str, float]]:
    """The set's comparison limits (default set unless ``base``) with overrides applied; unknown ids or
    levels, and warn beyond fail, raise ValueError."""
    return merge_thresholds(overrides, COMPARE_CHECKS, "comparison finding", base=base)


@dataclass
class CompareOptions:
    """What the comparison measures beyond each model's own test."""

    neighbours: int = 10
    listed_pairs: int = 25
    listed_records: int = 10
    thresholds: dict[str, dict[str, float]] = field(default_factory=dict)

    def check(self) -> None:
        if self.neighbours < 1:
            raise ValueError(f"neighbours {self.neighbours} must be at least 1")
        if self.listed_pairs < 1 or self.listed_records < 0:
            raise ValueError("listed pairs must be at least 1 and listed records at least 0")
        merge_compare_thresholds(self.thresholds)


def _aligned_heatmap(reference: dict, unit: np.ndarray, name_ref: str) -> dict:
    """The other model's similarities on the reference heatmap's records, in its order."""
    idx = np.asarray(reference["indices"], dtype=np.int64)
    block = unit[idx]
    values = (block @ block.T).astype(np.float64)
    out = dict(reference)
    out["values"] = picture_values(masked_diagonal(values))
    out["order"] = "reference"
    out["description"] = (f"The heatmap shows the same {len(idx):,} records as {name_ref}'s heatmap, in the same order "
                          f"(chosen and ordered from {name_ref}'s similarities), so the two pictures can be compared "
                          "cell by cell.")
    return out


def _aligned_clusters(reference: dict, unit_ref: np.ndarray, unit: np.ndarray, cap: int, seed: int,
                      name_ref: str) -> dict:
    """The other model's exact mean similarity between the reference model's clusters."""
    from simreport.clusters import build_cluster_view, cluster_means

    view = build_cluster_view(unit_ref, cap, seed)  # deterministic: the reference's own clusters again
    k = len(view.sizes)
    mean, _ = cluster_means(unit, view.assignment, k)
    order = view.order
    mean = mean[np.ix_(order, order)]
    out = dict(reference)
    out["mean"] = picture_values(mean)
    out["description"] = (f"The cluster view uses {name_ref}'s {k} clusters and order, and shows this model's exact "
                          "mean similarity between every two of them (from the clusters' vector sums), so both "
                          "cluster views compare cell by cell.")
    return out


def sameness(a: Result, b: Result, unit_a: np.ndarray | None = None, unit_b: np.ndarray | None = None) -> dict:
    """Whether the two sides are the same: identical unit vectors, and the same model fingerprint."""
    fa = (a.model or {}).get("fingerprint")
    fb = (b.model or {}).get("fingerprint")
    if unit_a is not None and unit_b is not None:
        identical = unit_a.shape == unit_b.shape and bool(np.array_equal(unit_a, unit_b))
    else:
        identical = a.input.get("array_sha256") == b.input.get("array_sha256")
    return {"identical_vectors": identical, "same_fingerprint": bool(fa and fa == fb), "fingerprint": fa if fa == fb
            else None}


def _names(names: list[str] | None, a: Embeddings, b: Embeddings, blocks: list[dict | None]) -> list[str]:
    if names is not None:
        if len(names) != 2 or not all(str(x).strip() for x in names):
            raise ValueError("names: give two non-empty names, one per model")
        chosen = [str(x).strip() for x in names]
    else:
        chosen = [(block or {}).get("name") or data.source for block, data in zip(blocks, (a, b), strict=True)]
    if chosen[0] == chosen[1]:
        chosen = [f"A ({chosen[0]})", f"B ({chosen[1]})"]
    return chosen


def compare_embeddings(a: Embeddings, b: Embeddings, options: TestOptions | None = None,
                       compare: CompareOptions | None = None, *, names: list[str] | None = None,
                       models: list[dict | None] | None = None, progress: Callable[[int], None] | None = None,
                       title: str | None = None) -> Comparison:
    """Compare two validated embedding sets of the same records (same order).

    ``models``: the results' model blocks (or None) for each side; ``progress`` is called
    with a count of finished tiles over the three passes (see :func:`comparison_tiles`).
    """
    options = options or TestOptions()
    compare = compare or CompareOptions()
    options.check()
    compare.check()
    if a.n != b.n:
        raise InputError(f"the two inputs have {a.n:,} and {b.n:,} rows; a comparison needs the same records in the "
                         "same order under both models.")
    models = models or [None, None]
    clock = Stopwatch()
    result_a = cosine_similarity_test(a, options, progress)
    result_b = cosine_similarity_test(b, options, progress)
    for result, block in zip((result_a, result_b), models, strict=True):
        if block is not None:
            result.model = block
    clock.lap("each_model")
    chosen = _names(names, a, b, models)
    for result, name in zip((result_a, result_b), chosen, strict=True):
        report = getattr(result, "report", None)
        if isinstance(report, dict) and not report.get("model"):
            report["model"] = name  # each model's own result names its model
    unit_a, unit_b = normalise_rows(a.matrix), normalise_rows(b.matrix)
    result_b.heatmap = _aligned_heatmap(result_a.heatmap, unit_b, chosen[0])
    if result_a.clusters is not None:
        result_b.clusters = _aligned_clusters(result_a.clusters, unit_a, unit_b, options.display_cap, options.seed,
                                              chosen[0])
    clock.lap("aligned_heatmaps")
    agreement = measure_agreement(unit_a, unit_b, a.labels, options.near_duplicate_threshold,
                                  neighbours=compare.neighbours, listed_pairs=compare.listed_pairs,
                                  listed_records=compare.listed_records, tile_size=options.tile_size,
                                  workers=options.workers if options.runner != "loop" else 1, progress=progress)
    clock.lap("agreement")
    agreement["sameness"] = sameness(result_a, result_b, unit_a, unit_b)
    thresholds = merge_compare_thresholds(compare.thresholds,
                                          options.threshold_set_loaded().numbers(list(COMPARE_CHECKS)))
    results = [result_a.to_dict(), result_b.to_dict()]
    judged = evaluate_comparison(*results, chosen, agreement, thresholds)
    return Comparison(
        tool={"name": "simreport", "version": __version__},
        environment={"python": platform.python_version(), "numpy": np.__version__,
                     "platform": platform.platform(terse=True)},
        title=title or options.title,
        names=chosen,
        input={"path": a.source if a.source == b.source else f"{a.source} / {b.source}", "n": a.n,
               "labels": a.label_source},
        results=results,
        agreement=agreement,
        parameters={"neighbours": agreement["neighbours"]["k"], "listed_pairs": compare.listed_pairs,
                    "listed_records": compare.listed_records, "joint_bins": JOINT_BINS,
                    "near_duplicate_threshold": options.near_duplicate_threshold,
                    "tile_size": options.tile_size, "workers": options.workers, "thresholds": thresholds,
                    "threshold_set": options.threshold_identity(compare.thresholds)},
        findings_data=[f.to_dict() for f in judged],
        summary=comparison_summary(judged, [result_a.summary["status"], result_b.summary["status"]]),
        created=created_timestamp(),
        duration_seconds=clock.seconds(),
        timings=clock.timings(),
        report=report_block(title or options.title, options.report),
    )


def comparison_tiles(n: int, options: TestOptions) -> int:
    """Tiles the progress callback counts: each model's pass and the agreement pass."""
    return 3 * total_tiles(n, options.engine_settings())


def compare_models(first: object, second: object, *, texts: list[str] | None = None,
                   labels: list[str] | None = None, names: list[str] | None = None,
                   batch_size: int = EmbeddingSettings.batch_size, normalize: bool = EmbeddingSettings.normalize,
                   max_length: int | None = None, cache: str | Path | None = None, device: str = "cpu",
                   neighbours: int = CompareOptions.neighbours, listed_pairs: int = CompareOptions.listed_pairs,
                   listed_records: int = CompareOptions.listed_records,
                   thresholds: dict[str, dict[str, float]] | None = None, progress=None,
                   **options) -> Comparison:
    """Compare two models (with ``texts``) or two embedding sets of the same records.

    With ``texts``, ``first`` and ``second`` are models (anything :func:`simreport.run_test`
    takes as ``model``); otherwise they are embeddings (arrays, files, DataFrames).
    ``cache``: a prefix; each model's vectors are cached as ``PREFIX.a.embeddings.npy`` and
    ``PREFIX.b.embeddings.npy``. ``thresholds`` may mix single-model and comparison check ids.
    ``options`` are the fields of :class:`~simreport.cosine_test.TestOptions`.
    """
    single, compare_limits = split_thresholds(thresholds)
    options.setdefault("title", "Model comparison: cosine similarity test")
    prepared = []
    for slot, item in (("a", first), ("b", second)):
        if texts is not None:
            where = None if cache is None else cache_file(cache, slot)
            prepared.append(prepare_data(texts=texts, model=item, labels=labels, batch_size=batch_size,
                                         normalize=normalize, max_length=max_length, cache=where, device=device))
        else:
            prepared.append(prepare_data(item, labels=labels))
    (data_a, emb_a), (data_b, emb_b) = prepared
    if texts is None and labels is None and data_b.label_source != "index" and data_a.label_source == "index":
        data_a.labels, data_a.label_source = data_b.labels, data_b.label_source
    comparison = compare_embeddings(
        data_a, data_b, TestOptions(thresholds=single, **options),
        CompareOptions(neighbours=neighbours, listed_pairs=listed_pairs, listed_records=listed_records,
                       thresholds=compare_limits),
        names=names, models=[e.block if e else None for e in (emb_a, emb_b)], progress=progress)
    attach_embedded(comparison, [emb_a, emb_b])
    return comparison


def attach_embedded(comparison: Comparison, embedded: list) -> None:
    """Record in each model's result how its texts were embedded (and the embedding time)."""
    for k, record in enumerate(embedded):
        if record is not None:
            result = Result.from_dict(comparison.results[k])
            result.attach_model(record.block, record.seconds)
            comparison.results[k] = result.to_dict()
