"""The torch engine (CPU here; CUDA where present) against the numba engine and brute force:
float32 results identical, screening (bfloat16 with exact re-checks) exact where it must be."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import planted_embeddings
from exactness import scaled
from simreport import engine, runners, torch_engine
from simreport.engine import EngineSettings

EXACT_FIELDS = ("threshold_counts", "near_duplicate_pairs", "near_duplicate_items", "opposed_pairs",
                "opposed_items", "nn_above_threshold", "tiles", "pairs", "identical_rows")


def run(x: np.ndarray, runner: str, **kw) -> engine.SimilarityStats:
    return runners.compute(x, EngineSettings(runner=runner, **kw))


def assert_same(a: engine.SimilarityStats, b: engine.SimilarityStats, value_tol: float = 2e-6) -> None:
    """Counts, pair lists, nearest neighbours, min and max identical (values to float32 rounding)."""
    for name in EXACT_FIELDS:
        assert getattr(a, name) == getattr(b, name), name
    for name in ("top_pairs", "lowest_pairs"):
        pa, pb = getattr(a, name), getattr(b, name)
        assert [p[:2] for p in pa] == [p[:2] for p in pb], name
        assert np.allclose([p[2] for p in pa], [p[2] for p in pb], atol=value_tol, rtol=0), name
    assert (a.nn_index == b.nn_index).all()
    assert np.allclose(a.nn_similarity, b.nn_similarity, atol=value_tol, rtol=0)
    assert a.min == pytest.approx(b.min, abs=value_tol)
    assert a.max == pytest.approx(b.max, abs=value_tol)
    assert a.mean == pytest.approx(b.mean, abs=1e-9) and a.std == pytest.approx(b.std, abs=1e-9)
    assert int(b.hist_counts.sum()) == b.pairs


CASES = [  # n, d, tile size: tiles that divide n and tiles that do not, one tile, n = 2
    (120, 24, 7), (120, 24, 64), (120, 24, 120), (120, 24, 500), (1000, 64, 300), (2, 5, 1), (2, 5, 2),
]


@pytest.mark.parametrize(("n", "d", "tile"), CASES)
def test_torch_exact_identical_to_numba(n, d, tile):
    x, _ = planted_embeddings(n=n, d=d) if n >= 100 else (np.random.default_rng(3).standard_normal((n, d))
                                                           .astype(np.float32), None)
    a = run(x, "loop", tile_size=tile)
    b = run(x, "torch", tile_size=tile)
    assert_same(a, b)
    # the float32 histogram differs at most by values a rounding away from a bin edge
    assert np.abs(a.hist_counts - b.hist_counts).sum() <= max(2, b.pairs // 1000)
    assert np.nanmax(np.abs(a.grid_max - b.grid_max)) < 1e-6
    assert np.nanmax(np.abs(a.grid_mean - b.grid_mean)) < 1e-5
    assert b.tile_mean == pytest.approx(a.tile_mean, abs=1e-6)
    assert b.engine_info["engine"] == "torch" and b.engine_info["precision"] == "exact"
    assert b.borderline_total == 0


@pytest.mark.parametrize(("n", "d", "tile"), CASES)
def test_torch_screen_identical_to_numba(n, d, tile):
    x, _ = planted_embeddings(n=n, d=d) if n >= 100 else (np.random.default_rng(3).standard_normal((n, d))
                                                           .astype(np.float32), None)
    a = run(x, "loop", tile_size=tile)
    b = run(x, "torch", tile_size=tile, precision="screen")
    assert b.engine_info["precision"] == "screen"
    assert_same(a, b)
    # the histogram is read from screened values: same total, close but not equal
    assert np.abs(np.cumsum(a.hist_counts) - np.cumsum(b.hist_counts)).max() <= 0.05 * b.pairs + 1


def test_opposed_and_lowest_list_low_dimension():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((300, 3)).astype(np.float32)  # many opposed pairs, ties near -1
    a = run(x, "loop", tile_size=64, top_k=20, lowest_k=7)
    for precision in ("exact", "screen"):
        b = run(x, "torch", tile_size=64, top_k=20, lowest_k=7, precision=precision)
        assert_same(a, b)
        assert b.opposed_pairs > 1000


def _pair_at(c: float, d: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Two float32 vectors whose cosine is c (to float32 rounding)."""
    a = rng.standard_normal(d)
    b = rng.standard_normal(d)
    a /= np.linalg.norm(a)
    b -= (b @ a) * a
    b /= np.linalg.norm(b)
    return a.astype(np.float32), (c * a + np.sqrt(1.0 - c * c) * b).astype(np.float32)


