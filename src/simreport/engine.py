"""The all-pairs engine: exact cosine-similarity statistics without the n x n matrix.

Flow: rows are normalised once (float32); the upper triangle is cut into tiles; each
tile is one matrix product folded into a :class:`Partial` by the fused kernel in
:mod:`simreport.kernels`; partials merge exactly and :func:`finalize` turns them into
:class:`SimilarityStats`. Where tiles run (a loop, threads, Dask) is :mod:`simreport.runners`.
Mean and standard deviation come exactly from the sum of the unit vectors and the d x d
Gram matrix, and are cross-checked by the sums the tile pass keeps. Nothing here knows
about reports or templates.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from simreport.config import default

HIST_BINS = 2000  # bins of width 0.001 over [-1, 1]
HIST_EDGES = np.linspace(-1.0, 1.0, HIST_BINS + 1)
QUANTILES = {"p01": 0.01, "p05": 0.05, "p25": 0.25, "p50": 0.50, "p75": 0.75, "p95": 0.95, "p99": 0.99}
DEFAULT_LADDER = (0.80, 0.90, 0.95, 0.98, 0.99)
BORDERLINE_LISTED = 50  # borderline pairs named in the results (all are counted)
# Up to this many records the tiles are reduced with numpy (simreport.tile_numpy), above it with the
# compiled kernel (simreport.kernels): loading numba and the cached kernel costs a fresh process
# about 0.4 s, more than numpy's slower reduction (5.7 ns a pair against 0.7: bench_kernel.py) costs a
# pass this size. Whole runs, numpy against numba (bench_everyday.py --sizes 2000,4096,6000,8000 with and
# without --numpy-rows 0, 28 Nov 02:23-02:25 UTC): 2,000 records 1.98 s against 2.07, 4,096 2.01 against
# 2.18, 6,000 2.18 against 2.19, 8,000 2.39 against 2.28. Both reductions give the same statistics
# (tests/test_exact_core.py runs every test with each).
NUMPY_ROWS = 4096


@dataclass(frozen=True)
class EngineSettings:
    """What the all-pairs pass measures and how it is cut into work."""

    near_duplicate_threshold: float = default("test", "near_duplicate_threshold")
    ladder: tuple[float, ...] = DEFAULT_LADDER
    opposed_threshold: float = default("test", "opposed_threshold")
    top_k: int = 50
    lowest_k: int = 10
    grid_size: int = 128
    tile_size: int = default("engine", "tile_size")
    runner: str = default("engine", "runner")  # "loop", "threads", "dask" or "torch"
    workers: int = default("engine", "workers")
    scheduler: str | None = default("engine", "scheduler")  # dask scheduler address; None: a local cluster
    device: str = default("engine", "device")  # torch engine: "cpu" or "cuda"
    precision: str = default("engine", "precision")  # torch engine: "exact" or "screen" (bfloat16, re-checks)

    @property
    def thresholds(self) -> tuple[float, ...]:
        """The ladder with the near-duplicate threshold added, ascending, float32-exact."""
        values = {float(np.float32(t)) for t in (*self.ladder, self.near_duplicate_threshold)}
        return tuple(sorted(values))


_NO_EXTREMES = (np.empty(0, dtype=np.float32), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32))


@dataclass
class Partial:
    """Running statistics of some set of tiles. ``merge`` is associative and exact."""

    hist: np.ndarray
    moments: np.ndarray
    extremes: np.ndarray
    row_best: np.ndarray
    row_best_idx: np.ndarray
    ladder: np.ndarray
    ladder_pairs: np.ndarray
    touched: np.ndarray
    opposed_threshold: np.float32
    opposed_state: np.ndarray
    opposed_touched: np.ndarray
    top_s: np.ndarray
    top_i: np.ndarray
    top_j: np.ndarray
    top_count: np.ndarray
    low_s: np.ndarray
    low_i: np.ndarray
    low_j: np.ndarray
    low_count: np.ndarray
    block_of: np.ndarray = field(repr=False)
    grid_max: np.ndarray = field(repr=False)
    grid_sum: np.ndarray = field(repr=False)
    tiles: int = 0
    # pairs within float32 rounding of a threshold, (i, j, similarity, threshold): the
    # torch engine finds them (the numba kernel does not look)
    borderline: list = field(default_factory=list)
    borderline_total: int = 0
    engine_info: dict | None = None  # which engine, device and precision produced this
    reduction: str = "compiled"  # how add_tile folds a tile: "compiled" (numba) or "numpy"

    @classmethod
    def empty(cls, n: int, settings: EngineSettings) -> Partial:
        grid = grid_size_for(n, settings.grid_size)
        ladder = np.array(settings.thresholds, dtype=np.float32)
        return cls(
            hist=np.zeros(HIST_BINS, dtype=np.int64),
            moments=np.zeros(2, dtype=np.float64),
            extremes=np.array([np.inf, -np.inf], dtype=np.float32),
            row_best=np.full(n, -np.inf, dtype=np.float32),
            row_best_idx=np.full(n, n, dtype=np.int64),
            ladder=ladder,
            ladder_pairs=np.zeros(len(ladder), dtype=np.int64),
            touched=np.zeros((len(ladder), n), dtype=np.bool_),
            opposed_threshold=np.float32(settings.opposed_threshold),
            opposed_state=np.zeros(1, dtype=np.int64),
            opposed_touched=np.zeros(n, dtype=np.bool_),
            top_s=np.zeros(settings.top_k, dtype=np.float32),
            top_i=np.zeros(settings.top_k, dtype=np.int64),
            top_j=np.zeros(settings.top_k, dtype=np.int64),
            top_count=np.zeros(1, dtype=np.int64),
            low_s=np.zeros(settings.lowest_k, dtype=np.float32),
            low_i=np.zeros(settings.lowest_k, dtype=np.int64),
            low_j=np.zeros(settings.lowest_k, dtype=np.int64),
            low_count=np.zeros(1, dtype=np.int64),
            block_of=(np.arange(n, dtype=np.int64) * grid) // max(n, 1),
            grid_max=np.full((grid, grid), -np.inf, dtype=np.float32),
            grid_sum=np.zeros((grid, grid), dtype=np.float64),
            reduction=reduction_for(n, settings),
        )

    def add_tile(self, tile: np.ndarray, row0: int, col0: int, row_extremes: tuple | None = None) -> None:
        """Fold one tile of similarities (rows from row0, columns from col0). ``row_extremes``:
        :func:`~simreport.kernels.row_stats` of this very tile when the caller already has it."""
        if self.reduction == "numpy":
            from simreport import tile_numpy

            tile_numpy.reduce_tile(tile, row0, col0, self)
            return
        from simreport.kernels import reduce_tile  # numba: loaded when the first tile runs

        given = row_extremes is not None  # else the kernel takes each row's max and min itself
        row_max, row_arg, row_min = row_extremes if given else _NO_EXTREMES
        reduce_tile(
            tile, row0, col0, given, row_max, row_arg, row_min,
            self.hist, self.moments, self.extremes,
            self.row_best, self.row_best_idx,
            self.ladder, self.ladder_pairs, self.touched,
            self.opposed_threshold, self.opposed_state, self.opposed_touched,
            self.top_s, self.top_i, self.top_j, self.top_count,
            self.low_s, self.low_i, self.low_j, self.low_count,
            self.block_of, self.grid_max, self.grid_sum,
        )
        self.tiles += 1

    def pairs_list(self, which: str) -> list[tuple[int, int, float]]:
        """The kept (i, j, similarity) list: ``"top"`` or ``"low"``, in order."""
        if which == "top":
            s, i, j, c = self.top_s, self.top_i, self.top_j, int(self.top_count[0])
        else:
            s, i, j, c = self.low_s, self.low_i, self.low_j, int(self.low_count[0])
        return [(int(i[k]), int(j[k]), float(s[k])) for k in range(c)]

    def keep_pairs(self, which: str, pairs: list[tuple[int, int, float]]) -> None:
        """Merge (i, j, similarity) pairs into the bounded list ``which``: ``"top"`` keeps the
        highest, ``"low"`` the lowest; ties by the smaller i, then the smaller j."""
        cap = (self.top_s if which == "top" else self.low_s).shape[0]
        self.set_pairs(which, _merged_pairs(self.pairs_list(which), pairs, cap, which == "top"))

    def set_pairs(self, which: str, pairs: list[tuple[int, int, float]]) -> None:
        """Make the list ``which`` (``"top"`` or ``"low"``) these (i, j, similarity) pairs, in their order."""
        prefix = "top" if which == "top" else "low"
        s, i, j = getattr(self, f"{prefix}_s"), getattr(self, f"{prefix}_i"), getattr(self, f"{prefix}_j")
        for k, (pi, pj, ps) in enumerate(pairs):
            i[k], j[k], s[k] = pi, pj, ps
        getattr(self, f"{prefix}_count")[0] = len(pairs)

    def keep_neighbours(self, records: np.ndarray, best: np.ndarray, other: np.ndarray) -> None:
        """Take (``best``, ``other``): a similarity and the record it is with, as the nearest neighbour
        of each of ``records`` where it beats the one kept: higher, or as high with a smaller index."""
        kept, kept_index = self.row_best[records], self.row_best_idx[records]
        take = (best > kept) | ((best == kept) & (other < kept_index))
        self.row_best[records[take]] = best[take]
        self.row_best_idx[records[take]] = other[take]


def reduction_for(n: int, settings: EngineSettings) -> str:
    """How the tiles of a pass over ``n`` records are reduced: with numpy up to :data:`NUMPY_ROWS`
    records, else (and always for the torch engine, which calls the kernels itself) compiled."""
    return "numpy" if n <= NUMPY_ROWS and settings.runner != "torch" else "compiled"


def _merged_pairs(a: list, b: list, k: int, descending: bool) -> list:
    sign = -1.0 if descending else 1.0
    return sorted(a + b, key=lambda p: (sign * p[2], p[0], p[1]))[:k]


def merge(a: Partial, b: Partial) -> Partial:
    """Combine two partials into a new one (exact; ties broken by the smaller index)."""
    out = Partial(
        hist=a.hist + b.hist,
        moments=a.moments + b.moments,
        extremes=np.array(
            [min(a.extremes[0], b.extremes[0]), max(a.extremes[1], b.extremes[1])], dtype=np.float32
        ),
        row_best=a.row_best.copy(),
        row_best_idx=a.row_best_idx.copy(),
        ladder=a.ladder,
        ladder_pairs=a.ladder_pairs + b.ladder_pairs,
        touched=a.touched | b.touched,
        opposed_threshold=a.opposed_threshold,
        opposed_state=a.opposed_state + b.opposed_state,
        opposed_touched=a.opposed_touched | b.opposed_touched,
        top_s=a.top_s.copy(), top_i=a.top_i.copy(), top_j=a.top_j.copy(), top_count=a.top_count.copy(),
        low_s=a.low_s.copy(), low_i=a.low_i.copy(), low_j=a.low_j.copy(), low_count=a.low_count.copy(),
        block_of=a.block_of,
        grid_max=np.maximum(a.grid_max, b.grid_max),
        grid_sum=a.grid_sum + b.grid_sum,
        tiles=a.tiles + b.tiles,
        borderline=sorted(set(a.borderline) | set(b.borderline), key=lambda p: (p[0], p[1], p[3]))[:BORDERLINE_LISTED],
        borderline_total=a.borderline_total + b.borderline_total,
        engine_info=a.engine_info or b.engine_info,
        reduction=a.reduction,
    )
    out.keep_neighbours(np.arange(out.row_best.shape[0]), b.row_best, b.row_best_idx)
    out.keep_pairs("top", b.pairs_list("top"))
    out.keep_pairs("low", b.pairs_list("low"))
    return out


def grid_size_for(n: int, wanted: int) -> int:
    """Side of the coarse overview grid: at most ``wanted`` and at most n."""
    return max(1, min(n, wanted))


# ----------------------------------------------------------------------------- tiles


def normalise_rows(embeddings: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """Unit-length float32 rows (norms taken in float64, each quotient in float64 and rounded
    to float32). Rows must be non-zero. Divided ``chunk`` rows at a time into the float32
    result: no float64 copy of the whole array (5x faster at n = 20,000, the same bits)."""
    x = np.asarray(embeddings, dtype=np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", x, x, dtype=np.float64))
    unit = np.empty(x.shape, dtype=np.float32)
    for r0 in range(0, x.shape[0], chunk):
        np.divide(x[r0:r0 + chunk], norms[r0:r0 + chunk, None], out=unit[r0:r0 + chunk], casting="same_kind")
    return unit


def band_tasks(n: int, tile_size: int) -> list[tuple[int, ...]]:
    """Work units: each holds one or two row bands, a long one paired with a short one.

    Band k covers the tiles (k, k), (k, k+1), ... of the upper triangle, so early bands
    are long and late ones short; pairing band k with band (last - k) evens the work.
    """
    bands = math.ceil(n / tile_size)
    tasks = []
    lo, hi = 0, bands - 1
    while lo < hi:
        tasks.append((lo, hi))
        lo, hi = lo + 1, hi - 1
    if lo == hi:
        tasks.append((lo,))
    return tasks


def thread_tasks(n: int, tile_size: int) -> list[tuple[int, ...]]:
    """Work units for local threads, each of which takes the next unit when it is done: one row
    band each, the longest first. The last units are the shortest, so the threads finish within
    about a tile of each other. :func:`band_tasks`' pairs (kept for dask) leave one thread idle
    for up to a whole pair at the end: at n = 20,000 and tiles of 2,048, five pairs of 11 tiles
    gave one thread 33 tiles and the other 22; single bands give 28 and 27."""
    return [(band,) for band in range(math.ceil(n / tile_size))]


def task_tiles(task: tuple[int, ...], n: int, tile_size: int) -> int:
    """How many tiles a task covers."""
    bands = math.ceil(n / tile_size)
    return sum(bands - k for k in task)


def band_tiles(n: int, band: int, tile_size: int) -> Iterator[tuple[int, int]]:
    """The tiles of one row band, as (first row, first column): tiles (k, k), (k, k+1), ...

    Every tile pass walks the upper triangle this way (the test's and the comparison's).
    """
    r0 = band * tile_size
    for c0 in range(r0, n, tile_size):
        yield r0, c0


def run_band(unit: np.ndarray, band: int, tile_size: int, partial: Partial,
             on_tile: Callable[[], None] | None = None) -> None:
    """All tiles of one row band: one float32 product each, then the fused reduction."""
    rows = unit[band * tile_size:(band + 1) * tile_size]
    for r0, c0 in band_tiles(unit.shape[0], band, tile_size):
        partial.add_tile(rows @ unit[c0:c0 + tile_size].T, r0, c0)
        if on_tile is not None:
            on_tile()


def run_task(unit: np.ndarray, task: tuple[int, ...], settings: EngineSettings,
             partial: Partial | None = None, on_tile: Callable[[], None] | None = None) -> Partial:
    """Run one work unit into ``partial`` (a new one when None) and return it."""
    if partial is None:
        partial = Partial.empty(unit.shape[0], settings)
    for band in task:
        run_band(unit, band, settings.tile_size, partial, on_tile)
    return partial


def merge_all(partials: Iterable[Partial]) -> Partial:
    """Merge partials pairwise as a balanced tree."""
    items = list(partials)
    while len(items) > 1:
        items = [merge(items[k], items[k + 1]) if k + 1 < len(items) else items[k]
                 for k in range(0, len(items), 2)]
    return items[0]


ProgressCallback = Callable[[int], None]


def single_threaded_blas():
    """Context in which BLAS uses one thread.

    Every runner computes its tile products this way, so a tile's values do not depend
    on where it ran, and counts and top pairs agree bit for bit across runners.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def on_threads(tasks: list, workers: int, new_partial: Callable[[], object],
               run_one: Callable[[object, object, Callable[[], None]], None],
               progress: ProgressCallback | None = None) -> list:
    """Run work units on ``workers`` threads with single-threaded BLAS; one partial per thread.

    ``run_one(task, partial, tick)`` folds a task into the thread's partial and calls
    ``tick()`` after every tile; after Ctrl-C or a failure in another thread, ``tick``
    raises :class:`Cancelled` so every thread stops after its current tile.
    """
    workers = max(1, min(workers, len(tasks)))
    lock = threading.Lock()
    queue: Iterator = iter(tasks)
    stop = threading.Event()

    def tick() -> None:
        if stop.is_set():
            raise Cancelled
        if progress is not None:
            progress(1)

    def worker():
        partial = new_partial()
        while not stop.is_set():
            with lock:
                task = next(queue, None)
            if task is None:
                break
            run_one(task, partial, tick)
        return partial

    with single_threaded_blas():
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="simreport-tile") as pool:
            futures = [pool.submit(worker) for _ in range(workers)]
            try:
                return [f.result() for f in futures]
            except BaseException:
                stop.set()
                raise


