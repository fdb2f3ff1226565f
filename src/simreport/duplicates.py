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


def _vector_groups(unit: np.ndarray, rows: np.ndarray, ids: np.ndarray):
    """Group ``rows`` by byte-identical unit vectors (same similarity to every row).

    Returns the representative row of each group, its members (sorted), and, for each group,
    its single text id or -1 when its members carry several texts."""
    block = np.ascontiguousarray(unit[rows])
    keys = block.view(np.dtype((np.void, block.shape[1] * block.itemsize))).ravel()
    _, inverse = np.unique(keys, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")  # rows ascending inside each group
    sizes = np.bincount(inverse)
    members = np.split(rows[order], np.cumsum(sizes)[:-1])
    first = np.array([m[0] for m in members], dtype=np.int64)
    texts = ids[rows[order]]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    low = np.minimum.reduceat(texts, starts)
    high = np.maximum.reduceat(texts, starts)
    pure = np.where(low == high, low, -1)
    return first, members, sizes.astype(np.int64), pure


def _text_counts(members: np.ndarray, ids: np.ndarray) -> dict[int, int]:
    values, counts = np.unique(ids[members], return_counts=True)
    return dict(zip(values.tolist(), counts.tolist(), strict=True))


def _distinct_pairs(p: np.ndarray, q: np.ndarray | None, ids: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """The ``limit`` smallest (i < j) pairs of different texts, i and j from the sorted member
    arrays ``p`` and ``q`` (one from each), or both from ``p`` when ``q`` is None."""
    out: list[tuple[int, int]] = []
    union = p if q is None else np.union1d(p, q)
    in_p = np.isin(union, p)
    for i, from_p in zip(union.tolist(), in_p.tolist(), strict=True):
        other = p if q is None else (q if from_p else p)
        partners = other[(other > i) & (ids[other] != ids[i])][: limit - len(out)]
        out.extend((i, int(j)) for j in partners)
        if len(out) >= limit:
            break
    return out


def near_duplicate_split(unit: np.ndarray, nn_similarity: np.ndarray, threshold: float, ids: np.ndarray,
                         top_k: int = 50, tile: int = 2048) -> dict:
    """Every pair at or above ``threshold``, split into same-text and distinct-text pairs, exactly, at any n.

    Only rows whose nearest neighbour reaches the threshold can be in such a pair. Among them,
    rows with byte-identical vectors have the same similarity to every row, so they are grouped
    (a hash sort of the row bytes) and the tiled float32 pass runs over one row per group; a
    pair of groups at or above the threshold stands for ``size_a * size_b`` record pairs, of
    which those sharing a text id are same-text pairs, and a group reaching the threshold with
    itself stands for its own pairs. Memory stays at one tile plus a few arrays of n; the
    time is at most that of the all-pairs pass over the candidate rows, and repeated records
    cost nothing extra.

    Returns counts, the records in at least one distinct-text pair, and the ``top_k``
    distinct-text pairs (most similar first; ties by row numbers).
    """
    t = np.float32(threshold)
    n = unit.shape[0]
    rows = np.flatnonzero(nn_similarity >= t)
    same = distinct = 0
    touched = np.zeros(n, dtype=bool)
    if rows.size == 0:
        return {"computed": True, "candidates": 0, "distinct_vectors": 0, "same_text_pairs": 0,
                "distinct_text_pairs": 0, "distinct_text_items": 0, "top": []}
    first, members, sizes, pure = _vector_groups(unit, rows, ids)
    group_touched = np.zeros(first.size, dtype=bool)  # every member in a distinct-text pair
    reps = unit[first]
    best: list[tuple] = []  # (-s, i, j, a, b): group pairs by their smallest distinct-text record pair

    def offer(a: int, b: int, s: float) -> None:
        pairs = _distinct_pairs(members[a], None if a == b else members[b], ids, 1)
        if pairs:
            best.append((-s, pairs[0][0], pairs[0][1], a, b))

    def mixed(a: int, b: int, s: float) -> None:
        """A pair of groups (or a group with itself) of which one holds several texts."""
        nonlocal same, distinct
        ca = _text_counts(members[a], ids)
        if a == b:
            total = int(sizes[a]) * (int(sizes[a]) - 1) // 2
            alike = sum(c * (c - 1) // 2 for c in ca.values())
            if len(ca) > 1:
                group_touched[a] = True
        else:
            cb = _text_counts(members[b], ids)
            total = int(sizes[a]) * int(sizes[b])
            alike = sum(c * cb.get(k, 0) for k, c in ca.items())
            for x, cx, y in ((a, ca, cb), (b, cb, ca)):
                if len(y) > 1:
                    group_touched[x] = True
                elif len(cx) > 1 or next(iter(cx)) != next(iter(y)):
                    only = next(iter(y))
                    touched[members[x][ids[members[x]] != only]] = True
        same += alike
        distinct += total - alike
        if total > alike:
            offer(a, b, s)

    m = first.size
    for a0 in range(0, m, tile):
        a1 = min(a0 + tile, m)
        for b0 in range(a0, m, tile):
            b1 = min(b0 + tile, m)
            block = reps[a0:a1] @ reps[b0:b1].T
            mask = block >= t
            if a0 == b0:
                for k in np.flatnonzero((np.diagonal(block) >= t) & (sizes[a0:a1] > 1)):
                    g = a0 + int(k)
                    if pure[g] >= 0:
                        same += int(sizes[g]) * (int(sizes[g]) - 1) // 2
                    else:
                        mixed(g, g, float(block[k, k]))
                mask &= np.triu(np.ones(mask.shape, dtype=bool), 1)
            ii, jj = np.nonzero(mask)
            ga, gb, s = a0 + ii, b0 + jj, block[ii, jj]
            simple = (pure[ga] >= 0) & (pure[gb] >= 0)
            alike = simple & (pure[ga] == pure[gb])
            cross = simple & ~alike
            weight = sizes[ga] * sizes[gb]
            same += int(weight[alike].sum())
            distinct += int(weight[cross].sum())
            group_touched[ga[cross]] = True
            group_touched[gb[cross]] = True
            ca, cb, cs = ga[cross], gb[cross], s[cross]
            fa, fb = first[ca], first[cb]
            lo, hi = np.minimum(fa, fb), np.maximum(fa, fb)
            keep = np.arange(cs.size)
            if cs.size > top_k:  # a tile may hold millions of pairs: only its most similar can be listed
                keep = np.flatnonzero(cs >= np.partition(cs, cs.size - top_k)[cs.size - top_k])
            keep = keep[np.lexsort((hi[keep], lo[keep], -cs[keep]))][:top_k]
            best.extend(zip((-cs[keep]).tolist(), lo[keep].tolist(), hi[keep].tolist(), ca[keep].tolist(),
                            cb[keep].tolist(), strict=True))
            for k in np.flatnonzero(~simple):
                mixed(int(ga[k]), int(gb[k]), float(s[k]))
            best = sorted(best)[:top_k]
    for g in np.flatnonzero(group_touched):
        touched[members[g]] = True
    listed = []
    for neg, _, _, a, b in best:
        listed += [(i, j, -neg) for i, j in _distinct_pairs(members[a], None if a == b else members[b], ids, top_k)]
    listed.sort(key=lambda p: (-p[2], p[0], p[1]))
    return {"computed": True, "candidates": int(rows.size), "distinct_vectors": int(m), "same_text_pairs": same,
            "distinct_text_pairs": distinct, "distinct_text_items": int(touched.sum()),
            "top": [(int(i), int(j), float(np.float32(v))) for i, j, v in listed[:top_k]]}


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
