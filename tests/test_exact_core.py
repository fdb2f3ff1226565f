"""The all-pairs engine is exact: every statistic of every runner equals a brute-force reference.

Every test here runs twice, once with each way of reducing a tile (``reduction``): the compiled
kernel (simreport.kernels, numba) and numpy (simreport.tile_numpy, which the engine uses up to
engine.NUMPY_ROWS records). Deterministic tests first (each one fails on a small bug that once survived the suite:
a threshold compared with ``>``, a histogram bin shifted by one, the tie rule reversed,
the last of an odd number of partials dropped), then Hypothesis property tests over
random small inputs, tile sizes, runners and worker counts. The references are in
``tests/exactness.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exactness import SIZE_LIMIT, embedding_inputs, quantile_in_bin, reference_stats, scaled, tiled_similarities
from simreport import engine, runners
from simreport.engine import EngineSettings


@pytest.fixture(scope="module", autouse=True, params=["compiled", "numpy"])
def reduction(request):
    """Every pass of the test with this reduction, whatever its size (engine.NUMPY_ROWS set for it)."""
    before = engine.NUMPY_ROWS
    engine.NUMPY_ROWS = 0 if request.param == "compiled" else 10**9
    try:
        yield request.param
    finally:
        engine.NUMPY_ROWS = before


# ----------------------------------------------------------------------------- the engine against the reference


def check_stats(stats: engine.SimilarityStats, x: np.ndarray, unit: np.ndarray, sim: np.ndarray) -> None:
    """Assert that every statistic equals the brute-force reference (mean/std to a stated tolerance)."""
    s = stats.settings
    ref = reference_stats(x, unit, sim, thresholds=s.thresholds, near_duplicate=s.near_duplicate_threshold,
                          opposed=s.opposed_threshold, top_k=s.top_k, lowest_k=s.lowest_k, grid_size=s.grid_size)
    n = unit.shape[0]
    assert stats.pairs == ref["pairs"] == n * (n - 1) // 2
    np.testing.assert_array_equal(stats.hist_counts, ref["hist"])  # bin by bin
    assert int(stats.hist_counts.sum()) == stats.pairs
    assert (stats.min, stats.max) == (ref["min"], ref["max"])
    assert stats.threshold_counts == ref["threshold_counts"]
    assert (stats.near_duplicate_pairs, stats.near_duplicate_items) == (ref["near_duplicate_pairs"],
                                                                        ref["near_duplicate_items"])
    assert stats.top_pairs == ref["top_pairs"]
    assert (stats.opposed_pairs, stats.opposed_items) == (ref["opposed_pairs"], ref["opposed_items"])
    assert stats.lowest_pairs == ref["lowest_pairs"]
    np.testing.assert_array_equal(stats.nn_similarity, ref["nn_similarity"])
    np.testing.assert_array_equal(stats.nn_index, ref["nn_index"])
    assert stats.nn_above_threshold == ref["nn_above_threshold"]
    nn_clipped = np.clip(ref["nn_similarity"], -1.0, 1.0)  # rounding may put a float32 similarity just past 1
    np.testing.assert_array_equal(stats.nn_hist_counts, np.histogram(nn_clipped, bins=engine.HIST_EDGES)[0])
    for name, q in engine.QUANTILES.items():
        assert stats.nn_quantiles[name] == float(np.quantile(ref["nn_similarity"], q))
        assert quantile_in_bin(stats.quantiles[name], sim[np.triu_indices(n, 1)], q), name
    np.testing.assert_array_equal(stats.grid_max, ref["grid_max"].astype(np.float32))
    np.testing.assert_allclose(stats.grid_mean, ref["grid_mean"], rtol=0, atol=2e-6)
    assert (stats.identical_rows, stats.identical_groups) == (ref["identical_rows"], ref["identical_groups"])
    # float64 tolerances: the Gram identity is exact up to float64 rounding, while the reference
    # averages similarities that were each rounded to float32 (relative error 6e-8)
    assert stats.mean == pytest.approx(ref["mean"], abs=1e-6)
    assert stats.std == pytest.approx(ref["std"], abs=1e-6)
    # the tile pass's own float32 sum, as a cross-check
    assert stats.tile_mean == pytest.approx(ref["mean"], abs=2e-6)
    assert stats.tiles == engine.total_tiles(n, s)
    assert stats.engine_info["reduction"] == ("numpy" if n <= engine.NUMPY_ROWS else "compiled")


@st.composite
def engine_cases(draw, runners=("loop", "threads"), max_workers: int = 4, max_n: int = 300):
    """(embeddings, settings) with thresholds placed exactly on similarities that occur."""
    x, tile = draw(embedding_inputs(max_n=max_n))
    unit = engine.normalise_rows(x)
    sim = tiled_similarities(unit, tile)
    values = np.unique(sim[np.triu_indices(len(x), 1)])
    on_value = st.sampled_from(values.tolist())
    ladder = tuple(draw(st.lists(st.one_of(on_value, st.sampled_from([0.8, 0.9, 0.95, 0.99, 1.0])),
                                 min_size=1, max_size=5)))
    settings_ = EngineSettings(
        near_duplicate_threshold=draw(st.one_of(on_value, st.just(0.95))),
        ladder=ladder,
        opposed_threshold=draw(st.one_of(on_value, st.just(-0.5))),
        top_k=draw(st.integers(1, 30)),
        lowest_k=draw(st.integers(1, 15)),
        grid_size=draw(st.one_of(st.integers(1, 12), st.just(128))),
        tile_size=tile,
        runner=draw(st.sampled_from(runners)),
        workers=draw(st.integers(1, max_workers)),
    )
    return x, unit, sim, settings_


# ----------------------------------------------------------------------------- bugs that once survived


def test_a_similarity_exactly_on_a_threshold_counts():
    """[1,0] and [3,4] have similarity 0.6 exactly in float32; "at or above" must count it."""
    x = np.array([[1.0, 0.0], [3.0, 4.0], [-3.0, -4.0]], dtype=np.float32)
    settings_ = EngineSettings(near_duplicate_threshold=0.6, ladder=(0.6,), opposed_threshold=-0.6, tile_size=2)
    stats = runners.compute(x, settings_)
    assert stats.threshold_counts == [{"threshold": 0.6, "pairs": 1, "items": 2}]
    assert (stats.near_duplicate_pairs, stats.near_duplicate_items, stats.nn_above_threshold) == (1, 2, 2)
    # "at or below" for opposed pairs: (0, 2) is exactly -0.6, (1, 2) is -1
    assert (stats.opposed_pairs, stats.opposed_items) == (2, 3)
    assert [(i, j) for i, j, _ in stats.lowest_pairs] == [(1, 2), (0, 2)]
    assert stats.top_pairs[0][:2] == (0, 1)


def test_histogram_bins_are_exact():
    """Every pair in its bin of width 0.001 over [-1, 1]; float32(0.6) is just above 0.6 (bin 1600),
    float32(-0.6) just below -0.6 (bin 399, not 400)."""
    x = np.array([[1.0, 0.0], [3.0, 4.0], [0.0, 1.0], [-3.0, -4.0]], dtype=np.float32)
    for tile in (1, 3, 4):
        stats = runners.compute(x, EngineSettings(tile_size=tile))
        expected = np.zeros(engine.HIST_BINS, dtype=np.int64)
        for b in (1600, 1800, 1000, 399, 0, 199):  # 0.6, 0.8, 0, -0.6, -1, -0.8
            expected[b] += 1
        np.testing.assert_array_equal(stats.hist_counts, expected)
    # and on random data, every one of the 2000 bins against the reference
    n = 60 if SIZE_LIMIT else 300
    rng = np.random.default_rng(3)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    unit = engine.normalise_rows(x)
    stats = runners.compute(x, EngineSettings(tile_size=16))
    from exactness import bins_of

    values = tiled_similarities(unit, 16)[np.triu_indices(n, 1)]
    np.testing.assert_array_equal(stats.hist_counts, np.bincount(bins_of(values), minlength=engine.HIST_BINS))


@pytest.mark.parametrize("tile", [1, 2, 3, 8])
def test_tied_pairs_follow_the_documented_order(tile):
    """Equal similarities: the smaller i first, then the smaller j (top and lowest lists, neighbours)."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((8, 5)).astype(np.float32)
    for r in (3, 5, 7):
        x[r] = x[1]  # rows 1, 3, 5, 7 identical: six pairs tied at the top
    x[6] = -x[1]  # row 6 exactly opposed to all four: four pairs tied at the bottom
    stats = runners.compute(x, EngineSettings(tile_size=tile, top_k=4, lowest_k=3, opposed_threshold=-0.99))
    assert [(i, j) for i, j, _ in stats.top_pairs] == [(1, 3), (1, 5), (1, 7), (3, 5)]
    assert len({s for _, _, s in stats.top_pairs}) == 1
    assert [(i, j) for i, j, _ in stats.lowest_pairs] == [(1, 6), (3, 6), (5, 6)]
    assert [int(stats.nn_index[r]) for r in (1, 3, 5, 7)] == [3, 1, 1, 1]
    # the merge applies the same rule when the tied pairs come from different partials
    unit = engine.normalise_rows(x)
    small = EngineSettings(tile_size=tile, top_k=4, lowest_k=3, opposed_threshold=-0.99)
    parts = [engine.run_task(unit, task, small) for task in engine.band_tasks(8, tile)]
    for merged in (engine.merge_all(parts), engine.merge_all(parts[::-1])):
        assert merged.pairs_list("top") == stats.top_pairs
        assert merged.pairs_list("low") == stats.lowest_pairs


