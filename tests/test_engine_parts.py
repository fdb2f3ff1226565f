"""The engine's smaller parts, each against what it documents: settings, work units, runners'
progress and errors, exact moments, quantiles, identical rows, the time estimate."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exactness import embedding_inputs, scaled
from simreport import engine, runners
from simreport.engine import EngineSettings


def test_thresholds_are_the_ladder_and_the_near_duplicate_limit_ascending_in_float32():
    s = EngineSettings(ladder=(0.9, 0.8, 0.9), near_duplicate_threshold=0.85)
    assert s.thresholds == (float(np.float32(0.8)), float(np.float32(0.85)), float(np.float32(0.9)))
    assert EngineSettings().thresholds == tuple(float(np.float32(t)) for t in (0.8, 0.9, 0.95, 0.98, 0.99))
    d = EngineSettings()
    assert (d.near_duplicate_threshold, d.opposed_threshold, d.top_k, d.lowest_k, d.grid_size, d.tile_size,
            d.runner, d.workers, d.scheduler) == (0.95, -0.5, 50, 10, 128, 2048, "threads", 2, None)


def test_an_empty_partial():
    p = engine.Partial.empty(5, EngineSettings(top_k=3, lowest_k=2, grid_size=4))
    assert p.hist.shape == (engine.HIST_BINS,) and p.hist.sum() == 0
    assert list(p.extremes) == [np.inf, -np.inf]
    assert (p.row_best == -np.inf).all() and (p.row_best_idx == 5).all()
    assert p.touched.shape == (5, 5) and not p.touched.any()  # five thresholds, five records
    assert p.top_s.shape == (3,) and p.low_s.shape == (2,) and p.top_count[0] == p.low_count[0] == 0
    assert list(p.block_of) == [0, 0, 1, 2, 3] and p.grid_max.shape == (4, 4) and (p.grid_max == -np.inf).all()
    assert p.pairs_list("top") == [] and p.pairs_list("low") == [] and p.tiles == 0
    assert engine.grid_size_for(5, 128) == 5 and engine.grid_size_for(500, 128) == 128
    assert engine.grid_size_for(0, 4) == 1 and engine.grid_size_for(1, 0) == 1


def assert_same_partial(got: engine.Partial, want: engine.Partial) -> None:
    """Every field of two partials equal (the float64 sums to rounding)."""
    for name in ("hist", "extremes", "row_best", "row_best_idx", "ladder", "ladder_pairs", "touched", "opposed_state",
                 "opposed_touched", "top_count", "low_count", "block_of", "grid_max"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
    np.testing.assert_allclose(got.moments, want.moments, rtol=1e-9)
    np.testing.assert_allclose(got.grid_sum, want.grid_sum, rtol=1e-9, atol=1e-9)
    assert got.pairs_list("top") == want.pairs_list("top") and got.pairs_list("low") == want.pairs_list("low")
    assert (got.tiles, got.borderline, got.borderline_total) == (want.tiles, want.borderline, want.borderline_total)


def test_merging_the_partials_of_any_split_gives_the_single_pass():
    """Every field of the merged partials equals one pass over all tiles, in either order."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((23, 5)).astype(np.float32)
    x[20] = x[3]  # a tie for the nearest neighbour across partials
    unit = engine.normalise_rows(x)
    settings_ = EngineSettings(tile_size=4, top_k=7, lowest_k=5, grid_size=5, opposed_threshold=-0.4,
                               near_duplicate_threshold=0.5, ladder=(0.3, 0.6))
    single = runners.run_all_pairs(unit, EngineSettings(**{**settings_.__dict__, "runner": "loop"}))
    parts = [engine.run_task(unit, task, settings_) for task in engine.band_tasks(23, 4)]
    assert len(parts) >= 3 and all(p.tiles for p in parts)
    for order in (parts, parts[::-1], parts[1:] + parts[:1]):
        assert_same_partial(engine.merge_all(list(order)), single)
    pair = engine.merge(parts[0], parts[1])
    assert pair.tiles == parts[0].tiles + parts[1].tiles
    np.testing.assert_allclose(pair.moments, parts[0].moments + parts[1].moments, rtol=1e-12)
    assert single.opposed_state[0] > 0 and single.ladder_pairs[-1] > 0  # the case reaches every list