class Cancelled(Exception):
    """A worker stopped early because the run was interrupted."""


def total_tiles(n: int, settings: EngineSettings) -> int:
    """How many tiles the whole upper triangle has at this tile size."""
    bands = math.ceil(n / settings.tile_size)
    return bands * (bands + 1) // 2


# ----------------------------------------------------------------------------- exact moments


def exact_moments(unit: np.ndarray, chunk: int = 8192) -> tuple[float, float]:
    """Mean and population standard deviation of u_i . u_j over all pairs i < j.

    Sum of all products = |sum u|^2; sum of squared products = |U^T U|_F^2 (or
    |U U^T|_F^2 when d > n); the diagonal terms are subtracted. float64 throughout,
    accumulated over row chunks (never one big float64 X @ X.T). ``B.T @ B`` is left for numpy
    to compute as a symmetric rank-k update (BLAS syrk, half the products): at n = 100,000 and
    d = 384 the moments took 0.38 s of CPU against 0.57 s with a copy that forced a full
    product, and the Gram matrices were the same to the bit (OpenBLAS; 8,193 to 100,000 rows).
    """
    n, d = unit.shape
    pairs = n * (n - 1) / 2
    norms_sq = np.einsum("ij,ij->i", unit, unit, dtype=np.float64)
    total = np.zeros(d, dtype=np.float64)
    if d <= n:
        gram = np.zeros((d, d), dtype=np.float64)
        for r0 in range(0, n, chunk):
            block = unit[r0:r0 + chunk].astype(np.float64)
            total += block.sum(axis=0)
            gram += block.T @ block
        sum_sq_all = float(np.sum(gram * gram))
    else:
        u64 = unit.astype(np.float64)
        total = u64.sum(axis=0)
        gram = u64 @ u64.T
        sum_sq_all = float(np.sum(gram * gram))
    sum_pairs = (float(total @ total) - float(norms_sq.sum())) / 2.0
    sum_sq_pairs = (sum_sq_all - float(np.sum(norms_sq * norms_sq))) / 2.0
    mean = sum_pairs / pairs
    var = max(sum_sq_pairs / pairs - mean * mean, 0.0)
    return mean, math.sqrt(var)