def test_an_odd_number_of_partials_all_merge():
    """Three workers give three partials: merge_all must keep the last one too."""
    n, tile = (60, 10) if SIZE_LIMIT else (600, 100)  # smaller when the kernels run as Python
    pairs = n * (n - 1) // 2
    rng = np.random.default_rng(5)
    x = rng.standard_normal((n, 8)).astype(np.float32)
    unit = engine.normalise_rows(x)
    settings_ = EngineSettings(tile_size=tile, runner="loop")
    single = runners.run_all_pairs(unit, settings_)
    tasks = engine.band_tasks(n, tile)
    assert len(tasks) == 3
    parts = [engine.run_task(unit, task, settings_) for task in tasks]
    for padding in (0, 2, 4):  # 3, 5 and 7 partials, the last one never empty
        merged = engine.merge_all([engine.Partial.empty(n, settings_) for _ in range(padding)] + parts)
        assert merged.tiles == 21
        np.testing.assert_array_equal(merged.hist, single.hist)
        assert int(merged.hist.sum()) == pairs
        assert merged.pairs_list("top") == single.pairs_list("top")
    threaded = runners.run_all_pairs(unit, EngineSettings(tile_size=tile, runner="threads", workers=3))
    assert threaded.tiles == 21 and int(threaded.hist.sum()) == pairs
    np.testing.assert_array_equal(threaded.hist, single.hist)


