"""Speed and memory of the all-pairs test, against the bare tiled matrix product.

Usage:
    python benchmarks/bench_engine.py                    # n = 5k, 20k, 50k, 100k (d = 384)
    python benchmarks/bench_engine.py --sizes 200000     # the 200k run
    python benchmarks/bench_engine.py --sizes 20000 --sklearn   # side by side with scikit-learn

Each size runs in a fresh subprocess that loads the embeddings from a .npy file, runs
the whole test (exact statistics, heatmap view, findings) and renders JSON, HTML and
PDF, so "peak RSS" is the whole run's high-water mark, input included. The floor is
the same upper triangle of float32 tile products with nothing else done (BLAS on all
cores), measured in the same process after the test.

Note: on some machines OPENBLAS_CORETYPE is set to an older kernel; unset it (and
OPENBLAS_L2_SIZE) for this command alone to measure numpy's best kernel. The table
prints the kernel in use.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

D = 384


def make_embeddings(n: int, path: Path, seed: int = 0) -> None:
    """Clustered random embeddings with a few planted near-duplicates, saved as .npy."""
    import numpy as np

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((64, D)).astype(np.float32)
    x = np.empty((n, D), dtype=np.float32)
    for start in range(0, n, 50_000):
        stop = min(start + 50_000, n)
        labels = rng.integers(0, 64, stop - start)
        x[start:stop] = centres[labels] * 0.35 + rng.standard_normal((stop - start, D)).astype(np.float32)
    for k in range(0, min(n // 2, 200), 2):
        x[k + 1] = x[k] + rng.standard_normal(D).astype(np.float32) * 0.01
    np.save(path, x)


def bare_floor(unit, tile: int = 2048) -> float:
    """Seconds for the upper-triangle tile products alone (BLAS threads as configured)."""
    n = unit.shape[0]
    start = time.perf_counter()
    for r0 in range(0, n, tile):
        rows = unit[r0:r0 + tile]
        for c0 in range(r0, n, tile):
            rows @ unit[c0:c0 + tile].T
    return time.perf_counter() - start


def child(n: int, path: Path, outdir: Path) -> dict:
    """One measured run (in its own process)."""
    import numpy as np
    from threadpoolctl import threadpool_info

    import simreport
    from simreport.engine import normalise_rows

    start = time.perf_counter()
    result = simreport.run_test(path, title=f"benchmark n={n}")
    test_seconds = time.perf_counter() - start
    rendered = time.perf_counter()
    (outdir / "bench.json").write_text(result.to_json())
    result.to_html(outdir / "bench.html")
    result.to_pdf(outdir / "bench.pdf")
    render_seconds = time.perf_counter() - rendered
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    unit = normalise_rows(np.load(path))
    floor = min(bare_floor(unit) for _ in range(2 if n <= 50_000 else 1))
    blas = [f"{i['internal_api']} {i.get('architecture')} x{i['num_threads']}" for i in threadpool_info()
            if i["user_api"] == "blas"]
    return {"n": n, "test_seconds": test_seconds, "render_seconds": render_seconds, "floor_seconds": floor,
            "peak_rss": peak, "html_bytes": (outdir / "bench.html").stat().st_size,
            "all_pairs_seconds": result.timings["all_pairs"], "blas": blas}


def sklearn_child(n: int, path: Path) -> dict:
    """The same statistics the way a user would with scikit-learn and numpy."""
    import numpy as np
    from sklearn.metrics.pairwise import cosine_similarity

    x = np.load(path)
    start = time.perf_counter()
    sim = cosine_similarity(x)
    iu = np.triu_indices(n, 1)
    values = sim[iu]
    stats = {"mean": float(values.mean()), "std": float(values.std()),
             "quantiles": np.quantile(values, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]).tolist(),
             "ladder": [int((values >= t).sum()) for t in (0.8, 0.9, 0.95, 0.98, 0.99)],
             "opposed": int((values <= -0.5).sum())}
    top = np.argpartition(values, -50)[-50:]
    stats["top"] = sorted(values[top].tolist(), reverse=True)
    np.fill_diagonal(sim, -np.inf)
    stats["nn"] = float(np.median(sim.max(axis=1)))
    seconds = time.perf_counter() - start
    return {"n": n, "seconds": seconds, "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "mean": stats["mean"]}


def run_child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,20000,50000,100000")
    parser.add_argument("--sklearn", action="store_true", help="also run scikit-learn at each size")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "N", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, n, path = args.child[0], int(args.child[1]), Path(args.child[2])
        if kind == "simreport":
            with tempfile.TemporaryDirectory() as out:
                print(json.dumps(child(n, path, Path(out))))
        else:
            print(json.dumps(sklearn_child(n, path)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"emb_{n}.npy"
            make_embeddings(n, path)
            row = run_child(["--child", "simreport", str(n), str(path)])
            if args.sklearn:
                row["sklearn"] = run_child(["--child", "sklearn", str(n), str(path)])
            rows.append(row)
            path.unlink()
            print(f"done n={n}", file=sys.stderr)
    print(f"BLAS: {rows[0]['blas']}; d = {D}; float32; {os.cpu_count()} cores")
    print("| n | all-pairs s | GFLOP/s | floor s | all-pairs / floor | whole test s | peak RSS | render s | HTML MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        n = r["n"]
        flops = n * n * D  # n(n-1)/2 pairs x 2d flops
        ap = r["all_pairs_seconds"]
        print(f"| {n:,} | {ap:.2f} | {flops / ap / 1e9:.0f} | {r['floor_seconds']:.2f} | "
              f"{ap / r['floor_seconds']:.2f}x | {r['test_seconds']:.2f} | "
              f"{r['peak_rss'] / 2**20:,.0f} MiB | {r['render_seconds']:.1f} | {r['html_bytes'] / 1e6:.1f} |")
    for r in rows:
        if "sklearn" in r:
            s = r["sklearn"]
            print(f"scikit-learn n={r['n']:,}: {s['seconds']:.2f} s, peak RSS {s['peak_rss'] / 2**20:,.0f} MiB "
                  f"-> simreport {s['seconds'] / r['test_seconds']:.1f}x faster, "
                  f"{s['peak_rss'] / r['peak_rss']:.1f}x less memory (simreport includes rendering)")


if __name__ == "__main__":
    main()
