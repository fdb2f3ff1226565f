"""Where the tiles of the all-pairs pass run: one loop, local threads, or Dask.

Every runner computes its tile products with single-threaded BLAS, so a tile's values do
not depend on where it ran, and counts and top pairs agree bit for bit across runners.
:func:`compute` is the whole pass: run the tiles, merge, finalise.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from simreport.dask_runner import run_dask
from simreport.engine import (
    EngineSettings,
    Partial,
    ProgressCallback,
    SimilarityStats,
    band_tasks,
    exact_moments,
    finalize,
    identical_row_groups,
    merge_all,
    normalise_rows,
    on_threads,
    run_task,
    single_threaded_blas,
    thread_tasks,
)
from simreport.torch_engine import run_torch


def run_loop(unit: np.ndarray, settings: EngineSettings,
             progress: ProgressCallback | None = None) -> Partial:
    """Every tile in this thread, one after another."""
    partial = Partial.empty(unit.shape[0], settings)
    tick = (lambda: progress(1)) if progress else None
    with single_threaded_blas():
        for task in band_tasks(unit.shape[0], settings.tile_size):
            run_task(unit, task, settings, partial, tick)
    return partial


def run_threads(unit: np.ndarray, settings: EngineSettings,
                progress: ProgressCallback | None = None) -> Partial:
    """Tiles on ``settings.workers`` threads, each with single-threaded BLAS.

    While one thread is in its matrix product, another runs its reduction, so both
    cores stay busy. Each thread owns a partial; they are merged at the end.
    """
    partials = on_threads(thread_tasks(unit.shape[0], settings.tile_size), settings.workers,
                          lambda: Partial.empty(unit.shape[0], settings),
                          lambda task, partial, tick: run_task(unit, task, settings, partial, tick), progress)
    return merge_all(partials)


RUNNERS: dict[str, Callable[..., Partial]] = {"loop": run_loop, "threads": run_threads}


def run_all_pairs(unit: np.ndarray, settings: EngineSettings,
                  progress: ProgressCallback | None = None) -> Partial:
    """Run the tile pass with the runner named in ``settings``."""
    if settings.runner == "torch":
        return run_torch(unit, settings, progress)
    if settings.precision != "exact":
        raise ValueError(f"precision {settings.precision!r} needs the torch engine (--engine torch)")
    if settings.runner == "dask":
        return run_dask(unit, settings, progress)
    try:
        runner = RUNNERS[settings.runner]
    except KeyError:
        raise ValueError(f"unknown runner {settings.runner!r}; use one of loop, threads, dask") from None
    return runner(unit, settings, progress)




def compute(embeddings: np.ndarray, settings: EngineSettings | None = None,
            progress: ProgressCallback | None = None, unit: np.ndarray | None = None,
            beside: Callable[[], object] | None = None,
            before_tiles: Callable[[], None] | None = None) -> SimilarityStats:
    """The whole test's numbers for an (n, d) array with n >= 2 and no zero rows.

    ``unit`` may pass rows already normalised by :func:`normalise_rows`. The exact moments
    (Gram matrix), the identical-row check and ``beside()`` (any other work that needs no
    tile, e.g. the caller's cluster view) run on one extra thread while the tiles run, so
    their single-threaded parts fill the gaps the pass leaves; ``beside()``'s value is
    kept as ``stats.beside``. ``before_tiles()`` runs on this thread once that thread has
    started and before the tile threads start (the cluster view's imports, which must not
    run while numba's start imports the same package on a tile thread).
    """
    settings = settings or EngineSettings()
    if unit is None:
        unit = normalise_rows(embeddings)

    def side_work() -> dict:
        out = {"moments": exact_moments(unit), "identical": identical_row_groups(embeddings)}
        out["beside"] = beside() if beside is not None else None
        return out

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="simreport-side") as pool:
        side = pool.submit(side_work)
        try:
            if before_tiles is not None:
                before_tiles()
            partial = run_all_pairs(unit, settings, progress)
        except BaseException:
            side.cancel()
            raise
        done = side.result()
    stats = finalize(partial, unit, embeddings, settings, done)
    stats.beside = done["beside"]
    return stats