def test_pairs_tied_below_every_threshold_follow_the_order():
    """Orthogonal rows: every similarity is exactly 0, below every threshold of the ladder, so
    only the top list's floor lets a row's pairs in; a later tile's pair (0, j) must still
    displace the tied (1, j') already listed."""
    x = np.eye(6, dtype=np.float32)
    for tile in (1, 2, 4):
        for runner, workers in (("loop", 1), ("threads", 3)):
            stats = runners.compute(x, EngineSettings(tile_size=tile, top_k=5, lowest_k=4, opposed_threshold=0.0,
                                                      runner=runner, workers=workers))
            assert stats.top_pairs == [(0, 1, 0.0), (0, 2, 0.0), (0, 3, 0.0), (0, 4, 0.0), (0, 5, 0.0)]
            assert stats.lowest_pairs == [(0, 1, 0.0), (0, 2, 0.0), (0, 3, 0.0), (0, 4, 0.0)]
            assert (stats.opposed_pairs, stats.opposed_items) == (15, 6)  # "at or below" 0
            assert stats.nn_index.tolist() == [1, 0, 0, 0, 0, 0] and stats.nn_similarity.tolist() == [0.0] * 6
            assert stats.threshold_counts[0]["pairs"] == 0


def test_a_full_top_list_and_the_tile_sums_on_a_small_input():
    """40 random rows in tiles of 7: the top list fills early and later pairs must still enter it at
    their place; the tile pass's float64 sums (of the similarities and of their squares) match."""
    rng = np.random.default_rng(17)
    x = rng.standard_normal((40, 4)).astype(np.float32)
    unit = engine.normalise_rows(x)
    for tile in (7, 40):  # 40: one tile, so the list's floor moves while the tile is read
        sim = tiled_similarities(unit, tile)
        settings_ = EngineSettings(tile_size=tile, top_k=5, lowest_k=3, opposed_threshold=-0.3, runner="loop")
        stats = runners.compute(x, settings_)
        check_stats(stats, x, unit, sim)
        partial = runners.run_all_pairs(unit, settings_)
        values = sim[np.triu_indices(40, 1)].astype(np.float64)
        assert float(partial.moments[0]) == pytest.approx(values.sum(), rel=1e-5, abs=1e-4)
        assert float(partial.moments[1]) == pytest.approx((values * values).sum(), rel=1e-5)


