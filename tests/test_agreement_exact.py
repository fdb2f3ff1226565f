"""The comparison's agreement pass is exact: neighbour lists and overlaps, one-sided near-duplicate
pairs, the joint histogram and the correlation equal a brute-force reference (tests/exactness.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exactness import embedding_inputs, reference_agreement, scaled, tiled_similarities
from simreport.agreement import JOINT_BINS, agreement_pass, cross_moments, measure_agreement
from simreport.engine import normalise_rows


@st.composite
def model_pairs(draw):
    """Two models' embeddings of the same n records (the second partly derived from the first)."""
    x, tile = draw(embedding_inputs(max_n=200, max_tiles=200))
    n, d = x.shape
    relation = draw(st.sampled_from(["independent", "same", "noisy", "negated-rows"]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if relation == "independent":
        y = rng.standard_normal((n, int(rng.integers(1, 65))))
    elif relation == "same":
        y = x.astype(np.float64).copy()
    elif relation == "noisy":
        y = x.astype(np.float64) + 0.05 * rng.standard_normal((n, d))
    else:
        y = x.astype(np.float64).copy()
        flip = rng.random(n) < 0.3
        y[flip] = -y[flip]
    y = y.astype(np.float32)
    zero = ~np.any(y != 0, axis=1)
    y[zero, 0] = 1
    unit_a, unit_b = normalise_rows(x), normalise_rows(y)
    sim_a, sim_b = tiled_similarities(unit_a, tile), tiled_similarities(unit_b, tile)
    values = np.unique(np.concatenate([sim_a[np.triu_indices(n, 1)], sim_b[np.triu_indices(n, 1)]]))
    threshold = draw(st.one_of(st.sampled_from(values.tolist()), st.sampled_from([0.5, 0.9, 0.95])))
    k = draw(st.integers(1, max(1, n + 1)))
    cap = draw(st.integers(1, 12))
    workers = draw(st.integers(1, 4))
    return unit_a, unit_b, sim_a, sim_b, tile, threshold, k, cap, workers


@settings(max_examples=scaled(60))
@given(model_pairs())
def test_agreement_pass_matches_brute_force(case):
    unit_a, unit_b, sim_a, sim_b, tile, threshold, k, cap, workers = case
    n = unit_a.shape[0]
    partial = agreement_pass(unit_a, unit_b, k, threshold, cap, tile_size=tile, workers=workers)
    ref = reference_agreement(sim_a, sim_b, k, threshold, cap, JOINT_BINS)
    for name in ("a", "b"):
        np.testing.assert_array_equal(getattr(partial, f"best_i_{name}"), ref[f"best_i_{name}"])
        np.testing.assert_array_equal(getattr(partial, f"best_s_{name}"), ref[f"best_s_{name}"])
    np.testing.assert_array_equal(partial.joint, ref["joint"])
    assert int(partial.joint.sum()) == n * (n - 1) // 2
    assert partial.both == ref["both"]
    assert (partial.only_a.count, partial.only_b.count) == (ref["only_a"], ref["only_b"])
    assert partial.only_a.rows() == ref["only_a_pairs"]
    assert partial.only_b.rows() == ref["only_b_pairs"]
    np.testing.assert_allclose(partial.sums, ref["sums"], rtol=1e-9, atol=1e-9)
    bands = -(-n // tile)
    assert partial.tiles == bands * (bands + 1) // 2


@settings(max_examples=scaled(40))
@given(model_pairs(), st.integers(1, 12), st.integers(1, 8))
def test_measured_agreement_matches_brute_force(case, neighbours, listed):
    unit_a, unit_b, sim_a, sim_b, tile, threshold, _, cap, workers = case
    n = unit_a.shape[0]
    labels = [f"r{r}" for r in range(n)]
    got = measure_agreement(unit_a, unit_b, labels, threshold, neighbours=neighbours, listed_pairs=cap,
                            listed_records=listed, tile_size=tile, workers=workers)
    k = max(1, min(neighbours, n - 1))
    ref = reference_agreement(sim_a, sim_b, k, threshold, cap, JOINT_BINS)
    shared = np.array([len(set(ref["best_i_a"][r]) & set(ref["best_i_b"][r])) for r in range(n)])
    nb = got["neighbours"]
    assert nb["k"] == k
    assert nb["mean_overlap"] == pytest.approx(shared.mean() / k, abs=1e-12)
    assert nb["median_overlap"] == pytest.approx(float(np.median(shared)) / k, abs=1e-12)
    assert nb["distribution"] == np.bincount(shared, minlength=k + 1).tolist()
    assert nb["no_overlap"] == int((shared == 0).sum())
    same = ref["best_i_a"][:, 0] == ref["best_i_b"][:, 0]
    assert nb["same_nearest"] == int(same.sum())
    worst = sorted(range(n), key=lambda r: (shared[r], r))[:listed]
    assert [row["i"] for row in nb["least_agreeing"]] == worst
    assert [row["overlap"] for row in nb["least_agreeing"]] == [int(shared[r]) for r in worst]
    assert [row["nearest_a"] for row in nb["least_agreeing"]] == [int(ref["best_i_a"][r, 0]) for r in worst]
    assert [row["nearest_b"] for row in nb["least_agreeing"]] == [int(ref["best_i_b"][r, 0]) for r in worst]
    nd = got["near_duplicates"]
    assert (nd["both"], nd["only_a"], nd["only_b"]) == (ref["both"], ref["only_a"], ref["only_b"])
    union = ref["both"] + ref["only_a"] + ref["only_b"]
    assert nd["jaccard"] == (ref["both"] / union if union else None)
    assert [(p["i"], p["j"]) for p in nd["only_a_pairs"]] == [(i, j) for i, j, _, _ in ref["only_a_pairs"]]
    assert [(p["i"], p["j"]) for p in nd["only_b_pairs"]] == [(i, j) for i, j, _, _ in ref["only_b_pairs"]]
    assert [p["similarity_b"] for p in nd["only_b_pairs"]] == [round(s, 6) for _, _, s, _ in ref["only_b_pairs"]]
    assert np.array_equal(np.array(got["joint_histogram"]["counts"]).ravel(), ref["joint"])
    # the exact correlation (float64 Gram identities) against the float32 similarities' own
    exact = cross_moments(unit_a, unit_b)
    a64 = sim_a[np.triu_indices(n, 1)].astype(np.float64)
    b64 = sim_b[np.triu_indices(n, 1)].astype(np.float64)
    assert exact["pairs"] == got["pairs"] == n * (n - 1) // 2
    assert exact["mean_a"] == pytest.approx(a64.mean(), abs=1e-6)
    assert exact["mean_b"] == pytest.approx(b64.mean(), abs=1e-6)
    assert exact["std_a"] == pytest.approx(a64.std(), abs=1e-6)
    assert exact["std_b"] == pytest.approx(b64.std(), abs=1e-6)
    assert exact["covariance"] == pytest.approx(np.mean(a64 * b64) - a64.mean() * b64.mean(), abs=1e-6)
    assert got["correlation"]["covariance"] == exact["covariance"]
    if ref["pearson"] is None or min(exact["std_a"], exact["std_b"]) < 1e-3:
        return  # (nearly) constant similarities: the correlation is not defined, or ill-conditioned
    assert got["correlation"]["pearson"] == pytest.approx(ref["pearson"], abs=1e-4)
    assert got["correlation"]["tile_pass_pearson"] == pytest.approx(ref["pearson"], abs=1e-6)


def test_constant_similarities_have_no_correlation():
    """One model puts every record in the same place: no correlation (not a division by zero)."""
    rng = np.random.default_rng(4)
    same = normalise_rows(np.ones((6, 3), dtype=np.float32))
    other = normalise_rows(rng.standard_normal((6, 3)).astype(np.float32))
    labels = [str(r) for r in range(6)]
    for a, b in ((same, other), (other, same)):
        got = measure_agreement(a, b, labels, 0.9, neighbours=2, listed_pairs=3, listed_records=2, tile_size=4,
                                workers=1)
        assert got["correlation"]["tile_pass_pearson"] is None


@pytest.mark.parametrize("neighbours", [2, 9])
def test_the_whole_agreement_record_on_a_small_case(neighbours):
    """Six records on two models, every key of the comparison's agreement data against the brute force
    (a label of 250 characters is cut to 200, the last an ellipsis)."""
    ang_a = np.array([0.0, 0.05, 0.1, 1.0, 1.02, 1.03])
    ang_b = np.array([0.0, 0.9, 0.12, 1.0, 1.01, 2.0])
    unit_a = normalise_rows(np.stack([np.cos(ang_a), np.sin(ang_a)], 1).astype(np.float32))
    unit_b = normalise_rows(np.stack([np.cos(ang_b), np.sin(ang_b), 0 * ang_b + 0.1], 1).astype(np.float32))
    labels = [f"r{r}" for r in range(5)] + ["x" * 250]
    short = labels[:5] + ["x" * 199 + "\u2026"]
    got = measure_agreement(unit_a, unit_b, labels, 0.99, neighbours=neighbours, listed_pairs=3, listed_records=4,
                            tile_size=4, workers=2)
    k = min(neighbours, 5)  # at most n - 1 neighbours
    ref = reference_agreement(tiled_similarities(unit_a, 4), tiled_similarities(unit_b, 4), k, 0.99, 3, JOINT_BINS)
    shared = np.array([len(set(ref["best_i_a"][r]) & set(ref["best_i_b"][r])) for r in range(6)])
    same = ref["best_i_a"][:, 0] == ref["best_i_b"][:, 0]
    worst = sorted(range(6), key=lambda r: (shared[r], r))[:4]
    union = ref["both"] + ref["only_a"] + ref["only_b"]
    exact = cross_moments(unit_a, unit_b)
    assert got["correlation"]["tile_pass_pearson"] == pytest.approx(exact["pearson"], abs=1e-6)
    assert exact["pearson"] == pytest.approx(ref["pearson"], abs=1e-5)
    expected = {
        "pairs": 15,
        "correlation": {"pearson": exact["pearson"], "covariance": exact["covariance"],
                        "method": "exact, from the models' Gram and cross-Gram matrices (float64)",
                        "tile_pass_pearson": got["correlation"]["tile_pass_pearson"]},
        "neighbours": {
            "k": k, "mean_overlap": float(shared.mean() / k), "median_overlap": float(np.median(shared) / k),
            "same_nearest": int(same.sum()), "same_nearest_share": float(same.mean()),
            "no_overlap": int((shared == 0).sum()), "distribution": np.bincount(shared, minlength=k + 1).tolist(),
            "least_agreeing": [{
                "i": r, "label": short[r], "overlap": int(shared[r]),
                "nearest_a": int(ref["best_i_a"][r, 0]), "label_a": short[ref["best_i_a"][r, 0]],
                "similarity_a": round(float(ref["best_s_a"][r, 0]), 6),
                "nearest_b": int(ref["best_i_b"][r, 0]), "label_b": short[ref["best_i_b"][r, 0]],
                "similarity_b": round(float(ref["best_s_b"][r, 0]), 6)} for r in worst],
        },
        "near_duplicates": {
            "threshold": 0.99, "both": ref["both"], "only_a": ref["only_a"], "only_b": ref["only_b"],
            "jaccard": ref["both"] / union, "listed_cap": 3,
            "only_a_pairs": [{"i": i, "j": j, "label_i": short[i], "label_j": short[j],
                              "similarity_a": round(sa, 6), "similarity_b": round(sb, 6)}
                             for i, j, sa, sb in ref["only_a_pairs"]],
            "only_b_pairs": [{"i": i, "j": j, "label_i": short[i], "label_j": short[j],
                              "similarity_a": round(sa, 6), "similarity_b": round(sb, 6)}
                             for i, j, sb, sa in ref["only_b_pairs"]],
        },
        "joint_histogram": {"bins": 100, "range": [-1.0, 1.0], "counts": ref["joint"].reshape(100, 100).tolist()},
        "tiles": 3,
    }
    assert got == expected
    # the case is not degenerate: both one-model lists are full, and row 5's long label is listed
    assert (ref["only_a"], ref["only_b"]) >= (3, 1) and len(got["near_duplicates"]["only_a_pairs"]) == 3
    assert any(p["label_j"] == short[5] for p in got["near_duplicates"]["only_a_pairs"])
    assert 0 < got["neighbours"]["same_nearest"] < 6
    if neighbours == 2:
        assert got["neighbours"]["distribution"] == [1, 2, 3]  # overlaps of 0, 1 and 2 all occur


def test_an_exactly_constant_model_has_no_exact_correlation():
    """Every record at [1, 0]: every similarity is exactly 1, the standard deviation exactly 0, and
    the exact correlation is undefined (None) whichever side the constant model is on."""
    rng = np.random.default_rng(5)
    same = normalise_rows(np.tile(np.array([[1.0, 0.0]], dtype=np.float32), (6, 1)))
    other = normalise_rows(rng.standard_normal((6, 3)).astype(np.float32))
    for a, b in ((same, other), (other, same)):
        got = cross_moments(a, b)
        assert 0.0 in (got["std_a"], got["std_b"]) and got["pearson"] is None and got["covariance"] == 0.0
        measured = measure_agreement(a, b, [str(r) for r in range(6)], 0.9, neighbours=2, listed_pairs=3,
                                     listed_records=2, tile_size=4, workers=1)
        assert measured["correlation"]["pearson"] is None and measured["correlation"]["tile_pass_pearson"] is None
    assert cross_moments(other, other)["pearson"] == pytest.approx(1.0, abs=1e-9)
    assert cross_moments(other, other)["pearson"] <= 1.0


def test_one_model_pairs_keep_the_most_different_and_break_ties_by_index():
    from simreport.agreement import PairList

    def arrays(rows):
        i, j, s, o = zip(*rows, strict=True)
        return np.array(i), np.array(j), np.array(s, np.float32), np.array(o, np.float32)

    pairs = PairList(cap=3)
    pairs.add(*arrays([(5, 6, 0.99, 0.5), (1, 7, 0.98, 0.5), (2, 3, 0.97, 0.5), (0, 9, 0.99, 0.5), (4, 8, 0.96, 0.9)]))
    assert pairs.count == 5
    assert [(i, j) for i, j, _, _ in pairs.rows()] == [(0, 9), (5, 6), (1, 7)]  # most different first; ties: i, j
    assert pairs.rows()[0] == (0, 9, float(np.float32(0.99)), 0.5)
    pairs.add(*(np.zeros(0, np.int64),) * 2, *(np.zeros(0, np.float32),) * 2)
    assert pairs.count == 5
    other = PairList(cap=3)
    other.add(*arrays([(0, 1, 0.99, 0.3)]))
    pairs.merge(other)
    assert pairs.count == 6 and [(i, j) for i, j, _, _ in pairs.rows()] == [(0, 1), (0, 9), (5, 6)]
    tied = PairList(cap=2)  # three pairs tied at the cap: all kept through the cut, then the smallest indices
    tied.add(*arrays([(7, 8, 0.9, 0.1), (3, 9, 0.9, 0.1), (3, 4, 0.9, 0.1), (1, 2, 0.5, 0.4)]))
    assert tied.count == 4 and [(i, j) for i, j, _, _ in tied.rows()] == [(3, 4), (3, 9)]


def test_similarities_constant_up_to_rounding_have_no_correlation():
    """Every record at one point up to float32 rounding: the standard deviation (about 1e-8) is
    rounding, so the correlation is undefined rather than a number made of noise, and the
    comparison's agreement check warns instead of judging it."""
    from simreport.compare import compare_models

    rng = np.random.default_rng(3)
    base = rng.standard_normal(16).astype(np.float32)
    near = base + (rng.standard_normal((40, 16)) * 1e-6).astype(np.float32)
    other = rng.standard_normal((40, 16)).astype(np.float32)
    got = cross_moments(normalise_rows(near), normalise_rows(other))
    assert 0 < got["std_a"] < 1e-6 and got["pearson"] is None
    comparison = compare_models(near, other)
    assert comparison.agreement["correlation"]["pearson"] is None
    assert comparison.agreement["correlation"]["tile_pass_pearson"] is None
    finding = next(f for f in comparison.findings_data if f["id"] == "similarity_agreement")
    assert finding["status"] == "warn" and "within float32 rounding" in finding["message"]
    # the file, read back (render, verify), agrees with itself: the warning is the rule's, not a threshold's
    from simreport.results import checked_document

    again = checked_document(json.loads(comparison.to_json()), "c.json")
    assert again.summary == comparison.summary and again.findings_data == comparison.findings_data
