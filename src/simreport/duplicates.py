"""Data versus model: repeated texts, and the exact pairs behind near-duplicate and
nearly-opposite findings.

The all-pairs pass counts pairs at or above the near-duplicate threshold and marks each
record's nearest neighbour. Both records of such a pair have a nearest neighbour at or
above the threshold, so every near-duplicate pair lies among those *candidate* rows; one
tiled pass over the candidates alone (float32 products, as in the engine) finds every such
pair exactly and tells pairs that repeat the same text (a data matter) from pairs of distinct
texts the model maps to nearly the same vector (a model matter). The same holds for pairs
at or below a defect level under the opposed threshold: both records are among the rows
the pass marked as opposed. Nothing here knows about findings or reports.
"""

from __future__ import annotations

import numpy as np

MAX_CANDIDATES = 30_000  # candidate rows beyond which the split is not computed (cost ~ rows^2 d)
LISTED_GROUPS = 20
ROWS_PER_GROUP = 12


def text_ids(texts: list[str]) -> np.ndarray:
    """For each record, the row of the first record with the same text."""
    first: dict[str, int] = {}
    return np.array([first.setdefault(t, k) for k, t in enumerate(texts)], dtype=np.int64)


def repeated_texts(texts: list[str], unit: np.ndarray, limit: int = LISTED_GROUPS) -> dict:
    """Counts of repeated texts and the largest groups (text, size, rows, whether their vectors agree)."""
    ids = text_ids(texts)
    sizes = np.bincount(ids, minlength=len(texts))
    firsts = np.flatnonzero(sizes > 1)
    rows = int(np.sum(sizes[firsts] - 1))
    order = sorted(firsts.tolist(), key=lambda f: (-int(sizes[f]), f))
    table = []
    for f in order[:limit]:
        members = np.flatnonzero(ids == f)
        sample = unit[members[:200]]
        sims = sample @ sample.T
        low = float(sims[np.triu_indices(len(sample), 1)].min()) if len(sample) > 1 else 1.0
        table.append({"text": texts[f], "size": int(sizes[f]), "rows": members[:ROWS_PER_GROUP].tolist(),
                      "identical_vectors": bool(np.all(unit[members] == unit[members[0]])),
                      "min_similarity": round(low, 6)})
    return {"rows": rows, "groups": int(firsts.size), "largest": int(sizes.max()) if len(texts) else 0,
            "listed": len(table), "table": table}


def identical_vectors_of_distinct_texts(groups: list[list[int]], ids: np.ndarray) -> tuple[int, int]:
    """(rows whose vector repeats an earlier row's vector for a different text, groups with such rows)."""
    rows = touched = 0
    for group in groups:
        distinct = len({int(ids[k]) for k in group})
        rows += distinct - 1
        touched += distinct > 1
    return rows, touched


def _tiles(rows: np.ndarray, tile: int):
    for a0 in range(0, rows.size, tile):
        for b0 in range(a0, rows.size, tile):
            yield a0, min(a0 + tile, rows.size), b0, min(b0 + tile, rows.size)


def _pairs_in_tile(unit: np.ndarray, rows: np.ndarray, a0: int, a1: int, b0: int, b1: int, keep):
    block = unit[rows[a0:a1]] @ unit[rows[b0:b1]].T
    mask = keep(block)
    if a0 == b0:
        mask &= np.triu(np.ones(mask.shape, dtype=bool), 1)
    ii, jj = np.nonzero(mask)
    return rows[a0 + ii], rows[b0 + jj], block[ii, jj]


def _best(current: tuple, new: tuple, k: int, highest: bool) -> tuple:
    i = np.concatenate([current[0], new[0]])
    j = np.concatenate([current[1], new[1]])
    s = np.concatenate([current[2], new[2]])
    order = np.lexsort((j, i, -s if highest else s))[:k]
    return i[order], j[order], s[order]


def _empty() -> tuple:
    return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)


def near_duplicate_split(unit: np.ndarray, nn_similarity: np.ndarray, threshold: float, ids: np.ndarray,
                         top_k: int = 50, tile: int = 2048, max_rows: int = MAX_CANDIDATES) -> dict:
    """Every pair at or above ``threshold``, split into same-text and distinct-text pairs.

    Returns counts, the records in at least one distinct-text pair, and the ``top_k``
    distinct-text pairs (most similar first; ties by row numbers).
    """
    t = np.float32(threshold)
    rows = np.flatnonzero(nn_similarity >= t)
    if rows.size > max_rows:
        return {"computed": False, "candidates": int(rows.size),
                "reason": f"{rows.size:,} records reach the threshold, more than the {max_rows:,} for which repeated "
                          "texts are separated from distinct ones; all of them are counted against the model"}
    same = distinct = 0
    touched = np.zeros(unit.shape[0], dtype=bool)
    best = _empty()
    for a0, a1, b0, b1 in _tiles(rows, tile):
        i, j, s = _pairs_in_tile(unit, rows, a0, a1, b0, b1, lambda b: b >= t)
        is_same = ids[i] == ids[j]
        same += int(is_same.sum())
        d = ~is_same
        distinct += int(d.sum())
        touched[i[d]] = True
        touched[j[d]] = True
        best = _best(best, (i[d], j[d], s[d]), top_k, highest=True)
    return {"computed": True, "candidates": int(rows.size), "same_text_pairs": same, "distinct_text_pairs": distinct,
            "distinct_text_items": int(touched.sum()),
            "top": [(int(a), int(b), float(c)) for a, b, c in zip(*best, strict=True)]}


def opposed_defects(unit: np.ndarray, opposed_rows: np.ndarray, threshold: float, keep: int = 10,
                    tile: int = 2048) -> dict:
    """Every pair at or below ``threshold`` (which must not exceed the pass's opposed threshold):
    count, records involved, and the ``keep`` lowest pairs."""
    t = np.float32(threshold)
    rows = np.asarray(opposed_rows, dtype=np.int64)
    pairs = 0
    touched = np.zeros(unit.shape[0], dtype=bool)
    lowest = _empty()
    for a0, a1, b0, b1 in _tiles(rows, tile):
        i, j, s = _pairs_in_tile(unit, rows, a0, a1, b0, b1, lambda b: b <= t)
        pairs += int(i.size)
        touched[i] = True
        touched[j] = True
        lowest = _best(lowest, (i, j, s), keep, highest=False)
    return {"threshold": float(threshold), "pairs": pairs, "items": int(touched.sum()),
            "lowest": [(int(a), int(b), float(c)) for a, b, c in zip(*lowest, strict=True)]}
