"""Which records the heatmap shows, and in what order.

At most ``display_cap`` records are drawn. When every record fits, all are shown;
otherwise the items of the top near-duplicate pairs are always included and a seeded
random sample fills the rest. The shown records are ordered by hierarchical
clustering (average linkage, optimal leaf order) unless input order is asked for.
The similarity values of the shown block are computed here, exactly, from the unit
vectors: a small (m x m) product, never the full matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class HeatmapView:
    """The block of the similarity matrix the report draws."""

    indices: list[int]  # input row numbers, in display order
    values: np.ndarray  # (m, m) float32 similarities, in display order
    selection: str  # "all" or "subset"
    order: str  # "cluster" or "input"
    near_duplicate_items: int  # how many shown rows were included as near-duplicate items
    sampled_items: int  # how many shown rows were drawn at random
    description: str  # one sentence for the report


def pick_rows(n: int, top_pairs: list[tuple[int, int, float]], threshold: float, cap: int,
              seed: int) -> tuple[list[int], int]:
    """Rows to show (input order) and how many of them came from near-duplicate pairs."""
    if n <= cap:
        return list(range(n)), 0
    chosen: list[int] = []
    seen: set[int] = set()
    for i, j, s in top_pairs:
        if s < threshold:
            break
        for k in (i, j):
            if k not in seen and len(chosen) < cap // 2:
                seen.add(k)
                chosen.append(k)
    from_pairs = len(chosen)
    rng = np.random.default_rng(seed)
    rest = np.setdiff1d(np.arange(n), np.fromiter(seen, dtype=np.int64, count=len(seen)))
    sample = rng.choice(rest, size=cap - from_pairs, replace=False)
    return sorted(chosen + sample.tolist()), from_pairs


def cluster_order(values: np.ndarray) -> np.ndarray:
    """Leaf order of average-linkage clustering on cosine distance (optimal leaf order)."""
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    m = values.shape[0]
    if m < 3:
        return np.arange(m)
    distance = np.clip(1.0 - values.astype(np.float64), 0.0, 2.0)
    distance = (distance + distance.T) / 2.0
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average", optimal_ordering=True)
    return leaves_list(tree)


def build_view(unit: np.ndarray, top_pairs: list[tuple[int, int, float]], threshold: float,
               cap: int = 300, order: str = "cluster", seed: int = 0) -> HeatmapView:
    """Choose, compute and order the heatmap block."""
    if order not in ("cluster", "input"):
        raise ValueError(f"unknown heatmap order {order!r}; use cluster or input")
    n = unit.shape[0]
    rows, from_pairs = pick_rows(n, top_pairs, threshold, cap, seed)
    block = unit[rows]
    values = block @ block.T
    if order == "cluster":
        perm = cluster_order(values)
        rows = [rows[k] for k in perm]
        values = values[np.ix_(perm, perm)]
    order_text = ("ordered by hierarchical clustering (average linkage on cosine distance, optimal leaf "
                  "order) so that similar records sit together" if order == "cluster"
                  else "in input order")
    if len(rows) == n:
        description = f"The heatmap shows all {n:,} records, {order_text}."
        selection = "all"
    else:
        description = (
            f"The heatmap shows {len(rows):,} of {n:,} records (display cap {cap:,}): the {from_pairs:,} records "
            f"in the most similar pairs at or above {threshold:.2f}, and {len(rows) - from_pairs:,} drawn at "
            f"random (seed {seed}), {order_text}. The statistics cover all records; the picture does not.")
        selection = "subset"
    return HeatmapView(indices=[int(r) for r in rows], values=values.astype(np.float32), selection=selection,
                       order=order, near_duplicate_items=from_pairs, sampled_items=len(rows) - from_pairs,
                       description=description)
