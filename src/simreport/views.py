"""Which records the heatmap shows, and in what order.

At most ``display_cap`` records are drawn. When every record fits, all are shown;
otherwise every record of the pairs the report lists (near-duplicate pairs, then nearly
opposite and opposed pairs) is included first and a seeded random sample fills the rest.
The shown records are ordered by hierarchical clustering (average linkage, optimal leaf
order) unless input order is asked for.
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
    near_duplicate_items: int  # how many shown rows were included as records of listed near-duplicate pairs
    sampled_items: int  # how many shown rows were drawn at random
    description: str  # one sentence for the report
    opposed_items: int = 0  # how many shown rows were included as records of listed opposed pairs


def pick_rows(n: int, listed: list[list[tuple[int, int]]], cap: int, seed: int) -> tuple[list[int], list[int]]:
    """Rows to show (input order) and how many came from each list of listed pairs.

    Every record of every listed pair comes first, list by list, while the cap allows; a
    seeded random sample of the other records fills the rest.
    """
    if n <= cap:
        return list(range(n)), [0] * len(listed)
    chosen: list[int] = []
    seen: set[int] = set()
    taken = []
    for pairs in listed:
        before = len(chosen)
        for i, j in pairs:
            for k in (i, j):
                if k not in seen and len(chosen) < cap:
                    seen.add(k)
                    chosen.append(k)
        taken.append(len(chosen) - before)
    rng = np.random.default_rng(seed)
    rest = np.setdiff1d(np.arange(n), np.fromiter(seen, dtype=np.int64, count=len(seen)))
    sample = rng.choice(rest, size=cap - len(chosen), replace=False)
    return sorted(chosen + sample.tolist()), taken


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
               cap: int = 300, order: str = "cluster", seed: int = 0,
               opposed_pairs: list[tuple[int, int, float]] | None = None) -> HeatmapView:
    """Choose, compute and order the heatmap block. ``top_pairs``: the listed near-duplicate
    pairs (only those at or above ``threshold`` are used); ``opposed_pairs``: the listed
    opposed pairs."""
    if order not in ("cluster", "input"):
        raise ValueError(f"unknown heatmap order {order!r}; use cluster or input")
    n = unit.shape[0]
    near = [(i, j) for i, j, s in top_pairs if s >= np.float32(threshold)]
    opposed = [(i, j) for i, j, _ in (opposed_pairs or [])]
    rows, (from_pairs, from_opposed) = pick_rows(n, [near, opposed], cap, seed)
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
        sampled = len(rows) - from_pairs - from_opposed
        listed = [f"{_records(from_pairs)} of the listed near-duplicate pairs (at or above {threshold:.3f})"]
        if opposed:
            listed.append(f"{_records(from_opposed)} of the listed opposed pairs")
        description = (
            f"The records view shows {len(rows):,} of {n:,} records (display cap {cap:,}): first the "
            f"{' and the '.join(listed)}, then {_records(sampled)} drawn at random (seed {seed}), {order_text}. "
            "The statistics cover all records; the picture does not.")
        selection = "subset"
    return HeatmapView(indices=[int(r) for r in rows], values=values.astype(np.float32), selection=selection,
                       order=order, near_duplicate_items=from_pairs,
                       sampled_items=len(rows) - from_pairs - from_opposed, description=description,
                       opposed_items=from_opposed)


def _records(k: int) -> str:
    return f"{k:,} record" if k == 1 else f"{k:,} records"
