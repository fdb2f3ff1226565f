"""The engine against brute-force numpy: exact counts, top pairs, moments, runners."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import planted_embeddings
from simreport import engine, runners
from simreport.engine import EngineSettings


def brute(x: np.ndarray):
    """Full float32 similarity matrix and its strict upper triangle (reference only)."""
    unit = engine.normalise_rows(x)
    sim = unit @ unit.T
    iu = np.triu_indices(len(x), 1)
    return unit, sim, sim[iu], iu


def test_moments_match_brute_force_on_random_data():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((700, 48)).astype(np.float32) + 0.3
    _, _, values, _ = brute(x)
    stats = runners.compute(x, EngineSettings(tile_size=256))
    ref = values.astype(np.float64)
    assert stats.pairs == len(ref)
    assert stats.mean == pytest.approx(ref.mean(), abs=1e-5)
    assert stats.std == pytest.approx(ref.std(), abs=1e-5)
    # the tile pass's own sum agrees with the Gram-matrix mean
    assert stats.tile_mean == pytest.approx(stats.mean, abs=1e-5)
    partial = runners.run_all_pairs(engine.normalise_rows(x), EngineSettings(tile_size=256))
    tile_mean = float(partial.moments[0]) / stats.pairs
    tile_std = np.sqrt(float(partial.moments[1]) / stats.pairs - tile_mean ** 2)
    assert tile_std == pytest.approx(stats.std, abs=1e-5)
    assert stats.min == pytest.approx(float(ref.min()), abs=1e-5)
    assert stats.max == pytest.approx(float(ref.max()), abs=1e-5)
    for name, q in engine.QUANTILES.items():
        assert stats.quantiles[name] == pytest.approx(np.quantile(ref, q), abs=1.5e-3)
    assert int(stats.hist_counts.sum()) == len(ref)


def test_moments_when_dimension_exceeds_rows():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((30, 200)).astype(np.float32)
    _, _, values, _ = brute(x)
    stats = runners.compute(x, EngineSettings(tile_size=8))
    assert stats.mean == pytest.approx(values.astype(np.float64).mean(), abs=1e-6)
    assert stats.std == pytest.approx(values.astype(np.float64).std(), abs=1e-6)


@pytest.mark.parametrize("tile_size", [7, 64, 120, 500])
def test_planted_pairs_exact(tile_size):
    x, planted = planted_embeddings(n=120, d=24)
    unit, sim, values, iu = brute(x)
    stats = runners.compute(x, EngineSettings(tile_size=tile_size, near_duplicate_threshold=0.95))
    # exact counts at every threshold, and the items they touch
    for row in stats.threshold_counts:
        t = np.float32(row["threshold"])
        mask = values >= t
        assert row["pairs"] == int(mask.sum())
        assert row["items"] == len(set(iu[0][mask]) | set(iu[1][mask]))
    assert stats.near_duplicate_pairs == len(planted)
    top = {(i, j) for i, j, _ in stats.top_pairs[: len(planted)]}
    assert top == set(planted)
    best = int(np.argmax(values))
    assert stats.top_pairs[0][:2] == (int(iu[0][best]), int(iu[1][best]))
    # nearest neighbours
    np.fill_diagonal(sim, -np.inf)
    assert np.allclose(stats.nn_similarity, sim.max(axis=1), atol=1e-5)
    assert (stats.nn_index == sim.argmax(axis=1)).all()
    assert stats.nn_above_threshold == int((sim.max(axis=1) >= np.float32(0.95)).sum())


def test_top_pairs_order_and_opposed():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((200, 3)).astype(np.float32)  # low dimension: many opposed pairs
    _, _, values, iu = brute(x)
    stats = runners.compute(x, EngineSettings(tile_size=50, top_k=20, lowest_k=7))
    order = np.lexsort((iu[1], iu[0], -values))[:20]
    expected = [(int(iu[0][k]), int(iu[1][k])) for k in order]
    assert [(i, j) for i, j, _ in stats.top_pairs] == expected
    assert stats.opposed_pairs == int((values <= np.float32(-0.5)).sum())
    low = np.lexsort((iu[1], iu[0], values))[:7]
    assert [(i, j) for i, j, _ in stats.lowest_pairs] == [(int(iu[0][k]), int(iu[1][k])) for k in low]
    mask = values <= np.float32(-0.5)
    assert stats.opposed_items == len(set(iu[0][mask]) | set(iu[1][mask]))


@pytest.mark.parametrize("n,tile", [(2, 64), (3, 2), (10, 64), (101, 10)])
def test_small_and_ragged_tilings(n, tile):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 5)).astype(np.float32)
    _, _, values, _ = brute(x)
    stats = runners.compute(x, EngineSettings(tile_size=tile))
    assert stats.pairs == n * (n - 1) // 2 == int(stats.hist_counts.sum())
    assert stats.mean == pytest.approx(values.astype(np.float64).mean(), abs=1e-5)
    assert stats.max == pytest.approx(float(values.max()), abs=1e-6)


def test_runners_agree_bit_for_bit():
    x, _ = planted_embeddings(n=900, d=32)
    unit = engine.normalise_rows(x)
    settings = EngineSettings(tile_size=128)
    loop = runners.run_all_pairs(unit, EngineSettings(tile_size=128, runner="loop"))
    threads = runners.run_all_pairs(unit, settings)
    assert (loop.hist == threads.hist).all()
    assert (loop.ladder_pairs == threads.ladder_pairs).all()
    assert (loop.touched == threads.touched).all()
    assert loop.pairs_list("top") == threads.pairs_list("top")
    assert loop.pairs_list("low") == threads.pairs_list("low")
    assert (loop.row_best == threads.row_best).all() and (loop.row_best_idx == threads.row_best_idx).all()
    assert (loop.grid_max == threads.grid_max).all()


def test_merge_is_associative_and_matches_single_pass():
    x, _ = planted_embeddings(n=300, d=16)
    unit = engine.normalise_rows(x)
    settings = EngineSettings(tile_size=40)
    tasks = engine.band_tasks(len(unit), settings.tile_size)
    parts = [engine.run_task(unit, t, settings) for t in tasks]
    left = parts[0]
    for p in parts[1:]:
        left = engine.merge(left, p)
    tree = engine.merge_all(parts)
    single = runners.run_all_pairs(unit, EngineSettings(tile_size=40, runner="loop"))
    for merged in (left, tree):
        assert (merged.hist == single.hist).all()
        assert merged.pairs_list("top") == single.pairs_list("top")
        assert (merged.row_best_idx == single.row_best_idx).all()
        assert merged.tiles == engine.total_tiles(len(unit), settings)


def test_identical_rows_counted():
    x, _ = planted_embeddings(n=120, d=8)
    x[20] = x[4]
    x[21] = x[4]
    x[30] = x[31]
    stats = runners.compute(x)
    assert (stats.identical_rows, stats.identical_groups) == (3, 2)


def test_overview_grid_matches_brute_force():
    x, _ = planted_embeddings(n=100, d=12)
    _, sim, _, _ = brute(x)
    stats = runners.compute(x, EngineSettings(tile_size=16, grid_size=10))
    blocks = np.arange(100) * 10 // 100
    for a in range(10):
        for b in range(10):
            rows, cols = np.flatnonzero(blocks == a), np.flatnonzero(blocks == b)
            block = sim[np.ix_(rows, cols)]
            if a == b:
                block = block[np.triu_indices(len(rows), 1)]
            assert stats.grid_max[a, b] == pytest.approx(float(block.max()), abs=1e-6)
            assert stats.grid_mean[a, b] == pytest.approx(float(block.astype(np.float64).mean()), abs=1e-5)


def test_dask_engine_gives_identical_results():
    pytest.importorskip("distributed")
    x, _ = planted_embeddings(n=700, d=16)
    unit = engine.normalise_rows(x)
    local = runners.run_all_pairs(unit, EngineSettings(tile_size=100))
    ticks: list[int] = []
    distributed = runners.run_all_pairs(unit, EngineSettings(tile_size=100, runner="dask"), progress=ticks.append)
    assert sum(ticks) == engine.total_tiles(700, EngineSettings(tile_size=100))
    assert (local.hist == distributed.hist).all()
    assert (local.ladder_pairs == distributed.ladder_pairs).all()
    assert (local.touched == distributed.touched).all()
    assert local.pairs_list("top") == distributed.pairs_list("top")
    assert local.pairs_list("low") == distributed.pairs_list("low")
    assert (local.row_best_idx == distributed.row_best_idx).all()
    assert np.allclose(local.grid_sum, distributed.grid_sum, rtol=1e-12)  # float sums: order may differ