def exact_values(x: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Every pair's similarity: float64 dot products of the unit rows, rounded to float32."""
    unit = engine.normalise_rows(x).astype(np.float64)
    iu = np.triu_indices(len(x), 1)
    return (unit @ unit.T)[iu].astype(np.float32), iu


def check_planted_within_bound(device: str) -> None:
    """Pairs planted within the screening bound on both sides of every threshold: counts,
    items, pair lists, neighbours, min and max equal the brute-force exact values."""
    d = 256
    settings = dict(tile_size=37, precision="screen", ladder=(0.80, 0.90, 0.95, 0.98, 0.99),
                    near_duplicate_threshold=0.95, opposed_threshold=-0.5, top_k=30, lowest_k=10)
    bound = torch_engine.screen_bound(d, output_bfloat16=True)
    assert 0.005 < bound < 0.02
    rng = np.random.default_rng(11)
    rows = []
    offsets = (-0.9, -0.5, -0.1, -0.02, 0.02, 0.1, 0.5, 0.9)  # fractions of the bound, none within float32 rounding
    for t in (0.80, 0.90, 0.95, 0.98, 0.99, -0.5):
        for f in offsets:
            if t + f * bound < 1.0:
                rows.extend(_pair_at(t + f * bound, d, rng))
    x = np.array(rows + list(rng.standard_normal((60, d)).astype(np.float32)))
    values, iu = exact_values(x)
    s = run(x, "torch", device=device, **settings)
    assert s.engine_info["precision"] == "screen" and s.engine_info["rechecked_pairs"] > 0
    for row in s.threshold_counts:
        t = np.float32(row["threshold"])
        mask = values >= t
        assert row["pairs"] == int(mask.sum())
        assert row["items"] == len(set(iu[0][mask]) | set(iu[1][mask]))
        within = np.abs(values - t) < bound
        assert int(within.sum()) >= 8  # the planted pairs really lie within the bound
    assert s.opposed_pairs == int((values <= np.float32(-0.5)).sum()) == 4
    # pair lists, neighbours, min and max: exact values, brute-force order
    order = np.lexsort((iu[1], iu[0], -values))[:30]
    assert [p[:2] for p in s.top_pairs] == [(int(iu[0][k]), int(iu[1][k])) for k in order]
    assert [p[2] for p in s.top_pairs] == [float(values[k]) for k in order]
    low = np.lexsort((iu[1], iu[0], values))[:4]
    assert [p[:2] for p in s.lowest_pairs] == [(int(iu[0][k]), int(iu[1][k])) for k in low]
    assert s.max == float(values.max()) and s.min == float(values.min())
    full = np.full((len(x), len(x)), -np.inf, dtype=np.float32)
    full[iu] = values
    full.T[iu] = values
    assert (s.nn_index == full.argmax(axis=1)).all()
    assert (s.nn_similarity == full.max(axis=1)).all()
    # and the same counts as the float32 numba engine
    assert_same(run(x, "loop", **{k: v for k, v in settings.items() if k != "precision"}), s)


def test_screening_exact_counts_with_pairs_within_the_bound_of_every_threshold():
    check_planted_within_bound("cpu")


def test_pairs_on_a_threshold_are_counted_and_named_as_borderline():
    rng = np.random.default_rng(4)
    d = 64
    rows = []
    for t in (0.90, 0.95):
        rows.extend(_pair_at(t, d, rng))
    x = np.array(rows + list(rng.standard_normal((40, d)).astype(np.float32)))
    for precision in ("exact", "screen"):
        s = run(x, "torch", tile_size=16, precision=precision, ladder=(0.8, 0.9, 0.95))
        named = {(i, j, round(t, 4)) for i, j, _, t in s.borderline}
        assert {(0, 1, 0.9), (2, 3, 0.95)} <= named
        assert s.borderline_total == len(s.borderline) >= 2
        tol = torch_engine.float32_tolerance(d)
        assert all(abs(v - t) <= tol for _, _, v, t in s.borderline)
        # apart from borderline pairs, the counts agree with the numba engine
        a = run(x, "loop", tile_size=16, ladder=(0.8, 0.9, 0.95))
        for ra, rb in zip(a.threshold_counts, s.threshold_counts, strict=True):
            on = sum(1 for *_, t in s.borderline if round(t, 4) == round(ra["threshold"], 4))
            assert abs(ra["pairs"] - rb["pairs"]) <= on


def test_screen_bound_holds_for_bfloat16_products():
    import torch

    rng = np.random.default_rng(0)
    d = 384
    base = rng.standard_normal((300, d)).astype(np.float32)
    x = np.concatenate([base, base + 0.01 * rng.standard_normal((300, d)).astype(np.float32),
                        np.abs(base), -np.abs(base)])  # near-duplicates, all-positive, opposed
    unit = engine.normalise_rows(x)
    u = torch.from_numpy(unit)
    screened = (u.bfloat16() @ u.bfloat16().T).float().numpy()
    exact = (unit.astype(np.float64) @ unit.T.astype(np.float64)).astype(np.float32)
    bound = torch_engine.screen_bound(d, output_bfloat16=True)
    err = np.abs(screened.astype(np.float64) - exact)
    assert err.max() <= bound
    assert err.max() > bound / 20  # the bound is not vacuous: worst cases come within a small factor
    assert torch_engine.screen_bound(d, output_bfloat16=False) < bound
    assert torch_engine.float32_tolerance(d) < 1e-4


def test_screen_falls_back_to_exact_without_bfloat16(monkeypatch):
    monkeypatch.setattr(torch_engine, "cpu_has_bf16", lambda: False)
    x, _ = planted_embeddings(n=120, d=24)
    s = run(x, "torch", tile_size=50, precision="screen")
    assert s.engine_info["precision"] == "exact" and s.engine_info["requested_precision"] == "screen"
    assert "bfloat16" in s.engine_info["note"] and "ran exact" in s.engine_info["note"]
    assert_same(run(x, "loop", tile_size=50), s)


def test_bad_device_and_precision_are_clear(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    x, _ = planted_embeddings(n=100, d=8)
    with pytest.raises(ValueError, match="no CUDA device"):
        run(x, "torch", device="cuda")
    with pytest.raises(ValueError, match="must be cpu or cuda"):
        run(x, "torch", device="tpu")
    with pytest.raises(ValueError, match="needs the torch engine"):
        run(x, "threads", precision="screen")
    with pytest.raises(ValueError, match="must be exact or screen"):
        run(x, "torch", precision="half")


def test_torch_is_imported_lazily():
    code = ("import sys, numpy as np, simreport\n"
            "from simreport import runners\n"
            "runners.compute(np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32))\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.cuda
@pytest.mark.parametrize("precision", ["exact", "screen"])
def test_cuda_identical_to_numba(precision):
    x, _ = planted_embeddings(n=1000, d=64)
    a = run(x, "loop", tile_size=300)
    b = run(x, "torch", tile_size=300, device="cuda", precision=precision)
    assert b.engine_info["device"].startswith("cuda")
    assert_same(a, b, value_tol=1e-5)


@pytest.mark.cuda
def test_cuda_screening_planted_within_bound():
    check_planted_within_bound("cuda")


@st.composite
def screening_cases(draw):
    """Small inputs with duplicate, negated and near-copy rows, any tiling, short lists, and
    thresholds placed exactly on pairs' exact values."""
    n = draw(st.integers(2, 90))
    d = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    for _ in range(draw(st.integers(0, 4))):  # duplicates, negations, near copies
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        if i != j:
            x[j] = draw(st.sampled_from([1.0, -1.0, 2.5])) * x[i]
            if draw(st.booleans()):
                x[j] += np.float32(0.003) * rng.standard_normal(d).astype(np.float32)
    values, _ = exact_values(x)
    on_values = sorted(set(float(v) for v in rng.choice(values, size=min(3, values.size), replace=False)))
    ladder = tuple(sorted({*draw(st.lists(st.sampled_from([0.3, 0.5, 0.8, 0.9, 0.95, 0.99]), min_size=1,
                                          max_size=3)), *[v for v in on_values if v > 0]}))
    opposed = float(draw(st.sampled_from([-0.9, -0.5, -0.2, min(on_values)])))
    return x, dict(tile_size=draw(st.integers(1, n + 3)), workers=draw(st.integers(1, 3)), ladder=ladder,
                   near_duplicate_threshold=ladder[-1], opposed_threshold=opposed,
                   top_k=draw(st.integers(1, 12)), lowest_k=draw(st.integers(0, 6)), precision="screen")


@settings(max_examples=scaled(40))
@given(screening_cases())
def test_screening_matches_the_exact_reference(case):
    """Screening (bfloat16 products, re-checks) against every pair's exact value: counts and
    records at each threshold, both pair lists in the documented order, nearest neighbours,
    opposed pairs, min and max, all equal."""
    x, kw = case
    values, iu = exact_values(x)
    s = run(x, "torch", **kw)
    assert s.engine_info["precision"] == "screen"
    for t, row in zip(s.settings.thresholds, s.threshold_counts, strict=True):  # the report rounds t
        hit = values >= np.float32(t)
        assert (row["pairs"], row["items"]) == (int(hit.sum()), len(set(iu[0][hit]) | set(iu[1][hit])))
    opp = values <= np.float32(kw["opposed_threshold"])
    assert (s.opposed_pairs, s.opposed_items) == (int(opp.sum()), len(set(iu[0][opp]) | set(iu[1][opp])))
    top = np.lexsort((iu[1], iu[0], -values))[:kw["top_k"]]
    assert s.top_pairs == [(int(iu[0][k]), int(iu[1][k]), float(values[k])) for k in top]
    low = [k for k in np.lexsort((iu[1], iu[0], values)) if opp[k]][:kw["lowest_k"]]
    assert s.lowest_pairs == [(int(iu[0][k]), int(iu[1][k]), float(values[k])) for k in low]
    full = np.full((len(x), len(x)), -np.inf, dtype=np.float32)
    full[iu] = values
    full.T[iu] = values
    assert (s.nn_index == full.argmax(axis=1)).all() and (s.nn_similarity == full.max(axis=1)).all()
    assert (s.min, s.max) == (float(values.min()), float(values.max()))
