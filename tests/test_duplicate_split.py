"""The data/model split of near-duplicates is exact at any n (issue 9): repeated texts against
distinct texts, checked pair by pair against brute force, and above the old 30,000-row limit."""

from __future__ import annotations

import numpy as np
import pytest

import simreport
from simreport.duplicates import near_duplicate_split, text_ids


def unit_rows(n: int, d: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute_force(unit: np.ndarray, ids: np.ndarray, t: float, top_k: int) -> dict:
    """Every pair of the full float64 matrix (small n only); thresholds are kept far from any
    similarity present, so float32 rounding cannot move a pair across them."""
    sims = unit.astype(np.float64) @ unit.astype(np.float64).T
    i, j = np.triu_indices(len(unit), 1)
    hit = sims[i, j] >= t
    i, j, s = i[hit], j[hit], sims[i, j][hit]
    alike = ids[i] == ids[j]
    touched = np.zeros(len(unit), dtype=bool)
    touched[i[~alike]] = touched[j[~alike]] = True
    order = np.lexsort((j[~alike], i[~alike], -np.round(s[~alike], 5)))[:top_k]
    return {"same": int(alike.sum()), "distinct": int((~alike).sum()), "items": int(touched.sum()),
            "top": sorted(zip(i[~alike][order].tolist(), j[~alike][order].tolist(), strict=True))}


def planted(seed: int, n: int = 240, d: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Repeated texts with the same vector, repeated texts with different vectors, distinct
    texts sharing one vector (mixed groups), and paraphrases at about 0.99."""
    rng = np.random.default_rng(seed)
    x = unit_rows(n, d, seed)
    texts = [f"text {k}" for k in range(n)]
    for _ in range(30):  # repeated text, same vector; some groups of three or four
        a, b = rng.choice(n, 2, replace=False)
        texts[b], x[b] = texts[a], x[a]
    for _ in range(6):  # distinct texts, byte-identical vectors (groups holding several texts)
        a, b = rng.choice(n, 2, replace=False)
        x[b] = x[a]
    for _ in range(8):  # paraphrases: distinct texts, nearly the same vector
        a, b = rng.choice(n, 2, replace=False)
        y = x[a] + 0.05 * unit_rows(1, d, seed + 1000 + int(a))[0]
        x[b] = y / np.linalg.norm(y)
    for _ in range(4):  # the same text with a different vector
        a, b = rng.choice(n, 2, replace=False)
        texts[b] = texts[a]
    return x, text_ids(texts)


@pytest.mark.parametrize("seed", range(8))
def test_split_matches_brute_force_pair_by_pair(seed):
    x, ids = planted(seed)
    sims = x @ x.T
    np.fill_diagonal(sims, -2.0)
    t = 0.97
    expected = brute_force(x, ids, t, top_k=20)
    got = near_duplicate_split(x, sims.max(axis=1), t, ids, top_k=20, tile=32)
    assert got["computed"] and got["candidates"] == int((sims.max(axis=1) >= np.float32(t)).sum())
    assert (got["same_text_pairs"], got["distinct_text_pairs"], got["distinct_text_items"]) == (
        expected["same"], expected["distinct"], expected["items"])
    assert sorted((i, j) for i, j, _ in got["top"]) == expected["top"]
    assert got["distinct_vectors"] < got["candidates"]  # the repeated vectors were grouped


def test_split_is_exact_above_the_old_30000_row_limit():
    """32,080 records whose nearest neighbour reaches the threshold (the old code gave up above
    30,000 and counted every pair against the model): 16,000 texts each present twice with the
    same vector, and 80 paraphrases, each close to both copies of one text."""
    base = unit_rows(16_040, 32, 5)
    texts = [f"verse {k}" for k in range(16_000)] * 2
    x = np.concatenate([base[:16_000], base[:16_000]])
    noise = unit_rows(80, 32, 6)
    para = []
    for k in range(80):
        y = base[k] + 0.05 * noise[k]
        para.append(y / np.linalg.norm(y))
        texts.append(f"verse {k}, reworded")
    x = np.concatenate([x, np.array(para, dtype=np.float32)])
    result = simreport.run_test(x, texts=texts, opposed_threshold=-0.9)  # keeps the opposed pass short at d = 32
    split = result.near_duplicates["split"]
    assert split["computed"] and split["candidates"] == 32_080
    assert split["same_text_pairs"] == 16_000
    assert split["distinct_text_pairs"] == 160  # each paraphrase with both copies of its text
    assert split["distinct_text_items"] == 80 + 160
    assert split["same_text_pairs"] + split["distinct_text_pairs"] == result.near_duplicates["pairs"]
    found = {f.id: f for f in result.findings}
    near = found["near_duplicate_share"]
    assert near.subject == "model" and near.value == pytest.approx(240 / 32_080)
    assert "repeat the same text" in near.message and "could not be separated" not in near.message
    assert found["duplicate_texts"].count == 16_000
    listed = result.near_duplicates["distinct_text_top"]
    assert len(listed) == 50 and all(p["label_j"].endswith("reworded") for p in listed)
