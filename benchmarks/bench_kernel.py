"""Does the numba kernel earn its place? The per-tile reduction, fused vs plain numpy.

Usage:
    python benchmarks/bench_kernel.py [--tile 2048] [--dim 384] [--parts]

For one off-diagonal tile it prints nanoseconds per pair for: the single-threaded float32
product that makes the tile; simreport's fused reduction (the numba kernel, which takes each
row's max and min itself while the row is in cache); the same kernel handed the rows' max,
argmax and min by numpy first (as the torch engine calls it, and as the CPU pass did before);
and simreport.tile_numpy, the same reduction written with numpy (what a pass of up to
engine.NUMPY_ROWS records uses, where loading numba would cost more than it saves); and, for the
torch engine's screening precision, the scan that widens a bfloat16 tile and takes its row
and column extremes. The kernel
looks for the column of a row's max only in a row whose nearest neighbour may change: the
fused line is timed as in most of a pass, where no row's does, and the worst case (a band's
first tile, where every row's does) is printed too.
The reduction runs on one core while the other computes the next product, so it must
stay well below the product's cost for the pass to reach the 1.3x target. ``--parts`` adds the
fused reduction's row steps, each alone over the same tile: the exact 2,000-bin histogram's
counting is about half of the fused line (one scattered increment a pair).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from simreport import engine, kernels, tile_numpy


def best_of(fn, repeat: int = 5) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def step_seconds(tile: np.ndarray) -> dict[str, float]:
    """Seconds for each row step of kernels.reduce_tile run alone over every row of ``tile``."""
    from numba import njit

    @njit(nogil=True)
    def extremes(tile):  # each row's max and min (integer keys, vectorised)
        total = np.float32(0.0)
        for a in range(tile.shape[0]):
            hi, lo = kernels._row_max_min(tile[a])
            total += hi - lo
        return total

    @njit(nogil=True)
    def columns(tile):  # per-column block max and sum, best row so far
        n = tile.shape[1]
        block_max, block_sum = np.full(n, np.float32(-np.inf)), np.zeros(n, np.float32)
        col_best, col_idx = np.full(n, np.float32(-np.inf)), np.zeros(n, np.int32)
        for a in range(tile.shape[0]):
            kernels._column_pass(tile[a], np.int32(a), block_max, block_sum, col_best, col_idx)
        return block_sum[0]

    @njit(nogil=True)
    def histogram(tile):  # bin numbers and squares, then the 2,000-bin counts
        n = tile.shape[1]
        bins, counts, squares = np.empty(n, np.int32), np.zeros((2, 2000), np.int32), np.float32(0.0)
        for a in range(tile.shape[0]):
            squares += kernels._histogram_pass(tile[a], bins, counts)
        return squares

    return {"row max and min": best_of(lambda: extremes(tile)),
            "column accumulators (grid block max and sum, each column's best row)": best_of(lambda: columns(tile)),
            "histogram (bin numbers and squares, then counting into 2,000 bins)": best_of(lambda: histogram(tile))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tile", type=int, default=2048)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--parts", action="store_true", help="also time the fused reduction's row steps alone")
    args = parser.parse_args()
    t, d = args.tile, args.dim
    n = 8 * t
    rng = np.random.default_rng(0)
    unit = engine.normalise_rows(rng.standard_normal((n, d)).astype(np.float32))
    settings = engine.EngineSettings(tile_size=t)
    rows, cols = unit[:t], unit[4 * t:5 * t]
    with threadpool_limits(limits=1, user_api="blas"):
        product = best_of(lambda: rows @ cols.T)
    tile = rows @ cols.T
    partial = engine.Partial.empty(n, settings)
    partial.add_tile(tile, 0, 4 * t)  # compile / load, and warm the pair lists as a real pass would

    def fused(given: bool) -> None:
        row_max, row_arg, row_min = kernels.row_stats(tile, 0, 4 * t) if given else engine._NO_EXTREMES
        kernels.reduce_tile(tile, 0, 4 * t, given, row_max, row_arg, row_min, partial.hist, partial.moments,
                            partial.extremes, partial.row_best, partial.row_best_idx, partial.ladder,
                            partial.ladder_pairs, partial.touched, partial.opposed_threshold,
                            partial.opposed_state, partial.opposed_touched, partial.top_s, partial.top_i,
                            partial.top_j, partial.top_count, partial.low_s, partial.low_i, partial.low_j,
                            partial.low_count, partial.block_of, partial.grid_max, partial.grid_sum)

    pairs = tile.size
    best = partial.row_best.copy()
    partial.row_best[:] = np.inf  # no row's nearest neighbour changes: the usual tile
    fused_s = best_of(lambda: fused(False))
    given_s = best_of(lambda: fused(True))

    def first_tile() -> None:  # every row's nearest neighbour changes
        partial.row_best[:] = -np.inf
        fused(False)

    first_s = best_of(first_tile)
    partial.row_best[:] = best
    numpy_partial = engine.Partial.empty(n, settings)
    numpy_s = best_of(lambda: tile_numpy.reduce_tile(tile, 0, 4 * t, numpy_partial))
    bits = (tile.view(np.uint32) >> np.uint32(16)).astype(np.uint16)  # the torch engine's bfloat16 screening
    widened, row_hi, row_lo, col_hi = (np.empty_like(tile), np.empty(t, np.float32), np.empty(t, np.float32),
                                       np.empty(t, np.float32))
    scan_s = best_of(lambda: kernels.widen_and_scan(bits, widened, 0, 4 * t, row_hi, row_lo, col_hi))
    print(f"tile {t} x {t}, d = {d}; nanoseconds per pair (best of 5)")
    print("| step | ns / pair | vs product |")
    print("|---|---:|---:|")
    for name, seconds in (("float32 product, 1 thread", product), ("fused reduction (numba)", fused_s),
                          ("the same on a band's first tile (every row looks for its max)", first_s),
                          ("the same, row extremes by numpy first (the torch engine's way)", given_s),
                          ("the same reduction in numpy (simreport.tile_numpy)", numpy_s),
                          ("screening scan (widen_and_scan: bfloat16 to float32, row and column extremes)", scan_s)):
        print(f"| {name} | {seconds / pairs * 1e9:.2f} | {seconds / product:.2f}x |")
    print(f"With 2 threads the pass costs about (product + reduction) / 2 per pair: "
          f"fused {(product + fused_s) / product:.2f}x the 1-core product, "
          f"numpy {(product + numpy_s) / product:.2f}x.")
    if args.parts:
        print()
        print("The fused reduction's row steps, each alone over the same tile (best of 5, ns / pair): the rest of "
              "the fused line is the per-row bookkeeping (nearest neighbour, extremes, thresholds, lists).")
        print("| step | ns / pair |")
        print("|---|---:|")
        for name, seconds in step_seconds(tile).items():
            print(f"| {name} | {seconds / pairs * 1e9:.2f} |")


if __name__ == "__main__":
    main()
