"""The agreement pass of a comparison: how much two models on the same records agree, over
all n(n-1)/2 pairs, without any similarity matrix.

* The Pearson correlation of the two models' similarities, exactly: with U and V the unit
  vectors of the two models, sum over pairs of s_U s_V = (|U^T V|_F^2 - sum_i |u_i|^2 |v_i|^2) / 2,
  and each model's sums and sums of squares come from its own Gram identity
  (:func:`cross_moments`).
* One tiled pass over both models (the engine's tiles and threads, float32 products,
  single-threaded BLAS) that keeps each record's k nearest neighbours under each model
  (ties go to the smaller row number), the pairs that reach the near-duplicate threshold
  under one model but not the other (all counted; the most different ones listed, up to a
  cap), a joint histogram of the two similarities, and the same sums again as a cross-check
  (:func:`agreement_pass`). Its numba kernels are in :mod:`simreport.kernels`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from simreport.config import default
from simreport.engine import band_tiles, exact_moments, thread_tasks
from simreport.inputs import short_label
from simreport.runners import on_threads

JOINT_BINS = 100  # per axis over [-1, 1]: cells 0.02 wide


# A standard deviation of similarities at or below this is float32 rounding, not spread: similarities
# of float32 unit vectors are resolved to about 1e-7, and a correlation computed from such a
# "spread" is noise (a model with every record at one point up to rounding gave -0.02).
SPREAD_RESOLUTION = 1e-6


def cross_moments(unit_a: np.ndarray, unit_b: np.ndarray, chunk: int = 8192) -> dict:
    """Means, standard deviations, covariance and Pearson correlation of the two models'
    similarities over all pairs i < j, exactly (float64), from Gram identities only. The
    correlation is None (undefined) when either standard deviation is at most SPREAD_RESOLUTION."""
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
    pearson = cov / (std_a * std_b) if min(std_a, std_b) > SPREAD_RESOLUTION else None
    if pearson is not None:
        pearson = float(min(max(pearson, -1.0), 1.0))
    return {"pairs": int(n * (n - 1) // 2), "mean_a": mean_a, "std_a": std_a, "mean_b": mean_b, "std_b": std_b,
            "covariance": cov, "pearson": pearson}


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
        from simreport.kernels import topk_tile

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
        from simreport.kernels import merge_topk

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
            rows_a = unit_a[band * tile_size:(band + 1) * tile_size]
            rows_b = unit_b[band * tile_size:(band + 1) * tile_size]
            for r0, c0 in band_tiles(n, band, tile_size):
                partial.add_tile(rows_a @ unit_a[c0:c0 + tile_size].T, rows_b @ unit_b[c0:c0 + tile_size].T,
                                 r0, c0, t)
                tick()

    partials = on_threads(thread_tasks(n, tile_size), workers, lambda: AgreementPartial.empty(n, k, cap), run_one,
                          progress)
    total = partials[0]
    for other in partials[1:]:
        total.merge(other)
    return total


def _overlap(best_a: np.ndarray, best_b: np.ndarray) -> np.ndarray:
    """Per record: how many of its k neighbours both models share."""
    return (best_a[:, :, None] == best_b[:, None, :]).any(axis=2).sum(axis=1)


def _pair_rows(pairs: list[tuple[int, int, float, float]], labels: list[str], first_is_a: bool) -> list[dict]:
    rows = []
    for i, j, s_self, s_other in pairs:
        s_a, s_b = (s_self, s_other) if first_is_a else (s_other, s_self)
        rows.append({"i": i, "j": j, "label_i": short_label(labels[i]), "label_j": short_label(labels[j]),
                     "similarity_a": round(s_a, 6), "similarity_b": round(s_b, 6)})
    return rows


def measure_agreement(unit_a: np.ndarray, unit_b: np.ndarray, labels: list[str], threshold: float, *,
                      neighbours: int, listed_pairs: int, listed_records: int,
                      tile_size: int = default("engine", "tile_size"), workers: int = default("engine", "workers"),
                      progress: Callable[[int], None] | None = None) -> dict:
    """Every agreement number of the comparison, as plain JSON-able data: ``neighbours`` per
    record compared, at most ``listed_pairs`` one-model near-duplicates and ``listed_records``
    least-agreeing records listed."""
    n = unit_a.shape[0]
    k = max(1, min(neighbours, n - 1))
    exact = cross_moments(unit_a, unit_b)
    partial = agreement_pass(unit_a, unit_b, k, threshold, listed_pairs, tile_size, workers, progress)
    pairs = n * (n - 1) // 2
    sa, sb, saa, sbb, sab = (float(v) for v in partial.sums)
    mean_a, mean_b = sa / pairs, sb / pairs
    var_a, var_b = saa / pairs - mean_a ** 2, sbb / pairs - mean_b ** 2
    spread = SPREAD_RESOLUTION ** 2
    tile_r = ((sab / pairs - mean_a * mean_b) / math.sqrt(var_a * var_b)) if min(var_a, var_b) > spread else None
    overlap = _overlap(partial.best_i_a, partial.best_i_b)
    same_nearest = partial.best_i_a[:, 0] == partial.best_i_b[:, 0]
    worst = np.lexsort((np.arange(n), overlap))[: listed_records]
    records = [{
        "i": int(r), "label": short_label(labels[r]), "overlap": int(overlap[r]),
        "nearest_a": int(partial.best_i_a[r, 0]), "label_a": short_label(labels[partial.best_i_a[r, 0]]),
        "similarity_a": round(float(partial.best_s_a[r, 0]), 6),
        "nearest_b": int(partial.best_i_b[r, 0]), "label_b": short_label(labels[partial.best_i_b[r, 0]]),
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
            "listed_cap": listed_pairs,
            "only_a_pairs": _pair_rows(partial.only_a.rows(), labels, True),
            "only_b_pairs": _pair_rows(partial.only_b.rows(), labels, False),
        },
        "joint_histogram": {"bins": JOINT_BINS, "range": [-1.0, 1.0],
                            "counts": partial.joint.reshape(JOINT_BINS, JOINT_BINS).tolist()},
        "tiles": partial.tiles,
    }