def test_borderline_pairs_merge_in_order_and_keep_the_first_50():
    """The torch engine's borderline pairs: all counted, the first 50 by (i, j, threshold) named."""
    s = EngineSettings(top_k=2, lowest_k=2)
    a, b = engine.Partial.empty(100, s), engine.Partial.empty(100, s)
    a.borderline = [(i, i + 1, 0.95, 0.95) for i in range(0, 60, 2)]
    b.borderline = [(i, i + 1, 0.8, 0.8) for i in range(59, 0, -2)]
    b.borderline += [(3, 4, 0.9, 0.9), (3, 4, 0.95, 0.95), (1, 90, 0.85, 0.85)]
    a.borderline_total, b.borderline_total = 30, 33
    a.engine_info = None
    b.engine_info = {"engine": "torch"}
    merged = engine.merge(a, b)
    expected = sorted(set(a.borderline) | set(b.borderline), key=lambda p: (p[0], p[1], p[3]))[:50]
    assert merged.borderline == expected and len(expected) == 50
    assert merged.borderline[:5] == [(0, 1, 0.95, 0.95), (1, 2, 0.8, 0.8), (1, 90, 0.85, 0.85), (2, 3, 0.95, 0.95),
                                     (3, 4, 0.8, 0.8)]
    assert merged.borderline[5:7] == [(3, 4, 0.9, 0.9), (3, 4, 0.95, 0.95)]  # the same pair at two thresholds
    assert merged.borderline_total == 63 and engine.BORDERLINE_LISTED == 50
    assert merged.engine_info == {"engine": "torch"}
    a.engine_info = {"engine": "numba"}
    assert engine.merge(a, b).engine_info == {"engine": "numba"}


@pytest.mark.parametrize("tile", [3, 8, 32])
def test_the_kernel_takes_row_extremes_as_row_stats_gives_them(tile):
    """The CPU pass lets the kernel take each row's max and min (and the first column of the max)
    itself; the torch engine hands it row_stats' instead. Both give the same partial, field for
    field, with ties inside a row, exactly opposed rows and signed zeros in the tiles."""
    from simreport.kernels import row_stats

    rng = np.random.default_rng(21)
    x = rng.standard_normal((40, 6)).astype(np.float32)
    x[9], x[17], x[30] = x[2], x[2], -x[5]  # ties at a row's max; an exactly opposed pair
    x[12] = 0.0
    x[12, 0], x[13] = 1.0, 0.0  # rows 12 and 13: signed zeros against every row with a zero first entry
    x[13, 1] = -1.0
    x[14] = 0.0
    x[14, 1] = 1.0  # orthogonal to row 12: a similarity of exactly 0.0 (and -0.0 against row 13)
    unit = engine.normalise_rows(x)
    settings_ = EngineSettings(tile_size=tile, top_k=6, lowest_k=4, grid_size=7, opposed_threshold=-0.5,
                               ladder=(0.3, 0.6))
    inside, given = (engine.Partial.empty(40, settings_) for _ in range(2))
    for r0, c0 in ((r, c) for r in range(0, 40, tile) for c in range(r, 40, tile)):
        values = unit[r0:r0 + tile] @ unit[c0:c0 + tile].T
        inside.add_tile(values, r0, c0)
        given.add_tile(values, r0, c0, row_stats(values, r0, c0))
    assert_same_partial(inside, given)
    assert inside.opposed_state[0] > 0 and inside.top_count[0] == 6
    assert [int(inside.row_best_idx[r]) for r in (2, 9, 17)] == [9, 2, 2]  # the first of the tied columns


def test_row_max_and_min_by_integer_keys_are_the_float_max_and_min():
    """kernels._row_max_min compares float32 values through order-preserving integer keys."""
    from simreport.kernels import _row_max_min

    rng = np.random.default_rng(4)
    rows = [np.array([v], dtype=np.float32) for v in (0.0, -0.0, -1.0, 3.5e-45)]
    rows += [rng.standard_normal(k).astype(np.float32) for k in (2, 7, 17, 64, 2049)]
    rows += [np.array([-0.0, 0.0, -2.0], dtype=np.float32), np.array([-3.0, -1e-40, -2.0], dtype=np.float32),
             np.array([1e-40, 5.0, 5.0, -7.0], dtype=np.float32)]
    for row in rows:
        hi, lo = _row_max_min(row)
        assert (hi, lo) == (row.max(), row.min()), row
        assert np.float32(hi).dtype == np.float32
    hi, lo = _row_max_min(np.array([-0.0, 0.0], dtype=np.float32))
    assert (np.signbit(hi), np.signbit(lo)) == (False, True)  # -0.0 orders just below 0.0


