"""The engine's smaller parts, each against what it documents: settings, work units, runners'
progress and errors, exact moments, quantiles, identical rows, the time estimate."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

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
