"""Comparing two models on the same records: each model's own test, side by side, and how
much the two agree.

Each model gets the full single-model test (:func:`~simreport.cosine_test.cosine_similarity_test`).
The second model's heatmap is then redrawn on the first model's records in the first
model's order, so the two pictures line up cell by cell. Agreement is measured on all
n(n-1)/2 pairs:

* the Pearson correlation of the two models' similarities, exactly and without any
  similarity matrix: with U and V the unit vectors of the two models,
  sum over pairs of s_U s_V = (|U^T V|_F^2 - sum_i |u_i|^2 |v_i|^2) / 2, and the sums and
  sums of squares of each model's similarities come from its own Gram identity;
* one tiled pass over both models (the engine's band tasks, float32 tiles, single-threaded
  BLAS) that keeps each record's k nearest neighbours under each model (ties go to the
  smaller row number), the pairs that reach the near-duplicate threshold under one model
  but not the other (all counted; the most different ones listed, up to a cap), a joint
  histogram of the two similarities, and the same sums again as a cross-check.

Findings flag a model that is much more crowded or much less discriminating than the
other, and models that disagree about which records are similar.
"""

from __future__ import annotations

import math
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numba import njit

from simreport.config import default
from simreport.cosine_test import TestOptions, cosine_similarity_test, picture_values
from simreport.engine import band_tasks, exact_moments, normalise_rows, total_tiles
from simreport.findings import COMPARE_CHECKS, STATUS_ORDER, Finding, format_value, judge, limits_text, merge_thresholds
from simreport.inputs import Embeddings, InputError
from simreport.models import EmbeddingSettings
from simreport.prepare import prepare_data
from simreport.results import Comparison, Result, Stopwatch, created_timestamp
from simreport.runners import on_threads
from simreport.version import __version__

JOINT_BINS = 100  # per axis over [-1, 1]: cells 0.02 wide

def merge_compare_thresholds(overrides: dict[str, dict[str, float]] | None) -> dict[str, dict[str, float]]:
    """Defaults with overrides applied; unknown ids or levels, and warn beyond fail, raise ValueError."""
    return merge_thresholds(overrides, COMPARE_CHECKS, "comparison finding")


def split_thresholds(thresholds: dict[str, dict[str, float]] | None) -> tuple[dict, dict]:
    """(single-model thresholds, comparison thresholds) from one mapping of check ids."""
    single, compare = {}, {}
    for check_id, levels in (thresholds or {}).items():
        (compare if check_id in COMPARE_CHECKS else single)[check_id] = levels
    return single, compare


# ----------------------------------------------------------------------------- exact correlation