def test_widen_and_scan_marks_a_row_and_a_column_without_pairs():
    """The screening scan of a diagonal tile: the last row and the first column hold no pair
    j > i, so their max is -inf and the row's min +inf, as documented."""
    from simreport.kernels import widen_and_scan

    values = np.array([[1.0, 0.5, -0.25], [0.5, 1.0, 0.75], [-0.25, 0.75, 1.0]], dtype=np.float32)
    bits = (values.view(np.uint32) >> np.uint32(16)).astype(np.uint16)  # exact in bfloat16
    tile = np.empty_like(values)
    row_max, row_min, col_max = (np.empty(3, dtype=np.float32) for _ in range(3))
    widen_and_scan(bits, tile, 0, 0, row_max, row_min, col_max)
    np.testing.assert_array_equal(tile, values)
    assert row_max.tolist() == [0.5, 0.75, -np.inf] and row_min.tolist() == [-0.25, 0.75, np.inf]
    assert col_max.tolist() == [-np.inf, 0.5, 0.75]


def test_screening_bands_include_their_edges():
    """A value exactly ``halves[k]`` from ``centres[k]`` is a candidate, and a row whose min or
    max is exactly on a band's edge is checked against it (within means at most)."""
    from simreport.kernels import screen_candidates

    tile = np.array([[0.75, 0.75], [0.25, 0.25]], dtype=np.float32)  # row 0 on the band's top edge,
    inf = np.full(2, np.inf, dtype=np.float32)                       # row 1 on its bottom edge
    out_a, out_b = np.empty(1, dtype=np.int64), np.empty(1, dtype=np.int64)
    count, out_a, out_b = screen_candidates(
        tile, 0, 2, inf, inf, np.float32(-np.inf), tile.max(axis=1), tile.min(axis=1),
        np.array([0.5], dtype=np.float32), np.array([0.25], dtype=np.float32), out_a, out_b)
    assert sorted(zip(out_a[:count].tolist(), out_b[:count].tolist(), strict=True)) == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_rows_are_normalised_in_float64_to_float32():
    x = np.array([[3.0, 4.0], [0.0, -2.0], [1e-30, 1e-30]], dtype=np.float64)
    unit = engine.normalise_rows(x)
    assert unit.dtype == np.float32
    np.testing.assert_array_equal(unit[:2], np.array([[0.6, 0.8], [0.0, -1.0]], dtype=np.float32))
    np.testing.assert_allclose(unit[2], [math.sqrt(0.5)] * 2, rtol=1e-6)
    big = np.full((1, 4), 3e38, dtype=np.float32)  # squares overflow float32, not float64
    np.testing.assert_allclose(engine.normalise_rows(big), [[0.5] * 4], rtol=1e-6)


@pytest.mark.parametrize("n,tile,expected", [
    (10, 10, [(0,)]), (10, 5, [(0, 1)]), (10, 4, [(0, 2), (1,)]), (10, 2, [(0, 4), (1, 3), (2,)]),
    (1, 4, [(0,)]), (8, 1, [(0, 7), (1, 6), (2, 5), (3, 4)]),
])
def test_work_units_pair_long_and_short_bands(n, tile, expected):
    tasks = engine.band_tasks(n, tile)
    assert tasks == expected
    bands = math.ceil(n / tile)
    assert sum(engine.task_tiles(t, n, tile) for t in tasks) == bands * (bands + 1) // 2
    assert engine.total_tiles(n, EngineSettings(tile_size=tile)) == bands * (bands + 1) // 2


@pytest.mark.parametrize("n,tile", [(1, 4), (10, 10), (10, 4), (20_000, 2048), (100_000, 2048), (8, 1)])
def test_thread_work_units_are_single_bands_longest_first(n, tile):
    """Threads take the next unit when done: with the shortest units last they end within a
    band of each other (at n = 20,000, 28 and 27 tiles on two threads where band pairs gave
    33 and 22)."""
    tasks = engine.thread_tasks(n, tile)
    bands = math.ceil(n / tile)
    assert sorted(band for task in tasks for band in task) == list(range(bands))
    sizes = [engine.task_tiles(t, n, tile) for t in tasks]
    assert sizes == sorted(sizes, reverse=True) and max(sizes) == bands and min(sizes) == 1
    finish = [0, 0]  # two threads, each taking the next unit when it is done
    for size in sizes:
        finish[finish.index(min(finish))] += size
    assert max(finish) - min(finish) <= 1