# ----------------------------------------------------------------------------- final statistics


@dataclass
class SimilarityStats:
    """Everything the all-pairs pass measured, as plain values and small arrays."""

    n: int
    dim: int
    pairs: int
    mean: float
    std: float
    min: float
    max: float
    quantiles: dict[str, float]
    hist_counts: np.ndarray
    threshold_counts: list[dict]
    near_duplicate_threshold: float
    near_duplicate_pairs: int
    near_duplicate_items: int
    top_pairs: list[tuple[int, int, float]]
    opposed_threshold: float
    opposed_pairs: int
    opposed_items: int
    lowest_pairs: list[tuple[int, int, float]]
    nn_similarity: np.ndarray
    nn_index: np.ndarray
    nn_quantiles: dict[str, float]
    nn_above_threshold: int
    nn_hist_counts: np.ndarray
    identical_rows: int
    identical_groups: int
    identical_row_groups: list[list[int]]
    opposed_rows: np.ndarray  # records in at least one pair at or below the opposed threshold
    grid_max: np.ndarray
    grid_mean: np.ndarray
    tile_mean: float
    tiles: int
    settings: EngineSettings
    engine_info: dict = field(default_factory=dict)
    borderline: list = field(default_factory=list)
    borderline_total: int = 0
    beside: object = None  # the value of compute()'s ``beside`` work, when given