def cross_moments(unit_a: np.ndarray, unit_b: np.ndarray, chunk: int = 8192) -> dict:
    """Means, standard deviations, covariance and Pearson correlation of the two models'
    similarities over all pairs i < j, exactly (float64), from Gram identities only."""
    n = unit_a.shape[0]
    pairs = n * (n - 1) / 2
    mean_a, std_a = exact_moments(unit_a)
    mean_b, std_b = exact_moments(unit_b)
    cross = np.zeros((unit_a.shape[1], unit_b.shape[1]), dtype=np.float64)
    for r0 in range(0, n, chunk):
        a = unit_a[r0:r0 + chunk].astype(np.float64)
        b = unit_b[r0:r0 + chunk].astype(np.float64)
        cross += a.T @ b
    norms_a = np.einsum("ij,ij->i", unit_a, unit_a, dtype=np.float64)
    norms_b = np.einsum("ij,ij->i", unit_b, unit_b, dtype=np.float64)
    sum_ab = (float(np.sum(cross * cross)) - float(np.dot(norms_a, norms_b))) / 2.0
    cov = sum_ab / pairs - mean_a * mean_b
    pearson = cov / (std_a * std_b) if std_a > 0 and std_b > 0 else None
    if pearson is not None:
        pearson = float(min(max(pearson, -1.0), 1.0))
    return {"pairs": int(n * (n - 1) // 2), "mean_a": mean_a, "std_a": std_a, "mean_b": mean_b, "std_b": std_b,
            "covariance": cov, "pearson": pearson}


# ----------------------------------------------------------------------------- tiled pass


@njit(cache=True, nogil=True, inline="always")
def _push(vals, idx, s, j):
    """Insert neighbour j with similarity s into a row's sorted top-k (ties: smaller j first)."""
    last = vals.shape[0] - 1
    if s < vals[last] or (s == vals[last] and j > idx[last]):
        return
    pos = last
    while pos > 0 and (s > vals[pos - 1] or (s == vals[pos - 1] and j < idx[pos - 1])):
        vals[pos] = vals[pos - 1]
        idx[pos] = idx[pos - 1]
        pos -= 1
    vals[pos] = s
    idx[pos] = j


@njit(cache=True, nogil=True)
def topk_tile(tile, row0, col0, best_s, best_i):
    """Fold the pairs j > i of one tile into every record's top-k neighbour list (both ends)."""
    n_rows, n_cols = tile.shape
    for a in range(n_rows):
        i = row0 + a
        for b in range(max(i - col0 + 1, 0), n_cols):
            j = col0 + b
            s = tile[a, b]
            _push(best_s[i], best_i[i], s, j)
            _push(best_s[j], best_i[j], s, i)


@njit(cache=True, nogil=True)
def merge_topk(best_s, best_i, other_s, other_i):
    """Fold another partial's top-k lists into these (exact; same tie rule)."""
    n, k = best_s.shape
    for i in range(n):
        for m in range(k):
            if other_i[i, m] < n:
                _push(best_s[i], best_i[i], other_s[i, m], other_i[i, m])


@dataclass
class PairList:
    """Pairs found by one model only: all counted, the most different ``cap`` kept."""

    cap: int
    count: int = 0
    i: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    j: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    s_self: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    s_other: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    def add(self, i, j, s_self, s_other) -> None:
        self.count += int(i.size)
        if i.size == 0:
            return
        diff = s_self.astype(np.float64) - s_other.astype(np.float64)
        if diff.size > self.cap:  # keep every pair at least as different as the cap-th one (ties kept)
            floor = np.partition(diff, diff.size - self.cap)[diff.size - self.cap]
            keep = diff >= floor
            i, j, s_self, s_other = i[keep], j[keep], s_self[keep], s_other[keep]
        self._merge(i, j, s_self, s_other)

    def _merge(self, i, j, s_self, s_other) -> None:
        i = np.concatenate([self.i, i])
        j = np.concatenate([self.j, j])
        s_self = np.concatenate([self.s_self, s_self])
        s_other = np.concatenate([self.s_other, s_other])
        diff = s_self.astype(np.float64) - s_other.astype(np.float64)
        order = np.lexsort((j, i, -diff))[: self.cap]
        self.i, self.j, self.s_self, self.s_other = i[order], j[order], s_self[order], s_other[order]

    def merge(self, other: PairList) -> None:
        self.count += other.count
        self._merge(other.i, other.j, other.s_self, other.s_other)

    def rows(self) -> list[tuple[int, int, float, float]]:
        return [(int(a), int(b), float(x), float(y)) for a, b, x, y in zip(self.i, self.j, self.s_self, self.s_other,
                                                                             strict=True)]


@dataclass
class AgreementPartial:
    """Running state of the tiled pass over some tiles; ``merge`` is exact."""

    best_s_a: np.ndarray
    best_i_a: np.ndarray
    best_s_b: np.ndarray
    best_i_b: np.ndarray
    joint: np.ndarray
    sums: np.ndarray  # float64: sum a, sum b, sum a^2, sum b^2, sum ab
    both: int
    only_a: PairList
    only_b: PairList
    tiles: int = 0

    @classmethod
    def empty(cls, n: int, k: int, cap: int) -> AgreementPartial:
        def lists():
            return np.full((n, k), -np.inf, dtype=np.float32), np.full((n, k), n, dtype=np.int64)

        sa, ia = lists()
        sb, ib = lists()
        return cls(sa, ia, sb, ib, np.zeros(JOINT_BINS * JOINT_BINS, dtype=np.int64), np.zeros(5), 0,
                   PairList(cap), PairList(cap))

    def add_tile(self, ta: np.ndarray, tb: np.ndarray, r0: int, c0: int, threshold: np.float32) -> None:
        topk_tile(ta, r0, c0, self.best_s_a, self.best_i_a)
        topk_tile(tb, r0, c0, self.best_s_b, self.best_i_b)
        if r0 == c0:
            rows, cols = np.triu_indices(ta.shape[0], 1, ta.shape[1])
            a, b = ta[rows, cols], tb[rows, cols]
        else:
            rows = cols = None
            a, b = ta.ravel(), tb.ravel()
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        self.sums += (a64.sum(), b64.sum(), a64 @ a64, b64 @ b64, a64 @ b64)
        bins_a = np.clip(((a + np.float32(1.0)) * np.float32(JOINT_BINS / 2)).astype(np.int64), 0, JOINT_BINS - 1)
        bins_b = np.clip(((b + np.float32(1.0)) * np.float32(JOINT_BINS / 2)).astype(np.int64), 0, JOINT_BINS - 1)
        self.joint += np.bincount(bins_a * JOINT_BINS + bins_b, minlength=JOINT_BINS * JOINT_BINS)
        near_a, near_b = a >= threshold, b >= threshold
        self.both += int(np.count_nonzero(near_a & near_b))
        for mine, theirs, store, s_mine, s_theirs in ((near_a, near_b, self.only_a, a, b),
                                                      (near_b, near_a, self.only_b, b, a)):
            hit = np.flatnonzero(mine & ~theirs)
            if hit.size:
                if rows is None:
                    gi, gj = r0 + hit // ta.shape[1], c0 + hit % ta.shape[1]
                else:
                    gi, gj = r0 + rows[hit], c0 + cols[hit]
                store.add(gi.astype(np.int64), gj.astype(np.int64), s_mine[hit], s_theirs[hit])
        self.tiles += 1

    def merge(self, other: AgreementPartial) -> None:
        merge_topk(self.best_s_a, self.best_i_a, other.best_s_a, other.best_i_a)
        merge_topk(self.best_s_b, self.best_i_b, other.best_s_b, other.best_i_b)
        self.joint += other.joint
        self.sums += other.sums
        self.both += other.both
        self.only_a.merge(other.only_a)
        self.only_b.merge(other.only_b)
        self.tiles += other.tiles


def agreement_pass(unit_a: np.ndarray, unit_b: np.ndarray, k: int, threshold: float, cap: int,
                   tile_size: int = default("engine", "tile_size"), workers: int = default("engine", "workers"),
                   progress: Callable[[int], None] | None = None) -> AgreementPartial:
    """All tiles of the upper triangle for both models at once, on ``workers`` threads."""
    n = unit_a.shape[0]
    t = np.float32(threshold)

    def run_one(task: tuple[int, ...], partial: AgreementPartial, tick: Callable[[], None]) -> None:
        for band in task:
            r0 = band * tile_size
            rows_a, rows_b = unit_a[r0:r0 + tile_size], unit_b[r0:r0 + tile_size]
            for c0 in range(r0, n, tile_size):
                partial.add_tile(rows_a @ unit_a[c0:c0 + tile_size].T, rows_b @ unit_b[c0:c0 + tile_size].T,
                                 r0, c0, t)
                tick()

    partials = on_threads(band_tasks(n, tile_size), workers, lambda: AgreementPartial.empty(n, k, cap), run_one,
                          progress)
    total = partials[0]
    for other in partials[1:]:
        total.merge(other)
    return total


# ----------------------------------------------------------------------------- the comparison


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


def _short(label: str, limit: int = 200) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"


def _aligned_heatmap(reference: dict, unit: np.ndarray, name_ref: str) -> dict:
    """The other model's similarities on the reference heatmap's records, in its order."""
    idx = np.asarray(reference["indices"], dtype=np.int64)
    block = unit[idx]
    values = (block @ block.T).astype(np.float64)
    out = dict(reference)
    out["values"] = picture_values(values)
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


def _overlap(best_a: np.ndarray, best_b: np.ndarray) -> np.ndarray:
    """Per record: how many of its k neighbours both models share."""
    return (best_a[:, :, None] == best_b[:, None, :]).any(axis=2).sum(axis=1)


def _pair_rows(pairs: list[tuple[int, int, float, float]], labels: list[str], first_is_a: bool) -> list[dict]:
    rows = []
    for i, j, s_self, s_other in pairs:
        s_a, s_b = (s_self, s_other) if first_is_a else (s_other, s_self)
        rows.append({"i": i, "j": j, "label_i": _short(labels[i]), "label_j": _short(labels[j]),
                     "similarity_a": round(s_a, 6), "similarity_b": round(s_b, 6)})
    return rows


def measure_agreement(unit_a: np.ndarray, unit_b: np.ndarray, labels: list[str], threshold: float,
                      options: CompareOptions, tile_size: int = default("engine", "tile_size"),
                      workers: int = default("engine", "workers"),
                      progress: Callable[[int], None] | None = None) -> dict:
    """Every agreement number of the comparison, as plain JSON-able data."""
    n = unit_a.shape[0]
    k = max(1, min(options.neighbours, n - 1))
    exact = cross_moments(unit_a, unit_b)
    partial = agreement_pass(unit_a, unit_b, k, threshold, options.listed_pairs, tile_size, workers, progress)
    pairs = n * (n - 1) // 2
    sa, sb, saa, sbb, sab = (float(v) for v in partial.sums)
    mean_a, mean_b = sa / pairs, sb / pairs
    var_a, var_b = saa / pairs - mean_a ** 2, sbb / pairs - mean_b ** 2
    tile_r = ((sab / pairs - mean_a * mean_b) / math.sqrt(var_a * var_b)) if var_a > 0 and var_b > 0 else None
    overlap = _overlap(partial.best_i_a, partial.best_i_b)
    same_nearest = partial.best_i_a[:, 0] == partial.best_i_b[:, 0]
    worst = np.lexsort((np.arange(n), overlap))[: options.listed_records]
    records = [{
        "i": int(r), "label": _short(labels[r]), "overlap": int(overlap[r]),
        "nearest_a": int(partial.best_i_a[r, 0]), "label_a": _short(labels[partial.best_i_a[r, 0]]),
        "similarity_a": round(float(partial.best_s_a[r, 0]), 6),
        "nearest_b": int(partial.best_i_b[r, 0]), "label_b": _short(labels[partial.best_i_b[r, 0]]),
        "similarity_b": round(float(partial.best_s_b[r, 0]), 6),
    } for r in worst]
    union = partial.both + partial.only_a.count + partial.only_b.count
    return {
        "pairs": pairs,
        "correlation": {
            "pearson": exact["pearson"], "covariance": exact["covariance"],
            "method": "exact, from the models' Gram and cross-Gram matrices (float64)",
            "tile_pass_pearson": tile_r,
        },
        "neighbours": {
            "k": k,
            "mean_overlap": float(overlap.mean() / k),
            "median_overlap": float(np.median(overlap) / k),
            "same_nearest": int(same_nearest.sum()),
            "same_nearest_share": float(same_nearest.mean()),
            "no_overlap": int(np.count_nonzero(overlap == 0)),
            "distribution": np.bincount(overlap, minlength=k + 1).tolist(),
            "least_agreeing": records,
        },
        "near_duplicates": {
            "threshold": threshold, "both": partial.both,
            "only_a": partial.only_a.count, "only_b": partial.only_b.count,
            "jaccard": (partial.both / union) if union else None,
            "listed_cap": options.listed_pairs,
            "only_a_pairs": _pair_rows(partial.only_a.rows(), labels, True),
            "only_b_pairs": _pair_rows(partial.only_b.rows(), labels, False),
        },
        "joint_histogram": {"bins": JOINT_BINS, "range": [-1.0, 1.0],
                            "counts": partial.joint.reshape(JOINT_BINS, JOINT_BINS).tolist()},
        "tiles": partial.tiles,
    }


def evaluate_comparison(a: Result, b: Result, names: list[str], agreement: dict,
                        thresholds: dict[str, dict[str, float]]) -> list[Finding]:
    """The comparison's findings: relative crowding and discrimination, and agreement."""

    def pct(share: float) -> str:
        return format_value(share, "share")

    na, nb = names
    med_a, med_b = a.nearest_neighbour["quantiles"]["p50"], b.nearest_neighbour["quantiles"]["p50"]
    n = a.input["n"]
    share_a = a.nearest_neighbour["items_above_threshold"] / n
    share_b = b.nearest_neighbour["items_above_threshold"] / n
    std_a, std_b = a.stats["std"], b.stats["std"]
    r = agreement["correlation"]["pearson"]
    nbr = agreement["neighbours"]
    crowded, calmer = (na, nb) if med_a >= med_b else (nb, na)
    more, fewer = (na, nb) if share_a >= share_b else (nb, na)
    narrow, wide = (na, nb) if std_a <= std_b else (nb, na)
    ratio = (min(std_a, std_b) / max(std_a, std_b)) if max(std_a, std_b) > 0 else 1.0
    t = a.near_duplicates["threshold"]
    values = {
        "crowding_gap": (abs(med_a - med_b),
                         f"The median record's nearest neighbour has similarity {med_a:.3f} under {na} and {med_b:.3f} "
                         f"under {nb}: {crowded} is more crowded by {abs(med_a - med_b):.3f}"),
        "near_duplicate_gap": (abs(share_a - share_b),
                               f"{pct(share_a)} of records have a neighbour at or above {t:.2f} under {na} "
                               f"and {pct(share_b)} under {nb}: {more} puts "
                               f"{abs(share_a - share_b) * 100:.3g} percentage points more of the records next to a "
                               "near-duplicate"
                               if share_a != share_b else
                               f"{pct(share_a)} of records have a neighbour at or above {t:.2f} under both "
                               "models"),
        "spread_ratio": (ratio,
                         f"The standard deviation of pairwise similarity is {std_a:.3f} under {na} and {std_b:.3f} "
                         f"under {nb}: {narrow} has {ratio:.2f} times the spread of {wide}"),
        "similarity_agreement": (r if r is not None else 0.0,
                                 f"The correlation of the two models' similarities over all {agreement['pairs']:,} "
                                 f"pairs is {r:.3f}" if r is not None else
                                 "The correlation of the two models' similarities is undefined: one model gives every "
                                 "pair the same similarity"),
        "neighbour_agreement": (nbr["mean_overlap"],
                                f"On average {pct(nbr['mean_overlap'])} of a record's {nbr['k']} nearest "
                                f"neighbours are the same under both models; {pct(nbr['same_nearest_share'])}"
                                " of records have the same nearest neighbour"),
    }
    out = []
    for check_id, check in COMPARE_CHECKS.items():
        warn, fail = thresholds[check_id]["warn"], thresholds[check_id]["fail"]
        value, evidence = values[check_id]
        status = judge(float(value), warn, fail, check.worse)
        if check_id == "similarity_agreement" and r is None:
            status = "warn"
        limits = limits_text(check, warn, fail)
        out.append(Finding(check_id, check.title, status, float(value), fail, warn, check.worse,
                           f"{evidence} ({limits}): {status}."))
    return out


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
    agreement = measure_agreement(unit_a, unit_b, a.labels, options.near_duplicate_threshold, compare,
                                  options.tile_size, options.workers if options.runner != "loop" else 1, progress)
    clock.lap("agreement")
    thresholds = merge_compare_thresholds(compare.thresholds)
    judged = evaluate_comparison(result_a, result_b, chosen, agreement, thresholds)
    counts = {s: sum(f.status == s for f in judged) for s in ("pass", "warn", "fail")}
    status = max((f.status for f in judged), key=STATUS_ORDER.__getitem__, default="pass")
    return Comparison(
        tool={"name": "simreport", "version": __version__},
        environment={"python": platform.python_version(), "numpy": np.__version__,
                     "platform": platform.platform(terse=True)},
        title=title or options.title,
        names=chosen,
        input={"path": a.source if a.source == b.source else f"{a.source} / {b.source}", "n": a.n,
               "labels": a.label_source},
        results=[result_a.to_dict(), result_b.to_dict()],
        agreement=agreement,
        parameters={"neighbours": agreement["neighbours"]["k"], "listed_pairs": compare.listed_pairs,
                    "listed_records": compare.listed_records, "joint_bins": JOINT_BINS,
                    "near_duplicate_threshold": options.near_duplicate_threshold,
                    "tile_size": options.tile_size, "workers": options.workers, "thresholds": thresholds},
        findings_data=[f.to_dict() for f in judged],
        summary={"status": status, "counts": counts,
                 "models": [result_a.summary["status"], result_b.summary["status"]]},
        created=created_timestamp(),
        duration_seconds=clock.seconds(),
        timings=clock.timings(),
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
            where = None if cache is None else Path(str(cache) + f".{slot}.embeddings.npy")
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