@pytest.mark.parametrize("runner,workers", [("loop", 1), ("threads", 1), ("threads", 3)])
def test_progress_is_one_tick_per_tile(runner, workers):
    x = np.random.default_rng(0).standard_normal((50, 4)).astype(np.float32)
    ticks: list[int] = []
    lock = threading.Lock()

    def progress(k: int) -> None:
        with lock:
            ticks.append(k)

    settings_ = EngineSettings(tile_size=7, runner=runner, workers=workers)
    partial = runners.run_all_pairs(engine.normalise_rows(x), settings_, progress)
    assert ticks == [1] * engine.total_tiles(50, settings_) == [1] * partial.tiles
    assert runners.run_all_pairs(engine.normalise_rows(x), settings_).tiles == 36  # no progress callback


def test_an_unknown_runner_is_named():
    with pytest.raises(ValueError, match=r"^unknown runner 'gpu'; use one of loop, threads, dask$"):
        runners.run_all_pairs(np.eye(3, dtype=np.float32), EngineSettings(runner="gpu"))


def test_screening_needs_the_torch_engine():
    with pytest.raises(ValueError, match=r"^precision 'screen' needs the torch engine \(--engine torch\)$"):
        runners.run_all_pairs(np.eye(3, dtype=np.float32), EngineSettings(runner="loop", precision="screen"))


def test_compute_runs_the_side_work_and_keeps_its_value():
    x = np.array([[3.0, 4.0], [3.0, 4.0], [0.0, 2.0], [1.0, 0.0]], dtype=np.float32)
    stats = runners.compute(x, EngineSettings(tile_size=2, runner="loop"), beside=lambda: "cluster view")
    assert stats.beside == "cluster view"
    assert (stats.identical_rows, stats.identical_groups) == (1, 1)
    unit = engine.normalise_rows(x)
    assert (stats.mean, stats.std) == pytest.approx(engine.exact_moments(unit), abs=1e-12)
    assert runners.compute(x).beside is None and runners.compute(x).settings == EngineSettings()
    assert stats.engine_info == {"engine": "loop", "device": "cpu", "precision": "exact", "tile_product": "float32",
                                 "reduction": "numpy"}
    # rows already normalised are used as given: scaled rows give the same unit rows' numbers
    given = runners.compute(x * 7, EngineSettings(tile_size=2), unit=unit)
    assert given.top_pairs == stats.top_pairs and given.identical_rows == 1


def test_the_side_work_runs_once_on_its_own_named_thread(monkeypatch):
    """compute's moments and identical rows come from the side thread, not a second computation."""
    import threading

    x = np.array([[3.0, 4.0], [3.0, 4.0], [0.0, 2.0]], dtype=np.float32)
    monkeypatch.setattr(runners, "exact_moments", lambda unit: (0.125, 0.5))
    monkeypatch.setattr(runners, "identical_row_groups", lambda embeddings: [[0, 1, 2]])
    monkeypatch.setattr(engine, "exact_moments", lambda unit: pytest.fail("the moments were computed twice"))
    names: list[str] = []
    stats = runners.compute(x, EngineSettings(runner="loop"), beside=lambda: names.append(
        threading.current_thread().name))
    assert (stats.mean, stats.std, stats.identical_rows, stats.identical_groups) == (0.125, 0.5, 2, 1)
    assert len(names) == 1 and names[0].startswith("simreport-side")


def test_the_cluster_runner_is_dispatched(monkeypatch):  # no "dask" in the name: selections skip those
    seen: list[str] = []
    monkeypatch.setattr(runners, "run_dask", lambda unit, settings, progress: seen.append(settings.runner) or "p")
    assert runners.run_all_pairs(np.eye(3, dtype=np.float32), EngineSettings(runner="dask")) == "p"
    assert seen == ["dask"]


def test_a_failing_pass_raises_from_compute():
    with pytest.raises(ValueError, match="unknown runner"):
        runners.compute(np.eye(3, dtype=np.float32), EngineSettings(runner="gpu"), beside=lambda: None)