def histogram_quantiles(counts: np.ndarray, edges: np.ndarray, lo: float, hi: float) -> dict[str, float]:
    """Quantiles read from a fine histogram, linear within a bin, clipped to [lo, hi]."""
    cum = np.cumsum(counts)
    total = cum[-1]
    out = {}
    for name, q in QUANTILES.items():
        target = q * total
        k = int(np.searchsorted(cum, target, side="left"))
        k = min(k, len(counts) - 1)
        before = cum[k - 1] if k > 0 else 0
        inside = counts[k]
        frac = (target - before) / inside if inside else 0.0
        value = edges[k] + frac * (edges[k + 1] - edges[k])
        out[name] = float(min(max(value, lo), hi))
    return out


def identical_row_counts(embeddings: np.ndarray) -> tuple[int, int]:
    """(rows that repeat an earlier row exactly, groups of identical rows)."""
    groups = identical_row_groups(embeddings)
    return sum(len(g) - 1 for g in groups), len(groups)


def identical_row_groups(embeddings: np.ndarray) -> list[list[int]]:
    """The groups (two rows or more, ascending) of exactly identical rows, by first row.

    Rows are grouped by a 64-bit hash of their bytes, then compared exactly within a
    group, so memory stays O(n) (no sorted copy of the matrix).
    """
    import hashlib

    x = np.ascontiguousarray(embeddings)
    by_hash: dict[bytes, list[int]] = {}
    for k in range(x.shape[0]):
        by_hash.setdefault(hashlib.blake2b(x[k].data, digest_size=8).digest(), []).append(k)
    found: list[list[int]] = []
    for rows in by_hash.values():
        if len(rows) < 2:
            continue
        members: list[list[int]] = []  # exactly-equal subgroups, each led by its first row
        for k in rows:
            for group in members:
                if np.array_equal(x[k], x[group[0]]):
                    group.append(k)
                    break
            else:
                members.append([k])
        found.extend(group for group in members if len(group) > 1)
    return sorted(found)