def test_the_top_list_floor_follows_each_insertion():
    """Points on a circle with growing gaps: the best pairs are (0, 1), (1, 2), (2, 3), ... and arrive
    in that order inside one tile, each just above the list's last entry at the time."""
    angles = np.cumsum([0.0] + [0.10 + 0.01 * k for k in range(7)])
    x = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    for tile in (8, 3):
        stats = runners.compute(x, EngineSettings(tile_size=tile, top_k=3, runner="loop"))
        assert [(i, j) for i, j, _ in stats.top_pairs] == [(0, 1), (1, 2), (2, 3)]
        check_stats(stats, x, engine.normalise_rows(x), tiled_similarities(engine.normalise_rows(x), tile))


def test_a_full_list_keeps_its_last_pair_against_a_tie_with_a_larger_j():
    """Rows 2 and 3 are equally similar to row 1 (exactly: row 1 is [0, 0, 1]). With two places, the
    list holds (0, 5) and (1, 2); (1, 3) ties with (1, 2) and must not take its place."""
    a = 0.3
    x = np.array([[0, 1, 0], [0, 0, 1], [np.sin(a), 0, np.cos(a)], [-np.sin(a), 0, np.cos(a)], [0, -1, 0],
                  [0.1, 0.995, 0]], dtype=np.float32)
    for tile in (6, 4, 2):
        stats = runners.compute(x, EngineSettings(tile_size=tile, top_k=2, runner="loop"))
        assert [(i, j) for i, j, _ in stats.top_pairs] == [(0, 5), (1, 2)]
        assert stats.top_pairs[1][2] == float(engine.normalise_rows(x)[2, 2])


# ----------------------------------------------------------------------------- property tests


@settings(max_examples=scaled(120))
@given(engine_cases())
def test_loop_and_threads_match_brute_force(case):
    x, unit, sim, settings_ = case
    check_stats(runners.compute(x, settings_), x, unit, sim)


@pytest.fixture(scope="module")
def dask_clients():
    """One in-process dask cluster per worker count (1 to 3), started once for the module."""
    distributed = pytest.importorskip("distributed")
    clients = {}
    try:
        for workers in (1, 2, 3):
            cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=False,
                                               dashboard_address=None)
            clients[workers] = (distributed.Client(cluster), cluster)
        yield {w: c for w, (c, _) in clients.items()}
    finally:
        for client, cluster in clients.values():
            client.close()
            cluster.close()


@settings(max_examples=scaled(20))
@given(case=engine_cases(runners=("dask",), max_workers=3, max_n=150))
def test_dask_matches_brute_force(case, dask_clients):
    from simreport.dask_runner import run_dask

    x, unit, sim, settings_ = case
    partial = run_dask(unit, settings_, client=dask_clients[settings_.workers])
    check_stats(engine.finalize(partial, unit, x, settings_), x, unit, sim)


def test_each_dask_pass_scatters_its_own_copy(dask_clients):
    """Two passes over the same array on one client must not share the scattered data's key: with a
    key derived from the data (dask's default), the second pass could lose it while the first one's
    copy was released, and fail with 'cancelled for reason: lost dependencies' (1 in 60 to 200 passes;
    dask/distributed#4612). Each pass's copy now has a key of its own."""
    from simreport.dask_runner import run_dask

    client = dask_clients[2]
    keys = []

    class Recording:
        def __getattr__(self, name):
            return getattr(client, name)

        def scatter(self, data, **options):
            future = client.scatter(data, **options)
            keys.append(future.key)
            return future

    rng = np.random.default_rng(8)
    x = rng.standard_normal((30, 5)).astype(np.float32)
    unit = engine.normalise_rows(x)
    settings_ = EngineSettings(tile_size=7, runner="dask", workers=2)
    first, second = (run_dask(unit, settings_, client=Recording()) for _ in range(2))
    assert len(keys) == 2 and keys[0] != keys[1]
    np.testing.assert_array_equal(first.hist, second.hist)