def test_a_failing_worker_stops_the_others_and_raises():
    started: list[int] = []
    lock = threading.Lock()

    def run_one(task, partial, tick):
        with lock:
            started.append(task)
        if task == 0:
            raise RuntimeError("tile failed")
        for _ in range(200):
            tick()  # raises Cancelled once another worker failed
            threading.Event().wait(0.001)
        partial.append(task)

    with pytest.raises(RuntimeError, match="tile failed"):
        runners.on_threads(list(range(6)), 2, list, run_one)
    assert len(started) < 6
    assert runners.on_threads([1, 2, 3], 8, list, lambda task, p, tick: p.append(task)) is not None
    partials = runners.on_threads([1, 2, 3], 8, list, lambda task, p, tick: p.append(task))
    assert len(partials) == 3 and sorted(t for p in partials for t in p) == [1, 2, 3]  # at most one per task
    assert len(runners.on_threads([1, 2, 3], 0, list, lambda task, p, tick: p.append(task))) == 1


def test_tile_products_use_one_blas_thread():
    from threadpoolctl import threadpool_info

    with engine.single_threaded_blas():
        assert all(pool["num_threads"] == 1 for pool in threadpool_info() if pool["user_api"] == "blas")


@pytest.mark.parametrize("n,d,chunk", [(40, 5, 8192), (40, 5, 7), (6, 30, 8192), (2, 1, 1)])
def test_exact_moments_over_all_pairs(n, d, chunk):
    unit = engine.normalise_rows(np.random.default_rng(n + d).standard_normal((n, d)) + 0.2)
    sims = (unit.astype(np.float64) @ unit.T.astype(np.float64))[np.triu_indices(n, 1)]
    mean, std = engine.exact_moments(unit, chunk=chunk)
    assert mean == pytest.approx(sims.mean(), abs=1e-12)
    assert std == pytest.approx(sims.std(), abs=1e-9)
    assert engine.exact_moments(np.ones((3, 2), dtype=np.float32) / np.sqrt(np.float32(2))) == (
        pytest.approx(1.0), pytest.approx(0.0, abs=1e-3))


def test_quantiles_interpolate_within_a_bin_and_stay_within_min_and_max():
    counts = np.zeros(engine.HIST_BINS, dtype=np.int64)
    counts[1500] = 100  # 100 values in [0.5, 0.501)
    q = engine.histogram_quantiles(counts, engine.HIST_EDGES, 0.5, 0.5008)
    assert list(q) == list(engine.QUANTILES)
    assert q["p01"] == pytest.approx(0.50001) and q["p50"] == pytest.approx(0.5005)
    assert q["p99"] == pytest.approx(0.5008)  # 0.50099 clipped to the maximum
    counts[:] = 0
    counts[0], counts[1999] = 50, 50
    q = engine.histogram_quantiles(counts, engine.HIST_EDGES, -1.0, 1.0)
    assert q["p25"] == pytest.approx(-0.9995) and q["p50"] == pytest.approx(-0.999)
    assert q["p75"] == pytest.approx(0.9995) and q["p95"] == pytest.approx(0.9999)
    q = engine.histogram_quantiles(counts, engine.HIST_EDGES, -0.9992, 1.0)
    assert q["p01"] == pytest.approx(-0.9992)  # clipped to the minimum
    empty = engine.histogram_quantiles(np.zeros(engine.HIST_BINS, dtype=np.int64), engine.HIST_EDGES, -1.0, 1.0)
    assert empty == {name: -1.0 for name in engine.QUANTILES}  # no values: the lowest edge, not past it


def test_identical_rows_are_counted_by_their_bytes():
    x = np.array([[1, 2], [3, 4], [1, 2], [1, 2], [3, 4], [5, 6], [0.0, 1], [-0.0, 1]], dtype=np.float32)
    assert engine.identical_row_counts(x) == (3, 2)  # two repeats of row 0, one of row 1; -0.0 is not 0.0
    assert engine.identical_row_counts(x[:2]) == (0, 0)
    assert engine.identical_row_counts(np.asfortranarray(x)) == (3, 2)


def test_the_time_estimate(monkeypatch):
    assert engine.estimate_seconds(1000, 100, gflops=100) == pytest.approx(1e8 / 1e11 * 1.2)
    monkeypatch.setenv("SIMREPORT_GFLOPS", "50")
    assert engine.estimate_seconds(2000, 10) == pytest.approx(4e7 / 5e10 * 1.2)
    monkeypatch.delenv("SIMREPORT_GFLOPS")
    assert engine.estimate_seconds(2000, 10) == pytest.approx(4e7 / 1.5e11 * 1.2)