def finalize(partial: Partial, unit: np.ndarray, embeddings: np.ndarray,
             settings: EngineSettings, side: dict | None = None) -> SimilarityStats:
    """Turn the merged partial into final statistics.

    ``side`` may hold what does not need the tile pass, computed beside it:
    ``moments`` (:func:`exact_moments`) and ``identical`` (:func:`identical_row_groups`).
    """
    n, d = unit.shape
    pairs = n * (n - 1) // 2
    side = side or {}
    mean, std = side["moments"] if "moments" in side else exact_moments(unit)
    lo, hi = float(partial.extremes[0]), float(partial.extremes[1])
    tile_mean = float(partial.moments[0]) / pairs
    ladder = [float(t) for t in partial.ladder]
    threshold_counts = [
        {"threshold": round(t, 6), "pairs": int(partial.ladder_pairs[k]), "items": int(partial.touched[k].sum())}
        for k, t in enumerate(ladder)
    ]
    nd = float(np.float32(settings.near_duplicate_threshold))
    nd_index = ladder.index(nd)
    nn = partial.row_best
    nn_counts, _ = np.histogram(np.clip(nn, -1.0, 1.0), bins=HIST_EDGES)
    nn_q = {name: float(np.quantile(nn, q)) for name, q in QUANTILES.items()}
    identical_groups = side["identical"] if "identical" in side else identical_row_groups(embeddings)
    grid = partial.grid_max.shape[0]
    grid_pairs = _grid_pair_counts(partial.block_of, grid)
    upper_max = partial.grid_max
    upper_sum = partial.grid_sum
    full_max = np.maximum(upper_max, upper_max.T)
    full_sum = upper_sum + np.triu(upper_sum, 1).T
    with np.errstate(invalid="ignore", divide="ignore"):
        full_mean = np.where(grid_pairs > 0, full_sum / np.maximum(grid_pairs, 1), np.nan)
    full_max = np.where(grid_pairs > 0, full_max, np.nan).astype(np.float32)
    return SimilarityStats(
        n=n, dim=d, pairs=pairs, mean=mean, std=std, min=lo, max=hi,
        quantiles=histogram_quantiles(partial.hist, HIST_EDGES, lo, hi),
        hist_counts=partial.hist.copy(),
        threshold_counts=threshold_counts,
        near_duplicate_threshold=settings.near_duplicate_threshold,
        near_duplicate_pairs=int(partial.ladder_pairs[nd_index]),
        near_duplicate_items=int(partial.touched[nd_index].sum()),
        top_pairs=partial.pairs_list("top"),
        opposed_threshold=settings.opposed_threshold,
        opposed_pairs=int(partial.opposed_state[0]),
        opposed_items=int(partial.opposed_touched.sum()),
        lowest_pairs=partial.pairs_list("low"),
        nn_similarity=nn.copy(),
        nn_index=partial.row_best_idx.copy(),
        nn_quantiles=nn_q,
        nn_above_threshold=int(np.sum(nn >= np.float32(settings.near_duplicate_threshold))),
        nn_hist_counts=nn_counts,
        identical_rows=sum(len(g) - 1 for g in identical_groups),
        identical_groups=len(identical_groups),
        identical_row_groups=identical_groups,
        opposed_rows=np.flatnonzero(partial.opposed_touched),
        grid_max=full_max,
        grid_mean=full_mean.astype(np.float32),
        tile_mean=tile_mean,
        tiles=partial.tiles,
        settings=settings,
        engine_info=partial.engine_info or {"engine": settings.runner, "device": "cpu", "precision": "exact",
                                            "tile_product": "float32", "reduction": partial.reduction},
        borderline=list(partial.borderline),
        borderline_total=partial.borderline_total,
    )


def _grid_pair_counts(block_of: np.ndarray, grid: int) -> np.ndarray:
    """Distinct pairs per grid cell (i < j within a block, all pairs across blocks)."""
    sizes = np.bincount(block_of, minlength=grid).astype(np.float64)
    counts = np.outer(sizes, sizes)
    np.fill_diagonal(counts, sizes * (sizes - 1) / 2)
    return counts


def estimate_seconds(n: int, d: int, gflops: float | None = None) -> float:
    """Rough wall time of the tile pass: n^2 d flops at this machine's float32 rate."""
    rate = gflops or float(os.environ.get("SIMREPORT_GFLOPS", "150"))
    return (n * n * d) / (rate * 1e9) * 1.2
