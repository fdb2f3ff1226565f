"""Where the all-pairs pass spends its time beyond the bare tile products, warm, in one process.

Usage:
    python benchmarks/bench_pass_parts.py                  # n = 100,000, d = 384
    python benchmarks/bench_pass_parts.py --n 20000

First the two ways of normalising the rows (chunked, as now, and the one float64 quotient
array of before, checked equal) and the first tile pass of the process (numba's start).
Then, one after the other on the same unit rows (numba's kernels loaded, so no start-up
cost is in any line): the bare upper-triangle tile products with BLAS on all
cores (the floor of bench_everyday.py), the same products on two threads of
single-threaded BLAS (how the pass runs them), the tiles with their fused reductions
(runners.run_all_pairs), the whole pass with its side work (Gram-matrix moments,
identical rows) and with the cluster view beside it (as the test runs it), the cluster
view alone, and the floor again (this machine's speed drifts; the two floors show by how
much). Each line gives seconds, the multiple of the first floor, and the CPU seconds of the
process (all threads). ``--fit-rows`` sets the rows the cluster view's k-means is fitted on.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--fit-rows", type=int, help="rows the cluster view's k-means is fitted on "
                        "[clusters.FIT_ROWS, 20,000]; --fit-rows 100000 fits on every row, as before 28 Nov 2026")
    args = parser.parse_args()

    from threadpoolctl import threadpool_limits

    from simreport import clusters
    from simreport.clusters import build_cluster_view
    from simreport.config import default
    from simreport.engine import EngineSettings, band_tasks, normalise_rows
    from simreport.runners import compute, run_all_pairs

    CAP = default("test", "display_cap")  # the cluster view's k, as the test runs it (300)

    if args.fit_rows:
        clusters.FIT_ROWS = args.fit_rows
    x = np.random.default_rng(1).standard_normal((args.n, args.dim)).astype(np.float32)
    start = time.perf_counter()
    unit = normalise_rows(x)
    chunked = time.perf_counter() - start
    start = time.perf_counter()
    norms = np.sqrt(np.einsum("ij,ij->i", x, x, dtype=np.float64))
    whole = (x / norms[:, None]).astype(np.float32, copy=False)  # normalise_rows before aa7ca46
    at_once = time.perf_counter() - start
    assert np.array_equal(whole, unit)
    print(f"normalise_rows {chunked:.3f} s (in chunks); one float64 quotient array, then cast: {at_once:.3f} s")
    settings = EngineSettings()
    n, size = unit.shape[0], settings.tile_size
    had_scipy = "scipy.linalg" in sys.modules
    start = time.perf_counter()
    run_all_pairs(unit[:256], settings)  # load the compiled kernels
    print(f"first tile pass of this process (256 rows; numba's start and its cached kernels): "
          f"{time.perf_counter() - start:.2f} s; it imported scipy.linalg: "
          f"{not had_scipy and 'scipy.linalg' in sys.modules}")

    def floor() -> None:
        for r0 in range(0, n, size):
            rows = unit[r0:r0 + size]
            for c0 in range(r0, n, size):
                rows @ unit[c0:c0 + size].T

    def floor_on_threads() -> None:
        tasks, lock = iter(band_tasks(n, size)), threading.Lock()

        def worker(_: int) -> None:
            while True:
                with lock:
                    task = next(tasks, None)
                if task is None:
                    return
                for band in task:
                    rows = unit[band * size:(band + 1) * size]
                    for c0 in range(band * size, n, size):
                        rows @ unit[c0:c0 + size].T

        with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(2) as pool:
            list(pool.map(worker, range(2)))

    steps = [
        ("floor: tile products, BLAS on all cores", floor),
        ("tile products on 2 threads x 1 BLAS thread", floor_on_threads),
        ("tiles with their reductions (run_all_pairs)", lambda: run_all_pairs(unit, settings)),
        ("the pass with its side work (compute)", lambda: compute(x, settings, unit=unit)),
        ("the pass with the cluster view beside it", lambda: compute(
            x, settings, unit=unit, beside=lambda: build_cluster_view(unit, CAP, 0))),
        ("the cluster view alone", lambda: build_cluster_view(unit, CAP, 0)),
        ("floor again", floor),
    ]
    print(f"n = {n:,}, d = {args.dim}, tile {size}")
    first = None
    for name, step in steps:
        start, cpu = time.perf_counter(), time.process_time()
        step()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        first = first or seconds
        print(f"{name:48s} {seconds:7.2f} s  {seconds / first:5.2f}x  (CPU {cpu:.2f} s)")


if __name__ == "__main__":
    main()