@pytest.mark.parametrize("runner", ["loop", "threads", "torch"])
def test_empty_pair_lists_keep_nothing_and_count_everything(runner):
    """top_k = 0 or lowest_k = 0 (API callers may ask): the lists stay empty, the counts are
    those of a run with lists (an empty list once made the kernel write before its buffer)."""
    x = np.random.default_rng(4).standard_normal((60, 3)).astype(np.float32)  # many opposed pairs
    full = runners.compute(x, EngineSettings(runner=runner, tile_size=16))
    none = runners.compute(x, EngineSettings(runner=runner, tile_size=16, top_k=0, lowest_k=0))
    assert none.top_pairs == [] and none.lowest_pairs == []
    assert none.opposed_pairs == full.opposed_pairs > 0
    assert none.threshold_counts == full.threshold_counts
    assert (none.nn_index == full.nn_index).all() and (none.min, none.max) == (full.min, full.max)


@pytest.mark.parametrize("chunk", [1, 3, 2048])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_rows_are_normalised_as_one_float64_quotient_each(chunk, dtype):
    from simreport.engine import normalise_rows

    x = (np.random.default_rng(5).standard_normal((10, 7)) * 3).astype(dtype)
    x32 = x.astype(np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", x32, x32, dtype=np.float64))
    expected = (x32.astype(np.float64) / norms[:, None]).astype(np.float32)
    unit = normalise_rows(x, chunk=chunk)
    assert unit.dtype == np.float32 and unit.shape == x.shape
    assert np.array_equal(unit, expected)


# ----------------------------------------------------------------------------- the two reductions of a tile

EXACT_FIELDS = ("hist", "extremes", "row_best", "row_best_idx", "ladder_pairs", "touched", "opposed_state",
                "opposed_touched", "top_s", "top_i", "top_j", "top_count", "low_s", "low_i", "low_j", "low_count",
                "grid_max")


@settings(max_examples=scaled(60))
@given(embedding_inputs(max_n=200), st.integers(0, 12), st.integers(0, 6), st.sampled_from([-0.5, 0.0, -0.1]),
       st.integers(1, 12))
def test_numpy_and_the_compiled_kernel_fold_every_tile_alike(case, top_k, lowest_k, opposed, grid):
    """Tile by tile, in the engine's order, simreport.tile_numpy and simreport.kernels leave the same
    partial: every count, extreme, neighbour and listed pair identical; the float sums (tile moments,
    overview grid) equal to float rounding (another order of addition)."""
    x, tile = case
    unit = engine.normalise_rows(x)
    n = unit.shape[0]
    settings_ = EngineSettings(tile_size=tile, top_k=top_k, lowest_k=lowest_k, opposed_threshold=opposed,
                               grid_size=grid)
    compiled, numpy_ = engine.Partial.empty(n, settings_), engine.Partial.empty(n, settings_)
    compiled.reduction, numpy_.reduction = "compiled", "numpy"
    with engine.single_threaded_blas():
        for task in engine.band_tasks(n, tile):
            for band in task:
                for r0, c0 in engine.band_tiles(n, band, tile):
                    product = unit[r0:r0 + tile] @ unit[c0:c0 + tile].T
                    compiled.add_tile(product, r0, c0)
                    numpy_.add_tile(product, r0, c0)
    for name in EXACT_FIELDS:
        np.testing.assert_array_equal(getattr(numpy_, name), getattr(compiled, name), err_msg=name)
    assert numpy_.tiles == compiled.tiles == engine.total_tiles(n, settings_)
    np.testing.assert_allclose(numpy_.moments, compiled.moments, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(numpy_.grid_sum, compiled.grid_sum, rtol=1e-6, atol=1e-6)


def test_the_reduction_is_numpy_up_to_numpy_rows_and_compiled_above_and_for_torch():
    s = EngineSettings()
    assert engine.reduction_for(2, s) == engine.reduction_for(engine.NUMPY_ROWS, s) == "numpy"
    assert engine.reduction_for(engine.NUMPY_ROWS + 1, s) == "compiled"
    assert engine.reduction_for(10, EngineSettings(runner="torch")) == "compiled"  # it calls the kernels itself
    assert engine.Partial.empty(10, s).reduction == "numpy"
    assert engine.merge(engine.Partial.empty(10, s), engine.Partial.empty(10, s)).reduction == "numpy"
